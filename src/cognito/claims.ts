import type {
  ClaimsAndScopeOverrideDetails,
  GroupOverrideDetails,
  PreTokenGenerationTriggerEvent,
  PreTokenGenerationV2TriggerEvent,
} from 'aws-lambda';
import type { User } from '../users/users.js';
import { isObject, type JsonObject } from './event.js';

/** Claim names added to the ID and access tokens. */
export const CLAIM_TENANT_ID = 'tenant_id';
export const CLAIM_TENANT_SLUG = 'tenant_slug';
export const CLAIM_TENANT_ROLE = 'tenant_role';

const OUR_CLAIMS: readonly string[] = [CLAIM_TENANT_ID, CLAIM_TENANT_SLUG, CLAIM_TENANT_ROLE];

/**
 * The claims for a user, all strings (what V1 allows): the tenant's id and slug (absent for an
 * application admin, who belongs to no tenant) and the user's role. They are informational:
 * what a request may do is decided by the database role it runs as, never by these claims.
 */
export function tenantClaims(user: User): Record<string, string> {
  const claims: Record<string, string> = {};
  if (user.tenantId !== null) claims[CLAIM_TENANT_ID] = user.tenantId;
  if (user.tenantSlug !== null) claims[CLAIM_TENANT_SLUG] = user.tenantSlug;
  claims[CLAIM_TENANT_ROLE] = user.role;
  return claims;
}

/** `cognito:groups` comes from the database: one group, named after the user's role. */
export function groupsFor(user: User): string[] {
  return [user.role];
}

function objectOr(value: unknown): JsonObject {
  return isObject(value) ? { ...value } : {};
}

/** Our claims override whatever else asked for the same names; claims already there stay. */
function withClaims(existing: unknown, claims: Record<string, string>): JsonObject {
  const merged = objectOr(existing);
  for (const name of OUR_CLAIMS) delete merged[name];
  return { ...merged, ...claims };
}

/** Cognito suppresses a claim that is both suppressed and overridden, so ours leave the list. */
function withoutOurSuppressions(existing: unknown): unknown {
  return Array.isArray(existing) ? existing.filter((name) => !OUR_CLAIMS.includes(name as string)) : existing;
}

/**
 * Group override: the groups are replaced by the user's role. The IAM roles of the user's
 * Cognito groups (`request.groupConfiguration`) are deliberately not copied: they belong to
 * groups the database no longer vouches for. What an earlier step put in the response stays.
 */
function withGroups(existing: unknown, user: User): GroupOverrideDetails {
  return { ...(objectOr(existing) as GroupOverrideDetails), groupsToOverride: groupsFor(user) };
}

function setIfPresent(target: JsonObject, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

/** The V1 response: `claimsOverrideDetails` with string claims and the groups. */
export function v1Response(
  response: unknown,
  user: User,
): PreTokenGenerationTriggerEvent['response'] & JsonObject {
  const base = objectOr(response);
  const details = objectOr(base['claimsOverrideDetails']);
  details['claimsToAddOrOverride'] = withClaims(details['claimsToAddOrOverride'], tenantClaims(user));
  setIfPresent(details, 'claimsToSuppress', withoutOurSuppressions(details['claimsToSuppress']));
  details['groupOverrideDetails'] = withGroups(details['groupOverrideDetails'], user);
  return { ...base, claimsOverrideDetails: details } as PreTokenGenerationTriggerEvent['response'] &
    JsonObject;
}

/** The V2 (and V3) response: the same claims in both the ID and the access token, and the groups. */
export function v2Response(
  response: unknown,
  user: User,
): PreTokenGenerationV2TriggerEvent['response'] & JsonObject {
  const base = objectOr(response);
  const details = objectOr(base['claimsAndScopeOverrideDetails']);
  const claims = tenantClaims(user);
  for (const token of ['idTokenGeneration', 'accessTokenGeneration'] as const) {
    const generation = objectOr(details[token]);
    generation['claimsToAddOrOverride'] = withClaims(generation['claimsToAddOrOverride'], claims);
    setIfPresent(generation, 'claimsToSuppress', withoutOurSuppressions(generation['claimsToSuppress']));
    details[token] = generation;
  }
  details['groupOverrideDetails'] = withGroups(details['groupOverrideDetails'], user);
  return {
    ...base,
    claimsAndScopeOverrideDetails: details as ClaimsAndScopeOverrideDetails,
  } as PreTokenGenerationV2TriggerEvent['response'] & JsonObject;
}
