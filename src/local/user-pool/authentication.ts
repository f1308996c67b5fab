import { randomUUID } from 'node:crypto';
import { eventAttributes } from './attributes.js';
import { ADMIN_SCOPE, applyPreTokenResponse, baseClaims } from './claims.js';
import { notAuthorized, USER_DISABLED } from './errors.js';
import { groupsOf, type Call, type Output, type Pool } from './pool.js';
import { hashToken, type RefreshSession, type StoredUser } from './store.js';
import { newRefreshToken, signToken } from './tokens.js';

export interface IssueTokens {
  /** The user as the tokens describe them (for a password change: as they will be). */
  user: StoredUser;
  source:
    | 'TokenGeneration_Authentication'
    | 'TokenGeneration_RefreshTokens'
    | 'TokenGeneration_NewPasswordChallenge';
  clientId: string;
  call: Call;
  /** Only RespondToAuthChallenge passes ClientMetadata on to pre token generation. */
  clientMetadata?: Record<string, string> | undefined;
  /** For a refresh: the session of the refresh token. No new refresh token is issued then. */
  session?: RefreshSession;
  /** Changes to store with the tokens, once pre token generation has accepted them. */
  commit?: () => void;
}

/**
 * Runs pre token generation and signs the ID and access tokens; for a sign-in, also issues and
 * stores a refresh token. When the trigger rejects, nothing is issued or stored.
 */
export async function issueTokens(pool: Pool, options: IssueTokens): Promise<Output> {
  const { user, session } = options;
  const { config } = pool;
  const nowMs = pool.now();
  const now = Math.floor(nowMs / 1000);
  const groups = groupsOf(pool, user);
  const roles = groups.flatMap((group) => (group.roleArn ? [group.roleArn] : []));
  const preferredRole = groups.find((group) => group.roleArn)?.roleArn ?? null;
  const originJti = session?.originJti ?? randomUUID();
  const authTime = session?.authTime ?? now;
  const base = baseClaims({
    user,
    groups: groups.map((group) => group.name),
    roles,
    preferredRole,
    issuer: config.issuer,
    clientId: config.clientId,
    originJti,
    eventId: randomUUID(),
    authTime,
    now,
    ttl: config.ttl,
  });
  const response = await pool.triggers.run({
    trigger: 'PreTokenGeneration',
    source: options.source,
    version: config.triggerVersion,
    userName: user.username,
    clientId: options.clientId,
    sdkVersion: options.call.sdkVersion,
    request: {
      userAttributes: eventAttributes(user),
      groupConfiguration: {
        groupsToOverride: groups.map((group) => group.name),
        iamRolesToOverride: roles,
        preferredRole,
      },
      ...(config.triggerVersion === '2' && { scopes: [ADMIN_SCOPE] }),
      ...(options.clientMetadata && { clientMetadata: options.clientMetadata }),
    },
    response: {},
  });
  const claims = applyPreTokenResponse(config.triggerVersion, response, base, {
    clientId: config.clientId,
    log: pool.log,
  });
  const [idToken, accessToken] = await Promise.all([
    signToken(pool.keys.id, claims.id),
    signToken(pool.keys.access, claims.access),
  ]);

  // The trigger ran asynchronously: what it was asked about may have changed meanwhile.
  const current = pool.store.userBySub(user.sub);
  if (!current) throw notAuthorized('User does not exist.');
  if (!current.enabled) throw notAuthorized(USER_DISABLED);
  if (session && pool.store.sessionByOriginJti(session.originJti)?.revoked !== false) {
    throw notAuthorized('Refresh Token has been revoked');
  }
  // May still refuse; it runs before anything is stored.
  options.commit?.();
  let refreshToken: string | undefined;
  if (!session) {
    refreshToken = newRefreshToken();
    pool.store.addSession({
      originJti,
      tokenHash: hashToken(refreshToken),
      sub: user.sub,
      clientId: options.clientId,
      authTime,
      createdAt: nowMs,
      expiresAt: nowMs + config.ttl.refresh * 1000,
      revoked: false,
    });
  }
  if (refreshToken !== undefined || options.commit) await pool.store.save();
  return {
    ChallengeParameters: {},
    AuthenticationResult: {
      AccessToken: accessToken,
      ExpiresIn: config.ttl.access,
      TokenType: 'Bearer',
      ...(refreshToken !== undefined && { RefreshToken: refreshToken }),
      IdToken: idToken,
    },
  };
}
