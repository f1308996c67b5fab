import { createHash } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type CryptoKey,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
} from 'jose';
import { CognitionError, type ErrorCode } from '../errors.js';

/**
 * Verifies Cognito user-pool ID and access tokens (RS256, keys from the pool's JWKS), following
 * the checklist in the Cognito developer guide: signature by `kid`, `exp`, `iss`, `token_use`, and
 * `aud` (ID token) or `client_id` (access token).
 */
export interface TokenVerifierOptions {
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>` or the local pool's `http://127.0.0.1:<port>/<poolId>`; compared exactly. */
  issuer: string;
  /** Default `${issuer}/.well-known/jwks.json`. */
  jwksUri?: string;
  /** ID token: `aud` must be one of these; access token: `client_id` must be one of these. */
  clientId: string | string[];
  /** Default `'any'`: accept either kind, checking the audience claim that matches its kind. */
  tokenUse?: 'id' | 'access' | 'any';
  /** Leeway for `exp`, `nbf` and `iat`, in seconds (default 5, at most 300). */
  clockToleranceSeconds?: number;
  /** How many verified tokens to remember (default 10 000; 0 turns the cache off). */
  cacheMax?: number;
  /** Timeout of one JWKS request (default 5 000 ms). */
  fetchTimeoutMs?: number;
  /** After a JWKS fetch, an unknown `kid` does not trigger another fetch for this long (default 30 000 ms). */
  jwksCooldownMs?: number;
  /** The JWKS is refetched when it is older than this (default 1 hour); if that fetch fails, the last keys stay in use. */
  jwksMaxAgeMs?: number;
  /** The clock for token times, in epoch milliseconds (default `Date.now`); for tests. */
  now?: () => number;
}

export interface VerifiedToken {
  tokenUse: 'id' | 'access';
  sub: string;
  /** `cognito:username` of an ID token, `username` of an access token. */
  username: string;
  /** `cognito:groups`, or `[]` when the token has none. */
  groups: string[];
  /** Every claim of the token (frozen). */
  claims: Record<string, unknown>;
  /** The token's `exp`, in epoch **seconds**. */
  expiresAt: number;
}

export interface TokenVerifier {
  /** Resolves with the verified token (a frozen object) or rejects with a CognitionError `ERR_INVALID_TOKEN`. */
  verify(token: string): Promise<VerifiedToken>;
  /** Forgets every cached result. */
  close(): void;
}

/** Why a token was rejected: `details.reason` of the `ERR_INVALID_TOKEN` error. */
export type TokenRejectionReason =
  | 'malformed'
  | 'algorithm'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issued_in_future'
  | 'wrong_issuer'
  | 'wrong_token_use'
  | 'wrong_audience'
  | 'keys_unavailable';

export const ERR_INVALID_TOKEN: ErrorCode = 'ERR_INVALID_TOKEN';

/** Longer strings are rejected before any parsing or hashing. Cognito tokens are a few KiB. */
const MAX_TOKEN_LENGTH = 64 * 1024;

