import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  API_KEY,
  BLOG_RESOLVERS,
  BLOG_SCHEMA,
  blogDataSource,
  postGraphql,
  TokenIssuer,
  startTestApi,
  type FakeDataSource,
  type TestApi,
} from './support.js';

// Requests without valid credentials never reach execution: HTTP 401 with AppSync's body.

let issuer: TokenIssuer;
let api: TestApi;
let data: FakeDataSource;

beforeAll(async () => {
  issuer = await TokenIssuer.start();
  data = blogDataSource();
  api = await startTestApi({
    schema: BLOG_SCHEMA,
    resolvers: BLOG_RESOLVERS,
    dataSource: data.handler,
    verifier: issuer.verifier(),
    apiKeys: [API_KEY],
  });
});

afterAll(async () => {
  await api.close();
  await issuer.close();
});

beforeEach(() => data.reset());

const QUERY = '{ whoAmI }';

async function expect401(headers: Record<string, string>, message: string): Promise<void> {
  const answer = await api.query(QUERY, undefined, headers);
  expect(answer.status).toBe(401);
  expect(answer.body).toEqual({ errors: [{ errorType: 'UnauthorizedException', message }] });
  expect(answer.headers.get('x-amzn-errortype')).toBe('UnauthorizedException');
  expect(data.calls).toHaveLength(0);
}

describe('401 UnauthorizedException', () => {
  it('without any credentials', async () => {
    await expect401({}, 'Valid authorization header not provided.');
  });

  it('with an empty Authorization header', async () => {
    await expect401({ authorization: '   ' }, 'Valid authorization header not provided.');
  });

  it('with a token that is not a JWT', async () => {
    await expect401({ authorization: 'not-a-jwt' }, 'Unable to parse JWT token.');
  });

  it('with a token signed by a key the pool does not publish', async () => {
    const forged = await issuer.sign(issuer.idClaims({ username: 'mallory' }), 'unpublished');
    await expect401({ authorization: forged }, 'Unable to parse JWT token.');
  });

  it('with a token whose payload was changed after signing', async () => {
    const token = await issuer.idToken({ username: 'mary' });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(
      JSON.stringify(issuer.idClaims({ username: 'mary', groups: ['admin'] })),
    ).toString('base64url');
    await expect401({ authorization: `${header}.${payload}.${signature}` }, 'Unable to parse JWT token.');
  });

  it('with an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await issuer.idToken({ username: 'mary' }, { iat: now - 7200, exp: now - 3600 });
    await expect401({ authorization: expired }, 'Token has expired.');
  });

  it('with an unsigned token (alg: none)', async () => {
    await expect401(
      { authorization: issuer.unsignedToken({ username: 'mary' }) },
      'Unable to parse JWT token.',
    );
  });

  it('with a token of another issuer', async () => {
    const other = await issuer.idToken(
      { username: 'mary' },
      { iss: 'https://cognito-idp.us-east-1.amazonaws.com/x' },
    );
    await expect401({ authorization: other }, 'Unable to parse JWT token.');
  });

  it('with a token for another app client', async () => {
    const other = await issuer.idToken({ username: 'mary' }, { aud: 'someotherclient' });
    await expect401({ authorization: other }, 'Unable to parse JWT token.');
  });

  it('with a wrong API key', async () => {
    await expect401({ 'x-api-key': 'da2-wrong' }, 'You are not authorized to make this call.');
  });

  it('before reading a malformed body', async () => {
    const answer = await postGraphql(api.url, '{not json');
    expect(answer.status).toBe(401);
  });
});

describe('valid credentials', () => {
  it('a user pool ID token runs the query', async () => {
    const token = await issuer.idToken({ username: 'mary' });
    const answer = await api.query(QUERY, undefined, { authorization: token });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { whoAmI: 'mary' } });
  });

  it('"Bearer <token>" is accepted too', async () => {
    const token = await issuer.idToken({ username: 'mary' });
    const answer = await api.query(QUERY, undefined, { authorization: `Bearer ${token}` });
    expect(answer.body).toEqual({ data: { whoAmI: 'mary' } });
  });

  it('an API key runs the query (and is then subject to the directives)', async () => {
    const answer = await api.query('{ listPublicPosts { nextToken } }', undefined, { 'x-api-key': API_KEY });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { listPublicPosts: { nextToken: null } } });
  });
});

describe('HTTP', () => {
  it('answers 400 for a body that is not a GraphQL request', async () => {
    const token = await issuer.idToken({ username: 'mary' });
    const notJson = await postGraphql(api.url, '{not json', { authorization: token });
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors?.[0]?.['errorType']).toBe('BadRequestException');
    const noQuery = await postGraphql(api.url, { variables: {} }, { authorization: token });
    expect(noQuery.status).toBe(400);
    expect(data.calls).toHaveLength(0);
  });

  it('answers CORS preflights and sends CORS headers', async () => {
    const preflight = await fetch(`${api.url}/graphql`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-api-key');
    const answer = await api.query(QUERY, undefined, {});
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('leaves other paths to the caller (404 from the standalone server)', async () => {
    const response = await fetch(`${api.url}/elsewhere`);
    expect(response.status).toBe(404);
  });
});
