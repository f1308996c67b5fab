import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, isObjectType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadApp, type LocalApp } from '../../src/local/app.js';
import { ensurePoolLogin } from '../../src/local/pool-users.js';
import { startLocalStack, type LocalStack } from '../../src/local/stack.js';
import type { User } from '../../src/users/users.js';
import { RealtimeClient, type RealtimeMessage } from '../../test/local/graphql/realtime-client.js';
import { startCluster, type TestCluster } from '../../test/support/cluster.js';
import { expectDenied } from '../../test/support/expect.js';
import { resolvers } from './resolvers.js';
import { COMPANIES, seedPatterns, type SeedResult } from './seed.js';

// Every pattern of examples/patterns against the running local stack, as `npm start -- --app
// patterns` runs it: GraphQL over HTTP (and the real-time WebSocket) with ID tokens from the
// local user pool through the AWS SDK, and SQL as the users' own database roles. Each rule is
// tested from the side that is allowed and from every side that is not: the wrong user, the
// wrong group, a lower rank, ReadOnly trying to write, and another tenant.

const APP_DIR = fileURLToPath(new URL('./', import.meta.url));
const TEMPORARY_PASSWORD = 'Temporary-Passw0rd!';
const NEW_PASSWORD = 'Chosen-Passw0rd!';
const NEVER_MS = 500;

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
interface GraphqlError {
  errorType?: string;
  message: string;
  path?: (string | number)[];
}
interface GraphqlResponse {
  data?: Row | null;
  errors?: GraphqlError[];
}
interface RealtimePayload {
  data?: { onMessage?: Row | null };
  errors?: GraphqlError[];
}
type Realtime = RealtimeClient<RealtimePayload>;

// Acme
const ADMIN = 'admin@acme.test';
const SUPER = 'super@acme.test';
const ALICE = 'alice@acme.test'; // Member
const BOB = 'bob@acme.test'; // Member
const CAROL = 'carol@acme.test'; // Member
const READER = 'reader@acme.test'; // ReadOnly
// Globex
const G_ADMIN = 'admin@globex.test';
const G_SUPER = 'super@globex.test';
const GUS = 'member@globex.test'; // Member
const G_READER = 'reader@globex.test'; // ReadOnly
const ACME = [ADMIN, SUPER, ALICE, BOB, CAROL, READER];
const GLOBEX = [G_ADMIN, G_SUPER, GUS, G_READER];

let cluster: TestCluster;
let home: string;
let app: LocalApp;
let stack: LocalStack;
let cognito: CognitoIdentityProviderClient;
let firstSeed: SeedResult;
const users: Record<string, User> = {};
const tokens = new Map<string, string>();

const user = (email: string): User => {
  const found = users[email];
  if (!found) throw new Error(`no seeded user ${email}`);
  return found;
};
const idOf = (email: string): string => user(email).id;

/** A seeded user's ID token, from a real USER_PASSWORD_AUTH through the AWS SDK. */
async function token(email: string): Promise<string> {
  const cached = tokens.get(email);
  if (cached) return cached;
  await ensurePoolLogin(stack.userPool, email, firstSeed.password);
  const { AuthenticationResult } = await cognito.send(
    new InitiateAuthCommand({
      ClientId: stack.userPool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: firstSeed.password },
    }),
  );
  const id = AuthenticationResult?.IdToken as string;
  tokens.set(email, id);
  return id;
}

