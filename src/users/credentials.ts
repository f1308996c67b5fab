import { createHash, createHmac, pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' + LOWER_ALNUM;

function randomString(alphabet: string, length: number): string {
  let out = '';
  // randomInt draws without modulo bias.
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A database username: random, unguessable, a valid unquoted identifier (`u_` + 24 chars). */
export function generateDbUsername(): string {
  return `u_${randomString(LOWER_ALNUM, 24)}`;
}

/** 48 random alphanumeric characters (about 285 bits). */
export function generatePassword(): string {
  return randomString(ALNUM, 48);
}

/**
 * The SCRAM-SHA-256 verifier Postgres stores for a password (RFC 5802 / RFC 7677), so that
 * the plaintext password never travels to the server or into its logs.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
