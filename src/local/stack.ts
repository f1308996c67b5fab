import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cognition } from '../cognition.js';
import { createCognitoTriggers } from '../cognito/triggers.js';
import { createSecretStore, type SecretStoreConfig } from '../secrets/secret-store.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.js';
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
  log?: (line: string) => void;
}

export interface LocalStack {
  cognition: Cognition;
  databaseUrl: string;
  embedded?: EmbeddedServer;
  userPool: UserPool;
  close(): Promise<void>;
}

/** What other local tools (the CLI, the example scripts) read to find the running stack. */
export interface StackInfo {
  userPool: { url: string; poolId: string; clientId: string; issuer: string; jwksUri: string };
}

export const STACK_INFO_FILE = 'stack.json';

/**
 * The development stack on one machine: Postgres (embedded unless a URL is given), migrated,
 * and the local Cognito-compatible user pool wired to the same trigger handlers that run in
 * AWS Lambda, called in process with Cognito's event shapes.
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
  try {
    await cognition.migrate();
    const triggers = createCognitoTriggers({ cognition });
    userPool = await startUserPool({
      dir: join(options.home, 'user-pool'),
      port: options.port ?? 0,
      triggers: triggers.handler,
      log,
    });
    const info: StackInfo = {
      userPool: {
        url: userPool.url,
        poolId: userPool.poolId,
        clientId: userPool.clientId,
        issuer: userPool.issuer,
        jwksUri: userPool.jwksUri,
      },
    };
    await writeFile(join(options.home, STACK_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  } catch (error) {
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
      await pool.close().catch(() => {});
      await cognition.close().catch(() => {});
      if (embedded?.owned) await embedded.stop();
    },
  };
  if (embedded) stack.embedded = embedded;
  return stack;
}
