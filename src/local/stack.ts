import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cognition } from '../cognition.js';
import { createCognitoTriggers } from '../cognito/triggers.js';
import { createSecretStore, type SecretStoreConfig } from '../secrets/secret-store.js';
import { createDataSource } from '../appsync/data-source.js';
import { cognitoAdmin, type IdentityProviderAdmin } from '../identity/identity-provider-admin.js';
import { createTokenVerifier } from '../identity/token-verifier.js';
import type { LocalApp } from './app.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.js';
import { createGraphqlEndpoint, REALTIME_PATH, type GraphqlEndpoint } from './graphql/index.js';
import { startUserPool, type UserPool } from './user-pool/index.js';

export interface LocalStackOptions {
  /** The project folder for local state (`.cognition`). */
  home: string;
  /** Another Postgres instead of the embedded one (expected to be migrated by the caller, or `migrate`). */
  databaseUrl?: string;
  secrets?: SecretStoreConfig;
  secretPrefix?: string;
  /** Port of the local user pool (0: any free port). */
  port?: number;
  /** The application: its template is applied, and its GraphQL schema served at /graphql. */
  app?: LocalApp;
  log?: (line: string) => void;
  /**
   * The temporary password of logins that resolvers such as `addUser` create on the local pool
   * (default: generated, and printed through `log`). For tests.
   */
  temporaryPassword?: (email: string) => string;
}

export interface LocalStack {
  cognition: Cognition;
  databaseUrl: string;
  embedded?: EmbeddedServer;
  userPool: UserPool;
  /** Set when the application has a GraphQL schema. */
  graphql?: GraphqlEndpoint;
  close(): Promise<void>;
}

/** What other local tools (the CLI, the example scripts) read to find the running stack. */
export interface StackInfo {
  userPool: { url: string; poolId: string; clientId: string; issuer: string; jwksUri: string };
  graphql?: { url: string; explorer: string; realtime?: string };
}

export const STACK_INFO_FILE = 'stack.json';

/**
 * The development stack on one machine and one port: Postgres (embedded unless a URL is
 * given), migrated; the local Cognito-compatible user pool wired to the same trigger handlers
 * that run in AWS Lambda; and, for an application with a GraphQL schema, the local
 * AppSync-compatible endpoint calling the same data source handler, in process.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => {});
  let embedded: EmbeddedServer | undefined;
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dir: join(options.home, 'postgres') });
    databaseUrl = embedded.url;
  }
  const secrets = await createSecretStore(
    options.secrets ?? { kind: 'local', dir: join(options.home, 'secrets') },
  );
  const cognition = Cognition.create({
    databaseUrl,
    secrets,
    secretPrefix: options.secretPrefix ?? 'pg-cognition',
  });
  let userPool: UserPool | undefined;
  let graphql: GraphqlEndpoint | undefined;
  // The local pool's admin API, once the pool is up: resolvers such as addUser create logins there.
  let admin: IdentityProviderAdmin | undefined;
  const dataSource = options.app?.graphql
    ? createDataSource({
        cognition,
        resolvers: options.app.graphql.resolvers,
        identityProvider: {
          createUser: async (user) => {
            if (!admin) throw new Error('the local user pool is not running');
            return admin.createUser(user);
          },
        },
      })
    : undefined;
  try {
    await cognition.migrate();
    // Roles first: the template's grants name their global roles.
    const declaration = options.app?.tenantRoles;
    if (declaration && !(await cognition.tenantRoles.matches(declaration))) {
      const roles = await cognition.tenantRoles.declare(declaration);
      log(`tenant roles: ${roles.map((r) => r.name).join(' > ')}`);
    }
    if (options.app) await cognition.migrateTemplates({ dir: options.app.templateDir });
    const triggers = createCognitoTriggers({ cognition });
    userPool = await startUserPool({
      dir: join(options.home, 'user-pool'),
      port: options.port ?? 0,
      triggers: triggers.handler,
      log,
      // The GraphQL endpoint shares the port; it exists once the pool's issuer is known.
      routes: async (request, response) => (graphql ? graphql.handle(request, response) : false),
      // Its real-time (subscriptions) endpoint too: ws://<host>:<port>/graphql/realtime.
      upgrade: (request, socket, head) => graphql?.realtime.handleUpgrade(request, socket, head) ?? false,
    });
    admin = cognitoAdmin({
      userPoolId: userPool.poolId,
      endpoint: userPool.url,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...(options.temporaryPassword && { temporaryPassword: options.temporaryPassword }),
    });
    if (options.app?.graphql && dataSource) {
      graphql = createGraphqlEndpoint({
        schema: options.app.graphql.schema,
        resolvers: options.app.graphql.resolvers,
        dataSource: dataSource.handler,
        verifier: createTokenVerifier({ issuer: userPool.issuer, clientId: userPool.clientId }),
        issuer: userPool.issuer,
        explorer: { userPoolUrl: userPool.url, clientId: userPool.clientId },
        log,
      });
    }
    const info: StackInfo = {
      userPool: {
        url: userPool.url,
        poolId: userPool.poolId,
        clientId: userPool.clientId,
        issuer: userPool.issuer,
        jwksUri: userPool.jwksUri,
      },
      ...(graphql
        ? {
            graphql: {
              url: `${userPool.url}/graphql`,
              explorer: `${userPool.url}/explorer`,
              realtime: `${userPool.url.replace(/^http/, 'ws')}${REALTIME_PATH}`,
            },
          }
        : {}),
    };
    await writeFile(join(options.home, STACK_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  } catch (error) {
    await userPool?.close().catch(() => {});
    await dataSource?.close().catch(() => {});
    await cognition.close().catch(() => {});
    if (embedded?.owned) await embedded.stop();
    throw error;
  }
  const pool = userPool;
  const stack: LocalStack = {
    cognition,
    databaseUrl,
    userPool: pool,
    async close() {
      // Upgraded sockets are not the HTTP server's to close: end the WebSocket connections first.
      await graphql?.realtime.close().catch(() => {});
      await pool.close().catch(() => {});
      await dataSource?.close().catch(() => {});
      await cognition.close().catch(() => {});
      if (embedded?.owned) await embedded.stop();
    },
  };
  if (embedded) stack.embedded = embedded;
  if (graphql) stack.graphql = graphql;
  return stack;
}
