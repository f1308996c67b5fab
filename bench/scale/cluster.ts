import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrator.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/local/embedded-postgres.js';

export interface ScaleCluster {
  server: EmbeddedServer;
  url: string;
  dir: string;
  /** Superuser client for measurements; closed by stop(). */
  admin: pg.Client;
  stop(): Promise<void>;
}

/**
 * A private embedded cluster, migrated, like test/support/cluster.ts, but in `BENCH_DIR` when
 * set (10,000 tenants take gigabytes: pick a disk that has them) and with extra server settings.
 */
export async function startScaleCluster(
  settings: Record<string, string | number> = {},
  prefix = 'pgc-scale-',
): Promise<ScaleCluster> {
  const dir = await mkdtemp(join(process.env.BENCH_DIR || tmpdir(), prefix));
  await chmod(dir, 0o711);
  const server = await startEmbeddedPostgres({ dir: join(dir, 'pg'), settings });
  const admin = new pg.Client({ connectionString: server.url, application_name: 'bench admin' });
  await admin.connect();
  await migrate(admin);
  return {
    server,
    url: server.url,
    dir,
    admin,
    async stop() {
      await admin.end().catch(() => {});
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
