import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrator.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/local/embedded-postgres.js';
import { startSystemPostgres } from './system-postgres.js';

export interface TestCluster {
  server: EmbeddedServer;
  /** Superuser URL of the test database. */
  url: string;
  dir: string;
  /** A client connected as the superuser; closed by stop(). */
  admin: pg.Client;
  stop(): Promise<void>;
}

/**
 * A private Postgres cluster for one test file (the embedded one, or another installation's
 * binaries when COGNITION_TEST_PG_BIN names their folder): roles are cluster-wide, so test files that
 * create tenants and users must not share a cluster.
 */
export async function startCluster(options: { migrate?: boolean } = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'pgc-test-'));
  await chmod(dir, 0o711);
  const binDir = process.env.COGNITION_TEST_PG_BIN;
  const server = binDir
    ? await startSystemPostgres(binDir, join(dir, 'pg'))
    : await startEmbeddedPostgres({ dir: join(dir, 'pg') });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  if (options.migrate !== false) await migrate(admin);
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
