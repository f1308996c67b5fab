import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildAppSyncSchema, subscriptionTriggers } from '../../../src/local/graphql/index.js';
import {
  API_KEY,
  BLOG_RESOLVERS,
  BLOG_SCHEMA,
  blogDataSource,
  keyOf,
  TokenIssuer,
  startTestApi,
  type FakeDataSource,
  type TestApi,
  type TestUser,
} from './support.js';

// Auth directives: a field's directives, else its type's, else the API's default mode;
// cognito_groups narrows user pool access. A denied field is null plus an Unauthorized error,
// and its resolver (the data source) never runs.

let issuer: TokenIssuer;
let data: FakeDataSource;
let api: TestApi; // default mode: user pools
let apiKeyDefault: TestApi; // default mode: API key

const tokens: Record<string, string> = {};
const USERS: Record<string, TestUser> = {
  plain: { username: 'plain' },
  editor: { username: 'eddie', groups: ['editors'] },
  admin: { username: 'ada', groups: ['admin'] },
};

beforeAll(async () => {
  issuer = await TokenIssuer.start();
  data = blogDataSource();
  const common = {
    schema: BLOG_SCHEMA,
    resolvers: BLOG_RESOLVERS,
    dataSource: data.handler,
    verifier: issuer.verifier(),
    apiKeys: [API_KEY],
  };
  api = await startTestApi(common);
  apiKeyDefault = await startTestApi({ ...common, defaultAuthMode: 'API_KEY' });
  for (const [name, user] of Object.entries(USERS)) tokens[name] = await issuer.idToken(user);
});

afterAll(async () => {
  await Promise.all([api.close(), apiKeyDefault.close()]);
  await issuer.close();
});

beforeEach(() => data.reset());

const as = (who: keyof typeof USERS | 'apiKey'): Record<string, string> =>
  who === 'apiKey' ? { 'x-api-key': API_KEY } : { authorization: tokens[who] as string };

function unauthorized(
  field: string,
  type: string,
  path: Array<string | number>,
  line: number,
  column: number,
) {
  return {
    path,
    data: null,
    errorType: 'Unauthorized',
    errorInfo: null,
    locations: [{ line, column, sourceName: null }],
    message: `Not Authorized to access ${field} on type ${type}`,
  };
}

const invoked = (): string[] => data.calls.flatMap((c) => (Array.isArray(c) ? c : [c])).map(keyOf);

describe('the default mode (user pools) applies to fields and types without directives', () => {
  it('refuses an API key on a field of a type without directives, without invoking the data source', async () => {
    const answer = await api.query('{ allPosts { id } }', undefined, as('apiKey'));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      data: { allPosts: null },
      errors: [unauthorized('allPosts', 'Query', ['allPosts'], 1, 3)],
    });
    expect(data.calls).toHaveLength(0);
  });

  it('lets a user pool caller in', async () => {
    const answer = await api.query('{ allPosts { id } }', undefined, as('plain'));
    expect(answer.body).toEqual({ data: { allPosts: [{ id: '1' }, { id: '2' }, { id: '3' }] } });
  });
});

describe('a field directive replaces the default and the type directive', () => {
  it('@aws_api_key alone: API keys in, user pool callers out', async () => {
    const query = '{ listPublicPosts { nextToken } }';
    expect((await api.query(query, undefined, as('apiKey'))).body).toEqual({
      data: { listPublicPosts: { nextToken: null } },
    });
    const denied = await api.query(query, undefined, as('admin'));
    expect(denied.body).toEqual({
      data: { listPublicPosts: null },
      errors: [unauthorized('listPublicPosts', 'Query', ['listPublicPosts'], 1, 3)],
    });
  });

  it('a field directive overrides its type: Post allows API keys, Post.secret only editors', async () => {
    const query = '{ listPublicPosts { items { id secret } } }';
    const answer = await api.query(query, undefined, as('apiKey'));
    expect(answer.body.data).toEqual({
      listPublicPosts: {
        items: [
          { id: '1', secret: null },
          { id: '2', secret: null },
        ],
      },
    });
    expect(answer.body.errors).toEqual([
      unauthorized('secret', 'Post', ['listPublicPosts', 'items', 0, 'secret'], 1, 32),
      unauthorized('secret', 'Post', ['listPublicPosts', 'items', 1, 'secret'], 1, 32),
    ]);
  });

  it('a type directive applies to fields without one: Post.title is open to API keys', async () => {
    const answer = await api.query('{ listPublicPosts { items { title } } }', undefined, as('apiKey'));
    expect(answer.body).toEqual({
      data: { listPublicPosts: { items: [{ title: 'First book' }, { title: 'Second book' }] } },
    });
  });

  it('@aws_iam (a mode this endpoint cannot authenticate) lets nobody in', async () => {
    for (const who of ['apiKey', 'admin'] as const) {
      const answer = await api.query('{ iamOnly }', undefined, as(who));
      expect(answer.body.errors).toEqual([unauthorized('iamOnly', 'Query', ['iamOnly'], 1, 3)]);
    }
    expect(invoked()).not.toContain('Query.iamOnly');
  });
});

