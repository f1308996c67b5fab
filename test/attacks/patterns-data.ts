import { COMPANIES } from '../../examples/patterns/seed.js';
import type { Target } from './harness.js';

/**
 * Who is who in the seeded patterns example (examples/patterns/seed.ts): two companies, Acme and
 * Globex, with a user of every rank (Admin > SuperUser > Member > ReadOnly; managers from
 * SuperUser, ReadOnly read-only), and the rows each attacker must not reach.
 */

// Acme
export const ADMIN = 'admin@acme.test';
export const SUPER = 'super@acme.test';
export const ALICE = 'alice@acme.test'; // Member
export const BOB = 'bob@acme.test'; // Member
export const CAROL = 'carol@acme.test'; // Member
export const READER = 'reader@acme.test'; // ReadOnly
// Globex
export const G_ADMIN = 'admin@globex.test';
export const G_SUPER = 'super@globex.test';
export const GUS = 'member@globex.test'; // Member

const company = (slug: string) => {
  const found = COMPANIES.find((c) => c.slug === slug);
  if (!found) throw new Error(`the patterns seed has no company ${slug}`);
  return found;
};
const acme = company('acme');
const globex = company('globex');

export const todoTitles = (owner: string): string[] =>
  [...acme.todos, ...globex.todos].filter((t) => t.owner === owner).map((t) => t.title);
export const ACME_TODOS = acme.todos.map((t) => t.title);
export const ACME_DOCUMENTS = acme.documents.flatMap((d) => [d.title, d.body]);
export const ACME_PRIVATE_POSTS = acme.posts
  .filter((p) => p.visibility === 'PRIVATE')
  .flatMap((p) => [p.title, p.body]);
export const ACME_MESSAGES = acme.messages.map((m) => m.body);
export const ACME_LOOT = [...ACME_TODOS, ...ACME_DOCUMENTS, ...ACME_PRIVATE_POSTS, ...ACME_MESSAGES];
export const GLOBEX_LOOT = [
  ...globex.todos.map((t) => t.title),
  ...globex.documents.flatMap((d) => [d.title, d.body]),
  ...globex.posts.filter((p) => p.visibility === 'PRIVATE').flatMap((p) => [p.title, p.body]),
  ...globex.messages.map((m) => m.body),
];
export const document = (title: string) => {
  const found = [...acme.documents, ...globex.documents].find((d) => d.title === title);
  if (!found) throw new Error(`no seeded document ${title}`);
  return found;
};

type Table = 'todos' | 'documents' | 'posts' | 'conversations';

/** A row's id by its title, read by the referee. */
export async function idOf(
  t: Target,
  tenant: 'acme' | 'globex',
  table: Table,
  title: string,
): Promise<string> {
  const { rows } = await t.admin.query<{ id: string }>(
    `select id::text from tenant_${tenant}.${table} where title = $1`,
    [title],
  );
  if (!rows[0]) throw new Error(`no ${table} row "${title}" in ${tenant}`);
  return rows[0].id;
}
