import { createHash } from 'node:crypto';
import pg from 'pg';
import { CognitionError } from '../errors.js';
import type { ExecResult, RunAs } from './executor.js';

// The first statement of a request. On the authenticator's shared connections (role switch)
// everything is set with is_local = true and ends with the transaction, so nothing a request
// sets, or a statement changes, can reach the next request. A credentials-mode connection
// serves only its own user, so there the search_path stays set for the session and is sent
// only when it changes; the claims are still per transaction.
function settings(role: boolean, path: boolean, claims: boolean): { name: string; text: string } {
  const calls = [
    role ? "set_config('role', $, true)" : '',
    path ? `set_config('search_path', $, ${role ? 'true' : 'false'})` : '',
    claims ? "set_config('request.jwt.claims', $, true)" : '',
  ].filter(Boolean);
  return {
    name: `cognition_settings_${Number(role)}${Number(path)}${Number(claims)}`,
    text: `select ${calls.map((call, i) => call.replace('$', `$${i + 1}`)).join(', ')}`,
  };
}
const SETTINGS = new Map<string, { name: string; text: string }>();
for (const role of [false, true])
  for (const path of [false, true])
    for (const claims of [false, true]) SETTINGS.set(`${role}${path}${claims}`, settings(role, path, claims));

/** The parts of pg's Connection (protocol writer) that a request writes to. */
interface Wire {
  parse(msg: { text: string; name: string; types: number[] }): void;
  close(msg: { type: 'S'; name: string }): void;
  /** pg's own record of the statements prepared (or being prepared) on the connection. */
  parsedStatements: Record<string, string>;
  submittedNamedStatements: Record<string, string>;
  bind(msg: {
    portal: string;
    statement: string;
    values: unknown[];
    valueMapper: (v: unknown) => unknown;
  }): void;
  execute(msg: { portal: string; rows: number }): void;
}

/** The parts of pg's Query this subclass extends (not in its public typings). */
interface QueryInternals {
  prepare(connection: Wire): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, connection: Wire): void;
}

// Connections on which the first statement is known to be prepared, by statement name.
const prepared = new WeakMap<object, Set<string>>();

// The users' statements prepared on each shared connection, least recently used first. They are
// named per schema (see statementIn), so a connection that serves many tenants would keep one
// per tenant and statement for its lifetime, and so would its backend; past this many, the
// least recently used is closed in the same exchange.
export const MAX_PREPARED_PER_CONNECTION = 1000;
const userStatements = new WeakMap<object, Map<string, true>>();

function notePrepared(connection: Wire, name: string): void {
  let names = userStatements.get(connection);
  if (!names) userStatements.set(connection, (names = new Map()));
  if (names.delete(name)) {
    names.set(name, true);
    return;
  }
  names.set(name, true);
  if (names.size <= MAX_PREPARED_PER_CONNECTION) return;
  const oldest = names.keys().next().value as string;
  names.delete(oldest);
  // Closing a statement that failed to parse is not an error; Close runs before anything of
  // this exchange can fail, so the statement is gone even if the request then fails.
  connection.close({ type: 'S', name: oldest });
  delete connection.parsedStatements[oldest];
  delete connection.submittedNamedStatements[oldest];
}

type Callback = (error: Error | null, result?: pg.QueryResult) => void;

const QueryBase = pg.Query as unknown as new (
  config: pg.QueryConfig,
  values: undefined,
  callback: Callback,
) => QueryInternals;

/**
 * One request as one extended-protocol exchange: Bind/Execute of the settings statement,
 * Parse/Bind/Describe/Execute of the user's statement, then a single Sync. Everything before a
 * Sync runs in one implicit transaction, so the role and search_path apply to the statement
 * and vanish at its commit, in one round trip and without BEGIN/COMMIT messages. If the
 * settings fail, the server skips the statement.
 */
class RequestQuery extends QueryBase {
  /** 0 until the settings statement completes; its row is not part of the result. */
  private stage = 0;
  /** True when this request sent the Parse of the settings statement. */
  parsedFirst = false;

  constructor(
    private readonly first: { name: string; text: string },
    private readonly firstValues: unknown[],
    /** The statement is named per schema: count it in the connection's statements. */
    private readonly perSchema: boolean,
    config: pg.QueryConfig,
    callback: Callback,
  ) {
    super(config, undefined, callback);
  }

