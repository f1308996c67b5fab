import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/local/free-port.js';
import type { EmbeddedServer } from '../../src/local/embedded-postgres.js';

/**
 * A throwaway cluster from another Postgres installation (COGNITION_TEST_PG_BIN, e.g. Debian's
 * /usr/lib/postgresql/15/bin), so the suite also runs against a second major version.
 * As root, the server runs as the `postgres` system user, as embedded-postgres does.
 */
export async function startSystemPostgres(binDir: string, dir: string): Promise<EmbeddedServer> {
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o711);
  const isRoot = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (isRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
    ids = { uid, gid };
    await chown(dataDir, uid, gid);
  }
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, password, { mode: 0o644 });
  const init = spawnSync(
    join(binDir, 'initdb'),
    [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--no-sync',
    ],
    { ...ids, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const child = spawn(
    join(binDir, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
    ],
    { ...ids, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`postgres did not start:\n${log}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => {
      log += d;
      if (log.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`postgres exited with ${code}:\n${log}`)));
  });
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    pid: child.pid ?? -1,
    owned: true,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    },
  };
}
