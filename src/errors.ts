/**
 * Every error pg-cognition raises on purpose carries a stable string code. Callers branch on
 * `code`, never on message text; messages may improve over time, codes may not change.
 */
export type ErrorCode =
  | 'ERR_INVALID_SLUG'
  | 'ERR_INVALID_NAME'
  | 'ERR_INVALID_EMAIL'
  | 'ERR_INVALID_ROLE'
  | 'ERR_ROLE_IN_USE'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_TENANT_EXISTS'
  | 'ERR_TENANT_NOT_FOUND'
  | 'ERR_TENANT_INACTIVE'
  | 'ERR_USER_EXISTS'
  | 'ERR_USER_NOT_FOUND'
  | 'ERR_NOT_INVITED'
  | 'ERR_USER_INACTIVE'
  | 'ERR_USER_REMOVED'
  | 'ERR_INVALID_TRANSITION'
  | 'ERR_PERMISSION_DENIED'
  | 'ERR_CONSTRAINT'
  | 'ERR_SQL'
  | 'ERR_SECRET_NOT_FOUND'
  | 'ERR_SECRET_STORE'
  | 'ERR_MIGRATION_FAILED'
  | 'ERR_MIGRATION_CHECKSUM'
  | 'ERR_TEMPLATE_MIGRATION_FAILED'
  | 'ERR_TEMPLATE_MISSING'
  | 'ERR_CLONE_FAILED'
  | 'ERR_DATABASE_UNAVAILABLE'
  | 'ERR_DATA_API'
  | 'ERR_CONFIG'
  | 'ERR_USAGE'
  | 'ERR_INVALID_TOKEN'
  | 'ERR_UNSUPPORTED_TRIGGER'
  | 'ERR_INTERNAL'
  | 'ERR_EMAIL_NOT_VERIFIED'
  | 'ERR_IDENTITY_MISMATCH'
  | 'ERR_IDENTITY_PROVIDER'
  | 'ERR_INVALID_EVENT'
  | 'ERR_STATEMENT_REFUSED';

export class CognitionError extends Error {
  readonly code: ErrorCode;
  /** Safe errors may be shown to API clients as they are; the rest are masked there. */
  readonly safe: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { safe?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CognitionError';
    this.code = code;
    this.safe = options.safe ?? true;
    this.details = options.details;
  }
}

export function isCognitionError(error: unknown, code?: ErrorCode): error is CognitionError {
  return error instanceof CognitionError && (code === undefined || error.code === code);
}

/** The fields of a node-postgres DatabaseError that this package reads. */
export interface PgErrorFields {
  code?: string;
  message: string;
  constraint?: string;
  detail?: string;
}

export function pgErrorOf(error: unknown): PgErrorFields | undefined {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return error as PgErrorFields;
  }
  return undefined;
}

/**
 * Errors raised by pg-cognition's own SQL functions put the stable code first in the message
 * (`ERR_X: text`) and use SQLSTATE class P0; this maps them back to a CognitionError.
 */
export function fromPgError(error: unknown): unknown {
  const pg = pgErrorOf(error);
  if (!pg) return error;
  const match = /^(ERR_[A-Z_]+): (.*)$/s.exec(pg.message);
  if (match) {
    return new CognitionError(match[1] as ErrorCode, match[2] ?? pg.message, { cause: error });
  }
  if (pg.code === '42501') {
    return new CognitionError('ERR_PERMISSION_DENIED', pg.message, { cause: error });
  }
  if (pg.code === '23505' || pg.code === '23514' || pg.code === '23503' || pg.code === '23502') {
    return new CognitionError('ERR_CONSTRAINT', pg.message, {
      cause: error,
      details: { constraint: pg.constraint, sqlstate: pg.code },
    });
  }
  return error;
}
