import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolverDefinition } from '../../src/appsync/types.js';
import type { ExecutionMode } from '../../src/cognition.js';
import type { User } from '../../src/users/users.js';
import { expectCode, expectDenied } from '../../test/support/expect.js';
import { startStack, type TestStack } from '../../test/support/stack.js';
import { resolvers } from './resolvers.js';
import { AGENCIES, seedAgents, type SeedResult } from './seed.js';

const TEMPLATE = fileURLToPath(new URL('./template/', import.meta.url));
const SCHEMA_FILE = fileURLToPath(new URL('./schema.graphql', import.meta.url));

// What AppSync declares itself; a schema given to AppSync must not declare these.
const APPSYNC_BUILTINS = `
  scalar AWSDate scalar AWSTime scalar AWSDateTime scalar AWSTimestamp scalar AWSEmail
  scalar AWSJSON scalar AWSURL scalar AWSPhone scalar AWSIPAddress
  directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
  directive @aws_api_key on OBJECT | FIELD_DEFINITION
  directive @aws_iam on OBJECT | FIELD_DEFINITION
  directive @aws_oidc on OBJECT | FIELD_DEFINITION
  directive @aws_lambda on OBJECT | FIELD_DEFINITION
  directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
  directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
`;

type Row = Record<string, unknown>;
interface ResolveInput {
  arguments?: Row;
  source?: Row | null;
}

/** The value of a resolver's parameter path (`arguments.id`, `source.officeId`). */
function paramsFor(definition: ResolverDefinition, input: ResolveInput): unknown[] {
  if (typeof definition.params === 'function') {
    throw new Error('the agents resolvers declare their parameters as paths');
  }
  const root: Row = { arguments: input.arguments ?? {}, source: input.source ?? null };
  return (definition.params ?? []).map(
    (path) =>
      path
        .split('.')
        .reduce<unknown>(
          (value, key) => (value !== null && typeof value === 'object' ? (value as Row)[key] : undefined),
          root,
        ) ?? null,
  );
}

let stack: TestStack;
let firstSeed: SeedResult;

/** Runs the resolver's SQL with its parameters as the user and shapes the result like AppSync would. */
async function resolve(
  user: User,
  field: string,
  input: ResolveInput = {},
  mode?: ExecutionMode,
): Promise<unknown> {
  const definition = resolvers[field];
  if (!definition) throw new Error(`no resolver for ${field}`);
  const { rows } = await stack.cognition.runAs<Row>(
    user,
    definition.sql,
    paramsFor(definition, input),
    mode ? { mode } : {},
  );
  switch (definition.returns ?? 'many') {
    case 'one':
      return rows[0] ?? null;
    case 'scalar':
      return rows[0] ? (Object.values(rows[0])[0] ?? null) : null;
    default:
      return rows;
  }
}

async function list(user: User, field: string, input: ResolveInput = {}): Promise<Row[]> {
  return (await resolve(user, field, input)) as Row[];
}

async function codenames(user: User, field = 'Query.agents', input: ResolveInput = {}): Promise<string[]> {
  return (await list(user, field, input)).map((a) => a.codename as string);
}

async function bodies(user: User): Promise<string[]> {
  return (await list(user, 'Query.messages')).map((m) => m.body as string).sort();
}

const users: Record<string, User> = {};
const as = (email: string): User => {
  const user = users[email];
  if (!user) throw new Error(`no seeded user ${email}`);
  return user;
};
// MI6
const M = 'm@mi6.test';
const MONEYPENNY = 'moneypenny@mi6.test'; // London
const KERIM = 'kerim@mi6.test'; // Station T
const BOND = 'agent.007@mi6.test'; // London
const TREVELYAN = 'agent.006@mi6.test'; // Station T
// CIA
const DIRECTOR = 'director@cia.test';
const LANDY = 'landy@cia.test'; // Berlin Station
const BOURNE = 'agent.treadstone@cia.test'; // Berlin Station
const EVERYONE = [
  M,
  MONEYPENNY,
  KERIM,
  BOND,
  TREVELYAN,
  DIRECTOR,
  'abbott@cia.test',
  LANDY,
  'agent.cardinal@cia.test',
  BOURNE,
];

