import { randomUUID } from 'node:crypto';
import { CognitoError } from './errors.js';
import type { StoredUser } from './store.js';

export type Claims = Record<string, unknown>;

export interface TokenClaims {
  id: Claims;
  access: Claims;
}

export const ADMIN_SCOPE = 'aws.cognito.signin.user.admin';

export interface ClaimContext {
  user: StoredUser;
  groups: string[];
  /** IAM role ARNs of the user's groups, and the one of the group with the lowest precedence. */
  roles: string[];
  preferredRole: string | null;
  issuer: string;
  clientId: string;
  originJti: string;
  eventId: string;
  /** Seconds. */
  authTime: number;
  /** Seconds. */
  now: number;
  ttl: { id: number; access: number };
}

/** The claims Cognito puts in ID and access tokens before pre token generation changes them. */
export function baseClaims(context: ClaimContext): TokenClaims {
  const { user, groups } = context;
  const attributes: Claims = {};
  for (const [name, value] of Object.entries(user.attributes)) {
    // The ID token carries the verified flags as JSON booleans, every other attribute as a string.
    attributes[name] = name.endsWith('_verified') ? value === 'true' : value;
  }
  const groupClaim = groups.length > 0 ? { 'cognito:groups': [...groups] } : {};
  const id: Claims = {
    sub: user.sub,
    ...groupClaim,
    ...(context.roles.length > 0 && { 'cognito:roles': [...context.roles] }),
    ...(context.preferredRole !== null && { 'cognito:preferred_role': context.preferredRole }),
    ...attributes,
    iss: context.issuer,
    'cognito:username': user.username,
    origin_jti: context.originJti,
    aud: context.clientId,
    event_id: context.eventId,
    token_use: 'id',
    auth_time: context.authTime,
    exp: context.now + context.ttl.id,
    iat: context.now,
    jti: randomUUID(),
  };
  const access: Claims = {
    sub: user.sub,
    ...groupClaim,
    iss: context.issuer,
    client_id: context.clientId,
    origin_jti: context.originJti,
    event_id: context.eventId,
    token_use: 'access',
    scope: ADMIN_SCOPE,
    auth_time: context.authTime,
    exp: context.now + context.ttl.access,
    iat: context.now,
    jti: randomUUID(),
    username: user.username,
    version: 2,
  };
  return { id, access };
}

/** Claims that pre token generation may not add, change or suppress. */
const PROTECTED = new Set([
  'cognito:username',
  'username',
  'sub',
  'identities',
  'aud',
  'client_id',
  'event_id',
  'device_key',
  'version',
  'acr',
  'amr',
  'at_hash',
  'auth_time',
  'azp',
  'exp',
  'iat',
  'iss',
  'jti',
  'nbf',
  'nonce',
  'origin_jti',
  'token_use',
  'scope',
]);
const CHANGEABLE_COGNITO = new Set(['cognito:groups', 'cognito:roles', 'cognito:preferred_role']);
/** ID token claims that may only hold simple values. */
const SIMPLE_ONLY = new Set(['phone_number_verified', 'email_verified', 'updated_at', 'address']);

function isProtected(name: string): boolean {
  return PROTECTED.has(name) || (name.startsWith('cognito:') && !CHANGEABLE_COGNITO.has(name));
}

export type Logger = (line: string) => void;

/**
 * Applies a pre token generation response: V1 `claimsOverrideDetails` (ID token claims, groups
 * in both tokens), V2 `claimsAndScopeOverrideDetails` (both tokens, scopes, groups). Claims that
 * Cognito does not let a trigger change are left alone (and logged). A suppressed claim stays
 * suppressed even if it is also overridden.
 */
export function applyPreTokenResponse(
  version: '1' | '2',
  response: Record<string, unknown>,
  claims: TokenClaims,
  context: { clientId: string; log: Logger },
): TokenClaims {
  const id = { ...claims.id };
  const access = { ...claims.access };
  if (version === '1') {
    const details = objectField(response, 'claimsOverrideDetails');
    if (!details) return { id, access };
    override(id, objectField(details, 'claimsToAddOrOverride'), 'id', '1', context);
    suppress(id, stringList(details, 'claimsToSuppress'), context.log);
    applyGroups(details, id, access);
    return { id, access };
  }
  const details = objectField(response, 'claimsAndScopeOverrideDetails');
  if (!details) return { id, access };
  const idGeneration = objectField(details, 'idTokenGeneration');
  const accessGeneration = objectField(details, 'accessTokenGeneration');
  if (idGeneration) {
    override(id, objectField(idGeneration, 'claimsToAddOrOverride'), 'id', '2', context);
    suppress(id, stringList(idGeneration, 'claimsToSuppress'), context.log);
  }
  if (accessGeneration) {
    override(access, objectField(accessGeneration, 'claimsToAddOrOverride'), 'access', '2', context);
    suppress(access, stringList(accessGeneration, 'claimsToSuppress'), context.log);
    applyScopes(access, accessGeneration);
  }
  applyGroups(details, id, access);
  return { id, access };
}

