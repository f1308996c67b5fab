import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cognition, type ExecutionMode } from '../../src/cognition.js';
import { isCognitionError } from '../../src/errors.js';
import type { User } from '../../src/users/users.js';
import { secretsFromStore, startDataApiServer, type DataApiServer } from '../../src/local/data-api-server.js';
import { expectCode, expectDenied } from '../support/expect.js';
import { startStack, type TestStack } from '../support/stack.js';

// A zone other than UTC (the CI machines' own), so that a timestamptz read as local time shows.
process.env.TZ = 'America/Sao_Paulo';

// The executor's shared suite: the same statements and the same expectations for both drivers
// (node-postgres; the RDS Data API, through the official SDK client against the local Data API
// server over the same Postgres) in both execution modes. Each case has its own tenant and users.

type Driver = 'pg' | 'data-api';
const CASES: [Driver, ExecutionMode, string][] = [
  ['pg', 'role-switch', 'pg_rs'],
  ['pg', 'credentials', 'pg_cr'],
  ['data-api', 'role-switch', 'da_rs'],
  ['data-api', 'credentials', 'da_cr'],
];

let stack: TestStack;
let server: DataApiServer;
let dataApi: Cognition;

beforeAll(async () => {
  stack = await startStack();
  server = await startDataApiServer({
    databaseUrl: stack.cluster.url,
    secrets: secretsFromStore(stack.secrets),
    resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:local',
  });
  dataApi = Cognition.create({
    databaseUrl: stack.cluster.url,
    secrets: stack.secrets,
    secretPrefix: 'test',
    driver: 'data-api',
    dataApi: {
      resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:local',
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    },
  });
});

afterAll(async () => {
  await dataApi?.close();
  await server?.close();
  await stack?.stop();
});

// Every type the suite compares, and the JS value node-postgres gives for it with this
// project's pools (src/db/pool.ts).
const TYPES_SQL = `select
  1::int2 as i2, 2::int4 as i4, 9007199254740993::int8 as i8,
  12345678901234567890.123456789::numeric as num, 1.5::float4 as f4, 0.1::float8 as f8,
  'NaN'::float8 as fnan, true as b, 'text'::text as t, 'vc'::varchar as vc, 'c'::char(3) as ch,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as u, '2024-02-29'::date as d,
  '2024-02-29 12:34:56.789+02'::timestamptz as tz, '2024-02-29 12:34:56.789'::timestamp as ts,
  '12:34:56'::time as tm, '{"a": [1, 2], "b": null}'::json as js, '{"a": 1}'::jsonb as jb,
  array[1, 2, null]::int4[] as ai, array[1.10, 2]::numeric[] as an,
  array['x', null, 'y"z\\w', '']::text[] as at, array[true, false]::bool[] as ab,
  array[9007199254740993]::int8[] as a8, array['2024-01-01 00:00:00+00']::timestamptz[] as atz,
  array['2024-01-01']::date[] as ad, array['{"k": 1}']::jsonb[] as aj, array[]::int4[] as aempty,
  '\\x0102ff'::bytea as by, null::text as nul, null::int4 as nuli`;

const TYPES_ROW = {
  i2: 1,
  i4: 2,
  i8: '9007199254740993',
  num: '12345678901234567890.123456789',
  f4: 1.5,
  f8: 0.1,
  fnan: NaN,
  b: true,
  t: 'text',
  vc: 'vc',
  ch: 'c  ',
  u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  d: new Date(2024, 1, 29),
  tz: new Date('2024-02-29T10:34:56.789Z'),
  ts: new Date(2024, 1, 29, 12, 34, 56, 789),
  tm: '12:34:56',
  js: { a: [1, 2], b: null },
  jb: { a: 1 },
  ai: [1, 2, null],
  an: ['1.10', '2'],
  at: ['x', null, 'y"z\\w', ''],
  ab: [true, false],
  a8: ['9007199254740993'],
  atz: [new Date('2024-01-01T00:00:00Z')],
  ad: [new Date(2024, 0, 1)],
  aj: [{ k: 1 }],
  aempty: [],
  by: Buffer.from([1, 2, 255]),
  nul: null,
  nuli: null,
};

const TYPES_OIDS = {
  i2: 21,
  i4: 23,
  i8: 20,
  num: 1700,
  f4: 700,
  f8: 701,
  fnan: 701,
  b: 16,
  t: 25,
  vc: 1043,
  ch: 1042,
  u: 2950,
  d: 1082,
  tz: 1184,
  ts: 1114,
  tm: 1083,
  js: 114,
  jb: 3802,
  ai: 1007,
  an: 1231,
  at: 1009,
  ab: 1000,
  a8: 1016,
  atz: 1185,
  ad: 1182,
  aj: 3807,
  aempty: 1007,
  by: 17,
  nul: 25,
  nuli: 23,
};

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the statement to fail');
}

