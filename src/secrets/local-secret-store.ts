import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CognitionError } from '../errors.js';
import {
  assertSecretId,
  assertUserSecret,
  parseUserSecret,
  type SecretStore,
  type UserSecret,
} from './secret-store.js';

export const KEY_FILE = 'secret.key';
export const SECRETS_FILE = 'secrets.json';
export const LOCK_FILE = 'secrets.lock';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
// 96-bit IVs are GCM's native size; random ones are safe far beyond the number of secrets kept here.
const IV_BYTES = 12;
// Fixing the tag length stops a forger from presenting a truncated (weaker) tag.
const TAG_BYTES = 16;

export interface LocalSecretStoreOptions {
  dir: string;
  /** How long a writer waits for the lock before giving up (default 10 s). */
  lockTimeoutMs?: number;
  /** Age after which a lock is taken to belong to a crashed writer (default 30 s; writes take ms). */
  staleLockMs?: number;
}

interface EncryptedEntry {
  iv: string;
  tag: string;
  data: string;
}

interface SecretsFile {
  version: 1;
  secrets: Record<string, EncryptedEntry>;
}

/**
 * A SecretStore on the local disk for development: every entry is sealed with AES-256-GCM under a
 * key kept next to it, with the entry's id as associated data so that an entry copied to another
 * id fails to open. Readers need no lock because files are replaced by rename, never rewritten in
 * place; writers, possibly in several processes, serialize through a lock file.
 */
export class LocalSecretStore implements SecretStore {
  readonly dir: string;
  private readonly keyPath: string;
  private readonly secretsPath: string;
  private readonly lockPath: string;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private key: Buffer | undefined;

  constructor(options: LocalSecretStoreOptions) {
    this.dir = options.dir;
    this.keyPath = join(options.dir, KEY_FILE);
    this.secretsPath = join(options.dir, SECRETS_FILE);
    this.lockPath = join(options.dir, LOCK_FILE);
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.staleLockMs = options.staleLockMs ?? 30_000;
  }

  async put(id: string, secret: UserSecret): Promise<void> {
    assertSecretId(id);
    assertUserSecret(secret);
    await this.ensureDir();
    await this.withLock(async () => {
      const entries = await this.readEntries();
      const key = await this.keyForWrite(entries);
      entries.set(id, seal(key, id, secret));
      await this.writeEntries(entries);
    });
  }

  async get(id: string): Promise<UserSecret | undefined> {
    assertSecretId(id);
    const entry = (await this.readEntries()).get(id);
    if (!entry) return undefined;
    return unseal(await this.readKey(), id, entry);
  }

  async delete(id: string): Promise<void> {
    assertSecretId(id);
    // Checked before locking so that deleting from an empty store creates no files.
    if (!(await this.readEntries()).has(id)) return;
    await this.withLock(async () => {
      const entries = await this.readEntries();
      if (entries.delete(id)) await this.writeEntries(entries);
    });
  }

  async list(prefix = ''): Promise<string[]> {
    const ids = [...(await this.readEntries()).keys()];
    return ids.filter((id) => id.startsWith(prefix)).sort();
  }

  private async ensureDir(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw storeError(`could not create the secret store directory ${this.dir}`, error);
    }
  }

  /** A Map, not a plain object, so that an id like `__proto__` stays an ordinary key. */
  private async readEntries(): Promise<Map<string, EncryptedEntry>> {
    let text: string;
    try {
      text = await readFile(this.secretsPath, 'utf8');
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return new Map();
      throw storeError(`could not read ${this.secretsPath}`, error);
    }
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch {
      throw storeError(`${this.secretsPath} is not valid JSON`);
    }
    if (!isSecretsFile(file)) {
      throw storeError(`${this.secretsPath} is not a version 1 secrets file`);
    }
    return new Map(Object.entries(file.secrets));
  }

  private async writeEntries(entries: Map<string, EncryptedEntry>): Promise<void> {
    const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const file: SecretsFile = { version: 1, secrets: Object.fromEntries(sorted) };
    await writeAtomically(this.secretsPath, `${JSON.stringify(file, null, 2)}\n`);
  }

  private async readKey(): Promise<Buffer> {
    const key = await this.loadKey();
    if (!key) throw storeError(`the key file ${this.keyPath} is missing`);
    return key;
  }

  private async loadKey(): Promise<Buffer | undefined> {
    if (this.key) return this.key;
    let key: Buffer;
    try {
      key = await readFile(this.keyPath);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') return undefined;
      throw storeError(`the key file ${this.keyPath} could not be read`, error);
    }
    if (key.length !== KEY_BYTES) {
      throw storeError(`the key file ${this.keyPath} does not hold a ${KEY_BYTES}-byte key`);
    }
    this.key = key;
    return key;
  }

  /** Called under the lock, so at most one writer ever creates the key. */
  private async keyForWrite(entries: Map<string, EncryptedEntry>): Promise<Buffer> {
    const existing = await this.loadKey();
    if (existing) return existing;
    if (entries.size > 0) {
      // A new key could not open the entries already stored; refuse rather than mix two keys.
      throw storeError(`the key file ${this.keyPath} is missing but ${this.secretsPath} holds secrets`);
    }
    const key = randomBytes(KEY_BYTES);
    await writeAtomically(this.keyPath, key);
    this.key = key;
    return key;
  }

  private async withLock<T>(action: () => Promise<T>): Promise<T> {
    const release = await acquireLock(this.lockPath, this.lockTimeoutMs, this.staleLockMs);
    let result: T;
    try {
      result = await action();
    } catch (error) {
      // The action's error matters more than a failure to release (a stuck lock goes stale).
      await release().catch(() => undefined);
      throw error;
    }
    await release();
    return result;
  }
}

