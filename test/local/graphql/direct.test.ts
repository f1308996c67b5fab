import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolverEvent } from '../../../src/appsync/types.js';
import type { VerifiedToken } from '../../../src/identity/token-verifier.js';
import {
  createGraphqlEndpoint,
  type Caller,
  type GraphqlEndpoint,
} from '../../../src/local/graphql/index.js';
import { planDirect } from '../../../src/local/graphql/direct.js';
import { API_KEY, TokenIssuer, startTestApi, type TestApi } from './support.js';

// Direct execution (direct.ts) must answer exactly as graphql-js's executor does: the same
// data, errors, events and number of data-source calls, for every caller. Each case runs on two
// endpoints over the same schema and data source, one with direct execution and one without.

const SCHEMA = /* GraphQL */ `
  enum Mood {
    HAPPY
    SAD
  }
  input Filter {
    name: String
    moods: [Mood!]
  }
  type Query {
    item(id: ID!, mood: Mood, when: AWSDateTime, filter: Filter): Item
    strictItem(id: ID!): Item!
    items(limit: Int = 10): [Item!]
    looseItems: [Item]!
    count: Int
    names: [String]!
    when: AWSDateTime
    secret: String @aws_cognito_user_pools(cognito_groups: ["admin"])
    open: Item @aws_api_key
    related: Item
  }
  type Item @aws_api_key @aws_cognito_user_pools {
    id: ID!
    name: String
    mood: Mood
    at: AWSDateTime
    score: Float
    count: Int
    tags: [String!]
    inner: Inner
    hidden: String @aws_cognito_user_pools(cognito_groups: ["editors"])
    toString: String
    related: Item
  }
  type Inner @aws_api_key @aws_cognito_user_pools {
    label: String!
    deep: [Inner]
  }
`;

const RESOLVERS = [
  'Query.item',
  'Query.strictItem',
  'Query.items',
  'Query.looseItems',
  'Query.count',
  'Query.names',
  'Query.when',
  'Query.secret',
  'Query.open',
  'Query.related',
  'Item.related',
];

/** The data source: answers with whatever the case sets (or throws it), and records every call. */
let answer: (event: ResolverEvent) => unknown = () => null;
const calls: Array<ResolverEvent | ResolverEvent[]> = [];
const dataSource = async (event: ResolverEvent | ResolverEvent[]): Promise<unknown> => {
  calls.push(event);
  if (Array.isArray(event)) return event.map((e) => ({ data: answer(e) }));
  return answer(event);
};

const stubVerifier = {
  verify: (): Promise<VerifiedToken> => Promise.reject(new Error('not used: callers are built by the test')),
};

function endpoint(directExecution: boolean): GraphqlEndpoint {
  return createGraphqlEndpoint({
    schema: SCHEMA,
    resolvers: RESOLVERS,
    dataSource,
    verifier: stubVerifier,
    apiKeys: [API_KEY],
    directExecution,
  });
}

function cognitoCaller(username: string, groups: string[]): Caller {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: `sub-${username}`, 'cognito:username': username, token_use: 'id', exp: now + 3600 };
  return {
    mode: 'AMAZON_COGNITO_USER_POOLS',
    token: { tokenUse: 'id', sub: `sub-${username}`, username, groups, claims, expiresAt: now + 3600 },
    groups,
    issuer: 'https://issuer.test',
  };
}

const CALLERS: Record<string, Caller> = {
  apiKey: { mode: 'API_KEY', groups: [] },
  plain: cognitoCaller('plain', []),
  editor: cognitoCaller('eddie', ['editors']),
  admin: cognitoCaller('ada', ['admin']),
};

const ORIGIN = {
  headers: { host: 'local.test', 'content-type': 'application/json' },
  remoteAddress: '127.0.0.1',
};

