import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCognitionError } from '../../src/errors.js';
import { KEY_FILE, LOCK_FILE, LocalSecretStore, SECRETS_FILE } from '../../src/secrets/local-secret-store.js';
import { createSecretStore, userSecretId, type UserSecret } from '../../src/secrets/secret-store.js';

const PASSWORD = 'Pw-6f1c0d3e-very-secret';

function secretFor(username: string, password = PASSWORD): UserSecret {
  return { username, password, host: '127.0.0.1', port: 5432, dbname: 'app', engine: 'postgres' };
}

/** Runs `action` and returns what it threw, failing the test when it does not throw. */
async function thrown(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

interface StoredFile {
  version: number;
  secrets: Record<string, { iv: string; tag: string; data: string }>;
}

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pg-cognition-secrets-'));
  // A directory the store must create itself, so that its mode can be checked.
  dir = join(root, 'store');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function readStored(): Promise<StoredFile> {
  return JSON.parse(await readFile(join(dir, SECRETS_FILE), 'utf8')) as StoredFile;
}

describe('LocalSecretStore', () => {
  it('round-trips a secret', async () => {
    const store = new LocalSecretStore({ dir });
    const id = userSecretId('app', 'u1');
    expect(id).toBe('app/users/u1');
    await store.put(id, secretFor('alice'));
    expect(await store.get(id)).toEqual(secretFor('alice'));
    expect(await store.get('app/users/other')).toBeUndefined();
  });

  it('overwrites an existing secret', async () => {
    const store = new LocalSecretStore({ dir });
    await store.put('app/users/u1', secretFor('alice', 'first'));
    await store.put('app/users/u1', secretFor('alice', 'second'));
    expect((await store.get('app/users/u1'))?.password).toBe('second');
    expect(await store.list()).toEqual(['app/users/u1']);
  });

  it('deletes, and deleting a missing secret is not an error', async () => {
    const store = new LocalSecretStore({ dir });
    await store.delete('app/users/nobody');
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await store.put('app/users/u1', secretFor('alice'));
    await store.put('app/users/u2', secretFor('bob'));
    await store.delete('app/users/u1');
    await store.delete('app/users/u1');
    expect(await store.get('app/users/u1')).toBeUndefined();
    expect(await store.get('app/users/u2')).toEqual(secretFor('bob'));
  });

  it('lists ids by prefix', async () => {
    const store = new LocalSecretStore({ dir });
    expect(await store.list()).toEqual([]);
    await store.put('a/users/2', secretFor('x'));
    await store.put('a/users/1', secretFor('y'));
    await store.put('ab/users/1', secretFor('z'));
    await store.put('b/users/1', secretFor('w'));
    expect(await store.list('a/')).toEqual(['a/users/1', 'a/users/2']);
    expect(await store.list('a')).toEqual(['a/users/1', 'a/users/2', 'ab/users/1']);
    expect(await store.list()).toEqual(['a/users/1', 'a/users/2', 'ab/users/1', 'b/users/1']);
    expect(await store.list('c')).toEqual([]);
  });

  it('keeps secrets across instances', async () => {
    await new LocalSecretStore({ dir }).put('app/users/u1', secretFor('alice'));
    expect(await new LocalSecretStore({ dir }).get('app/users/u1')).toEqual(secretFor('alice'));
  });

  it('keeps an id such as __proto__ as an ordinary entry', async () => {
    const store = new LocalSecretStore({ dir });
    await store.put('__proto__', secretFor('alice'));
    expect(await new LocalSecretStore({ dir }).get('__proto__')).toEqual(secretFor('alice'));
    expect(await store.list()).toEqual(['__proto__']);
  });

  it('never writes the password in plain text', async () => {
    const store = new LocalSecretStore({ dir });
    await store.put('app/users/u1', secretFor('alice'));
    await store.put('app/users/u2', secretFor('bob'));
    const files = await readdir(dir);
    expect(files.sort()).toEqual([KEY_FILE, SECRETS_FILE].sort());
    for (const file of files) {
      const bytes = await readFile(join(dir, file));
      expect(bytes.includes(PASSWORD)).toBe(false);
      expect(bytes.includes(Buffer.from(PASSWORD).toString('base64').slice(0, 12))).toBe(false);
    }
    const stored = await readStored();
    expect(stored.version).toBe(1);
    expect(Object.keys(stored.secrets)).toEqual(['app/users/u1', 'app/users/u2']);
  });

  it('creates the key file with mode 0600 and the directory with mode 0700', async () => {
    await new LocalSecretStore({ dir }).put('app/users/u1', secretFor('alice'));
    const key = await stat(join(dir, KEY_FILE));
    expect(key.mode & 0o777).toBe(0o600);
    expect(key.size).toBe(32);
    expect((await stat(join(dir, SECRETS_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('rejects a tampered ciphertext with ERR_SECRET_STORE, without the password', async () => {
    const store = new LocalSecretStore({ dir });
    await store.put('app/users/u1', secretFor('alice'));
    const stored = await readStored();
    const entry = stored.secrets['app/users/u1']!;
    const data = Buffer.from(entry.data, 'base64');
    data[0] = data[0]! ^ 0x01;
    entry.data = data.toString('base64');
    await writeFile(join(dir, SECRETS_FILE), JSON.stringify(stored));

    const error = await thrown(() => new LocalSecretStore({ dir }).get('app/users/u1'));
    expect(isCognitionError(error, 'ERR_SECRET_STORE')).toBe(true);
    expect(String((error as Error).message)).not.toContain(PASSWORD);
  });

  it('rejects a tampered or truncated tag', async () => {
    const store = new LocalSecretStore({ dir });
    await store.put('app/users/u1', secretFor('alice'));
    const stored = await readStored();
    const entry = stored.secrets['app/users/u1']!;
    const tag = Buffer.from(entry.tag, 'base64');

    tag[15] = tag[15]! ^ 0x80;
    entry.tag = tag.toString('base64');
    await writeFile(join(dir, SECRETS_FILE), JSON.stringify(stored));
    expect(await thrown(() => store.get('app/users/u1'))).toMatchObject({ code: 'ERR_SECRET_STORE' });

    entry.tag = tag.subarray(0, 4).toString('base64');
    await writeFile(join(dir, SECRETS_FILE), JSON.stringify(stored));
    expect(await thrown(() => store.get('app/users/u1'))).toMatchObject({ code: 'ERR_SECRET_STORE' });
  });

  it('rejects an entry moved to another id', async () => {
    const store = new LocalSecretStore({ dir });
    await store.put('app/users/admin', secretFor('admin', 'admin-password'));
    await store.put('app/users/mallory', secretFor('mallory'));
    const stored = await readStored();
    stored.secrets['app/users/mallory'] = stored.secrets['app/users/admin']!;
    await writeFile(join(dir, SECRETS_FILE), JSON.stringify(stored));

    const error = await thrown(() => new LocalSecretStore({ dir }).get('app/users/mallory'));
    expect(error).toMatchObject({ code: 'ERR_SECRET_STORE' });
    expect(String((error as Error).message)).not.toContain('admin-password');
    expect((await new LocalSecretStore({ dir }).get('app/users/admin'))?.password).toBe('admin-password');
  });

  it('rejects a wrong key with ERR_SECRET_STORE', async () => {
    await new LocalSecretStore({ dir }).put('app/users/u1', secretFor('alice'));
    await writeFile(join(dir, KEY_FILE), randomBytes(32), { mode: 0o600 });
    const error = await thrown(() => new LocalSecretStore({ dir }).get('app/users/u1'));
    expect(error).toMatchObject({ code: 'ERR_SECRET_STORE' });
    expect(String((error as Error).message)).not.toContain(PASSWORD);
  });

  it('refuses to create a new key while secrets under the old one remain', async () => {
    await new LocalSecretStore({ dir }).put('app/users/u1', secretFor('alice'));
    await rm(join(dir, KEY_FILE));
    const store = new LocalSecretStore({ dir });
    expect(await thrown(() => store.put('app/users/u2', secretFor('bob')))).toMatchObject({
      code: 'ERR_SECRET_STORE',
    });
    expect(await thrown(() => store.get('app/users/u1'))).toMatchObject({ code: 'ERR_SECRET_STORE' });
    await expect(stat(join(dir, KEY_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects ids that Secrets Manager would refuse', async () => {
    const store = new LocalSecretStore({ dir });
    for (const id of ['', 'has space', 'x'.repeat(513), 'semi;colon']) {
      expect(await thrown(() => store.put(id, secretFor('alice')))).toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
  });

  it('rejects a malformed secret before storing it', async () => {
    const store = new LocalSecretStore({ dir });
    const bad = { ...secretFor('alice'), port: '5432' } as unknown as UserSecret;
    const error = await thrown(() => store.put('app/users/u1', bad));
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(String((error as Error).message)).not.toContain(PASSWORD);
    expect(await store.list()).toEqual([]);
  });

  it('loses nothing when 20 store instances put at once', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `app/users/u${String(i).padStart(2, '0')}`);
    await Promise.all(
      ids.map((id, i) => new LocalSecretStore({ dir }).put(id, secretFor(`user${i}`, `password-${i}`))),
    );
    const store = new LocalSecretStore({ dir });
    expect(await store.list()).toEqual(ids);
    for (const [i, id] of ids.entries()) {
      expect(await store.get(id)).toEqual(secretFor(`user${i}`, `password-${i}`));
    }
    expect((await readdir(dir)).sort()).toEqual([KEY_FILE, SECRETS_FILE].sort());
  });

  it('loses nothing when several processes put at once', async () => {
    const moduleUrl = pathToFileURL(resolve('src/secrets/local-secret-store.ts')).href;
    const script = (worker: number) => `
      const { LocalSecretStore } = await import(${JSON.stringify(moduleUrl)});
      const store = new LocalSecretStore({ dir: ${JSON.stringify(dir)} });
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.put('p${worker}/users/' + i, {
        username: 'w${worker}-' + i, password: 'pw', host: 'h', port: 5432, dbname: 'd', engine: 'postgres',
      })));
    `;
    const run = promisify(execFile);
    await Promise.all(
      [0, 1, 2, 3].map((worker) =>
        run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(worker)], {
          cwd: process.cwd(),
        }),
      ),
    );
    const store = new LocalSecretStore({ dir });
    const ids = await store.list();
    expect(ids).toHaveLength(40);
    expect((await store.get('p3/users/9'))?.username).toBe('w3-9');
  });

  it('breaks a stale lock left by a crashed writer', async () => {
    const store = new LocalSecretStore({ dir, staleLockMs: 1_000, lockTimeoutMs: 5_000 });
    await store.put('app/users/u1', secretFor('alice'));
    const lock = join(dir, LOCK_FILE);
    await writeFile(lock, '99999 crashed');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await store.put('app/users/u2', secretFor('bob'));
    expect(await store.list()).toEqual(['app/users/u1', 'app/users/u2']);
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('waits for a live lock and times out with ERR_SECRET_STORE', async () => {
    const store = new LocalSecretStore({ dir, staleLockMs: 60_000, lockTimeoutMs: 200 });
    await store.put('app/users/u1', secretFor('alice'));
    const lock = join(dir, LOCK_FILE);
    await writeFile(lock, '1 busy');
    expect(await thrown(() => store.put('app/users/u2', secretFor('bob')))).toMatchObject({
      code: 'ERR_SECRET_STORE',
    });
    // The lock belongs to someone else: it must still be there.
    expect(await readFile(lock, 'utf8')).toBe('1 busy');
    await rm(lock);
    await store.put('app/users/u2', secretFor('bob'));
    expect(await store.list()).toEqual(['app/users/u1', 'app/users/u2']);
  });

  it('never loads the AWS SDK on the local path', async () => {
    // A resolve hook that fails any import of the SDK; the aws kind is the control that it bites.
    const hook = `export async function resolve(specifier, context, next) {
      if (specifier.startsWith('@aws-sdk/')) throw new Error('AWS SDK loaded: ' + specifier);
      return next(specifier, context);
    }`;
    const moduleUrl = pathToFileURL(resolve('src/secrets/secret-store.ts')).href;
    const script = (kind: string) => `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
      const { createSecretStore } = await import(${JSON.stringify(moduleUrl)});
      const store = await createSecretStore({ kind: '${kind}', dir: ${JSON.stringify(dir)}, region: 'us-east-1' });
      await store.list();
    `;
    const run = (kind: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(kind)], {
        cwd: process.cwd(),
      });
    await run('local');
    await expect(run('aws')).rejects.toThrow(/AWS SDK loaded/);
  });

  it('is what createSecretStore builds for kind local', async () => {
    const store = await createSecretStore({ kind: 'local', dir });
    expect(store).toBeInstanceOf(LocalSecretStore);
    await store.put('app/users/u1', secretFor('alice'));
    expect(await new LocalSecretStore({ dir }).get('app/users/u1')).toEqual(secretFor('alice'));
  });
});
