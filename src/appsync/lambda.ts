import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExecutionMode } from '../cognition.js';
import { CognitionError } from '../errors.js';
import { createSecretStore, type SecretStoreConfig } from '../secrets/secret-store.js';
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
 * - `COGNITION_SECRET_PREFIX` (default `pg-cognition`), `AWS_REGION`, `COGNITION_SECRETS_ENDPOINT`.
 */

export type Env = Record<string, string | undefined>;

let built: Promise<DataSource> | undefined;

export async function handler(event: ResolverEvent | ResolverEvent[]): Promise<unknown> {
  let ready: DataSource;
  try {
    built ??= dataSourceFromEnv(process.env).catch((error: unknown) => {
      built = undefined; // the next invocation tries again
      throw error;
    });
    ready = await built;
  } catch (error) {
    throw internal(error, 'data source setup', consoleLog);
  }
  return ready.handler(event);
}

/** Closes the data source the handler built (for tests and orderly shutdowns). */
export async function closeLambdaDataSource(): Promise<void> {
  const current = built;
  built = undefined;
  if (current) await (await current.catch(() => undefined))?.close();
}

export async function dataSourceFromEnv(env: Env): Promise<DataSource> {
  const { resolvers, options } = await loadResolvers(env);
  const secretPrefix = env['COGNITION_SECRET_PREFIX'] || 'pg-cognition';
  const databaseUrl = env['DATABASE_URL'] || (await databaseUrlFromSecret(env));
  const secrets = await createSecretStore(secretStoreConfig(env, secretPrefix));
  const mode = env['COGNITION_MODE'] as ExecutionMode | undefined;
  return createDataSource({
    ...options,
    resolvers,
    ...(mode && { mode }),
    databaseUrl,
    secrets,
    secretPrefix,
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

function secretStoreConfig(env: Env, prefix: string): SecretStoreConfig {
  const kind = env['COGNITION_SECRET_STORE'] || 'aws';
  if (kind === 'local') {
    return { kind: 'local', dir: resolve(env['COGNITION_HOME'] || '.cognition', 'secrets') };
  }
  if (kind === 'aws') return { kind: 'aws', prefix, ...awsClientConfig(env) };
  throw new CognitionError('ERR_CONFIG', 'COGNITION_SECRET_STORE must be aws or local');
}

function awsClientConfig(env: Env): { region?: string; endpoint?: string } {
  return {
    ...(env['AWS_REGION'] && { region: env['AWS_REGION'] }),
    ...(env['COGNITION_SECRETS_ENDPOINT'] && { endpoint: env['COGNITION_SECRETS_ENDPOINT'] }),
  };
}

// Same as src/cognito/lambda.ts (kept private there); the AWS SDK is loaded only on this path.
async function databaseUrlFromSecret(env: Env): Promise<string> {
  const secretId = env['DATABASE_SECRET_ARN'];
  if (!secretId) throw new CognitionError('ERR_CONFIG', 'set DATABASE_URL or DATABASE_SECRET_ARN');
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient(awsClientConfig(env));
  let text: string | undefined;
  try {
    text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } finally {
    client.destroy();
  }
  // The secret holds the password: neither JSON.parse's message nor any value may reach an error.
  let secret: unknown;
  try {
    secret = JSON.parse(text ?? '');
  } catch {
    throw new CognitionError('ERR_CONFIG', 'the database secret is not JSON', { safe: false });
  }
  const field = (name: string): unknown =>
    typeof secret === 'object' && secret !== null ? (secret as Record<string, unknown>)[name] : undefined;
  const username = field('username');
  const password = field('password');
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new CognitionError('ERR_CONFIG', 'the database secret has no username and password', {
      safe: false,
    });
  }
  const host = String(field('host') ?? env['DATABASE_HOST'] ?? '');
  if (!host) throw new CognitionError('ERR_CONFIG', 'the database secret has no host: set DATABASE_HOST');
  const port = String(field('port') ?? env['DATABASE_PORT'] ?? 5432);
  const dbname = String(field('dbname') ?? env['DATABASE_NAME'] ?? 'postgres');
  const url = new URL(`postgres://${host.includes(':') ? `[${host}]` : host}:${port}/`);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  url.pathname = `/${encodeURIComponent(dbname)}`;
  if (env['DATABASE_SSLMODE']) url.searchParams.set('sslmode', env['DATABASE_SSLMODE']);
  return url.toString();
}
