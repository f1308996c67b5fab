import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCognitionError } from '../../src/errors.js';
import { freePort } from '../../src/local/free-port.js';
import {
  startSecretsManagerServer,
  type SecretsManagerServer,
} from '../../src/local/secrets-manager-server.js';
import { AwsSecretsManagerStore } from '../../src/secrets/aws-secrets-manager-store.js';
import { createSecretStore, userSecretId, type UserSecret } from '../../src/secrets/secret-store.js';

const PASSWORD = 'Pw-0a9b8c7d-very-secret';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function secretFor(username: string, password = PASSWORD): UserSecret {
  return { username, password, host: 'db.example.com', port: 5432, dbname: 'app', engine: 'postgres' };
}

async function thrown(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

let server: SecretsManagerServer;
let client: SecretsManagerClient;

beforeAll(async () => {
  server = await startSecretsManagerServer({ port: 0 });
  client = new SecretsManagerClient({ region: 'us-east-1', endpoint: server.url, credentials });
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

/** Each test works under its own prefix, as the server is shared. */
function scope(): string {
  return `test-${randomUUID()}`;
}

describe('AwsSecretsManagerStore against the local Secrets Manager', () => {
  it('round-trips a secret as RDS secret JSON', async () => {
    const store = new AwsSecretsManagerStore({ client });
    const id = userSecretId(scope(), 'u1');
    await store.put(id, secretFor('alice'));
    expect(await store.get(id)).toEqual(secretFor('alice'));
    expect(await store.get(`${id}-other`)).toBeUndefined();

    const raw = await client.send(new GetSecretValueCommand({ SecretId: id }));
    expect(raw.Name).toBe(id);
    expect(JSON.parse(raw.SecretString!)).toEqual(secretFor('alice'));
    expect(raw.VersionStages).toEqual(['AWSCURRENT']);
    expect(raw.VersionId).toMatch(UUID);
    expect(raw.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs(raw.CreatedDate!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('overwrites with a new version', async () => {
    const store = new AwsSecretsManagerStore({ client });
    const id = userSecretId(scope(), 'u1');
    await store.put(id, secretFor('alice', 'first'));
    await store.put(id, secretFor('alice', 'second'));
    expect((await store.get(id))?.password).toBe('second');

    const described = await client.send(new DescribeSecretCommand({ SecretId: id }));
    const stages = Object.values(described.VersionIdsToStages ?? {}).map((s) => s.join(','));
    expect(stages.sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }),
    );
    expect(JSON.parse(previous.SecretString!)).toMatchObject({ password: 'first' });
  });

  it('deletes at once, and deleting a missing secret is not an error', async () => {
    const store = new AwsSecretsManagerStore({ client });
    const prefix = scope();
    await store.delete(`${prefix}/users/nobody`);
    await store.put(`${prefix}/users/u1`, secretFor('alice'));
    await store.delete(`${prefix}/users/u1`);
    expect(await store.get(`${prefix}/users/u1`)).toBeUndefined();
    await expect(
      client.send(new DescribeSecretCommand({ SecretId: `${prefix}/users/u1` })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    // Deleted without a recovery window, so the id is free again.
    await store.put(`${prefix}/users/u1`, secretFor('alice', 'again'));
    expect((await store.get(`${prefix}/users/u1`))?.password).toBe('again');
  });

  it('lists ids by prefix across pages', async () => {
    const prefix = scope();
    const store = new AwsSecretsManagerStore({ client });
    const ids = Array.from({ length: 105 }, (_, i) => `${prefix}/a/${String(i).padStart(3, '0')}`);
    for (const id of ids) await store.put(id, secretFor('x'));
    await store.put(`${prefix}/b/1`, secretFor('y'));
    await store.put(`${prefix}-lookalike/a/1`, secretFor('z'));

    let listCalls = 0;
    const counting = new SecretsManagerClient({ region: 'us-east-1', endpoint: server.url, credentials });
    counting.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'ListSecretsCommand') listCalls++;
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const listed = await new AwsSecretsManagerStore({ client: counting }).list(`${prefix}/a/`);
      expect(listed).toEqual(ids);
      expect(listCalls).toBe(2);
    } finally {
      counting.destroy();
    }
    expect(await store.list(`${prefix}/b`)).toEqual([`${prefix}/b/1`]);
    expect(await store.list(`${prefix}/c`)).toEqual([]);
    expect(await store.list(`${prefix}/has space`)).toEqual([]);
  });

  it('scopes list() without a prefix to the configured prefix', async () => {
    const prefix = scope();
    const store = new AwsSecretsManagerStore({ client, prefix: `${prefix}/` });
    await store.put(`${prefix}/users/1`, secretFor('x'));
    await store.put(`${scope()}/users/1`, secretFor('y'));
    expect(await store.list()).toEqual([`${prefix}/users/1`]);
  });

  it('keeps secrets across store instances and clients', async () => {
    const id = userSecretId(scope(), 'u1');
    const first = new AwsSecretsManagerStore({ region: 'us-east-1', endpoint: server.url, credentials });
    await first.put(id, secretFor('alice'));
    first.destroy();
    const second = new AwsSecretsManagerStore({ region: 'us-east-1', endpoint: server.url, credentials });
    try {
      expect(await second.get(id)).toEqual(secretFor('alice'));
    } finally {
      second.destroy();
    }
  });

  it('is what createSecretStore builds for kind aws, with the KMS key on new secrets', async () => {
    const id = userSecretId(scope(), 'u1');
    const store = await createSecretStore({
      kind: 'aws',
      region: 'us-east-1',
      endpoint: server.url,
      credentials,
      kmsKeyId: 'alias/pg-cognition',
    });
    expect(store).toBeInstanceOf(AwsSecretsManagerStore);
    try {
      await store.put(id, secretFor('alice'));
      expect(await store.get(id)).toEqual(secretFor('alice'));
      const described = await client.send(new DescribeSecretCommand({ SecretId: id }));
      expect(described.KmsKeyId).toBe('alias/pg-cognition');
    } finally {
      (store as AwsSecretsManagerStore).destroy();
    }
  });

  it('maps service failures to ERR_SECRET_STORE without the password', async () => {
    const id = userSecretId(scope(), 'u1');
    await client.send(new CreateSecretCommand({ Name: id, SecretString: '{}' }));
    // Scheduled for deletion: the service refuses new values with InvalidRequestException.
    await client.send(new DeleteSecretCommand({ SecretId: id, RecoveryWindowInDays: 7 }));
    const store = new AwsSecretsManagerStore({ client });
    const error = await thrown(() => store.put(id, secretFor('alice')));
    expect(isCognitionError(error, 'ERR_SECRET_STORE')).toBe(true);
    expect((error as Error).message).toContain('InvalidRequestException');
    expect((error as Error).message).not.toContain(PASSWORD);
    expect(JSON.stringify((error as { details?: unknown }).details)).not.toContain(PASSWORD);
    expect((error as Error).cause).toBeUndefined();
  });

  it('maps an unreachable endpoint to ERR_SECRET_STORE', async () => {
    const port = await freePort();
    const unreachable = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials,
      maxAttempts: 1,
    });
    try {
      const store = new AwsSecretsManagerStore({ client: unreachable });
      expect(await thrown(() => store.get('app/users/u1'))).toMatchObject({ code: 'ERR_SECRET_STORE' });
      expect(await thrown(() => store.put('app/users/u1', secretFor('a')))).toMatchObject({
        code: 'ERR_SECRET_STORE',
      });
      expect(await thrown(() => store.list('app/'))).toMatchObject({ code: 'ERR_SECRET_STORE' });
    } finally {
      unreachable.destroy();
    }
  });

  it('rejects stored values that are not database secrets, without echoing them', async () => {
    const prefix = scope();
    await client.send(
      new CreateSecretCommand({ Name: `${prefix}/text`, SecretString: `not json ${PASSWORD}` }),
    );
    await client.send(
      new CreateSecretCommand({
        Name: `${prefix}/shape`,
        SecretString: JSON.stringify({ ...secretFor('a'), port: 'x' }),
      }),
    );
    await client.send(new CreateSecretCommand({ Name: `${prefix}/binary`, SecretBinary: Buffer.from('x') }));
    const store = new AwsSecretsManagerStore({ client });
    for (const id of [`${prefix}/text`, `${prefix}/shape`, `${prefix}/binary`]) {
      const error = await thrown(() => store.get(id));
      expect(error).toMatchObject({ code: 'ERR_SECRET_STORE' });
      expect((error as Error).message).not.toContain(PASSWORD);
    }
  });
});

describe('the local Secrets Manager server', () => {
  it('answers a missing secret with ResourceNotFoundException', async () => {
    const error = await thrown(() => client.send(new GetSecretValueCommand({ SecretId: `${scope()}/none` })));
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
    for (const command of [
      new PutSecretValueCommand({ SecretId: `${scope()}/none`, SecretString: 'x' }),
      new DeleteSecretCommand({ SecretId: `${scope()}/none`, ForceDeleteWithoutRecovery: true }),
      new DescribeSecretCommand({ SecretId: `${scope()}/none` }),
    ]) {
      // Each command has its own output type; only the rejection matters here.
      await expect(client.send(command as GetSecretValueCommand)).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    }
  });

  it('answers a duplicate name with ResourceExistsException', async () => {
    const name = `${scope()}/dup`;
    const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: 'one' }));
    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-[A-Za-z0-9]{6}$`),
    );
    expect(created.VersionId).toMatch(UUID);
    const error = await thrown(() =>
      client.send(new CreateSecretCommand({ Name: name, SecretString: 'two' })),
    );
    expect(error).toMatchObject({ name: 'ResourceExistsException', $metadata: { httpStatusCode: 400 } });
    // The ARN works as a SecretId too.
    const value = await client.send(new GetSecretValueCommand({ SecretId: created.ARN! }));
    expect(value.SecretString).toBe('one');
  });

  it('answers bad parameters with InvalidParameterException and bad states with InvalidRequestException', async () => {
    const name = `${scope()}/params`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    await expect(
      client.send(
        new DeleteSecretCommand({
          SecretId: name,
          ForceDeleteWithoutRecovery: true,
          RecoveryWindowInDays: 7,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      client.send(
        new CreateSecretCommand({
          Name: `${scope()}/both`,
          SecretString: 'x',
          SecretBinary: Buffer.from('y'),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(client.send(new ListSecretsCommand({ MaxResults: 0 }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });

    const deleted = await client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6 * 86_400_000);
    await expect(client.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    await expect(
      client.send(new CreateSecretCommand({ Name: name, SecretString: 'x' })),
    ).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.DeletedDate).toBeInstanceOf(Date);
    expect(
      (await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [name] }] }))).SecretList,
    ).toEqual([]);
    const planned = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [name] }], IncludePlannedDeletion: true }),
    );
    expect(planned.SecretList?.map((s) => s.Name)).toEqual([name]);
  });

  it('uses the real error shape on the wire', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: JSON.stringify({ SecretId: `${scope()}/none` }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toEqual({
      __type: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
    });

    const unknown = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.RotateSecret',
      },
      body: '{}',
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { __type: string }).__type).toBe('UnknownOperationException');
  });

  it('pages ListSecrets with MaxResults and NextToken, and applies name filters by prefix', async () => {
    const prefix = scope();
    for (const suffix of ['a1', 'a2', 'a3', 'b1']) {
      await client.send(new CreateSecretCommand({ Name: `${prefix}/${suffix}`, SecretString: 'x' }));
    }
    const names: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [`${prefix}/a`] }],
          MaxResults: 2,
          NextToken,
        }),
      );
      pages++;
      expect(page.SecretList!.length).toBeLessThanOrEqual(2);
      for (const entry of page.SecretList ?? []) {
        expect(entry.SecretVersionsToStages).toBeDefined();
        names.push(entry.Name!);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    expect(pages).toBe(2);
    expect(names).toEqual([`${prefix}/a1`, `${prefix}/a2`, `${prefix}/a3`]);

    const negated = await client.send(
      new ListSecretsCommand({
        Filters: [
          { Key: 'name', Values: [prefix] },
          { Key: 'name', Values: [`!${prefix}/a`] },
        ],
      }),
    );
    expect(negated.SecretList?.map((s) => s.Name)).toEqual([`${prefix}/b1`]);
    await expect(client.send(new ListSecretsCommand({ NextToken: 'garbage' }))).rejects.toMatchObject({
      name: 'InvalidNextTokenException',
    });
  });

  it('treats a retried PutSecretValue with the same token as one version', async () => {
    const name = `${scope()}/idem`;
    await client.send(new CreateSecretCommand({ Name: name, SecretString: 'one' }));
    const token = randomUUID();
    const first = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: token }),
    );
    const again = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: token }),
    );
    expect(first.VersionId).toBe(token);
    expect(again.VersionId).toBe(token);
    await expect(
      client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'three', ClientRequestToken: token }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous.SecretString).toBe('one');
  });
});
