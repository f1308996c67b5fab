import { createServer, type Server } from 'node:http';
import { RealtimeClient, type RealtimeMessage } from './realtime-client.js';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResolverEvent } from '../../../src/appsync/types.js';
import {
  createGraphqlEndpoint,
  type GraphqlEndpoint,
  type GraphqlEndpointOptions,
} from '../../../src/local/graphql/index.js';
import { API_KEY, FakeDataSource, postGraphql, TokenIssuer, type TestUser } from './support.js';

// The real-time endpoint over a fake data source: AppSync's WebSocket protocol, @aws_subscribe
// publishing, argument filters, and the rule that every event goes through the subscription
// field's resolver as the subscriber (here the fake answers per subscriber; the database does it
// in realtime-stack.test.ts).

const SCHEMA = /* GraphQL */ `
  type Query {
    ping: String
  }

  type Mutation {
    addPost(title: String!, authorId: ID!): Post
    failPost(title: String!): Post
  }

  type Subscription {
    onAddPost(authorId: ID): Post
      @aws_subscribe(mutations: ["addPost", "failPost"])
      @aws_cognito_user_pools
      @aws_api_key
    onAddPostUnresolved: Post @aws_subscribe(mutations: ["addPost"])
    onAdminPost: Post
      @aws_subscribe(mutations: ["addPost"])
      @aws_cognito_user_pools(cognito_groups: ["admin"])
  }

  type Post @aws_api_key @aws_cognito_user_pools {
    id: ID!
    title: String
    authorId: ID
    author: Author
  }

  type Author @aws_api_key @aws_cognito_user_pools {
    id: ID!
    name: String
  }
`;

const RESOLVERS = [
  'Query.ping',
  'Mutation.addPost',
  'Mutation.failPost',
  'Subscription.onAddPost',
  'Subscription.onAdminPost',
  'Post.author',
];

const ALICE: TestUser = { username: 'alice' };
const BOB: TestUser = { username: 'bob' };
/** The fake "database" shows this user no post: the subscription resolver answers null. */
const NOBODY: TestUser = { username: 'nobody' };
/** The fake refuses this user outright (an Unauthorized error, as for a suspended user). */
const SUSPENDED: TestUser = { username: 'suspended' };
/** The fake answers this user with another row than the published one. */
const CONFUSED: TestUser = { username: 'confused' };
const ADMIN: TestUser = { username: 'root', groups: ['admin'] };

type Message = RealtimeMessage;

/** The `title` of an onAddPost data message. */
const titleOf = (m: Message) =>
  (m.payload?.['data'] as { onAddPost?: { title?: string } } | undefined)?.onAddPost?.title;
