import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dataSourceFromEnv } from '../../src/appsync/lambda.js';
import { DataApiExecutor } from '../../src/db/data-api-executor.js';
import { RoleSwitchExecutor } from '../../src/db/role-switch-executor.js';
import { CredentialsExecutor } from '../../src/db/credentials-executor.js';
import { isCognitionError } from '../../src/errors.js';
import { secretsFromStore, startDataApiServer, type DataApiServer } from '../../src/local/data-api-server.js';
import { connectionFromEnv } from '../../src/secrets/lambda-env.js';
import { eventFrom, FIXTURE_SUB } from '../appsync/helpers.js';
import { startStack, type TestStack } from '../support/stack.js';

const CLUSTER = 'arn:aws:rds:us-east-1:000000000000:cluster:local';

describe('connectionFromEnv: the driver', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pgc-env-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });
  const base = () => ({
    DATABASE_URL: 'postgres://admin:pw@db.internal:5432/app',
    COGNITION_SECRET_STORE: 'local',
    COGNITION_HOME: home,
  });

  it('is node-postgres unless COGNITION_DRIVER says data-api', async () => {
    const connection = await connectionFromEnv(base());
    expect(connection.driver).toBeUndefined();
    expect(connection.dataApi).toBeUndefined();
  });

  it('reads the Data API settings', async () => {
    const connection = await connectionFromEnv({
      ...base(),
      COGNITION_DRIVER: 'data-api',
      DATABASE_CLUSTER_ARN: CLUSTER,
      DATABASE_NAME: 'app',
      AWS_REGION: 'eu-west-1',
      COGNITION_DATA_API_ENDPOINT: 'http://127.0.0.1:1',
      COGNITION_AUTHENTICATOR_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:auth-AbCdEf',
    });
    expect(connection.driver).toBe('data-api');
    expect(connection.dataApi).toEqual({
      resourceArn: CLUSTER,
      database: 'app',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:1',
      authenticatorSecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:auth-AbCdEf',
    });
  });

  it('refuses an unknown driver, and the Data API without a cluster', async () => {
    for (const env of [
      { ...base(), COGNITION_DRIVER: 'mysql' },
      { ...base(), COGNITION_DRIVER: 'data-api' },
    ]) {
      let error: unknown;
      try {
        await connectionFromEnv(env);
      } catch (e) {
        error = e;
      }
      expect(isCognitionError(error, 'ERR_CONFIG')).toBe(true);
    }
  });
});

// The AppSync data source's Lambda entry point, configured from the environment to run its
// resolvers through the Data API (the local server over the stack's Postgres).
describe('the AppSync data source over the Data API, from the environment', () => {
  let stack: TestStack;
  let server: DataApiServer;
  const saved = { ...process.env };

  beforeAll(async () => {
    stack = await startStack();
    server = await startDataApiServer({
      databaseUrl: stack.cluster.url,
      secrets: secretsFromStore(stack.secrets),
      resourceArn: CLUSTER,
    });
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    await stack.cognition.users.invite({ email: 'alice@acme.test', tenant: 'acme', role: 'admin' });
    const { user } = await stack.cognition.users.provision('alice@acme.test', { subject: FIXTURE_SUB });
    await stack.cognition.runAs(user, "insert into notes (title) values ('over the data api')");
    // The SDK's default credential chain, as in a Lambda.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  });
  afterAll(async () => {
    process.env = saved;
    await server?.close();
    await stack?.stop();
  });

  it.each(['role-switch', 'credentials'])('runs resolvers through the Data API (%s)', async (mode) => {
    const dataApiRun = vi.spyOn(DataApiExecutor.prototype, 'run');
    const pgRuns = [
      vi.spyOn(RoleSwitchExecutor.prototype, 'run'),
      vi.spyOn(CredentialsExecutor.prototype, 'run'),
    ];
    const dataSource = await dataSourceFromEnv({
      DATABASE_URL: stack.cluster.url,
      COGNITION_SECRET_STORE: 'local',
      COGNITION_HOME: stack.cluster.dir,
      COGNITION_SECRET_PREFIX: 'test',
      COGNITION_RESOLVERS: fileURLToPath(new URL('../appsync/lambda-module.ts', import.meta.url)),
      COGNITION_MODE: mode,
      COGNITION_DRIVER: 'data-api',
      DATABASE_CLUSTER_ARN: CLUSTER,
      AWS_REGION: 'us-east-1',
      COGNITION_DATA_API_ENDPOINT: server.url,
    });
    try {
      expect(
        await dataSource.handler(eventFrom('invoke-cognito.json', { field: 'Query.notes' })),
      ).toMatchObject([{ title: 'over the data api' }]);
      expect(dataApiRun).toHaveBeenCalled();
      for (const run of pgRuns) expect(run).not.toHaveBeenCalled();
    } finally {
      dataApiRun.mockRestore();
      for (const run of pgRuns) run.mockRestore();
      await dataSource.close();
    }
  });
});
