import { connectionFromEnv, type Env } from '../secrets/lambda-env.js';
import { consoleLogger, toTriggerError, triggerNameOf } from './errors.js';
import { isObject } from './event.js';
import { createCognitoTriggers, type CognitoTriggerEvent, type CognitoTriggers } from './triggers.js';

/**
 * The Lambda entry point for all four Cognito triggers (point each trigger of the user pool at
 * this module's `handler`). The triggers are built on the first invocation and reused by the
 * container, pools included. Configuration, from the environment:
 *
 * - `DATABASE_URL`, or `DATABASE_SECRET_ARN`: the ARN or name of a Secrets Manager secret in
 *   the RDS shape (`username`, `password`, and `host`, `port`, `dbname` unless
 *   `DATABASE_HOST`, `DATABASE_PORT`, `DATABASE_NAME` give them); `DATABASE_SSLMODE` is passed
 *   on as `sslmode` when set;
 * - `COGNITION_SECRET_STORE`: `aws` (default here) or `local` (under `COGNITION_HOME`/secrets);
 * - `COGNITION_SECRET_PREFIX` (default `pg-cognition`), `AWS_REGION`, `COGNITION_SECRETS_ENDPOINT`.
 */

export type { Env };

let triggers: Promise<CognitoTriggers> | undefined;

export async function handler<E extends CognitoTriggerEvent>(event: E): Promise<E> {
  let ready: CognitoTriggers;
  try {
    triggers ??= triggersFromEnv(process.env).catch((error: unknown) => {
      triggers = undefined; // the next invocation tries again
      throw error;
    });
    ready = await triggers;
  } catch (error) {
    const source = isObject(event) ? event['triggerSource'] : undefined;
    throw toTriggerError(error, triggerNameOf(source) ?? 'Cognito', consoleLogger);
  }
  return ready.handler(event);
}

/** Closes the triggers the handler built (for tests and orderly shutdowns). */
export async function closeLambdaTriggers(): Promise<void> {
  const built = triggers;
  triggers = undefined;
  if (built) await (await built.catch(() => undefined))?.close();
}

export async function triggersFromEnv(env: Env): Promise<CognitoTriggers> {
  return createCognitoTriggers(await connectionFromEnv(env));
}
