import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  base64url,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { ResolverEvent } from '../../../src/appsync/types.js';
import { createTokenVerifier, type TokenVerifier } from '../../../src/identity/token-verifier.js';
import {
  startGraphqlServer,
  type GraphqlServer,
  type GraphqlServerOptions,
} from '../../../src/local/graphql/index.js';

export const POOL_ID = 'us-east-1_GrApHqL01';
export const CLIENT_ID = 'graphqltestclient0123456789';
export const API_KEY = 'da2-localtestkey0123456789abcdef';

export function fixture<T = unknown>(name: string): T {
  const path = fileURLToPath(new URL(`../../../../shared/fixtures/appsync/${name}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

// --- a tiny Cognito stand-in: a JWKS endpoint and a token signer ------------------------------

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function keyPair(kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export interface TestUser {
  username: string;
  sub?: string;
  groups?: string[];
  email?: string;
}

export class TokenIssuer {
  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    private readonly published: KeyPair,
    /** A key whose public half is not in the JWKS: its signatures must not verify. */
    private readonly unpublished: KeyPair,
  ) {}

  static async start(): Promise<TokenIssuer> {
    const [published, unpublished] = await Promise.all([keyPair('kid-published'), keyPair('kid-other')]);
    const server = createServer((req, res) => {
      if (req.url !== `/${POOL_ID}/.well-known/jwks.json`) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [published.publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new TokenIssuer(server, `http://127.0.0.1:${port}/${POOL_ID}`, published, unpublished);
  }

  verifier(): TokenVerifier {
    return createTokenVerifier({ issuer: this.issuer, clientId: CLIENT_ID });
  }

  idClaims(user: TestUser, overrides: Record<string, unknown> = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: user.sub ?? `sub-${user.username}`,
      ...(user.groups && user.groups.length > 0 ? { 'cognito:groups': user.groups } : {}),
      email_verified: true,
      iss: this.issuer,
      'cognito:username': user.username,
      origin_jti: randomUUID(),
      aud: CLIENT_ID,
      event_id: randomUUID(),
      token_use: 'id',
      auth_time: now - 60,
      exp: now + 3600,
      iat: now - 30,
      jti: randomUUID(),
      email: user.email ?? `${user.username}@example.com`,
      ...overrides,
    };
  }

  accessClaims(user: TestUser, overrides: Record<string, unknown> = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: user.sub ?? `sub-${user.username}`,
      ...(user.groups && user.groups.length > 0 ? { 'cognito:groups': user.groups } : {}),
      iss: this.issuer,
      client_id: CLIENT_ID,
      origin_jti: randomUUID(),
      event_id: randomUUID(),
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin',
      auth_time: now - 60,
      exp: now + 3600,
      iat: now - 30,
      jti: randomUUID(),
      username: user.username,
      ...overrides,
    };
  }

  async sign(claims: JWTPayload, key: 'published' | 'unpublished' = 'published'): Promise<string> {
    const pair = key === 'published' ? this.published : this.unpublished;
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: pair.kid }).sign(pair.privateKey);
  }

  idToken(user: TestUser, overrides: Record<string, unknown> = {}): Promise<string> {
    return this.sign(this.idClaims(user, overrides));
  }

  /** An unsigned token (`alg: none`) with valid-looking claims. */
  unsignedToken(user: TestUser): string {
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: this.published.kid }));
    const payload = base64url.encode(JSON.stringify(this.idClaims(user)));
    return `${header}.${payload}.`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }
}

// --- a fake data source ----------------------------------------------------------------------

export type FieldAnswer = (event: ResolverEvent) => unknown;

/**
 * The data source Lambda, faked: records every call (an event for Invoke, an array for
 * BatchInvoke) and answers per `Type.field` from functions over in-memory tables; batch answers
 * are wrapped as `{ data }` unless `batchAnswers` has a function for the whole batch.
 */
export class FakeDataSource {
  readonly calls: Array<ResolverEvent | ResolverEvent[]> = [];

  constructor(
    private readonly answers: Record<string, FieldAnswer>,
    private readonly batchAnswers: Record<string, (events: ResolverEvent[]) => unknown> = {},
  ) {}

  readonly handler = async (event: ResolverEvent | ResolverEvent[]): Promise<unknown> => {
    this.calls.push(event);
    await Promise.resolve();
    if (Array.isArray(event)) {
      const key = keyOf(event[0] as ResolverEvent);
      if (!event.every((e) => keyOf(e) === key)) throw new Error('a batch mixes fields');
      const batch = this.batchAnswers[key];
      if (batch) return batch(event);
      return event.map((e) => ({ data: this.answer(e) }));
    }
    return this.answer(event);
  };

  private answer(event: ResolverEvent): unknown {
    const answer = this.answers[keyOf(event)];
    if (!answer) throw new Error(`no fake answer for ${keyOf(event)}`);
    return answer(event);
  }

