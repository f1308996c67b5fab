import { fork } from 'node:child_process';

/**
 * A bench server in a child process of its own, so that its CPU time is its own and none of its
 * modules load into the bench's process. The child is the server's own file, forked with the
 * parent's loader; it reads its configuration from the first IPC message, answers with its URL,
 * reports its CPU time on request, and closes when the channel does.
 */
export interface ChildServer {
  url: string;
  /** The server process's CPU time so far (user + system), in milliseconds. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

interface Running {
  url: string;
  close(): Promise<void>;
}

/** Parent side: forks `file` with `flag` set in its environment and sends it `config`. */
export async function startChildServer(
  file: string,
  flag: string,
  config: unknown,
  what: string,
): Promise<ChildServer> {
  const child = fork(file, [], {
    env: { ...process.env, [flag]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { url?: string; error?: string }) =>
      message.url ? resolve(message.url) : reject(new Error(message.error ?? `${what} did not start`)),
    );
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
    child.send(config as object);
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  child.removeAllListeners('message');
  return {
    url,
    cpuMs: () =>
      new Promise<number>((resolve) => {
        child.once('message', (message: { cpuMs: number }) => resolve(message.cpuMs));
        child.send('cpu');
      }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}

/** Child side: when this process was forked with `flag`, serves with the configuration sent. */
export function serveInChild<C>(flag: string, serve: (config: C) => Promise<Running>): void {
  if (process.env[flag] !== '1' || !process.send) return;
  process.once('message', (config: C) => {
    serve(config).then(
      (running) => {
        process.send?.({ url: running.url });
        process.on('message', (message) => {
          if (message !== 'cpu') return;
          const { user, system } = process.cpuUsage();
          process.send?.({ cpuMs: (user + system) / 1000 });
        });
        process.once('disconnect', () => {
          void running.close().finally(() => process.exit(0));
        });
      },
      (error: unknown) => {
        process.send?.({ error: String((error as Error)?.stack ?? error) }, () => process.exit(1));
      },
    );
  });
}
