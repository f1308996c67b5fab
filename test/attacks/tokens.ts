import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { AGENTS_QUERY, KERIM, M, REAL_NAMES } from './agents-data.js';
import { many, type Attack, type Target } from './harness.js';

/**
 * Forged and doctored tokens. Each attack asks, with its token, for what only the MI6 lead may
 * see (every agent with their real name) or may do; a token the endpoint accepted as the lead's
 * would return real names. Expected: HTTP 401 before anything runs, or, for a well-signed token
 * of nobody, Unauthorized from the data source.
 *
 * Some variants are signed with the local pool's real private key (read from its keys.json in the
 * stack's home). An attacker does not have that key; but an expired, wrong-issuer or
 * wrong-audience token is only a meaningful attack if its signature is valid, since a bad
 * signature alone already gets it refused: so these prove that the other checks hold on their own.
 */

const encoder = new TextEncoder();
const now = () => Math.floor(Date.now() / 1000);

/** A token with exactly this header and payload, signed with the given private JWK (RS256). */
async function sign(header: Record<string, unknown>, payload: JWTPayload, jwk: JWK): Promise<string> {
  const key = await importJWK(jwk, 'RS256');
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', ...header }).sign(key);
}

/** The claims and header of a real token of the user. */
async function real(t: Target, email: string, use: 'id' | 'access' = 'id') {
  const token = (await t.tokens(email))[use];
  return { token, header: decodeProtectedHeader(token), claims: decodeJwt(token) };
}

/** Re-signs the user's real ID token claims, changed by `change`, with the pool's own key. */
export async function reSigned(
  t: Target,
  email: string,
  change: (claims: JWTPayload) => JWTPayload,
): Promise<string> {
  const { header, claims } = await real(t, email);
  const keys = await t.signingKeys();
  return sign({ kid: header.kid }, change({ ...claims }), keys.id);
}

const leadQuery = (t: Target, authorization: string) => t.graphql(AGENTS_QUERY, { authorization });

/**
 * The control of every validly signed variant: the lead's claims re-signed unchanged must get
 * the real names, so that the variant's refusal comes from the one claim it changed and not from
 * the re-signing. Throws (the attack proves nothing) otherwise.
 */
async function control(t: Target): Promise<void> {
  const answer = await leadQuery(t, await reSigned(t, M, (c) => c));
  if (!JSON.stringify(answer.body).includes(REAL_NAMES[0] as string)) {
    throw new Error(
      `the unchanged re-signed token was refused: ${JSON.stringify(answer.body).slice(0, 300)}`,
    );
  }
}

/** A validly signed variant: the control first, then the lead's claims changed by `change`. */
const signedVariant = (name: string, ...changes: Array<(claims: JWTPayload) => JWTPayload>): Attack =>
  attack(name, async (t) => {
    await control(t);
    return many(...changes.map((change) => async () => leadQuery(t, await reSigned(t, M, change))));
  });

const attack = (name: string, run: Attack['run']): Attack => ({
  name,
  category: 'tokens',
  target: 'agents',
  secrets: () => REAL_NAMES,
  run,
});

