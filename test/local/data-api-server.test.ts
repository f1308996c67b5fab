import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  type ExecuteStatementCommandInput,
} from '@aws-sdk/client-rds-data';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  secretsFromSecretsManager,
  secretsFromStore,
  startDataApiServer,
  type DataApiServer,
} from '../../src/local/data-api-server.js';
import {
  startSecretsManagerServer,
  type SecretsManagerServer,
} from '../../src/local/secrets-manager-server.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

// The local Data API server, driven by the official SDK client, with the secrets in the local
// Secrets Manager server. Response shapes follow the Aurora User Guide's recorded examples
// (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api.calling)
// and the API reference (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/).

const CLUSTER = 'arn:aws:rds:us-east-1:000000000000:cluster:local';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let cluster: TestCluster;
let secretsManager: SecretsManagerServer;
let server: DataApiServer;
let client: RDSDataClient;
let aliceArn: string;
let bobArn: string;

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string } & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as { name: string; message: string };
  }
  throw new Error('expected the call to fail');
}

const run = (
  input: Omit<ExecuteStatementCommandInput, 'resourceArn' | 'secretArn'> & { secretArn?: string },
) => client.send(new ExecuteStatementCommand({ resourceArn: CLUSTER, secretArn: aliceArn, ...input }));

beforeAll(async () => {
  cluster = await startCluster({ migrate: false });
  await cluster.admin.query(`
    create role alice login password 'alice-pw';
    create role bob login password 'bob-pw';
    create table items (id int primary key, name text, doc jsonb, ref uuid, day date, price numeric);
    grant select, insert, update, delete on items to alice;`);
  secretsManager = await startSecretsManagerServer();
  const sm = new SecretsManagerClient({ endpoint: secretsManager.url, region: 'us-east-1', credentials });
  const secret = async (name: string, value: object) =>
    (await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) })))
      .ARN as string;
  const { host, port } = new URL(cluster.url);
  aliceArn = await secret('db/alice', {
    username: 'alice',
    password: 'alice-pw',
    host,
    port: Number(port),
    dbname: 'postgres',
    engine: 'postgres',
  });
  bobArn = await secret('db/bob', { username: 'bob', password: 'bob-pw' });
  await secret('db/wrong', { username: 'alice', password: 'nope' });
  await secret('db/invalid', { user: 'alice' });
  sm.destroy();
  server = await startDataApiServer({
    databaseUrl: cluster.url,
    resourceArn: CLUSTER,
    secrets: secretsFromSecretsManager({ endpoint: secretsManager.url, credentials }),
    callTimeoutMs: 1_000,
    transactionTimeoutMs: 1_500,
  });
  client = new RDSDataClient({ endpoint: server.url, region: 'us-east-1', credentials });
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await secretsManager?.close();
  await cluster?.stop();
});

describe('secrets', () => {
  it('logs in as the user of the secret, by ARN or by name', async () => {
    const byArn = await run({ sql: 'select current_user' });
    expect(byArn.records).toEqual([[{ stringValue: 'alice' }]]);
    const byName = await run({ sql: 'select current_user', secretArn: 'db/bob' });
    expect(byName.records).toEqual([[{ stringValue: 'bob' }]]);
    expect((await run({ sql: 'select session_user', secretArn: bobArn })).records).toEqual([
      [{ stringValue: 'bob' }],
    ]);
  });

  it('answers as the Data API does for missing, invalid and wrong secrets and clusters', async () => {
    expect(await failure(run({ sql: 'select 1', secretArn: 'db/none' }))).toMatchObject({
      name: 'SecretsErrorException',
    });
    expect(await failure(run({ sql: 'select 1', secretArn: 'db/invalid' }))).toMatchObject({
      name: 'InvalidSecretException',
    });
    const wrong = await failure(run({ sql: 'select 1', secretArn: 'db/wrong' }));
    expect(wrong.name).toBe('DatabaseErrorException');
    expect(wrong.message).toMatch(
      /^FATAL: password authentication failed for user "alice"; SQLState: 28P01$/,
    );
    const cluster = await failure(
      client.send(
        new ExecuteStatementCommand({ resourceArn: `${CLUSTER}x`, secretArn: aliceArn, sql: 'select 1' }),
      ),
    );
    expect(cluster).toMatchObject({ name: 'NotFoundException' });
  });

  it('reads secrets from a SecretStore too', async () => {
    const lookup = secretsFromStore({
      get: async (id) => (id === 'db/alice' ? ({ username: 'alice' } as never) : undefined),
    });
    expect(await lookup('arn:aws:secretsmanager:us-east-1:000000000000:secret:db/alice-AbCdEf')).toEqual({
      username: 'alice',
    });
    expect(await lookup('db/alice')).toEqual({ username: 'alice' });
    expect(await lookup('db/bob')).toBeUndefined();
  });
});

