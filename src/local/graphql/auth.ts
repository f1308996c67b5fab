import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { CognitionError, isCognitionError } from '../../errors.js';
import type { VerifiedToken } from '../../identity/token-verifier.js';
import type { AuthSubject, LocalAuthMode } from './directives.js';

/**
 * Who is calling, from the request headers, as AppSync decides it before running anything:
 * `Authorization: <JWT>` (optionally `Bearer <JWT>`) of the user pool, verified by the verifier,
 * or `x-api-key`. Anything else is refused with 401 and AppSync's UnauthorizedException body.
 */

export interface TokenVerifierLike {
  verify(token: string): Promise<VerifiedToken>;
}

export interface CognitoCaller extends AuthSubject {
  readonly mode: 'AMAZON_COGNITO_USER_POOLS';
  readonly token: VerifiedToken;
  /** The issuer reported in `identity.issuer`. */
  readonly issuer: string;
}

export interface ApiKeyCaller extends AuthSubject {
  readonly mode: 'API_KEY';
}

export type Caller = CognitoCaller | ApiKeyCaller;

export type Authentication = { ok: true; caller: Caller } | { ok: false; message: string };

export const MISSING_CREDENTIALS = 'Valid authorization header not provided.';
export const UNPARSABLE_TOKEN = 'Unable to parse JWT token.';
export const EXPIRED_TOKEN = 'Token has expired.';
export const INVALID_API_KEY = 'You are not authorized to make this call.';

export interface AuthenticatorOptions {
  verifier?: TokenVerifierLike | undefined;
  /** When given, tokens must carry exactly this `iss` (on top of the verifier's own check). */
  issuer?: string | undefined;
  apiKeys?: readonly string[] | undefined;
  /** How many accepted `Authorization` values to remember until their token's `exp` (default 1000; 0: none). */
  cacheSize?: number | undefined;
  /** The clock for those entries, in epoch milliseconds (default `Date.now`); for tests. */
  now?: (() => number) | undefined;
}

export const DEFAULT_CREDENTIAL_CACHE_SIZE = 1000;

export interface Authenticator {
  readonly modes: ReadonlySet<LocalAuthMode>;
  authenticate(headers: IncomingHttpHeaders): Promise<Authentication>;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Accepted user-pool credentials by their exact `Authorization` value, each until its token's
 * `exp` (the bound the verifier's own cache keeps), oldest first out. The verifier's cache is
 * keyed by a SHA-256 of the token; this one answers a repeated header before any hashing, and
 * hands back the same frozen caller, so the request path builds nothing for it. Refusals are
 * never kept: a token that failed is verified afresh each time.
 */
class AcceptedCredentials {
  private readonly entries = new Map<string, { authentication: Authentication; expiresAtMs: number }>();

  constructor(private readonly max: number) {}

  get(authorization: string, nowMs: number): Authentication | undefined {
    const entry = this.entries.get(authorization);
    if (entry === undefined) return undefined;
    if (nowMs < entry.expiresAtMs) return entry.authentication;
    this.entries.delete(authorization);
    return undefined;
  }

  set(authorization: string, authentication: Authentication, expiresAtMs: number, nowMs: number): void {
    if (this.max === 0 || !(nowMs < expiresAtMs)) return;
    this.entries.delete(authorization);
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(authorization, { authentication, expiresAtMs });
  }
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { verifier, issuer } = options;
  const apiKeys = (options.apiKeys ?? []).map((key) => {
    if (typeof key !== 'string' || key === '') {
      throw new CognitionError('ERR_CONFIG', 'GraphQL endpoint: apiKeys must be non-empty strings', {
        safe: false,
      });
    }
    return digest(key);
  });
  const cacheSize = options.cacheSize ?? DEFAULT_CREDENTIAL_CACHE_SIZE;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
    throw new CognitionError(
      'ERR_CONFIG',
      'GraphQL endpoint: the credential cache size must be a whole number',
      {
        safe: false,
      },
    );
  }
  const now = options.now ?? Date.now;
  const accepted = new AcceptedCredentials(cacheSize);
  const modes = new Set<LocalAuthMode>();
  if (verifier) modes.add('AMAZON_COGNITO_USER_POOLS');
  if (apiKeys.length > 0) modes.add('API_KEY');

  async function fromToken(authorization: string): Promise<Authentication> {
    const token = authorization.replace(/^Bearer\s+/i, '');
    let verified: VerifiedToken;
    try {
      verified = await (verifier as TokenVerifierLike).verify(token);
    } catch (error) {
      if (!isCognitionError(error, 'ERR_INVALID_TOKEN')) throw error;
      return {
        ok: false,
        message: error.details?.['reason'] === 'expired' ? EXPIRED_TOKEN : UNPARSABLE_TOKEN,
      };
    }
    const tokenIssuer = typeof verified.claims['iss'] === 'string' ? verified.claims['iss'] : undefined;
    if (issuer !== undefined && tokenIssuer !== issuer) return { ok: false, message: UNPARSABLE_TOKEN };
    const authentication: Authentication = Object.freeze({
      ok: true,
      caller: Object.freeze({
        mode: 'AMAZON_COGNITO_USER_POOLS',
        token: verified,
        groups: verified.groups,
        issuer: issuer ?? tokenIssuer ?? '',
      }),
    });
    accepted.set(authorization, authentication, verified.expiresAt * 1000, now());
    return authentication;
  }

  function fromApiKey(key: string): Authentication {
    const given = digest(key);
    // Compare with every key, in constant time per key.
    let match = false;
    for (const known of apiKeys) match = timingSafeEqual(given, known) || match;
    return match
      ? { ok: true, caller: { mode: 'API_KEY', groups: [] } }
      : { ok: false, message: INVALID_API_KEY };
  }

  return {
    modes,
    async authenticate(headers) {
      const authorization = header(headers, 'authorization');
      const apiKey = header(headers, 'x-api-key');
      if (authorization !== undefined && verifier) {
        return accepted.get(authorization, now()) ?? fromToken(authorization);
      }
      if (apiKey !== undefined && apiKeys.length > 0) return fromApiKey(apiKey);
      return { ok: false, message: MISSING_CREDENTIALS };
    },
  };
}
