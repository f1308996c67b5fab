import type { Challenges } from './challenges.js';
import type { Logger } from './claims.js';
import { CognitoError, notAuthorized, USER_DISABLED, userNotFound } from './errors.js';
import type { TriggerRunner } from './events.js';
import { requiredString, type Input } from './input.js';
import type { PoolKeys } from './keys.js';
import type { PoolStore, StoredGroup, StoredUser } from './store.js';
import { verifyAccessToken } from './tokens.js';

export interface TokenTtl {
  /** Seconds. */
  id: number;
  access: number;
  refresh: number;
}

export interface PoolConfig {
  poolId: string;
  clientId: string;
  region: string;
  issuer: string;
  ttl: TokenTtl;
  triggerVersion: '1' | '2';
}

/** Everything an operation works with. */
export interface Pool {
  config: PoolConfig;
  store: PoolStore;
  keys: PoolKeys;
  triggers: TriggerRunner;
  challenges: Challenges;
  log: Logger;
  /** Milliseconds. */
  now(): number;
}

/** What an operation knows of the request beyond its body. */
export interface Call {
  /** For `callerContext.awsSdkVersion`. */
  sdkVersion: string;
}

export type Output = Record<string, unknown>;
export type Operation = (pool: Pool, input: Input, call: Call) => Promise<Output>;

/** The app client id of a public operation; it must be the pool's. */
export function requireClient(pool: Pool, input: Input): string {
  const clientId = requiredString(input, 'ClientId');
  if (clientId !== pool.config.clientId) {
    throw new CognitoError('ResourceNotFoundException', `User pool client ${clientId} does not exist.`);
  }
  return clientId;
}

/** The user pool id of an admin operation; it must be the pool's. */
export function requirePool(pool: Pool, input: Input): void {
  const poolId = requiredString(input, 'UserPoolId');
  if (poolId !== pool.config.poolId) {
    throw new CognitoError('ResourceNotFoundException', `User pool ${poolId} does not exist.`);
  }
}

export function requireUser(pool: Pool, username: string, message?: string): StoredUser {
  const user = pool.store.findUser(username);
  if (!user) throw userNotFound(message);
  return user;
}

/** UsernameExistsException when the username or email already signs someone in. */
export function assertAvailable(pool: Pool, username: string, email: string): void {
  for (const name of [username, email]) {
    const holder = pool.store.findUser(name);
    if (!holder) continue;
    throw new CognitoError(
      'UsernameExistsException',
      holder.username.toLowerCase() === username.toLowerCase()
        ? 'User already exists'
        : 'An account with the given email already exists.',
    );
  }
}

/** The user's groups, in Cognito's order: by precedence (lowest first), then name. */
export function groupsOf(pool: Pool, user: StoredUser): StoredGroup[] {
  const groups = user.groups.flatMap((name) => {
    const group = pool.store.groups.get(name);
    return group ? [group] : [];
  });
  groups.sort(
    (a, b) =>
      (a.precedence ?? Number.MAX_SAFE_INTEGER) - (b.precedence ?? Number.MAX_SAFE_INTEGER) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return groups;
}

/**
 * The user an access token belongs to: the token must be valid, unexpired and not revoked
 * (GlobalSignOut, AdminDisableUser), and its user must exist and be enabled.
 */
export async function authenticate(pool: Pool, input: Input): Promise<StoredUser> {
  const token = requiredString(input, 'AccessToken');
  const payload = await verifyAccessToken(pool.keys.access, token, {
    issuer: pool.config.issuer,
    clientId: pool.config.clientId,
    now: pool.now(),
  });
  const session = pool.store.sessionByOriginJti(payload['origin_jti'] as string);
  if (!session || session.revoked || session.sub !== payload.sub) {
    throw notAuthorized('Access Token has been revoked');
  }
  const user = pool.store.userBySub(payload.sub as string);
  if (!user) throw userNotFound();
  if (!user.enabled) throw notAuthorized(USER_DISABLED);
  return user;
}

/** JSON 1.1 timestamps are epoch seconds. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
