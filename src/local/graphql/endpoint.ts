import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { DataSourceHandler } from '../../appsync/types.js';
import { CognitionError } from '../../errors.js';
import { createAuthenticator, type Authenticator, type TokenVerifierLike } from './auth.js';
import { DEFAULT_MAX_BATCH_SIZE, MAX_BATCH_SIZE_LIMIT } from './batching.js';
import { createDocumentCache, DEFAULT_DOCUMENT_CACHE_SIZE, type DocumentCache } from './documents.js';
import { requestErrorBody } from './errors.js';
import { createExecute, type Execute, type GraphqlRequest } from './execute.js';
import { explorerPage, type ExplorerOptions } from './explorer.js';
import { createRealtimeEndpoint, type RealtimeEndpoint, type RealtimeOptions } from './realtime.js';
import { createSubscriptionHub, type SubscriptionHub } from './subscriptions.js';
import {
  acceptsHtml,
  BodyTooLarge,
  CORS_HEADERS,
  PREFLIGHT_HEADERS,
  readBody,
  sendJson,
  sendJsonText,
} from './http.js';
import { installResolvers, resolverNames } from './resolution.js';
import { buildAppSyncSchema } from './schema.js';

/**
 * A local stand-in for an AppSync GraphQL API with direct Lambda resolvers:
 *
 * - `POST /graphql`: GraphQL over HTTP in AppSync's dialect (AWS scalars, auth directives),
 *   authenticated by a user-pool JWT (`Authorization`) or an API key (`x-api-key`); fields named
 *   in `resolvers` call the data source in process with AppSync's event shapes (Invoke at the
 *   root, BatchInvoke per `Type.field` below it).
 * - `GET /explorer` (and `GET /graphql` from a browser): a small query page.
 * - Subscriptions over AppSync's real-time WebSocket protocol (`realtime`, realtime.ts): mount
 *   `realtime.handleUpgrade` on the server's `upgrade` event; `@aws_subscribe` mutations run
 *   through `execute` publish their results, and each event is authorized as the subscriber
 *   (subscriptions.ts).
 */

export type DefaultAuthMode = 'AMAZON_COGNITO_USER_POOLS' | 'API_KEY';

export interface GraphqlEndpointOptions {
  /** The app's schema in AppSync's SDL dialect (AWS scalars and directives need no declaration). */
  schema: string;
  /** The fields resolved by the data source: `Type.field` names, or a Resolvers object (its keys). */
  resolvers: Iterable<string> | Record<string, unknown>;
  /** The Lambda handler of the data source, called in process. */
  dataSource: DataSourceHandler;
  /** Verifies user-pool tokens (e.g. `createTokenVerifier({ issuer, clientId })`); enables AMAZON_COGNITO_USER_POOLS. */
  verifier?: TokenVerifierLike;
  /** If given, tokens must have this `iss`, which is also `identity.issuer` (default: the token's `iss`). */
  issuer?: string;
  /** Enables API_KEY: requests with `x-api-key` equal to one of these. */
  apiKeys?: string[];
  /** The mode of fields and types without auth directives. Default AMAZON_COGNITO_USER_POOLS. */
  defaultAuthMode?: DefaultAuthMode;
  /** Most events per BatchInvoke (AppSync: 0-2000; 0 turns batching off). Default 1000. */
  maxBatchSize?: number;
  /** Where the explorer page signs in. Without it the page takes a pasted token or an API key. */
  explorer?: ExplorerOptions;
  /** How many parsed and validated queries to keep (default 500). */
  documentCacheSize?: number;
  /** How many accepted `Authorization` values to remember, each until its token's `exp` (default 1000; 0: none). */
  credentialCacheSize?: number;
  /**
   * Default true: a query that is one data-source root field with a plain selection below it
   * skips graphql-js's executor (direct.ts), with the same response; false sends every request
   * through graphql-js (the reference direct execution is tested against).
   */
  directExecution?: boolean;
  /** Largest accepted request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported (default: stderr). */
  log?: (line: string) => void;
  /** The real-time (subscriptions) endpoint: keep-alive interval and limits. */
  realtime?: RealtimeOptions;
}

