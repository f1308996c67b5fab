import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResolverEvent } from '../../../src/appsync/types.js';
import {
  API_KEY,
  BLOG_RESOLVERS,
  BLOG_SCHEMA,
  blogDataSource,
  FakeDataSource,
  fixture,
  TokenIssuer,
  startTestApi,
  type FieldAnswer,
  type TestApi,
  type TestUser,
} from './support.js';

// The events the endpoint sends must have exactly the shape AppSync sends to direct Lambda
// resolvers (../shared/fixtures/appsync/invoke-*.json, batch-invoke.json).

type Json = Record<string, unknown>;

const invokeCognito = fixture<Json>('invoke-cognito.json');
const invokeApiKey = fixture<Json>('invoke-api-key.json');
const batchInvoke = fixture<Json[]>('batch-invoke.json');

const keys = (value: unknown): string[] => Object.keys(value as Json);
const at = (value: unknown, key: string): unknown => (value as Json)[key];
const identityOf = (event: ResolverEvent | undefined): Json => (event?.identity ?? {}) as unknown as Json;

const MARY: TestUser = {
  username: 'mary_major',
  sub: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
  groups: ['editors'],
};

let issuer: TokenIssuer;
let api: TestApi;
let data: FakeDataSource;
let token: string;

beforeAll(async () => {
  issuer = await TokenIssuer.start();
  data = blogDataSource({
    // Any id exists here, so that the fixture's id resolves.
    'Query.getPost': (e) => ({ id: e.arguments['id'], title: 'A post', author: 'Author1' }),
  });
  api = await startTestApi({
    schema: BLOG_SCHEMA,
    resolvers: BLOG_RESOLVERS,
    dataSource: data.handler,
    verifier: issuer.verifier(),
    apiKeys: [API_KEY],
  });
  token = await issuer.idToken(MARY);
});

afterAll(async () => {
  await api.close();
  await issuer.close();
});

beforeEach(() => data.reset());

const GET_POST = `query GetPost($postId: ID!) {
  getPost(id: $postId) {
    id
    title
    author {
      id
      name
    }
  }
}`;

describe('Invoke event of a root field (user pool caller)', () => {
  let event: ResolverEvent;
  let batches: ResolverEvent[][];

  beforeAll(async () => {
    data.reset();
    const answer = await api.query(
      GET_POST,
      { postId: 'post-123' },
      {
        authorization: token,
        cookie: 'session=secret',
        'x-forwarded-for': '203.0.113.10',
      },
    );
    expect(answer.status).toBe(200);
    event = data.invokes[0] as ResolverEvent;
    batches = data.batches;
  });

  it('has the top-level keys of invoke-cognito.json, in order', () => {
    expect(keys(event)).toEqual(keys(invokeCognito));
  });

  it('has the identity keys of invoke-cognito.json, with the caller', () => {
    expect(keys(event.identity)).toEqual(keys(invokeCognito['identity']));
    const identity = identityOf(event);
    expect(identity['sub']).toBe(MARY.sub);
    expect(identity['username']).toBe('mary_major');
    expect(identity['issuer']).toBe(issuer.issuer);
    expect(identity['defaultAuthStrategy']).toBe('ALLOW');
    expect(identity['groups']).toEqual(['editors']);
    // The claims are the decoded token.
    const claims = identity['claims'] as Json;
    expect(keys(claims).sort()).toEqual(keys(at(invokeCognito['identity'], 'claims')).sort());
    expect(claims['cognito:username']).toBe('mary_major');
    expect(claims['token_use']).toBe('id');
    // x-forwarded-for, then the TCP peer.
    expect(identity['sourceIp']).toEqual(['203.0.113.10', '127.0.0.1']);
  });

  it('has source null, prev null, stash {} and the arguments', () => {
    expect(event.source).toBeNull();
    expect(event.prev).toBeNull();
    expect(event.stash).toEqual({});
    expect(event.arguments).toEqual(invokeCognito['arguments']);
  });

  it('has the info of invoke-cognito.json exactly (same query)', () => {
    expect(event.info).toEqual(invokeCognito['info']);
  });

  it('has lower-case request headers without the cookie, and domainName null', () => {
    expect(keys(event.request)).toEqual(keys(invokeCognito['request']));
    expect(event.request.domainName).toBeNull();
    const headers = event.request.headers;
    for (const name of Object.keys(headers)) expect(name).toBe(name.toLowerCase());
    expect(headers['cookie']).toBeUndefined();
    expect(headers['authorization']).toBe(token);
    expect(headers['content-type']).toBe('application/json');
    expect(headers['host']).toBe(new URL(api.url).host);
  });

  it('sends the nested author field as a BatchInvoke with the parent as source', () => {
    expect(batches).toHaveLength(1);
    const [nested] = batches[0] as ResolverEvent[];
    expect(nested?.info.parentTypeName).toBe('Post');
    expect(nested?.info.fieldName).toBe('author');
    expect(nested?.source).toEqual({ id: 'post-123', title: 'A post', author: 'Author1' });
    expect(nested?.info.selectionSetList).toEqual(['id', 'name']);
  });
});