function override(
  claims: Claims,
  additions: Record<string, unknown> | undefined,
  token: 'id' | 'access',
  version: '1' | '2',
  context: { clientId: string; log: Logger },
): void {
  if (!additions) return;
  for (const [name, value] of Object.entries(additions)) {
    if (token === 'access' && name === 'aud') {
      // The one exception: an access token may get an `aud` equal to the app client id.
      if (value !== context.clientId)
        throw invalidResponse(`aud in an access token must be the app client id.`);
      claims[name] = value;
      continue;
    }
    if (isProtected(name)) {
      context.log(`PreTokenGeneration: the claim ${name} cannot be changed; ignored.`);
      continue;
    }
    if (version === '1' && typeof value !== 'string') {
      throw invalidResponse(`claimsToAddOrOverride.${name} must be a string in a version 1 response.`);
    }
    if (!isClaimValue(value)) throw invalidResponse(`claimsToAddOrOverride.${name} has an invalid value.`);
    if (token === 'id' && SIMPLE_ONLY.has(name) && typeof value === 'object') {
      throw invalidResponse(`${name} cannot hold a complex value in an ID token.`);
    }
    claims[name] = value;
  }
}

function suppress(claims: Claims, names: string[] | undefined, log: Logger): void {
  for (const name of names ?? []) {
    if (isProtected(name)) {
      log(`PreTokenGeneration: the claim ${name} cannot be suppressed; ignored.`);
      continue;
    }
    delete claims[name];
  }
}

/**
 * `groupOverrideDetails` replaces the groups in both tokens; present but empty or null, it
 * removes them (Cognito's behaviour). Roles go to the ID token only.
 */
function applyGroups(details: Record<string, unknown>, id: Claims, access: Claims): void {
  if (!('groupOverrideDetails' in details)) return;
  const groupDetails = objectField(details, 'groupOverrideDetails') ?? {};
  const groups = stringList(groupDetails, 'groupsToOverride') ?? [];
  const roles = stringList(groupDetails, 'iamRolesToOverride') ?? [];
  const preferred = groupDetails['preferredRole'];
  for (const claims of [id, access]) {
    if (groups.length > 0) claims['cognito:groups'] = [...groups];
    else delete claims['cognito:groups'];
  }
  if (roles.length > 0) id['cognito:roles'] = [...roles];
  else delete id['cognito:roles'];
  if (typeof preferred === 'string' && preferred !== '') id['cognito:preferred_role'] = preferred;
  else delete id['cognito:preferred_role'];
}

function applyScopes(access: Claims, generation: Record<string, unknown>): void {
  const add = stringList(generation, 'scopesToAdd') ?? [];
  const remove = new Set(stringList(generation, 'scopesToSuppress') ?? []);
  for (const scope of add) {
    if (scope === '' || /\s/.test(scope))
      throw invalidResponse(`scopesToAdd: "${scope}" is not a valid scope.`);
  }
  const scopes = String(access['scope'] ?? '')
    .split(' ')
    .filter((scope) => scope !== '');
  for (const scope of add) if (!scopes.includes(scope)) scopes.push(scope);
  const kept = scopes.filter((scope) => !remove.has(scope));
  if (kept.length > 0) access['scope'] = kept.join(' ');
  else delete access['scope'];
}

function isClaimValue(value: unknown): boolean {
  if (typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isClaimValue);
  if (typeof value === 'object' && value !== null) return Object.values(value).every(isClaimValue);
  return false;
}

function objectField(source: Record<string, unknown>, field: string): Record<string, unknown> | undefined {
  const value = source[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    // Cognito's own documentation shows `[]` for an empty response; treat it as nothing.
    if (Array.isArray(value) && value.length === 0) return undefined;
    throw invalidResponse(`${field} must be an object.`);
  }
  return value as Record<string, unknown>;
}

function stringList(source: Record<string, unknown>, field: string): string[] | undefined {
  const value = source[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalidResponse(`${field} must be a list of strings.`);
  }
  return value as string[];
}

function invalidResponse(detail: string): CognitoError {
  return new CognitoError('InvalidLambdaResponseException', `Invalid PreTokenGeneration response: ${detail}`);
}
