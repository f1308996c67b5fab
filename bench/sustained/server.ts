import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadApp } from '../../src/local/app.js';
import { startLocalStack } from '../../src/local/stack.js';

/**
 * The local stack (user pool, GraphQL endpoint, data source) in a process of its own, so that
 * its memory is its own and load generation never shares its event loop. It loads the agents
 * example, seeds it, and answers `memory` messages with its RSS and heap (after a full GC).
 */

const CHILD_FLAG = 'PGC_BENCH_SUSTAINED_SERVER';
const AGENTS_APP = fileURLToPath(new URL('../../examples/agents/', import.meta.url));

export interface ServerMemory {
  rssMb: number;
  heapUsedMb: number;
}

export interface StackServer {
  /** The user pool's base URL; GraphQL is at `${url}/graphql`. */
  url: string;
  clientId: string;
  /** The seeded users with a login, and their password. */
  seeded: { email: string; role: string }[];
  password: string;
  pid: number;
  memory(): Promise<ServerMemory>;
  close(): Promise<void>;
}

interface Ready {
  kind: 'ready';
  url: string;
  clientId: string;
  seeded: { email: string; role: string }[];
  password: string;
}

export async function startStackServer(databaseUrl: string, home: string): Promise<StackServer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [CHILD_FLAG]: '1', BENCH_DATABASE_URL: databaseUrl, BENCH_HOME: home },
    execArgv: [...process.execArgv, '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the stack server exited (${code})`)));
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  return {
    url: ready.url,
    clientId: ready.clientId,
    seeded: ready.seeded,
    password: ready.password,
    pid: child.pid as number,
    memory: () =>
      new Promise<ServerMemory>((resolve) => {
        child.once('message', (m) => resolve(m as ServerMemory));
        child.send('memory');
      }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  const app = await loadApp(AGENTS_APP);
  const stack = await startLocalStack({
    home: process.env.BENCH_HOME as string,
    databaseUrl: process.env.BENCH_DATABASE_URL as string,
    port: 0,
    app,
  });
  const seeded = await app.seed?.(stack.cognition);
  if (!seeded) throw new Error('the agents example has no seed');
  process.on('message', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.send?.({ rssMb: m.rss / 2 ** 20, heapUsedMb: m.heapUsed / 2 ** 20 } satisfies ServerMemory);
  });
  process.on('disconnect', () => {
    void stack.close().finally(() => process.exit(0));
  });
  process.send?.({
    kind: 'ready',
    url: stack.userPool.url,
    clientId: stack.userPool.clientId,
    seeded: seeded.users.map((u) => ({ email: u.email, role: u.role })),
    password: seeded.password,
  } satisfies Ready);
}

if (process.env[CHILD_FLAG] === '1' && process.send) {
  serve().catch((error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  });
}
