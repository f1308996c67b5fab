import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrator.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

describe('migrator', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ migrate: false });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('applies every migration once, then skips them all', async () => {
    const first = await migrate(cluster.admin);
    expect(first.length).toBeGreaterThan(0);
    expect(first.every((r) => r.status === 'applied')).toBe(true);
    const second = await migrate(cluster.admin);
    expect(second.map((r) => r.status)).toEqual(first.map(() => 'skipped'));
    const { rows } = await cluster.admin.query('select count(*)::int as n from cognition.schema_migrations');
    expect(rows[0].n).toBe(first.length);
  });

  it('forces row-level security on every cognition table', async () => {
    const { rows } = await cluster.admin.query(`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'cognition' and c.relkind = 'r' and c.relname <> 'schema_migrations'`);
    expect(rows.length).toBeGreaterThan(3);
    for (const row of rows) {
      expect(row, row.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    }
  });

  it('serialises concurrent migrators with the advisory lock', async () => {
    const pg = await import('pg');
    const other = new pg.default.Client({ connectionString: cluster.url });
    await other.connect();
    try {
      const results = await Promise.all([migrate(cluster.admin), migrate(other)]);
      expect(results.flat().every((r) => r.status === 'skipped')).toBe(true);
    } finally {
      await other.end();
    }
  });

  it('gives up with a clear error when another session holds the migration lock', async () => {
    const pg = await import('pg');
    const holder = new pg.default.Client({ connectionString: cluster.url });
    await holder.connect();
    try {
      // Any role may take advisory locks, a user's included: waiting forever would let it stall migrations.
      await holder.query('select pg_advisory_lock(7304113505)');
      const started = performance.now();
      await expect(migrate(cluster.admin, { lockWaitMs: 300 })).rejects.toMatchObject({
        code: 'ERR_MIGRATION_FAILED',
      });
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await holder.end();
    }
    expect((await migrate(cluster.admin)).every((r) => r.status === 'skipped')).toBe(true);
  });
});
