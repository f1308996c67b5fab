import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { endpointOf } from '../db/pool.js';
import { rewriteNamed } from '../db/sql-tokens.js';
import type { SecretStore } from '../secrets/secret-store.js';
import {
  BadParameter,
  BUILTIN_TYPES,
  columnMetadata,
  decodeParameter,
  toField,
  toJsonText,
  toJsonValue,
  UnsupportedResult,
  type Json,
  type ResultOptions,
  type TypeInfo,
} from './data-api-fields.js';
import { readBody } from './read-body.js';

/**
 * A local stand-in for the RDS Data API over a real Postgres, speaking its REST-JSON protocol so
 * that the official `@aws-sdk/client-rds-data` client works against it by setting `endpoint`. It
 * serves ExecuteStatement, BeginTransaction, CommitTransaction and RollbackTransaction:
 *
 * - `secretArn` (a name or an ARN) is resolved to a username and password, and the statement runs
 *   on a connection that logged in with them, so a user's secret truly logs in as that user;
 * - `:name` parameters are bound with the types the Data API gives them (a stringValue is a
 *   varchar unless its typeHint says otherwise); array parameters are refused, as AWS does;
 * - results come back as `records` + `columnMetadata` + `numberOfRecordsUpdated`, or as
 *   `formattedRecords` with `formatRecordsAs: 'JSON'`; timestamptz in UTC, as AWS does;
 * - a transaction keeps its own connection until it is committed, rolled back, or idle for three
 *   minutes (then rolled back), as AWS does;
 * - Postgres errors come back as DatabaseErrorException (or BadRequestException, as the
 *   Aurora Serverless v1 Data API sent them) with pgjdbc's rendering of the error and its
 *   SQLState; a call that runs past the call timeout ends in StatementTimeoutException and, unless
 *   `continueAfterTimeout`, the statement is cancelled.
 *
 * Requests are not authenticated (no SigV4 check, no IAM); BatchExecuteStatement, ExecuteSql,
 * `generatedFields`, the 1 MiB response limit and the `schema` parameter (which AWS ignores for
 * Postgres) are not implemented.
 */

/** What a secret must hold; host and port come from the server's database, as AWS takes them from the cluster. */
export interface DataApiSecret {
  username: string;
  password: string;
  dbname?: string;
}

/**
 * Resolves a `secretArn` (name or ARN) to the secret's fields; undefined when there is no such
 * secret. Fields that are missing or not strings make the secret invalid (InvalidSecretException).
 */
export type SecretLookup = (
  secretArn: string,
) => Promise<DataApiSecret | Record<string, unknown> | undefined>;

export interface DataApiServerOptions {
  /** The Postgres that plays the cluster: its host, port and default database (its user is not used). */
  databaseUrl: string;
  secrets: SecretLookup;
  /** Requests must name this cluster ARN (default: any ARN is accepted). */
  resourceArn?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** How long a call may run before StatementTimeoutException (AWS: 45 s). */
  callTimeoutMs?: number;
  /** How long a transaction may sit idle before it is rolled back (AWS: 3 minutes). */
  transactionTimeoutMs?: number;
  /** The exception that carries Postgres errors (default DatabaseErrorException, the current API). */
  sqlErrorType?: 'DatabaseErrorException' | 'BadRequestException';
}

export interface DataApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/json';
// AWS accepts requests up to 4 MiB.
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_POOLS = 50;

// HTTP status of each exception, from the service model.
const STATUS: Record<string, number> = {
  AccessDeniedException: 403,
  BadRequestException: 400,
  DatabaseErrorException: 400,
  DatabaseNotFoundException: 404,
  DatabaseUnavailableException: 504,
  ForbiddenException: 403,
  InternalServerErrorException: 500,
  InvalidSecretException: 400,
  NotFoundException: 404,
  SecretsErrorException: 400,
  StatementTimeoutException: 400,
  TransactionNotFoundException: 404,
  UnsupportedResultException: 400,
  UnknownOperationException: 404,
};

