import { randomBytes } from 'node:crypto';
import { isCognitionError } from '../errors.js';

/**
 * What a Cognito trigger may tell the client. Cognito shows the thrown error's message to the
 * caller (`<Trigger> failed with error <message>.`) and managed login shows it above the sign-in
 * form, so every message is one of the fixed texts below: a stable code first, then short
 * user-safe text. Nothing from the event, the database or a stack ever reaches it.
 */
export const TRIGGER_ERROR_TEXT = {
  ERR_NOT_INVITED: 'this email has not been invited',
  ERR_USER_EXISTS: 'this email has already signed up',
  ERR_USER_NOT_FOUND: 'this user does not exist in the application',
  ERR_USER_INACTIVE: 'this user is suspended',
  ERR_USER_REMOVED: 'this user has been removed',
  ERR_TENANT_INACTIVE: "this user's tenant is suspended",
  ERR_INVALID_EMAIL: 'the email address is not valid',
  ERR_EMAIL_NOT_VERIFIED: 'the email address has not been verified',
  ERR_IDENTITY_MISMATCH: 'this email is linked to another sign-in',
  ERR_INVALID_EVENT: 'the request is malformed',
  ERR_UNSUPPORTED_TRIGGER: 'this trigger is not supported',
  ERR_INTERNAL: 'internal error',
} as const;

export type TriggerErrorCode = keyof typeof TRIGGER_ERROR_TEXT;

/** The names Cognito uses for the four triggers in its client-visible error messages. */
export type TriggerName = 'PreSignUp' | 'PostConfirmation' | 'PreAuthentication' | 'PreTokenGeneration';

/** An error a trigger throws on purpose; its message is `<code>: <user-safe text>`. */
export class CognitoTriggerError extends Error {
  readonly code: TriggerErrorCode;
  /** For ERR_INTERNAL: the reference logged next to the real error. */
  readonly ref: string | undefined;

  constructor(code: TriggerErrorCode, text: string = TRIGGER_ERROR_TEXT[code], ref?: string) {
    super(`${code}: ${text}`);
    this.name = 'CognitoTriggerError';
    this.code = code;
    this.ref = ref;
  }
}

export function reject(code: TriggerErrorCode, text?: string): CognitoTriggerError {
  return new CognitoTriggerError(code, text);
}

/** Writes the real cause of an ERR_INTERNAL (or any other diagnostic) to the function's log. */
export type TriggerLogger = (message: string, error: unknown) => void;

export const consoleLogger: TriggerLogger = (message, error) => console.error(message, error);

// Codes of the lower layers (CognitionError) whose meaning is safe to pass on; their own
// messages may quote input, so only the code survives and the text is ours.
const PASSED_ON: ReadonlySet<string> = new Set<TriggerErrorCode>([
  'ERR_NOT_INVITED',
  'ERR_USER_EXISTS',
  'ERR_USER_NOT_FOUND',
  'ERR_USER_INACTIVE',
  'ERR_USER_REMOVED',
  'ERR_TENANT_INACTIVE',
  'ERR_INVALID_EMAIL',
]);

/**
 * The error a trigger throws for anything that went wrong: its own rejections as they are,
 * safe codes of the lower layers with our fixed text, and everything else (database down, a
 * bug, a constraint) as ERR_INTERNAL with a random reference that is logged with the real error.
 */
export function toTriggerError(error: unknown, trigger: string, log: TriggerLogger): CognitoTriggerError {
  if (error instanceof CognitoTriggerError) return error;
  if (isCognitionError(error) && PASSED_ON.has(error.code)) {
    return new CognitoTriggerError(error.code as TriggerErrorCode);
  }
  const ref = randomBytes(8).toString('hex');
  try {
    log(`pg-cognition: ${trigger} trigger failed: ERR_INTERNAL ref ${ref}`, error);
  } catch {
    // A failing logger must not turn a clean rejection into a crash.
  }
  return new CognitoTriggerError('ERR_INTERNAL', `${TRIGGER_ERROR_TEXT.ERR_INTERNAL} (ref ${ref})`, ref);
}

const SAFE_MESSAGE = /^ERR_[A-Z_]+: [^\n]*$/;

/**
 * The text Cognito gives the client when a trigger fails (`UserLambdaValidationException`):
 * `<Trigger> failed with error <message>.`. A message that is not in the trigger errors'
 * `CODE: text` form is replaced by a generic one, so that nothing else can leak through.
 */
export function toCognitoErrorMessage(triggerName: TriggerName | string, error: unknown): string {
  const message = error instanceof Error ? error.message : undefined;
  const safe =
    message !== undefined && SAFE_MESSAGE.test(message)
      ? message
      : `ERR_INTERNAL: ${TRIGGER_ERROR_TEXT.ERR_INTERNAL}`;
  return `${triggerName} failed with error ${safe}.`;
}

/** The trigger a `triggerSource` belongs to, or undefined for sources these handlers do not serve. */
export function triggerNameOf(triggerSource: unknown): TriggerName | undefined {
  switch (triggerSource) {
    case 'PreSignUp_SignUp':
    case 'PreSignUp_AdminCreateUser':
    case 'PreSignUp_ExternalProvider':
      return 'PreSignUp';
    case 'PostConfirmation_ConfirmSignUp':
    case 'PostConfirmation_ConfirmForgotPassword':
      return 'PostConfirmation';
    case 'PreAuthentication_Authentication':
      return 'PreAuthentication';
    case 'TokenGeneration_HostedAuth':
    case 'TokenGeneration_Authentication':
    case 'TokenGeneration_NewPasswordChallenge':
    case 'TokenGeneration_AuthenticateDevice':
    case 'TokenGeneration_RefreshTokens':
    case 'TokenGeneration_ClientCredentials':
      return 'PreTokenGeneration';
    default:
      return undefined;
  }
}
