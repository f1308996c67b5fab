import { fork } from 'node:child_process';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import Module, { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VerifyOptions, JwtPayload, GetPublicKeyOrSecret } from 'jsonwebtoken';
import pg from 'pg';
import type { postgraphile as PostGraphile } from 'postgraphile';

/**
 * PostGraphile v4 (a bench-only dependency) serving one tenant schema, as the baseline of the
 * GraphQL bench, in a child process of its own: the server under comparison gets a process to
 * itself, as ours does, and PostGraphile's module layout stays out of the bench's process.
 *
 * The layout needs one fix-up. npm installed PostGraphile v4's graphql@15 nested (twice), while
 * `graphql-parse-resolve-info`, which it uses to plan queries, was hoisted next to the project's
 * graphql@16 and resolves that one; graphql then refuses to mix the two ("Cannot use
 * GraphQLObjectType "Agent" from another module or realm"). This process makes every
 * `require('graphql…')` resolve to PostGraphile's own graphql@15, as a flat install would.
 *
 * Authentication: PostGraphile's built-in JWT path (`jwtPublicKey`) cannot take a Cognito token
 * on Postgres 15+: it copies every claim into `jwt.claims.<name>`, and Postgres refuses
 * `jwt.claims.cognito:username` ("invalid configuration parameter name"). So the token is
 * checked in `pgSettings`, with the library and the call PostGraphile itself uses (jsonwebtoken's
 * verify: RS256 only, the key by `kid` from the user pool's JWKS, `aud`, `iss`, `exp`), on every
 * request as PostGraphile does; `sub` maps to the user's database role through an in-memory map
 * built before the run (the cost class of our identity cache). Each request then runs, in its
 * transaction, `set_config('role', <the user's role>, true)` and
 * `set_config('request.jwt.claims', <the claims>, true)` on a pool of the authenticator's
 * connections, the same role switch as ours.
 */

export interface PostGraphileConfig {
  /** cognition_authenticator's connection URL. */
  connectionString: string;
  poolSize: number;
  schema: string;
  jwksUri: string;
  clientId: string;
  issuer: string;
  /** Identity subject → database role. */
  roles: [string, string][];
}

export interface PostGraphileServer {
  url: string;
  /** The server process's CPU time so far (user + system), in milliseconds. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

const CHILD_FLAG = 'PGC_BENCH_POSTGRAPHILE_CHILD';

/** Starts the server in a child process (this file, forked with the parent's tsx loader). */
export async function startPostGraphile(config: PostGraphileConfig): Promise<PostGraphileServer> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [CHILD_FLAG]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { url?: string; error?: string }) =>
      message.url ? resolve(message.url) : reject(new Error(message.error ?? 'PostGraphile did not start')),
    );
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the PostGraphile process exited (${code})`)));
    child.send(config);
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  child.removeAllListeners('message');
  return {
    url,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        child.once('message', (message: { cpuMs: number }) => resolve(message.cpuMs));
        child.send('cpu');
      }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

async function serve(config: PostGraphileConfig): Promise<{ url: string; close(): Promise<void> }> {
  const require = createRequire(import.meta.url);
  const postgraphileDir = dirname(require.resolve('postgraphile/package.json'));
  const loader = Module as unknown as {
    _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  };
  const resolveFilename = loader._resolveFilename;
  loader._resolveFilename = function (request, parent, isMain, options) {
    if (request === 'graphql' || request.startsWith('graphql/')) {
      return resolveFilename.call(this, request, parent, isMain, { paths: [postgraphileDir] });
    }
    return resolveFilename.call(this, request, parent, isMain, options);
  };
  const { postgraphile } = require('postgraphile') as { postgraphile: typeof PostGraphile };
  const jwt = require('jsonwebtoken') as typeof import('jsonwebtoken');

  const jwks = (await (await fetch(config.jwksUri)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const keys = new Map<string, KeyObject>(
    jwks.keys.map((key) => [key.kid, createPublicKey({ key, format: 'jwk' })]),
  );
  const verifyOptions: VerifyOptions & { complete?: false } = {
    algorithms: ['RS256'],
    audience: config.clientId,
    issuer: config.issuer,
  };
  const getKey: GetPublicKeyOrSecret = (header, callback) => {
    const key = header.kid === undefined ? undefined : keys.get(header.kid);
    if (key) callback(null, key);
    else callback(new Error('unknown key'));
  };
  const verify = (token: string) =>
    new Promise<JwtPayload>((resolve, reject) =>
      jwt.verify(token, getKey, verifyOptions, (error, decoded) => {
        if (error || !decoded || typeof decoded === 'string') reject(error ?? new Error('bad payload'));
        else resolve(decoded);
      }),
    );
  const roles = new Map(config.roles);

  const pool = new pg.Pool({ connectionString: config.connectionString, max: config.poolSize });
  pool.on('error', () => {});
  const handler = postgraphile(pool, config.schema, {
    pgSettings: async (req: IncomingMessage) => {
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!match) throw httpError(401, 'Valid authorization header not provided.');
      let claims: JwtPayload;
      try {
        claims = await verify(match[1] as string);
      } catch {
        throw httpError(401, 'Invalid token.');
      }
      const role = claims.sub === undefined ? undefined : roles.get(claims.sub);
      if (!role) throw httpError(401, 'Unknown user.');
      return { role, 'request.jwt.claims': JSON.stringify(claims) };
    },
    disableQueryLog: true,
    retryOnInitFail: false,
    graphiql: false,
    watchPg: false,
  });
  // Build the schema now (introspection), not on the first request.
  await handler.getGraphQLSchema();
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end().catch(() => {});
    },
  };
}

if (process.env[CHILD_FLAG] === '1' && process.send) {
  process.once('message', (config: PostGraphileConfig) => {
    serve(config).then(
      (running) => {
        process.send?.({ url: running.url });
        process.on('message', (message) => {
          if (message !== 'cpu') return;
          const { user, system } = process.cpuUsage();
          process.send?.({ cpuMs: (user + system) / 1000 });
        });
        process.once('disconnect', () => {
          running.close().finally(() => process.exit(0));
        });
      },
      (error: unknown) => {
        process.send?.({ error: String((error as Error)?.stack ?? error) }, () => process.exit(1));
      },
    );
  });
}