/** Answered as `{"message": ...}` with the `x-amzn-errortype` header, as rest-json services do. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, Json> = {},
  ) {
    super(message);
  }
}

type Input = Record<string, unknown>;
type Output = Record<string, Json | undefined>;

// Every value as Postgres's text; the server encodes them itself.
const RAW_TEXT = (value: string) => value;
const rawTypes = { getTypeParser: () => RAW_TEXT };

interface Transaction {
  id: string;
  secretArn: string;
  client: pg.PoolClient;
  database: string;
  timer: NodeJS.Timeout;
  /** Calls on one transaction run one after the other, as on one connection. */
  queue: Promise<unknown>;
}

export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  const state = new DataApiState(options);
  const server = createServer((request, response) => {
    void handle(state, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      });
      await state.close();
    },
  };
}

const ROUTES: Record<string, string> = {
  '/Execute': 'ExecuteStatement',
  '/BeginTransaction': 'BeginTransaction',
  '/CommitTransaction': 'CommitTransaction',
  '/RollbackTransaction': 'RollbackTransaction',
};

async function handle(state: DataApiState, request: IncomingMessage, response: ServerResponse) {
  const requestId = randomUUID();
  try {
    const operation = ROUTES[(request.url ?? '').split('?')[0] ?? ''];
    if (request.method !== 'POST' || !operation) {
      throw new ServiceError(
        'UnknownOperationException',
        `${request.method} ${request.url} is not supported.`,
      );
    }
    const body = await readBody(
      request,
      MAX_BODY_BYTES,
      () => new ServiceError('BadRequestException', 'The request is larger than 4 MiB.'),
    );
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body);
    } catch {
      throw new ServiceError('BadRequestException', 'The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new ServiceError('BadRequestException', 'The request body must be a JSON object.');
    }
    send(response, 200, requestId, await state.run(operation, input as Input));
  } catch (error) {
    const failure =
      error instanceof ServiceError
        ? error
        : new ServiceError('InternalServerErrorException', 'Internal error.');
    send(
      response,
      STATUS[failure.type] ?? 400,
      requestId,
      {
        message: failure.message,
        ...failure.extra,
      },
      failure.type,
    );
  }
}

function send(
  response: ServerResponse,
  status: number,
  requestId: string,
  body: Output,
  errorType?: string,
): void {
  if (response.headersSent || response.destroyed) return;
  const text = toJsonText(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(errorType !== undefined && { 'x-amzn-errortype': errorType }),
  });
  response.end(text);
}

class DataApiState {
  private readonly pools = new Map<string, pg.Pool>();
  private readonly transactions = new Map<string, Transaction>();
  private readonly types = new Map<string, TypeInfo>();
  private readonly host: string;
  private readonly port: number;
  private readonly database: string;

  constructor(private readonly options: DataApiServerOptions) {
    ({ host: this.host, port: this.port, dbname: this.database } = endpointOf(options.databaseUrl));
  }

  run(operation: string, input: Input): Promise<Output> {
    this.checkResource(input);
    switch (operation) {
      case 'ExecuteStatement':
        return this.executeStatement(input);
      case 'BeginTransaction':
        return this.beginTransaction(input);
      case 'CommitTransaction':
        return this.endTransaction(input, 'commit');
      case 'RollbackTransaction':
        return this.endTransaction(input, 'rollback');
      default:
        throw new ServiceError('UnknownOperationException', `Operation ${operation} is not supported.`);
    }
  }

  private checkResource(input: Input): void {
    const arn = requiredString(input, 'resourceArn');
    if (this.options.resourceArn !== undefined && arn !== this.options.resourceArn) {
      throw new ServiceError('NotFoundException', `DB cluster ${arn} not found.`);
    }
    requiredString(input, 'secretArn');
  }