describe('results', () => {
  it('returns records, columnMetadata and numberOfRecordsUpdated as documented', async () => {
    const output = await run({
      sql: `select 1 as id, 'ValueOne' as val, 9007199254740993::int8 as big, 1.5::numeric as num, 0.25::float8 as dbl,
              true as flag, null::int as nothing, '\\x01ff'::bytea as bin,
              '2024-02-29 12:34:56.789+02'::timestamptz as tz, '2024-02-29 12:34:56'::timestamp as ts,
              array[1, null]::int4[] as ints, array['a', 'b"c']::text[] as texts, '{"a": 1}'::jsonb as doc`,
      includeResultMetadata: true,
    });
    expect(output.numberOfRecordsUpdated).toBe(0);
    expect(output.records).toEqual([
      [
        { longValue: 1 },
        { stringValue: 'ValueOne' },
        // A JSON number: exact on the wire, rounded by the SDK's JSON parser (longReturnType STRING avoids that).
        { longValue: 9007199254740992 },
        { stringValue: '1.5' },
        { doubleValue: 0.25 },
        { booleanValue: true },
        { isNull: true },
        { blobValue: new Uint8Array([1, 255]) },
        { stringValue: '2024-02-29 10:34:56.789' },
        { stringValue: '2024-02-29 12:34:56' },
        { arrayValue: { longValues: [1, null] } },
        { arrayValue: { stringValues: ['a', 'b"c'] } },
        { stringValue: '{"a": 1}' },
      ],
    ]);
    expect(output.columnMetadata?.map((c) => [c.name, c.typeName, c.type])).toEqual([
      ['id', 'int4', 4],
      ['val', 'text', 12],
      ['big', 'int8', -5],
      ['num', 'numeric', 2],
      ['dbl', 'float8', 8],
      ['flag', 'bool', -7],
      ['nothing', 'int4', 4],
      ['bin', 'bytea', -2],
      ['tz', 'timestamptz', 93],
      ['ts', 'timestamp', 93],
      ['ints', '_int4', 2003],
      ['texts', '_text', 2003],
      ['doc', 'jsonb', 1111],
    ]);
    expect(output.columnMetadata?.[10]?.arrayBaseColumnType).toBe(4);
  });

  it('leaves out the metadata unless asked, and follows resultSetOptions', async () => {
    const plain = await run({ sql: 'select 2::int8 as n, 2.5::numeric as d' });
    expect(plain.columnMetadata).toBeUndefined();
    const strings = await run({
      sql: 'select 9007199254740993::int8 as n, 2.5::numeric as d, 3::numeric as i, array[9007199254740993]::int8[] as a',
      resultSetOptions: { longReturnType: 'STRING', decimalReturnType: 'DOUBLE_OR_LONG' },
    });
    expect(strings.records).toEqual([
      [
        { stringValue: '9007199254740993' },
        { doubleValue: 2.5 },
        { longValue: 3 },
        { arrayValue: { stringValues: ['9007199254740993'] } },
      ],
    ]);
  });

  it('formats records as JSON on request, without records or metadata', async () => {
    const output = await run({
      sql: "select 1 as id, 'x' as name, null::text as none, true as ok, array[1, 2] as list",
      formatRecordsAs: 'JSON',
      includeResultMetadata: true,
    });
    expect(output.records).toBeUndefined();
    expect(output.columnMetadata).toBeUndefined();
    expect(JSON.parse(output.formattedRecords ?? '')).toEqual([
      { id: 1, name: 'x', none: null, ok: true, list: [1, 2] },
    ]);
  });

  it('counts updated records, and sends no records for statements without a result', async () => {
    const inserted = await run({ sql: "insert into items (id, name) values (1, 'a'), (2, 'b')" });
    expect(inserted).toMatchObject({ numberOfRecordsUpdated: 2 });
    expect(inserted.records).toBeUndefined();
    expect((await run({ sql: "update items set name = 'c' where id = 1" })).numberOfRecordsUpdated).toBe(1);
    expect((await run({ sql: 'delete from items' })).numberOfRecordsUpdated).toBe(2);
  });

  it('refuses multidimensional arrays, as the Data API does', async () => {
    expect(await failure(run({ sql: 'select array[[1, 2], [3, 4]] as m' }))).toMatchObject({
      name: 'UnsupportedResultException',
    });
  });
});

