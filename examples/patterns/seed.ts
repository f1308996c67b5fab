import type { Cognition } from '../../src/cognition.js';
import { CognitionError } from '../../src/errors.js';
import type { User } from '../../src/users/users.js';

/**
 * Demo data for the patterns example: two companies (tenants `acme` and `globex`), each with a
 * user of every rank (Admin, SuperUser, Member, ReadOnly), and rows that exercise every pattern.
 *
 * Tenants and users are created through the system services (what an operator or a sign-up
 * does). Every row of a company's own data is written by the person who would write it, through
 * `cognition.runAs`: owners create their to-dos, documents and posts, a SuperUser sets the
 * permission rows, conversation creators add the members, members send messages. So the seed
 * passes the same privileges, policies, defaults and triggers as the API and needs no way
 * around them. Each insert only adds a row that is missing, so a second run changes nothing.
 *
 * The roles of roles.json must be declared and the template (examples/patterns/template)
 * applied first: the local stack does both when it loads the application.
 */

/** The Cognito password the local stack gives the seeded users (development only). */
export const PATTERNS_DEMO_PASSWORD = 'Row-Level-Secure-1';

/** What `npm start` suggests trying first. */
export const tryQuery = '{ me { email role } documents { title } posts { title } }';

export type PatternsRole = 'Admin' | 'SuperUser' | 'Member' | 'ReadOnly';

export interface SeededUser {
  id: string;
  email: string;
  role: PatternsRole;
  tenant: string;
  title: string;
  /** True when this run invited and provisioned the user. */
  created: boolean;
}

export interface SeedResult {
  tenants: { slug: string; name: string; created: boolean }[];
  users: SeededUser[];
  /** Rows this run added to the companies' tables (0 on a second run). */
  rowsInserted: number;
  /** See PATTERNS_DEMO_PASSWORD. */
  password: string;
}

export interface Person {
  email: string;
  name: string;
  role: PatternsRole;
}

export interface CompanySpec {
  slug: string;
  name: string;
  people: Person[];
  /** Use case 1. */
  todos: { owner: string; title: string }[];
  /** Use cases 2-5: people by email, groups by role name. */
  documents: {
    owner: string;
    title: string;
    body: string;
    readers?: string[];
    readerGroups?: PatternsRole[];
    editors?: string[];
    editorGroups?: PatternsRole[];
  }[];
  /** Use case 6. */
  posts: { author: string; title: string; body: string; visibility: 'PUBLIC' | 'PRIVATE' }[];
  /** Set by `by`, a manager. */
  permissions: { by: string; user: string; readPrivate: boolean; subscribe: boolean }[];
  /** Use case 7: the creator is a member too. */
  conversations: { creator: string; title: string; members: string[] }[];
  messages: { from: string; conversation: string; body: string }[];
}