  private async executeStatement(input: Input): Promise<Output> {
    const sql = requiredString(input, 'sql');
    const secretArn = requiredString(input, 'secretArn');
    const transactionId = optionalString(input, 'transactionId');
    const resultOptions = parseResultOptions(input['resultSetOptions']);
    const format = optionalString(input, 'formatRecordsAs') ?? 'NONE';
    if (format !== 'NONE' && format !== 'JSON') {
      throw new ServiceError('BadRequestException', `Invalid formatRecordsAs: ${format}`);
    }
    const includeMetadata = input['includeResultMetadata'] === true;
    const continueAfterTimeout = input['continueAfterTimeout'] === true;
    const query = bind(sql, input['parameters']);
    const execute = async (client: pg.ClientBase, database: string) => {
      const result = await this.withCallTimeout(client, database, secretArn, continueAfterTimeout, () =>
        client.query(query),
      );
      const types = await this.typesOf(
        client,
        database,
        result.fields.map((f) => f.dataTypeID),
      );
      return shapeResult(result, types, resultOptions, includeMetadata, format === 'JSON');
    };
    if (transactionId !== undefined) {
      const tx = this.transaction(transactionId, secretArn);
      return this.onTransaction(tx, () => execute(tx.client, tx.database));
    }
    const { pool, database } = await this.poolFor(secretArn, optionalString(input, 'database'));
    return this.withClient(pool, (client) => execute(client, database));
  }

  private async beginTransaction(input: Input): Promise<Output> {
    const secretArn = requiredString(input, 'secretArn');
    const { pool, database } = await this.poolFor(secretArn, optionalString(input, 'database'));
    const client = await this.connect(pool, async (c) => {
      await c.query('begin');
    });
    const id = randomBytes(24).toString('base64');
    const tx: Transaction = {
      id,
      secretArn,
      client,
      database,
      timer: setTimeout(() => void this.expire(id), this.transactionTimeoutMs),
      queue: Promise.resolve(),
    };
    tx.timer.unref();
    this.transactions.set(id, tx);
    return { transactionId: id };
  }

  private async endTransaction(input: Input, how: 'commit' | 'rollback'): Promise<Output> {
    const tx = this.transaction(requiredString(input, 'transactionId'), requiredString(input, 'secretArn'));
    return this.onTransaction(tx, async () => {
      this.transactions.delete(tx.id);
      clearTimeout(tx.timer);
      try {
        await tx.client.query(how);
      } catch (error) {
        tx.client.release(error as Error);
        throw error;
      }
      await release(tx.client);
      return { transactionStatus: how === 'commit' ? 'Transaction Committed' : 'Rollback Complete' };
    });
  }

  private get transactionTimeoutMs(): number {
    return this.options.transactionTimeoutMs ?? 180_000;
  }

  private transaction(id: string, secretArn: string): Transaction {
    const tx = this.transactions.get(id);
    if (!tx) throw new ServiceError('TransactionNotFoundException', `Transaction ${id} is not found`);
    if (tx.secretArn !== secretArn) {
      throw new ServiceError(
        'BadRequestException',
        'The secret does not match the one the transaction began with.',
      );
    }
    return tx;
  }

  /** Runs one call of a transaction after the previous one, and restarts its idle clock. */
  private onTransaction<T>(tx: Transaction, call: () => Promise<T>): Promise<T> {
    const run = async () => {
      // A call queued behind the commit or rollback that ended the transaction.
      if (this.transactions.get(tx.id) !== tx) {
        throw new ServiceError('TransactionNotFoundException', `Transaction ${tx.id} is not found`);
      }
      tx.timer.refresh();
      try {
        return await call();
      } catch (error) {
        throw asServiceError(error, this.options.sqlErrorType);
      } finally {
        tx.timer.refresh();
      }
    };
    const next = tx.queue.then(run, run);
    tx.queue = next.catch(() => {});
    return next;
  }

  private async expire(id: string): Promise<void> {
    const tx = this.transactions.get(id);
    if (!tx) return;
    this.transactions.delete(id);
    await tx.queue;
    try {
      await tx.client.query('rollback');
      await release(tx.client);
    } catch (error) {
      tx.client.release(error as Error);
    }
  }

