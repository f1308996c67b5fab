import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serveInChild, startChildServer, type ChildServer } from './child-server.js';

/**
 * The platform's ceiling for the GraphQL bench: a plain `node:http` server that reads each
 * request's body and answers with fixed JSON bytes (the bytes our endpoint answers, given at
 * start) and the same response headers, doing nothing else: no token, no GraphQL, no database.
 * It runs in a child process of its own, as PostGraphile does, so that its CPU time is its own.
 */

export type PlainHttpServer = ChildServer;

const CHILD_FLAG = 'PGC_BENCH_PLAIN_HTTP_CHILD';

/** Answers every POST with `body` (the same bytes for every request). */
export function startPlainHttpServer(body: string): Promise<PlainHttpServer> {
  return startChildServer(fileURLToPath(import.meta.url), CHILD_FLAG, { body }, 'the plain HTTP server');
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

serveInChild<{ body: string }>(CHILD_FLAG, (config) => serve(config.body));