  override prepare(connection: Wire): void {
    if (this.perSchema) notePrepared(connection, (this as unknown as Statement).name);
    let names = prepared.get(connection);
    if (!names) prepared.set(connection, (names = new Set()));
    if (!names.has(this.first.name)) {
      connection.parse({ text: this.first.text, name: this.first.name, types: [] });
      this.parsedFirst = true;
    }
    connection.bind({
      portal: '',
      statement: this.first.name,
      values: this.firstValues,
      valueMapper: (v) => v,
    });
    connection.execute({ portal: '', rows: 0 });
    super.prepare(connection);
  }

  override handleDataRow(msg: unknown): void {
    if (this.stage === 1) super.handleDataRow(msg);
  }

  override handleCommandComplete(msg: unknown, connection: Wire): void {
    if (this.stage === 0) {
      this.stage = 1;
      return;
    }
    super.handleCommandComplete(msg, connection);
  }

  /** Called once the whole exchange succeeded: the settings statement now exists there. */
  markPrepared(connection: object): void {
    prepared.get(connection)?.add(this.first.name);
  }

  get failedInSettings(): boolean {
    return this.stage === 0;
  }
}

/** A statement's name and text, shared by every query config of that statement (their prototype). */
interface Statement {
  readonly name: string;
  readonly text: string;
}

const statements = new Map<string, Statement & { inSchemas?: Map<string, Statement> }>();

/**
 * Statement names are derived from the text, so each distinct statement is parsed once per
 * connection. A query's config carries only its values and inherits name and text: pg copies
 * every config by property descriptors, whose cost grows with the own properties.
 */
function statementOf(sql: string): Statement & { inSchemas?: Map<string, Statement> } {
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = { name: `cg_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`, text: sql };
    // Resolver SQL is a fixed set; anything beyond that (ad hoc statements) is not worth keeping.
    if (statements.size < 10_000) statements.set(sql, statement);
  }
  return statement;
}

/**
 * The statement as prepared for one schema. A prepared statement keeps the types its text
 * resolved to when it was parsed: in another tenant's schema the same text can mean another
 * enum or domain (each tenant has its own copy of the template's types), and Postgres then
 * refuses it ("cached plan must not change result type", or a parameter of the first tenant's
 * type compared with the second's column). Named per schema, each tenant's statement is
 * parsed, and planned, for that tenant, and is not planned again when the connection moves
 * between tenants.
 */
function statementIn(sql: string, schema: string): Statement {
  const base = statementOf(sql);
  let inSchemas = base.inSchemas;
  if (inSchemas === undefined) base.inSchemas = inSchemas = new Map();
  let statement = inSchemas.get(schema);
  if (statement === undefined) {
    // Postgres keeps only the first 63 bytes of a statement's name: the schema goes in hashed,
    // or two long tenant names with a common start would name the same statement.
    statement = {
      name: `${base.name}_${createHash('sha1').update(schema).digest('hex').slice(0, 16)}`,
      text: sql,
    };
    if (inSchemas.size < 100_000) inSchemas.set(schema, statement);
  }
  return statement;
}

export interface RequestOutcome<R> {
  result?: ExecResult<R>;
  error?: unknown;
  /** The connection's prepared-statement state is unknown: do not reuse it. */
  discard: boolean;
  /** Nothing ran (the connection lost its prepared statements): safe to try on another. */
  retry?: boolean;
}

// The transaction status of each connection, from its last ReadyForQuery ('I' idle, 'T' in a
// transaction block, 'E' in a failed one). A statement such as `begin` would otherwise leave a
// shared connection inside a transaction that the next request, another user's, would join.
const transactionStatus = new WeakMap<object, string>();

function watchTransactionStatus(connection: object): void {
  if (transactionStatus.has(connection)) return;
  transactionStatus.set(connection, 'I');
  // Prepended, so the status is known before pg's own handler completes the query.
  (connection as NodeJS.EventEmitter).prependListener('readyForQuery', (message: { status?: string }) => {
    transactionStatus.set(connection, message.status ?? 'I');
  });
}

/** False when the connection was left in a transaction block: it must not serve another request. */
export function connectionIsIdle(client: pg.ClientBase): boolean {
  const connection = (client as unknown as { connection: object }).connection;
  return (transactionStatus.get(connection) ?? 'I') === 'I';
}

