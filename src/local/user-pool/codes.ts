import { randomInt, timingSafeEqual } from 'node:crypto';
import { CognitoError } from './errors.js';

/** What a code confirms: the sign-up (email verification) or a password reset. */
export type CodePurpose = 'confirmSignUp' | 'forgotPassword';

export interface StoredCode {
  code: string;
  createdAt: number;
  expiresAt: number;
  /** Wrong guesses so far; at MAX_CODE_ATTEMPTS the code is spent. */
  attempts?: number;
}

/** A six-digit code survives this many wrong guesses, not the million it takes to find it. */
export const MAX_CODE_ATTEMPTS = 5;

const HOUR = 3_600_000;
export const CODE_TTL_MS: Record<CodePurpose, number> = {
  confirmSignUp: 24 * HOUR,
  forgotPassword: HOUR,
};

/** Six random digits. */
export function newCode(purpose: CodePurpose, now: number): StoredCode {
  return {
    code: String(randomInt(1_000_000)).padStart(6, '0'),
    createdAt: now,
    expiresAt: now + CODE_TTL_MS[purpose],
  };
}

/**
 * Throws CodeMismatchException for a wrong code, TooManyFailedAttemptsException once a code has
 * had MAX_CODE_ATTEMPTS wrong guesses (from then on even the right code fails: a new one must
 * be requested), and ExpiredCodeException for the right code past its expiry.
 */
export function checkCode(stored: StoredCode | undefined, given: string, now: number): void {
  if (stored && (stored.attempts ?? 0) >= MAX_CODE_ATTEMPTS) {
    throw new CognitoError(
      'TooManyFailedAttemptsException',
      'Too many failed attempts for this code, please request a code again.',
    );
  }
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(stored?.code ?? '', 'utf8');
  if (!stored || a.length !== b.length || !timingSafeEqual(a, b)) {
    if (stored) stored.attempts = (stored.attempts ?? 0) + 1;
    throw new CognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
  }
  if (now >= stored.expiresAt) {
    throw new CognitoError('ExpiredCodeException', 'Invalid code provided, please request a code again.');
  }
}
