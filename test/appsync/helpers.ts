import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { AppSyncError } from '../../src/appsync/errors.js';
import type { BatchItemResult, ResolverEvent } from '../../src/appsync/types.js';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/appsync/', import.meta.url));

/** The sub of the Cognito user in the sample events. */
export const FIXTURE_SUB = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111';
export const FIXTURE_OIDC_ISSUER = 'https://idp.example.com/oauth2/default';
export const FIXTURE_OIDC_SUB = '00u1abcdEXAMPLE4x7';
export const FIXTURE_IAM_ROLE = 'Cognito_MyIdentityPoolAuth_Role';

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** A fresh copy of a sample file. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')) as T;
}

export interface EventChanges {
  /** `Type.field`. */
  field?: string;
  arguments?: Record<string, unknown>;
  source?: Record<string, unknown> | null;
  identity?: unknown;
  payload?: unknown;
}

/** A sample event adapted to the test's resolvers (and identity, when given). */
export function eventFrom(name: string, changes: EventChanges = {}): ResolverEvent {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const event: any = fixture(name);
  return adapt(event, changes);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function adapt(event: any, changes: EventChanges): ResolverEvent {
  if (changes.field) {
    const [type, field] = changes.field.split('.');
    event.info.parentTypeName = type;
    event.info.fieldName = field;
  }
  if (changes.arguments) event.arguments = changes.arguments;
  if ('source' in changes) event.source = changes.source;
  if ('identity' in changes) event.identity = changes.identity;
  if ('payload' in changes) event.payload = changes.payload;
  return event as ResolverEvent;
}

/** A Cognito user pool identity (the sample's) for another sub. */
export function cognitoIdentity(sub: string): Record<string, unknown> {
  const identity = fixture('invoke-cognito.json').identity;
  identity.sub = sub;
  identity.claims.sub = sub;
  return identity;
}

export function iamIdentity(userArn: string): Record<string, unknown> {
  return { ...fixture('invoke-iam.json').identity, userArn };
}

export function oidcIdentity(issuer: string, sub: string): Record<string, unknown> {
  const identity = fixture('invoke-oidc.json').identity;
  identity.issuer = issuer;
  identity.claims.iss = issuer;
  identity.sub = sub;
  identity.claims.sub = sub;
  return identity;
}

/** The error a promise fails with; fails the test when it succeeds. */
export async function failure(promise: Promise<unknown>): Promise<AppSyncError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppSyncError);
    return error as AppSyncError;
  }
  throw new Error(`expected an error, got ${JSON.stringify(result)}`);
}

// What must never reach a client: SQL, stack frames, driver and schema details.
const LEAKS = [
  /\bselect\b/i,
  /\binsert\b/i,
  /\bfrom\b/i,
  /\bcognition\./i,
  /tenant_/i,
  /\n/,
  /\bat [^ ]+ \(/,
  /\.ts:\d+/,
  /relation|syntax|column|policy|permission denied for/i,
];

export function expectNoLeak(message: string): void {
  for (const leak of LEAKS) expect(message, `message leaks ${String(leak)}`).not.toMatch(leak);
}

/** Expects an Invoke to fail as AppSync shows it: `name` is the errorType, a clean message. */
export async function expectError(
  promise: Promise<unknown>,
  errorType: string,
  message?: string | RegExp,
): Promise<AppSyncError> {
  const error = await failure(promise);
  expect(error.name).toBe(errorType);
  expect(error.errorType).toBe(errorType);
  if (message !== undefined) expect(error.message).toMatch(message);
  expect(error.message).toMatch(/^ERR_[A-Z_]+: [^\n]+$/);
  expectNoLeak(error.message);
  return error;
}

/** Expects one BatchInvoke item to be an error as AppSync expects it. */
export function expectItemError(item: unknown, errorType: string, message?: string | RegExp): void {
  const result = item as BatchItemResult;
  expect(Object.keys(result).sort()).toEqual(['data', 'errorMessage', 'errorType']);
  expect(result.data).toBeNull();
  expect(result.errorType).toBe(errorType);
  if (message !== undefined) expect(result.errorMessage).toMatch(message);
  expectNoLeak(String(result.errorMessage));
}