describe('an API key caller', () => {
  it('gets identity null and the info of invoke-api-key.json', async () => {
    const answer = await api.query(
      'query {\n  listPublicPosts(limit: 10) {\n    items {\n      id\n      title\n    }\n    nextToken\n  }\n}',
      undefined,
      { 'x-api-key': API_KEY },
    );
    expect(answer.body.errors).toBeUndefined();
    const event = data.invokes[0] as ResolverEvent;
    expect(keys(event)).toEqual(keys(invokeApiKey));
    expect(event.identity).toBeNull();
    expect(event.arguments).toEqual(invokeApiKey['arguments']);
    expect(event.info).toEqual(invokeApiKey['info']);
    expect(event.request.headers['x-api-key']).toBe(API_KEY);
  });
});

describe('BatchInvoke events of a nested field', () => {
  it('match batch-invoke.json: one event per parent, parents as source, same info', async () => {
    const answer = await api.query('{ allPosts { id title relatedPosts { id title } } }', undefined, {
      authorization: token,
    });
    expect(answer.body.errors).toBeUndefined();
    expect(data.batches).toHaveLength(1);
    const batch = data.batches[0] as ResolverEvent[];
    expect(batch).toHaveLength(batchInvoke.length);
    batch.forEach((event, i) => {
      const expected = batchInvoke[i] as Json;
      expect(keys(event)).toEqual(keys(expected));
      expect(keys(event.identity)).toEqual(keys(expected['identity']));
      expect(event.arguments).toEqual(expected['arguments']);
      expect(event.source).toEqual(expected['source']);
      expect(event.info).toEqual(expected['info']);
      expect(event.prev).toBeNull();
      expect(event.stash).toEqual({});
      expect(event.request.domainName).toBeNull();
    });
  });

  it('gives groups null when the user is in no group', async () => {
    const lonely = await issuer.idToken({ username: 'lonely' });
    await api.query('{ allPosts { id } }', undefined, { authorization: lonely });
    const identity = identityOf(data.invokes[0]);
    expect(identity['groups']).toBeNull();
    expect(identity['username']).toBe('lonely');
  });

  it('accepts an access token too, with its username', async () => {
    const access = await issuer.sign(issuer.accessClaims({ username: 'mary_major', groups: ['editors'] }));
    const answer = await api.query('{ whoAmI }', undefined, { authorization: `Bearer ${access}` });
    expect(answer.body).toEqual({ data: { whoAmI: 'mary_major' } });
    expect(identityOf(data.invokes[0])['claims']).toMatchObject({ token_use: 'access' });
  });
});

