import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import { join } from 'node:path';
import { ensureDir, readJsonFile, writeFileAtomically } from './files.js';

export const KEYS_FILE = 'keys.json';

/** One RS256 key pair: ID tokens and access tokens each have their own. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public half as served in the JWKS. */
  publicJwk: JWK;
}

export interface PoolKeys {
  id: SigningKey;
  access: SigningKey;
}

interface KeysFile {
  version: 1;
  id: JWK;
  access: JWK;
}

/**
 * The pool's signing keys, generated on first start into `keys.json` (mode 0600, never in git:
 * each installation has its own) and read from there afterwards.
 */
export async function loadOrCreateKeys(dir: string): Promise<PoolKeys> {
  await ensureDir(dir);
  const path = join(dir, KEYS_FILE);
  const stored = await readJsonFile(path);
  if (stored !== undefined) {
    if (!isKeysFile(stored)) throw new Error(`${path} is not a version 1 keys file`);
    return { id: await fromPrivateJwk(stored.id), access: await fromPrivateJwk(stored.access) };
  }
  const [id, access] = [await generate(), await generate()];
  const file: KeysFile = { version: 1, id: id.privateJwk, access: access.privateJwk };
  await writeFileAtomically(path, `${JSON.stringify(file, null, 2)}\n`);
  return { id: id.key, access: access.key };
}

/** The JSON Web Key Set served at `/<poolId>/.well-known/jwks.json`. */
export function jwks(keys: PoolKeys): { keys: JWK[] } {
  return { keys: [keys.id.publicJwk, keys.access.publicJwk] };
}

async function generate(): Promise<{ key: SigningKey; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const exported = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(exported);
  const privateJwk: JWK = { ...exported, kid, alg: 'RS256', use: 'sig' };
  return { key: await fromPrivateJwk(privateJwk), privateJwk };
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  const { kty, n, e, kid } = jwk;
  if (kty !== 'RSA' || !n || !e || !kid) throw new Error('keys.json holds a key that is not an RS256 key');
  const publicJwk: JWK = { alg: 'RS256', e, kid, kty, n, use: 'sig' };
  return {
    kid,
    privateKey: (await importJWK(jwk, 'RS256')) as CryptoKey,
    publicKey: (await importJWK(publicJwk, 'RS256')) as CryptoKey,
    publicJwk,
  };
}

function isKeysFile(value: unknown): value is KeysFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as Partial<KeysFile>;
  return file.version === 1 && typeof file.id === 'object' && typeof file.access === 'object';
}
