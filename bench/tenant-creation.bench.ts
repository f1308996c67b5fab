import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { Cognition } from '../src/cognition.js';
import { LocalSecretStore } from '../src/secrets/local-secret-store.js';
import { startCluster } from '../test/support/cluster.js';
import { median, round, type BenchFigure } from './result.js';

const TEMPLATE = fileURLToPath(new URL('./templates/saas20/', import.meta.url));
const TENANTS = Number(process.env.BENCH_TENANTS ?? 200);

/** The template's own DDL run directly into a new schema and committed (dropped afterwards, untimed). */
async function rawDdl(client: pg.ClientBase, sql: string, i: number): Promise<number> {
  const started = performance.now();
  await client.query(
    `begin; set local role cognition_owner; create schema raw_${i}; set local search_path = raw_${i}; ${sql}; commit`,
  );
  const ms = performance.now() - started;
  await client.query(`drop schema raw_${i} cascade`);
  return ms;
}

// Creating tenants one after another with a realistic 20-table template: the median time per
// tenant and whether it stays flat (the last 50 against the first 50). Baselines from the same
// run, interleaved so that machine noise hits both alike: the template's own DDL executed
// directly (what any schema-per-tenant system pays), and a tenant with an empty template
// (row + schema + roles).
export async function run(): Promise<BenchFigure[]> {
  const cluster = await startCluster();
  const cognition = Cognition.create({
    databaseUrl: cluster.url,
    secrets: new LocalSecretStore({ dir: join(cluster.dir, 'secrets') }),
  });
  try {
    const shell: number[] = [];
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      await cognition.tenants.create({ slug: `empty${i}`, name: `Empty ${i}` });
      shell.push(performance.now() - started);
    }
    await cognition.migrateTemplates({ dir: TEMPLATE });
    const ddl = await readFile(join(TEMPLATE, '0001_schema.sql'), 'utf8');
    const { rows } = await cluster.admin.query<{ n: number }>(
      "select count(*)::int as n from pg_tables where schemaname = 'tenant_template'",
    );
    const times: number[] = [];
    for (let i = 0; i < TENANTS; i++) {
      const started = performance.now();
      await cognition.tenants.create({ slug: `t${i}`, name: `Tenant ${i}` });
      times.push(performance.now() - started);
      if ((i + 1) % 50 === 0) {
        process.stdout.write(`  ${i + 1}/${TENANTS} tenants, median ${round(median(times), 1)} ms\n`);
      }
    }
    // Then pairs, so that machine noise hits both alike: a tenant, and the raw DDL.
    const paired: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < 25; i++) {
      const started = performance.now();
      await cognition.tenants.create({ slug: `p${i}`, name: `Paired ${i}` });
      paired.push(performance.now() - started);
      raw.push(await rawDdl(cluster.admin, ddl, i));
    }
    const first = median(times.slice(0, 50));
    const last = median(times.slice(-50));
    const med = round(median(times), 1);
    const flat = round(last / first, 3);
    const rawMedian = round(median(raw), 1);
    return [
      {
        bench: 'tenant-creation',
        name: `create a tenant, ${rows[0]?.n}-table template (median of ${TENANTS})`,
        value: med,
        unit: 'ms',
        baseline: { name: "the template's DDL run directly (25 interleaved pairs)", value: rawMedian },
        ratio: round(median(paired) / rawMedian, 3),
        ratioMeaning: `tenant creation in the same pairs (${round(median(paired), 1)} ms) / raw DDL`,
        target: '≤ 100 ms',
        met: med <= 100,
        notes: `row + schema + roles alone (empty template): ${round(median(shell), 1)} ms`,
      },
      {
        bench: 'tenant-creation',
        name: 'tenant creation, last 50 / first 50 (medians)',
        value: flat,
        unit: '×',
        baseline: { name: 'first 50 median (ms)', value: round(first, 1) },
        ratio: flat,
        ratioMeaning: `last 50 median ${round(last, 1)} ms / first 50 median`,
        target: '≤ 1.2',
        met: flat <= 1.2,
      },
    ];
  } finally {
    await cognition.close();
    await cluster.stop();
  }
}