export interface GraphqlEndpoint {
  /** Serves the endpoint's routes; resolves false (and leaves the response alone) for other paths. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  readonly schema: GraphQLSchema;
  /** Runs a request for an authenticated caller (for the real-time endpoint and tests). */
  readonly execute: Execute;
  /** Decides who is calling from request headers, as `POST /graphql` does. */
  readonly authenticate: Authenticator['authenticate'];
  readonly documents: DocumentCache;
  /** The subscriptions registered over the real-time endpoint, and where mutations publish. */
  readonly subscriptions: SubscriptionHub;
  /** AppSync's real-time WebSocket endpoint (`/graphql/realtime`): attach `handleUpgrade`, `close()` it. */
  readonly realtime: RealtimeEndpoint;
}

export const GRAPHQL_PATH = '/graphql';
export const EXPLORER_PATH = '/explorer';
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function configError(message: string): CognitionError {
  return new CognitionError('ERR_CONFIG', `GraphQL endpoint: ${message}`, { safe: false });
}

function checkOptions(options: GraphqlEndpointOptions): {
  defaultMode: DefaultAuthMode;
  maxBatchSize: number;
} {
  if (options === null || typeof options !== 'object') throw configError('options are required');
  if (typeof options.dataSource !== 'function') throw configError('dataSource must be a function');
  const defaultMode = options.defaultAuthMode ?? 'AMAZON_COGNITO_USER_POOLS';
  if (defaultMode !== 'AMAZON_COGNITO_USER_POOLS' && defaultMode !== 'API_KEY') {
    throw configError("defaultAuthMode must be 'AMAZON_COGNITO_USER_POOLS' or 'API_KEY'");
  }
  if (defaultMode === 'AMAZON_COGNITO_USER_POOLS' && !options.verifier) {
    throw configError('a verifier is required when the default auth mode is AMAZON_COGNITO_USER_POOLS');
  }
  if (defaultMode === 'API_KEY' && (options.apiKeys ?? []).length === 0) {
    throw configError('apiKeys are required when the default auth mode is API_KEY');
  }
  if (options.verifier !== undefined && typeof options.verifier?.verify !== 'function') {
    throw configError('verifier must have a verify(token) method');
  }
  const maxBatchSize = options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 0 || maxBatchSize > MAX_BATCH_SIZE_LIMIT) {
    throw configError(`maxBatchSize must be a whole number from 0 to ${MAX_BATCH_SIZE_LIMIT}`);
  }
  return { defaultMode, maxBatchSize };
}

type ParsedBody = { ok: true; request: GraphqlRequest } | { ok: false; message: string };

function parseRequest(body: Buffer): ParsedBody {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, message: 'The request body is not valid JSON.' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      message: 'The request body must be a JSON object { query, variables, operationName }.',
    };
  }
  const { query, variables, operationName } = value as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') return { ok: false, message: 'query is required.' };
  if (
    variables !== undefined &&
    variables !== null &&
    (typeof variables !== 'object' || Array.isArray(variables))
  ) {
    return { ok: false, message: 'variables must be a JSON object.' };
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
    return { ok: false, message: 'operationName must be a string.' };
  }
  return {
    ok: true,
    request: {
      query,
      variables: (variables as Record<string, unknown> | null | undefined) ?? null,
      operationName: (operationName as string | null | undefined) ?? null,
    },
  };
}