  /**
   * Runs a call that is not part of a transaction on a pooled connection of the secret's user.
   * Each call leaves the connection as it found it (DISCARD ALL), as a pooler's reset would.
   */
  private async withClient<T>(pool: pg.Pool, call: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let result: T | undefined;
    const client = await this.connect(pool, async (c) => {
      result = await call(c);
    });
    await release(client);
    return result as T;
  }

  /**
   * A connection from the pool on which `first` succeeded. A pooled connection that the server
   * closed under it (a suspended user's sessions are terminated) is replaced once.
   */
  private async connect(
    pool: pg.Pool,
    first: (client: pg.PoolClient) => Promise<void>,
  ): Promise<pg.PoolClient> {
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw asServiceError(error, this.options.sqlErrorType);
      }
      try {
        await first(client);
        return client;
      } catch (error) {
        const lost = connectionLost(error);
        if (lost) client.release(error as Error);
        else void release(client);
        if (lost && attempt === 0) continue;
        throw asServiceError(error, this.options.sqlErrorType);
      }
    }
  }

  /** Runs `query`, answering StatementTimeoutException when it outlives the call timeout. */
  private withCallTimeout<T>(
    client: pg.ClientBase,
    database: string,
    secretArn: string,
    continueAfterTimeout: boolean,
    query: () => Promise<T>,
  ): Promise<T> {
    const pid = (client as unknown as { processID?: number }).processID ?? 0;
    const running = query();
    const limit = this.options.callTimeoutMs ?? 45_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new ServiceError('StatementTimeoutException', 'Request timed out', { dbConnectionId: pid }));
        if (!continueAfterTimeout) void this.cancel(secretArn, database, pid);
      }, limit);
    });
    // The statement goes on (or is cancelled) after the call answered: its connection is
    // returned to the pool only once it is done.
    busy.set(
      client,
      running.catch(() => {}),
    );
    return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  }

  /** Cancels a backend from another connection of the same user (a role may cancel its own). */
  private async cancel(secretArn: string, database: string, pid: number): Promise<void> {
    try {
      const { pool } = await this.poolFor(secretArn, database);
      await pool.query('select pg_cancel_backend($1)', [pid]);
    } catch {
      // The statement may have ended meanwhile; nothing to do.
    }
  }

  /** Type names and element types of result columns, from the catalog when not built in. */
  private async typesOf(
    client: pg.ClientBase,
    database: string,
    oids: number[],
  ): Promise<Map<number, TypeInfo>> {
    const found = new Map<number, TypeInfo>();
    const missing: number[] = [];
    for (const oid of oids) {
      const known = BUILTIN_TYPES.get(oid) ?? this.types.get(`${database}:${oid}`);
      if (known) found.set(oid, known);
      else missing.push(oid);
    }
    if (missing.length > 0) {
      const { rows } = await client.query<{ oid: string; typname: string; typelem: string }>({
        text: 'select oid, typname, typelem from pg_catalog.pg_type where oid = any($1::oid[])',
        values: [missing],
      });
      for (const row of rows) {
        const info = { typname: row.typname, elem: Number(row.typelem) };
        this.types.set(`${database}:${row.oid}`, info);
        found.set(Number(row.oid), info);
      }
    }
    return found;
  }

  /** The pool of the secret's user on the database (the request's, else the secret's, else the server's). */
  private async poolFor(
    secretArn: string,
    database: string | undefined,
  ): Promise<{ pool: pg.Pool; database: string }> {
    let found: Record<string, unknown> | undefined;
    try {
      found = (await this.options.secrets(secretArn)) as Record<string, unknown> | undefined;
    } catch {
      throw new ServiceError('SecretsErrorException', `Error fetching the secret ${secretArn}.`);
    }
    if (!found) throw new ServiceError('SecretsErrorException', `Secret ${secretArn} was not found.`);
    if (typeof found['username'] !== 'string' || typeof found['password'] !== 'string') {
      throw new ServiceError('InvalidSecretException', 'The secret has no username and password.');
    }
    const secret = found as unknown as DataApiSecret;
    const dbname = database ?? (typeof secret.dbname === 'string' ? secret.dbname : this.database);
    const key = JSON.stringify([secret.username, secret.password, dbname]);
    let pool = this.pools.get(key);
    if (pool) {
      this.pools.delete(key);
    } else {
      pool = new pg.Pool({
        host: this.host,
        port: this.port,
        database: dbname,
        user: secret.username,
        password: secret.password,
        max: 4,
        idleTimeoutMillis: 10_000,
        application_name: 'pg-cognition local data api',
        // The Data API reports timestamptz in UTC.
        options: '-c TimeZone=UTC',
        types: rawTypes,
      });
      pool.on('error', () => {});
    }
    this.pools.set(key, pool);
    while (this.pools.size > MAX_POOLS) {
      const [oldest, oldPool] = this.pools.entries().next().value as [string, pg.Pool];
      this.pools.delete(oldest);
      void oldPool.end().catch(() => {});
    }
    return { pool, database: dbname };
  }

  async close(): Promise<void> {
    for (const tx of this.transactions.values()) {
      clearTimeout(tx.timer);
      tx.client.release(new Error('server closed'));
    }
    this.transactions.clear();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
  }
}

