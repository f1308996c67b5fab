import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import Module, { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VerifyOptions, JwtPayload, GetPublicKeyOrSecret } from 'jsonwebtoken';
import pg from 'pg';
import type { postgraphile as PostGraphile } from 'postgraphile';
import { serveInChild, startChildServer, type ChildServer } from './child-server.js';

/**
 * PostGraphile v4 (a bench-only dependency) serving one tenant schema, as the baseline of the
 * GraphQL bench, in a child process of its own: the server under comparison gets a process to
 * itself, as ours does, and PostGraphile's module layout stays out of the bench's process.
 *
 * The layout needs one fix-up. npm installed PostGraphile v4's graphql@15 nested (twice), while
 * `graphql-parse-resolve-info`, which it uses to plan queries, was hoisted next to the project's
 * graphql@16 and resolves that one; graphql then refuses to mix the two ("Cannot use
 * GraphQLObjectType "Agent" from another module or realm"). This process makes every
 * `require('graphql…')` resolve to PostGraphile's own graphql@15, as a flat install would.
 *
 * Authentication: PostGraphile's built-in JWT path (`jwtPublicKey`) cannot take a Cognito token
 * on Postgres 15+: it copies every claim into `jwt.claims.<name>`, and Postgres refuses
 * `jwt.claims.cognito:username` ("invalid configuration parameter name"). So the token is
 * checked in `pgSettings`, with the library and the call PostGraphile itself uses (jsonwebtoken's
 * verify: RS256 only, the key by `kid` from the user pool's JWKS, `aud`, `iss`, `exp`), on every
 * request as PostGraphile does; `sub` maps to the user's database role through an in-memory map
 * built before the run (the cost class of our identity cache). Each request then runs, in its
 * transaction, `set_config('role', <the user's role>, true)` and
 * `set_config('request.jwt.claims', <the claims>, true)` on a pool of the authenticator's
 * connections, the same role switch as ours.
 */

export interface PostGraphileConfig {
  /** cognition_authenticator's connection URL. */
  connectionString: string;
  poolSize: number;
  schema: string;
  jwksUri: string;
  clientId: string;
  issuer: string;
  /** Identity subject → database role. */
  roles: [string, string][];
}

export type PostGraphileServer = ChildServer;

const CHILD_FLAG = 'PGC_BENCH_POSTGRAPHILE_CHILD';

/** Starts the server in a child process (this file, forked with the parent's tsx loader). */
export function startPostGraphile(config: PostGraphileConfig): Promise<PostGraphileServer> {
  return startChildServer(fileURLToPath(import.meta.url), CHILD_FLAG, config, 'PostGraphile');
}

function httpError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

async function serve(config: PostGraphileConfig): Promise<{ url: string; close(): Promise<void> }> {
  const require = createRequire(import.meta.url);
  const postgraphileDir = dirname(require.resolve('postgraphile/package.json'));
  const loader = Module as unknown as {
    _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  };
  const resolveFilename = loader._resolveFilename;
  loader._resolveFilename = function (request, parent, isMain, options) {
    if (request === 'graphql' || request.startsWith('graphql/')) {
      return resolveFilename.call(this, request, parent, isMain, { paths: [postgraphileDir] });
    }
    return resolveFilename.call(this, request, parent, isMain, options);
  };
  const { postgraphile } = require('postgraphile') as { postgraphile: typeof PostGraphile };
  const jwt = require('jsonwebtoken') as typeof import('jsonwebtoken');

  const jwks = (await (await fetch(config.jwksUri)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const keys = new Map<string, KeyObject>(
    jwks.keys.map((key) => [key.kid, createPublicKey({ key, format: 'jwk' })]),
  );
  const verifyOptions: VerifyOptions & { complete?: false } = {
    algorithms: ['RS256'],
    audience: config.clientId,
    issuer: config.issuer,
  };
  const getKey: GetPublicKeyOrSecret = (header, callback) => {
    const key = header.kid === undefined ? undefined : keys.get(header.kid);
    if (key) callback(null, key);
    else callback(new Error('unknown key'));
  };
  const verify = (token: string) =>
    new Promise<JwtPayload>((resolve, reject) =>
      jwt.verify(token, getKey, verifyOptions, (error, decoded) => {
        if (error || !decoded || typeof decoded === 'string') reject(error ?? new Error('bad payload'));
        else resolve(decoded);
      }),
    );
  const roles = new Map(config.roles);

  const pool = new pg.Pool({ connectionString: config.connectionString, max: config.poolSize });
  pool.on('error', () => {});
  const handler = postgraphile(pool, config.schema, {
    pgSettings: async (req: IncomingMessage) => {
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!match) throw httpError(401, 'Valid authorization header not provided.');
      let claims: JwtPayload;
      try {
        claims = await verify(match[1] as string);
      } catch {
        throw httpError(401, 'Invalid token.');
      }
      const role = claims.sub === undefined ? undefined : roles.get(claims.sub);
      if (!role) throw httpError(401, 'Unknown user.');
      return { role, 'request.jwt.claims': JSON.stringify(claims) };
    },
    disableQueryLog: true,
    retryOnInitFail: false,
    graphiql: false,
    watchPg: false,
  });
  // Build the schema now (introspection), not on the first request.
  await handler.getGraphQLSchema();
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end().catch(() => {});
    },
  };
}

serveInChild<PostGraphileConfig>(CHILD_FLAG, serve);