describe('selectionSetList and selectionSetGraphQL', () => {
  it('list aliases by alias, flatten fragments on the type, and print the selection as written', async () => {
    const query = `query {
  getPost(id: "1") {
    id
    title
    secondTitle: title
    author {
      id
      name
    }
    ... on Post {
      inlineSecret: secret
    }
    ...postFields
    __typename
  }
}
fragment postFields on Post {
  relatedPosts {
    id
  }
}`;
    const answer = await api.query(query, undefined, { authorization: token });
    expect(answer.body.errors).toBeUndefined();
    const event = data.invokes[0] as ResolverEvent;
    expect(event.info.selectionSetList).toEqual([
      'id',
      'title',
      'secondTitle',
      'author',
      'author/id',
      'author/name',
      'inlineSecret',
      'relatedPosts',
      'relatedPosts/id',
    ]);
    expect(event.info.selectionSetGraphQL).toBe(
      '{\n  id\n  title\n  secondTitle: title\n  author {\n    id\n    name\n  }\n  ... on Post {\n    inlineSecret: secret\n  }\n  ...postFields\n  __typename\n}',
    );
  });

  it('leave out skipped fields and are empty for a scalar field', async () => {
    await api.query(
      'query Q($no: Boolean!) { getPost(id: "1") { id title @skip(if: $no) } whoAmI }',
      { no: true },
      { authorization: token },
    );
    const [getPost, whoAmI] = data.invokes;
    expect(getPost?.info.selectionSetList).toEqual(['id']);
    expect(getPost?.info.variables).toEqual({ no: true });
    expect(whoAmI?.info.selectionSetList).toEqual([]);
    expect(whoAmI?.info.selectionSetGraphQL).toBe('');
  });

  it("follow each request's variables, though kept per query text when no variable decides them", async () => {
    const query = 'query Q($no: Boolean!) { getPost(id: "1") { id title @skip(if: $no) author { id } } }';
    for (const no of [true, false, true]) {
      data.reset();
      await api.query(query, { no }, { authorization: token });
      expect(data.invokes[0]?.info.selectionSetList).toEqual(
        no ? ['id', 'author', 'author/id'] : ['id', 'title', 'author', 'author/id'],
      );
    }
    // A handler that changes its event's list changes its own copy only.
    const plain = '{ getPost(id: "1") { id title } }';
    const seen: string[][] = [];
    const mutating = blogDataSource({
      'Query.getPost': (e) => {
        seen.push([...e.info.selectionSetList]);
        e.info.selectionSetList.push('injected');
        return { id: '1', title: 't', author: 'Author1' };
      },
    });
    const local = await startTestApi({
      schema: BLOG_SCHEMA,
      resolvers: BLOG_RESOLVERS,
      dataSource: mutating.handler,
      verifier: issuer.verifier(),
    });
    try {
      for (let i = 0; i < 2; i++) await local.query(plain, undefined, { authorization: token });
      expect(seen).toEqual([
        ['id', 'title'],
        ['id', 'title'],
      ]);
    } finally {
      await local.close();
    }
  });
});

describe('fields of interfaces', () => {
  it('list only the fields of the interface, not those of fragments on implementations', async () => {
    const nodes = new FakeDataSource({
      'Query.node': (() => ({ __typename: 'Doc', id: 'd1', title: 'T' })) satisfies FieldAnswer,
    });
    const local = await startTestApi({
      schema: `
        interface Node { id: ID! }
        type Doc implements Node @aws_api_key { id: ID! title: String }
        type Query @aws_api_key { node(id: ID!): Node }
      `,
      resolvers: ['Query.node'],
      dataSource: nodes.handler,
      apiKeys: [API_KEY],
      defaultAuthMode: 'API_KEY',
    });
    try {
      const answer = await local.query(
        '{ node(id: "d1") { id ... on Doc { title } ...docBits ... on Node { nodeId: id } } } fragment docBits on Doc { docTitle: title }',
        undefined,
        { 'x-api-key': API_KEY },
      );
      expect(answer.body).toEqual({ data: { node: { id: 'd1', title: 'T', docTitle: 'T', nodeId: 'd1' } } });
      expect(nodes.invokes[0]?.info.selectionSetList).toEqual(['id', 'nodeId']);
    } finally {
      await local.close();
    }
  });
});

describe('the issuer option', () => {
  it('is identity.issuer, and tokens of another issuer are refused', async () => {
    const events = blogDataSource();
    const strict = await startTestApi({
      schema: BLOG_SCHEMA,
      resolvers: BLOG_RESOLVERS,
      dataSource: events.handler,
      verifier: issuer.verifier(),
      issuer: issuer.issuer,
    });
    const elsewhere = await startTestApi({
      schema: BLOG_SCHEMA,
      resolvers: BLOG_RESOLVERS,
      dataSource: events.handler,
      verifier: issuer.verifier(),
      issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other',
    });
    try {
      const ok = await strict.query('{ whoAmI }', undefined, { authorization: token });
      expect(ok.body).toEqual({ data: { whoAmI: 'mary_major' } });
      expect(identityOf(events.invokes[0])['issuer']).toBe(issuer.issuer);
      const refused = await elsewhere.query('{ whoAmI }', undefined, { authorization: token });
      expect(refused.status).toBe(401);
    } finally {
      await Promise.all([strict.close(), elsewhere.close()]);
    }
  });
});
