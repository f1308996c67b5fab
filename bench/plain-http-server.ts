import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The platform's ceiling for the GraphQL bench: a plain `node:http` server that reads each
 * request's body and answers with fixed JSON bytes (the bytes our endpoint answers, given at
 * start) and the same response headers, doing nothing else: no token, no GraphQL, no database.
 * It runs in a child process of its own, as PostGraphile does, so that its CPU time is its own.
 */

export interface PlainHttpServer {
  url: string;
  /** The server process's CPU time so far (user + system), in milliseconds. */
  cpuMs(): Promise<number>;
  close(): Promise<void>;
}

const CHILD_FLAG = 'PGC_BENCH_PLAIN_HTTP_CHILD';

/** Answers every POST with `body` (the same bytes for every request). */
export async function startPlainHttpServer(body: string): Promise<PlainHttpServer> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [CHILD_FLAG]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { url?: string }) =>
      message.url ? resolve(message.url) : reject(new Error('the plain HTTP server did not start')),
    );
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the plain HTTP server exited (${code})`)));
    child.send({ body });
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

async function serve(body: string): Promise<{ url: string; close(): Promise<void> }> {
  const length = String(Buffer.byteLength(body));
  const server = createServer((request, response) => {
    // Read the body as any server must before it answers on a keep-alive connection.
    request.on('data', () => {});
    request.on('end', () => {
      response.writeHead(200, [
        'content-type',
        'application/json; charset=UTF-8',
        'cache-control',
        'no-store',
        'content-length',
        length,
        'access-control-allow-origin',
        '*',
        'access-control-expose-headers',
        'x-amzn-requestid, x-amzn-errortype',
        'x-amzn-requestid',
        randomUUID(),
      ]);
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.env[CHILD_FLAG] === '1' && process.send) {
  process.once('message', (config: { body: string }) => {
    void serve(config.body).then((running) => {
      process.send?.({ url: running.url });
      process.on('message', (message) => {
        if (message !== 'cpu') return;
        const { user, system } = process.cpuUsage();
        process.send?.({ cpuMs: (user + system) / 1000 });
      });
      process.once('disconnect', () => {
        void running.close().finally(() => process.exit(0));
      });
    });
  });
}
