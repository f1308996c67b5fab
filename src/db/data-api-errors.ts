import { CognitionError } from '../errors.js';

/**
 * A Postgres error that came back through the RDS Data API, with the fields of node-postgres's
 * DatabaseError that this package reads (`code`, `message`, `detail`, `constraint`): the rest of
 * the package maps it exactly as it maps the node-postgres driver's errors (42501 to
 * ERR_PERMISSION_DENIED, 28000 to ERR_USER_INACTIVE, `ERR_X:` messages, constraints, ...).
 */
export class DataApiDatabaseError extends Error {
  /** The SQLSTATE: from the message's `SQLState:` suffix, else inferred from the text (see below). */
  readonly code: string | undefined;
  readonly severity: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly constraint: string | undefined;
  /** The Data API exception that carried it (DatabaseErrorException, BadRequestException). */
  readonly awsError: string | undefined;

  constructor(fields: {
    message: string;
    code?: string | undefined;
    severity?: string | undefined;
    detail?: string | undefined;
    hint?: string | undefined;
    constraint?: string | undefined;
    awsError?: string | undefined;
  }) {
    super(fields.message);
    this.name = 'DataApiDatabaseError';
    this.code = fields.code;
    this.severity = fields.severity;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.constraint = fields.constraint;
    this.awsError = fields.awsError;
  }
}

/**
 * SQLSTATEs for messages that carry none (the Data API for Aurora Serverless v1 sent only the
 * text). Only errors whose wording Postgres fixes and whose mapping matters to callers are listed;
 * anything else stays without a code and is reported as it is.
 */
const BY_MESSAGE: [RegExp, string][] = [
  [/^ERR_[A-Z_]+: /, 'P0001'],
  [/^permission denied\b/, '42501'],
  [/^new row violates row-level security policy/, '42501'],
  [/^must be owner of /, '42501'],
  [/^role ".*" is not permitted to log in/, '28000'],
  [/^password authentication failed for user/, '28P01'],
  [/^duplicate key value violates unique constraint/, '23505'],
  [/violates foreign key constraint/, '23503'],
  [/violates check constraint/, '23514'],
  [/violates not-null constraint/, '23502'],
];

/**
 * Parses the Postgres part of a Data API error message. The Data API relays pgjdbc's rendering of
 * the server's error, `ERROR: <message>\n  Detail: ...\n  Hint: ...\n  Position: 15`, followed by
 * `; SQLState: 42501` (current API), or prefixed by `Database error code: 0. Message: ` (v1).
 * Returns undefined when the message is not a Postgres error.
 */
export function parseDatabaseMessage(
  text: string,
): Omit<ConstructorParameters<typeof DataApiDatabaseError>[0], 'awsError'> | undefined {
  let rest = text.replace(/^Database error code: -?\d+\. Message: /, '');
  const state = /;\s*SQLState:\s*([0-9A-Z]{5})\s*$/.exec(rest);
  if (state) rest = rest.slice(0, state.index);
  const severity = /^(ERROR|FATAL|PANIC):\s+/.exec(rest);
  if (!severity && !state) return undefined;
  if (severity) rest = rest.slice(severity[0].length);
  const [message = '', ...lines] = rest.split(/\n\s+(?=[A-Z][a-z]+(?: [A-Za-z]+)?: )/);
  const field = (label: string) =>
    lines
      .find((l) => l.startsWith(`${label}: `))
      ?.slice(label.length + 2)
      .trim();
  const code = state?.[1] ?? BY_MESSAGE.find(([pattern]) => pattern.test(message))?.[1];
  const constraint = code?.startsWith('23') ? /constraint "([^"]+)"/.exec(message)?.[1] : undefined;
  return {
    message,
    code,
    severity: severity?.[1],
    detail: field('Detail'),
    hint: field('Hint'),
    constraint,
  };
}

/** SDK errors are matched by name: two copies of the SDK in one tree have distinct classes. */
function awsErrorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

const UNAVAILABLE = new Set([
  'DatabaseUnavailableException',
  'DatabaseResumingException',
  'ServiceUnavailableError',
  'DatabaseNotFoundException',
]);

/**
 * A Data API failure as this package reports it:
 *
 * - DatabaseErrorException or BadRequestException carrying a Postgres error: DataApiDatabaseError;
 * - the database unavailable, resuming or not found: ERR_DATABASE_UNAVAILABLE;
 * - anything else (secrets, access, a lost transaction, a call that timed out, a malformed request,
 *   the network): ERR_DATA_API.
 *
 * The SDK error is summarized rather than kept as `cause`: it may hold the raw HTTP response.
 */
export function fromDataApiError(error: unknown, operation: string): Error {
  if (error instanceof DataApiDatabaseError || error instanceof CognitionError) return error;
  const name = awsErrorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'DatabaseErrorException' || name === 'BadRequestException') {
    const parsed = parseDatabaseMessage(message);
    if (parsed) return new DataApiDatabaseError({ ...parsed, awsError: name });
  }
  const metadata = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } } | null)
    ?.$metadata;
  return new CognitionError(
    UNAVAILABLE.has(name) ? 'ERR_DATABASE_UNAVAILABLE' : 'ERR_DATA_API',
    `Data API ${operation} failed: ${name}: ${message}`,
    {
      safe: false,
      details: {
        operation,
        awsError: name,
        ...(metadata?.httpStatusCode !== undefined && { httpStatusCode: metadata.httpStatusCode }),
        ...(metadata?.requestId !== undefined && { requestId: metadata.requestId }),
      },
    },
  );
}
