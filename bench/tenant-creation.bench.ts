import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cognition } from '../src/cognition.js';
import { LocalSecretStore } from '../src/secrets/local-secret-store.js';
import { startCluster } from '../test/support/cluster.js';
import { median, round, type BenchFigure } from './result.js';

const TEMPLATE = fileURLToPath(new URL('./templates/saas20/', import.meta.url));
const TENANTS = Number(process.env.BENCH_TENANTS ?? 200);

// Creating tenants one after another with a realistic 20-table template: the median time per
// tenant, and whether it stays flat (the last 50 against the first 50). The baseline is the
// part every schema-per-tenant system pays regardless of the template: the tenant's row,
// schema and roles alone (an empty template), measured on the same cluster in the same run.
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
    const { rows } = await cluster.admin.query<{ n: number }>(
      "select count(*)::int as n from pg_tables where schemaname = 'tenant_template'",
    );
    const times: number[] = [];
    for (let i = 0; i < TENANTS; i++) {
      const started = performance.now();
      await cognition.tenants.create({ slug: `t${i}`, name: `Tenant ${i}` });
      times.push(performance.now() - started);
      if ((i + 1) % 50 === 0)
        process.stdout.write(`  ${i + 1}/${TENANTS} tenants, median ${round(median(times), 1)} ms\n`);
    }
    const first = median(times.slice(0, 50));
    const last = median(times.slice(-50));
    const med = round(median(times), 1);
    const flat = round(last / first, 3);
    return [
      {
        bench: 'tenant-creation',
        name: `create a tenant, ${rows[0]?.n}-table template (median of ${TENANTS})`,
        value: med,
        unit: 'ms',
        baseline: { name: 'row + schema + roles only (empty template)', value: round(median(shell), 1) },
        ratio: round(med / median(shell), 2),
        ratioMeaning: 'template tenant / empty tenant',
        target: '≤ 100 ms',
        met: med <= 100,
      },
      {
        bench: 'tenant-creation',
        name: 'tenant creation, last 50 / first 50 (medians)',
        value: flat,
        unit: '×',
        baseline: { name: 'first 50 median', value: round(first, 1) },
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