// Statements still running on a connection after their call timed out.
const busy = new WeakMap<pg.ClientBase, Promise<unknown>>();

/** Returns a connection to its pool reset, or destroys it when it cannot be reset. */
async function release(client: pg.PoolClient): Promise<void> {
  await busy.get(client);
  try {
    await client.query('discard all');
    client.release();
  } catch (error) {
    client.release(error as Error);
  }
}

function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('57P') || code === 'ECONNRESET' || code === 'EPIPE'))
    return true;
  return error instanceof Error && /Connection terminated|not queryable/.test(error.message);
}

/** The statement with `:name` turned into `$n`, its values and the types they are bound with. */
function bind(sql: string, parameters: unknown): pg.QueryConfig {
  if (parameters !== undefined && parameters !== null && !Array.isArray(parameters)) {
    throw new ServiceError('BadRequestException', 'parameters must be a list.');
  }
  const byName = new Map<string, unknown>();
  for (const parameter of (parameters ?? []) as unknown[]) {
    const name = (parameter as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') {
      throw new ServiceError('BadRequestException', 'Each parameter needs a name.');
    }
    byName.set(name, parameter);
  }
  const values: (string | Buffer | null)[] = [];
  const oids: number[] = [];
  const index = new Map<string, number>();
  let text: string;
  try {
    text = rewriteNamed(sql, (name) => {
      const parameter = byName.get(name);
      // An unknown name stays as it is, and Postgres reports the syntax error.
      if (parameter === undefined) return `:${name}`;
      let n = index.get(name);
      if (n === undefined) {
        const { value, oid } = decodeParameter(parameter);
        values.push(value);
        oids.push(oid);
        n = values.length;
        index.set(name, n);
      }
      return `$${n}`;
    });
  } catch (error) {
    if (error instanceof BadParameter) throw new ServiceError('BadRequestException', error.message);
    throw error;
  }
  // The parameter types go to Parse; the same object gives the raw-text result parsers.
  const types = Object.assign(oids, rawTypes) as unknown as pg.CustomTypesConfig;
  return { text, values, types, rowMode: 'array', queryMode: 'extended' } as pg.QueryConfig;
}

function shapeResult(
  result: pg.QueryResult<unknown[]>,
  types: Map<number, TypeInfo>,
  options: ResultOptions,
  includeMetadata: boolean,
  asJson: boolean,
): Output {
  const fields = result.fields;
  // Statements that return rows report 0 records updated, as the Data API does for SELECT.
  const numberOfRecordsUpdated = fields.length > 0 ? 0 : (result.rowCount ?? 0);
  if (fields.length === 0) return { numberOfRecordsUpdated };
  try {
    if (asJson) {
      const objects = result.rows.map((row) => {
        const object: Record<string, Json> = {};
        fields.forEach((f, i) => {
          object[f.name] = toJsonValue(
            row[i] as string | null,
            f.dataTypeID,
            types.get(f.dataTypeID),
            options,
          );
        });
        return object;
      });
      return { formattedRecords: toJsonText(objects), numberOfRecordsUpdated };
    }
    const records = result.rows.map((row) =>
      fields.map((f, i) => toField(row[i] as string | null, f.dataTypeID, types.get(f.dataTypeID), options)),
    );
    return {
      records,
      ...(includeMetadata && {
        columnMetadata: fields.map((f) => columnMetadata(f.name, f.dataTypeID, types.get(f.dataTypeID))),
      }),
      numberOfRecordsUpdated,
    };
  } catch (error) {
    if (error instanceof UnsupportedResult)
      throw new ServiceError('UnsupportedResultException', error.message);
    throw error;
  }
}