describe('parameters', () => {
  it('binds :name parameters, not :: casts nor text in literals', async () => {
    const output = await run({
      sql: "select :n::int + 1 as a, :n as b, ':n' as c, :s || '!' as d, :f as e, :t as f, :z::text as g, :bin as h",
      parameters: [
        { name: 'n', value: { longValue: 41 } },
        { name: 's', value: { stringValue: 'hi' } },
        { name: 'f', value: { doubleValue: 1.25 } },
        { name: 't', value: { booleanValue: true } },
        { name: 'z', value: { isNull: true } },
        { name: 'bin', value: { blobValue: new Uint8Array([7]) } },
      ],
    });
    expect(output.records).toEqual([
      [
        { longValue: 42 },
        { longValue: 41 },
        { stringValue: ':n' },
        { stringValue: 'hi!' },
        { doubleValue: 1.25 },
        { booleanValue: true },
        { isNull: true },
        { blobValue: new Uint8Array([7]) },
      ],
    ]);
  });

  it('binds a stringValue as varchar, as the Data API does, unless a typeHint says otherwise', async () => {
    const ref = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    const untyped = await failure(
      run({
        sql: 'select * from items where ref = :ref',
        parameters: [{ name: 'ref', value: { stringValue: ref } }],
      }),
    );
    expect(untyped.message).toMatch(
      /^ERROR: operator does not exist: uuid = character varying\n {2}Hint: .*\n {2}Position: \d+; SQLState: 42883$/,
    );
    const inserted = await run({
      sql: 'insert into items (id, doc, ref, day, price) values (:id, :doc, :ref, :day, :price) returning ref, day, price, doc',
      parameters: [
        { name: 'id', value: { longValue: 10 } },
        { name: 'doc', value: { stringValue: '{"a": 1}' }, typeHint: 'JSON' },
        { name: 'ref', value: { stringValue: ref }, typeHint: 'UUID' },
        { name: 'day', value: { stringValue: '2024-02-29' }, typeHint: 'DATE' },
        { name: 'price', value: { stringValue: '1.10' }, typeHint: 'DECIMAL' },
      ],
    });
    expect(inserted.records).toEqual([
      [
        { stringValue: ref },
        { stringValue: '2024-02-29' },
        { stringValue: '1.10' },
        { stringValue: '{"a": 1}' },
      ],
    ]);
    const typed = await run({
      sql: 'select :t as t, :ts as ts',
      parameters: [
        { name: 't', value: { stringValue: '12:34:56' }, typeHint: 'TIME' },
        { name: 'ts', value: { stringValue: '2024-02-29 12:34:56.5' }, typeHint: 'TIMESTAMP' },
      ],
      includeResultMetadata: true,
    });
    expect(typed.columnMetadata?.map((c) => c.typeName)).toEqual(['time', 'timestamp']);
    await run({ sql: 'delete from items' });
  });

  it('refuses array parameters and malformed values', async () => {
    const array = await failure(
      run({ sql: 'select :a', parameters: [{ name: 'a', value: { arrayValue: { longValues: [1] } } }] }),
    );
    expect(array).toMatchObject({
      name: 'BadRequestException',
      message: 'Array parameters are not supported.',
    });
  });
});