describe('cognito_groups', () => {
  it('on a field: only members of a listed group', async () => {
    const query = '{ getPost(id: "4") { title secret } }';
    const plain = await api.query(query, undefined, as('plain'));
    expect(plain.body).toEqual({
      data: { getPost: { title: 'Fourth book', secret: null } },
      errors: [unauthorized('secret', 'Post', ['getPost', 'secret'], 1, 28)],
    });
    const editor = await api.query(query, undefined, as('editor'));
    expect(editor.body).toEqual({ data: { getPost: { title: 'Fourth book', secret: 'the butler' } } });
  });

  it('on a root field: the resolver runs for members only', async () => {
    const denied = await api.query('{ adminStats { posts } }', undefined, as('editor'));
    expect(denied.body.errors).toEqual([unauthorized('adminStats', 'Query', ['adminStats'], 1, 3)]);
    expect(invoked()).not.toContain('Query.adminStats');
    const admin = await api.query('{ adminStats { posts } }', undefined, as('admin'));
    expect(admin.body).toEqual({ data: { adminStats: { posts: 4 } } });
  });

  it('@aws_auth(cognito_groups) works like @aws_cognito_user_pools(cognito_groups)', async () => {
    expect((await api.query('{ legacyAdmin }', undefined, as('admin'))).body).toEqual({
      data: { legacyAdmin: 'legacy' },
    });
    expect((await api.query('{ legacyAdmin }', undefined, as('editor'))).body.errors).toEqual([
      unauthorized('legacyAdmin', 'Query', ['legacyAdmin'], 1, 3),
    ]);
    expect((await api.query('{ legacyAdmin }', undefined, as('apiKey'))).body.errors).toHaveLength(1);
  });
});

describe('with API_KEY as the default mode', () => {
  it('fields of types without directives are for API keys only', async () => {
    const key = await apiKeyDefault.query('{ allPosts { id } }', undefined, as('apiKey'));
    expect(key.body.errors).toBeUndefined();
    const user = await apiKeyDefault.query('{ allPosts { id } }', undefined, as('admin'));
    expect(user.body.errors).toEqual([unauthorized('allPosts', 'Query', ['allPosts'], 1, 3)]);
  });

  it('a user allowed on a field still needs the returned type to allow them (Stats has no directive)', async () => {
    const answer = await apiKeyDefault.query('{ adminStats { posts } }', undefined, as('admin'));
    expect(answer.body).toEqual({
      data: { adminStats: { posts: null } },
      errors: [unauthorized('posts', 'Stats', ['adminStats', 'posts'], 1, 16)],
    });
  });
});

describe('@aws_subscribe', () => {
  it('is declared and readable: subscription field → triggering mutations', () => {
    const schema = buildAppSyncSchema(BLOG_SCHEMA);
    expect(subscriptionTriggers(schema)).toEqual(new Map([['onAddPost', ['addPost']]]));
  });

  it('subscriptions are refused over POST (they go over the real-time endpoint)', async () => {
    const answer = await api.query('subscription { onAddPost { id } }', undefined, as('plain'));
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors?.[0]?.['message']).toMatch(/real-time WebSocket/);
  });

  it('mutations run through the data source', async () => {
    const answer = await api.query('mutation { addPost(title: "New") { id title } }', undefined, as('plain'));
    expect(answer.body).toEqual({ data: { addPost: { id: '5', title: 'New' } } });
    expect(invoked()).toEqual(['Mutation.addPost']);
  });
});