/** The first error of an error message. */
const firstError = (m: Message) =>
  (m.payload?.['errors'] as Array<{ errorType: string; message: string }> | undefined)?.[0];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('local GraphQL endpoint: real-time subscriptions (AppSync WebSocket protocol)', () => {
  let issuer: TokenIssuer;
  let dataSource: FakeDataSource;
  // The subscription resolver's calls for published events (not the checks at subscribe time).
  const eventInvokes = () =>
    dataSource.invokes.filter((e) => e.info.fieldName === 'onAddPost' && e.source !== null);
  let endpoint: GraphqlEndpoint;
  let server: Server;
  let url: string;
  let wsBase: string;
  const clients: RealtimeClient[] = [];
  let nextId = 1;
  const logs: string[] = [];

  const token = (user: TestUser) => issuer.idToken(user);
  const connectUrl = async (user: TestUser) =>
    `${wsBase}/graphql/realtime?header=${encodeURIComponent(
      base64({ host: new URL(url).host, Authorization: await token(user) }),
    )}&payload=e30=`;
  const connect = async (user: TestUser = ALICE): Promise<RealtimeClient> => {
    const client = await RealtimeClient.open(await connectUrl(user));
    clients.push(client);
    expect((await client.init()).type).toBe('connection_ack');
    return client;
  };
  const addPost = async (user: TestUser, title: string, authorId: string, selection = 'id') =>
    postGraphql(
      url,
      {
        query: `mutation ($title: String!, $authorId: ID!) { created: addPost(title: $title, authorId: $authorId) { ${selection} } }`,
        variables: { title, authorId },
      },
      { authorization: await token(user) },
    );
  const dataFor = (id: string) => (m: Message) => m.type === 'data' && m.id === id;

  function options(overrides: Partial<GraphqlEndpointOptions> = {}): GraphqlEndpointOptions {
    return {
      schema: SCHEMA,
      resolvers: RESOLVERS,
      dataSource: dataSource.handler,
      verifier: issuer.verifier(),
      apiKeys: [API_KEY],
      realtime: { keepAliveMs: 40 },
      log: (line) => logs.push(line),
      ...overrides,
    };
  }

  async function serve(target: GraphqlEndpoint): Promise<{ server: Server; url: string }> {
    const http = createServer((request, response) => {
      void target.handle(request, response).then((handled) => {
        if (!handled) response.writeHead(404).end();
      });
    });
    http.on('upgrade', (request, socket, head) => {
      if (!target.realtime.handleUpgrade(request, socket, head)) socket.destroy();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return { server: http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
  }

  beforeAll(async () => {
    issuer = await TokenIssuer.start();
    let postId = 100;
    dataSource = new FakeDataSource({
      'Query.ping': () => 'pong',
      'Mutation.addPost': (e) => ({
        id: String(++postId),
        title: e.arguments['title'],
        authorId: e.arguments['authorId'],
      }),
      'Mutation.failPost': () => {
        throw Object.assign(new Error('no'), { name: 'ConstraintViolation' });
      },
      'Subscription.onAddPost': (e) => {
        const username = (e.identity as { username?: string } | null)?.username;
        if (username === NOBODY.username) return null;
        if (username === SUSPENDED.username) {
          throw Object.assign(new Error('ERR_USER_INACTIVE: this user is not active'), {
            name: 'Unauthorized',
          });
        }
        // At subscribe time there is no event yet.
        const source = e.source as Record<string, unknown> | null;
        if (source === null) return null;
        // Later events may be authorized faster than earlier ones; delivery keeps their order.
        if (typeof source['delayMs'] === 'number') return sleep(source['delayMs']).then(() => source);
        if (username === CONFUSED.username) return { ...source, authorId: 'someone-else' };
        return source;
      },
      'Subscription.onAdminPost': (e) => e.source ?? null,
      'Post.author': (e) => ({
        id: e.source?.['authorId'],
        name: `Author ${String(e.source?.['authorId'])}`,
      }),
    });
    endpoint = createGraphqlEndpoint(options());
    ({ server, url } = await serve(endpoint));
    wsBase = url.replace(/^http/, 'ws');
  });

  beforeEach(() => {
    dataSource.reset();
    logs.length = 0;
  });

  afterEach(async () => {
    const open = clients.splice(0);
    for (const client of open) client.socket.terminate();
    await Promise.all(open.map((client) => client.closed));
    for (let i = 0; i < 50 && endpoint.subscriptions.size > 0; i++) await sleep(10);
    expect(endpoint.subscriptions.size).toBe(0);
  });

  afterAll(async () => {
    for (const client of clients) client.socket.terminate();
    await endpoint?.realtime.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await issuer?.close();
  });

  describe('protocol', () => {
    it('acknowledges connection_init with connectionTimeoutMs, then keeps the connection alive', async () => {
      const client = await RealtimeClient.open(await connectUrl(ALICE));
      clients.push(client);
      expect(client.socket.protocol).toBe('graphql-ws');
      const ack = await client.init();
      expect(ack).toEqual({ type: 'connection_ack', payload: { connectionTimeoutMs: 300000 } });
      await client.next((m) => m.type === 'ka');
      await sleep(250);
      expect(client.all((m) => m.type === 'ka').length).toBeGreaterThanOrEqual(3);
    });

    it('starts (start_ack), delivers, and stops (complete) a subscription', async () => {
      const client = await connect(ALICE);
      const id = `s${nextId++}`;
      expect(await client.start(id, 'subscription { onAddPost(authorId: "a1") { id title } }')).toEqual({
        type: 'start_ack',
        id,
      });
      await addPost(BOB, 'first', 'a1');
      const data = await client.next(dataFor(id));
      expect(data.payload).toEqual({ data: { onAddPost: { id: expect.any(String), title: 'first' } } });

      client.send({ type: 'stop', id });
      expect(await client.next((m) => m.id === id && m.type !== 'data')).toEqual({ type: 'complete', id });
      await addPost(BOB, 'second', 'a1');
      await sleep(150);
      expect(client.all(dataFor(id)).map((m) => titleOf(m))).toEqual(['first']);
    });

    it('takes the credentials from a header-<base64url> subprotocol and from plain headers', async () => {
      const header = Buffer.from(JSON.stringify({ host: 'x', Authorization: await token(ALICE) })).toString(
        'base64url',
      );
      const viaProtocol = await RealtimeClient.open(`${wsBase}/graphql/realtime`, [
        'graphql-ws',
        `header-${header}`,
      ]);
      clients.push(viaProtocol);
      expect((await viaProtocol.init()).type).toBe('connection_ack');

      const viaHeaders = await RealtimeClient.open(`${wsBase}/graphql`, ['graphql-ws'], {
        'x-api-key': API_KEY,
      });
      clients.push(viaHeaders);
      expect((await viaHeaders.init()).type).toBe('connection_ack');
      const wrongKey = await RealtimeClient.open(`${wsBase}/graphql`, ['graphql-ws'], {
        'x-api-key': 'da2-wrong',
      });
      clients.push(wrongKey);
      expect((await wrongKey.init()).type).toBe('connection_error');
    });

    it('refuses a WebSocket without the graphql-ws subprotocol, and other paths', async () => {
      await expect(RealtimeClient.open(await connectUrl(ALICE), ['other'])).rejects.toThrow('HTTP 400');
      await expect(RealtimeClient.open(`${wsBase}/elsewhere`)).rejects.toThrow();
    });

    it('answers connection_init with connection_error and closes without valid credentials', async () => {
      const missing = await RealtimeClient.open(`${wsBase}/graphql/realtime`);
      clients.push(missing);
      const refused = await missing.init();
      expect(refused.type).toBe('connection_error');
      expect(refused.payload?.['errors']).toEqual([
        expect.objectContaining({ errorType: 'UnauthorizedException', errorCode: 400 }),
      ]);
      await missing.closed;

      const forged = await RealtimeClient.open(
        `${wsBase}/graphql/realtime?header=${base64({ Authorization: issuer.unsignedToken(ALICE) })}&payload=e30=`,
      );
      clients.push(forged);
      const error = await forged.init();
      expect(error.type).toBe('connection_error');
      expect(error.payload?.['errors']).toEqual([
        expect.objectContaining({ errorType: 'UnauthorizedException', errorCode: 401 }),
      ]);
      // Nothing else is served on such a connection.
      await forged.closed;
    });

    it('answers bad messages with AppSync error messages', async () => {
      const client = await connect(ALICE);
      client.socket.send('not json');
      expect((await client.next((m) => m.type === 'error')).payload).toEqual({
        errors: [{ errorType: 'BadRequestException', message: expect.any(String) }],
      });
      client.send({ type: 'subscribe', id: 'x' });
      expect(await client.next((m) => m.type === 'error')).toEqual({
        type: 'error',
        id: 'x',
        payload: {
          errors: [
            {
              errorType: 'UnsupportedOperation',
              message: 'unknown not supported through the realtime channel',
            },
          ],
        },
      });
      client.send({ type: 'start', id: 'nodata', payload: {} });
      expect((await client.next((m) => m.id === 'nodata')).payload).toEqual({
        errors: [{ errorType: 'BadRequestException', message: expect.stringContaining('payload.data') }],
      });
      const query = await client.start('q', '{ ping }');
      expect(query).toEqual({
        type: 'error',
        id: 'q',
        payload: {
          errors: [
            {
              errorType: 'UnsupportedOperation',
              message: 'query not supported through the realtime channel',
            },
          ],
        },
      });
      const invalid = await client.start('v', 'subscription { onAddPost(authorId: "a") { nope } }');
      expect(invalid.type).toBe('error');
      expect(firstError(invalid)).toEqual({
        errorType: 'ValidationError',
        message: expect.stringContaining('nope'),
      });
      const missingVariable = await client.start(
        'mv',
        'subscription ($a: ID!) { onAddPost(authorId: $a) { id } }',
      );
      expect(missingVariable.type).toBe('error');

      expect((await client.start('dup', 'subscription { onAddPost { id } }')).type).toBe('start_ack');
      const duplicate = await client.start('dup', 'subscription { onAddPost { id } }');
      expect(duplicate.type).toBe('error');
      expect(firstError(duplicate)?.errorType).toBe('DuplicatedOperationError');
    });
  });

  describe('who may subscribe', () => {
    it('authenticates a start exactly as POST /graphql does', async () => {
      const client = await connect(ALICE);
      const query = 'subscription { onAddPost { id } }';
      const none = await client.start('none', query, {}, {});
      expect(none.payload).toEqual({
        errors: [{ errorType: 'UnauthorizedException', message: 'Valid authorization header not provided.' }],
      });
      const forged = await client.start('forged', query, {}, { Authorization: issuer.unsignedToken(ALICE) });
      expect(forged.payload).toEqual({
        errors: [{ errorType: 'UnauthorizedException', message: 'Unable to parse JWT token.' }],
      });
      const otherKey = await client.start('otherKey', query, {}, { 'x-api-key': 'da2-wrong' });
      expect(firstError(otherKey)?.errorType).toBe('UnauthorizedException');
      expect(endpoint.subscriptions.size).toBe(0);
      // Without extensions.authorization the connection's credentials are used.
      expect((await client.start('conn', query)).type).toBe('start_ack');
    });

    it("checks the subscription field's auth directives at start", async () => {
      const client = await connect(ALICE);
      const query = 'subscription { onAdminPost { id } }';
      expect(await client.start('denied', query)).toEqual({
        type: 'error',
        id: 'denied',
        payload: {
          errors: [
            {
              errorType: 'Unauthorized',
              message: 'Not Authorized to access onAdminPost on type Subscription',
            },
          ],
        },
      });
      const admin = await client.start('admin', query, {}, { Authorization: await token(ADMIN) });
      expect(admin.type).toBe('start_ack');
    });

    it('refuses a subscription field without a resolver (no event could be authorized)', async () => {
      const client = await connect(ALICE);
      const answer = await client.start('unresolved', 'subscription { onAddPostUnresolved { id } }');
      expect(answer.type).toBe('error');
      expect(firstError(answer)).toEqual({
        errorType: 'UnsupportedOperation',
        message: expect.stringContaining('needs an authorizing resolver'),
      });
      await addPost(BOB, 'unseen', 'a1');
      await sleep(100);
      expect(client.all((m) => m.type === 'data')).toEqual([]);
    });
  });

  describe('events', () => {
    it('publishes the mutation result: the subscription resolver gets it as source, as the subscriber', async () => {
      const client = await connect(ALICE);
      const start = await client.start(
        'sel',
        'subscription Watch($a: ID) { post: onAddPost(authorId: $a) { title author { name } } }',
        { a: 'a7' },
      );
      expect(start.type).toBe('start_ack');
      // The mutation asks for its id only; the whole resolved row is published.
      const mutation = await addPost(BOB, 'selected', 'a7', 'id');
      expect(mutation.body.errors).toBeUndefined();
      const data = await client.next(dataFor('sel'));
      expect(data.payload).toEqual({ data: { post: { title: 'selected', author: { name: 'Author a7' } } } });

      // The first call, with no source, was the check at subscribe time.
      const atStart = dataSource.invokes.find((e) => e.info.fieldName === 'onAddPost') as ResolverEvent;
      expect(atStart.source).toBeNull();
      expect(atStart.arguments).toEqual({ authorId: 'a7' });
      const event = eventInvokes().find(() => true) as ResolverEvent;
      expect(event.source).toEqual({ id: expect.any(String), title: 'selected', authorId: 'a7' });
      expect(event.arguments).toEqual({ authorId: 'a7' });
      expect((event.identity as { username: string }).username).toBe('alice');
      expect(event.info.parentTypeName).toBe('Subscription');
      expect(event.info.selectionSetList).toEqual(['title', 'author', 'author/name']);
      expect(event.info.variables).toEqual({ a: 'a7' });
    });

    it('filters by the subscription arguments: other values never arrive', async () => {
      const client = await connect(ALICE);
      expect((await client.start('a1', 'subscription { onAddPost(authorId: "a1") { title } }')).type).toBe(
        'start_ack',
      );
      expect((await client.start('a2', 'subscription { onAddPost(authorId: "a2") { title } }')).type).toBe(
        'start_ack',
      );
      expect((await client.start('any', 'subscription { onAddPost { title } }')).type).toBe('start_ack');
      await addPost(BOB, 'for a1', 'a1');
      await client.next(dataFor('a1'));
      await client.next(dataFor('any'));
      await sleep(100);
      expect(client.all(dataFor('a2'))).toEqual([]);
      // The filtered-out subscription's resolver was not even asked.
      expect(eventInvokes()).toHaveLength(2);
    });

    it('delivers nothing the subscription resolver does not return for that subscriber', async () => {
      const watchers = await Promise.all([ALICE, NOBODY, SUSPENDED, CONFUSED].map((user) => connect(user)));
      for (const watcher of watchers) {
        const start = await watcher.start('w', 'subscription { onAddPost(authorId: "a3") { id title } }');
        // The database refuses the suspended user already when subscribing.
        expect(start.type).toBe(watcher === watchers[2] ? 'error' : 'start_ack');
      }
      await addPost(BOB, 'private', 'a3');
      await watchers[0]?.next(dataFor('w'));
      await sleep(150);
      for (const watcher of watchers.slice(1)) expect(watcher.all(dataFor('w'))).toEqual([]);
      expect(eventInvokes()).toHaveLength(3);
      // Refusals are expected, not logged as failures.
      expect(logs).toEqual([]);
    });

    it('publishes nothing for a mutation that failed', async () => {
      const client = await connect(ALICE);
      expect((await client.start('f', 'subscription { onAddPost { title } }')).type).toBe('start_ack');
      const failed = await postGraphql(
        url,
        { query: 'mutation { failPost(title: "x") { id } }' },
        { authorization: await token(BOB) },
      );
      expect(failed.body.errors?.[0]?.['errorType']).toBe('ConstraintViolation');
      await sleep(100);
      expect(client.all(dataFor('f'))).toEqual([]);
      expect(eventInvokes()).toEqual([]);
    });

    it('serves API-key subscribers (start authorization x-api-key)', async () => {
      const client = await connect(ALICE);
      const start = await client.start(
        'key',
        'subscription { onAddPost(authorId: "k") { title } }',
        {},
        {
          host: 'local',
          'x-api-key': API_KEY,
        },
      );
      expect(start.type).toBe('start_ack');
      await addPost(BOB, 'keyed', 'k');
      expect((await client.next(dataFor('key'))).payload).toEqual({
        data: { onAddPost: { title: 'keyed' } },
      });
      const event = eventInvokes().find(() => true) as ResolverEvent;
      expect(event.identity).toBeNull();
    });

    it("keeps each subscription's events in publishing order", async () => {
      const client = await connect(ALICE);
      expect((await client.start('o', 'subscription { onAddPost(authorId: "ord") { title } }')).type).toBe(
        'start_ack',
      );
      const titles = ['1', '2', '3', '4', '5'];
      await Promise.all(
        titles.map((title, i) =>
          endpoint.subscriptions.publish('addPost', {
            id: title,
            title,
            authorId: 'ord',
            delayMs: (titles.length - i) * 15,
          }),
        ),
      );
      for (const _ of titles) await client.next(dataFor('o'));
      expect(client.all(dataFor('o')).map((m) => titleOf(m))).toEqual(['1', '2', '3', '4', '5']);
    });

    it("drops a connection's subscriptions when it closes", async () => {
      const client = await connect(ALICE);
      const before = endpoint.subscriptions.size;
      expect((await client.start('c', 'subscription { onAddPost { title } }')).type).toBe('start_ack');
      expect(endpoint.subscriptions.size).toBe(before + 1);
      client.close();
      await client.closed;
      await sleep(20);
      expect(endpoint.subscriptions.size).toBe(before);
    });
  });

  it('closes every connection (1001) when the endpoint closes', async () => {
    const own = createGraphqlEndpoint(options());
    const served = await serve(own);
    try {
      const client = await RealtimeClient.open(
        `${served.url.replace(/^http/, 'ws')}/graphql/realtime?header=${base64({ Authorization: await token(ALICE) })}`,
      );
      expect((await client.init()).type).toBe('connection_ack');
      expect((await client.start('c', 'subscription { onAddPost { title } }')).type).toBe('start_ack');
      expect(own.realtime.connections).toBe(1);
      await own.realtime.close();
      expect((await client.closed).code).toBe(1001);
      expect(own.realtime.connections).toBe(0);
      expect(own.subscriptions.size).toBe(0);
      await expect(
        RealtimeClient.open(`${served.url.replace(/^http/, 'ws')}/graphql/realtime`),
      ).rejects.toThrow('HTTP 503');
    } finally {
      served.server.closeAllConnections();
      await new Promise<void>((resolve) => served.server.close(() => resolve()));
    }
  });

  it('closes a socket that never sends connection_init', async () => {
    const own = createGraphqlEndpoint(
      options({ realtime: { keepAliveMs: 40, connectionInitTimeoutMs: 150 } }),
    );
    const served = await serve(own);
    try {
      const wsUrl = `${served.url.replace(/^http/, 'ws')}/graphql/realtime?header=${base64({ Authorization: 'forged' })}`;
      const idle = await RealtimeClient.open(wsUrl);
      expect((await idle.closed).code).toBe(4408);
      await sleep(50);
      expect(own.realtime.connections).toBe(0);
    } finally {
      await own.realtime.close();
      served.server.closeAllConnections();
      await new Promise<void>((resolve) => served.server.close(() => resolve()));
    }
  });
});