describe('transactions', () => {
  it('keeps a transaction on its own connection until it is committed', async () => {
    const { transactionId } = await client.send(
      new BeginTransactionCommand({ resourceArn: CLUSTER, secretArn: aliceArn }),
    );
    expect(transactionId).toMatch(/^[A-Za-z0-9+/=]{20,}$/);
    await run({ sql: "insert into items (id, name) values (20, 'tx')", transactionId });
    expect((await run({ sql: 'select count(*)::int from items where id = 20' })).records).toEqual([
      [{ longValue: 0 }],
    ]);
    expect(
      (await run({ sql: 'select count(*)::int from items where id = 20', transactionId })).records,
    ).toEqual([[{ longValue: 1 }]]);
    const committed = await client.send(
      new CommitTransactionCommand({ resourceArn: CLUSTER, secretArn: aliceArn, transactionId }),
    );
    expect(committed.transactionStatus).toBe('Transaction Committed');
    expect((await run({ sql: 'select count(*)::int from items where id = 20' })).records).toEqual([
      [{ longValue: 1 }],
    ]);
    expect(await failure(run({ sql: 'select 1', transactionId }))).toMatchObject({
      name: 'TransactionNotFoundException',
    });
    await run({ sql: 'delete from items' });
  });

  it('rolls back on request, after a failed statement, and when left idle', async () => {
    const begin = async () =>
      (await client.send(new BeginTransactionCommand({ resourceArn: CLUSTER, secretArn: aliceArn })))
        .transactionId as string;
    let transactionId = await begin();
    await run({ sql: "insert into items (id, name) values (30, 'gone')", transactionId });
    expect(await failure(run({ sql: 'select nope', transactionId }))).toMatchObject({
      name: 'DatabaseErrorException',
    });
    const aborted = await failure(run({ sql: 'select 1', transactionId }));
    expect(aborted.message).toMatch(/SQLState: 25P02$/);
    const rolledBack = await client.send(
      new RollbackTransactionCommand({ resourceArn: CLUSTER, secretArn: aliceArn, transactionId }),
    );
    expect(rolledBack.transactionStatus).toBe('Rollback Complete');
    expect((await run({ sql: 'select count(*)::int from items' })).records).toEqual([[{ longValue: 0 }]]);

    transactionId = await begin();
    expect(await failure(run({ sql: 'select 1', transactionId, secretArn: bobArn }))).toMatchObject({
      name: 'BadRequestException',
    });
    await run({ sql: "insert into items (id, name) values (31, 'idle')", transactionId });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await failure(run({ sql: 'select 1', transactionId }))).toMatchObject({
      name: 'TransactionNotFoundException',
    });
    expect((await run({ sql: 'select count(*)::int from items' })).records).toEqual([[{ longValue: 0 }]]);
  });

  it('leaves nothing of a call on the pooled connection for the next one', async () => {
    await run({ sql: "select set_config('app.mark', 'set', false)" });
    for (let i = 0; i < 3; i++) {
      const { records } = await run({
        sql: "select coalesce(current_setting('app.mark', true), '') as mark",
      });
      expect(records).toEqual([[{ stringValue: '' }]]);
    }
  });
});

describe('errors and timeouts', () => {
  it("relays Postgres errors in pgjdbc's rendering, with the SQLState", async () => {
    const error = await failure(run({ sql: 'select * frm items' }));
    expect(error.name).toBe('DatabaseErrorException');
    expect(error.message).toBe('ERROR: syntax error at or near "frm"\n  Position: 10; SQLState: 42601');
    expect(await failure(run({ sql: 'select * from items', secretArn: bobArn }))).toMatchObject({
      message: 'ERROR: permission denied for table items; SQLState: 42501',
    });
  });

  it('can send them as BadRequestException, as the Aurora Serverless v1 Data API did', async () => {
    const v1 = await startDataApiServer({
      databaseUrl: cluster.url,
      secrets: secretsFromSecretsManager({ endpoint: secretsManager.url, credentials }),
      sqlErrorType: 'BadRequestException',
    });
    const v1Client = new RDSDataClient({ endpoint: v1.url, region: 'us-east-1', credentials });
    try {
      const error = await failure(
        v1Client.send(
          new ExecuteStatementCommand({ resourceArn: 'arn:any', secretArn: aliceArn, sql: 'select x' }),
        ),
      );
      expect(error.name).toBe('BadRequestException');
    } finally {
      v1Client.destroy();
      await v1.close();
    }
  });

  it('ends a call that runs too long in StatementTimeoutException and cancels the statement', async () => {
    const error = await failure(run({ sql: 'select pg_sleep(30)' }));
    expect(error.name).toBe('StatementTimeoutException');
    expect(typeof error['dbConnectionId']).toBe('number');
    let running = 1;
    for (let i = 0; i < 50 && running > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { rows } = await cluster.admin.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'",
      );
      running = rows[0]?.n ?? 0;
    }
    expect(running).toBe(0);
  });

  it('answers operations it does not serve as unknown', async () => {
    const response = await fetch(`${server.url}/BatchExecute`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
  });
});
