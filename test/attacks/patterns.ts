import { AdminDeleteUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import {
  judgeOutcome,
  many,
  noLogin,
  overhear,
  subscriptionStart,
  type Attack,
  type Outcome,
  type RowChange,
  type Target,
} from './harness.js';
import { injection, PAYLOADS, verbatim, type TextArgument } from './injection.js';
import {
  ACME_DOCUMENTS,
  ACME_LOOT,
  ACME_MESSAGES,
  ACME_PRIVATE_POSTS,
  ACME_TODOS,
  ADMIN,
  ALICE,
  BOB,
  CAROL,
  document,
  G_ADMIN,
  G_SUPER,
  GLOBEX_LOOT,
  GUS,
  idOf,
  READER,
  SUPER,
  todoTitles,
} from './patterns-data.js';
import { reSigned } from './tokens.js';

/**
 * The patterns example (examples/patterns): every AppSync authorization use case attacked from
 * the wrong user, group, tenant and rank, privilege escalation through addUser and through SQL on
 * cognition.users, and injection through its text arguments. Acme's people: Ada (Admin), Sam
 * (SuperUser), Alice, Bob and Carol (Members), Rita (ReadOnly); Globex has one of each rank.
 */

const gql = async (t: Target, email: string, query: string, variables: Record<string, unknown> = {}) =>
  t.graphql(query, { authorization: (await t.tokens(email)).id, variables });

const userId = async (t: Target, email: string) => (await t.user(email)).id;

const ADD_USER =
  'mutation ($name: String!, $email: AWSEmail!, $role: String!) { addUser(name: $name, email: $email, role: $role) { id email role status name } }';
const ON_MESSAGE =
  'subscription ($c: ID!) { onMessage(conversationId: $c) { id body senderId conversationId } }';
const SEND = 'mutation ($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id body } }';

/** Rows (and their audit entries and logins) that a legitimate addUser made; the referee removes them. */
async function removeInvited(t: Target, emails: readonly string[]): Promise<void> {
  const { rows } = await t.admin.query<{ id: string }>(
    'delete from cognition.users where lower(email) = any($1) returning id',
    [emails.map((e) => e.toLowerCase())],
  );
  await t.admin.query('delete from cognition.audit_log where user_id = any($1)', [rows.map((r) => r.id)]);
  for (const email of emails) {
    await t.cognito
      .send(new AdminDeleteUserCommand({ UserPoolId: t.stack.userPool.poolId, Username: email }))
      .catch(() => {});
  }
}

/** cognition.users and audit_log rows of these addresses, in the given tenant only. */
function invitedInto(emails: readonly string[], tenantId: () => string) {
  return (c: RowChange): boolean => {
    if (c.change !== 'added') return false;
    const row = JSON.parse(c.row) as Record<string, unknown>;
    if (row['tenant_id'] !== tenantId()) return false;
    if (c.key === 'cognition.users') return emails.includes(String(row['email']).toLowerCase());
    if (c.key === 'cognition.audit_log') {
      return emails.includes(
        String((row['detail'] as Record<string, unknown> | null)?.['email']).toLowerCase(),
      );
    }
    return false;
  };
}

let acmeId = '';

const subscriptionAttack = (
  name: string,
  spy: string,
  conversation: { tenant: 'acme' | 'globex'; title: string },
  options: { between?: (t: Target) => Promise<void>; restore?: (t: Target) => Promise<void> } = {},
): Attack => {
  const body = `Live: ${name.slice(0, 40)}`;
  return {
    name,
    category: 'use cases',
    target: 'patterns',
    secrets: () => [body],
    expectedChange: (c) =>
      (c.key === 'tenant_acme.messages' && c.change === 'added' && c.row.includes(body)) ||
      (options.restore !== undefined && c.key === 'tenant_acme.permissions'),
    async cleanup(t) {
      await t.admin.query('delete from tenant_acme.messages where body = $1', [body]);
      await options.restore?.(t);
    },
    async run(t) {
      const roadmap = await idOf(t, 'acme', 'conversations', 'Roadmap chat');
      const spied = await idOf(t, conversation.tenant, 'conversations', conversation.title);
      return overhear(t, {
        spy: { email: spy, query: ON_MESSAGE, variables: { c: spied } },
        // Rita (ReadOnly) is a member of the Roadmap chat allowed to subscribe.
        control: { email: READER, query: ON_MESSAGE, variables: { c: roadmap } },
        ...(options.between ? { between: () => (options.between as (t: Target) => Promise<void>)(t) } : {}),
        async trigger() {
          // Bob, a member of the Roadmap chat, writes to it.
          const sent = await gql(t, BOB, SEND, { c: roadmap, b: body });
          if (typeof sent.body !== 'object' || sent.body.errors)
            throw new Error(`sending failed: ${JSON.stringify(sent.body)}`);
        },
      });
    },
  };
};

const TEXT_ARGUMENTS: TextArgument[] = [
  {
    target: 'patterns',
    name: 'Mutation.createTodo(title)',
    as: ALICE,
    mutation: 'mutation ($p: String!) { createTodo(title: $p) { id title } }',
    variables: async (_t, p) => ({ p }),
    field: 'createTodo',
    property: 'title',
    table: 'tenant_acme.todos',
    column: 'title',
  },
  {
    target: 'patterns',
    name: 'Mutation.createDocument(title)',
    as: ALICE,
    mutation: 'mutation ($p: String!) { createDocument(title: $p, body: "x") { id title } }',
    variables: async (_t, p) => ({ p }),
    field: 'createDocument',
    property: 'title',
    table: 'tenant_acme.documents',
    column: 'title',
  },
  {
    target: 'patterns',
    name: 'Mutation.createPost(body)',
    as: ALICE,
    mutation:
      'mutation ($p: String!) { createPost(title: "Injected", body: $p, visibility: PRIVATE) { id body } }',
    variables: async (_t, p) => ({ p }),
    field: 'createPost',
    property: 'body',
    table: 'tenant_acme.posts',
    column: 'body',
  },
  {
    target: 'patterns',
    name: 'Mutation.sendMessage(body)',
    as: ALICE,
    mutation: SEND,
    variables: async (t, p) => ({ c: await idOf(t, 'acme', 'conversations', 'Roadmap chat'), b: p }),
    field: 'sendMessage',
    property: 'body',
    table: 'tenant_acme.messages',
    column: 'body',
  },
];

const INJECTED_EMAILS = PAYLOADS.map((_, i) => `inj-${i}@acme.test`);

export const patternsAttacks: Attack[] = [
  // --- 8. addUser: privilege escalation --------------------------------------------------------
  {
    name: 'addUser: a SuperUser adds an Admin, or an application admin (no row, no login)',
    category: 'escalation',
    target: 'patterns',
    run: (t) =>
      many(
        () => gql(t, SUPER, ADD_USER, { name: 'Eve', email: 'eve@acme.test', role: 'Admin' }),
        () => gql(t, SUPER, ADD_USER, { name: 'Root', email: 'root@acme.test', role: 'application_admin' }),
        () => noLogin(t, 'eve@acme.test'),
        () => noLogin(t, 'root@acme.test'),
      ),
  },
  {
    name: 'addUser: a Member and a ReadOnly add anyone, even at the lowest rank (no row, no login)',
    category: 'escalation',
    target: 'patterns',
    run: (t) =>
      many(
        () => gql(t, ALICE, ADD_USER, { name: 'Mallory', email: 'mallory@acme.test', role: 'ReadOnly' }),
        () => gql(t, READER, ADD_USER, { name: 'Trent', email: 'trent@acme.test', role: 'ReadOnly' }),
        () => gql(t, ALICE, ADD_USER, { name: 'Mallory', email: 'mallory2@acme.test', role: 'Admin' }),
        () => noLogin(t, 'mallory@acme.test'),
        () => noLogin(t, 'trent@acme.test'),
        () => noLogin(t, 'mallory2@acme.test'),
      ),
  },
  {
    name: 'addUser into another tenant: a tenant argument, a declared variable, undeclared variables and headers',
    category: 'tenant smuggling',
    target: 'patterns',
    // The unknown argument and the declared variable are refused; the rest adds Ivy, but to Acme
    // (the caller's tenant) only: any row in Globex would be a trace.
    mayReturnData: true,
    async setup(t) {
      acmeId = (await t.stack.cognition.tenants.require('acme')).id;
    },
    expectedChange: invitedInto(['ivy@acme.test'], () => acmeId),
    cleanup: (t) => removeInvited(t, ['ivy@acme.test']),
    async run(t) {
      const globexId = (await t.stack.cognition.tenants.require('globex')).id;
      const authorization = (await t.tokens(SUPER)).id;
      const headers = { 'x-tenant-id': globexId, 'x-tenant': 'globex', 'x-amzn-tenant-id': globexId };
      return many(
        () =>
          t.graphql(
            `mutation { addUser(name: "Ivy", email: "ivy@globex.test", role: "Member", tenantId: "${globexId}") { id } }`,
            { authorization },
          ),
        () =>
          t.graphql(
            'mutation ($t: ID!) { addUser(name: "Ivy", email: "ivy@globex.test", role: "Member") { id } }',
            { authorization, variables: { t: globexId } },
          ),
        () =>
          t.graphql(ADD_USER, {
            authorization,
            headers,
            variables: {
              name: 'Ivy',
              email: 'ivy@acme.test',
              role: 'Member',
              tenantId: globexId,
              tenant: 'globex',
            },
          }),
        () => noLogin(t, 'ivy@globex.test'),
      );
    },
  },
  {
    name: "addUser with the address of another tenant's Admin (account takeover), in other cases and spacing",
    category: 'escalation',
    target: 'patterns',
    run: (t) =>
      many(
        ...[G_ADMIN, G_ADMIN.toUpperCase(), ` ${G_ADMIN} `, ADMIN].map(
          (email) => () => gql(t, SUPER, ADD_USER, { name: 'Takeover', email, role: 'ReadOnly' }),
        ),
      ),
  },
  {
    name: 'addUser with roles that are not tenant roles: lower-case, database role names, injection',
    category: 'escalation',
    target: 'patterns',
    async run(t) {
      const roles = [
        'admin',
        'ADMIN',
        'tenant_admins',
        'tenant_acme_admins',
        'postgres',
        'cognition_owner',
        "Member'; --",
        'Member ',
        '',
      ];
      return many(
        ...roles.map(
          (role, i) => () => gql(t, SUPER, ADD_USER, { name: 'Role', email: `role-${i}@acme.test`, role }),
        ),
        ...roles.map((_, i) => () => noLogin(t, `role-${i}@acme.test`)),
      );
    },
  },
  {
    name: 'SQL on cognition.users: a SuperUser promotes themself or a Member to Admin, or invites an Admin',
    category: 'escalation',
    target: 'patterns',
    async run(t) {
      const alice = await userId(t, ALICE);
      return many(
        () => t.sql(SUPER, "update cognition.users set role = 'Admin' where id = cognition.my_user_id()"),
        () => t.sql(SUPER, "update cognition.users set role = 'Admin' where id = $1", [alice]),
        () => t.sql(SUPER, "insert into cognition.users (email, role) values ('evil@acme.test', 'Admin')"),
        () => t.sql(ALICE, "update cognition.users set role = 'SuperUser' where id = cognition.my_user_id()"),
        () => t.sql(SUPER, 'set role tenant_acme_admins'),
        () => t.sql(SUPER, 'set role tenant_admins'),
      );
    },
  },
  {
    name: "SQL on cognition.users: a SuperUser demotes, suspends, removes or takes over an Admin's address",
    category: 'escalation',
    target: 'patterns',
    async run(t) {
      const admin = await userId(t, ADMIN);
      return many(
        () => t.sql(SUPER, "update cognition.users set role = 'ReadOnly' where id = $1", [admin]),
        () => t.sql(SUPER, "update cognition.users set status = 'suspended' where id = $1", [admin]),
        () => t.sql(SUPER, "update cognition.users set status = 'removed' where id = $1", [admin]),
        () => t.sql(SUPER, "update cognition.users set email = 'sam+ada@acme.test' where id = $1", [admin]),
        () => t.sql(SUPER, "update cognition.users set given_name = 'Demoted' where role = 'Admin'"),
      );
    },
  },
  {
    name: "SQL on cognition.users: a manager of one tenant acts on another tenant's users",
    category: 'escalation',
    target: 'patterns',
    secrets: () => ['admin@globex.test', 'super@globex.test', 'member@globex.test'],
    async run(t) {
      const globexId = (await t.stack.cognition.tenants.require('globex')).id;
      return many(
        () => t.sql(ADMIN, 'select email from cognition.users where tenant_id = $1', [globexId]),
        () =>
          t.sql(ADMIN, "update cognition.users set status = 'suspended' where tenant_id = $1", [globexId]),
        () =>
          t.sql(
            ADMIN,
            "insert into cognition.users (tenant_id, email, role) values ($1, 'mole@globex.test', 'Admin')",
            [globexId],
          ),
        () => t.sql(ADMIN, "update cognition.users set role = 'Admin' where tenant_id = $1", [globexId]),
      );
    },
  },
  {
    name: "permission rows: a Member grants themself access, a SuperUser changes an Admin's row or another tenant's user",
    category: 'escalation',
    target: 'patterns',
    async run(t) {
      const bob = await userId(t, BOB);
      const admin = await userId(t, ADMIN);
      const gus = await userId(t, GUS);
      const set =
        'mutation ($u: ID!) { setPermission(userId: $u, readPrivate: true, subscribe: true) { userId } }';
      return many(
        () => gql(t, BOB, set, { u: bob }),
        () => gql(t, SUPER, set, { u: admin }),
        () => gql(t, SUPER, set, { u: gus }),
        () =>
          t.sql(BOB, 'insert into permissions (user_id, read_private, subscribe) values ($1, true, true)', [
            bob,
          ]),
        () => t.sql(BOB, 'update permissions set read_private = true'),
        () => t.sql(SUPER, 'update permissions set read_private = false where user_id = $1', [admin]),
      );
    },
  },
  {
    name: 'a SuperUser demoted to Member, with a token that still says SuperUser, adds a user and reads users',
    category: 'lifecycle',
    target: 'patterns',
    secrets: () => [ADMIN, BOB, CAROL],
    async setup(t) {
      await t.tokens(SUPER, { fresh: true });
      // The Admin demotes Sam, as a tenant manager does, through the database.
      const result = await t.sql(
        ADMIN,
        "update cognition.users set role = 'Member' where lower(email) = $1",
        [SUPER],
      );
      if (result.kind !== 'rows' || result.rowCount !== 1)
        throw new Error(`demotion failed: ${JSON.stringify(result)}`);
    },
    run: (t) =>
      many(
        () => gql(t, SUPER, ADD_USER, { name: 'Stale', email: 'stale@acme.test', role: 'ReadOnly' }),
        () => gql(t, SUPER, '{ users { email } }'),
        () => noLogin(t, 'stale@acme.test'),
      ),
    // Sam now sees only his own row: that is not loot.
    judge: (outcome) => judgeOutcome(outcome, true),
    async teardown(t) {
      await t.sql(ADMIN, "update cognition.users set role = 'SuperUser' where lower(email) = $1", [SUPER]);
    },
  },
  {
    name: 'a Member suspended by their SuperUser is refused on the very next request, token still valid',
    category: 'lifecycle',
    target: 'patterns',
    secrets: () => todoTitles(BOB),
    async setup(t) {
      await gql(t, BOB, '{ me { email } }');
      const result = await t.sql(
        SUPER,
        "update cognition.users set status = 'suspended' where lower(email) = $1",
        [BOB],
      );
      if (result.kind !== 'rows' || result.rowCount !== 1)
        throw new Error(`suspension failed: ${JSON.stringify(result)}`);
    },
    run: (t) => gql(t, BOB, '{ me { email } todos { title } documents { title } }'),
    async teardown(t) {
      await t.sql(SUPER, "update cognition.users set status = 'active' where lower(email) = $1", [BOB]);
    },
  },

  // --- 1. Owner reads; the list holds the owner's items only ------------------------------------
  {
    name: "1 owner: another Member, the Admin and another tenant's Member read and change a private to-do",
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => todoTitles(ALICE),
    async run(t) {
      const id = await idOf(t, 'acme', 'todos', 'Draft the roadmap');
      const read = `{ todos { title } todo(id: "${id}") { title } }`;
      const update = 'mutation ($id: ID!) { updateTodo(id: $id, title: "Hijacked", done: true) { title } }';
      return many(
        () => gql(t, BOB, read),
        () => gql(t, ADMIN, read),
        () => gql(t, BOB, update, { id }),
        () => gql(t, ADMIN, update, { id }),
        () => t.sql(ADMIN, 'select title from todos where owner_id <> cognition.my_user_id()'),
        () => t.sql(BOB, 'update todos set done = true where owner_id <> cognition.my_user_id()'),
        async () =>
          t.sql(BOB, "insert into todos (owner_id, title) values ($1, 'Planted')", [await userId(t, ALICE)]),
      );
    },
  },
  {
    name: "1 owner, wrong tenant: another company's Member asks for the same to-do ids",
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => ACME_TODOS,
    async run(t) {
      const ids = await Promise.all(ACME_TODOS.map((title) => idOf(t, 'acme', 'todos', title)));
      return many(...ids.map((id) => () => gql(t, GUS, `{ todo(id: "${id}") { title } }`)));
    },
  },

  // --- 2. The Admin group updates any document -------------------------------------------------
  {
    name: '2 group Admin: a SuperUser, a Member and a forged Admin group claim update documents of others',
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => ['Hijacked'],
    async run(t) {
      const roadmap = await idOf(t, 'acme', 'documents', 'Roadmap');
      const budget = await idOf(t, 'acme', 'documents', 'Budget');
      const update = 'mutation ($id: ID!) { updateDocument(id: $id, body: "Hijacked") { title body } }';
      // Carol's real claims, re-signed with groups [Admin] (as a misconfigured token hook would).
      const forged = await reSigned(t, CAROL, (c) => ({
        ...c,
        'cognito:groups': ['Admin'],
        tenant_role: 'Admin',
      }));
      return many(
        () => gql(t, SUPER, update, { id: roadmap }),
        () => gql(t, CAROL, update, { id: budget }),
        () => t.graphql(update, { authorization: forged, variables: { id: budget } }),
        () => t.sql(CAROL, "update documents set body = 'Hijacked' where title = 'Budget'"),
      );
    },
  },
  {
    name: "2 group Admin, wrong tenant: another company's Admin updates and reads this company's documents",
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => [...ACME_DOCUMENTS, 'Hijacked'],
    async run(t) {
      // Budget's id names no Globex document: an Admin of Globex must not reach Acme's.
      const budget = await idOf(t, 'acme', 'documents', 'Budget');
      return many(
        () =>
          gql(t, G_ADMIN, 'mutation ($id: ID!) { updateDocument(id: $id, body: "Hijacked") { title } }', {
            id: budget,
          }),
        () => gql(t, G_ADMIN, `{ documents { title body } document(id: "${budget}") { title body } }`),
        () => t.sql(G_ADMIN, 'select title from tenant_acme.documents'),
      );
    },
  },

  // --- 3. Multiple people read; 5. multiple owners write -----------------------------------------
  {
    name: '3 readers: a user not listed reads a document; a reader edits it or adds themself as editor',
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => [document('Roadmap').body, 'Hijacked'],
    async run(t) {
      const roadmap = await idOf(t, 'acme', 'documents', 'Roadmap');
      const bob = await userId(t, BOB);
      return many(
        // Sam (SuperUser) is neither owner, reader, editor nor in a listed group.
        () => gql(t, SUPER, `{ document(id: "${roadmap}") { title body } documents { title } }`),
        () =>
          gql(t, BOB, 'mutation ($id: ID!) { updateDocument(id: $id, body: "Hijacked") { body } }', {
            id: roadmap,
          }),
        () =>
          gql(t, BOB, 'mutation ($id: ID!, $e: [ID!]) { shareDocument(id: $id, editors: $e) { editors } }', {
            id: roadmap,
            e: [bob],
          }),
        // Bob owns the Budget: every document but his own is out of his reach.
        () =>
          t.sql(
            BOB,
            'update documents set editors = editors || cognition.my_user_id() where owner_id <> cognition.my_user_id()',
          ),
      );
    },
    judge: (outcome) => {
      // Bob is a reader: he may read the Roadmap's body. Only Sam's answer must not hold it.
      const generic = judgeOutcome(outcome, true);
      if (!generic.denied) return generic;
      const sam = outcome.kind === 'many' ? JSON.stringify(outcome.outcomes[0]) : '';
      return sam.includes(document('Roadmap').body) || JSON.stringify(outcome).includes('Hijacked')
        ? { denied: false, why: `got ${sam.slice(0, 300)}` }
        : generic;
    },
  },
  {
    name: '5 multiple owners: an editor re-shares a document; a ReadOnly listed as editor edits it',
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => ['Hijacked'],
    async run(t) {
      const roadmap = await idOf(t, 'acme', 'documents', 'Roadmap');
      const sam = await userId(t, SUPER);
      return many(
        () =>
          gql(
            t,
            CAROL,
            'mutation ($id: ID!, $r: [ID!]) { shareDocument(id: $id, readers: $r) { readers } }',
            {
              id: roadmap,
              r: [sam],
            },
          ),
        () =>
          gql(
            t,
            CAROL,
            'mutation ($id: ID!) { shareDocument(id: $id, readerGroups: ["SuperUser"]) { readerGroups } }',
            {
              id: roadmap,
            },
          ),
        () =>
          gql(t, READER, 'mutation ($id: ID!) { updateDocument(id: $id, body: "Hijacked") { body } }', {
            id: roadmap,
          }),
        () => t.sql(READER, "update documents set body = 'Hijacked' where title = 'Roadmap'"),
      );
    },
  },

  // --- 4. A group reads -------------------------------------------------------------------------
  {
    name: "4 group reads: a SuperUser (group not listed, even with a forged Member claim) and another tenant's Member",
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => [document('Handbook').body],
    async run(t) {
      const handbook = await idOf(t, 'acme', 'documents', 'Handbook');
      const query = `{ document(id: "${handbook}") { title body } documents { title body } }`;
      const forged = await reSigned(t, SUPER, (c) => ({
        ...c,
        'cognito:groups': ['Member'],
        tenant_role: 'Member',
      }));
      return many(
        () => gql(t, SUPER, query),
        () => t.graphql(query, { authorization: forged }),
        () => gql(t, GUS, query),
      );
    },
  },

  // --- 5. A group creates, a group updates ---------------------------------------------------------
  {
    name: '5 group create/update: a ReadOnly creates; a Member updates a SuperUser-group document; owners forged',
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => ['Hijacked', 'Planted'],
    async run(t) {
      const budget = await idOf(t, 'acme', 'documents', 'Budget');
      return many(
        () => gql(t, READER, 'mutation { createDocument(title: "Planted") { id } }'),
        () =>
          gql(t, CAROL, 'mutation ($id: ID!) { updateDocument(id: $id, body: "Hijacked") { body } }', {
            id: budget,
          }),
        async () =>
          t.sql(ALICE, "insert into documents (owner_id, title) values ($1, 'Planted')", [
            await userId(t, BOB),
          ]),
        () => t.sql(READER, "insert into documents (title) values ('Planted')"),
      );
    },
  },
  {
    name: "5 sharing outside the rules: another tenant's user as reader, undeclared or database groups",
    category: 'use cases',
    target: 'patterns',
    async run(t) {
      const gus = await userId(t, GUS);
      const create =
        'mutation ($r: [ID!], $g: [String!]) { createDocument(title: "Shared", readers: $r, readerGroups: $g) { id } }';
      return many(
        () => gql(t, ALICE, create, { r: [gus], g: [] }),
        () => gql(t, ALICE, create, { r: [], g: ['tenant_admins'] }),
        () => gql(t, ALICE, create, { r: [], g: ['admin'] }),
        () => gql(t, ALICE, create, { r: [], g: ['application_admin'] }),
        () => gql(t, ALICE, create, { r: ['00000000-0000-4000-8000-000000000000'], g: [] }),
      );
    },
  },

  // --- 6. Public and private records ------------------------------------------------------------
  {
    name: '6 private posts: a Member without permission, a ReadOnly with it (AND rule), another tenant',
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => ACME_PRIVATE_POSTS,
    async run(t) {
      const salary = await idOf(t, 'acme', 'posts', 'Salary bands');
      const query = `{ posts { title body } post(id: "${salary}") { title body } }`;
      return many(
        () => gql(t, BOB, query),
        // Rita's permission row says read_private; the restrictive rule still wants Member or above.
        () => gql(t, READER, query),
        () => t.sql(READER, "select title, body from posts where visibility = 'PRIVATE'"),
        () => gql(t, GUS, query),
      );
    },
    // Gus may read Globex's own private post; Acme's are the loot (checked by secrets).
  },
  {
    name: '6 posts: a ReadOnly posts, a Member forges the author (SQL)',
    category: 'use cases',
    target: 'patterns',
    run: (t) =>
      many(
        () => gql(t, READER, 'mutation { createPost(title: "Planted", visibility: PUBLIC) { id } }'),
        async () =>
          t.sql(BOB, "insert into posts (author_id, title, visibility) values ($1, 'Planted', 'PUBLIC')", [
            await userId(t, SUPER),
          ]),
        () => t.sql(BOB, "update posts set visibility = 'PUBLIC'"),
      ),
  },

  // --- 7. Real-time: only one's own conversation, only with permission -----------------------------
  subscriptionAttack(
    '7 subscribe: a Member who is not in the conversation (permission to subscribe)',
    CAROL,
    {
      tenant: 'acme',
      title: 'Roadmap chat',
    },
  ),
  subscriptionAttack(
    '7 subscribe: a member of the conversation whose permission row refuses subscriptions',
    BOB,
    {
      tenant: 'acme',
      title: 'Roadmap chat',
    },
  ),
  subscriptionAttack(
    "7 subscribe: another tenant's member, subscribed to their own conversation with the same id",
    GUS,
    { tenant: 'globex', title: 'Globex chat' },
  ),
  subscriptionAttack(
    '7 subscribe: a member whose permission is taken away while subscribed gets no further event',
    ALICE,
    { tenant: 'acme', title: 'Roadmap chat' },
    {
      async between(t) {
        const alice = await userId(t, ALICE);
        const answer = await gql(
          t,
          SUPER,
          'mutation ($u: ID!) { setPermission(userId: $u, readPrivate: false, subscribe: false) { subscribe } }',
          { u: alice },
        );
        if (typeof answer.body !== 'object' || answer.body.errors)
          throw new Error(`revoking failed: ${JSON.stringify(answer.body)}`);
      },
      async restore(t) {
        await t.admin.query('update tenant_acme.permissions set subscribe = true where user_id = $1', [
          await userId(t, ALICE),
        ]);
      },
    },
  ),
  {
    name: '7 subscribe: refused when subscribing, for a non-member and for a member without permission',
    category: 'use cases',
    target: 'patterns',
    async run(t) {
      const roadmap = await idOf(t, 'acme', 'conversations', 'Roadmap chat');
      const outcomes: Outcome[] = [];
      for (const email of [CAROL, BOB]) {
        const subscription = await t.subscribe(email, ON_MESSAGE, { c: roadmap });
        outcomes.push(subscriptionStart(subscription.answer));
        await subscription.close();
      }
      return { kind: 'many', outcomes };
    },
  },
  {
    name: '7 messages: a non-member and a ReadOnly member send; a non-member and another tenant read',
    category: 'use cases',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => [...ACME_MESSAGES, 'Planted'],
    async run(t) {
      const roadmap = await idOf(t, 'acme', 'conversations', 'Roadmap chat');
      const read = `{ messages(conversationId: "${roadmap}") { body } conversations { title } }`;
      return many(
        () => gql(t, CAROL, SEND, { c: roadmap, b: 'Planted' }),
        () => gql(t, READER, SEND, { c: roadmap, b: 'Planted' }),
        () => gql(t, CAROL, read),
        () => gql(t, GUS, read),
        async () =>
          t.sql(
            CAROL,
            'insert into conversation_members (conversation_id, user_id) values ($1, cognition.my_user_id())',
            [roadmap],
          ),
        async () =>
          t.sql(ALICE, "insert into messages (conversation_id, sender_id, body) values ($1, $2, 'Planted')", [
            roadmap,
            await userId(t, BOB),
          ]),
      );
    },
    // Gus reads Globex's own messages; none of Acme's (checked by secrets).
  },

  // --- Another tenant, across the board -------------------------------------------------------------
  {
    name: "another tenant's SuperUser reads everything it can reach, over GraphQL and in SQL",
    category: 'tenant smuggling',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => ACME_LOOT,
    run: (t) =>
      many(
        () =>
          gql(
            t,
            G_SUPER,
            '{ users { email } todos { title } documents { title body } posts { title body } conversations { title } permissions { userId } }',
          ),
        () => t.sql(G_SUPER, 'select * from tenant_acme.documents'),
        () => t.sql(G_SUPER, 'select * from tenant_acme.posts'),
      ),
  },
  {
    name: 'an Admin reads everything of another tenant it can reach, by ids, over GraphQL and in SQL',
    category: 'tenant smuggling',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => GLOBEX_LOOT,
    async run(t) {
      // Globex's ids also name Acme rows (sequences are per schema): those Acme rows are the
      // Admin's to read; Globex's are not.
      const plan = await idOf(t, 'globex', 'documents', 'Globex plan');
      const secrets = await idOf(t, 'globex', 'posts', 'Globex secrets');
      const chat = await idOf(t, 'globex', 'conversations', 'Globex chat');
      return many(
        () =>
          gql(
            t,
            ADMIN,
            `{ document(id: "${plan}") { title body } post(id: "${secrets}") { title body } messages(conversationId: "${chat}") { body } }`,
          ),
        () => t.sql(ADMIN, 'select * from tenant_globex.documents'),
        () => t.sql(ADMIN, 'select * from tenant_globex.messages'),
      );
    },
  },
  {
    name: 'ReadOnly writes nothing, through any table, in SQL',
    category: 'use cases',
    target: 'patterns',
    async run(t) {
      const roadmap = await idOf(t, 'acme', 'conversations', 'Roadmap chat');
      return many(
        () => t.sql(READER, "insert into todos (title) values ('Planted')"),
        () => t.sql(READER, "update documents set title = 'Planted'"),
        () => t.sql(READER, "insert into posts (title) values ('Planted')"),
        () => t.sql(READER, "insert into conversations (title) values ('Planted')"),
        () => t.sql(READER, "insert into messages (conversation_id, body) values ($1, 'Planted')", [roadmap]),
        () => t.sql(READER, 'delete from todos'),
        () => t.sql(READER, 'truncate todos'),
        () => t.sql(READER, "select nextval(pg_get_serial_sequence('todos', 'id'))"),
      );
    },
  },

  // --- Injection ---------------------------------------------------------------------------------
  ...TEXT_ARGUMENTS.map((arg) => injection(arg, PAYLOADS, 'SQL injection, unicode and 63+ byte payloads')),
  {
    name: 'SQL injection, unicode and 63+ byte payloads through Mutation.addUser(name)',
    category: 'injection',
    target: 'patterns',
    async setup(t) {
      acmeId = (await t.stack.cognition.tenants.require('acme')).id;
    },
    async run(t) {
      const outcomes: Outcome[] = [];
      for (const [i, name] of PAYLOADS.entries()) {
        outcomes.push(await gql(t, SUPER, ADD_USER, { name, email: INJECTED_EMAILS[i], role: 'ReadOnly' }));
      }
      return { kind: 'many', outcomes };
    },
    judge: verbatim('addUser', 'name', PAYLOADS),
    expectedChange: invitedInto(INJECTED_EMAILS, () => acmeId),
    cleanup: (t) => removeInvited(t, INJECTED_EMAILS),
  },
  {
    name: 'SQL injection through addUser(email, role) and the ID arguments (todo, document, post, messages, setPermission)',
    category: 'injection',
    target: 'patterns',
    mayReturnData: true,
    secrets: () => [...ACME_LOOT.filter((s) => !todoTitles(ALICE).includes(s))],
    async run(t) {
      const outcomes: Outcome[] = [];
      const emails = [
        "x'@acme.test; drop table todos; --",
        "' or '1'='1@acme.test",
        'a@b.c\u0000',
        'é'.repeat(70) + '@acme.test',
      ];
      for (const email of emails)
        outcomes.push(await gql(t, SUPER, ADD_USER, { name: 'X', email, role: 'ReadOnly' }));
      const ids = ['1 or 1=1', "1' or '1'='1", '1); drop table todos; --', '-1 union select 1'];
      for (const id of ids) {
        outcomes.push(
          await gql(
            t,
            ALICE,
            'query ($id: ID!) { todo(id: $id) { title } document(id: $id) { title } post(id: $id) { title } messages(conversationId: $id) { body } }',
            { id },
          ),
        );
        outcomes.push(
          await gql(
            t,
            SUPER,
            'mutation ($id: ID!) { setPermission(userId: $id, readPrivate: true, subscribe: true) { userId } }',
            {
              id,
            },
          ),
        );
      }
      return { kind: 'many', outcomes };
    },
  },
];