export const tokenAttacks: Attack[] = [
  attack(
    "forged signature: the lead's claims signed by the attacker's RSA key under the pool's kid",
    async (t) => {
      const { header, claims } = await real(t, M);
      const { privateKey } = await generateKeyPair('RS256', { extractable: true });
      return leadQuery(t, await sign({ kid: header.kid }, claims, await exportJWK(privateKey)));
    },
  ),

  attack("alg none: the lead's claims, unsigned", async (t) => {
    const { header, claims } = await real(t, M);
    const part = (value: unknown) => base64url.encode(encoder.encode(JSON.stringify(value)));
    return many(
      () => leadQuery(t, `${part({ alg: 'none', kid: header.kid, typ: 'JWT' })}.${part(claims)}.`),
      () => leadQuery(t, `${part({ alg: 'None', kid: header.kid })}.${part(claims)}.`),
      () => leadQuery(t, `${part({ alg: 'none' })}.${part(claims)}`),
    );
  }),

  attack("key confusion: the lead's claims as HS256, keyed with the pool's public key", async (t) => {
    const { header, claims } = await real(t, M);
    // The public key is public: the attacker fetches it from the JWKS like any verifier.
    const jwks = (await (await fetch(t.stack.userPool.jwksUri)).json()) as { keys: JWK[] };
    const publicJwk = jwks.keys.find((k) => k.kid === header.kid) as JWK;
    const pem = await exportSPKI((await importJWK(publicJwk, 'RS256')) as CryptoKey);
    const hs256 = (secret: string) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: header.kid }).sign(encoder.encode(secret));
    return many(
      async () => leadQuery(t, await hs256(pem)),
      async () => leadQuery(t, await hs256(JSON.stringify(publicJwk))),
      async () => leadQuery(t, await hs256(publicJwk.n as string)),
    );
  }),

  attack(
    "tampered payload: an office administrator's real token, claims changed to the lead's, signature kept",
    async (t) => {
      const own = await real(t, KERIM);
      const lead = await real(t, M);
      const [header, , signature] = own.token.split('.');
      const claims = {
        ...own.claims,
        sub: lead.claims.sub,
        email: M,
        'cognito:username': lead.claims['cognito:username'],
      };
      const payload = base64url.encode(encoder.encode(JSON.stringify(claims)));
      return leadQuery(t, `${header}.${payload}.${signature}`);
    },
  ),

  attack("attacker's key carried in the token itself (jwk and jku headers)", async (t) => {
    const { claims } = await real(t, M);
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const token = await sign(
      // jku points at the pool's own JWKS, as if to borrow its trust for an unknown kid.
      { kid, jwk: { ...jwk, kid, alg: 'RS256' }, jku: t.stack.userPool.jwksUri },
      claims,
      await exportJWK(privateKey),
    );
    return leadQuery(t, token);
  }),

  signedVariant("expired: the lead's claims with exp an hour ago (validly signed)", (c) => ({
    ...c,
    iat: now() - 7200,
    auth_time: now() - 7200,
    exp: now() - 3600,
  })),

  signedVariant('not yet issued: iat an hour ahead (validly signed)', (c) => ({
    ...c,
    iat: now() + 3600,
    exp: now() + 7200,
  })),

  signedVariant(
    'wrong issuer: another user pool, or the pool with a trailing slash, in iss (validly signed)',
    (c) => ({ ...c, iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Attacker1' }),
    (c) => ({ ...c, iss: `${c.iss as string}/` }),
  ),

  signedVariant(
    'wrong audience: an ID token for another app client (validly signed)',
    (c) => ({ ...c, aud: 'another-app-client' }),
    (c) => ({ ...c, aud: [c.aud as string, 'x'] }),
  ),

  attack('wrong audience: an access token for another app client (validly signed)', async (t) => {
    const { header, claims } = await real(t, M, 'access');
    const keys = await t.signingKeys();
    const resign = (change: JWTPayload) => sign({ kid: header.kid }, { ...claims, ...change }, keys.access);
    // The control: the same access token re-signed unchanged is accepted.
    const accepted = await leadQuery(t, await resign({}));
    if (!JSON.stringify(accepted.body).includes(REAL_NAMES[0] as string)) throw new Error('control refused');
    return leadQuery(t, await resign({ client_id: 'another-app-client' }));
  }),

  signedVariant(
    "token_use: an ID token relabelled 'access', or with no or another token_use (validly signed)",
    (c) => ({ ...c, token_use: 'access' }),
    ({ token_use: _, ...c }) => c,
    (c) => ({ ...c, token_use: 'refresh' }),
  ),

  // The token passes the endpoint; the data source finds no user for it: Unauthorized, no data.
  signedVariant('a valid token of nobody: a subject with no database user (validly signed)', (c) => ({
    ...c,
    sub: '6a1b3c4d-0000-4000-8000-00000000dead',
    'cognito:username': '6a1b3c4d-0000-4000-8000-00000000dead',
    email: 'nobody@mi6.test',
  })),

  attack('the refresh token presented as a bearer token', async (t) =>
    leadQuery(t, `Bearer ${(await t.tokens(M)).refresh}`),
  ),
];