export function createGraphqlEndpoint(options: GraphqlEndpointOptions): GraphqlEndpoint {
  const { defaultMode, maxBatchSize } = checkOptions(options);
  const schema = buildAppSyncSchema(options.schema);
  const resolvers = resolverNames(schema, options.resolvers);
  installResolvers(schema, {
    resolvers,
    dataSource: options.dataSource,
    defaultMode,
    maxBatchSize,
  });
  const authenticator = createAuthenticator({
    verifier: options.verifier,
    issuer: options.issuer,
    apiKeys: options.apiKeys,
    cacheSize: options.credentialCacheSize,
  });
  const documents = createDocumentCache(schema, options.documentCacheSize ?? DEFAULT_DOCUMENT_CACHE_SIZE);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const subscriptions = createSubscriptionHub({
    schema,
    documents,
    resolvers,
    dataSource: options.dataSource,
    defaultMode,
    log,
  });
  // Mutations named in @aws_subscribe publish their results once the request has run.
  const execute = subscriptions.publishing(
    createExecute(schema, documents, { dataSource: options.dataSource, direct: options.directExecution }),
  );
  const realtime = createRealtimeEndpoint({
    ...options.realtime,
    hub: subscriptions,
    authenticate: authenticator.authenticate,
    log,
  });

  function serveExplorer(response: ServerResponse, head: boolean): void {
    const page = explorerPage(options.explorer, GRAPHQL_PATH, options.schema);
    response.writeHead(200, { ...page.headers, 'content-length': String(Buffer.byteLength(page.html)) });
    response.end(head ? undefined : page.html);
  }

  async function serveGraphql(
    request: IncomingMessage,
    response: ServerResponse,
    requestId: string,
  ): Promise<void> {
    const authentication = await authenticator.authenticate(request.headers);
    if (!authentication.ok) {
      sendJson(response, 401, requestErrorBody('UnauthorizedException', authentication.message), {
        ...CORS_HEADERS,
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': 'UnauthorizedException',
      });
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      sendJson(response, 413, requestErrorBody('BadRequestException', 'The request body is too large.'), {
        ...CORS_HEADERS,
        'x-amzn-requestid': requestId,
      });
      return;
    }
    const parsed = parseRequest(body);
    if (!parsed.ok) {
      sendJson(response, 400, requestErrorBody('BadRequestException', parsed.message), {
        ...CORS_HEADERS,
        'x-amzn-requestid': requestId,
      });
      return;
    }
    const result = await execute(parsed.request, authentication.caller, {
      headers: request.headers,
      remoteAddress: request.socket.remoteAddress,
    });
    sendJsonText(response, 200, JSON.stringify(result), CORS_HEADERS, requestId);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const path = (request.url ?? '/').split('?', 1)[0];
    const method = request.method ?? 'GET';
    if (path !== GRAPHQL_PATH && path !== EXPLORER_PATH) return false;
    const requestId = randomUUID();
    try {
      if (method === 'GET' || method === 'HEAD') {
        if (path === EXPLORER_PATH || acceptsHtml(request)) {
          serveExplorer(response, method === 'HEAD');
          return true;
        }
      } else if (path === GRAPHQL_PATH && method === 'OPTIONS') {
        response.writeHead(204, PREFLIGHT_HEADERS).end();
        return true;
      } else if (path === GRAPHQL_PATH && method === 'POST') {
        await serveGraphql(request, response, requestId);
        return true;
      }
      sendJson(
        response,
        405,
        requestErrorBody('MethodNotAllowed', `${method} is not supported on ${path}.`),
        { ...CORS_HEADERS, allow: path === GRAPHQL_PATH ? 'POST, OPTIONS, GET' : 'GET' },
      );
      return true;
    } catch (error) {
      log(
        `[graphql] ${requestId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      if (!response.headersSent) {
        sendJson(response, 500, requestErrorBody('InternalFailure', 'An internal failure occurred.'), {
          ...CORS_HEADERS,
          'x-amzn-requestid': requestId,
        });
      } else {
        response.destroy();
      }
      return true;
    }
  }

  return {
    handle,
    schema,
    execute,
    authenticate: authenticator.authenticate,
    documents,
    subscriptions,
    realtime,
  };
}
