import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * A small HTTP/1.1 load generator for the HTTP benches: keep-alive connections on raw sockets,
 * each sending its next request as soon as the previous answer is complete (a closed loop),
 * for a fixed duration, recording every request's latency. It runs in a child process (forked
 * with the parent's tsx loader) so that generating load never competes with the server under
 * test for its event loop; both servers of a comparison get the same generator.
 *
 * Answers must carry Content-Length (both servers of the GraphQL bench do). An answer counts
 * as an error unless its status is 200 and its body has no `"errors"` member.
 */

export interface LoadTarget {
  host: string;
  port: number;
  path: string;
  /** Request bodies, sent in rotation (each connection starts at a different one). */
  bodies: readonly string[];
  headers: Readonly<Record<string, string>>;
}

export interface LoadOptions {
  connections: number;
  durationMs: number;
}

export interface LoadResult {
  completed: number;
  errors: number;
  elapsedMs: number;
  /** Per request, in microseconds, in completion order. */
  latenciesUs: number[];
  /** CPU time the generator itself used (user + system), in milliseconds. */
  cpuMs: number;
  /** The first erroneous answer (status and the start of its body), if any. */
  firstError?: string;
}

interface RunMessage {
  id: number;
  target: LoadTarget;
  options: LoadOptions;
}

interface ResultMessage {
  id: number;
  result?: LoadResult;
  error?: string;
}

const CHILD_FLAG = 'PGC_BENCH_HTTP_LOAD_CHILD';

function requestBuffers(target: LoadTarget): Buffer[] {
  return target.bodies.map((body) => {
    const bytes = Buffer.from(body);
    const head = [
      `POST ${target.path} HTTP/1.1`,
      `Host: ${target.host}:${target.port}`,
      'Connection: keep-alive',
      'Content-Type: application/json',
      'Accept: application/json',
      ...Object.entries(target.headers).map(([name, value]) => `${name}: ${value}`),
      `Content-Length: ${bytes.length}`,
      '',
      '',
    ].join('\r\n');
    return Buffer.concat([Buffer.from(head), bytes]);
  });
}

const HEADER_END = Buffer.from('\r\n\r\n');
const ERRORS_MEMBER = Buffer.from('"errors"');

/** Runs one measurement: `connections` closed loops until the deadline, then waits for the answers in flight. */
export async function generateLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const requests = requestBuffers(target);
  const latenciesUs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;
  let lastDone = started;

  const loop = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const socket: Socket = connect({ host: target.host, port: target.port, noDelay: true });
      let next = index % requests.length;
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let bodyStart = -1;
      let bodyLength = 0;
      let status = 0;
      const send = () => {
        sentAt = performance.now();
        socket.write(requests[next] as Buffer);
        next = (next + 1) % requests.length;
      };
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.once('connect', send);
      socket.on('error', fail);
      socket.on('close', () => reject(new Error('the server closed a keep-alive connection')));
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          if (bodyStart < 0) {
            const end = buffer.indexOf(HEADER_END);
            if (end < 0) return;
            const head = buffer.toString('latin1', 0, end);
            status = Number(head.slice(9, 12));
            const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
            if (!length) return fail(new Error(`an answer without Content-Length: ${head}`));
            bodyStart = end + HEADER_END.length;
            bodyLength = Number(length[1]);
          }
          if (buffer.length < bodyStart + bodyLength) return;
          const now = performance.now();
          latenciesUs.push((now - sentAt) * 1000);
          lastDone = now;
          const body = buffer.subarray(bodyStart, bodyStart + bodyLength);
          if (status !== 200 || body.includes(ERRORS_MEMBER)) {
            errors++;
            firstError ??= `${status} ${body.toString('utf8', 0, Math.min(body.length, 300))}`;
          }
          buffer = buffer.subarray(bodyStart + bodyLength);
          bodyStart = -1;
          if (now >= deadline) {
            socket.removeAllListeners('close');
            socket.end();
            socket.destroy();
            resolve();
            return;
          }
          send();
        }
      });
    });

  await Promise.all(Array.from({ length: options.connections }, (_, i) => loop(i)));
  const used = process.cpuUsage(cpu);
  const result: LoadResult = {
    cpuMs: (used.user + used.system) / 1000,
    completed: latenciesUs.length,
    errors,
    elapsedMs: lastDone - started,
    latenciesUs,
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

export interface LoadGenerator {
  run(target: LoadTarget, options: LoadOptions): Promise<LoadResult>;
  close(): Promise<void>;
}

/** The generator in a child process of its own (this file, forked with the parent's tsx loader). */
export async function startLoadGenerator(): Promise<LoadGenerator> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, [CHILD_FLAG]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the load generator exited (${code})`)));
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  let nextId = 0;
  const pending = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();
  child.on('message', (message: ResultMessage) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.result) waiter.resolve(message.result);
    else waiter.reject(new Error(message.error ?? 'the load generator failed'));
  });
  child.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('the load generator exited'));
    pending.clear();
  });
  return {
    run(target, options) {
      const id = nextId++;
      return new Promise<LoadResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, target, options } satisfies RunMessage);
      });
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      await exited;
    },
  };
}

if (process.env[CHILD_FLAG] === '1' && process.send) {
  process.on('message', (message: RunMessage) => {
    generateLoad(message.target, message.options).then(
      (result) => process.send?.({ id: message.id, result } satisfies ResultMessage),
      (error: unknown) =>
        process.send?.({
          id: message.id,
          error: String((error as Error)?.stack ?? error),
        } satisfies ResultMessage),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send('ready');
}
