import { median, round, type BenchFigure } from '../result.js';
import type { CatalogSize, MemoryFigures } from './catalog.js';
import type { Bucket } from './create-tenants.js';
import { medianRatio } from './request-rate.js';
import type { ParallelResult } from './parallel.js';
import type { RolloutResult } from './rollout.js';

export interface ScaleMeasurements {
  tenants: number;
  workers: number;
  rolloutConcurrency: number;
  settings: string;
  perBucket: Bucket[];
  creationSeconds: number;
  /** The template's raw DDL, ms, in pairs: on the 10-tenant cluster and at N. */
  rawDdl: { ten: number[]; big: number[] };
  catalog10: CatalogSize;
  catalogN: CatalogSize;
  vacuum: string;
  /** Per-round rates of every way, measured in the same rounds on both clusters. */
  rates: Record<string, number[]>;
  spreadTenants: number;
  memory10: MemoryFigures;
  memoryN: MemoryFigures;
  private10: number[];
  privateN: number[];
  parallel: ParallelResult;
  rollout: RolloutResult;
}

const BENCH = 'tenant-scale';
const TARGET_FLAT = 1.2;
const TARGET_RATE = 0.9;
const TARGET_ROLLOUT_MIN = 10;

function rate(rates: Record<string, number[]>, name: string): number {
  return Math.round(median(rates[name] ?? []));
}

