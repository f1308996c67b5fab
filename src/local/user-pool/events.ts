import { CognitoError } from './errors.js';

/** The trigger names Cognito uses in its error messages. */
export type TriggerName = 'PreSignUp' | 'PostConfirmation' | 'PreAuthentication' | 'PreTokenGeneration';

export type TriggerSource =
  | 'PreSignUp_SignUp'
  | 'PreSignUp_AdminCreateUser'
  | 'PostConfirmation_ConfirmSignUp'
  | 'PostConfirmation_ConfirmForgotPassword'
  | 'PreAuthentication_Authentication'
  | 'TokenGeneration_Authentication'
  | 'TokenGeneration_RefreshTokens'
  | 'TokenGeneration_NewPasswordChallenge';

/**
 * A user pool trigger event, as Cognito sends it to a Lambda function: the common envelope; the
 * `request` and `response` fields depend on the trigger (see the fixtures in
 * `fixtures/cognito/`). Kept structural so that handlers typed with `@types/aws-lambda` fit.
 */
export interface CognitoTriggerEvent {
  version: string;
  triggerSource: string;
  region: string;
  userPoolId: string;
  userName: string;
  callerContext: { awsSdkVersion: string; clientId: string };
  request: object;
  response: object;
}

/**
 * The function the pool calls for every trigger, in process. Like a Lambda function it returns
 * the event with its `response` filled in (or the event unchanged for the default behaviour).
 */
export type TriggerFunction = (event: CognitoTriggerEvent) => Promise<unknown>;

/** What admin operations send as `callerContext.clientId`. */
export const ADMIN_CLIENT_ID = 'CLIENT_ID_NOT_APPLICABLE';

export interface TriggerCall {
  trigger: TriggerName;
  source: TriggerSource;
  /** "1" for every trigger except pre token generation V2. */
  version?: '1' | '2';
  userName: string;
  clientId: string;
  sdkVersion: string;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
}

/**
 * Calls the trigger function the way Cognito calls Lambda triggers: with a copy of the event,
 * within 5 seconds, turning a thrown error into UserLambdaValidationException
 * (`<Trigger> failed with error <message>.`), a reply that is not an event into
 * InvalidLambdaResponseException, and a timeout into UnexpectedLambdaException. Returns the
 * reply's `response` (the pre-filled one when no function is configured).
 */
export class TriggerRunner {
  constructor(
    private readonly fn: TriggerFunction | undefined,
    private readonly envelope: { region: string; userPoolId: string },
    private readonly timeoutMs: number,
  ) {}

  get configured(): boolean {
    return this.fn !== undefined;
  }

  async run(call: TriggerCall): Promise<Record<string, unknown>> {
    if (!this.fn) return call.response;
    const event: CognitoTriggerEvent = structuredClone({
      version: call.version ?? '1',
      triggerSource: call.source,
      region: this.envelope.region,
      userPoolId: this.envelope.userPoolId,
      userName: call.userName,
      callerContext: { awsSdkVersion: call.sdkVersion, clientId: call.clientId },
      request: call.request,
      response: call.response,
    });
    const fn = this.fn;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CognitoError(
              'UnexpectedLambdaException',
              `${call.trigger} invocation failed due to error TaskTimedOut.`,
            ),
          ),
        this.timeoutMs,
      );
    });
    let reply: unknown;
    try {
      reply = await Promise.race([
        Promise.resolve()
          .then(() => fn(event))
          .catch((error: unknown) => {
            throw new CognitoError(
              'UserLambdaValidationException',
              `${call.trigger} failed with error ${errorText(error)}.`,
            );
          }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
    return responseOf(reply, call.trigger);
  }
}

function responseOf(reply: unknown, trigger: TriggerName): Record<string, unknown> {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) {
    throw new CognitoError('InvalidLambdaResponseException', `Unrecognizable lambda output from ${trigger}.`);
  }
  const response = (reply as { response?: unknown }).response;
  if (response === undefined || response === null) return {};
  if (typeof response !== 'object' || Array.isArray(response)) {
    throw new CognitoError('InvalidLambdaResponseException', `Unrecognizable lambda output from ${trigger}.`);
  }
  return response as Record<string, unknown>;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** `aws-sdk-js-3.600.0` from the SDK's user agent, as Cognito reports `awsSdkVersion`. */
export function sdkVersionOf(userAgent: string | undefined): string {
  const match = /aws-sdk-([a-z0-9]+)\/([\w.-]+)/i.exec(userAgent ?? '');
  return match ? `aws-sdk-${match[1]}-${match[2]}` : 'aws-sdk-unknown-unknown';
}
