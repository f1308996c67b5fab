import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../../src/identity/token-verifier.js';
import { signUpAndConfirm, startTestPool, PASSWORD, type TestPool } from '../user-pool/support.js';
import { BLOG_RESOLVERS, BLOG_SCHEMA, blogDataSource, startTestApi, type TestApi } from './support.js';

// End to end with the local user pool: the explorer's sign-in request (as its script sends it,
// from a browser origin) yields an ID token that the endpoint accepts.

let pool: TestPool;
let api: TestApi;

beforeAll(async () => {
  pool = await startTestPool();
  api = await startTestApi({
    schema: BLOG_SCHEMA,
    resolvers: BLOG_RESOLVERS,
    dataSource: blogDataSource().handler,
    verifier: createTokenVerifier({ issuer: pool.pool.issuer, clientId: pool.pool.clientId }),
    explorer: { userPoolUrl: pool.pool.url, clientId: pool.pool.clientId },
  });
});

afterAll(async () => {
  await api.close();
  await pool.close();
});

describe('explorer sign-in against the local user pool', () => {
  it('the browser may send the InitiateAuth request (CORS preflight)', async () => {
    const preflight = await fetch(pool.pool.url, {
      method: 'OPTIONS',
      headers: {
        origin: api.url,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-amz-target',
      },
    });
    expect(preflight.status).toBe(204);
    const allowed = preflight.headers.get('access-control-allow-headers') ?? '';
    expect(allowed).toContain('x-amz-target');
    expect(allowed).toContain('content-type');
  });

  it("the page's request gets an ID token that POST /graphql accepts", async () => {
    const email = await signUpAndConfirm(pool);
    const response = await fetch(pool.pool.url, {
      method: 'POST',
      headers: {
        origin: api.url,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
      },
      body: JSON.stringify({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: pool.pool.clientId,
        AuthParameters: { USERNAME: email, PASSWORD },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await response.json()) as { AuthenticationResult: { IdToken: string } };
    const answer = await api.query('{ whoAmI }', undefined, {
      authorization: body.AuthenticationResult.IdToken,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
    const claims = decodeJwt(body.AuthenticationResult.IdToken);
    expect(claims['email']).toBe(email);
    expect(answer.body.data).toEqual({ whoAmI: claims['cognito:username'] });
  });
});
