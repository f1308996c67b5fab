import { randomBytes } from 'node:crypto';
import { CognitionError, pgErrorOf } from '../errors.js';
import type { DataSourceLogger } from './types.js';

/** The `errorType`s this data source gives AppSync (stable; clients may branch on them). */
export type AppSyncErrorType =
  | 'Unauthorized'
  | 'ConstraintViolation'
  | 'ResolverNotFound'
  | 'BadRequest'
  | 'IdentityProviderError'
  | 'InternalError';

/**
 * An error as AppSync shows it to the client: for Invoke, AppSync takes `errorType` and
 * `errorMessage` from the thrown error's `name` and `message`; for BatchInvoke the item carries
 * them. The message is always a fixed text of ours (a stable code first), never SQL, a stack
 * or a driver message. Resolver parameter functions may throw one to reject a request.
 */
export class AppSyncError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = errorType;
  }
}

export const consoleLog: DataSourceLogger = (message, error) => console.error(message, error);

export function unauthorized(message = 'ERR_UNAUTHORIZED: not authorized', cause?: unknown): AppSyncError {
  return new AppSyncError('Unauthorized', message, { cause });
}

export function badRequest(message: string): AppSyncError {
  return new AppSyncError('BadRequest', message);
}

// The caller may not act at all (any more): inactive, removed, or its credentials are gone.
const INACTIVE: ReadonlySet<string> = new Set([
  'ERR_USER_INACTIVE',
  'ERR_USER_REMOVED',
  'ERR_USER_NOT_FOUND',
  'ERR_SECRET_NOT_FOUND',
]);
// Raised by the package's own input validation (e.g. in a resolver's params): the message is ours.
const INVALID_INPUT: ReadonlySet<string> = new Set([
  'ERR_INVALID_EMAIL',
  'ERR_INVALID_ROLE',
  'ERR_INVALID_NAME',
  'ERR_INVALID_ARGUMENT',
]);
const CONSTRAINTS: ReadonlySet<string> = new Set(['23505', '23503', '23514', '23502']);
// Data exceptions that an argument's value causes (bad text for a type, out of range, too long).
// 22021: a NUL byte or invalid encoding in text.
const BAD_VALUES: ReadonlySet<string> = new Set(['22P02', '22003', '22001', '22007', '22008', '22021']);

/**
 * What the client may learn of a failure. Denials by the database (SQLSTATE 42501, RLS,
 * ERR_PERMISSION_DENIED) and inactive users become `Unauthorized`; constraint violations a
 * `ConstraintViolation` naming the constraint; bad argument values a `BadRequest`; anything
 * else an `InternalError` whose id is logged with the real error.
 */
export function toAppSyncError(error: unknown, where: string, log: DataSourceLogger): AppSyncError {
  if (error instanceof AppSyncError) return error;
  if (error instanceof CognitionError) {
    if (error.code === 'ERR_PERMISSION_DENIED') return permissionDenied(error);
    if (error.code === 'ERR_STATEMENT_REFUSED') {
      log(`statement refused in ${where}`, error);
      return unauthorized('ERR_STATEMENT_REFUSED: not authorized', error);
    }
    if (INACTIVE.has(error.code)) return inactive(error);
    const cause = pgErrorOf(error.cause);
    if (cause) return fromPg(error.cause, cause, where, log);
    if (INVALID_INPUT.has(error.code)) return badRequest(`${error.code}: ${error.message}`);
    if (error.code === 'ERR_IDENTITY_PROVIDER') {
      log(`identity provider failure in ${where}`, error);
      return new AppSyncError('IdentityProviderError', `${error.code}: ${error.message}`);
    }
    return internal(error, where, log);
  }
  const pg = pgErrorOf(error);
  if (pg) return fromPg(error, pg, where, log);
  return internal(error, where, log);
}

function fromPg(
  error: unknown,
  pg: { code?: string; message: string; constraint?: string },
  where: string,
  log: DataSourceLogger,
): AppSyncError {
  const code = pg.code ?? '';
  // Raised by pg-cognition's own functions as `ERR_X: text`.
  if (pg.message.startsWith('ERR_PERMISSION_DENIED:')) return permissionDenied(error);
  if (/^ERR_USER_(INACTIVE|REMOVED):/.test(pg.message)) return inactive(error);
  if (code === '42501') return permissionDenied(error);
  // 28000: the login role may not log in (credentials mode, suspended since the lookup).
  if (code === '28000') return inactive(error);
  if (CONSTRAINTS.has(code)) {
    const name = pg.constraint ?? notNullName(error) ?? 'constraint';
    return new AppSyncError('ConstraintViolation', `ERR_CONSTRAINT: ${name} violated`, { cause: error });
  }
  if (BAD_VALUES.has(code)) {
    return new AppSyncError('BadRequest', 'ERR_INVALID_ARGUMENT: an argument has an invalid value', {
      cause: error,
    });
  }
  return internal(error, where, log);
}

/** Postgres reports no constraint name for a NOT NULL violation; this is the one it gives them (PG 18). */
function notNullName(error: unknown): string | undefined {
  const { table, column } = error as { table?: unknown; column?: unknown };
  if (typeof column !== 'string') return undefined;
  return typeof table === 'string' ? `${table}_${column}_not_null` : `${column}_not_null`;
}

function permissionDenied(cause: unknown): AppSyncError {
  return unauthorized('ERR_PERMISSION_DENIED: permission denied', cause);
}

function inactive(cause: unknown): AppSyncError {
  return unauthorized('ERR_USER_INACTIVE: this user is not active', cause);
}

/** A masked error; its id is logged with the real one. */
export function internal(error: unknown, where: string, log: DataSourceLogger): AppSyncError {
  const id = randomBytes(8).toString('hex');
  try {
    log(`pg-cognition appsync: ${where} failed: InternalError id ${id}`, error);
  } catch {
    // A failing logger must not turn the masked error into a crash.
  }
  return new AppSyncError('InternalError', `ERR_INTERNAL: Internal error (id ${id})`, { cause: error });
}