  get invokes(): ResolverEvent[] {
    return this.calls.filter((c): c is ResolverEvent => !Array.isArray(c));
  }

  get batches(): ResolverEvent[][] {
    return this.calls.filter((c): c is ResolverEvent[] => Array.isArray(c));
  }

  reset(): void {
    this.calls.length = 0;
  }
}

export function keyOf(event: ResolverEvent): string {
  return `${event.info.parentTypeName}.${event.info.fieldName}`;
}

// --- the blog app used by most tests ------------------------------------------------------------

export const BLOG_SCHEMA = /* GraphQL */ `
  type Query {
    getPost(id: ID!): Post
    allPosts: [Post]
    listPublicPosts(limit: Int): PostPage @aws_api_key
    adminStats: Stats @aws_cognito_user_pools(cognito_groups: ["admin"])
    legacyAdmin: String @aws_auth(cognito_groups: ["admin"])
    iamOnly: String @aws_iam
    whoAmI: String
  }

  type Mutation {
    addPost(title: String!): Post
  }

  type Subscription {
    onAddPost: Post @aws_subscribe(mutations: ["addPost"])
  }

  type PostPage @aws_api_key {
    items: [Post]
    nextToken: String
  }

  type Post @aws_api_key @aws_cognito_user_pools {
    id: ID!
    title: String
    author: Author
    relatedPosts: [Post]
    secret: String @aws_cognito_user_pools(cognito_groups: ["editors"])
  }

  type Author @aws_api_key @aws_cognito_user_pools {
    id: ID!
    name: String
  }

  type Stats {
    posts: Int
  }
`;

export const BLOG_RESOLVERS = [
  'Query.getPost',
  'Query.allPosts',
  'Query.listPublicPosts',
  'Query.adminStats',
  'Query.legacyAdmin',
  'Query.iamOnly',
  'Query.whoAmI',
  'Mutation.addPost',
  'Post.author',
  'Post.relatedPosts',
];

export interface PostRow {
  id: string;
  title: string;
  author: string;
  secret?: string;
}

export const POSTS: PostRow[] = [
  { id: '1', title: 'First book', author: 'Author1' },
  { id: '2', title: 'Second book', author: 'Author2' },
  { id: '3', title: 'Third book', author: 'Author3' },
  { id: '4', title: 'Fourth book', author: 'Author1', secret: 'the butler' },
];

export const AUTHORS: Record<string, { id: string; name: string }> = {
  Author1: { id: 'Author1', name: 'Ann' },
  Author2: { id: 'Author2', name: 'Bob' },
  Author3: { id: 'Author3', name: 'Cy' },
};

const postsOf = (ids: string[]): PostRow[] => POSTS.filter((p) => ids.includes(p.id));

export function blogDataSource(
  overrides: Record<string, FieldAnswer> = {},
  batchAnswers: Record<string, (events: ResolverEvent[]) => unknown> = {},
): FakeDataSource {
  return new FakeDataSource(
    {
      'Query.getPost': (e) => POSTS.find((p) => p.id === e.arguments['id']) ?? null,
      'Query.allPosts': () => POSTS.slice(0, 3).map(({ id, title, author }) => ({ id, title, author })),
      'Query.listPublicPosts': () => ({ items: postsOf(['1', '2']), nextToken: null }),
      'Query.adminStats': () => ({ posts: POSTS.length }),
      'Query.legacyAdmin': () => 'legacy',
      'Query.iamOnly': () => 'iam',
      'Query.whoAmI': (e) => {
        const identity = e.identity as { username?: string } | null | undefined;
        return identity?.username ?? 'api-key';
      },
      'Mutation.addPost': (e) => ({ id: '5', title: e.arguments['title'], author: 'Author1' }),
      'Post.author': (e) => AUTHORS[(e.source as unknown as PostRow).author] ?? null,
      'Post.relatedPosts': (e) => postsOf((e.source as unknown as PostRow).id === '1' ? ['4'] : ['1']),
      ...overrides,
    },
    batchAnswers,
  );
}

// --- HTTP ------------------------------------------------------------------------------------

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { data?: unknown; errors?: Array<Record<string, unknown>> };
}

export async function postGraphql(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as HttpAnswer['body'] };
}

export interface TestApi {
  server: GraphqlServer;
  url: string;
  /** POST /graphql with the given headers. */
  query(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<HttpAnswer>;
  close(): Promise<void>;
}

export async function startTestApi(options: GraphqlServerOptions): Promise<TestApi> {
  const server = await startGraphqlServer(options);
  return {
    server,
    url: server.url,
    query: (query, variables, headers = {}) => postGraphql(server.url, { query, variables }, headers),
    close: () => server.close(),
  };
}
