import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGraphqlEndpoint, type GraphqlEndpoint, type GraphqlEndpointOptions } from './endpoint.js';
import { requestErrorBody } from './errors.js';
import { sendJson } from './http.js';

export interface GraphqlServerOptions extends GraphqlEndpointOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1: the endpoint is for local development. */
  host?: string;
}

export interface GraphqlServer {
  /** `http://<host>:<port>`; the API is at `${url}/graphql`, the explorer at `${url}/explorer`. */
  url: string;
  port: number;
  endpoint: GraphqlEndpoint;
  close(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** The endpoint on its own node:http server, with the real-time endpoint on its `upgrade` event. */
export async function startGraphqlServer(options: GraphqlServerOptions): Promise<GraphqlServer> {
  const { port: wantedPort, host: wantedHost, ...endpointOptions } = options;
  const endpoint = createGraphqlEndpoint(endpointOptions);
  const host = wantedHost ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    endpoint.handle(request, response).then(
      (handled) => {
        if (!handled) sendJson(response, 404, requestErrorBody('NotFound', 'Not found.'));
      },
      () => response.destroy(),
    );
  });
  server.on('upgrade', (request, socket, head) => {
    if (!endpoint.realtime.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(wantedPort ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    endpoint,
    close: async () => {
      await endpoint.realtime.close();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
