import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExecutionMode } from '../cognition.js';
import { CognitionError } from '../errors.js';
import { cognitoAdmin } from '../identity/identity-provider-admin.js';
import { connectionFromEnv, type Env } from '../secrets/lambda-env.js';
import { createDataSource } from './data-source.js';
import { consoleLog, internal } from './errors.js';
import type { DataSource, DataSourceCommonOptions, ResolverEvent } from './types.js';

/**
 * The Lambda entry point of the AppSync data source (point the Lambda data source's handler
 * here). The data source is built on the first invocation and reused by the container, pools
 * included. Configuration, from the environment:
 *
 * - `COGNITION_RESOLVERS`: path of a module (absolute, or relative to `LAMBDA_TASK_ROOT`, else the
 *   working directory) that exports `resolvers`, and optionally `options` (the rest of
 *   `createDataSource`'s options: `identity`, `allowTemplatePayload`, `identityCacheMs`, ...);
 * - `COGNITION_MODE`: `role-switch` (default) or `credentials` (overrides `options.mode`);
 * - `DATABASE_URL`, or `DATABASE_SECRET_ARN`: a Secrets Manager secret in the RDS shape
 *   (`username`, `password`, and `host`, `port`, `dbname` unless `DATABASE_HOST`,
 *   `DATABASE_PORT`, `DATABASE_NAME` give them; `DATABASE_SSLMODE` is passed on as `sslmode`);
 * - `COGNITION_SECRET_STORE`: `aws` (default here) or `local` (under `COGNITION_HOME`/secrets);
 * - `COGNITION_SECRET_PREFIX` (default `pg-cognition`), `AWS_REGION`, `COGNITION_SECRETS_ENDPOINT`;
 * - `COGNITION_DRIVER=data-api` with `DATABASE_CLUSTER_ARN` (and `COGNITION_AUTHENTICATOR_SECRET_ARN`):
 *   statements run as users go through the RDS Data API (see `connectionFromEnv`);
 * - `COGNITO_USER_POOL_ID` (and `COGNITO_ENDPOINT` for a local pool): resolvers such as `addUser`
 *   create logins there with AdminCreateUser (the function needs `cognito-idp:AdminCreateUser`).
 */

export type { Env };

let built: Promise<DataSource> | undefined;

export async function handler(event: ResolverEvent | ResolverEvent[]): Promise<unknown> {
  let ready: DataSource;
  try {
    built ??= dataSourceFromEnv(process.env).then(prepared, (error: unknown) => {
      built = undefined; // the next invocation tries again
      throw error;
    });
    ready = await built;
  } catch (error) {
    throw internal(error, 'data source setup', consoleLog);
  }
  return ready.handler(event);
}

function prepared(dataSource: DataSource): DataSource {
  void dataSource.prepare();
  return dataSource;
}

/** Closes the data source the handler built (for tests and orderly shutdowns). */
export async function closeLambdaDataSource(): Promise<void> {
  const current = built;
  built = undefined;
  if (current) await (await current.catch(() => undefined))?.close();
}

export async function dataSourceFromEnv(env: Env): Promise<DataSource> {
  const { resolvers, options } = await loadResolvers(env);
  const mode = env['COGNITION_MODE'] as ExecutionMode | undefined;
  const userPoolId = env['COGNITO_USER_POOL_ID'];
  const identityProvider = userPoolId
    ? cognitoAdmin({
        userPoolId,
        ...(env['AWS_REGION'] && { region: env['AWS_REGION'] }),
        ...(env['COGNITO_ENDPOINT'] && { endpoint: env['COGNITO_ENDPOINT'] }),
      })
    : undefined;
  return createDataSource({
    ...options,
    resolvers,
    ...(mode && { mode }),
    ...(identityProvider && { identityProvider }),
    ...(await connectionFromEnv(env)),
  });
}

async function loadResolvers(
  env: Env,
): Promise<{ resolvers: DataSourceCommonOptions['resolvers']; options: Partial<DataSourceCommonOptions> }> {
  const path = env['COGNITION_RESOLVERS'];
  if (!path) throw new CognitionError('ERR_CONFIG', 'set COGNITION_RESOLVERS to the resolvers module');
  const file = isAbsolute(path) ? path : resolve(env['LAMBDA_TASK_ROOT'] || process.cwd(), path);
  const module = (await import(pathToFileURL(file).href)) as {
    resolvers?: unknown;
    options?: unknown;
  };
  if (typeof module.resolvers !== 'object' || module.resolvers === null) {
    throw new CognitionError('ERR_CONFIG', `${path} exports no resolvers`);
  }
  const options = (
    typeof module.options === 'object' && module.options !== null ? module.options : {}
  ) as Partial<DataSourceCommonOptions>;
  return { resolvers: module.resolvers as DataSourceCommonOptions['resolvers'], options };
}
