import { expect } from 'vitest';
import { isCognitionError, type ErrorCode } from '../../src/errors.js';

/** Expects the promise to fail with one of the codes (the database refused). */
export async function expectCode(promise: Promise<unknown>, ...codes: ErrorCode[]): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${codes.join('|')}`).toBeDefined();
  if (!isCognitionError(error) || !codes.includes(error.code)) {
    throw new Error(`expected ${codes.join('|')}, got ${String((error as Error)?.message ?? error)}`, {
      cause: error,
    });
  }
}

export function expectDenied(promise: Promise<unknown>): Promise<void> {
  return expectCode(promise, 'ERR_PERMISSION_DENIED');
}
