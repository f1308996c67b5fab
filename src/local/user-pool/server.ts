import { randomUUID } from 'node:crypto';
import { readBody } from '../read-body.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Challenges } from './challenges.js';
import { CognitoError } from './errors.js';
import { sdkVersionOf, TriggerRunner, type CognitoTriggerEvent } from './events.js';
import type { Input } from './input.js';
import { jwks, loadOrCreateKeys } from './keys.js';
import { OPERATIONS } from './operations/index.js';
import type { Pool, TokenTtl } from './pool.js';
import { PoolStore } from './store.js';

export interface UserPoolOptions {
  /** The pool's data folder: users, groups, hashed refresh tokens, codes, signing keys. */
  dir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: generated on first start (`<region or "local">_<9 alphanumerics>`) and kept. */
  poolId?: string;
  /** Default: generated on first start and kept. */
  clientId?: string;
  /** Sent in trigger events (default us-east-1). */
  region?: string;
  /**
   * Called in process for every trigger, with Cognito's event shapes. Declared as a method so
   * that handlers typed for narrower events (e.g. `@types/aws-lambda`'s) fit.
   */
  triggers?(event: CognitoTriggerEvent): Promise<unknown>;
  /** The pre token generation event version (default '2'). */
  triggerVersion?: '1' | '2';
  /** Token lifetimes in seconds (default 1 h for ID and access tokens, 30 days for refresh). */
  tokenTtlSeconds?: Partial<TokenTtl>;
  /** Where codes and temporary passwords are printed (default stdout). */
  log?: (line: string) => void;
  /** Cognito gives triggers 5 s; lower it in tests. */
  triggerTimeoutMs?: number;
  /** Milliseconds since the epoch (default Date.now); for tests. */
  clock?: () => number;
  /**
   * Other routes served on the same port (the local stack's GraphQL endpoint): asked first,
   * and a request it handles (resolves true) is not seen by the user pool.
   */
  routes?(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  /**
   * Upgrade requests (WebSocket) on the same port (the local stack's real-time GraphQL endpoint):
   * returns true when it took the socket; otherwise the request is answered 404. Without this
   * option, upgrade requests are refused as before.
   */
  upgrade?(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

export interface UserPool {
  url: string;
  port: number;
  poolId: string;
  clientId: string;
  /** `http://<host>:<port>/<poolId>`, the `iss` of every token. */
  issuer: string;
  jwksUri: string;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_TTL: TokenTtl = { id: 3600, access: 3600, refresh: 30 * 86_400 };
const POOL_ID = /^[\w-]+_[0-9a-zA-Z]+$/;
const CLIENT_ID = /^[\w+]{1,128}$/;
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-amzn-requestid, x-amzn-errortype',
};

/**
 * A local user pool that speaks the Cognito Identity Provider JSON API over HTTP, so that the
 * official SDK client works against it by setting `endpoint`. Requests are not authenticated
 * (no SigV4); bind it to loopback, as by default.
 */
export async function startUserPool(options: UserPoolOptions): Promise<UserPool> {
  const now = options.clock ?? Date.now;
  const ttl = tokenTtl(options.tokenTtlSeconds);
  if (options.poolId !== undefined && !POOL_ID.test(options.poolId)) {
    throw new Error(`invalid user pool id ${options.poolId}: expected <region>_<id>`);
  }
  if (options.clientId !== undefined && !CLIENT_ID.test(options.clientId)) {
    throw new Error(`invalid app client id ${options.clientId}`);
  }
  const store = await PoolStore.open(
    options.dir,
    {
      ...(options.poolId !== undefined && { poolId: options.poolId }),
      ...(options.clientId !== undefined && { clientId: options.clientId }),
      poolIdPrefix: options.region ?? 'local',
    },
    now,
  );
  const keys = await loadOrCreateKeys(options.dir);
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const region = options.region ?? 'us-east-1';
  const host = options.host ?? '127.0.0.1';

  // Set once the port, and with it the issuer, is known.
  const ready: { pool?: Pool } = {};
  const server = createServer((request, response) => {
    const pool = ready.pool;
    if (!pool) {
      response.destroy();
      return;
    }
    void (async () => {
      try {
        if (options.routes && (await options.routes(request, response))) return;
      } catch (error) {
        pool.log(
          `[local] route failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
        if (!response.headersSent) sendJson(response, 500, { message: 'Internal error.' });
        return;
      }
      await handle(pool, request, response);
    })();
  });
  if (options.upgrade) {
    const upgrade = options.upgrade.bind(options);
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      let taken = false;
      try {
        taken = ready.pool !== undefined && upgrade(request, socket, head);
      } catch (error) {
        ready.pool?.log(
          `[local] upgrade failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
      if (!taken && !socket.destroyed) {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      }
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(host)}:${port}`;
  const issuer = `${url}/${store.poolId}`;
  const triggers = options.triggers?.bind(options);
  ready.pool = {
    config: {
      poolId: store.poolId,
      clientId: store.clientId,
      region,
      issuer,
      ttl,
      triggerVersion: options.triggerVersion ?? '2',
    },
    store,
    keys,
    triggers: new TriggerRunner(
      triggers,
      { region, userPoolId: store.poolId },
      options.triggerTimeoutMs ?? 5000,
    ),
    challenges: new Challenges(now),
    log,
    now,
  };
  return {
    url,
    port,
    poolId: store.poolId,
    clientId: store.clientId,
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      });
      await store.flush();
    },
  };
}

function tokenTtl(given: Partial<TokenTtl> | undefined): TokenTtl {
  const ttl = { ...DEFAULT_TTL, ...given };
  for (const [name, seconds] of Object.entries(ttl)) {
    if (!Number.isInteger(seconds) || seconds <= 0) {
      throw new Error(`tokenTtlSeconds.${name} must be a positive whole number of seconds`);
    }
  }
  return ttl;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

async function handle(pool: Pool, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  try {
    if (request.method === 'OPTIONS' && path === '/') return preflight(response);
    if (request.method === 'GET') return get(pool, request, response);
    if (request.method !== 'POST' || path !== '/') {
      throw new CognitoError('UnknownOperationException', 'Only POST / is supported.', 404);
    }
    const target = request.headers['x-amz-target'];
    if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
      throw new CognitoError('UnknownOperationException', 'Missing or unknown X-Amz-Target header.');
    }
    const name = target.slice(TARGET_PREFIX.length);
    const operation = OPERATIONS.get(name);
    if (!operation) throw new CognitoError('UnknownOperationException', `Unknown operation ${name}.`);
    if (operation.admin && request.headers['origin'] !== undefined) {
      // On AWS these need IAM credentials; here nothing would stop a web page from calling them.
      throw new CognitoError(
        'NotAuthorizedException',
        `${name} needs IAM credentials; the local user pool does not accept it from a browser.`,
      );
    }
    const input = parseInput(
      await readBody(
        request,
        MAX_BODY_BYTES,
        () => new CognitoError('InvalidParameterException', 'The request body is too large.', 413),
      ),
    );
    const userAgent = String(request.headers['x-amz-user-agent'] ?? request.headers['user-agent'] ?? '');
    const output = await operation.run(pool, input, { sdkVersion: sdkVersionOf(userAgent) });
    send(response, 200, requestId, output);
  } catch (error) {
    if (error instanceof CognitoError) {
      send(response, error.status, requestId, { __type: error.type, message: error.message });
    } else {
      pool.log(
        `[user-pool] internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      send(response, 500, requestId, { __type: 'InternalErrorException', message: 'Internal error.' });
    }
  }
}

function get(pool: Pool, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const base = `/${pool.config.poolId}/.well-known/`;
  if (url.pathname === `${base}jwks.json`) {
    return sendJson(response, 200, jwks(pool.keys), CORS_HEADERS);
  }
  if (url.pathname === `${base}openid-configuration`) {
    const { issuer } = pool.config;
    return sendJson(
      response,
      200,
      {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: ['RS256'],
        subject_types_supported: ['public'],
        response_types_supported: ['code', 'token'],
        scopes_supported: ['openid', 'email', 'phone', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'email', 'email_verified'],
      },
      CORS_HEADERS,
    );
  }
  if (url.pathname === '/_local/codes') return localCodes(pool, request, url, response);
  sendJson(response, 404, { message: 'Not found.' });
}

/**
 * The latest confirmation and password reset codes of a user, for development (there is no
 * email). Only for requests from this machine, addressed to it by a loopback name (which keeps
 * out web pages that rebind their DNS name to 127.0.0.1); no CORS headers, so other origins
 * cannot read it.
 */
function localCodes(pool: Pool, request: IncomingMessage, url: URL, response: ServerResponse): void {
  if (!isLoopback(request.socket.remoteAddress) || !isLoopbackHost(request.headers.host)) {
    return sendJson(response, 403, { message: 'Only available from this machine.' });
  }
  const username = url.searchParams.get('username');
  if (!username) return sendJson(response, 400, { message: 'username is required.' });
  const user = pool.store.findUser(username);
  if (!user) return sendJson(response, 404, { message: 'User does not exist.' });
  const now = pool.now();
  const codes = Object.fromEntries(
    Object.entries(user.codes).map(([purpose, code]) => [
      purpose,
      {
        code: code.code,
        createdAt: new Date(code.createdAt).toISOString(),
        expiresAt: new Date(code.expiresAt).toISOString(),
        expired: code.expiresAt <= now,
      },
    ]),
  );
  sendJson(response, 200, { username: user.username, codes });
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return name === 'localhost' || name === '[::1]' || (name !== undefined && /^127(\.\d{1,3}){3}$/.test(name));
}

function preflight(response: ServerResponse): void {
  response.writeHead(204, {
    ...CORS_HEADERS,
    'access-control-allow-methods': 'POST, GET, OPTIONS',
    'access-control-allow-headers':
      'content-type, x-amz-target, x-amz-user-agent, x-amz-date, x-amz-content-sha256, x-amz-security-token, authorization, amz-sdk-invocation-id, amz-sdk-request, cache-control',
    'access-control-max-age': '600',
  });
  response.end();
}

function parseInput(body: string): Input {
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body);
  } catch {
    throw new CognitoError('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new CognitoError('SerializationException', 'The request body must be a JSON object.');
  }
  return input as Input;
}

function send(
  response: ServerResponse,
  status: number,
  requestId: string,
  body: Record<string, unknown>,
): void {
  sendJson(response, status, body, {
    ...CORS_HEADERS,
    'content-type': CONTENT_TYPE,
    'x-amzn-requestid': requestId,
    ...(status >= 400 && typeof body['__type'] === 'string' && { 'x-amzn-errortype': body['__type'] }),
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    ...headers,
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
