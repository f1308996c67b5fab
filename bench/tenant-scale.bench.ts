import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { Cognition } from '../src/cognition.js';
import { createPool } from '../src/db/pool.js';
import { median, round, type BenchFigure } from './result.js';
import { backendPrivateMb, catalogSize, catalogVacuumStats, memoryFigures } from './scale/catalog.js';
import { startScaleCluster, type ScaleCluster } from './scale/cluster.js';
import { buckets, createTenants, slugOf, wallSeconds } from './scale/create-tenants.js';
import { scaleFigures } from './scale/figures.js';
import { MemorySecretStore } from './scale/memory-secrets.js';
import { parallelCreation } from './scale/parallel.js';
import { rawDdlMedian } from './scale/raw-ddl.js';
import { interleavedRates, provisionUsers, rawRun, roleSwitchRun, throughput } from './scale/request-rate.js';
import { interruptedRollout } from './scale/rollout.js';
import { REPORTED_SETTINGS, SCALE_SETTINGS } from './scale/settings.js';

// N tenants of the realistic 20-table template on one embedded Postgres: creation time per
// tenant in buckets of N/10 (flat is the goal), database and catalog size, the authorized
// request path's rate at N (users spread over many tenants, so that every backend's relation
// cache fills) against a second cluster of 10 tenants measured in the same rounds, backend
// memory, and a template change rolled out to all N, cut off part-way and resumed.
// N: BENCH_TENANTS or `--tenants=N` (default 10,000); clusters under BENCH_DIR (default tmp).
const TEMPLATE = fileURLToPath(new URL('./templates/saas20/', import.meta.url));
const TENANTS = tenantCount();
// Concurrent callers of tenants.create. Two do not go faster (see parallel.ts), so one, which
// also keeps each creation's time its own rather than partly a wait for the other's.
const WORKERS = Number(process.env.BENCH_SCALE_WORKERS ?? 1);
const ROLLOUT_CONCURRENCY = Number(process.env.BENCH_ROLLOUT_CONCURRENCY ?? 4);
const POOL = 16;
const RATE = { rounds: 7, requests: 3000, concurrency: 16, warmup: 3000 };
const SPREAD_USERS = Math.min(1000, TENANTS - 10);
const MEMORY_TENANTS = Math.min(1000, TENANTS - 10);

function tenantCount(): number {
  const arg = process.argv.find((a) => a.startsWith('--tenants='))?.slice('--tenants='.length);
  const n = Number(arg ?? process.env.BENCH_TENANTS ?? 10_000);
  if (!Number.isInteger(n) || n < 40) throw new Error('the tenant count must be an integer ≥ 40');
  return n;
}

const log = (line: string) => process.stdout.write(`${line}\n`);

interface Side {
  cluster: ScaleCluster;
  cognition: Cognition;
  raw: pg.Pool;
  templateDir: string;
}

async function side(prefix: string): Promise<Side> {
  const cluster = await startScaleCluster(SCALE_SETTINGS, prefix);
  const cognition = Cognition.create({
    databaseUrl: cluster.url,
    secrets: new MemorySecretStore(),
    adminPoolSize: Math.max(2, WORKERS, ROLLOUT_CONCURRENCY) + 2,
    executorPoolSize: POOL,
  });
  const raw = createPool(cluster.url, { max: POOL, applicationName: 'bench raw' });
  const templateDir = join(cluster.dir, 'template');
  await mkdir(templateDir);
  await copyFile(join(TEMPLATE, '0001_schema.sql'), join(templateDir, '0001_schema.sql'));
  await cognition.migrateTemplates({ dir: templateDir });
  return { cluster, cognition, raw, templateDir };
}

async function close(s: Side | undefined): Promise<void> {
  if (!s) return;
  await s.raw.end().catch(() => {});
  await s.cognition.close().catch(() => {});
  await s.cluster.stop();
}

