import { resolve } from 'node:path';
import type { DataApiOptions } from '../db/data-api-client.js';
import { CognitionError } from '../errors.js';
import { createSecretStore, type SecretStore, type SecretStoreConfig } from './secret-store.js';

/** A Lambda function's environment. */
export type Env = Record<string, string | undefined>;

export interface LambdaConnection {
  databaseUrl: string;
  secrets: SecretStore;
  secretPrefix: string;
  /** Present when the environment selects the RDS Data API (`COGNITION_DRIVER=data-api`). */
  driver?: 'pg' | 'data-api';
  dataApi?: DataApiOptions;
}

/**
 * What every Lambda entry point of the package (Cognito triggers, AppSync data source) reads
 * from its environment to reach the database and the users' secrets:
 *
 * - `DATABASE_URL`, or `DATABASE_SECRET_ARN`: a Secrets Manager secret in the RDS shape
 *   (`username`, `password`, and `host`, `port`, `dbname` unless `DATABASE_HOST`,
 *   `DATABASE_PORT`, `DATABASE_NAME` give them; `DATABASE_SSLMODE` is passed on as `sslmode`);
 * - `COGNITION_SECRET_STORE`: `aws` (default) or `local` (under `COGNITION_HOME`/secrets);
 * - `COGNITION_SECRET_PREFIX` (default `pg-cognition`), `AWS_REGION`, `COGNITION_SECRETS_ENDPOINT`;
 * - `COGNITION_DRIVER`: `pg` (default: statements run as users over node-postgres) or `data-api`
 *   (over the RDS Data API), which reads:
 *   - `DATABASE_CLUSTER_ARN` (required): the Aurora cluster's ARN;
 *   - `COGNITION_AUTHENTICATOR_SECRET_ARN`: the secret cognition_authenticator logs in with for
 *     role switch (default: the store's `<prefix>/authenticator`, created on first use);
 *   - `DATABASE_NAME` (default: the database of the connection above);
 *   - `COGNITION_DATA_API_ENDPOINT`: another Data API endpoint, such as the local Data API server.
 *   Credentials mode passes each user's secret (`<prefix>/users/<id>`, by name) to the Data API,
 *   so the users' secrets must be in Secrets Manager (`COGNITION_SECRET_STORE=aws`). The
 *   connection above still serves the lifecycle and identity lookups.
 *
 * The AWS SDK is loaded only when a secret has to be read or the Data API called.
 */
export async function connectionFromEnv(env: Env): Promise<LambdaConnection> {
  const secretPrefix = env['COGNITION_SECRET_PREFIX'] || 'pg-cognition';
  const driver = driverFromEnv(env);
  const databaseUrl = env['DATABASE_URL'] || (await databaseUrlFromSecret(env));
  const secrets = await createSecretStore(secretStoreConfig(env, secretPrefix));
  if (driver === 'pg') return { databaseUrl, secrets, secretPrefix };
  return { databaseUrl, secrets, secretPrefix, driver, dataApi: dataApiFromEnv(env) };
}

function driverFromEnv(env: Env): 'pg' | 'data-api' {
  const driver = env['COGNITION_DRIVER'] || 'pg';
  if (driver !== 'pg' && driver !== 'data-api') {
    throw new CognitionError('ERR_CONFIG', 'COGNITION_DRIVER must be pg or data-api');
  }
  return driver;
}

function dataApiFromEnv(env: Env): DataApiOptions {
  const resourceArn = env['DATABASE_CLUSTER_ARN'];
  if (!resourceArn) {
    throw new CognitionError('ERR_CONFIG', 'COGNITION_DRIVER=data-api needs DATABASE_CLUSTER_ARN');
  }
  return {
    resourceArn,
    ...(env['DATABASE_NAME'] && { database: env['DATABASE_NAME'] }),
    ...(env['AWS_REGION'] && { region: env['AWS_REGION'] }),
    ...(env['COGNITION_DATA_API_ENDPOINT'] && { endpoint: env['COGNITION_DATA_API_ENDPOINT'] }),
    ...(env['COGNITION_AUTHENTICATOR_SECRET_ARN'] && {
      authenticatorSecretArn: env['COGNITION_AUTHENTICATOR_SECRET_ARN'],
    }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
  // The secret holds the password: neither JSON.parse's message (it quotes its input) nor any
  // value may reach an error.
  let secret: unknown;
  try {
    secret = JSON.parse(text ?? '');
  } catch {
    throw new CognitionError('ERR_CONFIG', 'the database secret is not JSON', { safe: false });
  }
  const field = (name: string): unknown => (isObject(secret) ? secret[name] : undefined);
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
