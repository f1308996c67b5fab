import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { CognitoTriggerError, type TriggerErrorCode } from '../../src/cognito/errors.js';

export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/cognito/', import.meta.url));

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** A fresh copy of a sample event (JSON, so nothing is shared between tests). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')) as T;
}

/** The fixture with its user's email and sub replaced (and other attributes merged in). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function eventFor<T = any>(
  name: string,
  attributes: Record<string, unknown>,
  changes: Record<string, unknown> = {},
): T {
  const event = fixture(name);
  Object.assign(event.request.userAttributes, attributes);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) delete event.request.userAttributes[key];
  }
  return { ...event, ...changes } as T;
}

/** The error a promise fails with; fails the test when it succeeds. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the trigger to reject');
}

// What must never reach a client: SQL, stack frames, driver and file details, event values.
const LEAKS = [
  /\bselect\b/i,
  /\binsert\b/i,
  /\bupdate\b/i,
  /\bfrom\b/i,
  /\bcognition\./i,
  /\n/,
  /\bat [^ ]+ \(/,
  /\.ts:\d+/,
  /ECONN/,
  /password/i,
  /relation|syntax|column/i,
];

/** Expects a rejection with this code, in the `CODE: text` form, with nothing internal in it. */
export async function expectRejected(
  promise: Promise<unknown>,
  code: TriggerErrorCode,
): Promise<CognitoTriggerError> {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(CognitoTriggerError);
  const rejection = error as CognitoTriggerError;
  expect(rejection.code).toBe(code);
  expect(rejection.message).toMatch(new RegExp(`^${code}: [^\\n]+$`));
  expectNoLeak(rejection.message);
  return rejection;
}

export function expectNoLeak(message: string): void {
  for (const leak of LEAKS) expect(message, `message leaks ${String(leak)}`).not.toMatch(leak);
}

/** The part of an event the triggers must not change. */
export function withoutResponse(event: Record<string, unknown>): Record<string, unknown> {
  const { response: _response, ...rest } = event;
  return rest;
}
