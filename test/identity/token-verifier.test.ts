import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64url,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { isCognitionError } from '../../src/errors.js';
import {
  createTokenVerifier,
  type TokenRejectionReason,
  type TokenVerifier,
  type TokenVerifierOptions,
} from '../../src/identity/token-verifier.js';

// Count signature verifications (jose's jwtVerify) to see when the result cache answers.
const jose = vi.hoisted(() => ({ jwtVerifyCalls: 0 }));
vi.mock('jose', async (importOriginal) => {
  const actual = await importOriginal<typeof import('jose')>();
  return {
    ...actual,
    jwtVerify: (...args: Parameters<typeof actual.jwtVerify>) => {
      jose.jwtVerifyCalls++;
      return actual.jwtVerify(...args);
    },
  };
});

const POOL_ID = 'us-east-1_TeStPoOl1';
const CLIENT_ID = '1example23456789abcdefghij';
const OTHER_CLIENT_ID = '9other8765432abcdefghijkl';
const SUB = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';

interface KeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

async function keyPair(kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    publicPem: await exportSPKI(publicKey),
  };
}

/** A JWKS endpoint like Cognito's, with a request counter and failure modes. */
class JwksServer {
  keys: JWK[] = [];
  requests = 0;
  mode: 'ok' | 'error' | 'garbage' | 'hang' = 'ok';
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      if (req.url !== `/${POOL_ID}/.well-known/jwks.json`) {
        res.writeHead(404).end();
        return;
      }
      this.requests++;
      if (this.mode === 'hang') return;
      if (this.mode === 'error') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"boom"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(this.mode === 'garbage' ? '<html>not json' : JSON.stringify({ keys: this.keys }));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }
}

let server: JwksServer;
let keyA: KeyPair; // published in the JWKS
let keyB: KeyPair; // not published, except in the rotation / tampered-kid tests
let issuer: string;
let clock: number; // epoch ms, injected as the verifier's clock

const seconds = (): number => Math.floor(clock / 1000);

function idClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    sub: SUB,
    'cognito:groups': ['tenant_admins', 'editors'],
    email_verified: true,
    iss: issuer,
    'cognito:username': 'mary_major',
    origin_jti: randomUUID(),
    aud: CLIENT_ID,
    event_id: randomUUID(),
    token_use: 'id',
    auth_time: seconds() - 120,
    exp: seconds() + 3600,
    iat: seconds() - 60,
    jti: randomUUID(),
    email: 'mary_major@example.com',
    'custom:tenant': 'acme',
    ...overrides,
  };
}

function accessClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    sub: SUB,
    'cognito:groups': ['tenant_users'],
    iss: issuer,
    client_id: CLIENT_ID,
    origin_jti: randomUUID(),
    event_id: randomUUID(),
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    auth_time: seconds() - 120,
    exp: seconds() + 3600,
    iat: seconds() - 60,
    jti: randomUUID(),
    username: 'mary_major',
    version: 2,
    ...overrides,
  };
}

async function sign(claims: JWTPayload, key: KeyPair = keyA, kid: string = key.kid): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ kid, alg: 'RS256' }).sign(key.privateKey);
}

const encodeJson = (value: unknown): string => base64url.encode(JSON.stringify(value));

function verifier(options: Partial<TokenVerifierOptions> = {}): TokenVerifier {
  return createTokenVerifier({ issuer, clientId: CLIENT_ID, now: () => clock, ...options });
}

