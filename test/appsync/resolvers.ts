import type { Resolvers } from '../../src/appsync/types.js';

/** Test resolvers over the notes example (examples/notes), plus a few that probe the data source. */
export const resolvers: Resolvers = {
  'Query.notes': { sql: 'select id, title, owner_id as "ownerId" from notes order by id' },
  'Query.note': {
    sql: 'select id, title, owner_id as "ownerId" from notes where id = $1',
    params: ['arguments.id'],
    returns: 'one',
  },
  'Mutation.createNote': {
    sql: 'insert into notes (title) values ($1) returning id, title, owner_id as "ownerId"',
    params: ['arguments.title'],
    returns: 'one',
  },
  'Note.owner': {
    sql: 'select id, email from cognition.users where id = $1',
    params: ['source.ownerId'],
    returns: 'one',
  },
  // A nested field that writes: one copy per parent note (a batch whose items can fail alone).
  'Note.copy': {
    sql: 'insert into notes (title) values ($1) returning title',
    params: ({ source }) => [source?.['title']],
    returns: 'one',
  },
  'Query.noteCount': { sql: 'select count(*) from notes', returns: 'scalar' },
  'Query.whoami': {
    sql: 'select current_user as "dbUser", $1::uuid as "userId", $2::text as "role"',
    params: ['caller.userId', 'caller.role'],
    returns: 'one',
  },
  'Query.claims': {
    sql: "select current_setting('request.jwt.claims', true)::jsonb as claims",
    returns: 'scalar',
  },
  'Query.otherTenantNotes': { sql: 'select title from tenant_globex.notes' },
  'Mutation.createNoteFor': {
    sql: 'insert into notes (title, owner_id) values ($1, $2) returning id',
    params: ['arguments.title', 'arguments.ownerId'],
    returns: 'one',
  },
  'Query.broken': { sql: 'select * from no_such_table' },
  'Query.announcements': { sql: 'select body from announcements order by id' },
};
