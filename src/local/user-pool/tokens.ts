import { decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { randomBytes } from 'node:crypto';
import type { Claims } from './claims.js';
import { notAuthorized } from './errors.js';
import type { SigningKey } from './keys.js';

/** Signs the claims as they are (iat and exp included) with RS256, `kid` in the header. */
export function signToken(key: SigningKey, claims: Claims): Promise<string> {
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ kid: key.kid, alg: 'RS256' })
    .sign(key.privateKey);
}

/** An opaque refresh token: random, never a JWT; only its hash is stored. */
export function newRefreshToken(): string {
  return randomBytes(96).toString('base64url');
}

export interface AccessTokenCheck {
  issuer: string;
  clientId: string;
  /** Milliseconds. */
  now: number;
}

/**
 * The claims of a well-formed, correctly signed, unexpired access token of this pool and app
 * client; NotAuthorizedException otherwise. Revocation is the caller's to check.
 */
export async function verifyAccessToken(
  key: SigningKey,
  token: string,
  check: AccessTokenCheck,
): Promise<JWTPayload> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    throw notAuthorized('Invalid Access Token');
  }
  // An ID token is signed with the other key: it never passes for an access token.
  if (kid !== key.kid) throw notAuthorized('Invalid Access Token');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key.publicKey, {
      algorithms: ['RS256'],
      issuer: check.issuer,
      currentDate: new Date(check.now),
      clockTolerance: 0,
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw notAuthorized('Access Token has expired');
    throw notAuthorized('Invalid Access Token');
  }
  if (payload['token_use'] !== 'access' || payload['client_id'] !== check.clientId) {
    throw notAuthorized('Invalid Access Token');
  }
  if (typeof payload.sub !== 'string' || typeof payload['origin_jti'] !== 'string') {
    throw notAuthorized('Invalid Access Token');
  }
  return payload;
}