interface Case {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

const ITEM = { id: '1', name: 'one', mood: 'HAPPY', at: '2024-01-02T03:04:05Z', score: 1.5, count: 3 };

const QUERIES: Case[] = [
  { query: '{ item(id: "1") { id name } }' },
  { query: 'query Q($id: ID!) { item(id: $id) { id name mood at score count } }', variables: { id: 7 } },
  { query: 'query Q($id: ID!) { item(id: $id) { id } }', variables: {} },
  { query: 'query Q($id: ID!) { item(id: $id) { id } }', variables: { id: { no: 1 } } },
  { query: 'query($m: Mood) { item(id: "1", mood: $m) { mood } }', variables: { m: 'SAD' } },
  { query: 'query($m: Mood) { item(id: "1", mood: $m) { mood } }', variables: { m: 'ANGRY' } },
  {
    query: 'query($w: AWSDateTime) { item(id: "1", when: $w) { at } }',
    variables: { w: '2024-02-30T00:00:00Z' },
  },
  {
    query: 'query($w: AWSDateTime) { item(id: "1", when: $w) { at } }',
    variables: { w: '2024-02-03T00:00:00Z' },
  },
  { query: '{ item(id: "1", filter: { name: "x", moods: [HAPPY] }) { id } }' },
  { query: 'query($l: Int = 3) { items(limit: $l) { id } }', variables: {} },
  { query: 'query($l: Int = 3) { items(limit: $l) { id } }', variables: { l: null } },
  { query: 'query($l: Int = 3) { items(limit: $l) { id } }', variables: { l: 5 } },
  { query: 'query($l: Int = 3) { items(limit: $l) { id } }', variables: { l: 'x' } },
  { query: 'query($l: Int) { items(limit: $l) { id } }', variables: { l: 2 ** 40 } },
  { query: 'query($f: Filter = { name: "d" }) { item(id: "1", filter: $f) { name } }', variables: {} },
  { query: 'query($f: Filter) { item(id: "1", filter: $f) { id } }', variables: { f: { moods: 'HAPPY' } } },
  { query: 'query($id: ID!, $unused: String) { item(id: $id) { id } }', variables: { id: '3', unused: 4 } },
  {
    query: 'query($f: Filter) { item(id: "1", filter: $f) { id } }',
    variables: { f: { moods: ['SAD', 'NOPE'] } },
  },
  { query: '{ renamed: item(id: "1") { key: id n: name __typename } }' },
  { query: '{ item(id: "1") { id tags inner { label deep { label } } } }' },
  { query: '{ item(id: "1") { id hidden } }' },
  { query: '{ item(id: "1") { toString } }' },
  { query: '{ strictItem(id: "1") { id name } }' },
  { query: '{ items { id name } }' },
  { query: '{ items(limit: 2) { id tags } }' },
  { query: '{ looseItems { id } }' },
  { query: '{ count }' },
  { query: '{ names }' },
  { query: '{ when }' },
  { query: '{ secret }' },
  { query: '{ open { id name } }' },
  // Not direct: the executor alone, as a control.
  { query: '{ item(id: "1") { id related { id } } }' },
  { query: '{ item(id: "1") { id name name } }' },
  { query: '{ item(id: "1") { ... on Item { id } } }' },
  { query: 'query($s: Boolean!) { item(id: "1") { id @skip(if: $s) name } }', variables: { s: true } },
  { query: '{ count item(id: "1") { id } }' },
  { query: 'query A { count } query B { names }', operationName: 'B' },
  { query: 'query A { count }', operationName: 'B' },
  { query: '{ __typename }' },
];

/** Answers, each an event → value (or a throw): values that complete and values that do not. */
const ANSWERS: Record<string, (event: ResolverEvent) => unknown> = {
  item: () => ITEM,
  itemWithArgs: (e) => ({
    ...ITEM,
    id: String(e.arguments['id'] ?? 'none'),
    name: JSON.stringify(e.arguments),
  }),
  full: () => ({
    ...ITEM,
    tags: ['a', 'b'],
    inner: { label: 'l', deep: [{ label: 'd1' }, null, { label: 'd2', deep: [] }] },
    hidden: 'h',
    toString: 'own',
  }),
  empty: () => ({}),
  nothing: () => null,
  nullId: () => ({ ...ITEM, id: null }),
  badMood: () => ({ ...ITEM, mood: 'ANGRY' }),
  badDate: () => ({ ...ITEM, at: 'yesterday' }),
  bigCount: () => ({ ...ITEM, count: 2 ** 40 }),
  floatCount: () => ({ ...ITEM, count: 1.5 }),
  objectName: () => ({ ...ITEM, name: { nested: true } }),
  numberName: () => ({ ...ITEM, name: 42, score: '2.5' }),
  tagsNull: () => ({ ...ITEM, tags: ['a', null] }),
  tagsString: () => ({ ...ITEM, tags: 'a,b' }),
  innerBad: () => ({ ...ITEM, inner: { deep: [{ label: null }] } }),
  innerArray: () => ({ ...ITEM, inner: [{ label: 'x' }] }),
  list: () => [ITEM, { ...ITEM, id: '2' }],
  listWithNull: () => [ITEM, null],
  scalar: () => 5,
  string: () => 'text',
  names: () => ['a', null, 'c'],
  date: () => '2024-01-02T03:04:05.123Z',
  dates: () => new Date(0),
  undefinedValue: () => undefined,
  throws: () => {
    throw new Error('the data source failed');
  },
  throwsNamed: () => {
    throw Object.assign(new Error('nope'), { name: 'UnauthorizedException' });
  },
  throwsString: () => {
    throw 'a string';
  },
};

let direct: GraphqlEndpoint;
let reference: GraphqlEndpoint;

beforeAll(() => {
  direct = endpoint(true);
  reference = endpoint(false);
});

afterAll(async () => {
  await Promise.all([direct.realtime.close(), reference.realtime.close()]);
});

async function run(on: GraphqlEndpoint, c: Case, caller: Caller) {
  calls.length = 0;
  const response = await on.execute(
    { query: c.query, variables: c.variables ?? null, operationName: c.operationName ?? null },
    caller,
    ORIGIN,
  );
  return { response, calls: calls.splice(0) };
}

describe('direct execution', () => {
  it('is planned for single data-source root fields with plain selections, and only for those', () => {
    const planned = QUERIES.filter((c) => {
      const prepared = direct.documents.prepare(c.query);
      return prepared.document !== undefined && planDirect(direct.schema, prepared.document) !== undefined;
    }).map((c) => c.query);
    expect(planned).toContain('{ item(id: "1") { id name } }');
    expect(planned).toContain('{ names }');
    expect(planned).not.toContain('{ item(id: "1") { id related { id } } }');
    expect(planned).not.toContain('{ item(id: "1") { id name name } }');
    expect(planned).not.toContain('{ count item(id: "1") { id } }');
    expect(planned).not.toContain('{ __typename }');
    expect(planned.length).toBeGreaterThanOrEqual(20);
  });

  it('answers every case exactly as the executor does: data, errors, events, calls', async () => {
    let compared = 0;
    for (const c of QUERIES) {
      for (const [answerName, answerWith] of Object.entries(ANSWERS)) {
        answer = answerWith;
        for (const [callerName, caller] of Object.entries(CALLERS)) {
          const a = await run(direct, c, caller);
          const b = await run(reference, c, caller);
          const where = `${c.query} ${JSON.stringify(c.variables ?? {})} / ${answerName} / ${callerName}`;
          // Same values, same prototypes (graphql-js's null-prototype objects), same key order.
          expect(isDeepStrictEqual(a.response, b.response), where).toBe(true);
          expect(JSON.stringify(a.response), where).toBe(JSON.stringify(b.response));
          expect(isDeepStrictEqual(a.calls, b.calls), where).toBe(true);
          compared++;
        }
      }
    }
    expect(compared).toBe(QUERIES.length * Object.keys(ANSWERS).length * Object.keys(CALLERS).length);
  });

  it('hands the data source its own copy of the event', async () => {
    let seen: ResolverEvent | undefined;
    answer = (event) => {
      seen = event;
      (event.identity as { claims: Record<string, unknown> }).claims['sub'] = 'changed';
      event.request.headers['x-added'] = 'yes';
      event.info.selectionSetList.push('injected');
      return ITEM;
    };
    const caller = CALLERS['editor'] as Caller;
    await run(direct, { query: '{ item(id: "1") { id name } }' }, caller);
    answer = (event) => {
      seen = event;
      return ITEM;
    };
    await run(direct, { query: '{ item(id: "1") { id name } }' }, caller);
    expect((seen?.identity as { claims: Record<string, unknown> }).claims['sub']).toBe('sub-eddie');
    expect(seen?.request.headers['x-added']).toBeUndefined();
    expect(seen?.info.selectionSetList).toEqual(['id', 'name']);
  });
});

// Over HTTP, with real tokens: a cached document and its plan are shared by every caller, and
// each caller is still checked against every field's auth directives.
describe('a document cached by one caller', () => {
  let issuer: TokenIssuer;
  let api: TestApi;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    issuer = await TokenIssuer.start();
    api = await startTestApi({
      schema: SCHEMA,
      resolvers: RESOLVERS,
      dataSource,
      verifier: issuer.verifier(),
      apiKeys: [API_KEY],
    });
    tokens['admin'] = await issuer.idToken({ username: 'ada', groups: ['admin'] });
    tokens['editor'] = await issuer.idToken({ username: 'eddie', groups: ['editors'] });
    tokens['plain'] = await issuer.idToken({ username: 'plain' });
  });