/** MI6's agents by codename, as the lead sees them. */
const mi6: Record<string, Row> = {};
const agent = (codename: string): Row => {
  const row = mi6[codename];
  if (!row) throw new Error(`no MI6 agent ${codename}`);
  return row;
};

/** Every row of the agencies' tables, sequences and users, read as the superuser (no RLS). */
async function everything(): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const schema of ['tenant_mi6', 'tenant_cia']) {
    for (const table of ['offices', 'office_admins', 'agents', 'missions', 'messages']) {
      const { rows } = await stack.cluster.admin.query<{ rows: unknown }>(
        `select coalesce(json_agg(x order by to_jsonb(x)::text), '[]') as rows from ${schema}.${table} x`,
      );
      out[`${schema}.${table}`] = rows[0]?.rows;
    }
  }
  const sequences = await stack.cluster.admin.query(
    `select schemaname, sequencename, last_value from pg_sequences
     where schemaname in ('tenant_mi6', 'tenant_cia') order by 1, 2`,
  );
  const people = await stack.cluster.admin.query(
    `select u.id, u.email, u.role, u.status, u.db_username, u.tenant_id from cognition.users u order by u.email`,
  );
  const tenants = await stack.cluster.admin.query(
    'select id, slug, name, status from cognition.tenants order by slug',
  );
  return { ...out, sequences: sequences.rows, people: people.rows, tenants: tenants.rows };
}

beforeAll(async () => {
  stack = await startStack({ template: TEMPLATE });
  firstSeed = await seedAgents(stack.cognition);
  for (const email of EVERYONE) users[email] = await stack.cognition.users.require({ email });
  for (const row of await list(as(M), 'Query.agents')) mi6[row.codename as string] = row;
});

afterAll(async () => {
  await stack?.stop();
});