/** Expects ERR_INVALID_TOKEN whose message echoes no part of the token; returns the reason. */
async function rejection(v: TokenVerifier, token: string): Promise<TokenRejectionReason> {
  let error: unknown;
  try {
    await v.verify(token);
  } catch (e) {
    error = e;
  }
  if (!isCognitionError(error) || (error.code as string) !== 'ERR_INVALID_TOKEN') {
    throw new Error(`expected ERR_INVALID_TOKEN, got ${String(error)}`, { cause: error });
  }
  expect(error.safe).toBe(true);
  expect(error.message).toMatch(/^Invalid token: /);
  for (const part of (typeof token === 'string' ? token : '').split('.').filter((p) => p.length >= 8)) {
    expect(error.message).not.toContain(part);
  }
  expect(error.message).not.toContain('mary_major');
  expect(error.message).not.toContain(SUB);
  return error.details?.reason as TokenRejectionReason;
}

beforeAll(async () => {
  [keyA, keyB] = await Promise.all([keyPair('kid-a'), keyPair('kid-b')]);
  server = new JwksServer();
  await server.start();
  issuer = `http://127.0.0.1:${server.port}/${POOL_ID}`;
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  server.keys = [keyA.publicJwk];
  server.mode = 'ok';
  server.requests = 0;
  jose.jwtVerifyCalls = 0;
  clock = Date.now();
});

describe('valid tokens', () => {
  it('accepts a Cognito ID token and parses its claims', async () => {
    const result = await verifier().verify(await sign(idClaims()));
    expect(result.tokenUse).toBe('id');
    expect(result.sub).toBe(SUB);
    expect(result.username).toBe('mary_major');
    expect(result.groups).toEqual(['tenant_admins', 'editors']);
    expect(result.expiresAt).toBe(seconds() + 3600);
    expect(result.claims['email_verified']).toBe(true);
    expect(result.claims['custom:tenant']).toBe('acme');
    expect(server.requests).toBe(1);
  });

  it('accepts a Cognito access token (username, client_id)', async () => {
    const result = await verifier().verify(await sign(accessClaims()));
    expect(result.tokenUse).toBe('access');
    expect(result.sub).toBe(SUB);
    expect(result.username).toBe('mary_major');
    expect(result.groups).toEqual(['tenant_users']);
    expect(result.claims['scope']).toBe('aws.cognito.signin.user.admin');
  });

  it('gives an empty group list when cognito:groups is absent, and rejects a malformed one', async () => {
    const v = verifier();
    expect((await v.verify(await sign(idClaims({ 'cognito:groups': undefined })))).groups).toEqual([]);
    expect(await rejection(v, await sign(idClaims({ 'cognito:groups': 'tenant_admins' })))).toBe('malformed');
    expect(await rejection(v, await sign(accessClaims({ 'cognito:groups': ['a', 7] })))).toBe('malformed');
  });

  it('requires the username claim that matches the token use', async () => {
    const v = verifier();
    // An ID token carries cognito:username, an access token username; not the other way round.
    const idWithWrongName = idClaims({ 'cognito:username': undefined, username: 'mary_major' });
    expect(await rejection(v, await sign(idWithWrongName))).toBe('malformed');
    const accessWithWrongName = accessClaims({ username: undefined, 'cognito:username': 'mary_major' });
    expect(await rejection(v, await sign(accessWithWrongName))).toBe('malformed');
    expect(await rejection(v, await sign(idClaims({ sub: undefined })))).toBe('malformed');
    expect(await rejection(v, await sign(idClaims({ sub: '' })))).toBe('malformed');
    expect(await rejection(v, await sign(accessClaims({ sub: 42 })))).toBe('malformed');
  });

  it('accepts any of several allowed client ids', async () => {
    const v = verifier({ clientId: [OTHER_CLIENT_ID, CLIENT_ID] });
    expect((await v.verify(await sign(idClaims({ aud: OTHER_CLIENT_ID })))).tokenUse).toBe('id');
    expect((await v.verify(await sign(accessClaims({ client_id: CLIENT_ID })))).tokenUse).toBe('access');
  });

  it('returns a frozen result, so a caller cannot alter what the cache hands to the next one', async () => {
    const v = verifier();
    const token = await sign(idClaims());
    const first = await v.verify(token);
    expect(() => first.groups.push('application_admins')).toThrow(TypeError);
    expect(() => {
      (first.claims as Record<string, unknown>)['cognito:groups'] = ['application_admins'];
    }).toThrow(TypeError);
    expect((await v.verify(token)).groups).toEqual(['tenant_admins', 'editors']);
  });
});

