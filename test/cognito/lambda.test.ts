import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeLambdaTriggers, handler } from '../../src/cognito/lambda.js';
import {
  startSecretsManagerServer,
  type SecretsManagerServer,
} from '../../src/local/secrets-manager-server.js';
import { startStack, type TestStack } from '../support/stack.js';
import { eventFor, expectRejected } from './helpers.js';

/** The Lambda entry point, configured from the environment as it would be in AWS. */
describe('Lambda handler', () => {
  let stack: TestStack;
  let server: SecretsManagerServer;
  let client: SecretsManagerClient;
  let secretArn: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    stack = await startStack();
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    server = await startSecretsManagerServer();
    client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    // The admin connection as an RDS secret (what Aurora's master user secret looks like).
    const url = new URL(stack.cluster.url);
    const created = await client.send(
      new CreateSecretCommand({
        Name: 'rds/cluster/admin',
        SecretString: JSON.stringify({
          engine: 'postgres',
          username: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
          host: url.hostname,
          port: Number(url.port),
          dbname: decodeURIComponent(url.pathname.slice(1)),
        }),
      }),
    );
    secretArn = created.ARN!;
  });
  afterAll(async () => {
    process.env = saved;
    await closeLambdaTriggers();
    client?.destroy();
    await server?.close();
    await stack?.stop();
  });

  it('fails cleanly while unconfigured, then builds once configured', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      delete process.env.DATABASE_URL;
      delete process.env.DATABASE_SECRET_ARN;
      const error = await expectRejected(
        handler(eventFor('pre-signup.json', { email: 'alice@acme.test' })),
        'ERR_INTERNAL',
      );
      expect(errors).toHaveBeenCalledTimes(1);
      expect(String(errors.mock.calls[0]![0])).toContain(error.ref!);
      expect(String((errors.mock.calls[0]![1] as Error).message)).toMatch(/DATABASE_SECRET_ARN/);
    } finally {
      errors.mockRestore();
    }

    Object.assign(process.env, {
      DATABASE_SECRET_ARN: secretArn,
      COGNITION_SECRET_STORE: 'aws',
      COGNITION_SECRETS_ENDPOINT: server.url,
      COGNITION_SECRET_PREFIX: 'lambda-test',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    const user = await stack.cognition.users.invite({
      email: 'alice@acme.test',
      tenant: 'acme',
      role: 'admin',
    });
    const sub = randomUUID();
    await expect(handler(eventFor('pre-signup.json', { email: 'Alice@acme.test' }))).resolves.toBeDefined();

    // Built once per container: the database secret is not read again (a broken one would fail).
    await client.send(
      new PutSecretValueCommand({
        SecretId: secretArn,
        SecretString: JSON.stringify({ username: 'x', password: 'y' }),
      }),
    );
    await handler(eventFor('post-confirmation.json', { email: 'alice@acme.test', sub }));
    const stored = await client.send(new GetSecretValueCommand({ SecretId: `lambda-test/users/${user.id}` }));
    const provisioned = await stack.cognition.users.require(user.id);
    expect(provisioned).toMatchObject({ status: 'active', idpSubject: sub });
    expect(JSON.parse(stored.SecretString!)).toMatchObject({
      username: provisioned.dbUsername,
      engine: 'postgres',
    });

    const { response } = await handler(
      eventFor('pre-token-generation-v2.json', { email: 'alice@acme.test', sub }),
    );
    expect(response.claimsAndScopeOverrideDetails.groupOverrideDetails!.groupsToOverride).toEqual(['admin']);
    await expectRejected(handler(eventFor('pre-signup.json', { email: 'bob@acme.test' })), 'ERR_NOT_INVITED');
  });
});