function invalidToken(reason: TokenRejectionReason, message: string, cause?: unknown): CognitionError {
  // Messages are fixed texts: never the token, never a claim value taken from it.
  return new CognitionError(ERR_INVALID_TOKEN, `Invalid token: ${message}`, {
    safe: true,
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

function configError(message: string): CognitionError {
  return new CognitionError('ERR_CONFIG', `Token verifier: ${message}`, { safe: false });
}

/** Raised inside the key lookup when the signing keys cannot be fetched or used. */
class KeysUnavailable extends Error {}

function httpUrl(value: unknown, option: string): URL {
  if (typeof value !== 'string' || value === '') throw configError(`${option} is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`${option} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(`${option} must be http(s)`);
  return url;
}

function nonNegative(value: unknown, fallback: number, option: string, max = Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || value > max) {
    throw configError(`${option} must be a number from 0 to ${max}`);
  }
  return value;
}

function nonNegativeInteger(value: unknown, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw configError(`${option} must be a non-negative integer`);
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** Verified results by SHA-256 of the token; least recently used first; an entry lives until the token's exp. */
class ResultCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(private readonly max: number) {}

  get(key: string, nowMs: number): VerifiedToken | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (nowMs >= entry.expiresAt * 1000) return undefined;
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, value: VerifiedToken, nowMs: number): void {
    if (this.max === 0 || nowMs >= value.expiresAt * 1000) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

type KeyLookup = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/**
 * Signing keys from the JWKS, through jose's remote key set: fetched on first use, looked up by
 * `kid`, refetched when a `kid` is unknown (at most once per cooldown, so forged `kid`s cannot
 * make us hammer the endpoint) and when older than the max age. If a refetch fails while keys
 * are known, the known keys stay in use and the next attempt waits for the cooldown.
 */
function remoteKeys(url: URL, timeoutMs: number, cooldownMs: number, maxAgeMs: number): KeyLookup {
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: timeoutMs,
    cooldownDuration: cooldownMs,
    cacheMaxAge: maxAgeMs,
  });
  let stale: { lookup: KeyLookup; retryAt: number } | undefined;

  const isLookupMiss = (error: unknown): boolean =>
    error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys;

  const fromStale = async (
    lookup: KeyLookup,
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<CryptoKey> => {
    try {
      return await lookup(header, token);
    } catch (error) {
      if (isLookupMiss(error)) throw error;
      throw new KeysUnavailable('signing key unusable', { cause: error });
    }
  };

  return async (header, token) => {
    if (stale !== undefined && Date.now() < stale.retryAt) return fromStale(stale.lookup, header, token);
    try {
      const key = await remote(header, token);
      stale = undefined;
      return key;
    } catch (error) {
      if (isLookupMiss(error)) throw error;
      const known = remote.jwks();
      if (known === undefined) throw new KeysUnavailable('JWKS unavailable', { cause: error });
      stale = { lookup: createLocalJWKSet(known), retryAt: Date.now() + cooldownMs };
      return fromStale(stale.lookup, header, token);
    }
  };
}

function mapVerifyError(error: unknown): CognitionError {
  if (error instanceof CognitionError) return error;
  if (error instanceof KeysUnavailable) {
    return invalidToken('keys_unavailable', 'the signing keys are unavailable', error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalidToken('algorithm', 'algorithm not allowed');
  if (error instanceof errors.JWKSNoMatchingKey) return invalidToken('unknown_key', 'unknown signing key');
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalidToken('unknown_key', 'ambiguous signing key');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return invalidToken('bad_signature', 'bad signature');
  if (error instanceof errors.JWTExpired) return invalidToken('expired', 'expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return invalidToken('wrong_issuer', 'wrong issuer');
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return invalidToken('not_yet_valid', 'not yet valid');
    }
    return invalidToken(
      'malformed',
      `malformed (${error.reason === 'missing' ? 'missing' : 'invalid'} claim)`,
    );
  }
  // JWSInvalid, JWTInvalid, JOSENotSupported, base64/JSON errors, key type mismatches, ...
  return invalidToken('malformed', 'malformed');
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  httpUrl(options.issuer, 'issuer');
  const issuer = options.issuer;
  const jwksUrl = httpUrl(
    options.jwksUri ?? `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
    'jwksUri',
  );
  const clientIds = new Set(Array.isArray(options.clientId) ? options.clientId : [options.clientId]);
  if (clientIds.size === 0 || [...clientIds].some((id) => typeof id !== 'string' || id === '')) {
    throw configError('clientId must be a non-empty string or a non-empty list of them');
  }
  const expectedUse = options.tokenUse ?? 'any';
  if (expectedUse !== 'id' && expectedUse !== 'access' && expectedUse !== 'any') {
    throw configError("tokenUse must be 'id', 'access' or 'any'");
  }
  const tolerance = nonNegative(options.clockToleranceSeconds, 5, 'clockToleranceSeconds', 300);
  const cache = new ResultCache(nonNegativeInteger(options.cacheMax, 10_000, 'cacheMax'));
  const timeoutMs = nonNegativeInteger(options.fetchTimeoutMs, 5_000, 'fetchTimeoutMs');
  const cooldownMs = nonNegative(options.jwksCooldownMs, 30_000, 'jwksCooldownMs');
  const maxAgeMs = nonNegative(options.jwksMaxAgeMs, 3_600_000, 'jwksMaxAgeMs');
  if (options.now !== undefined && typeof options.now !== 'function')
    throw configError('now must be a function');
  const now = options.now ?? Date.now;
  const keys = remoteKeys(jwksUrl, timeoutMs, cooldownMs, maxAgeMs);

  async function verifySignedToken(token: string, nowMs: number): Promise<VerifiedToken> {
    if (token.split('.').length !== 3) throw invalidToken('malformed', 'malformed');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalidToken('malformed', 'malformed');
    }
    // jose enforces the same allow-list below; this makes it explicit and independent of the key set.
    if (header.alg !== 'RS256') throw invalidToken('algorithm', 'algorithm not allowed');
    if (typeof header.kid !== 'string' || header.kid === '')
      throw invalidToken('malformed', 'malformed (no key id)');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ['RS256'],
        issuer,
        clockTolerance: tolerance,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp', 'iat', 'sub', 'token_use'],
      }));
    } catch (error) {
      throw mapVerifyError(error);
    }

    // Signature, iss, exp and nbf hold; the rest is checked here.
    const exp = payload.exp as number;
    const iat = payload.iat as number;
    if (!Number.isFinite(exp) || !Number.isFinite(iat) || iat > exp) {
      throw invalidToken('malformed', 'malformed (invalid claim)');
    }
    if (iat > Math.floor(nowMs / 1000) + tolerance)
      throw invalidToken('issued_in_future', 'issued in the future');

    const tokenUse = payload.token_use;
    if (tokenUse !== 'id' && tokenUse !== 'access') throw invalidToken('wrong_token_use', 'wrong token use');
    if (expectedUse !== 'any' && tokenUse !== expectedUse)
      throw invalidToken('wrong_token_use', 'wrong token use');

    if (tokenUse === 'id') {
      // Cognito ID tokens carry the app client ID as a single string.
      if (typeof payload.aud !== 'string' || !clientIds.has(payload.aud)) {
        throw invalidToken('wrong_audience', 'wrong audience (aud)');
      }
    } else if (typeof payload.client_id !== 'string' || !clientIds.has(payload.client_id)) {
      // An access token's aud, if any, names a resource server, not the app client.
      throw invalidToken('wrong_audience', 'wrong audience (client_id)');
    }

    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '') throw invalidToken('malformed', 'malformed (invalid claim)');
    const username = tokenUse === 'id' ? payload['cognito:username'] : payload.username;
    if (typeof username !== 'string' || username === '') {
      throw invalidToken('malformed', 'malformed (missing username)');
    }
    const rawGroups = payload['cognito:groups'];
    if (
      rawGroups !== undefined &&
      (!Array.isArray(rawGroups) || rawGroups.some((group) => typeof group !== 'string'))
    ) {
      throw invalidToken('malformed', 'malformed (invalid groups)');
    }
    const groups = rawGroups === undefined ? [] : [...(rawGroups as string[])];

    return deepFreeze({
      tokenUse,
      sub,
      username,
      groups,
      claims: payload as Record<string, unknown>,
      expiresAt: exp,
    });
  }

  return {
    async verify(token: string): Promise<VerifiedToken> {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw invalidToken('malformed', 'malformed');
      }
      const key = createHash('sha256').update(token).digest('base64url');
      const cached = cache.get(key, now());
      if (cached !== undefined) return cached;
      const result = await verifySignedToken(token, now());
      // Only successes are cached, and only while the token is still valid by the clock now.
      cache.set(key, result, now());
      return result;
    },
    close(): void {
      cache.clear();
    },
  };
}