function seal(key: Buffer, id: string, secret: UserSecret): EncryptedEntry {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(id, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(secret), 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

function unseal(key: Buffer, id: string, entry: EncryptedEntry): UserSecret {
  const iv = Buffer.from(entry.iv, 'base64');
  const tag = Buffer.from(entry.tag, 'base64');
  const data = Buffer.from(entry.data, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw storeError(`secret "${id}" is malformed`);
  }
  let plaintext: string;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    throw storeError(
      `secret "${id}" could not be decrypted: the key is wrong, or the entry was altered or moved from another id`,
    );
  }
  return parseUserSecret(plaintext, id);
}

function isSecretsFile(value: unknown): value is SecretsFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as { version?: unknown; secrets?: unknown };
  if (file.version !== 1) return false;
  if (typeof file.secrets !== 'object' || file.secrets === null || Array.isArray(file.secrets)) {
    return false;
  }
  return Object.values(file.secrets).every(
    (entry: unknown) =>
      typeof entry === 'object' &&
      entry !== null &&
      ['iv', 'tag', 'data'].every((field) => typeof (entry as Record<string, unknown>)[field] === 'string'),
  );
}

/** Readers see the old file or the new one, never a half-written one; mode 0600 from the start. */
async function writeAtomically(path: string, content: string | Buffer): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      // Without this a crash soon after the rename can leave an empty file on some filesystems.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw storeError(`could not write ${path}`, error);
  }
}

/**
 * Takes the lock file with an exclusive create, which is atomic on local filesystems. Returns the
 * function that releases it.
 */
async function acquireLock(path: string, timeoutMs: number, staleMs: number): Promise<() => Promise<void>> {
  const token = `${process.pid} ${randomUUID()}`;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(token);
      } finally {
        await handle.close();
      }
      return () => releaseLock(path, token);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw storeError(`could not create the lock file ${path}`, error);
    }
    const age = await lockAge(path);
    if (age === undefined) continue; // released meanwhile: try again at once
    if (age > staleMs) {
      await breakStaleLock(path, staleMs);
      continue;
    }
    if (Date.now() >= deadline) {
      throw storeError(`timed out after ${timeoutMs} ms waiting for the lock file ${path}`);
    }
    // Jittered, growing waits keep many writers from retrying in lockstep.
    await sleep(Math.min(2 ** attempt, 50) * (0.5 + Math.random()));
  }
}

async function lockAge(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw storeError(`could not inspect the lock file ${path}`, error);
  }
}

/**
 * Moves the stale lock aside by rename, which only one contender can win. If the file moved
 * turns out to be fresh, another contender broke the stale lock and took a new one between our
 * check and the rename: it is put back with link, which fails rather than overwrite a newer lock.
 */
async function breakStaleLock(path: string, staleMs: number): Promise<void> {
  const aside = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return;
    throw storeError(`could not remove the stale lock file ${path}`, error);
  }
  try {
    if (Date.now() - (await stat(aside)).mtimeMs <= staleMs) {
      await link(aside, path).catch(() => undefined);
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  try {
    // Only remove our own lock: had it been broken as stale, the file may now be someone else's.
    if ((await readFile(path, 'utf8')) === token) await unlink(path);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw storeError(`could not release the lock file ${path}`, error);
  }
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function storeError(message: string, cause?: unknown): CognitionError {
  return new CognitionError('ERR_SECRET_STORE', message, { safe: false, cause });
}