async function askWith(authorization: string, query: string, variables: Row = {}): Promise<GraphqlResponse> {
  const response = await fetch(`${stack.userPool.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as GraphqlResponse;
}

const ask = async (email: string, query: string, variables: Row = {}) =>
  askWith(await token(email), query, variables);

/** The value of the operation's only root field; fails on any error. */
async function value<T = Row | null>(email: string, query: string, variables: Row = {}): Promise<T> {
  const { data, errors } = await ask(email, query, variables);
  expect(errors, JSON.stringify(errors)).toBeUndefined();
  return Object.values(data ?? {})[0] as T;
}

/** Expects the only root field to resolve to null with errors; returns their errorTypes. */
async function refusal(email: string, query: string, variables: Row = {}): Promise<string[]> {
  const { data, errors } = await ask(email, query, variables);
  expect(Object.values(data ?? {})[0] ?? null).toBeNull();
  expect(errors?.length, `expected an error for ${email}`).toBeGreaterThan(0);
  return (errors ?? []).map((e) => e.errorType ?? 'none');
}

const sql = (email: string, text: string, params: unknown[] = []) =>
  stack.cognition.runAs(user(email), text, params);

/** A row's id by title, read as the superuser (no RLS) from a tenant's table. */
async function idByTitle(
  tenant: 'acme' | 'globex',
  table: 'todos' | 'documents' | 'posts' | 'conversations',
  title: string,
): Promise<string> {
  const { rows } = await cluster.admin.query<{ id: string }>(
    `select id::text as id from tenant_${tenant}.${table} where title = $1`,
    [title],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error(`no ${table} titled ${title} in ${tenant}`);
  return id;
}

async function acmeDocument(title: string): Promise<Row> {
  const { rows } = await cluster.admin.query<Row>(
    `select title, body, readers::text[] as readers, editors::text[] as editors, reader_groups, editor_groups
     from tenant_acme.documents where title = $1`,
    [title],
  );
  return rows[0] ?? {};
}

const titles = (rows: Row[] | null) => (rows ?? []).map((r) => r.title as string).sort();

const TODOS = '{ todos { id title ownerId } }';
const TODO = 'query ($id: ID!) { todo(id: $id) { id title ownerId } }';
const DOCUMENTS = '{ documents { title } }';
const DOCUMENT =
  'query ($id: ID!) { document(id: $id) { id title body ownerId readers readerGroups editors } }';
const UPDATE_DOCUMENT =
  'mutation ($id: ID!, $body: String) { updateDocument(id: $id, body: $body) { id title body } }';
const SHARE_DOCUMENT = `mutation ($id: ID!, $readers: [ID!], $readerGroups: [String!], $editors: [ID!]) {
  shareDocument(id: $id, readers: $readers, readerGroups: $readerGroups, editors: $editors) { id readers readerGroups editors }
}`;
const POSTS = '{ posts { title visibility } }';
const SET_PERMISSION = `mutation ($userId: ID!, $readPrivate: Boolean!, $subscribe: Boolean!) {
  setPermission(userId: $userId, readPrivate: $readPrivate, subscribe: $subscribe) { userId readPrivate subscribe }
}`;
const ADD_USER = `mutation ($name: String!, $email: AWSEmail!, $role: String!) {
  addUser(name: $name, email: $email, role: $role) { id email role status name }
}`;

beforeAll(async () => {
  cluster = await startCluster();
  home = await mkdtemp(join(tmpdir(), 'pgc-patterns-'));
  await chmod(home, 0o711);
  app = await loadApp(APP_DIR);
  stack = await startLocalStack({
    home,
    databaseUrl: cluster.url,
    port: 0,
    app,
    temporaryPassword: () => TEMPORARY_PASSWORD,
  });
  firstSeed = await seedPatterns(stack.cognition);
  for (const email of [...ACME, ...GLOBEX]) users[email] = await stack.cognition.users.require({ email });
  cognito = new CognitoIdentityProviderClient({
    endpoint: stack.userPool.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});

afterAll(async () => {
  cognito?.destroy();
  await stack?.close();
  await cluster?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('the application folder', () => {
  it('is loaded with its roles, GraphQL schema, resolvers and seed', () => {
    expect(app.name).toBe('patterns');
    expect(app.tenantRoles).toEqual({
      roles: ['Admin', 'SuperUser', 'Member', 'ReadOnly'],
      manageUsersFrom: 'SuperUser',
      readOnly: ['ReadOnly'],
    });
    expect(app.graphql?.resolvers).toBe(resolvers);
    expect(app.seed).toBeTypeOf('function');
  });

  it('declares the tenant roles by rank; ReadOnly holds SELECT only in its tenant schema', async () => {
    expect(await stack.cognition.tenantRoles.list()).toEqual([
      { name: 'Admin', rank: 4, managesUsers: true, readOnly: false, globalRole: 'tenant_admins' },
      { name: 'SuperUser', rank: 3, managesUsers: true, readOnly: false, globalRole: 'tenant_superusers' },
      { name: 'Member', rank: 2, managesUsers: false, readOnly: false, globalRole: 'tenant_members' },
      { name: 'ReadOnly', rank: 1, managesUsers: false, readOnly: true, globalRole: 'tenant_readonlys' },
    ]);
    const { rows } = await cluster.admin.query<{ privilege_type: string }>(
      `select distinct privilege_type from information_schema.role_table_grants
       where table_schema = 'tenant_acme' and grantee = 'tenant_acme_readonlys' order by 1`,
    );
    expect(rows.map((r) => r.privilege_type)).toEqual(['SELECT']);
    const columns = await cluster.admin.query(
      `select 1 from information_schema.column_privileges
       where table_schema = 'tenant_acme' and grantee = 'tenant_acme_readonlys' and privilege_type <> 'SELECT'`,
    );
    expect(columns.rowCount).toBe(0);
  });

  it('enables and forces row-level security on every table, in the template and each tenant', async () => {
    const { rows } = await cluster.admin.query<{
      schema: string;
      table: string;
      rls: boolean;
      forced: boolean;
    }>(
      `select n.nspname as schema, c.relname as table, c.relrowsecurity as rls, c.relforcerowsecurity as forced
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname in ('tenant_template', 'tenant_acme', 'tenant_globex') and c.relkind = 'r'
       order by 1, 2`,
    );
    expect(rows.length).toBe(3 * 7);
    expect(rows.filter((r) => !r.rls || !r.forced)).toEqual([]);
  });

  describe('schema.graphql and resolvers.ts', () => {
    let schema: GraphQLSchema;
    let sdl: string;
    beforeAll(async () => {
      sdl = await readFile(join(APP_DIR, 'schema.graphql'), 'utf8');
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

    it('has a resolver for every root field, and binds exactly the arguments each field declares', () => {
      expect(sdl).not.toMatch(/^\s*(scalar|directive)\s/m);
      for (const key of Object.keys(resolvers)) fieldOf(key);
      const roots = ['Query', 'Mutation', 'Subscription'].flatMap((name) => {
        const type = schema.getType(name);
        return isObjectType(type) ? Object.keys(type.getFields()).map((f) => `${name}.${f}`) : [];
      });
      expect(roots.filter((key) => !resolvers[key])).toEqual([]);
      for (const [key, definition] of Object.entries(resolvers)) {
        if (typeof definition.params === 'function') continue;
        const declared = fieldOf(key).args.map((a) => a.name);
        const used = (definition.params ?? [])
          .filter((p) => p.startsWith('arguments.'))
          .map((p) => p.slice('arguments.'.length));
        expect([...used].sort(), key).toEqual([...declared].sort());
        expect(new Set(definition.sql.match(/\$\d+/g) ?? []).size, key).toBe(definition.params?.length ?? 0);
      }
    });

    it('takes no tenant argument anywhere, and names no tenant schema in SQL', () => {
      const offenders: string[] = [];
      for (const type of Object.values(schema.getTypeMap())) {
        if (!isObjectType(type) || type.name.startsWith('__')) continue;
        for (const field of Object.values(type.getFields())) {
          for (const arg of field.args)
            if (/tenant/i.test(arg.name)) offenders.push(`${field.name}(${arg.name})`);
        }
      }
      expect(offenders).toEqual([]);
      expect(Object.values(resolvers).flatMap((d) => d.sql.match(/\btenant_[a-z0-9_]+\./g) ?? [])).toEqual(
        [],
      );
    });
  });

  it('seeds two tenants with a user of every rank; a second run changes nothing', async () => {
    expect(firstSeed.tenants).toEqual([
      { slug: 'acme', name: 'Acme Corp', created: true },
      { slug: 'globex', name: 'Globex', created: true },
    ]);
    for (const slug of ['acme', 'globex']) {
      const ranks = new Set(firstSeed.users.filter((u) => u.tenant === slug).map((u) => u.role));
      expect(ranks).toEqual(new Set(['Admin', 'SuperUser', 'Member', 'ReadOnly']));
    }
    expect(firstSeed.users.map((u) => u.email).sort()).toEqual([...ACME, ...GLOBEX].sort());
    expect(firstSeed.users.every((u) => u.created)).toBe(true);
    expect(firstSeed.rowsInserted).toBeGreaterThan(20);
    const counts = async () =>
      (
        await cluster.admin.query(
          `select (select count(*) from tenant_acme.documents)::int as d, (select count(*) from tenant_acme.messages)::int as m,
                  (select count(*) from tenant_acme.conversation_members)::int as cm, (select count(*) from tenant_globex.posts)::int as p,
                  (select count(*) from cognition.users)::int as u`,
        )
      ).rows[0];
    const before = await counts();
    const again = await seedPatterns(stack.cognition);
    expect(again.rowsInserted).toBe(0);
    expect(again.users.filter((u) => u.created)).toEqual([]);
    expect(await counts()).toEqual(before);
  });
});

describe('1. the owner reads a single item; a list holds only the owner’s items', () => {
  it("lists only the caller's own to-dos, even for an Admin", async () => {
    const of = async (email: string) => titles(await value<Row[]>(email, TODOS));
    expect(await of(ALICE)).toEqual(['Book the offsite', 'Draft the roadmap']);
    expect(await of(BOB)).toEqual(['Review the budget']);
    for (const email of [ADMIN, SUPER, CAROL, READER]) expect(await of(email), email).toEqual([]);
    expect(await of(GUS)).toEqual(['Globex errand']);
    for (const row of await value<Row[]>(ALICE, TODOS)) expect(row.ownerId).toBe(idOf(ALICE));
    // The same holds in SQL, whatever the statement asks for.
    expect((await sql(BOB, 'select title from todos')).rows).toEqual([{ title: 'Review the budget' }]);
  });

  it("reads a single to-do only when it is the caller's", async () => {
    const id = await idByTitle('acme', 'todos', 'Draft the roadmap');
    expect(await value(ALICE, TODO, { id })).toMatchObject({ title: 'Draft the roadmap' });
    for (const email of [BOB, ADMIN, SUPER, READER])
      expect(await value(email, TODO, { id }), email).toBeNull();
    // Another tenant: the same id names a row of its own schema, never Acme's.
    const other = await value<Row | null>(GUS, TODO, { id });
    expect(other?.title).not.toBe('Draft the roadmap');
  });

  it("writes only the caller's own to-dos, and the owner is always the caller", async () => {
    const id = await idByTitle('acme', 'todos', 'Book the offsite');
    const update = 'mutation ($id: ID!) { updateTodo(id: $id, done: true) { title done } }';
    expect(await value(BOB, update, { id })).toBeNull();
    expect(await value(ADMIN, update, { id })).toBeNull();
    expect(await value(ALICE, update, { id })).toEqual({ title: 'Book the offsite', done: true });
    const created = await value<Row>(BOB, 'mutation { createTodo(title: "Call Alice") { title ownerId } }');
    expect(created).toEqual({ title: 'Call Alice', ownerId: idOf(BOB) });
    expect(titles(await value<Row[]>(ALICE, TODOS))).not.toContain('Call Alice');
    await expectDenied(
      sql(BOB, 'insert into todos (owner_id, title) values ($1, $2)', [idOf(ALICE), 'Forged']),
    );
    await expectDenied(sql(BOB, 'update todos set owner_id = $1', [idOf(ALICE)]));
    expect(titles(await value<Row[]>(ALICE, TODOS))).toEqual(['Book the offsite', 'Draft the roadmap']);
  });

  it('refuses ReadOnly any write', async () => {
    expect(await refusal(READER, 'mutation { createTodo(title: "Mine") { id } }')).toEqual(['Unauthorized']);
    await expectDenied(sql(READER, "insert into todos (title) values ('Mine')"));
  });
});

describe('2. a hard-coded group (Admin) updates any item', () => {
  it('lets an Admin update a document they neither own nor were given', async () => {
    const id = await idByTitle('acme', 'documents', 'Roadmap');
    expect(await value(ADMIN, UPDATE_DOCUMENT, { id, body: 'Q1: ship RLS. (Admin)' })).toMatchObject({
      title: 'Roadmap',
      body: 'Q1: ship RLS. (Admin)',
    });
  });

  it('refuses a lower rank, a reader of the document, and another tenant’s Admin', async () => {
    const id = await idByTitle('acme', 'documents', 'Roadmap');
    // SuperUser ranks just below Admin: the rule names the group, not a rank.
    expect(await value(SUPER, UPDATE_DOCUMENT, { id, body: 'by super' })).toBeNull();
    expect(await value(BOB, UPDATE_DOCUMENT, { id, body: 'by bob' })).toBeNull();
    await value(G_ADMIN, UPDATE_DOCUMENT, { id, body: 'by globex' });
    expect((await acmeDocument('Roadmap')).body).toBe('Q1: ship RLS. (Admin)');
  });
});

describe('3. multiple people read (user ids on the row)', () => {
  it('lets the listed readers read, and nobody else', async () => {
    const id = await idByTitle('acme', 'documents', 'Roadmap');
    expect(await value(BOB, DOCUMENT, { id })).toMatchObject({ title: 'Roadmap', readers: [idOf(BOB)] });
    expect(await value(SUPER, DOCUMENT, { id })).toBeNull();
    expect((await value<Row | null>(GUS, DOCUMENT, { id }))?.title).not.toBe('Roadmap');
    expect(titles(await value<Row[]>(SUPER, DOCUMENTS))).not.toContain('Roadmap');
    expect(titles(await value<Row[]>(BOB, DOCUMENTS))).toContain('Roadmap');
  });

  it('follows the list: a reader added can read, removed cannot', async () => {
    const id = await idByTitle('acme', 'documents', 'Roadmap');
    await value(ALICE, SHARE_DOCUMENT, { id, readers: [idOf(BOB), idOf(SUPER)] });
    expect(await value(SUPER, DOCUMENT, { id })).toMatchObject({ title: 'Roadmap' });
    await value(ALICE, SHARE_DOCUMENT, { id, readers: [idOf(BOB)] });
    expect(await value(SUPER, DOCUMENT, { id })).toBeNull();
  });

  it('gives readers no write, and lists only users of the same tenant', async () => {
    const id = await idByTitle('acme', 'documents', 'Roadmap');
    expect(await value(BOB, UPDATE_DOCUMENT, { id, body: 'by bob' })).toBeNull();
    expect(await refusal(ALICE, SHARE_DOCUMENT, { id, readers: [idOf(BOB), idOf(GUS)] })).toEqual([
      'ConstraintViolation',
    ]);
    expect((await acmeDocument('Roadmap')).readers).toEqual([idOf(BOB)]);
  });
});

describe('4. a group reads (groups on the row, matched against the caller’s group)', () => {
  it('lets every member of a listed group read, and no other group', async () => {
    const id = await idByTitle('acme', 'documents', 'Handbook');
    for (const email of [ALICE, BOB, CAROL, READER]) {
      expect(await value(email, DOCUMENT, { id }), email).toMatchObject({
        title: 'Handbook',
        readerGroups: ['Member', 'ReadOnly'],
      });
    }
    // Groups match exactly, as Cognito groups do: SuperUser is not listed.
    expect(await value(SUPER, DOCUMENT, { id })).toBeNull();
    expect((await value<Row | null>(G_READER, DOCUMENT, { id }))?.title).not.toBe('Handbook');
  });

  it('takes the group from the database, and only declared groups on the row', async () => {
    const id = await idByTitle('acme', 'documents', 'Handbook');
    expect(await value(SUPER, '{ me { role rank managesUsers } }')).toEqual({
      role: 'SuperUser',
      rank: 3,
      managesUsers: true,
    });
    await value(ALICE, SHARE_DOCUMENT, { id, readerGroups: ['Member', 'ReadOnly', 'SuperUser'] });
    expect(await value(SUPER, DOCUMENT, { id })).toMatchObject({ title: 'Handbook' });
    await value(ALICE, SHARE_DOCUMENT, { id, readerGroups: ['Member', 'ReadOnly'] });
    expect(await value(SUPER, DOCUMENT, { id })).toBeNull();
    expect(await refusal(ALICE, SHARE_DOCUMENT, { id, readerGroups: ['Everyone'] })).toEqual([
      'ConstraintViolation',
    ]);
    // Reading through a group gives no write.
    expect(await value(BOB, UPDATE_DOCUMENT, { id, body: 'by bob' })).toBeNull();
    expect((await acmeDocument('Handbook')).body).toBe('Be kind.');
  });
});

describe('5. multiple owners write; a group creates; a group updates', () => {
  it('lets the owner and every listed editor write, and nobody else', async () => {
    const id = await idByTitle('acme', 'documents', 'Roadmap');
    expect(await value(CAROL, UPDATE_DOCUMENT, { id, body: 'Q1: RLS. Q2: more RLS.' })).toMatchObject({
      body: 'Q1: RLS. Q2: more RLS.',
    });
    expect(await value(ALICE, UPDATE_DOCUMENT, { id, body: 'Q1: RLS. Q2: docs.' })).toMatchObject({
      body: 'Q1: RLS. Q2: docs.',
    });
    expect(await value(BOB, UPDATE_DOCUMENT, { id, body: 'by bob' })).toBeNull();
    expect(await value(SUPER, UPDATE_DOCUMENT, { id, body: 'by super' })).toBeNull();
    // ReadOnly is listed as an editor, and still may not write: it holds no write privilege.
    expect((await acmeDocument('Roadmap')).editors).toContain(idOf(READER));
    expect(await refusal(READER, UPDATE_DOCUMENT, { id, body: 'by reader' })).toEqual(['Unauthorized']);
    expect((await acmeDocument('Roadmap')).body).toBe('Q1: RLS. Q2: docs.');
  });

  it('leaves who may read or edit to the owner: an editor cannot share', async () => {
    const id = await idByTitle('acme', 'documents', 'Roadmap');
    expect(await refusal(CAROL, SHARE_DOCUMENT, { id, readers: [idOf(BOB), idOf(SUPER)] })).toEqual([
      'Unauthorized',
    ]);
    await expectDenied(
      sql(CAROL, 'update documents set editors = editors || $1::uuid where id = $2', [idOf(BOB), id]),
    );
    expect(await value(BOB, SHARE_DOCUMENT, { id, editors: [idOf(BOB)] })).toBeNull();
    expect(await acmeDocument('Roadmap')).toMatchObject({
      readers: [idOf(BOB)],
      editors: [idOf(CAROL), idOf(READER)],
    });
  });

  it('lets Members and above create documents, owned by the caller; ReadOnly cannot', async () => {
    const create =
      'mutation ($title: String!) { createDocument(title: $title, readerGroups: ["Member"]) { title ownerId } }';
    expect(await value(CAROL, create, { title: 'Carol’s notes' })).toEqual({
      title: 'Carol’s notes',
      ownerId: idOf(CAROL),
    });
    expect(await value(SUPER, create, { title: 'Sam’s notes' })).toMatchObject({ ownerId: idOf(SUPER) });
    expect(await refusal(READER, create, { title: 'Rita’s notes' })).toEqual(['Unauthorized']);
    await expectDenied(sql(READER, "insert into documents (title) values ('Rita’s notes')"));
    await expectDenied(
      sql(CAROL, 'insert into documents (owner_id, title) values ($1, $2)', [idOf(ALICE), 'Forged']),
    );
    const { rows } = await cluster.admin.query(
      "select title from tenant_acme.documents where title in ('Rita’s notes', 'Forged')",
    );
    expect(rows).toEqual([]);
  });

  it('lets a group listed in editor_groups update, and no other group', async () => {
    const id = await idByTitle('acme', 'documents', 'Budget');
    expect(await value(SUPER, UPDATE_DOCUMENT, { id, body: 'Coffee: 400.' })).toMatchObject({
      body: 'Coffee: 400.',
    });
    expect(await value(ALICE, UPDATE_DOCUMENT, { id, body: 'by alice' })).toBeNull();
    expect(await value(CAROL, DOCUMENT, { id })).toBeNull();
    expect(await refusal(READER, UPDATE_DOCUMENT, { id, body: 'by reader' })).toEqual(['Unauthorized']);
    await value(G_SUPER, UPDATE_DOCUMENT, { id, body: 'by globex' });
    expect((await acmeDocument('Budget')).body).toBe('Coffee: 400.');
  });
});

describe('6. public and private records, with groups both ANDed and ORed', () => {
  // Salary bands: private, by Sam (SuperUser). Offsite ideas: private, by Alice (Member).
  // Permission rows: Carol and Rita (ReadOnly) may read private posts; nobody else.
  const EXPECTED: Record<string, string[]> = {
    [ADMIN]: ['Offsite ideas', 'Salary bands', 'Welcome to Acme'], // OR the group Admin
    [SUPER]: ['Salary bands', 'Welcome to Acme'], // the author
    [ALICE]: ['Offsite ideas', 'Welcome to Acme'], // the author
    [BOB]: ['Welcome to Acme'],
    [CAROL]: ['Offsite ideas', 'Salary bands', 'Welcome to Acme'], // permission AND Member
    [READER]: ['Welcome to Acme'], // permission, but NOT in the group Member or above
  };

  it('shows public posts to every user of the tenant, and private ones to those with permission', async () => {
    for (const [email, expected] of Object.entries(EXPECTED)) {
      expect(titles(await value<Row[]>(email, POSTS)), email).toEqual(expected);
    }
    for (const email of GLOBEX) {
      const seen = titles(await value<Row[]>(email, POSTS));
      expect(seen, email).toContain('Welcome to Globex');
      expect(
        seen.filter((t) => EXPECTED[ADMIN]?.includes(t)),
        email,
      ).toEqual([]);
    }
  });

  it('ANDs the group with the permission: ReadOnly with permission reads no private post', async () => {
    expect(await value(READER, '{ myPermission { readPrivate } }')).toEqual({ readPrivate: true });
    const id = await idByTitle('acme', 'posts', 'Salary bands');
    expect(await value(READER, 'query ($id: ID!) { post(id: $id) { title } }', { id })).toBeNull();
    expect(
      (await sql(READER, "select count(*)::int as n from posts where visibility = 'PRIVATE'")).rows,
    ).toEqual([{ n: 0 }]);
    expect(await value(CAROL, 'query ($id: ID!) { post(id: $id) { title } }', { id })).toEqual({
      title: 'Salary bands',
    });
  });

  it('ORs the group Admin with the permission: an Admin without one reads every private post', async () => {
    expect(await value(ADMIN, '{ myPermission { readPrivate } }')).toBeNull();
    const id = await idByTitle('acme', 'posts', 'Offsite ideas');
    expect(await value(ADMIN, 'query ($id: ID!) { post(id: $id) { title } }', { id })).toEqual({
      title: 'Offsite ideas',
    });
    // SuperUser is not Admin: without a permission, another's private post stays closed.
    expect(await value(SUPER, 'query ($id: ID!) { post(id: $id) { title } }', { id })).toBeNull();
  });

  it('follows the permission row on the next query', async () => {
    const grant = (readPrivate: boolean) =>
      value(SUPER, SET_PERMISSION, { userId: idOf(BOB), readPrivate, subscribe: false });
    expect(await grant(true)).toEqual({ userId: idOf(BOB), readPrivate: true, subscribe: false });
    expect(titles(await value<Row[]>(BOB, POSTS))).toEqual([
      'Offsite ideas',
      'Salary bands',
      'Welcome to Acme',
    ]);
    await grant(false);
    expect(titles(await value<Row[]>(BOB, POSTS))).toEqual(['Welcome to Acme']);
  });

  it('lets only managers set permission rows, of users at or below their rank, in their tenant', async () => {
    const set = { userId: idOf(BOB), readPrivate: true, subscribe: true };
    expect(await refusal(ALICE, SET_PERMISSION, set)).toEqual(['Unauthorized']);
    expect(await refusal(READER, SET_PERMISSION, set)).toEqual(['Unauthorized']);
    expect(await refusal(SUPER, SET_PERMISSION, { ...set, userId: idOf(ADMIN) })).toEqual(['Unauthorized']);
    // Another tenant's user id: no user of this tenant (nor among those the manager sees).
    expect(await refusal(G_SUPER, SET_PERMISSION, set)).toEqual(['ConstraintViolation']);
    expect(await value(ALICE, '{ permissions { userId } }')).toEqual([{ userId: idOf(ALICE) }]);
    const { rows } = await cluster.admin.query(
      'select user_id, read_private, subscribe from tenant_acme.permissions where user_id = any($1::uuid[]) order by 1',
      [[idOf(BOB), idOf(ADMIN)]],
    );
    expect(rows).toEqual([{ user_id: idOf(BOB), read_private: false, subscribe: false }]);
    expect(await value(ADMIN, SET_PERMISSION, { ...set, userId: idOf(SUPER) })).toMatchObject({
      userId: idOf(SUPER),
      readPrivate: true,
    });
  });

  it('lets Members and above post as themselves; ReadOnly cannot post', async () => {
    const create =
      'mutation ($v: Visibility!) { createPost(title: "Team lunch", body: "Friday", visibility: $v) { title authorId visibility } }';
    expect(await value(BOB, create, { v: 'PRIVATE' })).toEqual({
      title: 'Team lunch',
      authorId: idOf(BOB),
      visibility: 'PRIVATE',
    });
    expect(titles(await value<Row[]>(ALICE, POSTS))).not.toContain('Team lunch');
    expect(titles(await value<Row[]>(CAROL, POSTS))).toContain('Team lunch');
    expect(await refusal(READER, create, { v: 'PUBLIC' })).toEqual(['Unauthorized']);
    await expectDenied(
      sql(BOB, "insert into posts (author_id, title, visibility) values ($1, 'Forged', 'PUBLIC')", [
        idOf(ALICE),
      ]),
    );
  });
});

describe('7. real-time: only one’s own conversation, only with permission, checked for every event', () => {
  const ON_MESSAGE =
    'subscription ($c: ID!) { onMessage(conversationId: $c) { id conversationId senderId body } }';
  const SEND = 'mutation ($c: ID!, $body: String!) { sendMessage(conversationId: $c, body: $body) { id } }';
  const clients: Realtime[] = [];
  let roadmapChat: string;
  let managers: string;
  let globexChat: string;

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const dataFor = (id: string) => (m: RealtimeMessage<RealtimePayload>) => m.type === 'data' && m.id === id;
  const bodiesOf = (client: Realtime, id: string) =>
    client.all(dataFor(id)).map((m) => m.payload?.data?.onMessage?.['body']);

  async function connect(email: string): Promise<Realtime> {
    const header = Buffer.from(
      JSON.stringify({ host: new URL(stack.userPool.url).host, Authorization: await token(email) }),
    ).toString('base64');
    const url = `${stack.userPool.url.replace(/^http/, 'ws')}/graphql/realtime?header=${encodeURIComponent(header)}&payload=e30=`;
    const client = await RealtimeClient.open<RealtimePayload>(url);
    clients.push(client);
    expect((await client.init()).type).toBe('connection_ack');
    return client;
  }
  /** Subscribes as the connection's user; expects the start to be acknowledged. */
  async function watch(client: Realtime, id: string, conversationId: string): Promise<void> {
    expect(await client.start(id, ON_MESSAGE, { c: conversationId })).toEqual({ type: 'start_ack', id });
  }
  /**
   * Subscribes someone who must get nothing. The local endpoint authorizes per event (it may
   * acknowledge the start); AppSync runs the resolver at the start and refuses it there.
   */
  async function tryWatch(client: Realtime, id: string, conversationId: string): Promise<void> {
    const answer = await client.start(id, ON_MESSAGE, { c: conversationId });
    expect(['start_ack', 'error']).toContain(answer.type);
  }
  async function send(email: string, conversationId: string, body: string): Promise<string> {
    return (await value<Row>(email, SEND, { c: conversationId, body })).id as string;
  }

  beforeAll(async () => {
    roadmapChat = await idByTitle('acme', 'conversations', 'Roadmap chat');
    managers = await idByTitle('acme', 'conversations', 'Managers');
    globexChat = await idByTitle('globex', 'conversations', 'Globex chat');
  });
  afterEach(async () => {
    const open = clients.splice(0);
    for (const client of open) client.socket.terminate();
    await Promise.all(open.map((client) => client.closed));
  });

  it('delivers a message to the members whose permission row allows subscriptions', async () => {
    const alice = await connect(ALICE);
    await watch(alice, 'a', roadmapChat);
    const reader = await connect(READER);
    await watch(reader, 'r', roadmapChat);
    const id = await send(BOB, roadmapChat, 'Agenda attached.');
    for (const [client, sub] of [
      [alice, 'a'],
      [reader, 'r'],
    ] as const) {
      const event = await client.next(dataFor(sub));
      expect(event.payload).toEqual({
        data: {
          onMessage: { id, conversationId: roadmapChat, senderId: idOf(BOB), body: 'Agenda attached.' },
        },
      });
    }
  });

  it('delivers nothing to a member whose permission row does not allow subscriptions', async () => {
    const control = await connect(ALICE);
    await watch(control, 'control', roadmapChat);
    const bob = await connect(BOB);
    await tryWatch(bob, 'b', roadmapChat);
    await send(ALICE, roadmapChat, 'Bob cannot follow this live.');
    await control.next(dataFor('control'));
    await sleep(NEVER_MS);
    expect(bob.all((m) => m.type === 'data')).toEqual([]);
    // Bob reads the conversation all the same: the rule is about subscribing.
    const messages = await value<Row[]>(BOB, 'query ($c: ID!) { messages(conversationId: $c) { body } }', {
      c: roadmapChat,
    });
    expect(messages.map((m) => m.body)).toContain('Bob cannot follow this live.');
  });

  it('delivers nothing to someone outside the conversation, whatever their permission or rank', async () => {
    const control = await connect(READER);
    await watch(control, 'control', roadmapChat);
    const outsiders = await Promise.all([CAROL, SUPER, ADMIN].map((email) => connect(email)));
    for (const client of outsiders) await tryWatch(client, 'snoop', roadmapChat);
    await send(ALICE, roadmapChat, 'Members only.');
    await control.next(dataFor('control'));
    await sleep(NEVER_MS);
    for (const client of outsiders) expect(client.all((m) => m.type === 'data')).toEqual([]);
  });

  it('delivers nothing to another tenant’s subscriber whose own conversation has the same id', async () => {
    expect(globexChat).toBe(roadmapChat);
    const gus = await connect(GUS);
    await watch(gus, 'g', globexChat);
    const control = await connect(ALICE);
    await watch(control, 'control', roadmapChat);
    await send(BOB, roadmapChat, 'Acme only.');
    await control.next(dataFor('control'));
    await send(GUS, globexChat, 'Globex only.');
    await gus.next(dataFor('g'));
    await sleep(NEVER_MS);
    expect(bodiesOf(gus, 'g')).toEqual(['Globex only.']);
    expect(bodiesOf(control, 'control')).toEqual(['Acme only.']);
  });

  it('checks every event: a permission taken away stops the next one, given back resumes', async () => {
    const setSubscribe = (subscribe: boolean) =>
      value(SUPER, SET_PERMISSION, { userId: idOf(ALICE), readPrivate: false, subscribe });
    const alice = await connect(ALICE);
    await watch(alice, 'a', roadmapChat);
    const control = await connect(READER);
    await watch(control, 'control', roadmapChat);
    try {
      await send(BOB, roadmapChat, 'one');
      await alice.next(dataFor('a'));
      await control.next(dataFor('control'));
      await setSubscribe(false);
      await send(BOB, roadmapChat, 'two');
      await control.next(dataFor('control'));
      await sleep(NEVER_MS);
      expect(bodiesOf(alice, 'a')).toEqual(['one']);
    } finally {
      await setSubscribe(true);
    }
    await send(BOB, roadmapChat, 'three');
    await alice.next(dataFor('a'));
    expect(bodiesOf(alice, 'a')).toEqual(['one', 'three']);
  });

  it('checks when subscribing: the resolver, run as the subscriber with no event, refuses all but allowed members', async () => {
    const onMessage = resolvers['Subscription.onMessage'];
    if (!onMessage) throw new Error('no Subscription.onMessage resolver');
    // AppSync's subscription start: arguments, no source (so no message id).
    const atStart = (email: string, conversationId: string) =>
      sql(email, onMessage.sql, [conversationId, null]);
    for (const email of [ALICE, READER]) expect((await atStart(email, roadmapChat)).rows, email).toEqual([]);
    for (const email of [BOB, CAROL, SUPER, ADMIN]) await expectDenied(atStart(email, roadmapChat));
    await expectDenied(atStart(ALICE, managers));
    // Another tenant's member: their own conversation 1 is theirs; Acme's Managers does not exist for them.
    expect((await atStart(GUS, globexChat)).rows).toEqual([]);
    await expectDenied(atStart(GUS, managers));
  });

  it('lets members send as themselves; ReadOnly cannot send, nobody sends outside their conversations', async () => {
    expect(await refusal(READER, SEND, { c: roadmapChat, body: 'Rita here.' })).toEqual(['Unauthorized']);
    expect(await refusal(BOB, SEND, { c: managers, body: 'Let me in.' })).toEqual(['Unauthorized']);
    await expectDenied(
      sql(BOB, 'insert into messages (conversation_id, sender_id, body) values ($1, $2, $3)', [
        roadmapChat,
        idOf(ALICE),
        'Forged.',
      ]),
    );
    const { rows } = await cluster.admin.query(
      "select body from tenant_acme.messages where body in ('Rita here.', 'Let me in.', 'Forged.')",
    );
    expect(rows).toEqual([]);
    expect(
      await value(SUPER, 'query ($c: ID!) { messages(conversationId: $c) { body } }', { c: roadmapChat }),
    ).toEqual([]);
  });
});

describe('8. addUser: managers invite into their own tenant, at or below their own rank', () => {
  const loginOf = (email: string) =>
    cognito.send(new AdminGetUserCommand({ UserPoolId: stack.userPool.poolId, Username: email }));
  const rowOf = async (email: string) =>
    (
      await cluster.admin.query<Row>(
        `select u.role, u.status, u.given_name, t.slug from cognition.users u
         left join cognition.tenants t on t.id = u.tenant_id where lower(u.email) = lower($1)`,
        [email],
      )
    ).rows;
  const noLogin = async (email: string) => {
    await expect(loginOf(email)).rejects.toMatchObject({ name: 'UserNotFoundException' });
  };

  it('lets a SuperUser add a Member: invited in their tenant, with a login that records the tenant', async () => {
    const added = await value<Row>(SUPER, ADD_USER, {
      name: 'Nina',
      email: 'nina@acme.test',
      role: 'Member',
    });
    expect(added).toMatchObject({ email: 'nina@acme.test', role: 'Member', status: 'invited', name: 'Nina' });
    expect(await rowOf('nina@acme.test')).toEqual([
      { role: 'Member', status: 'invited', given_name: 'Nina', slug: 'acme' },
    ]);
    const listed = await value<Row[]>(SUPER, '{ users { email status } }');
    expect(listed).toContainEqual({ email: 'nina@acme.test', status: 'invited' });
    expect(listed.map((u) => u.email)).not.toContain(GUS);

    const login = await loginOf('nina@acme.test');
    expect(login.UserStatus).toBe('FORCE_CHANGE_PASSWORD');
    const acmeId = (await stack.cognition.tenants.require('acme')).id;
    expect(login.UserAttributes).toContainEqual({ Name: 'custom:tenant_id', Value: acmeId });
  });

  it('lets the added user log in with the temporary password, choose one, and query as a Member', async () => {
    const challenge = await cognito.send(
      new InitiateAuthCommand({
        ClientId: stack.userPool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'nina@acme.test', PASSWORD: TEMPORARY_PASSWORD },
      }),
    );
    expect(challenge.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    const done = await cognito.send(
      new RespondToAuthChallengeCommand({
        ClientId: stack.userPool.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: challenge.Session,
        ChallengeResponses: { USERNAME: 'nina@acme.test', NEW_PASSWORD: NEW_PASSWORD },
      }),
    );
    const idToken = done.AuthenticationResult?.IdToken as string;
    expect(idToken).toBeTruthy();
    const { data, errors } = await askWith(
      idToken,
      '{ me { email role rank } documents { title } todos { id } }',
    );
    expect(errors).toBeUndefined();
    expect(data?.me).toEqual({ email: 'nina@acme.test', role: 'Member', rank: 2 });
    expect(titles(data?.documents as Row[])).toEqual(['Carol’s notes', 'Handbook', 'Sam’s notes']);
    expect(data?.todos).toEqual([]);
    expect((await rowOf('nina@acme.test'))[0]).toMatchObject({ status: 'active' });
  });

  it('refuses a SuperUser adding an Admin, leaving no row and no login', async () => {
    expect(await refusal(SUPER, ADD_USER, { name: 'Eve', email: 'eve@acme.test', role: 'Admin' })).toEqual([
      'Unauthorized',
    ]);
    expect(await rowOf('eve@acme.test')).toEqual([]);
    await noLogin('eve@acme.test');
  });

  it('refuses a Member or ReadOnly adding anyone, leaving no row and no login', async () => {
    for (const [email, added] of [
      [ALICE, 'mallory@acme.test'],
      [READER, 'trent@acme.test'],
    ] as const) {
      expect(await refusal(email, ADD_USER, { name: 'X', email: added, role: 'ReadOnly' }), email).toEqual([
        'Unauthorized',
      ]);
      expect(await rowOf(added)).toEqual([]);
      await noLogin(added);
    }
  });

  it("puts the user in the caller's tenant, which no argument can name", async () => {
    const added = await value<Row>(G_SUPER, ADD_USER, {
      name: 'Gil',
      email: 'gil@globex.test',
      role: 'ReadOnly',
    });
    expect(added).toMatchObject({ role: 'ReadOnly', status: 'invited' });
    expect(await rowOf('gil@globex.test')).toEqual([
      { role: 'ReadOnly', status: 'invited', given_name: 'Gil', slug: 'globex' },
    ]);
    const acmeId = (await stack.cognition.tenants.require('acme')).id;
    const smuggled = await ask(
      G_SUPER,
      `mutation ($t: ID!) { addUser(name: "Ivy", email: "ivy@acme.test", role: "Member", tenantId: $t) { id } }`,
      { t: acmeId },
    );
    expect(smuggled.errors?.length).toBeGreaterThan(0);
    expect(await rowOf('ivy@acme.test')).toEqual([]);
    await noLogin('ivy@acme.test');
    expect(
      await refusal(SUPER, ADD_USER, { name: 'Olga', email: 'olga@acme.test', role: 'Owner' }),
    ).toHaveLength(1);
    expect(await rowOf('olga@acme.test')).toEqual([]);
    await noLogin('olga@acme.test');
  });
});

describe('other tenants', () => {
  it('cannot reach another tenant’s schema by qualified name', async () => {
    for (const email of [GUS, G_ADMIN, G_READER]) {
      for (const table of ['todos', 'documents', 'posts', 'permissions', 'messages', 'live_conversations']) {
        await expectDenied(sql(email, `select count(*) from tenant_acme.${table}`));
      }
    }
    await expectDenied(sql(ADMIN, 'select count(*) from tenant_globex.documents'));
    for (const email of COMPANIES[1]?.people.map((p) => p.email) ?? []) {
      const seen = titles(await value<Row[]>(email, DOCUMENTS));
      expect(
        seen.filter((t) => ['Roadmap', 'Handbook', 'Budget'].includes(t)),
        email,
      ).toEqual([]);
    }
  });
});
