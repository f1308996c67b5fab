import { join } from 'node:path';
import { Cognition } from '../src/cognition.js';
import { createPool } from '../src/db/pool.js';
import { LocalSecretStore } from '../src/secrets/local-secret-store.js';
import { NOTES_TEMPLATE } from '../test/support/stack.js';
import { startCluster } from '../test/support/cluster.js';
import { median, percentile, round, type BenchFigure } from './result.js';

// The same primary-key query three ways, interleaved round by round so that machine noise
// hits all of them alike: raw through a pool of the same size (the baseline), and as a user
// through each executor.
const ROUNDS = 7;
const REQUESTS = 4000;
const CONCURRENCY = 16;
const POOL = 16;
const LATENCY_SAMPLES = 2000;

type Run = () => Promise<unknown>;

async function throughput(run: Run, requests: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) await run();
    }),
  );
  return requests / ((performance.now() - started) / 1000);
}

async function latencies(run: Run, samples: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await run();
    out.push((performance.now() - t) * 1000);
  }
  return out;
}

export async function run(): Promise<BenchFigure[]> {
  const cluster = await startCluster();
  const cognition = Cognition.create({
    databaseUrl: cluster.url,
    secrets: new LocalSecretStore({ dir: join(cluster.dir, 'secrets') }),
    executorPoolSize: POOL,
    connectionsPerUser: POOL,
  });
  const raw = createPool(cluster.url, { max: POOL });
  try {
    await cognition.migrateTemplates({ dir: NOTES_TEMPLATE });
    await cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    await cognition.users.invite({ email: 'alice@acme.test', tenant: 'acme', role: 'user' });
    const { user } = await cognition.users.provision('alice@acme.test');
    await cognition.runAs(
      user,
      "insert into notes (title, body) select 'note ' || g, repeat('x', 200) from generate_series(1, 1000) g",
    );
    const as = { dbUsername: user.dbUsername as string, schema: user.tenantSchema };
    const roleSwitch = await cognition.executor('role-switch');
    const credentials = await cognition.executor('credentials');
    const sql = 'select id, title, body, owner_id, created_at from notes where id = $1';
    const rawSql = 'select id, title, body, owner_id, created_at from tenant_acme.notes where id = $1';
    const id = () => 1 + Math.floor(Math.random() * 1000);
    const runs: Record<string, Run> = {
      raw: () => raw.query({ name: 'bench_raw', text: rawSql, values: [id()] }),
      'role-switch': () => roleSwitch.run(as, sql, [id()]),
      credentials: () => credentials.run(as, sql, [id()]),
    };
    // Warm every pool to its full size and every prepared statement.
    for (const r of Object.values(runs)) await throughput(r, 2000, CONCURRENCY);

    const rps: Record<string, number[]> = { raw: [], 'role-switch': [], credentials: [] };
    const ratios: Record<string, number[]> = { 'role-switch': [], credentials: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const r: Record<string, number> = {};
      for (const name of Object.keys(runs))
        r[name] = await throughput(runs[name] as Run, REQUESTS, CONCURRENCY);
      for (const name of Object.keys(rps)) rps[name]?.push(r[name] as number);
      for (const name of Object.keys(ratios)) ratios[name]?.push((r[name] as number) / (r.raw as number));
    }
    const lat: Record<string, number[]> = {};
    for (const name of Object.keys(runs)) lat[name] = await latencies(runs[name] as Run, LATENCY_SAMPLES);

    const figures: BenchFigure[] = [];
    for (const mode of ['role-switch', 'credentials'] as const) {
      const ratio = round(median(ratios[mode] as number[]), 3);
      figures.push({
        bench: 'run-as-user',
        name: `${mode} executor throughput (${CONCURRENCY} concurrent, pool ${POOL})`,
        value: Math.round(median(rps[mode] as number[])),
        unit: 'req/s',
        baseline: { name: 'raw query, same pool size', value: Math.round(median(rps.raw as number[])) },
        ratio,
        ratioMeaning: `executor / raw, median of ${ROUNDS} interleaved rounds`,
        target: '≥ 0.8',
        met: ratio >= 0.8,
      });
      figures.push({
        bench: 'run-as-user',
        name: `${mode} executor latency, one at a time (p50 / p99)`,
        value: round(median(lat[mode] as number[]), 1),
        unit: 'µs',
        baseline: { name: 'raw p50', value: round(median(lat.raw as number[]), 1) },
        ratio: round(median(lat.raw as number[]) / median(lat[mode] as number[]), 3),
        ratioMeaning: 'raw p50 / executor p50',
        notes: `p99 ${round(percentile(lat[mode] as number[], 99), 1)} µs vs raw p99 ${round(percentile(lat.raw as number[], 99), 1)} µs`,
      });
    }
    return figures;
  } finally {
    await raw.end();
    await cognition.close();
    await cluster.stop();
  }
}