describe.each(CASES)('executor: %s driver, %s', (driver, mode, slug) => {
  let admin: User;
  let alice: User;
  let bob: User;
  let root: User;
  let schema: string;
  let otherSchema: string;
  const domain = slug.replace(/_/g, '-');

  const cognition = () => (driver === 'pg' ? stack.cognition : dataApi);
  const as = (user: User, sql: string, params: unknown[] = [], claims?: Record<string, unknown>) =>
    cognition().runAs(user, sql, params, { mode, ...(claims && { claims }) });

  beforeAll(async () => {
    schema = (await stack.cognition.tenants.create({ slug, name: slug })).schemaName;
    otherSchema = (await stack.cognition.tenants.create({ slug: `${slug}_other`, name: 'other' })).schemaName;
    admin = await stack.user(`admin@${domain}.test`, slug, 'admin');
    alice = await stack.user(`alice@${domain}.test`, slug, 'user');
    bob = await stack.user(`bob@${domain}.test`, slug, 'user');
    root = await stack.user(`root@${domain}.test`, null, 'application_admin');
    await stack.user(`eve@${domain}.test`, `${slug}_other`, 'user');
  });

  it('gives every type the same JS value and the same field types', async () => {
    const result = await as(alice, TYPES_SQL);
    expect(result.rows).toEqual([TYPES_ROW]);
    expect(result.fields).toEqual(
      Object.entries(TYPES_OIDS).map(([name, dataTypeID]) => ({ name, dataTypeID })),
    );
    expect(result.rowCount).toBe(1);
    expect(result.command).toBe('SELECT');
  });

  it('reads an interval as node-postgres does', async () => {
    const { rows } = await as(alice, "select '1 day 02:03:04'::interval as iv");
    expect({ ...(rows[0]?.['iv'] as object) }).toEqual({ days: 1, hours: 2, minutes: 3, seconds: 4 });
  });

  it('binds parameters with the types Postgres infers', async () => {
    const when = new Date('2024-05-06T07:08:09.123Z');
    const { rows } = await as(
      alice,
      `select $1::int + 1 as n, $2 as s, $3::jsonb as j, $4::timestamptz as w, $5::bytea as b,
              $6::bool as t, $7::text as nothing, '$1' as literal, $8::int[] as arr`,
      [5, 'x', { k: [1] }, when, Buffer.from([0, 9]), true, null, [1, 2]],
    );
    expect(rows).toEqual([
      {
        n: 6,
        s: 'x',
        j: { k: [1] },
        w: when,
        b: Buffer.from([0, 9]),
        t: true,
        nothing: null,
        literal: '$1',
        arr: [1, 2],
      },
    ]);
    // Untyped parameters compared with uuid, date and integer columns, and an array for ANY.
    const matched = await as(
      root,
      `select count(*)::int as n from cognition.users
        where id = $1 and created_at > $2 and id = any($3) and length(email) > $4`,
      [alice.id, '2000-01-01', [alice.id, bob.id], 3],
    );
    expect(matched.rows).toEqual([{ n: 1 }]);
  });

  it('reports insert, update, delete and returning as node-postgres does', async () => {
    const inserted = await as(alice, 'insert into notes (title) values ($1), ($2)', ['one', 'two']);
    expect(inserted).toEqual({ rows: [], fields: [], rowCount: 2, command: 'INSERT' });
    const returned = await as(alice, 'insert into notes (title) values ($1) returning title, body', [
      'three',
    ]);
    expect(returned).toEqual({
      rows: [{ title: 'three', body: '' }],
      fields: [
        { name: 'title', dataTypeID: 25 },
        { name: 'body', dataTypeID: 25 },
      ],
      rowCount: 1,
      command: 'INSERT',
    });
    const updated = await as(alice, "update notes set body = 'b' where title in ('one', 'two')");
    expect(updated).toEqual({ rows: [], fields: [], rowCount: 2, command: 'UPDATE' });
    const none = await as(alice, "update notes set body = 'b' where title = 'nothing' returning id");
    expect(none).toEqual({
      rows: [],
      fields: [{ name: 'id', dataTypeID: 20 }],
      rowCount: 0,
      command: 'UPDATE',
    });
    const cte = await as(
      alice,
      "with gone as (delete from notes where title = 'one' returning title) select * from gone",
    );
    expect(cte).toMatchObject({ rows: [{ title: 'one' }], rowCount: 1, command: 'SELECT' });
    const deleted = await as(alice, "delete from notes where title in ('two', 'three')");
    expect(deleted).toEqual({ rows: [], fields: [], rowCount: 2, command: 'DELETE' });
    const selected = await as(alice, 'select title from notes');
    expect(selected).toEqual({
      rows: [],
      fields: [{ name: 'title', dataTypeID: 25 }],
      rowCount: 0,
      command: 'SELECT',
    });
  });

  it('lets row-level security decide, with the same outcomes', async () => {
    await as(alice, "insert into notes (title) values ('alice''s')");
    // Bob sees the note (the tenant reads everything) but may not change it: no row matches.
    expect((await as(bob, 'select title from notes')).rows).toEqual([{ title: "alice's" }]);
    expect((await as(bob, "update notes set title = 'mine' where title = 'alice''s'")).rowCount).toBe(0);
    expect((await as(bob, 'delete from notes')).rowCount).toBe(0);
    // The tenant admin may.
    expect((await as(admin, "update notes set body = 'edited' where title = 'alice''s'")).rowCount).toBe(1);
    // A note claimed for someone else is refused by the policy's check.
    await expectDenied(as(bob, 'insert into notes (title, owner_id) values ($1, $2)', ['forged', alice.id]));
    // A tenant user reads only their own row of cognition.users.
    expect((await as(alice, 'select email from cognition.users')).rows).toEqual([
      { email: `alice@${domain}.test` },
    ]);
  });

  it('refuses what the role was not granted, with the same error codes', async () => {
    await expectDenied(as(alice, `select * from ${otherSchema}.notes`));
    await expectDenied(as(admin, "update cognition.users set db_username = 'u_x' where id = $1", [bob.id]));
    await expectDenied(as(alice, 'delete from cognition.tenants'));
    // A constraint violation keeps its constraint name.
    const error = await failure(as(alice, "insert into notes (title) values ('')"));
    expect(isCognitionError(error, 'ERR_CONSTRAINT')).toBe(true);
    expect((error as { details?: unknown }).details).toMatchObject({
      constraint: 'notes_title_check',
      sqlstate: '23514',
    });
    // Other database errors keep their SQLSTATE.
    expect(await failure(as(alice, 'select from nowhere'))).toMatchObject({ code: '42P01' });
    expect(await failure(as(alice, 'select * frm notes'))).toMatchObject({ code: '42601' });
    expect(await failure(as(alice, 'select $1::int as a', [1, 2]))).toMatchObject({ code: '08P01' });
    expect(await failure(as(alice, 'select $1::int as a'))).toMatchObject({ code: '08P01' });
  });

  it('resolves unqualified names in the tenant schema, and nowhere for a user without a tenant', async () => {
    const { rows } = await as(alice, 'select current_schema() as s, current_user as u');
    expect(rows).toEqual([{ s: schema, u: alice.dbUsername }]);
    expect(await failure(as(root, 'select * from notes'))).toMatchObject({ code: '42P01' });
  });

  it("does not let one request's settings reach another user's request", async () => {
    // Statements that set the claims, the search_path and the role for the whole session. Role
    // switch refuses them before they are sent (its session may take any user's role);
    // credentials mode runs the first and Postgres refuses the role. The same in both drivers.
    const settings = as(
      alice,
      `select set_config('request.jwt.claims', '{"forged": true}', false),
              set_config('search_path', '${otherSchema}', false)`,
    );
    if (mode === 'role-switch') await expectCode(settings, 'ERR_STATEMENT_REFUSED');
    else await settings;
    const switched = as(alice, `set role ${bob.dbUsername}`);
    if (mode === 'role-switch') await expectCode(switched, 'ERR_STATEMENT_REFUSED');
    else await switched.catch(() => {});
    const read =
      "select current_user as u, current_setting('request.jwt.claims', true) as c, current_schema() as s";
    for (const user of [bob, admin]) {
      const { rows } = await as(user, read);
      expect(rows[0]?.['u']).toBe(user.dbUsername);
      expect(String(rows[0]?.['c'] ?? '')).not.toContain('forged');
      expect(rows[0]?.['s']).toBe(schema);
    }
    const claimed = await as(alice, read, [], { sub: 'alice', tenant: slug });
    expect(claimed.rows[0]?.['u']).toBe(alice.dbUsername);
    expect(JSON.parse(String(claimed.rows[0]?.['c']))).toEqual({ sub: 'alice', tenant: slug });
  });

  it('refuses a suspended user on the next statement, even with a stale user record', async () => {
    const carol = await stack.user(`carol@${domain}.test`, slug, 'user');
    expect((await as(carol, 'select 1 as one')).rows).toEqual([{ one: 1 }]);
    await stack.cognition.suspendUser(carol.id);
    await expectCode(as(carol, 'select 1 as one'), 'ERR_USER_INACTIVE');
    await stack.cognition.users.reactivate(carol.id);
    expect((await as(carol, 'select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});