export const COMPANIES: readonly CompanySpec[] = [
  {
    slug: 'acme',
    name: 'Acme Corp',
    people: [
      { email: 'admin@acme.test', name: 'Ada', role: 'Admin' },
      { email: 'super@acme.test', name: 'Sam', role: 'SuperUser' },
      { email: 'alice@acme.test', name: 'Alice', role: 'Member' },
      { email: 'bob@acme.test', name: 'Bob', role: 'Member' },
      { email: 'carol@acme.test', name: 'Carol', role: 'Member' },
      { email: 'reader@acme.test', name: 'Rita', role: 'ReadOnly' },
    ],
    todos: [
      { owner: 'alice@acme.test', title: 'Draft the roadmap' },
      { owner: 'alice@acme.test', title: 'Book the offsite' },
      { owner: 'bob@acme.test', title: 'Review the budget' },
    ],
    documents: [
      {
        owner: 'alice@acme.test',
        title: 'Roadmap',
        body: 'Q1: ship row-level security.',
        readers: ['bob@acme.test'],
        editors: ['carol@acme.test', 'reader@acme.test'],
      },
      {
        owner: 'alice@acme.test',
        title: 'Handbook',
        body: 'Be kind.',
        readerGroups: ['Member', 'ReadOnly'],
      },
      { owner: 'bob@acme.test', title: 'Budget', body: 'Coffee: 300.', editorGroups: ['SuperUser'] },
    ],
    posts: [
      { author: 'super@acme.test', title: 'Welcome to Acme', body: 'Hello, everyone.', visibility: 'PUBLIC' },
      { author: 'super@acme.test', title: 'Salary bands', body: 'Confidential.', visibility: 'PRIVATE' },
      { author: 'alice@acme.test', title: 'Offsite ideas', body: 'A lighthouse?', visibility: 'PRIVATE' },
    ],
    permissions: [
      { by: 'super@acme.test', user: 'alice@acme.test', readPrivate: false, subscribe: true },
      { by: 'super@acme.test', user: 'bob@acme.test', readPrivate: false, subscribe: false },
      { by: 'super@acme.test', user: 'carol@acme.test', readPrivate: true, subscribe: true },
      // Permission to read private posts, yet ReadOnly is not in the group those need as well.
      { by: 'super@acme.test', user: 'reader@acme.test', readPrivate: true, subscribe: true },
    ],
    conversations: [
      {
        creator: 'alice@acme.test',
        title: 'Roadmap chat',
        members: ['bob@acme.test', 'reader@acme.test'],
      },
      { creator: 'super@acme.test', title: 'Managers', members: ['admin@acme.test'] },
    ],
    messages: [
      { from: 'alice@acme.test', conversation: 'Roadmap chat', body: 'Kick-off on Monday?' },
      { from: 'bob@acme.test', conversation: 'Roadmap chat', body: 'Works for me.' },
      { from: 'super@acme.test', conversation: 'Managers', body: 'Budget review next week.' },
    ],
  },
  {
    slug: 'globex',
    name: 'Globex',
    people: [
      { email: 'admin@globex.test', name: 'Gina', role: 'Admin' },
      { email: 'super@globex.test', name: 'Sid', role: 'SuperUser' },
      { email: 'member@globex.test', name: 'Gus', role: 'Member' },
      { email: 'reader@globex.test', name: 'Rory', role: 'ReadOnly' },
    ],
    todos: [{ owner: 'member@globex.test', title: 'Globex errand' }],
    documents: [
      {
        owner: 'member@globex.test',
        title: 'Globex plan',
        body: 'World domination.',
        readerGroups: ['Member', 'ReadOnly'],
      },
    ],
    posts: [
      { author: 'super@globex.test', title: 'Welcome to Globex', body: 'Hi.', visibility: 'PUBLIC' },
      { author: 'super@globex.test', title: 'Globex secrets', body: 'Shh.', visibility: 'PRIVATE' },
    ],
    permissions: [
      { by: 'super@globex.test', user: 'member@globex.test', readPrivate: true, subscribe: true },
    ],
    conversations: [{ creator: 'member@globex.test', title: 'Globex chat', members: ['super@globex.test'] }],
    messages: [{ from: 'member@globex.test', conversation: 'Globex chat', body: 'Hello, Globex.' }],
  },
];

