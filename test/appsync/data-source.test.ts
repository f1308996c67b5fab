import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createDataSource } from '../../src/appsync/data-source.js';
import { oidcSubject } from '../../src/appsync/identity.js';
import type { BatchItemResult, DataSource, DataSourceOptions } from '../../src/appsync/types.js';
import type { Executor } from '../../src/db/executor.js';
import type { User } from '../../src/users/users.js';
import type { UserRole } from '../../src/users/validation.js';
import { startStack, type TestStack } from '../support/stack.js';
import {
  adapt,
  cognitoIdentity,
  eventFrom,
  expectError,
  expectItemError,
  fixture,
  FIXTURE_IAM_ROLE,
  FIXTURE_OIDC_ISSUER,
  FIXTURE_OIDC_SUB,
  FIXTURE_SUB,
  fixtureNames,
  iamIdentity,
  oidcIdentity,
} from './helpers.js';
import { resolvers } from './resolvers.js';

const EVIL_ISSUER = 'https://evil.example.com/oauth2/default';

describe('AppSync data source', () => {
  let stack: TestStack;
  let alice: User; // acme admin, the sample events' Cognito user
  let dave: User; // acme user
  let carol: User; // acme user, bound to the sample OIDC identity
  let bob: User; // globex user
  let zed: User; // initech user (a tenant without notes)
  const subs = { dave: randomUUID(), bob: randomUUID(), zed: randomUUID() };
  let acmeNotes: { id: number; title: string; ownerId: string }[];
  let globexNotes: { id: number; title: string; ownerId: string }[];
  let runs: { 'role-switch': MockInstance<Executor['run']>; credentials: MockInstance<Executor['run']> };
  let finds: MockInstance;
  const logged: { message: string; error: unknown }[] = [];
  const log = (message: string, error: unknown) => void logged.push({ message, error });
  let ds: DataSource;

  const identity = {
    iamRoleArns: { 'arn:aws:iam::123456789012:role/service/Deployer': 'bob@globex.test' },
    iamRoleNames: { [FIXTURE_IAM_ROLE]: 'dave@acme.test' },
    oidcIssuers: [FIXTURE_OIDC_ISSUER],
  };
  const create = (options: Partial<DataSourceOptions> = {}): DataSource =>
    createDataSource({ cognition: stack.cognition, resolvers, identity, log, ...options });

  async function member(email: string, tenant: string, role: UserRole, subject?: string): Promise<User> {
    await stack.cognition.users.invite({ email, tenant, role });
    return (await stack.cognition.users.provision(email, subject ? { subject } : {})).user;
  }

  beforeAll(async () => {
    stack = await startStack();
    for (const slug of ['acme', 'globex', 'initech']) {
      await stack.cognition.tenants.create({ slug, name: slug });
    }
    alice = await member('alice@acme.test', 'acme', 'admin', FIXTURE_SUB);
    dave = await member('dave@acme.test', 'acme', 'user', subs.dave);
    carol = await member(
      'carol@acme.test',
      'acme',
      'user',
      oidcSubject(FIXTURE_OIDC_ISSUER, FIXTURE_OIDC_SUB),
    );
    bob = await member('bob@globex.test', 'globex', 'user', subs.bob);
    // Same sub as carol, at an issuer that is not listed.
    await member('eve@globex.test', 'globex', 'admin', oidcSubject(EVIL_ISSUER, FIXTURE_OIDC_SUB));
    zed = await member('zed@initech.test', 'initech', 'user', subs.zed);
    const insert = 'insert into notes (title) values ($1) returning id, title, owner_id as "ownerId"';
    acmeNotes = [];
    for (const [who, title] of [
      [alice, 'acme one'],
      [dave, 'acme two'],
      [alice, 'acme three'],
    ] as const) {
      acmeNotes.push((await stack.cognition.runAs(who, insert, [title])).rows[0] as (typeof acmeNotes)[0]);
    }
    globexNotes = [
      (await stack.cognition.runAs(bob, insert, ['globex one'])).rows[0] as (typeof acmeNotes)[0],
    ];
    acmeNotes = acmeNotes.map((n) => ({ ...n, id: Number(n.id) }));
    globexNotes = globexNotes.map((n) => ({ ...n, id: Number(n.id) }));

    // What an application would create for API-key callers: a role, its grants, and the
    // authenticator's membership so that the role switch can become it.
    await stack.cluster.admin.query(`
      create role appsync_anon nologin;
      grant appsync_anon to cognition_authenticator;
      create schema site;
      create table site.announcements (id int primary key, body text not null);
      insert into site.announcements values (1, 'hello'), (2, 'world');
      grant usage on schema site to appsync_anon;
      grant select on site.announcements to appsync_anon;`);

    runs = {
      'role-switch': vi.spyOn(await stack.cognition.executor('role-switch'), 'run'),
      credentials: vi.spyOn(await stack.cognition.executor('credentials'), 'run'),
    };
    finds = vi.spyOn(stack.cognition.users, 'find');
    ds = create();
  });
  afterAll(async () => {
    await ds?.close();
    await stack?.stop();
  });
  beforeEach(() => {
    runs['role-switch'].mockClear();
    runs.credentials.mockClear();
    finds.mockClear();
    logged.length = 0;
  });

  const invoke = (name: string, changes: Parameters<typeof eventFrom>[1], source = ds) =>
    source.handler(eventFrom(name, changes));
  const asAlice = (field: string, args: Record<string, unknown> = {}, source = ds) =>
    invoke('invoke-cognito.json', { field, arguments: args }, source);
  const as = (sub: string, field: string, args: Record<string, unknown> = {}, source = ds) =>
    invoke('invoke-cognito.json', { field, arguments: args, identity: cognitoIdentity(sub) }, source);
  const noQuery = () => {
    expect(runs['role-switch']).not.toHaveBeenCalled();
    expect(runs.credentials).not.toHaveBeenCalled();
  };

  describe('every sample event', () => {
    const scenarios: Record<string, () => Promise<void>> = {
      'invoke-cognito.json': async () => {
        // Cognito user pools, by sub: the sample's own identity is alice's.
        expect(await asAlice('Query.notes')).toEqual(acmeNotes);
      },
      'invoke-iam.json': async () => {
        // The identity pool's authenticated role is mapped to dave by role name.
        expect(await invoke('invoke-iam.json', { field: 'Query.whoami' })).toEqual({
          dbUser: dave.dbUsername,
          userId: dave.id,
          role: 'user',
        });
        await expectError(
          invoke('invoke-iam.json', { field: 'Query.whoami' }, create({ identity: {} })),
          'Unauthorized',
        );
      },
      'invoke-oidc.json': async () => {
        expect(await invoke('invoke-oidc.json', { field: 'Query.whoami' })).toMatchObject({
          dbUser: carol.dbUsername,
        });
        await expectError(
          invoke('invoke-oidc.json', { field: 'Query.whoami' }, create({ identity: {} })),
          'Unauthorized',
        );
      },
      'invoke-lambda-authorizer.json': async () => {
        // As it is: its userId names nobody here.
        await expectError(invoke('invoke-lambda-authorizer.json', { field: 'Query.notes' }), 'Unauthorized');
        const event = eventFrom('invoke-lambda-authorizer.json', { field: 'Query.notes' });
        (event.identity as { resolverContext: Record<string, string> }).resolverContext.userId = bob.id;
        expect(await ds.handler(event)).toEqual(globexNotes);
      },
      'lambda-authorizer-response.json': async () => {
        // The authorizer's resolverContext becomes identity.resolverContext; here naming the
        // user by subject under another key.
        const { resolverContext } = fixture('lambda-authorizer-response.json');
        const byTenantKey = create({ identity: { lambdaAuthorizerKey: 'tenantId' } });
        const identity = { resolverContext: { ...resolverContext, tenantId: subs.zed } };
        expect(
          await invoke('invoke-lambda-authorizer.json', { field: 'Query.whoami', identity }, byTenantKey),
        ).toMatchObject({ dbUser: zed.dbUsername });
        await expectError(
          invoke(
            'invoke-lambda-authorizer.json',
            { field: 'Query.whoami', identity: { resolverContext } },
            byTenantKey,
          ),
          'Unauthorized',
        );
      },
      'lambda-authorizer-request.json': async () => {
        // What AppSync sends the authorizer, not the data source: not an event it accepts.
        await expectError(ds.handler(fixture('lambda-authorizer-request.json')), 'BadRequest');
      },
      'invoke-api-key.json': async () => {
        await expectError(invoke('invoke-api-key.json', { field: 'Query.announcements' }), 'Unauthorized');
        const anonymous = create({ identity: { anonymousRole: 'appsync_anon', anonymousSchema: 'site' } });
        expect(await invoke('invoke-api-key.json', { field: 'Query.announcements' }, anonymous)).toEqual([
          { body: 'hello' },
          { body: 'world' },
        ]);
      },
      'batch-invoke.json': async () => {
        const events = fixture('batch-invoke.json').map((event: unknown, i: number) =>
          adapt(event, { field: 'Note.owner', source: [acmeNotes[0], acmeNotes[1], globexNotes[0]][i]! }),
        );
        expect(await ds.handler(events)).toEqual([
          { data: { id: alice.id, email: 'alice@acme.test' } },
          { data: { id: dave.id, email: 'dave@acme.test' } },
          { data: null }, // bob is in another tenant: alice cannot see him
        ]);
      },
      'batch-response-with-errors.json': async () => {
        // The shape AppSync expects back: { data } per item, errorMessage/errorType when failed.
        const sample = fixture('batch-response-with-errors.json') as (BatchItemResult | null)[];
        const events = [0, 1].map(() => eventFrom('invoke-cognito.json', { field: 'Note.copy' }));
        events[0]!.source = { title: 'copied' };
        events[1]!.source = { title: '' };
        const items = (await ds.handler(events)) as BatchItemResult[];
        expect(Object.keys(items[0]!)).toEqual(Object.keys(sample[0]!));
        expect(Object.keys(items[1]!).sort()).toEqual(Object.keys(sample[1]!).sort());
        await stack.cluster.admin.query("delete from tenant_acme.notes where title = 'copied'");
      },
      'graphql-response-batch-partial-errors.json': async () => {
        // AppSync's response to a partly failed batch: the failed item's errorType and message.
        const sample = fixture('graphql-response-batch-partial-errors.json');
        expect(sample.errors[0]).toMatchObject({
          errorType: expect.any(String),
          message: expect.any(String),
        });
      },
      'graphql-response-direct-lambda-error.json': async () => {
        // AppSync's response to a thrown error: errorType is the error's name, message its message.
        const sample = fixture('graphql-response-direct-lambda-error.json');
        const error = await expectError(asAlice('Query.nothing'), 'ResolverNotFound');
        expect(Object.keys(sample.errors[0])).toEqual(expect.arrayContaining(['errorType', 'message']));
        expect({ errorType: error.name, message: error.message }).toEqual({
          errorType: 'ResolverNotFound',
          message: 'ERR_RESOLVER_NOT_FOUND: no resolver for Query.nothing',
        });
      },
    };

    it('has a scenario for every sample file', () => {
      expect(Object.keys(scenarios).sort()).toEqual(fixtureNames());
    });
    it.each(fixtureNames())('%s', async (name) => {
      const scenario = scenarios[name];
      expect(scenario, `no scenario for ${name}`).toBeDefined();
      await scenario!();
    });
  });

  describe('identities', () => {
    it('refuses identities that map to nobody, before any query', async () => {
      const unknown = [
        eventFrom('invoke-cognito.json', { field: 'Query.notes', identity: cognitoIdentity(randomUUID()) }),
        eventFrom('invoke-iam.json', {
          field: 'Query.notes',
          identity: iamIdentity('arn:aws:iam::123456789012:user/x'),
        }),
        eventFrom('invoke-oidc.json', {
          field: 'Query.notes',
          identity: oidcIdentity(FIXTURE_OIDC_ISSUER, 'nobody'),
        }),
        eventFrom('invoke-lambda-authorizer.json', { field: 'Query.notes' }),
        eventFrom('invoke-api-key.json', { field: 'Query.notes' }),
        eventFrom('invoke-cognito.json', { field: 'Query.notes', identity: { unexpected: true } }),
      ];
      for (const event of unknown) {
        const error = await expectError(ds.handler(event), 'Unauthorized', /^ERR_UNAUTHORIZED: /);
        expect(error.message).not.toMatch(/@|[0-9a-f]{8}-/);
      }
      noQuery();
    });

    it('Cognito: the same sub is the same user; claims reach the database, not the tenant', async () => {
      expect(await as(subs.dave, 'Query.whoami')).toEqual({
        dbUser: dave.dbUsername,
        userId: dave.id,
        role: 'user',
      });
      const claims = (await asAlice('Query.claims')) as Record<string, unknown>;
      expect(claims['sub']).toBe(FIXTURE_SUB);
      expect(claims['email']).toBe('mary_major@example.com');
    });

    it('IAM: a role ARN matches every session of that role, in its own account only', async () => {
      const arn = (a: string) =>
        eventFrom('invoke-iam.json', { field: 'Query.whoami', identity: iamIdentity(a) });
      for (const session of ['ci-run-7', 'other@session']) {
        expect(
          await ds.handler(arn(`arn:aws:sts::123456789012:assumed-role/Deployer/${session}`)),
        ).toMatchObject({
          dbUser: bob.dbUsername,
        });
      }
      await expectError(
        ds.handler(arn('arn:aws:sts::999999999999:assumed-role/Deployer/ci-run-7')),
        'Unauthorized',
      );
      await expectError(
        ds.handler(arn('arn:aws:sts::123456789012:assumed-role/Deployers/ci-run-7')),
        'Unauthorized',
      );
      // By name: the identity pool role with any session name.
      expect(
        await ds.handler(arn(`arn:aws:sts::123456789012:assumed-role/${FIXTURE_IAM_ROLE}/someone-else`)),
      ).toMatchObject({ dbUser: dave.dbUsername });
      await expectError(
        ds.handler(arn(`arn:aws:sts::123456789012:assumed-role/${FIXTURE_IAM_ROLE}2/x`)),
        'Unauthorized',
      );
      // An exact ARN (an IAM user), mapped by user id.
      const exact = create({ identity: { iamRoleArns: { 'arn:aws:iam::123456789012:user/ops': zed.id } } });
      expect(await exact.handler(arn('arn:aws:iam::123456789012:user/ops'))).toMatchObject({
        dbUser: zed.dbUsername,
      });
      await expectError(exact.handler(arn('arn:aws:iam::123456789012:user/ops2')), 'Unauthorized');
    });

    it('OIDC: only listed issuers, and a sub is only ever matched with its issuer', async () => {
      const oidc = (issuer: string, sub: string, source = ds) =>
        invoke('invoke-oidc.json', { field: 'Query.whoami', identity: oidcIdentity(issuer, sub) }, source);
      expect(await oidc(FIXTURE_OIDC_ISSUER, FIXTURE_OIDC_SUB)).toMatchObject({ dbUser: carol.dbUsername });
      // eve is bound to the same sub at an issuer that is not listed.
      await expectError(oidc(EVIL_ISSUER, FIXTURE_OIDC_SUB), 'Unauthorized');
      const listed = create({ identity: { oidcIssuers: [FIXTURE_OIDC_ISSUER, EVIL_ISSUER] } });
      expect(await oidc(EVIL_ISSUER, FIXTURE_OIDC_SUB, listed)).toMatchObject({ role: 'admin' });
      // A listed issuer's token whose sub equals alice's Cognito sub is not alice.
      await expectError(oidc(FIXTURE_OIDC_ISSUER, FIXTURE_SUB), 'Unauthorized');
    });

    it('Lambda authorizer: a user id or a subject under the configured key', async () => {
      const lambda = (value: string) =>
        invoke('invoke-lambda-authorizer.json', {
          field: 'Query.whoami',
          identity: { resolverContext: { userId: value, tenantId: 'ignored' } },
        });
      expect(await lambda(dave.id)).toMatchObject({ dbUser: dave.dbUsername });
      expect(await lambda(subs.bob)).toMatchObject({ dbUser: bob.dbUsername });
      await expectError(lambda(randomUUID()), 'Unauthorized');
    });

    it('API key: the anonymous role when configured, which the database confines', async () => {
      const anonymous = create({ identity: { anonymousRole: 'appsync_anon', anonymousSchema: 'site' } });
      const apiKey = (field: string, source = anonymous) => invoke('invoke-api-key.json', { field }, source);
      expect(await apiKey('Query.whoami')).toEqual({
        dbUser: 'appsync_anon',
        userId: null,
        role: 'anonymous',
      });
      await expectError(apiKey('Query.notes'), 'InternalError'); // no notes in its search_path
      await expectError(apiKey('Query.otherTenantNotes'), 'Unauthorized');
      const bare = create({ identity: { anonymousRole: 'appsync_anon' } });
      await expectError(apiKey('Query.announcements', bare), 'InternalError'); // no schema: unqualified names fail
      runs['role-switch'].mockClear();
      await expectError(apiKey('Query.whoami', ds), 'Unauthorized', 'ERR_UNAUTHORIZED: not authorized');
      noQuery();
    });

    it('resolveCaller: the database user an identity runs as', async () => {
      expect(await ds.resolveCaller(fixture('invoke-cognito.json').identity)).toEqual({
        userId: alice.id,
        dbUsername: alice.dbUsername,
        schema: 'tenant_acme',
        tenantId: alice.tenantId,
        role: 'admin',
      });
      await expectError(ds.resolveCaller(null), 'Unauthorized');
    });
  });

  describe('results', () => {
    it("a caller sees exactly their tenant's rows; another tenant's user sees none of them", async () => {
      expect(await asAlice('Query.notes')).toEqual(acmeNotes);
      expect(await as(subs.dave, 'Query.notes')).toEqual(acmeNotes);
      expect(await as(subs.bob, 'Query.notes')).toEqual(globexNotes);
      expect(await as(subs.zed, 'Query.notes')).toEqual([]);
      expect(await as(subs.bob, 'Query.note', { id: acmeNotes[2]!.id })).toBeNull();
      expect(await asAlice('Query.note', { id: acmeNotes[2]!.id })).toEqual(acmeNotes[2]);
      expect(await as(subs.zed, 'Query.noteCount')).toBe(0);
      expect(await as(subs.bob, 'Query.noteCount')).toBe(1);
    });

    it('a mutation runs as the caller: the row is theirs, in their tenant', async () => {
      const created = (await as(subs.bob, 'Mutation.createNote', { title: 'globex two' })) as Record<
        string,
        unknown
      >;
      expect(created).toEqual({ id: expect.any(Number), title: 'globex two', ownerId: bob.id });
      expect(await as(subs.bob, 'Query.note', { id: created['id'] })).toEqual(created);
      const { rows } = await stack.cluster.admin.query(
        'select owner_id from tenant_globex.notes where id = $1',
        [created['id']],
      );
      expect(rows).toEqual([{ owner_id: bob.id }]);
      await stack.cluster.admin.query('delete from tenant_globex.notes where id = $1', [created['id']]);
    });

    it('a batch returns one item per event, in order; one failed item does not fail the others', async () => {
      const titles = ['batch a', '', 'batch c', 'x'.repeat(201)];
      const events = titles.map((title) => {
        const event = eventFrom('invoke-cognito.json', {
          field: 'Note.copy',
          identity: cognitoIdentity(subs.zed),
        });
        event.source = { title };
        return event;
      });
      const items = (await ds.handler(events)) as BatchItemResult[];
      expect(items).toHaveLength(4);
      expect(items[0]).toEqual({ data: { title: 'batch a' } });
      expectItemError(items[1], 'ConstraintViolation', 'ERR_CONSTRAINT: notes_title_check violated');
      expect(items[2]).toEqual({ data: { title: 'batch c' } });
      expectItemError(items[3], 'ConstraintViolation', 'ERR_CONSTRAINT: notes_title_check violated');
      // Items run concurrently: both rows exist, in whichever order they were written.
      const written = (await as(subs.zed, 'Query.notes')) as { title: string }[];
      expect(written.map((n) => n.title).sort()).toEqual(['batch a', 'batch c']);
      // An item of another field, or refused, in the same batch.
      const mixed = [
        eventFrom('invoke-cognito.json', { field: 'Query.noteCount', identity: cognitoIdentity(subs.zed) }),
        eventFrom('invoke-cognito.json', {
          field: 'Query.otherTenantNotes',
          identity: cognitoIdentity(subs.zed),
        }),
        eventFrom('invoke-cognito.json', {
          field: 'Query.noteCount',
          identity: cognitoIdentity(randomUUID()),
        }),
        eventFrom('invoke-cognito.json', { field: 'Query.unknown', identity: cognitoIdentity(subs.zed) }),
      ];
      const results = (await ds.handler(mixed)) as BatchItemResult[];
      expect(results[0]).toEqual({ data: 2 });
      expectItemError(results[1], 'Unauthorized', /^ERR_PERMISSION_DENIED: /);
      expectItemError(results[2], 'Unauthorized', /^ERR_UNAUTHORIZED: /);
      expectItemError(results[3], 'ResolverNotFound');
      expect(await ds.handler([])).toEqual([]);
    });

    it('values are JSON-typed from the column types', async () => {
      const types = create({
        resolvers: {
          'Query.types': {
            returns: 'one',
            sql: `select 9007199254740993::int8 as big, 42::int8 as small, 1.10::numeric as n, now() as t,
                    '2024-01-02 03:04:05.678+02'::timestamptz as tz, '2024-01-02 03:04:05.678'::timestamp as ts,
                    '2024-02-29'::date as d, '{"a":1}'::jsonb as j, '[1,"x"]'::json as js, true as b,
                    '\\x0102'::bytea as bin, array[1,2] as arr, array[9007199254740993::int8, 7] as bigs,
                    array['{"a":1}'::jsonb] as jarr, array['\\x01'::bytea] as bins, 2.5::float8 as f,
                    'NaN'::float8 as nan, null::int as nothing, 'text' as s, 7::int2 as i2,
                    array[1.10::numeric, 123456789012345678901234567890.5] as nums`,
          },
        },
      });
      const before = Date.now();
      const row = (await types.handler(eventFrom('invoke-cognito.json', { field: 'Query.types' }))) as Record<
        string,
        unknown
      >;
      const { t, ...rest } = row;
      expect(rest).toEqual({
        big: '9007199254740993',
        small: 42,
        n: '1.10',
        nums: ['1.10', '123456789012345678901234567890.5'],
        tz: '2024-01-02T01:04:05.678Z',
        ts: '2024-01-02T03:04:05.678Z',
        d: '2024-02-29',
        j: { a: 1 },
        js: [1, 'x'],
        b: true,
        bin: 'AQI=',
        arr: [1, 2],
        bigs: ['9007199254740993', 7],
        jarr: [{ a: 1 }],
        bins: ['AQ=='],
        f: 2.5,
        nan: 'NaN',
        nothing: null,
        s: 'text',
        i2: 7,
      });
      expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Math.abs(Date.parse(t as string) - before)).toBeLessThan(60_000);
      expect(JSON.parse(JSON.stringify(row))).toEqual(row);
    });

    it('returns: one gives null without a row; scalar gives the first column of the first row', async () => {
      expect(await asAlice('Query.note', { id: 999999 })).toBeNull();
      expect(await asAlice('Query.noteCount')).toBe(acmeNotes.length);
      const scalar = create({
        resolvers: {
          'Query.none': { sql: 'select 1 as one where false', returns: 'scalar' },
          'Query.big': { sql: 'select 9007199254740993::int8, 1', returns: 'scalar' },
        },
      });
      expect(await scalar.handler(eventFrom('invoke-cognito.json', { field: 'Query.none' }))).toBeNull();
      expect(await scalar.handler(eventFrom('invoke-cognito.json', { field: 'Query.big' }))).toBe(
        '9007199254740993',
      );
    });
  });

  describe('errors', () => {
    it('a permission or RLS denial is Unauthorized, with nothing of the SQL', async () => {
      const denied = await expectError(
        asAlice('Query.otherTenantNotes'),
        'Unauthorized',
        /^ERR_PERMISSION_DENIED: /,
      );
      expect(String((denied.cause as Error).message)).toMatch(/permission denied/);
      // RLS: a note cannot be written in someone else's name (even by a tenant admin).
      const rls = await expectError(
        asAlice('Mutation.createNoteFor', { title: 'forged', ownerId: dave.id }),
        'Unauthorized',
        'ERR_PERMISSION_DENIED: permission denied',
      );
      expect(String((rls.cause as Error).message)).toMatch(/row-level security/);
      expect(await as(subs.dave, 'Query.notes')).toEqual(acmeNotes);
    });

    it('a constraint violation is a ConstraintViolation naming the constraint', async () => {
      await expectError(
        asAlice('Mutation.createNote', { title: '' }),
        'ConstraintViolation',
        'ERR_CONSTRAINT: notes_title_check violated',
      );
      await expectError(
        asAlice('Mutation.createNote', {}),
        'ConstraintViolation',
        'ERR_CONSTRAINT: notes_title_not_null violated',
      );
      expect(logged).toEqual([]);
    });

    it('anything else is masked as InternalError with an id the log carries', async () => {
      const error = await expectError(asAlice('Query.broken'), 'InternalError');
      const id = /^ERR_INTERNAL: Internal error \(id ([0-9a-f]{16})\)$/.exec(error.message)?.[1];
      expect(id).toBeDefined();
      expect(error.message).not.toMatch(/no_such_table/);
      expect(logged).toHaveLength(1);
      expect(logged[0]!.message).toContain(id);
      expect(logged[0]!.message).toContain('Query.broken');
      expect(String((logged[0]!.error as Error).message)).toMatch(/no_such_table/);
      // The default log is console.error.
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const plain = createDataSource({ cognition: stack.cognition, resolvers });
        const again = await expectError(
          plain.handler(eventFrom('invoke-cognito.json', { field: 'Query.broken' })),
          'InternalError',
        );
        expect(errors).toHaveBeenCalledTimes(1);
        expect(String(errors.mock.calls[0]![0])).toContain(/\(id ([0-9a-f]+)\)/.exec(again.message)![1]);
      } finally {
        errors.mockRestore();
      }
    });

    it('a bad argument value is a BadRequest', async () => {
      await expectError(asAlice('Query.note', { id: 'abc' }), 'BadRequest', /^ERR_INVALID_ARGUMENT: /);
      expect(logged).toEqual([]);
    });

    it('an unknown Type.field is ResolverNotFound, before any lookup or query', async () => {
      await expectError(
        asAlice('Query.nope'),
        'ResolverNotFound',
        'ERR_RESOLVER_NOT_FOUND: no resolver for Query.nope',
      );
      await expectError(asAlice('Note.title'), 'ResolverNotFound');
      expect(finds).not.toHaveBeenCalled();
      noQuery();
      await expectError(ds.handler({ arguments: {} } as never), 'BadRequest');
      await expectError(ds.handler(null as never), 'BadRequest');
    });

    it('rejects resolver definitions that cannot work, at start', () => {
      const bad = (r: unknown) => () => create({ resolvers: r as never });
      expect(bad({ notes: { sql: 'select 1' } })).toThrow(/Type\.field/);
      expect(bad({ 'Query.x': { sql: '' } })).toThrow(/sql/);
      expect(bad({ 'Query.x': { sql: 'select 1', params: ['args.id'] } })).toThrow(/path/);
      expect(bad({ 'Query.x': { sql: 'select 1', returns: 'all' } })).toThrow(/returns/);
      expect(() => create({ mode: 'magic' as never })).toThrow(/mode/);
    });
  });

  describe('template payloads', () => {
    const payloadEvent = (payload: unknown) =>
      eventFrom('invoke-cognito.json', { field: 'Query.anything', payload });

    it('are refused unless enabled', async () => {
      const event = payloadEvent({ sql: 'select current_user as "dbUser"', params: [] });
      await expectError(ds.handler(event), 'BadRequest', /^ERR_INVALID_EVENT: /);
      noQuery();
    });

    it('run as the caller when enabled', async () => {
      const templates = create({ allowTemplatePayload: true });
      expect(
        await templates.handler(
          payloadEvent({ sql: 'select current_user as "dbUser", $1::text as arg', params: ['value'] }),
        ),
      ).toEqual([{ dbUser: alice.dbUsername, arg: 'value' }]);
      expect(
        await templates.handler(payloadEvent({ sql: 'select count(*) from notes', returns: 'scalar' })),
      ).toBe(acmeNotes.length);
      await expectError(templates.handler(payloadEvent({ sql: 42 })), 'BadRequest');
      await expectError(templates.handler(payloadEvent({ sql: 'select 1', params: 'x' })), 'BadRequest');
      // Still only as the caller: unknown identities are refused.
      const stranger = eventFrom('invoke-cognito.json', {
        identity: cognitoIdentity(randomUUID()),
        payload: { sql: 'select 1' },
      });
      await expectError(templates.handler(stranger), 'Unauthorized');
    });
  });

  describe.each(['role-switch', 'credentials'] as const)('%s mode', (mode) => {
    let modal: DataSource;
    beforeAll(() => {
      modal = create({ mode, identityCacheMs: 60_000 });
    });
    const other = mode === 'role-switch' ? 'credentials' : 'role-switch';

    it('runs with that executor, as the caller', async () => {
      expect(await as(subs.dave, 'Query.notes', {}, modal)).toEqual(acmeNotes);
      expect(await as(subs.bob, 'Query.notes', {}, modal)).toEqual(globexNotes);
      expect(await as(subs.bob, 'Query.whoami', {}, modal)).toMatchObject({ dbUser: bob.dbUsername });
      expect(runs[mode]).toHaveBeenCalledTimes(3);
      expect(runs[other]).not.toHaveBeenCalled();
      await expectError(as(subs.dave, 'Query.otherTenantNotes', {}, modal), 'Unauthorized');
      await expectError(as(subs.bob, 'Mutation.createNote', { title: '' }, modal), 'ConstraintViolation');
    });

    it('refuses a suspended user before any query', async () => {
      const sub = randomUUID();
      await member(`frank.${mode}@acme.test`, 'acme', 'user', sub);
      await stack.cognition.users.suspend(`frank.${mode}@acme.test`);
      await expectError(
        as(sub, 'Query.notes', {}, modal),
        'Unauthorized',
        'ERR_USER_INACTIVE: this user is not active',
      );
      expect(finds).toHaveBeenCalled();
      noQuery();
    });

    it('refuses a suspended user the cache still holds: the database says no', async () => {
      const sub = randomUUID();
      const gina = await member(`gina.${mode}@acme.test`, 'acme', 'user', sub);
      expect(await as(sub, 'Query.whoami', {}, modal)).toMatchObject({ dbUser: gina.dbUsername });
      // Suspended elsewhere (another container, or a tenant admin in SQL): nothing here is told.
      await stack.cognition.users.suspend(gina.id);
      finds.mockClear();
      runs[mode].mockClear();
      await expectError(as(sub, 'Query.notes', {}, modal), 'Unauthorized');
      expect(finds).not.toHaveBeenCalled(); // the cached identity was used...
      expect(runs[mode]).toHaveBeenCalledTimes(1); // ...and the database refused the query
      // The refusal dropped the cached identity: the next call is refused by the lookup.
      runs[mode].mockClear();
      await expectError(as(sub, 'Query.notes', {}, modal), 'Unauthorized', /ERR_USER_INACTIVE/);
      expect(finds).toHaveBeenCalled();
      expect(runs[mode]).not.toHaveBeenCalled();
      // Reactivated: served again.
      await stack.cognition.users.reactivate(gina.id);
      expect(await as(sub, 'Query.whoami', {}, modal)).toMatchObject({ dbUser: gina.dbUsername });
    });
  });
});