describe('time claims', () => {
  it('rejects an expired token, beyond the clock tolerance', async () => {
    const v = verifier({ clockToleranceSeconds: 5 });
    expect(await rejection(v, await sign(idClaims({ exp: seconds() - 10, iat: seconds() - 3700 })))).toBe(
      'expired',
    );
    // Within the tolerance it still passes: the tolerance is in effect, not a larger one.
    expect((await v.verify(await sign(idClaims({ exp: seconds() - 3 })))).tokenUse).toBe('id');
  });

  it('allows at most 5 seconds of clock skew by default', async () => {
    const v = verifier();
    expect(await rejection(v, await sign(idClaims({ exp: seconds() - 6 })))).toBe('expired');
    expect(await rejection(v, await sign(idClaims({ nbf: seconds() + 6 })))).toBe('not_yet_valid');
  });

  it('rejects a token exactly at exp with no tolerance', async () => {
    const v = verifier({ clockToleranceSeconds: 0 });
    expect(await rejection(v, await sign(accessClaims({ exp: seconds() })))).toBe('expired');
    expect((await v.verify(await sign(accessClaims({ exp: seconds() + 1 })))).tokenUse).toBe('access');
  });

  it('rejects a token that is not yet valid (nbf) or issued in the future (iat)', async () => {
    const v = verifier({ clockToleranceSeconds: 5 });
    expect(await rejection(v, await sign(idClaims({ nbf: seconds() + 60 })))).toBe('not_yet_valid');
    expect(await rejection(v, await sign(idClaims({ iat: seconds() + 60 })))).toBe('issued_in_future');
    expect((await v.verify(await sign(idClaims({ nbf: seconds() + 3, iat: seconds() + 3 })))).sub).toBe(SUB);
  });

  it('requires numeric exp and iat', async () => {
    const v = verifier();
    expect(await rejection(v, await sign(idClaims({ exp: undefined })))).toBe('malformed');
    expect(await rejection(v, await sign(idClaims({ iat: undefined })))).toBe('malformed');
    expect(await rejection(v, await sign(idClaims({ exp: String(seconds() + 3600) })))).toBe('malformed');
  });
});

describe('issuer, audience and token use', () => {
  it('rejects a wrong or missing issuer', async () => {
    const v = verifier();
    const otherPool = `http://127.0.0.1:${server.port}/us-east-1_OtherPool`;
    expect(await rejection(v, await sign(idClaims({ iss: otherPool })))).toBe('wrong_issuer');
    expect(await rejection(v, await sign(idClaims({ iss: `${issuer}/` })))).toBe('wrong_issuer');
    expect(await rejection(v, await sign(accessClaims({ iss: undefined })))).toBe('wrong_issuer');
  });

  it('rejects an ID token for another app client (aud)', async () => {
    const v = verifier();
    expect(await rejection(v, await sign(idClaims({ aud: OTHER_CLIENT_ID })))).toBe('wrong_audience');
    // client_id means nothing on an ID token.
    expect(await rejection(v, await sign(idClaims({ aud: OTHER_CLIENT_ID, client_id: CLIENT_ID })))).toBe(
      'wrong_audience',
    );
    expect(await rejection(v, await sign(idClaims({ aud: [CLIENT_ID, OTHER_CLIENT_ID] })))).toBe(
      'wrong_audience',
    );
  });

  it('rejects an access token for another app client (client_id)', async () => {
    const v = verifier();
    expect(await rejection(v, await sign(accessClaims({ client_id: OTHER_CLIENT_ID })))).toBe(
      'wrong_audience',
    );
    // aud on an access token names a resource server; it cannot stand in for client_id.
    const viaAud = accessClaims({ client_id: OTHER_CLIENT_ID, aud: CLIENT_ID });
    expect(await rejection(v, await sign(viaAud))).toBe('wrong_audience');
    expect(await rejection(v, await sign(accessClaims({ client_id: undefined })))).toBe('wrong_audience');
  });

  it('rejects the other kind of token when one kind is expected', async () => {
    const idToken = await sign(idClaims());
    const accessToken = await sign(accessClaims());
    expect(await rejection(verifier({ tokenUse: 'access' }), idToken)).toBe('wrong_token_use');
    expect(await rejection(verifier({ tokenUse: 'id' }), accessToken)).toBe('wrong_token_use');
    expect((await verifier({ tokenUse: 'id' }).verify(idToken)).tokenUse).toBe('id');
    expect((await verifier({ tokenUse: 'access' }).verify(accessToken)).tokenUse).toBe('access');
  });

  it("rejects token_use values other than 'id' and 'access'", async () => {
    const v = verifier();
    expect(await rejection(v, await sign(accessClaims({ token_use: 'refresh' })))).toBe('wrong_token_use');
    expect(await rejection(v, await sign(idClaims({ token_use: 'ID' })))).toBe('wrong_token_use');
    expect(await rejection(v, await sign(idClaims({ token_use: undefined })))).toBe('malformed');
  });
});