// SQLSTATEs of the settings statement that mean "this role cannot be assumed".
const CANNOT_ASSUME = new Set(['42501', '22023', '28000', '42704']);

// The search_path each credentials-mode connection holds for its session, once known.
const sessionPaths = new WeakMap<object, string>();

/** What a finished exchange means for the request and for its connection. */
function outcomeOf<R>(
  query: RequestQuery | pg.Query,
  connection: object,
  switchRole: boolean,
  searchPath: string,
  error: Error | null,
  result: pg.QueryResult | undefined,
): RequestOutcome<R> {
  if (error) {
    // A failed exchange that carried the settings Parse may or may not have created
    // the statement; such a connection is retired rather than guessed about.
    // So is one whose prepared statements were deallocated under it (26000).
    const discard =
      (query instanceof RequestQuery && query.parsedFirst) ||
      !(error instanceof pg.DatabaseError) ||
      error.code === '26000';
    const reported =
      query instanceof RequestQuery &&
      query.failedInSettings &&
      error instanceof pg.DatabaseError &&
      CANNOT_ASSUME.has(error.code ?? '')
        ? new CognitionError('ERR_USER_INACTIVE', 'this user cannot be assumed (suspended or removed)', {
            cause: error,
          })
        : error;
    return {
      error: reported,
      discard,
      retry: error instanceof pg.DatabaseError && error.code === '26000',
    };
  }
  if (query instanceof RequestQuery) query.markPrepared(connection);
  if (!switchRole) sessionPaths.set(connection, searchPath);
  const r = result as pg.QueryResult;
  return {
    result: {
      rows: r.rows as R[],
      fields: r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      rowCount: r.rowCount,
      command: r.command,
    },
    discard: transactionStatus.get(connection) !== 'I',
  };
}

/**
 * Runs one statement as `as` on `client`: with `switchRole`, the session (the authenticator)
 * switches to the user's role for this transaction only; without, the login role is the user.
 */
export function runRequest<R>(
  client: pg.ClientBase,
  switchRole: boolean,
  as: RunAs,
  sql: string,
  params: readonly unknown[],
): Promise<RequestOutcome<R>> {
  const searchPath = as.schema ? pg.escapeIdentifier(as.schema) : '';
  // On a shared connection the claims are always set, so that no earlier statement's
  // session-level value can stand in for this request's.
  const claims = as.claims === undefined ? (switchRole ? '' : undefined) : JSON.stringify(as.claims);
  const connection = (client as unknown as { connection: object }).connection;
  watchTransactionStatus(connection);
  const setPath = switchRole || sessionPaths.get(connection) !== searchPath;
  let first: { name: string; text: string } | undefined;
  const firstValues: unknown[] = [];
  if (switchRole || setPath || claims !== undefined) {
    first = SETTINGS.get(`${switchRole}${setPath}${claims !== undefined}`);
    if (switchRole) firstValues.push(as.dbUsername);
    if (setPath) firstValues.push(searchPath);
    if (claims !== undefined) firstValues.push(claims);
    // Unknown until this request commits.
    if (setPath && !switchRole) sessionPaths.delete(connection);
  }
  // A credentials-mode connection serves one user, so one schema: the text alone names it.
  const perSchema = switchRole && searchPath !== '';
  const statement = perSchema ? statementIn(sql, searchPath) : statementOf(sql);
  const config = Object.create(statement) as pg.QueryConfig;
  config.values = params as unknown[];
  return new Promise((resolve) => {
    // Unnamed callbacks: tsx, which runs the local stack, names every function bound to a
    // name each time one is created (a property definition, about 0.5 µs per request).
    const query: RequestQuery | pg.Query = first
      ? new RequestQuery(first, firstValues, perSchema, config, (error, result) =>
          resolve(outcomeOf<R>(query, connection, switchRole, searchPath, error, result)),
        )
      : new pg.Query({
          ...statement,
          values: config.values,
          callback: (error: Error | null, result?: pg.QueryResult) =>
            resolve(outcomeOf<R>(query, connection, switchRole, searchPath, error, result)),
        } as pg.QueryConfig);
    // A Submittable is driven through its callback; query() returns it, not a promise.
    client.query(query as unknown as pg.Submittable);
  });
}
