import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Authenticator } from './auth.js';
import type { GraphqlRequest } from './execute.js';
import type {
  RealtimeError,
  SubscriptionHub,
  SubscriptionPayload,
  ActiveSubscription,
} from './subscriptions.js';

/**
 * AppSync's real-time WebSocket protocol (NOTES.md §7, "Building a real-time WebSocket client"),
 * on the same port as `POST /graphql`:
 *
 * - `ws://<host>/graphql/realtime` (or `/graphql`), subprotocol `graphql-ws`. The connection's
 *   credentials come as AppSync takes them: `?header=<base64 JSON>&payload=e30=`, a
 *   `header-<base64url JSON>` subprotocol, or plain `Authorization` / `x-api-key` headers. They are
 *   verified as `POST /graphql` verifies them; a connection without valid ones gets
 *   `connection_error` and is closed.
 * - `connection_init` → `connection_ack { connectionTimeoutMs }`, then `ka` at once and every
 *   `keepAliveMs`.
 * - `start { id, payload: { data: "<JSON {query, variables, operationName}>", extensions:
 *   { authorization } } }`: the caller is the one `extensions.authorization` names (else the
 *   connection's), authenticated again; the document is validated, the field's auth directives
 *   checked and the subscription registered (subscriptions.ts) → `start_ack`, or
 *   `error { id, payload: { errors: [{ errorType, message }] } }`.
 * - events → `data { id, payload: { data: { <field>: {...} } } }`; `stop { id }` → `complete { id }`.
 * - `close()` ends every connection (1001) and drops its subscriptions.
 */

export const REALTIME_PATH = '/graphql/realtime';
export const REALTIME_SUBPROTOCOL = 'graphql-ws';
export const CONNECTION_TIMEOUT_MS = 300_000;
export const DEFAULT_KEEP_ALIVE_MS = 60_000;
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
const CLOSE_GRACE_MS = 1000;

export interface RealtimeOptions {
  /** Interval of `ka` messages (default 60 s; AppSync's clients give up after connectionTimeoutMs). */
  keepAliveMs?: number;
  /** A socket that has not sent a good `connection_init` within this time is closed (default 10 s). */
  connectionInitTimeoutMs?: number;
  /** Most subscriptions one connection may hold (default 100). */
  maxSubscriptionsPerConnection?: number;
  /** Largest accepted message in bytes (default 1 MiB). */
  maxMessageBytes?: number;
}

export interface RealtimeEndpointOptions extends RealtimeOptions {
  hub: SubscriptionHub;
  authenticate: Authenticator['authenticate'];
  log: (line: string) => void;
}

export interface RealtimeEndpoint {
  /**
   * For a node:http server's `upgrade` event: takes the socket and returns true for the real-time
   * paths, returns false (and leaves the socket alone) for others.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Open connections. */
  readonly connections: number;
  /** Closes every connection (code 1001) and refuses new ones. */
  close(): Promise<void>;
}

type ConnectionAuth =
  { ok: true; headers: IncomingHttpHeaders } | { ok: false; error: RealtimeError & { errorCode: number } };

interface Connection {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  readonly auth: Promise<ConnectionAuth>;
  readonly subscriptions: Map<string, ActiveSubscription>;
  acknowledged: boolean;
  keepAlive?: NodeJS.Timeout;
  /** Closes a socket that never completes connection_init, so idle sockets cannot pile up. */
  initTimer?: NodeJS.Timeout;
  /** Messages are handled one after the other, so `stop` always sees the `start` before it. */
  queue: Promise<void>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A JSON object of header values → headers as node:http has them (lower-case names, strings). */
function headersOf(value: Record<string, unknown>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, raw] of Object.entries(value)) {
    if (typeof raw === 'string') headers[name.toLowerCase()] = raw;
    else if (typeof raw === 'number' || typeof raw === 'boolean') headers[name.toLowerCase()] = String(raw);
  }
  return headers;
}