describe('schema.graphql and resolvers.ts', () => {
  let schema: GraphQLSchema;
  let sdl: string;
  beforeAll(async () => {
    sdl = await readFile(SCHEMA_FILE, 'utf8');
    schema = buildSchema(APPSYNC_BUILTINS + sdl);
  });

  const fieldOf = (key: string): GraphQLField<unknown, unknown> => {
    const [typeName, fieldName] = key.split('.');
    const type = schema.getType(typeName ?? '');
    if (!isObjectType(type)) throw new Error(`${key}: no object type ${typeName}`);
    const field = type.getFields()[fieldName ?? ''];
    if (!field) throw new Error(`${key}: ${typeName} has no field ${fieldName}`);
    return field;
  };

  it('declares no AppSync built-in itself', () => {
    expect(sdl).not.toMatch(/^\s*(scalar|directive)\s/m);
  });

  it('has a resolver for every field of Query and Mutation, and only for fields that exist', () => {
    for (const key of Object.keys(resolvers)) fieldOf(key);
    const roots = ['Query', 'Mutation'].flatMap((name) => {
      const type = schema.getType(name);
      return isObjectType(type) ? Object.keys(type.getFields()).map((f) => `${name}.${f}`) : [];
    });
    expect(roots.length).toBeGreaterThan(5);
    expect(roots.filter((key) => !resolvers[key])).toEqual([]);
  });

  it("shapes each resolver's result like its field's type", () => {
    for (const [key, definition] of Object.entries(resolvers)) {
      const field = fieldOf(key);
      const type = isNonNullType(field.type) ? field.type.ofType : field.type;
      const returns = definition.returns ?? 'many';
      if (returns === 'many') expect(isListType(type), key).toBe(true);
      else expect(isListType(type), key).toBe(false);
      if (returns === 'scalar') expect(isScalarType(getNamedType(field.type)), key).toBe(true);
      else expect(isObjectType(getNamedType(field.type)), key).toBe(true);
    }
  });

  it('binds every argument it reads, and reads only arguments the field declares', () => {
    for (const [key, definition] of Object.entries(resolvers)) {
      const declared = fieldOf(key).args.map((a) => a.name);
      const used = (definition.params as string[] | undefined) ?? [];
      const fromArguments = used.filter((p) => p.startsWith('arguments.')).map((p) => p.slice(10));
      expect(
        fromArguments.filter((a) => !declared.includes(a)),
        key,
      ).toEqual([]);
      expect(
        declared.filter((a) => !fromArguments.includes(a)),
        key,
      ).toEqual([]);
      const placeholders = new Set(definition.sql.match(/\$\d+/g) ?? []);
      expect(placeholders.size, key).toBe(used.length);
    }
  });

  it('takes no tenant argument anywhere: the tenant comes from the caller', () => {
    const offenders: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        for (const arg of field.args) {
          if (/^tenant(_?id)?$/i.test(arg.name)) offenders.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect(Object.values(resolvers).flatMap((d) => d.sql.match(/\btenant_[a-z0-9_]+\./g) ?? [])).toEqual([]);
  });

  it('lets only the admin group call createAgent, and subscribes onMessage to sendMessage', () => {
    const createAgent = fieldOf('Mutation.createAgent').astNode?.directives ?? [];
    const auth = createAgent.find((d) => d.name.value === 'aws_cognito_user_pools');
    const groups = auth?.arguments?.find((a) => a.name.value === 'cognito_groups')?.value;
    expect(
      groups?.kind === 'ListValue' ? groups.values.map((v) => ('value' in v ? v.value : null)) : null,
    ).toEqual(['admin']);
    const onMessage = fieldOf('Subscription.onMessage');
    const subscribe = onMessage.astNode?.directives?.find((d) => d.name.value === 'aws_subscribe');
    const mutations = subscribe?.arguments?.[0]?.value;
    expect(
      mutations?.kind === 'ListValue' ? mutations.values.map((v) => ('value' in v ? v.value : null)) : null,
    ).toEqual(['sendMessage']);
    expect(onMessage.args.map((a) => a.name)).toEqual(['recipientId']);
  });
});

describe('seedAgents', () => {
  it('creates two agencies, each with a lead, two office administrators and two agents with a login', () => {
    expect(firstSeed.tenants).toEqual([
      { slug: 'mi6', name: 'MI6', created: true },
      { slug: 'cia', name: 'CIA', created: true },
    ]);
    for (const slug of ['mi6', 'cia']) {
      const of = firstSeed.users.filter((u) => u.tenant === slug);
      expect(of.filter((u) => u.title === 'lead').map((u) => u.role)).toEqual(['admin']);
      expect(of.filter((u) => u.title === 'office admin').map((u) => u.role)).toEqual(['user', 'user']);
      expect(of.filter((u) => u.title === 'agent').map((u) => u.role)).toEqual(['user', 'user']);
      expect(of.every((u) => u.created)).toBe(true);
    }
    expect(firstSeed.users.map((u) => u.email).sort()).toEqual([...EVERYONE].sort());
    for (const email of EVERYONE) expect(as(email).status).toBe('active');
    expect(firstSeed.rowsInserted).toBeGreaterThan(0);
  });

  it('is idempotent: a second run creates and changes nothing', async () => {
    const before = await everything();
    const again = await seedAgents(stack.cognition);
    expect(again.rowsInserted).toBe(0);
    expect(again.tenants.map((t) => t.created)).toEqual([false, false]);
    expect(again.users.filter((u) => u.created)).toEqual([]);
    expect(again.users.map(({ created: _, ...u }) => u)).toEqual(
      firstSeed.users.map(({ created: _, ...u }) => u),
    );
    expect(await everything()).toEqual(before);
  });

  it("puts each agency's data in its own schema", async () => {
    expect((await stack.cognition.tenants.require('mi6')).schemaName).toBe('tenant_mi6');
    const { rows } = await stack.cluster.admin.query(
      'select (select count(*) from tenant_mi6.agents)::int as mi6, (select count(*) from tenant_cia.agents)::int as cia',
    );
    expect(rows[0]).toEqual({ mi6: 3, cia: 3 });
  });
});

describe('item level: who sees which agents', () => {
  it('the lead sees every agent of the agency', async () => {
    expect(await codenames(as(M))).toEqual(['006', '007', '009']);
    const london = (await list(as(M), 'Query.offices')).find((o) => o.name === 'London');
    expect(await codenames(as(M), 'Office.agents', { source: london ?? null })).toEqual(['007', '009']);
  });

  it('an office administrator sees only the agents of their office', async () => {
    expect(await codenames(as(MONEYPENNY))).toEqual(['007', '009']);
    expect(await codenames(as(KERIM))).toEqual(['006']);
    expect(await resolve(as(MONEYPENNY), 'Query.agent', { arguments: { id: agent('006').id } })).toBeNull();
    expect(await resolve(as(KERIM), 'Query.agent', { arguments: { id: agent('007').id } })).toBeNull();
    expect(
      await resolve(as(MONEYPENNY), 'Query.agent', { arguments: { id: agent('007').id } }),
    ).toMatchObject({
      codename: '007',
    });
    // The office directory is open to everyone; its agents are not.
    const offices = await list(as(MONEYPENNY), 'Query.offices');
    expect(offices.map((o) => o.name)).toEqual(['London', 'Station T']);
    const stationT = offices.find((o) => o.name === 'Station T') ?? null;
    expect(await codenames(as(MONEYPENNY), 'Office.agents', { source: stationT })).toEqual([]);
    expect(await codenames(as(KERIM), 'Office.agents', { source: stationT })).toEqual(['006']);
  });

  it('an agent sees only themself', async () => {
    expect(await codenames(as(BOND))).toEqual(['007']);
    expect(await codenames(as(TREVELYAN))).toEqual(['006']);
    expect(await resolve(as(BOND), 'Query.agent', { arguments: { id: agent('009').id } })).toBeNull();
    const me = (await resolve(as(BOND), 'Query.me')) as Row;
    expect(me).toMatchObject({ email: BOND, role: 'user' });
    expect(await resolve(as(BOND), 'Me.agent', { source: me })).toMatchObject({ codename: '007' });
    expect(await resolve(as(MONEYPENNY), 'Me.agent', { source: { id: as(MONEYPENNY).id } })).toBeNull();
  });

  it('missions are visible exactly when their agent is', async () => {
    const missionsOf = async (user: string, codename: string) =>
      (await list(as(user), 'Agent.missions', { source: agent(codename) })).map((m) => m.codename);
    expect(await missionsOf(M, '007')).toEqual(['GOLDENEYE']);
    expect(await missionsOf(M, '006')).toEqual(['JANUS']);
    expect(await missionsOf(MONEYPENNY, '007')).toEqual(['GOLDENEYE']);
    expect(await missionsOf(MONEYPENNY, '006')).toEqual([]);
    expect(await missionsOf(BOND, '007')).toEqual(['GOLDENEYE']);
    expect(await missionsOf(BOND, '006')).toEqual([]);
    const [goldeneye] = await list(as(BOND), 'Agent.missions', { source: agent('007') });
    expect(await resolve(as(BOND), 'Mission.agent', { source: goldeneye ?? null })).toMatchObject({
      codename: '007',
    });
    expect(await resolve(as(BOND), 'Agent.office', { source: agent('007') })).toMatchObject({
      name: 'London',
    });
  });
});

describe('attribute level: real names', () => {
  it.each(['role-switch', 'credentials'] as const)('the lead reads every real name (%s)', async (mode) => {
    const names: Record<string, unknown> = {};
    for (const codename of ['006', '007', '009']) {
      names[codename] = await resolve(as(M), 'Agent.realName', { source: agent(codename) }, mode);
    }
    expect(names).toEqual({ '006': 'Alec Trevelyan', '007': 'James Bond', '009': 'Sam Thorne' });
  });

  it.each(['role-switch', 'credentials'] as const)(
    'Postgres refuses an office administrator the real name of their own agent (%s)',
    async (mode) => {
      const denied = resolve(as(MONEYPENNY), 'Agent.realName', { source: agent('007') }, mode);
      await expectDenied(denied);
      await expect(denied).rejects.toThrow(/permission denied for table agents/);
    },
  );

  it('Postgres refuses an agent their own real name', async () => {
    await expectDenied(resolve(as(BOND), 'Agent.realName', { source: agent('007') }));
  });

  it('the other columns stay readable, and no way around the column privilege works', async () => {
    const [row] = await list(as(MONEYPENNY), 'Query.agents');
    expect(Object.keys(row ?? {}).sort()).toEqual(
      ['clearance', 'codename', 'createdAt', 'id', 'officeId', 'status', 'userId'].sort(),
    );
    await expectDenied(stack.cognition.runAs(as(MONEYPENNY), 'select * from agents'));
    await expectDenied(
      stack.cognition.runAs(as(MONEYPENNY), "select codename from agents where real_name like 'J%'"),
    );
    await expectDenied(stack.cognition.runAs(as(MONEYPENNY), 'select to_jsonb(a) from agents a'));
  });
});

describe('the other agency', () => {
  it("sees none of MI6's agents, missions or messages", async () => {
    const mi6Codenames = Object.keys(mi6);
    for (const email of [DIRECTOR, LANDY, BOURNE]) {
      const seen = await codenames(as(email));
      expect(seen.length, email).toBeGreaterThan(0);
      expect(
        seen.filter((c) => mi6Codenames.includes(c)),
        email,
      ).toEqual([]);
    }
    expect(await codenames(as(DIRECTOR))).toEqual(['CARDINAL', 'RAVEN', 'TREADSTONE']);
    expect(await codenames(as(LANDY))).toEqual(['RAVEN', 'TREADSTONE']);
    expect(await codenames(as(BOURNE))).toEqual(['TREADSTONE']);
    // The same id names another agency's row in another schema, never MI6's.
    const same = (await resolve(as(DIRECTOR), 'Query.agent', {
      arguments: { id: agent('007').id },
    })) as Row | null;
    expect(same?.codename).not.toBe('007');
    expect(await resolve(as(DIRECTOR), 'Agent.realName', { source: agent('007') })).not.toBe('James Bond');
    const mi6Bodies = AGENCIES[0]?.messages.map((m) => m.body) ?? [];
    for (const email of [DIRECTOR, LANDY, BOURNE]) {
      expect(
        (await bodies(as(email))).filter((b) => mi6Bodies.includes(b)),
        email,
      ).toEqual([]);
    }
  });

  it('cannot reach tenant_mi6 by qualified name', async () => {
    for (const email of [DIRECTOR, LANDY, BOURNE]) {
      for (const sql of [
        'select count(*) from tenant_mi6.agents',
        'select codename from tenant_mi6.agents',
        'select body from tenant_mi6.messages',
        'select name from tenant_mi6.offices',
        'select codename from tenant_mi6.missions',
      ]) {
        await expectDenied(stack.cognition.runAs(as(email), sql));
      }
    }
    await expectDenied(stack.cognition.runAs(as(M), 'select count(*) from tenant_cia.agents'));
  });
});

describe('private messages', () => {
  it('are read by their sender and recipient only, the lead included', async () => {
    expect(await bodies(as(BOND))).toEqual(['Landed. Dinner on Friday?', 'M wants you in her office. Now.']);
    expect(await bodies(as(MONEYPENNY))).toEqual([
      'Landed. Dinner on Friday?',
      'M wants you in her office. Now.',
    ]);
    expect(await bodies(as(M))).toEqual(['Keep an eye on 006.']);
    expect(await bodies(as(KERIM))).toEqual(['Keep an eye on 006.']);
    expect(await bodies(as(TREVELYAN))).toEqual([]);
  });

  it('sendMessage sends as the caller, to the recipient only', async () => {
    const sent = (await resolve(as(BOND), 'Mutation.sendMessage', {
      arguments: { recipientId: as(KERIM).id, body: 'Watch 006 for me.' },
    })) as Row;
    expect(sent).toMatchObject({
      senderId: as(BOND).id,
      recipientId: as(KERIM).id,
      body: 'Watch 006 for me.',
    });
    expect(await bodies(as(KERIM))).toContain('Watch 006 for me.');
    expect(await bodies(as(BOND))).toContain('Watch 006 for me.');
    for (const email of [M, MONEYPENNY, TREVELYAN]) {
      expect(await bodies(as(email)), email).not.toContain('Watch 006 for me.');
    }
  });

  it('cannot forge the sender', async () => {
    await expectDenied(
      stack.cognition.runAs(
        as(BOND),
        'insert into messages (sender_id, recipient_id, body) values ($1, $2, $3)',
        [as(MONEYPENNY).id, as(KERIM).id, 'Bond is a double agent. -- Moneypenny'],
      ),
    );
    expect(await bodies(as(KERIM))).not.toContain('Bond is a double agent. -- Moneypenny');
  });

  it('cannot backdate, change or delete a message', async () => {
    await expectDenied(
      stack.cognition.runAs(
        as(BOND),
        'insert into messages (recipient_id, body, created_at) values ($1, $2, $3)',
        [as(KERIM).id, 'backdated', '2000-01-01'],
      ),
    );
    for (const email of [BOND, MONEYPENNY, M]) {
      await expectDenied(stack.cognition.runAs(as(email), "update messages set body = 'edited'"));
      await expectDenied(stack.cognition.runAs(as(email), 'delete from messages'));
    }
    expect(await bodies(as(KERIM))).not.toContain('backdated');
  });

  it('go only to users of the same agency', async () => {
    for (const recipientId of [as(BOURNE).id, '00000000-0000-4000-8000-000000000000']) {
      await expectCode(
        resolve(as(BOND), 'Mutation.sendMessage', { arguments: { recipientId, body: 'Hello, cousin.' } }),
        'ERR_CONSTRAINT',
      );
    }
  });
});

describe('writes', () => {
  it('only the lead recruits agents', async () => {
    const london = (await list(as(M), 'Query.offices')).find((o) => o.name === 'London');
    const recruit = { codename: '008', realName: 'Bill Fairbanks', officeId: london?.id, clearance: 3 };
    for (const email of [MONEYPENNY, BOND]) {
      await expectDenied(resolve(as(email), 'Mutation.createAgent', { arguments: recruit }));
    }
    const created = (await resolve(as(M), 'Mutation.createAgent', { arguments: recruit })) as Row;
    expect(created).toMatchObject({ codename: '008', clearance: 3, status: 'ACTIVE', userId: null });
    expect(await resolve(as(M), 'Agent.realName', { source: created })).toBe('Bill Fairbanks');
    expect(await codenames(as(MONEYPENNY))).toEqual(['007', '008', '009']);
    expect(await codenames(as(KERIM))).toEqual(['006']);
    // An agent's login must be a user of this agency.
    await expectCode(
      resolve(as(M), 'Mutation.createAgent', {
        arguments: { codename: '010', realName: 'X', officeId: london?.id, userId: as(BOURNE).id },
      }),
      'ERR_CONSTRAINT',
    );
  });

  it('office administrators change the status of their own agents only, and nothing else', async () => {
    const set = (email: string, codename: string, status: string) =>
      resolve(as(email), 'Mutation.setAgentStatus', { arguments: { id: agent(codename).id, status } });
    expect(await set(MONEYPENNY, '009', 'INACTIVE')).toMatchObject({ codename: '009', status: 'INACTIVE' });
    expect(await set(MONEYPENNY, '006', 'COMPROMISED')).toBeNull();
    expect(await set(BOND, '007', 'INACTIVE')).toBeNull();
    expect(await set(KERIM, '006', 'COMPROMISED')).toMatchObject({ status: 'COMPROMISED' });
    const statuses = Object.fromEntries(
      (await list(as(M), 'Query.agents')).map((a) => [a.codename, a.status]),
    );
    expect(statuses).toMatchObject({ '006': 'COMPROMISED', '007': 'ACTIVE', '009': 'INACTIVE' });
    const stationT = (await list(as(M), 'Query.offices')).find((o) => o.name === 'Station T');
    await expectDenied(
      stack.cognition.runAs(as(MONEYPENNY), 'update agents set office_id = $2 where id = $1', [
        agent('009').id,
        stationT?.id,
      ]),
    );
    await expectDenied(
      stack.cognition.runAs(as(MONEYPENNY), "update agents set real_name = 'Nobody' where id = $1", [
        agent('009').id,
      ]),
    );
  });

  it('missions are assigned by the lead or the agent’s office administrator, never by others', async () => {
    const assign = (email: string, codename: string, mission: string) =>
      resolve(as(email), 'Mutation.createMission', {
        arguments: { agentId: agent(codename).id, codename: mission, objective: 'Test.' },
      });
    expect(await assign(KERIM, '006', 'SKYFALL')).toMatchObject({ codename: 'SKYFALL', status: 'PLANNED' });
    expect(await assign(M, '007', 'SPECTRE')).toMatchObject({ codename: 'SPECTRE' });
    await expectDenied(assign(KERIM, '007', 'THUNDERBALL'));
    await expectDenied(assign(BOND, '007', 'MOONRAKER'));
    await expectDenied(
      stack.cognition.runAs(
        as(MONEYPENNY),
        `insert into missions (agent_id, codename, created_by) values ($1, 'OCTOPUSSY', $2)`,
        [agent('007').id, as(M).id],
      ),
    );
    const all = (await list(as(M), 'Agent.missions', { source: agent('007') })).map((m) => m.codename);
    expect(all).toEqual(['GOLDENEYE', 'SPECTRE']);
  });

  it('only the lead appoints office administrators, and only users of the agency', async () => {
    const stationT = (await list(as(M), 'Query.offices')).find((o) => o.name === 'Station T');
    await expectDenied(
      stack.cognition.runAs(
        as(MONEYPENNY),
        'insert into office_admins (office_id, user_id) values ($1, $2)',
        [stationT?.id, as(MONEYPENNY).id],
      ),
    );
    expect(await codenames(as(MONEYPENNY))).not.toContain('006');
    await expectCode(
      stack.cognition.runAs(as(M), 'insert into office_admins (office_id, user_id) values ($1, $2)', [
        stationT?.id,
        as(LANDY).id,
      ]),
      'ERR_CONSTRAINT',
    );
    await stack.cognition.runAs(as(M), 'insert into office_admins (office_id, user_id) values ($1, $2)', [
      stationT?.id,
      as(MONEYPENNY).id,
    ]);
    expect(await codenames(as(MONEYPENNY))).toContain('006');
  });
});

describe('an agency that existed before the template', () => {
  let early: TestStack;
  beforeAll(async () => {
    early = await startStack({ template: false });
  });
  afterAll(async () => {
    await early?.stop();
  });

  it('gets the same tables, policies and column privileges from the template migration', async () => {
    await early.cognition.tenants.create({ slug: 'mi6', name: 'MI6' });
    await expectCode(seedAgents(early.cognition), 'ERR_CONFIG');
    const report = await early.cognition.migrateTemplates({ dir: TEMPLATE });
    expect(report.tenants).toMatchObject({ total: 1, migrated: 1, failed: [] });
    await seedAgents(early.cognition);
    const moneypenny = await early.cognition.users.require({ email: MONEYPENNY });
    const { rows } = await early.cognition.runAs<Row>(moneypenny, resolvers['Query.agents']?.sql ?? '');
    expect(rows.map((r) => r.codename)).toEqual(['007', '009']);
    await expectDenied(
      early.cognition.runAs(moneypenny, resolvers['Agent.realName']?.sql ?? '', [rows[0]?.id]),
    );
    const lead = await early.cognition.users.require({ email: M });
    const realName = await early.cognition.runAs<Row>(lead, resolvers['Agent.realName']?.sql ?? '', [
      rows[0]?.id,
    ]);
    expect(realName.rows).toEqual([{ realName: 'James Bond' }]);
  });
});