export async function run(): Promise<BenchFigure[]> {
  let big: Side | undefined;
  let ten: Side | undefined;
  try {
    big = await side('pgc-scale-');
    ten = await side('pgc-scale-ten-');
    const { rows: shown } = await big.cluster.admin.query<{
      name: string;
      setting: string;
      unit: string | null;
    }>('select name, setting, unit from pg_settings where name = any($1) order by name', [REPORTED_SETTINGS]);
    const settings = shown.map((s) => `${s.name}=${s.setting}${s.unit ?? ''}`).join(', ');
    log(
      `  clusters in ${big.cluster.dir} and ${ten.cluster.dir}; ${TENANTS} tenants, ${WORKERS} creating; ${settings}`,
    );

    // The reference: 10 tenants with two users each, kept running for the same-round comparisons.
    const tenSlugs = (await createTenants(ten.cognition, { from: 0, to: 10 }, { workers: 1 })).map(
      (c) => c.slug,
    );
    const tenUsers = await provisionUsers(ten.cognition, [...tenSlugs, ...tenSlugs], 'ten');

    const bucketSize = Math.round(TENANTS / 10);
    const recent: number[] = [];
    const started = performance.now();
    const created = await createTenants(
      big.cognition,
      { from: 0, to: TENANTS },
      {
        workers: WORKERS,
        onTenant: (tenant, done) => {
          recent.push(tenant.ms);
          if (done % bucketSize !== 0) return;
          const seconds = Math.round((performance.now() - started) / 1000);
          log(
            `  ${done}/${TENANTS} tenants, ${seconds} s; median since the last line ${round(median(recent.splice(0)), 1)} ms`,
          );
        },
      },
    );
    const creationSeconds = wallSeconds(created);
    const catalogN = await catalogSize(big.cluster.admin);
    const catalog10 = await catalogSize(ten.cluster.admin);
    const vacuum = await catalogVacuumStats(big.cluster.admin);
    log(
      `  created in ${round(creationSeconds, 0)} s; database ${catalogN.databaseMb} MB, catalog ${catalogN.catalogMb} MB`,
    );

    // The template's own DDL on each cluster, in pairs.
    const ddl = await readFile(join(TEMPLATE, '0001_schema.sql'), 'utf8');
    const rawDdl = { ten: [] as number[], big: [] as number[] };
    for (let i = 0; i < 7; i++) {
      rawDdl.ten.push(await rawDdlMedian(ten.cluster.admin, ddl, 1, `r${i}`));
      rawDdl.big.push(await rawDdlMedian(big.cluster.admin, ddl, 1, `r${i}`));
    }

    // At N: one user in each of SPREAD_USERS tenants spread evenly, and two in each of the first 10.
    const step = (TENANTS - 10) / SPREAD_USERS;
    const spreadSlugs = Array.from({ length: SPREAD_USERS }, (_, i) => slugOf(10 + Math.floor(i * step)));
    const spread = await provisionUsers(big.cognition, spreadSlugs, 'spread');
    const first10 = Array.from({ length: 10 }, (_, i) => slugOf(i));
    const bigTen = await provisionUsers(big.cognition, [...first10, ...first10], 'ten');
    const bigExecutor = await big.cognition.executor('role-switch');
    const tenExecutor = await ten.cognition.executor('role-switch');
    // Steady state: enough requests that every pooled connection has met every tenant of the
    // spread (n ln n each, the coupon collector's count), so that no round pays for first visits.
    const spreadWarmup = SPREAD_USERS * Math.ceil(Math.log(SPREAD_USERS)) * RATE.concurrency;
    await throughput(roleSwitchRun(bigExecutor, spread), spreadWarmup, RATE.concurrency);
    await throughput(rawRun(big.raw, spread), spreadWarmup, RATE.concurrency);
    const rates = await interleavedRates(
      {
        'role-switch, 10 tenants': roleSwitchRun(tenExecutor, tenUsers),
        'role-switch at N, spread': roleSwitchRun(bigExecutor, spread),
        'role-switch at N, first 10': roleSwitchRun(bigExecutor, bigTen),
        'raw, 10 tenants': rawRun(ten.raw, tenUsers),
        'raw at N, spread': rawRun(big.raw, spread),
      },
      RATE,
    );
    const private10 = await backendPrivateMb(ten.cluster.admin, 'pg-cognition role-switch');
    const privateN = await backendPrivateMb(big.cluster.admin, 'pg-cognition role-switch');
    log(
      `  role switch: ${Math.round(median(rates['role-switch at N, spread'] ?? []))} req/s at ${TENANTS} tenants over ${SPREAD_USERS}, ` +
        `${Math.round(median(rates['role-switch, 10 tenants'] ?? []))} req/s at 10`,
    );
    const memory10 = await memoryFigures(ten.cluster.url, tenSlugs);
    const memoryN = await memoryFigures(big.cluster.url, spreadSlugs.slice(0, MEMORY_TENANTS));
    const parallel = await parallelCreation(big.cognition, TENANTS, log);

    const rollout = await interruptedRollout(big.cognition, big.cluster.url, {
      dir: big.templateDir,
      tenants: TENANTS + parallel.created,
      concurrency: ROLLOUT_CONCURRENCY,
      lockTimeoutMs: 1000,
      interruptAfter: Math.round(TENANTS * 0.3),
      blocked: slugOf(Math.round(TENANTS * 0.1)),
      log,
    });
    if (rollout.atVersion !== rollout.tenants || rollout.withColumn !== rollout.tenants) {
      throw new Error(
        `rollout incomplete: ${rollout.atVersion} tenants recorded and ${rollout.withColumn} with the column, of ${rollout.tenants}`,
      );
    }

    return scaleFigures({
      tenants: TENANTS,
      workers: WORKERS,
      rolloutConcurrency: ROLLOUT_CONCURRENCY,
      settings,
      perBucket: buckets(created, bucketSize),
      creationSeconds,
      rawDdl,
      catalog10,
      catalogN,
      vacuum,
      rates,
      spreadTenants: SPREAD_USERS,
      memory10,
      memoryN,
      private10,
      privateN,
      parallel,
      rollout,
    });
  } finally {
    await close(ten);
    await close(big);
  }
}