export function scaleFigures(m: ScaleMeasurements): BenchFigure[] {
  const n = m.tenants;
  const first = m.perBucket[0] as Bucket;
  const last = m.perBucket.at(-1) as Bucket;
  const flat = round(last.medianMs / first.medianMs, 3);
  const perTenantMb = (a: CatalogSize['databaseMb'], b: CatalogSize['databaseMb']) =>
    round(((a - b) / (n - 10)) * 1024, 0);

  const rsSpread = rate(m.rates, 'role-switch at N, spread');
  const rsFirst10 = rate(m.rates, 'role-switch at N, first 10');
  const rs10 = rate(m.rates, 'role-switch, 10 tenants');
  const raw10 = rate(m.rates, 'raw, 10 tenants');
  const rawSpread = rate(m.rates, 'raw at N, spread');
  const spreadRatio = round(
    medianRatio(m.rates['role-switch at N, spread'] ?? [], m.rates['role-switch, 10 tenants'] ?? []),
    3,
  );
  const rawDdlTen = median(m.rawDdl.ten);
  const rawDdlBig = median(m.rawDdl.big);

  const oneK = m.memoryN.oneTable;
  const perTenantKb = (hi: { cacheMb: number; tenants: number }, lo: { cacheMb: number; tenants: number }) =>
    round(((hi.cacheMb - lo.cacheMb) * 1024) / (hi.tenants - lo.tenants), 1);

  const r = m.rollout;
  const minutes = round(r.totalMs / 60_000, 2);
  const per10k = round(((r.totalMs / r.tenants) * 10_000) / 60_000, 2);
  const resumed = r.resume.report.tenants;

  return [
    {
      bench: BENCH,
      name: `tenant creation (saas20), last ${n / 10} / first ${n / 10} (medians per tenant)`,
      value: flat,
      unit: '×',
      baseline: { name: `first bucket median (ms)`, value: first.medianMs },
      ratio: flat,
      ratioMeaning: `last bucket median ${last.medianMs} ms / first bucket median`,
      target: `≤ ${TARGET_FLAT} (flat)`,
      met: flat <= TARGET_FLAT,
      notes:
        `${m.workers} creating at a time; per bucket (median ms / p90 ms / tenants per s): ` +
        m.perBucket.map((b) => `${b.from}-${b.to}: ${b.medianMs} / ${b.p90Ms} / ${b.perSecond}`).join('; '),
    },
    {
      bench: BENCH,
      name: `create ${n} tenants (saas20), total`,
      value: round(m.creationSeconds, 0),
      unit: 's',
      baseline: {
        name: `${n} × the template's raw DDL on the 10-tenant cluster`,
        value: round((n * rawDdlTen) / 1000, 0),
      },
      ratio: round(m.creationSeconds / ((n * rawDdlTen) / 1000), 3),
      ratioMeaning: `total / (N × raw DDL median); ${m.workers} caller(s)`,
      notes:
        `${round(n / m.creationSeconds, 1)} tenants/s; two concurrent callers at N: ${round(median(m.parallel.two), 1)} ms per tenant (wall) ` +
        `vs one: ${round(median(m.parallel.one), 1)} ms (${round(median(m.parallel.two) / median(m.parallel.one), 2)}×, ` +
        `${m.parallel.one.length} alternating rounds of 20; latency with two: ${m.parallel.twoLatency} ms): creations serialize on the ` +
        `lock that granting tenant_users / tenant_admins takes on the global role until commit`,
    },
    {
      bench: BENCH,
      name: `the template's raw DDL at ${n} tenants`,
      value: round(rawDdlBig, 1),
      unit: 'ms',
      baseline: { name: 'the same on the 10-tenant cluster', value: round(rawDdlTen, 1) },
      ratio: round(rawDdlBig / rawDdlTen, 3),
      ratioMeaning: 'what Postgres itself pays per tenant as its catalogs grow (medians of 7 pairs)',
    },
    {
      bench: BENCH,
      name: `database size at ${n} tenants`,
      value: round(m.catalogN.databaseMb, 0),
      unit: 'MB',
      baseline: { name: 'at 10 tenants', value: round(m.catalog10.databaseMb, 0) },
      ratio: round(m.catalogN.databaseMb / m.catalog10.databaseMb, 1),
      notes: `${perTenantMb(m.catalogN.databaseMb, m.catalog10.databaseMb)} kB per tenant (empty tables; indexes and catalogs)`,
    },
    {
      bench: BENCH,
      name: `catalog size (pg_catalog) at ${n} tenants`,
      value: round(m.catalogN.catalogMb, 0),
      unit: 'MB',
      baseline: { name: 'at 10 tenants', value: round(m.catalog10.catalogMb, 0) },
      ratio: round(m.catalogN.catalogMb / m.catalog10.catalogMb, 1),
      notes:
        `${perTenantMb(m.catalogN.catalogMb, m.catalog10.catalogMb)} kB per tenant; largest: ` +
        m.catalogN.largest.map((c) => `${c.name} ${c.mb} MB`).join(', ') +
        `; ${m.catalogN.counts.relations} relations, ${m.catalogN.counts.attributes} attributes, ` +
        `${m.catalogN.counts.depends} pg_depend rows, ${m.catalogN.counts.roles} roles, ` +
        `${m.catalogN.counts.memberships} memberships; autovacuum: ${m.vacuum}; settings: ${m.settings}`,
    },
    {
      bench: BENCH,
      name: `authorized request (role switch, PK read) at ${n} tenants, users in ${m.spreadTenants} tenants`,
      value: rsSpread,
      unit: 'req/s',
      baseline: { name: 'the same on a 10-tenant cluster (20 users), same rounds', value: rs10 },
      ratio: spreadRatio,
      ratioMeaning: 'at N / at 10, median of the per-round ratios',
      target: `≥ ${TARGET_RATE} (within 10%)`,
      met: spreadRatio >= TARGET_RATE,
      notes:
        `16 concurrent, pool 16 on each cluster, 7 interleaved rounds; at N the first 10 tenants' users: ${rsFirst10} req/s; ` +
        `raw superuser query: ${rawSpread} req/s at N spread, ${raw10} req/s at 10`,
    },
    {
      bench: BENCH,
      name: `backend cache memory after reading one table in ${oneK.tenants} tenants`,
      value: oneK.cacheMb,
      unit: 'MB',
      baseline: { name: `after ${m.memory10.oneTable.tenants} tenants`, value: m.memory10.oneTable.cacheMb },
      ratio: round(oneK.cacheMb / m.memory10.oneTable.cacheMb, 1),
      notes:
        `CacheMemoryContext (relcache, catcache); ${perTenantKb(oneK, m.memory10.oneTable)} kB per tenant touched; ` +
        `all memory contexts ${oneK.totalMb} MB; all 20 tables in ${m.memoryN.allTables.tenants} tenants: ` +
        `${m.memoryN.allTables.cacheMb} MB (${perTenantKb(m.memoryN.allTables, m.memory10.allTables)} kB per tenant); ` +
        `role-switch pool backends' private memory (median): ${median(m.privateN)} MB at N after the spread run, ${median(m.private10)} MB at 10`,
    },
    {
      bench: BENCH,
      name: `template change (column + index) rolled out to ${r.tenants} tenants, interrupted and resumed`,
      value: minutes,
      unit: 'min',
      baseline: { name: 'the same per 10,000 tenants (linear)', value: per10k },
      ratio: round(r.totalMs / r.tenants, 1),
      ratioMeaning: 'ms per tenant (wall)',
      target: `≤ ${TARGET_ROLLOUT_MIN} min for 10,000`,
      met: per10k <= TARGET_ROLLOUT_MIN,
      notes:
        `concurrency ${m.rolloutConcurrency}; first run cut off after ${r.firstRun.done} tenants (${round(r.firstRun.ms / 1000, 1)} s) ` +
        `with one tenant's table locked by another session (lock_timeout 1 s: recorded as failed, the others went on); ` +
        `the resume (${round(r.resume.ms / 1000, 1)} s) migrated ${resumed.migrated}, found ${resumed.upToDate} up to date, ` +
        `${resumed.failed.length} failed; afterwards ${r.atVersion}/${r.tenants} tenants at the new version and ${r.withColumn} with the column`,
    },
  ];
}