  afterAll(async () => {
    await api.close();
    await issuer.close();
  });

  const as = (who: string): Record<string, string> =>
    who === 'apiKey' ? { 'x-api-key': API_KEY } : { authorization: `Bearer ${tokens[who]}` };

  it('does not let another caller past a root field directive', async () => {
    answer = () => 'the secret';
    calls.length = 0;
    const admin = await api.query('{ secret }', undefined, as('admin'));
    expect(admin.body).toEqual({ data: { secret: 'the secret' } });
    expect(calls).toHaveLength(1);
    for (const who of ['editor', 'plain', 'apiKey']) {
      calls.length = 0;
      const denied = await api.query('{ secret }', undefined, as(who));
      expect(denied.body.data).toEqual({ secret: null });
      expect(denied.body.errors?.[0]).toMatchObject({
        errorType: 'Unauthorized',
        message: 'Not Authorized to access secret on type Query',
      });
      expect(calls, who).toHaveLength(0);
    }
  });

  it('does not let another caller past a nested field directive', async () => {
    answer = () => ({ ...ITEM, hidden: 'for editors' });
    const editor = await api.query('{ item(id: "1") { id hidden } }', undefined, as('editor'));
    expect(editor.body).toEqual({ data: { item: { id: '1', hidden: 'for editors' } } });
    for (const who of ['plain', 'admin']) {
      const denied = await api.query('{ item(id: "1") { id hidden } }', undefined, as(who));
      expect(denied.body.data).toEqual({ item: { id: '1', hidden: null } });
      expect(denied.body.errors?.[0]).toMatchObject({
        errorType: 'Unauthorized',
        message: 'Not Authorized to access hidden on type Item',
        path: ['item', 'hidden'],
      });
      expect(JSON.stringify(denied.body)).not.toContain('for editors');
    }
    // Query.item has no directive: the default mode (user pools) refuses an API key at the root.
    const key = await api.query('{ item(id: "1") { id hidden } }', undefined, as('apiKey'));
    expect(key.body.data).toEqual({ item: null });
    expect(key.body.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', path: ['item'] });
  });

  it('does not let an API key past a user-pool-only field', async () => {
    answer = () => 5;
    const user = await api.query('{ count }', undefined, as('plain'));
    expect(user.body).toEqual({ data: { count: 5 } });
    calls.length = 0;
    const key = await api.query('{ count }', undefined, as('apiKey'));
    expect(key.body.errors?.[0]).toMatchObject({ errorType: 'Unauthorized' });
    expect(calls).toHaveLength(0);
  });
});