export async function seedPatterns(cognition: Cognition): Promise<SeedResult> {
  const result: SeedResult = { tenants: [], users: [], rowsInserted: 0, password: PATTERNS_DEMO_PASSWORD };
  for (const company of COMPANIES) {
    const existing = await cognition.tenants.get(company.slug);
    const tenant = existing ?? (await cognition.tenants.create({ slug: company.slug, name: company.name }));
    result.tenants.push({ slug: tenant.slug, name: tenant.name, created: !existing });
    const { rows } = await cognition.pool.query<{ ok: boolean }>(
      'select to_regclass(quote_ident($1) || $2) is not null as ok',
      [tenant.schemaName, '.documents'],
    );
    if (!rows[0]?.ok) {
      throw new CognitionError(
        'ERR_CONFIG',
        `tenant ${tenant.slug} has no documents table: apply examples/patterns/template first`,
      );
    }

    const people = new Map<string, User>();
    for (const person of company.people) {
      const { user, created } = await ensureUser(cognition, company.slug, person);
      people.set(person.email, user);
      result.users.push({
        id: user.id,
        email: user.email,
        role: person.role,
        tenant: company.slug,
        title: person.name,
        created,
      });
    }
    const who = (email: string): User => {
      const user = people.get(email);
      if (!user) throw new CognitionError('ERR_CONFIG', `seed data names unknown person ${email}`);
      return user;
    };
    const ids = (emails: readonly string[] | undefined) => (emails ?? []).map((e) => who(e).id);
    const insert = async (as: string, sql: string, params: unknown[]) => {
      result.rowsInserted += (await cognition.runAs(who(as), sql, params)).rowCount ?? 0;
    };

    for (const todo of company.todos) {
      await insert(
        todo.owner,
        `insert into todos (title) select $1::text where not exists (select from todos where title = $1::text)`,
        [todo.title],
      );
    }
    for (const doc of company.documents) {
      await insert(
        doc.owner,
        `insert into documents (title, body, readers, reader_groups, editors, editor_groups)
         select $1::text, $2::text, $3::uuid[], $4::text[], $5::uuid[], $6::text[]
         where not exists (select from documents where title = $1::text and owner_id = cognition.my_user_id())`,
        [
          doc.title,
          doc.body,
          ids(doc.readers),
          doc.readerGroups ?? [],
          ids(doc.editors),
          doc.editorGroups ?? [],
        ],
      );
    }
    for (const post of company.posts) {
      await insert(
        post.author,
        `insert into posts (title, body, visibility) select $1::text, $2::text, $3::text
         where not exists (select from posts where title = $1::text and author_id = cognition.my_user_id())`,
        [post.title, post.body, post.visibility],
      );
    }
    // The manager sees every permission row of the tenant, so "missing" is a real answer.
    for (const permission of company.permissions) {
      await insert(
        permission.by,
        `insert into permissions (user_id, read_private, subscribe) values ($1, $2, $3)
         on conflict (user_id) do nothing`,
        [who(permission.user).id, permission.readPrivate, permission.subscribe],
      );
    }
    for (const conversation of company.conversations) {
      await insert(
        conversation.creator,
        `insert into conversations (title) select $1::text
         where not exists (select from conversations where title = $1::text and created_by = cognition.my_user_id())`,
        [conversation.title],
      );
      // A creator sees only their own membership rows: the primary key tells what exists.
      for (const member of [conversation.creator, ...conversation.members]) {
        await insert(
          conversation.creator,
          `insert into conversation_members (conversation_id, user_id)
           select c.id, $2::uuid from conversations c
           where c.title = $1::text and c.created_by = cognition.my_user_id()
           on conflict do nothing`,
          [conversation.title, who(member).id],
        );
      }
    }
    for (const message of company.messages) {
      await insert(
        message.from,
        `insert into messages (conversation_id, body) select c.id, $2::text from conversations c
         where c.title = $1::text
           and not exists (select from messages m
             where m.conversation_id = c.id and m.sender_id = cognition.my_user_id() and m.body = $2::text)`,
        [message.conversation, message.body],
      );
    }
  }
  return result;
}

/** Invites and provisions the user unless that was done before; refuses one that is not usable. */
async function ensureUser(
  cognition: Cognition,
  tenant: string,
  person: Person,
): Promise<{ user: User; created: boolean }> {
  let user = await cognition.users.find({ email: person.email });
  let created = false;
  if (!user) {
    user = await cognition.users.invite({
      email: person.email,
      tenant,
      role: person.role,
      givenName: person.name,
    });
    created = true;
  }
  if (user.tenantSlug !== tenant || user.role !== person.role) {
    throw new CognitionError(
      'ERR_USER_EXISTS',
      `${person.email} already exists as ${user.role} of ${user.tenantSlug ?? 'no tenant'}; the seed expects ${person.role} of ${tenant}`,
    );
  }
  if (user.status === 'invited') {
    user = (await cognition.users.provision(user.id)).user;
    created = true;
  }
  if (user.status !== 'active') {
    throw new CognitionError(
      'ERR_USER_INACTIVE',
      `${person.email} is ${user.status}; the seed needs it active`,
    );
  }
  return { user, created };
}

/** The local stack's entry point (src/local/app.ts): the seed, and the password for the users' logins. */
export async function seed(cognition: Cognition): Promise<SeedResult> {
  return seedPatterns(cognition);
}
