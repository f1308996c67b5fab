import { describe, expect, it } from 'vitest';
import {
  DataApiDatabaseError,
  fromDataApiError,
  parseDatabaseMessage,
} from '../../src/db/data-api-errors.js';
import { CognitionError, fromPgError, isCognitionError } from '../../src/errors.js';

// Data API error messages as users have recorded them (AWS documents the exceptions, not the
// message text):
// - current API: "ERROR: permission denied for table clients; SQLState: 42501", and with pgjdbc's
//   detail lines ("\n  Hint: ...\n  Position: 327") before the SQLState;
// - Aurora Serverless v1, BadRequestException: "ERROR: operator does not exist: uuid = character
//   varying\n  Hint: No operator matches ...\n  Position: 613"
//   (github.com/ArsenyYankovsky/typeorm-aurora-data-api-driver/issues/81), and
//   "Database error code: 0. Message: ERROR: column \"id\" is of type uuid but expression is of
//   type character varying" (github.com/koxudaxi/local-data-api/issues/137).
// Exceptions: https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_Errors

/** An SDK exception as the client throws it (matched by name, like the driver does). */
function sdkError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  Object.assign(error, { $metadata: { httpStatusCode: 400, requestId: 'r-1' } });
  return error;
}

describe('parseDatabaseMessage', () => {
  it('reads the SQLState suffix and the detail lines', () => {
    expect(parseDatabaseMessage('ERROR: permission denied for table clients; SQLState: 42501')).toEqual({
      message: 'permission denied for table clients',
      code: '42501',
      severity: 'ERROR',
      detail: undefined,
      hint: undefined,
      constraint: undefined,
    });
    expect(
      parseDatabaseMessage(
        'ERROR: duplicate key value violates unique constraint "users_email_key"\n  Detail: Key (email)=(a@b.c) already exists.; SQLState: 23505',
      ),
    ).toMatchObject({
      message: 'duplicate key value violates unique constraint "users_email_key"',
      code: '23505',
      detail: 'Key (email)=(a@b.c) already exists.',
      constraint: 'users_email_key',
    });
    expect(
      parseDatabaseMessage(
        'ERROR: operator does not exist: character varying = uuid\n  Hint: No operator matches the given name and argument types. You might need to add explicit type casts.\n  Position: 327; SQLState: 42883',
      ),
    ).toMatchObject({
      message: 'operator does not exist: character varying = uuid',
      code: '42883',
      hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.',
    });
  });

  it('infers the SQLSTATE of the v1 messages that carry none, only where Postgres fixes the wording', () => {
    expect(
      parseDatabaseMessage(
        'Database error code: 0. Message: ERROR: column "id" is of type uuid but expression is of type character varying',
      ),
    ).toMatchObject({
      message: 'column "id" is of type uuid but expression is of type character varying',
      code: undefined,
    });
    expect(parseDatabaseMessage('ERROR: permission denied for schema tenant_x')?.code).toBe('42501');
    expect(
      parseDatabaseMessage('ERROR: new row violates row-level security policy for table "notes"')?.code,
    ).toBe('42501');
    expect(parseDatabaseMessage('FATAL: role "u_x" is not permitted to log in')).toMatchObject({
      code: '28000',
      severity: 'FATAL',
    });
    expect(parseDatabaseMessage('ERROR: ERR_NOT_INVITED: this email has not been invited')?.code).toBe(
      'P0001',
    );
    expect(
      parseDatabaseMessage(
        'ERROR: new row for relation "notes" violates check constraint "notes_title_check"',
      ),
    ).toMatchObject({ code: '23514', constraint: 'notes_title_check' });
    expect(parseDatabaseMessage('Request timed out')).toBeUndefined();
  });
});

describe('fromDataApiError', () => {
  it('turns Postgres errors into errors the package maps like node-postgres errors', () => {
    const denied = fromDataApiError(
      sdkError('DatabaseErrorException', 'ERROR: permission denied for table notes; SQLState: 42501'),
      'ExecuteStatement',
    );
    expect(denied).toBeInstanceOf(DataApiDatabaseError);
    expect(fromPgError(denied)).toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    const constraint = fromDataApiError(
      sdkError(
        'BadRequestException',
        'ERROR: new row for relation "notes" violates check constraint "notes_title_check"',
      ),
      'ExecuteStatement',
    );
    expect(fromPgError(constraint)).toMatchObject({
      code: 'ERR_CONSTRAINT',
      details: { constraint: 'notes_title_check', sqlstate: '23514' },
    });
    const own = fromDataApiError(
      sdkError(
        'DatabaseErrorException',
        'ERROR: ERR_TENANT_INACTIVE: this tenant is suspended; SQLState: P0001',
      ),
      'ExecuteStatement',
    );
    expect(fromPgError(own)).toMatchObject({
      code: 'ERR_TENANT_INACTIVE',
      message: 'this tenant is suspended',
    });
  });

  it('reports the service failures with stable codes, never the SDK error itself', () => {
    const unavailable = fromDataApiError(
      sdkError('DatabaseResumingException', 'resuming'),
      'BeginTransaction',
    );
    expect(isCognitionError(unavailable, 'ERR_DATABASE_UNAVAILABLE')).toBe(true);
    for (const name of [
      'StatementTimeoutException',
      'SecretsErrorException',
      'AccessDeniedException',
      'TransactionNotFoundException',
      'BadRequestException',
    ]) {
      const error = fromDataApiError(sdkError(name, 'Request timed out'), 'ExecuteStatement');
      expect(isCognitionError(error, 'ERR_DATA_API'), name).toBe(true);
      expect((error as CognitionError).safe).toBe(false);
      expect((error as CognitionError).details).toEqual({
        operation: 'ExecuteStatement',
        awsError: name,
        httpStatusCode: 400,
        requestId: 'r-1',
      });
      expect(error.cause).toBeUndefined();
    }
  });
});