function parseResultOptions(value: unknown): ResultOptions {
  const options = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const longReturnType = options['longReturnType'] ?? 'LONG';
  const decimalReturnType = options['decimalReturnType'] ?? 'STRING';
  if (longReturnType !== 'LONG' && longReturnType !== 'STRING') {
    throw new ServiceError('BadRequestException', `Invalid longReturnType: ${String(longReturnType)}`);
  }
  if (decimalReturnType !== 'STRING' && decimalReturnType !== 'DOUBLE_OR_LONG') {
    throw new ServiceError('BadRequestException', `Invalid decimalReturnType: ${String(decimalReturnType)}`);
  }
  return { longReturnType, decimalReturnType };
}

/**
 * A failure as the Data API reports it. Postgres errors keep pgjdbc's rendering, which the Data
 * API relays: `ERROR: <message>\n  Detail: ...\n  Hint: ...\n  Position: n; SQLState: <code>`.
 */
function asServiceError(error: unknown, sqlErrorType: DataApiServerOptions['sqlErrorType']): ServiceError {
  if (error instanceof ServiceError) return error;
  if (error instanceof pg.DatabaseError) {
    let text = `${error.severity ?? 'ERROR'}: ${error.message}`;
    if (error.detail) text += `\n  Detail: ${error.detail}`;
    if (error.hint) text += `\n  Hint: ${error.hint}`;
    if (error.position) text += `\n  Position: ${error.position}`;
    if (error.where) text += `\n  Where: ${error.where}`;
    return new ServiceError(sqlErrorType ?? 'DatabaseErrorException', `${text}; SQLState: ${error.code}`);
  }
  if (connectionLost(error) || (error as { code?: unknown } | null)?.code === 'ECONNREFUSED') {
    return new ServiceError('DatabaseUnavailableException', 'The database is unavailable.');
  }
  return new ServiceError('InternalServerErrorException', 'Internal error.');
}

function requiredString(input: Input, field: string): string {
  const value = optionalString(input, field);
  if (value === undefined || value === '')
    throw new ServiceError('BadRequestException', `${field} is required.`);
  return value;
}

function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ServiceError('BadRequestException', `${field} must be a string.`);
  return value;
}

/** Secrets from a SecretStore (ids are names; an ARN's name part is looked up too). */
export function secretsFromStore(store: Pick<SecretStore, 'get'>): SecretLookup {
  return async (secretArn) => {
    const name = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(secretArn)?.[1];
    if (name === undefined) return store.get(secretArn);
    return (await store.get(name)) ?? (await store.get(name.replace(/-[A-Za-z0-9]{6}$/, '')));
  };
}

/**
 * Secrets from a Secrets Manager endpoint (AWS, or the local Secrets Manager server), read with
 * the official client, loaded on first use.
 */
export function secretsFromSecretsManager(config: {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): SecretLookup {
  let client: Promise<{ get(id: string): Promise<string | undefined> }> | undefined;
  const open = async () => {
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const sm = new SecretsManagerClient({
      region: config.region ?? 'us-east-1',
      ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
      ...(config.credentials !== undefined && { credentials: config.credentials }),
    });
    return {
      async get(id: string) {
        try {
          return (await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString;
        } catch (error) {
          if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
          throw error;
        }
      },
    };
  };
  return async (secretArn) => {
    client ??= open();
    const text = await (await client).get(secretArn);
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
}
