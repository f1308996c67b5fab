import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { CognitoError } from './errors.js';

// Node's defaults for scrypt: 16 MiB of memory, ~50 ms per hash.
const N = 16_384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const MIN_LENGTH = 8;

/** The pool's password policy: 8+ characters with upper case, lower case and a digit. */
export function checkPasswordPolicy(password: string): void {
  const problem =
    password.length < MIN_LENGTH
      ? 'Password not long enough'
      : !/\p{Lu}/u.test(password)
        ? 'Password must have uppercase characters'
        : !/\p{Ll}/u.test(password)
          ? 'Password must have lowercase characters'
          : !/\p{Nd}/u.test(password)
            ? 'Password must have numeric characters'
            : undefined;
  if (problem) {
    throw new CognitoError('InvalidPasswordException', `Password did not conform with policy: ${problem}`);
  }
}

/** `scrypt$N$r$p$<salt>$<hash>`, base64; every user has their own random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, N, R, P, KEY_BYTES);
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const expected = Buffer.from(parts[5] ?? '', 'base64');
  if (![n, r, p].every(Number.isInteger) || expected.length === 0) return false;
  const actual = await derive(password, salt, n, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

let dummyHash: Promise<string> | undefined;

/** Spends the time of a real check, so that unknown users answer as slowly as known ones. */
export async function verifyNothing(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(12).toString('base64'));
  await verifyPassword(password, await dummyHash);
}

/** A temporary password that meets the policy (as AdminCreateUser generates one). */
export function generateTemporaryPassword(): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '^$*.[]{}()?!@#%&'];
  const all = sets.join('');
  const chars = sets.map((set) => pick(set));
  while (chars.length < 12) chars.push(pick(all));
  // Fisher-Yates, so that the required classes are not always at the front.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join('');
}

function pick(set: string): string {
  return set.charAt(randomInt(set.length));
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number, length: number) {
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