function decodeHeaderJson(encoded: string): Record<string, unknown> | undefined {
  try {
    // Node's base64 decoder takes the standard and the URL-safe alphabets, padded or not.
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  return (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * A query parameter without URLSearchParams' `+` → space: AppSync clients put base64 (whose
 * alphabet has `+`) in the URL, escaped or not.
 */
function rawQueryParam(url: string, name: string): string | undefined {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const part of query.split('&')) {
    const at = part.indexOf('=');
    if ((at < 0 ? part : part.slice(0, at)) !== name) continue;
    const value = at < 0 ? '' : part.slice(at + 1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/** The connection's credentials, in AppSync's three ways; undefined when there are none. */
function connectionHeaders(request: IncomingMessage): IncomingHttpHeaders | 'malformed' | undefined {
  const query = rawQueryParam(request.url ?? '/', 'header');
  if (query !== undefined) {
    const value = decodeHeaderJson(query);
    return value ? headersOf(value) : 'malformed';
  }
  const protocol = offeredProtocols(request).find((p) => p.startsWith('header-'));
  if (protocol !== undefined) {
    const value = decodeHeaderJson(protocol.slice('header-'.length));
    return value ? headersOf(value) : 'malformed';
  }
  const { authorization } = request.headers;
  const apiKey = request.headers['x-api-key'];
  if (authorization === undefined && apiKey === undefined) return undefined;
  return {
    ...(authorization !== undefined && { authorization }),
    ...(apiKey !== undefined && { 'x-api-key': apiKey }),
  };
}

function parseStartData(data: unknown): GraphqlRequest | string {
  if (typeof data !== 'string') return 'payload.data must be a JSON string of { query, variables }.';
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return 'payload.data is not valid JSON.';
  }
  if (!isRecord(value)) return 'payload.data must be a JSON object { query, variables, operationName }.';
  const { query, variables, operationName } = value;
  if (typeof query !== 'string' || query.trim() === '') return 'query is required.';
  if (variables !== undefined && variables !== null && !isRecord(variables)) {
    return 'variables must be a JSON object.';
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
    return 'operationName must be a string.';
  }
  return {
    query,
    variables: (variables as Record<string, unknown> | null | undefined) ?? null,
    operationName: (operationName as string | null | undefined) ?? null,
  };
}

export function createRealtimeEndpoint(options: RealtimeEndpointOptions): RealtimeEndpoint {
  const { hub, authenticate, log } = options;
  const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  const initTimeoutMs = options.connectionInitTimeoutMs ?? 10_000;
  const maxSubscriptions = options.maxSubscriptionsPerConnection ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION;
  const connections = new Set<Connection>();
  let closed = false;

  const server = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(REALTIME_SUBPROTOCOL) ? REALTIME_SUBPROTOCOL : false),
  });

  async function authenticateConnection(request: IncomingMessage): Promise<ConnectionAuth> {
    const headers = connectionHeaders(request);
    if (headers === 'malformed') {
      return {
        ok: false,
        error: {
          errorType: 'BadRequestException',
          message: 'The "header" is not base64-encoded JSON.',
          errorCode: 400,
        },
      };
    }
    if (headers === undefined) {
      return {
        ok: false,
        error: {
          errorType: 'UnauthorizedException',
          message: 'Both, the "header", and the "payload" query string parameters are missing',
          errorCode: 400,
        },
      };
    }
    const authentication = await authenticate(headers);
    if (!authentication.ok) {
      return {
        ok: false,
        error: { errorType: 'UnauthorizedException', message: authentication.message, errorCode: 401 },
      };
    }
    return { ok: true, headers };
  }

  function send(connection: Connection, message: Record<string, unknown>): void {
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(JSON.stringify(message));
  }

  function sendError(connection: Connection, id: string | undefined, errors: RealtimeError[]): void {
    send(connection, {
      type: 'error',
      ...(id !== undefined && { id }),
      payload: { errors: errors.map(({ errorType, message }) => ({ errorType, message })) },
    });
  }

  function dropSubscriptions(connection: Connection): void {
    for (const subscription of connection.subscriptions.values()) subscription.unsubscribe();
    connection.subscriptions.clear();
  }

  function end(connection: Connection): void {
    if (connection.keepAlive) clearInterval(connection.keepAlive);
    if (connection.initTimer) clearTimeout(connection.initTimer);
    dropSubscriptions(connection);
    connections.delete(connection);
  }

  async function refuseConnection(connection: Connection): Promise<boolean> {
    const auth = await connection.auth;
    if (auth.ok) return false;
    send(connection, { type: 'connection_error', payload: { errors: [auth.error] } });
    connection.socket.close(1000, 'connection_error');
    return true;
  }

  async function connectionInit(connection: Connection): Promise<void> {
    if (await refuseConnection(connection)) return;
    send(connection, { type: 'connection_ack', payload: { connectionTimeoutMs: CONNECTION_TIMEOUT_MS } });
    if (connection.acknowledged) return;
    connection.acknowledged = true;
    if (connection.initTimer) clearTimeout(connection.initTimer);
    send(connection, { type: 'ka' });
    connection.keepAlive = setInterval(() => send(connection, { type: 'ka' }), keepAliveMs);
    connection.keepAlive.unref();
  }

  async function start(connection: Connection, id: unknown, payload: unknown): Promise<void> {
    if (typeof id !== 'string' || id === '') {
      sendError(connection, undefined, [
        { errorType: 'BadRequestException', message: 'A start message needs an id.' },
      ]);
      return;
    }
    if (connection.subscriptions.has(id)) {
      sendError(connection, id, [
        { errorType: 'DuplicatedOperationError', message: `Duplicate subscription id ${id}.` },
      ]);
      return;
    }
    if (connection.subscriptions.size >= maxSubscriptions) {
      sendError(connection, id, [
        {
          errorType: 'MaxSubscriptionsReachedError',
          message: `A connection may hold at most ${maxSubscriptions} subscriptions.`,
        },
      ]);
      return;
    }
    const request = parseStartData(isRecord(payload) ? payload['data'] : undefined);
    if (typeof request === 'string') {
      sendError(connection, id, [{ errorType: 'BadRequestException', message: request }]);
      return;
    }
    // The start's own authorization, else the connection's (verified when it opened).
    const extensions = isRecord(payload) ? payload['extensions'] : undefined;
    const given = isRecord(extensions) ? extensions['authorization'] : undefined;
    const auth = await connection.auth;
    const headers = isRecord(given) ? headersOf(given) : auth.ok ? auth.headers : {};
    const authentication = await authenticate(headers);
    if (!authentication.ok) {
      sendError(connection, id, [{ errorType: 'UnauthorizedException', message: authentication.message }]);
      return;
    }
    if (connection.socket.readyState !== WebSocket.OPEN) return;
    const result = await hub.subscribe({
      request,
      caller: authentication.caller,
      origin: {
        headers: { ...connection.request.headers, ...headers },
        remoteAddress: connection.request.socket.remoteAddress,
      },
      deliver: (data: SubscriptionPayload) => send(connection, { type: 'data', id, payload: data }),
    });
    if (!result.ok) {
      sendError(connection, id, result.errors);
      return;
    }
    // The connection may have closed while the database was asked.
    if (connection.socket.readyState !== WebSocket.OPEN) {
      result.subscription.unsubscribe();
      return;
    }
    connection.subscriptions.set(id, result.subscription);
    send(connection, { type: 'start_ack', id });
  }

  function stop(connection: Connection, id: unknown): void {
    if (typeof id !== 'string') {
      sendError(connection, undefined, [
        { errorType: 'BadRequestException', message: 'A stop message needs an id.' },
      ]);
      return;
    }
    const subscription = connection.subscriptions.get(id);
    subscription?.unsubscribe();
    connection.subscriptions.delete(id);
    send(connection, { type: 'complete', id });
  }

  async function handleMessage(connection: Connection, raw: RawData, isBinary: boolean): Promise<void> {
    let message: unknown;
    try {
      message = isBinary ? undefined : JSON.parse(raw.toString());
    } catch {
      message = undefined;
    }
    if (!isRecord(message)) {
      sendError(connection, undefined, [
        { errorType: 'BadRequestException', message: 'Messages must be JSON objects with a type.' },
      ]);
      return;
    }
    const { type, id, payload } = message;
    if (type === 'connection_init') return connectionInit(connection);
    // Until the connection's credentials are known good, nothing else is served.
    if (await refuseConnection(connection)) return;
    if (type === 'start') return start(connection, id, payload);
    if (type === 'stop') return stop(connection, id);
    sendError(connection, typeof id === 'string' ? id : undefined, [
      { errorType: 'UnsupportedOperation', message: 'unknown not supported through the realtime channel' },
    ]);
  }

  server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const connection: Connection = {
      socket,
      request,
      auth: authenticateConnection(request).catch((error: unknown) => {
        log(`[graphql] realtime: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        return {
          ok: false,
          error: { errorType: 'InternalFailure', message: 'An internal failure occurred.', errorCode: 500 },
        } as const;
      }),
      subscriptions: new Map(),
      acknowledged: false,
      queue: Promise.resolve(),
    };
    connections.add(connection);
    connection.initTimer = setTimeout(() => {
      if (!connection.acknowledged) socket.close(4408, 'connection_init timeout');
    }, initTimeoutMs);
    connection.initTimer.unref();
    socket.on('message', (raw: RawData, isBinary: boolean) => {
      connection.queue = connection.queue
        .then(() => handleMessage(connection, raw, isBinary))
        .catch((error: unknown) => {
          log(
            `[graphql] realtime: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          );
          sendError(connection, undefined, [
            { errorType: 'InternalFailure', message: 'An internal failure occurred.' },
          ]);
        });
    });
    socket.on('close', () => end(connection));
    socket.on('error', () => end(connection));
  });

  function reject(socket: Duplex, status: number, reason: string, message: string): void {
    const body = JSON.stringify({ errors: [{ errorType: 'BadRequestException', message }] });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  return {
    handleUpgrade(request, socket, head) {
      const path = (request.url ?? '/').split('?', 1)[0];
      if (path !== REALTIME_PATH && path !== '/graphql') return false;
      if (closed) {
        reject(socket, 503, 'Service Unavailable', 'The real-time endpoint is closed.');
        return true;
      }
      if (!offeredProtocols(request).includes(REALTIME_SUBPROTOCOL)) {
        reject(socket, 400, 'Bad Request', `The WebSocket subprotocol must be ${REALTIME_SUBPROTOCOL}.`);
        return true;
      }
      server.handleUpgrade(request, socket, head, (ws) => server.emit('connection', ws, request));
      return true;
    },
    get connections() {
      return connections.size;
    },
    async close() {
      closed = true;
      const open = [...connections];
      await Promise.all(
        open.map(
          (connection) =>
            new Promise<void>((resolve) => {
              const { socket } = connection;
              end(connection);
              if (socket.readyState === WebSocket.CLOSED) return resolve();
              const timer = setTimeout(() => {
                socket.terminate();
                resolve();
              }, CLOSE_GRACE_MS);
              timer.unref();
              socket.once('close', () => {
                clearTimeout(timer);
                resolve();
              });
              socket.close(1001, 'The server is shutting down.');
            }),
        ),
      );
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
