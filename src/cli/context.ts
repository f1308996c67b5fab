import { resolve } from 'node:path';
import { Cognition } from '../cognition.js';
import { CognitionError } from '../errors.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../local/embedded-postgres.js';
import { createSecretStore, type SecretStoreConfig } from '../secrets/secret-store.js';
import type { Output } from './output.js';

export interface Context {
  cognition: Cognition;
  /** Set when the database is the embedded one. */
  embedded?: EmbeddedServer;
  home: string;
  databaseUrl: string;
  close(): Promise<void>;
}

/** The project folder for local state (database, secrets); COGNITION_HOME overrides it. */
export function cognitionHome(): string {
  return resolve(process.env.COGNITION_HOME ?? '.cognition');
}

export function secretStoreConfig(home: string): SecretStoreConfig {
  const kind = process.env.COGNITION_SECRET_STORE ?? 'local';
  if (kind === 'local') return { kind: 'local', dir: resolve(home, 'secrets') };
  if (kind === 'aws') {
    const config: SecretStoreConfig = {
      kind: 'aws',
      prefix: process.env.COGNITION_SECRET_PREFIX ?? 'pg-cognition',
    };
    if (process.env.AWS_REGION) config.region = process.env.AWS_REGION;
    if (process.env.COGNITION_SECRETS_ENDPOINT) config.endpoint = process.env.COGNITION_SECRETS_ENDPOINT;
    return config;
  }
  throw new CognitionError('ERR_CONFIG', `COGNITION_SECRET_STORE must be local or aws, not "${kind}"`);
}

/**
 * Connects to DATABASE_URL, or to the embedded Postgres under the project folder (started
 * for the duration of the command unless `npm start` already runs it). The embedded
 * database is migrated on the way in; another database is expected to be migrated with
 * `pg-cognition migrate`.
 */
export async function openContext(out: Output, options: { migrate?: boolean } = {}): Promise<Context> {
  const home = cognitionHome();
  let embedded: EmbeddedServer | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dir: resolve(home, 'postgres') });
    databaseUrl = embedded.url;
  }
  const secrets = await createSecretStore(secretStoreConfig(home));
  const cognition = Cognition.create({
    databaseUrl,
    secrets,
    secretPrefix: process.env.COGNITION_SECRET_PREFIX ?? 'pg-cognition',
  });
  const close = async () => {
    await cognition.close().catch(() => {});
    if (embedded?.owned) await embedded.stop();
  };
  try {
    if (embedded && options.migrate !== false) {
      const results = await cognition.migrate();
      const applied = results.filter((r) => r.status === 'applied');
      if (applied.length > 0) out.info(`applied ${applied.length} migration(s) to the embedded database`);
    } else if (options.migrate !== false) {
      const { rows } = await cognition.pool.query<{ ok: boolean }>(
        "select to_regclass('cognition.users') is not null as ok",
      );
      if (!rows[0]?.ok) {
        throw new CognitionError(
          'ERR_CONFIG',
          'this database has no cognition schema yet: run `pg-cognition migrate`',
        );
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  const context: Context = { cognition, home, databaseUrl, close };
  if (embedded) context.embedded = embedded;
  return context;
}

/** Runs `fn` with an open context and always closes it (stopping a Postgres it started). */
export async function withContext<T>(
  out: Output,
  ...args: [(ctx: Context) => Promise<T>] | [{ migrate?: boolean }, (ctx: Context) => Promise<T>]
): Promise<T> {
  const [options, fn] = args.length === 1 ? [{}, args[0]] : args;
  const ctx = await openContext(out, options);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
