import { addUserResolver } from '../../src/appsync/add-user.js';
import type { Resolvers } from '../../src/appsync/types.js';

/**
 * The resolvers of examples/patterns/schema.graphql. Each is one statement that runs as the
 * calling user's database role, in their tenant's schema, and none holds an access rule: who
 * gets which row, and who may write what, is decided by the template's policies, privileges,
 * view and triggers (template/*.sql). A resolver's WHERE clause is a filter the caller asked
 * for, never a permission.
 *
 * Column names are aliased to the GraphQL field names. uuid[] columns are cast to text[], which
 * every driver returns as a list of strings.
 */

const TODO = `id, owner_id as "ownerId", title, done, created_at as "createdAt"`;
const DOCUMENT = `id, owner_id as "ownerId", title, body, readers::text[] as readers,
  reader_groups as "readerGroups", editors::text[] as editors, editor_groups as "editorGroups",
  created_at as "createdAt", updated_at as "updatedAt"`;
const POST = `id, author_id as "authorId", title, body, visibility, created_at as "createdAt"`;
const PERMISSION = `user_id as "userId", read_private as "readPrivate", subscribe`;
const CONVERSATION = `id, title, created_by as "createdBy", created_at as "createdAt"`;
const MESSAGE = `id, conversation_id as "conversationId", sender_id as "senderId", body, created_at as "createdAt"`;

export const resolvers: Resolvers = {
  'Query.me': {
    sql: `select id, email, role, given_name as name, cognition.my_rank() as rank,
            cognition.my_manages_users() as "managesUsers"
          from cognition.users where id = cognition.my_user_id()`,
    returns: 'one',
  },
  'Query.users': {
    sql: `select id, email, role, status, given_name as name from cognition.users order by email`,
  },

  // 1. Owner reads.
  'Query.todos': { sql: `select ${TODO} from todos order by id` },
  'Query.todo': { sql: `select ${TODO} from todos where id = $1`, params: ['arguments.id'], returns: 'one' },
  'Mutation.createTodo': {
    sql: `insert into todos (title) values ($1) returning ${TODO}`,
    params: ['arguments.title'],
    returns: 'one',
  },
  'Mutation.updateTodo': {
    sql: `update todos set title = coalesce($2, title), done = coalesce($3, done) where id = $1
          returning ${TODO}`,
    params: ['arguments.id', 'arguments.title', 'arguments.done'],
    returns: 'one',
  },

  // 2-5. Documents.
  'Query.documents': { sql: `select ${DOCUMENT} from documents order by id` },
  'Query.document': {
    sql: `select ${DOCUMENT} from documents where id = $1`,
    params: ['arguments.id'],
    returns: 'one',
  },
  'Mutation.createDocument': {
    sql: `insert into documents (title, body, readers, reader_groups, editors, editor_groups)
          values ($1, coalesce($2, ''), coalesce($3::uuid[], '{}'), coalesce($4::text[], '{}'),
                  coalesce($5::uuid[], '{}'), coalesce($6::text[], '{}'))
          returning ${DOCUMENT}`,
    params: [
      'arguments.title',
      'arguments.body',
      'arguments.readers',
      'arguments.readerGroups',
      'arguments.editors',
      'arguments.editorGroups',
    ],
    returns: 'one',
  },
  'Mutation.updateDocument': {
    sql: `update documents set title = coalesce($2, title), body = coalesce($3, body) where id = $1
          returning ${DOCUMENT}`,
    params: ['arguments.id', 'arguments.title', 'arguments.body'],
    returns: 'one',
  },
  'Mutation.shareDocument': {
    sql: `update documents set readers = coalesce($2::uuid[], readers),
            reader_groups = coalesce($3::text[], reader_groups),
            editors = coalesce($4::uuid[], editors),
            editor_groups = coalesce($5::text[], editor_groups)
          where id = $1 returning ${DOCUMENT}`,
    params: [
      'arguments.id',
      'arguments.readers',
      'arguments.readerGroups',
      'arguments.editors',
      'arguments.editorGroups',
    ],
    returns: 'one',
  },

  // 6. Public and private posts.
  'Query.posts': { sql: `select ${POST} from posts order by id` },
  'Query.post': { sql: `select ${POST} from posts where id = $1`, params: ['arguments.id'], returns: 'one' },
  'Mutation.createPost': {
    sql: `insert into posts (title, body, visibility) values ($1, coalesce($2, ''), $3) returning ${POST}`,
    params: ['arguments.title', 'arguments.body', 'arguments.visibility'],
    returns: 'one',
  },

  'Query.myPermission': {
    sql: `select ${PERMISSION} from permissions where user_id = cognition.my_user_id()`,
    returns: 'one',
  },
  'Query.permissions': { sql: `select ${PERMISSION} from permissions order by user_id` },
  'Mutation.setPermission': {
    sql: `insert into permissions (user_id, read_private, subscribe) values ($1, $2, $3)
          on conflict (user_id) do update
            set read_private = excluded.read_private, subscribe = excluded.subscribe
          returning ${PERMISSION}`,
    params: ['arguments.userId', 'arguments.readPrivate', 'arguments.subscribe'],
    returns: 'one',
  },

  // 7. Conversations and real-time messages.
  'Query.conversations': { sql: `select ${CONVERSATION} from conversations order by id` },
  'Query.messages': {
    sql: `select ${MESSAGE} from messages where conversation_id = $1 order by created_at, id`,
    params: ['arguments.conversationId'],
  },
  'Mutation.sendMessage': {
    sql: `insert into messages (conversation_id, body) values ($1, $2) returning ${MESSAGE}`,
    params: ['arguments.conversationId', 'arguments.body'],
    returns: 'one',
  },
  // Runs as the subscriber: when they subscribe (AppSync; no event, so no message id) and for
  // every event (the local endpoint; the event is the source). watch_conversation refuses a
  // conversation the subscriber may not follow live, and reads the message under their policies.
  'Subscription.onMessage': {
    sql: `select ${MESSAGE} from watch_conversation($1, $2)`,
    params: ['arguments.conversationId', 'source.id'],
    returns: 'one',
  },

  // 8. The built-in resolver: invites as the caller (the database decides the tenant and the
  // ranks), then creates the login on the user pool.
  'Mutation.addUser': addUserResolver(),
};
