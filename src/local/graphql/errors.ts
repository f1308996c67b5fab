import type { GraphQLError } from 'graphql';

/**
 * Errors in the shapes AppSync returns them.
 *
 * - Resolver errors (data source errors, denied fields) carry every key AppSync sends:
 *   `{ path, data, errorType, errorInfo, locations: [{ line, column, sourceName }], message }`
 *   (graphql-response-direct-lambda-error.json).
 * - Errors of the request itself (syntax, validation, variable values) and of the GraphQL engine
 *   (non-null violations, serialization) have `{ path, locations, message }`, as AppSync's.
 * - Errors before execution (authentication, bad HTTP requests) are `{ errorType, message }`
 *   with no `data` key.
 */

/** A field error raised by a resolver, with AppSync's `errorType` and optional `data` / `errorInfo`. */
export class AppSyncError extends Error {
  readonly errorType: string | null;
  readonly data: unknown;
  readonly errorInfo: unknown;

  constructor(
    message: string,
    errorType: string | null,
    options: { data?: unknown; errorInfo?: unknown } = {},
  ) {
    super(message);
    this.name = 'AppSyncError';
    this.errorType = errorType;
    this.data = options.data ?? null;
    this.errorInfo = options.errorInfo ?? null;
  }
}

/** AppSync's message for a data source error of type UnauthorizedException, whatever the Lambda said. */
export const UNAUTHORIZED_CALL_MESSAGE = 'You are not authorized to make this call.';

/** The error of a field that the caller's auth mode or groups may not resolve. */
export function notAuthorizedToAccess(fieldName: string, typeName: string): AppSyncError {
  return new AppSyncError(`Not Authorized to access ${fieldName} on type ${typeName}`, 'Unauthorized');
}

/** A thrown data source error as AppSync reports it: errorType = error name, message = error message. */
export function fromDataSourceError(error: unknown): AppSyncError {
  if (error instanceof AppSyncError) return error;
  const errorType = error instanceof Error ? error.name || 'Error' : 'Lambda:Unhandled';
  const message = error instanceof Error ? error.message : String(error);
  return new AppSyncError(
    errorType === 'UnauthorizedException' ? UNAUTHORIZED_CALL_MESSAGE : message,
    errorType,
  );
}

export interface AppSyncLocation {
  line: number;
  column: number;
  sourceName: null;
}

export interface AppSyncGraphqlError {
  path: ReadonlyArray<string | number> | null;
  data?: unknown;
  errorType?: string | null;
  errorInfo?: unknown;
  locations: AppSyncLocation[] | null;
  message: string;
}

export function formatError(error: GraphQLError): AppSyncGraphqlError {
  const path = error.path ?? null;
  const locations = error.locations?.map(({ line, column }) => ({ line, column, sourceName: null })) ?? null;
  const original = error.originalError;
  if (original instanceof AppSyncError) {
    return {
      path,
      data: original.data,
      errorType: original.errorType,
      errorInfo: original.errorInfo,
      locations,
      message: original.message,
    };
  }
  return { path, locations, message: error.message };
}

/** The body of an error response that stops a request before execution (401, 400, ...). */
export function requestErrorBody(
  errorType: string,
  message: string,
): { errors: Array<{ errorType: string; message: string }> } {
  return { errors: [{ errorType, message }] };
}