describe('signatures and algorithms', () => {
  it("rejects an unsigned token (alg 'none')", async () => {
    const v = verifier();
    const body = encodeJson(idClaims());
    expect(await rejection(v, `${encodeJson({ alg: 'none', kid: 'kid-a' })}.${body}.`)).toBe('algorithm');
    expect(await rejection(v, `${encodeJson({ alg: 'none' })}.${body}.`)).toBe('algorithm');
    expect(await rejection(v, `${encodeJson({ alg: 'None', kid: 'kid-a' })}.${body}.`)).toBe('algorithm');
    expect(server.requests).toBe(0);
  });

  it('rejects HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    const v = verifier();
    for (const secret of [keyA.publicPem, JSON.stringify(keyA.publicJwk), keyA.publicJwk.n as string]) {
      const token = await new SignJWT(idClaims())
        .setProtectedHeader({ alg: 'HS256', kid: 'kid-a' })
        .sign(new TextEncoder().encode(secret));
      expect(await rejection(v, token)).toBe('algorithm');
    }
  });

  it('rejects other asymmetric algorithms too', async () => {
    const v = verifier();
    // The published key, imported for RS512: right key, wrong algorithm.
    const rs512Key = await importPKCS8(await exportPKCS8(keyA.privateKey), 'RS512');
    const rs512 = await new SignJWT(idClaims())
      .setProtectedHeader({ alg: 'RS512', kid: 'kid-a' })
      .sign(rs512Key);
    expect(await rejection(v, rs512)).toBe('algorithm');
  });

  it('rejects a token signed by a key that is not in the JWKS', async () => {
    const v = verifier();
    // Claims the published kid: the signature does not match that key.
    expect(await rejection(v, await sign(idClaims(), keyB, 'kid-a'))).toBe('bad_signature');
    // Names its own kid: no such key.
    expect(await rejection(v, await sign(idClaims(), keyB, 'kid-b'))).toBe('unknown_key');
    // A token without kid is not matched against "whatever key there is".
    const noKid = await new SignJWT(idClaims()).setProtectedHeader({ alg: 'RS256' }).sign(keyA.privateKey);
    expect(await rejection(v, noKid)).toBe('malformed');
  });

  it('rejects a tampered payload that keeps the original signature', async () => {
    const v = verifier();
    const token = await sign(idClaims());
    await v.verify(token);
    const [header, , signature] = token.split('.');
    const forged = encodeJson(idClaims({ 'cognito:groups': ['application_admins'] }));
    expect(await rejection(v, `${header}.${forged}.${signature}`)).toBe('bad_signature');
    const otherUser = encodeJson(idClaims({ sub: 'ffffffff-5678-90ab-cdef-EXAMPLE22222' }));
    expect(await rejection(v, `${header}.${otherUser}.${signature}`)).toBe('bad_signature');
  });

  it('rejects a tampered header kid', async () => {
    server.keys = [keyA.publicJwk, keyB.publicJwk];
    const v = verifier();
    const token = await sign(accessClaims());
    expect((await v.verify(token)).tokenUse).toBe('access');
    const [, payload, signature] = token.split('.');
    const toB = encodeJson({ kid: 'kid-b', alg: 'RS256' });
    expect(await rejection(v, `${toB}.${payload}.${signature}`)).toBe('bad_signature');
    const toUnknown = encodeJson({ kid: 'kid-zzz', alg: 'RS256' });
    expect(await rejection(v, `${toUnknown}.${payload}.${signature}`)).toBe('unknown_key');
  });

  it('rejects garbage', async () => {
    const v = verifier();
    const valid = await sign(idClaims());
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const garbage = [
      '',
      'abc',
      'a.b',
      'a.b.c',
      '...',
      '....',
      `Bearer ${valid}`,
      `${valid}.`,
      `${header}.${payload}`,
      `${header}..${signature}`,
      `${header}.${payload}.!!!`,
      `${encodeJson('RS256')}.${payload}.${signature}`,
      `${base64url.encode('{"alg":"RS256","kid":')}.${payload}.${signature}`,
      `${header}.${base64url.encode('not json')}.${signature}`,
      `${header}.${payload}.${signature}`.replace(/\./g, '.x'),
      'x'.repeat(100_000),
      `${header}.${payload}.${signature}`.replace(header, `${header}%`),
    ];
    for (const token of garbage) {
      const reason = await rejection(v, token);
      expect(['malformed', 'bad_signature']).toContain(reason);
    }
    for (const notString of [undefined, null, 42, {}, ['a.b.c']]) {
      expect(await rejection(v, notString as unknown as string)).toBe('malformed');
    }
  });

  it('rejects a signed token whose payload is not a JSON object', async () => {
    const v = verifier();
    const { CompactSign } = await import('jose');
    const token = await new CompactSign(new TextEncoder().encode('[1,2,3]'))
      .setProtectedHeader({ alg: 'RS256', kid: 'kid-a' })
      .sign(keyA.privateKey);
    expect(await rejection(v, token)).toBe('malformed');
  });
});

describe('JWKS fetching', () => {
  it('derives the JWKS URL from the issuer and fetches it once for many verifications', async () => {
    const v = verifier();
    const tokens = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sign(i % 2 === 0 ? idClaims() : accessClaims())),
    );
    // The first ones race: concurrent first use still makes one request.
    await Promise.all(tokens.slice(0, 10).map((t) => v.verify(t)));
    for (const token of tokens.slice(10)) await v.verify(token);
    expect(jose.jwtVerifyCalls).toBe(20);
    expect(server.requests).toBe(1);
  });

  it('accepts a new kid after refetching the JWKS (key rotation), at most once per cooldown', async () => {
    const v = verifier({ jwksCooldownMs: 400 });
    expect((await v.verify(await sign(idClaims()))).sub).toBe(SUB);
    expect(server.requests).toBe(1);

    server.keys = [keyA.publicJwk, keyB.publicJwk];
    const rotated = await sign(idClaims(), keyB);
    // Still cooling down from the first fetch: no request, the kid is unknown.
    expect(await rejection(v, rotated)).toBe('unknown_key');
    expect(server.requests).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 450));
    // The same token, rejected a moment ago, passes now: failures are not cached.
    expect((await v.verify(rotated)).sub).toBe(SUB);
    expect(server.requests).toBe(2);
    expect((await v.verify(await sign(accessClaims(), keyB))).tokenUse).toBe('access');
    expect((await v.verify(await sign(accessClaims(), keyA))).tokenUse).toBe('access');
    expect(server.requests).toBe(2);
  });

  it('refetches on an unknown kid once the cooldown allows it (no cooldown configured)', async () => {
    const v = verifier({ jwksCooldownMs: 0 });
    await v.verify(await sign(idClaims()));
    server.keys = [keyA.publicJwk, keyB.publicJwk];
    expect((await v.verify(await sign(idClaims(), keyB))).sub).toBe(SUB);
    expect(server.requests).toBe(2);
  });

  it('does not let forged kids hammer the JWKS endpoint', async () => {
    const v = verifier(); // default cooldown (30 s)
    await v.verify(await sign(idClaims()));
    for (let i = 0; i < 25; i++) {
      expect(await rejection(v, await sign(idClaims(), keyB, `forged-${i}`))).toBe('unknown_key');
    }
    expect(server.requests).toBe(1);
  });

  it('rejects with keys_unavailable when the JWKS cannot be fetched', async () => {
    const token = await sign(idClaims());
    server.mode = 'error';
    expect(await rejection(verifier(), token)).toBe('keys_unavailable');
    server.mode = 'garbage';
    expect(await rejection(verifier(), token)).toBe('keys_unavailable');
    const closedPort = `http://127.0.0.1:1/${POOL_ID}/.well-known/jwks.json`;
    expect(await rejection(verifier({ jwksUri: closedPort }), token)).toBe('keys_unavailable');
    server.mode = 'ok';
    expect((await verifier().verify(token)).sub).toBe(SUB);
  });

  it('gives up on a hanging JWKS endpoint after fetchTimeoutMs', async () => {
    server.mode = 'hang';
    const started = Date.now();
    expect(await rejection(verifier({ fetchTimeoutMs: 300 }), await sign(idClaims()))).toBe(
      'keys_unavailable',
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('keeps using the last keys when a refresh fails, and retries only after the cooldown', async () => {
    const v = verifier({ jwksMaxAgeMs: 0, jwksCooldownMs: 60_000 });
    await v.verify(await sign(idClaims()));
    expect(server.requests).toBe(1);
    server.mode = 'error';
    expect((await v.verify(await sign(idClaims()))).sub).toBe(SUB);
    expect(server.requests).toBe(2);
    expect((await v.verify(await sign(accessClaims()))).sub).toBe(SUB);
    expect(server.requests).toBe(2);
    // The stale keys are no blank cheque: other keys still fail.
    expect(await rejection(v, await sign(idClaims(), keyB, 'kid-a'))).toBe('bad_signature');
    expect(await rejection(v, await sign(idClaims(), keyB))).toBe('unknown_key');
  });

  it('uses an explicit jwksUri', async () => {
    const v = verifier({
      issuer: `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}`,
      jwksUri: `http://127.0.0.1:${server.port}/${POOL_ID}/.well-known/jwks.json`,
    });
    const token = await sign(idClaims({ iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL_ID}` }));
    expect((await v.verify(token)).sub).toBe(SUB);
    expect(server.requests).toBe(1);
  });
});

describe('result cache', () => {
  it('answers a repeated token without verifying the signature again', async () => {
    const v = verifier();
    const token = await sign(idClaims());
    const first = await v.verify(token);
    expect(jose.jwtVerifyCalls).toBe(1);
    clock += 60_000;
    expect(await v.verify(token)).toBe(first);
    expect(await v.verify(token)).toBe(first);
    expect(jose.jwtVerifyCalls).toBe(1);
  });

  it('never returns a cached result once the token has expired', async () => {
    const v = verifier({ clockToleranceSeconds: 0 });
    const token = await sign(accessClaims({ exp: seconds() + 30 }));
    const exp = seconds() + 30;
    await v.verify(token);
    clock = exp * 1000 - 1;
    await v.verify(token);
    expect(jose.jwtVerifyCalls).toBe(1);
    clock = exp * 1000;
    expect(await rejection(v, token)).toBe('expired');
    clock = exp * 1000 + 500;
    expect(await rejection(v, token)).toBe('expired');
    expect(jose.jwtVerifyCalls).toBe(3);
  });

  it('does not cache a token accepted within the clock tolerance after its exp', async () => {
    const v = verifier({ clockToleranceSeconds: 5 });
    const exp = seconds() + 30;
    const token = await sign(idClaims({ exp }));
    await v.verify(token);
    clock = exp * 1000 + 2000;
    expect((await v.verify(token)).expiresAt).toBe(exp);
    expect((await v.verify(token)).expiresAt).toBe(exp);
    expect(jose.jwtVerifyCalls).toBe(3);
    clock = exp * 1000 + 6000;
    expect(await rejection(v, token)).toBe('expired');
  });

  it('never caches failures', async () => {
    const v = verifier({ clockToleranceSeconds: 0 });
    const token = await sign(idClaims({ nbf: seconds() + 120 }));
    expect(await rejection(v, token)).toBe('not_yet_valid');
    expect(await rejection(v, token)).toBe('not_yet_valid');
    expect(jose.jwtVerifyCalls).toBe(2);
    clock += 120_000;
    expect((await v.verify(token)).sub).toBe(SUB);
  });

  it('keys the cache by the whole token: a tampered copy of a cached token is verified, and rejected', async () => {
    const v = verifier();
    const token = await sign(idClaims());
    await v.verify(token);
    const [header, payload] = token.split('.');
    const forgedSignature = base64url.encode(new Uint8Array(256));
    expect(await rejection(v, `${header}.${payload}.${forgedSignature}`)).toBe('bad_signature');
  });

  it('is bounded and evicts the least recently used token', async () => {
    const v = verifier({ cacheMax: 2 });
    const [t1, t2, t3] = (await Promise.all([sign(idClaims()), sign(idClaims()), sign(accessClaims())])) as [
      string,
      string,
      string,
    ];
    await v.verify(t1);
    await v.verify(t2);
    await v.verify(t1); // hit; t1 is now the most recent
    expect(jose.jwtVerifyCalls).toBe(2);
    await v.verify(t3); // evicts t2
    expect(jose.jwtVerifyCalls).toBe(3);
    await v.verify(t1);
    expect(jose.jwtVerifyCalls).toBe(3);
    await v.verify(t2);
    expect(jose.jwtVerifyCalls).toBe(4);
  });

  it('can be turned off, and is emptied by close()', async () => {
    const token = await sign(idClaims());
    const off = verifier({ cacheMax: 0 });
    await off.verify(token);
    await off.verify(token);
    expect(jose.jwtVerifyCalls).toBe(2);

    const v = verifier();
    await v.verify(token);
    v.close();
    await v.verify(token);
    expect(jose.jwtVerifyCalls).toBe(4);
  });
});

describe('options', () => {
  it('rejects an unusable configuration with ERR_CONFIG', () => {
    const bad: Partial<TokenVerifierOptions>[] = [
      { issuer: '' },
      { issuer: 'not a url' },
      { issuer: 'ftp://example.com/pool' },
      { clientId: '' },
      { clientId: [] },
      { tokenUse: 'refresh' as 'id' },
      { clockToleranceSeconds: -1 },
      { clockToleranceSeconds: 3600 },
      { cacheMax: -1 },
      { cacheMax: 1.5 },
      { fetchTimeoutMs: Number.NaN },
      { jwksUri: 'nope' },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        verifier(options);
      } catch (e) {
        error = e;
      }
      expect(isCognitionError(error, 'ERR_CONFIG'), JSON.stringify(options)).toBe(true);
    }
  });
});
