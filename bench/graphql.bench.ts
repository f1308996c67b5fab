import { cpus, loadavg } from 'node:os';
import { resolvers } from '../examples/agents/resolvers.js';
import type { RunAs } from '../src/db/executor.js';
import {
  graphqlTarget,
  IDS,
  LEAD,
  startAgentsFixture,
  TENANT_SCHEMA,
  type AgentsFixture,
} from './graphql-fixture.js';
import { guard, post } from './graphql-guard.js';
import { startLoadGenerator, type LoadGenerator, type LoadOptions, type LoadResult } from './http-load.js';
import { startPlainHttpServer, type PlainHttpServer } from './plain-http-server.js';
import { startPostGraphile, type PostGraphileServer } from './postgraphile-server.js';
import { measureTreeCpu } from './process-cpu.js';
import { generateSqlLoad } from './raw-sql-load.js';
import { median, percentile, round, type BenchFigure } from './result.js';

// The authorized single-row GraphQL query over HTTP, as the agency lead of the agents example:
// the local endpoint (token verification, AppSync auth directives, the data source in process,
// the role-switch executor) against PostGraphile v4 serving the same tenant schema, on the same
// database, with the same row-level security, role and JWT check. Both connect as
// cognition_authenticator with 20 connections, and each request runs as the user's own role.
// Two more baselines frame the headline query: a plain node:http server answering the same
// bytes (the platform's ceiling: HTTP alone) and the resolver's statement run through the
// endpoint's own pool as the same user from 20 loops in process (the database alone).
// The HTTP load (20 keep-alive connections, closed loops, no pipelining: what browsers and the
// AWS SDKs do) comes from a child process; every side is measured in interleaved short rounds
// whose order alternates (the machine may be shared: many short rounds keep a burst of someone
// else's work from landing on one side only); figures are medians over the rounds. Each round
// also records the CPU time of the server process, of Postgres (postmaster and backends) and of
// the load generator, which is how the two cores are split.
const ROUNDS = 11;
const ROUND_MS = 1500;
const WARMUP_MS = 2000;
const CONNECTIONS = 20;
const POOL = 20;
const TARGET_RATIO = 4;

interface Variant {
  name: string;
  ours: string;
  postgraphile: string;
  /** The figure the issue sets targets for; the ceiling baselines run for it alone. */
  headline: boolean;
}

// The same selection on both; PostGraphile's field names are aliased to the AppSync schema's,
// so both must answer with byte-for-byte the same `data`.
const VARIANTS: readonly Variant[] = [
  {
    name: 'single row',
    ours: 'query($id: ID!) { agent(id: $id) { codename } }',
    postgraphile: 'query($id: BigInt!) { agent: agentById(id: $id) { codename } }',
    headline: true,
  },
  {
    name: 'single row with its office (a nested field)',
    ours: 'query($id: ID!) { agent(id: $id) { codename office { name } } }',
    postgraphile:
      'query($id: BigInt!) { agent: agentById(id: $id) { codename office: officeByOfficeId { name } } }',
    headline: false,
  },
];

type Side = 'ours' | 'postgraphile' | 'plainHttp' | 'rawSql';

const SIDE_NAMES: Record<Side, string> = {
  ours: 'ours',
  postgraphile: 'PostGraphile',
  plainHttp: 'plain node:http',
  rawSql: 'raw SQL',
};

interface Runner {
  run(options: LoadOptions): Promise<LoadResult>;
  /** CPU time so far of the process that serves this side, in ms. */
  serverCpuMs(): Promise<number>;
}

/** Per side, over the rounds. */
interface Samples {
  rps: number[];
  latencies: number[];
  serverUs: number[];
  postgresUs: number[];
  loadUs: number[];
}

function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function check(result: LoadResult, who: string): LoadResult {
  if (result.errors > 0) {
    throw new Error(`${who}: ${result.errors} of ${result.completed} requests failed: ${result.firstError}`);
  }
  return result;
}

/** The lead's claims as the endpoint passes them on (the verified token's payload). */
function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] as string;
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
}

async function measureRounds(
  runners: Partial<Record<Side, Runner>>,
  postmasterPid: number,
): Promise<Partial<Record<Side, Samples>>> {
  const sides = Object.keys(runners) as Side[];
  const samples: Partial<Record<Side, Samples>> = {};
  for (const side of sides) {
    samples[side] = { rps: [], latencies: [], serverUs: [], postgresUs: [], loadUs: [] };
    check(
      await (runners[side] as Runner).run({ connections: CONNECTIONS, durationMs: WARMUP_MS }),
      `${side} warm-up`,
    );
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const runner = runners[side] as Runner;
      const s = samples[side] as Samples;
      const cpuBefore = await runner.serverCpuMs();
      const { result, cpuMs: postgresMs } = await measureTreeCpu(postmasterPid, () =>
        runner.run({ connections: CONNECTIONS, durationMs: ROUND_MS }),
      );
      check(result, side);
      const serverMs = (await runner.serverCpuMs()) - cpuBefore;
      s.rps.push(result.completed / (result.elapsedMs / 1000));
      s.serverUs.push((serverMs * 1000) / result.completed);
      s.postgresUs.push((postgresMs * 1000) / result.completed);
      s.loadUs.push(side === 'rawSql' ? 0 : (result.cpuMs * 1000) / result.completed);
      for (const l of result.latenciesUs) s.latencies.push(l);
    }
  }
  return samples;
}

/** Per-round ratios a/b of two sides' req/s (rounds pair them up in time). */
function ratios(a: Samples, b: Samples): number[] {
  return a.rps.map((x, i) => x / (b.rps[i] as number));
}

const ms = (s: Samples, p: number) => round(percentile(s.latencies, p) / 1000, 2);

function describeSide(side: Side, s: Samples): string {
  const load = side === 'rawSql' ? '' : `, load generator ${Math.round(median(s.loadUs))} µs`;
  return (
    `${SIDE_NAMES[side]}: ${Math.round(median(s.rps))} req/s, p50 ${ms(s, 50)} ms, p99 ${ms(s, 99)} ms; ` +
    `CPU per request: ${side === 'rawSql' ? 'this process (driver)' : 'server'} ${Math.round(median(s.serverUs))} µs, ` +
    `Postgres ${Math.round(median(s.postgresUs))} µs${load}`
  );
}

export async function run(): Promise<BenchFigure[]> {
  let fixture: AgentsFixture | undefined;
  let theirs: PostGraphileServer | undefined;
  let plain: PlainHttpServer | undefined;
  let load: LoadGenerator | undefined;
  try {
    fixture = await startAgentsFixture();
    const { stack, tokens, roles } = fixture;
    theirs = await startPostGraphile({
      connectionString: await stack.cognition.authenticatorUrl(),
      poolSize: POOL,
      schema: TENANT_SCHEMA,
      jwksUri: stack.userPool.jwksUri,
      clientId: stack.userPool.clientId,
      issuer: stack.userPool.issuer,
      roles: [...roles],
    });
    const ourUrl = fixture.graphqlUrl;
    await guard(
      { url: ourUrl, queries: VARIANTS.map((v) => v.ours) },
      { url: theirs.url, queries: VARIANTS.map((v) => v.postgraphile) },
      tokens,
    );
    const lead = tokens.get(LEAD) as string;
    const headline = VARIANTS.find((v) => v.headline) as Variant;
    // The ceiling answers with our exact bytes for the headline query.
    const answer = await post(ourUrl, headline.ours, { id: IDS[0] }, `Bearer ${lead}`);
    plain = await startPlainHttpServer(answer.text);
    const executor = await stack.cognition.executor('role-switch');
    const as: RunAs = {
      dbUsername: fixture.lead.dbUsername,
      schema: fixture.lead.schema,
      claims: claimsOf(lead),
    };
    const sql = resolvers['Query.agent']?.sql as string;

    load = await startLoadGenerator();
    const generator = load;
    const postgraphile = theirs;
    const http = (url: string, query: string, serverCpuMs: () => Promise<number>): Runner => {
      const target = graphqlTarget(url, query, lead);
      return { run: (options) => generator.run(target, options), serverCpuMs };
    };
    const figures: BenchFigure[] = [];
    for (const variant of VARIANTS) {
      const runners: Partial<Record<Side, Runner>> = {
        ours: http(ourUrl, variant.ours, async () => ownCpuMs()),
        postgraphile: http(postgraphile.url, variant.postgraphile, () => postgraphile.cpuMs()),
      };
      if (variant.headline) {
        const ceiling = plain;
        runners.plainHttp = http(ceiling.url, variant.ours, () => ceiling.cpuMs());
        runners.rawSql = {
          run: (options) =>
            generateSqlLoad(
              executor,
              as,
              sql,
              IDS.map((id) => [id]),
              options,
            ),
          serverCpuMs: async () => ownCpuMs(),
        };
      }
      const samples = await measureRounds(runners, fixture.cluster.server.pid);
      figures.push(...variantFigures(variant, samples));
    }
    return figures;
  } finally {
    await load?.close().catch(() => {});
    await plain?.close().catch(() => {});
    await theirs?.close().catch(() => {});
    await fixture?.close();
  }
}

function variantFigures(variant: Variant, samples: Partial<Record<Side, Samples>>): BenchFigure[] {
  const ours = samples.ours as Samples;
  const pg = samples.postgraphile as Samples;
  const vsPg = ratios(ours, pg);
  const ratio = round(median(vsPg), 2);
  const label = `GraphQL ${variant.name} over HTTP (${CONNECTIONS} connections)`;
  const figures: BenchFigure[] = [];
  const throughput: BenchFigure = {
    bench: 'graphql',
    name: `${label}: throughput`,
    value: Math.round(median(ours.rps)),
    unit: 'req/s',
    baseline: { name: 'PostGraphile v4, same query, RLS and JWT', value: Math.round(median(pg.rps)) },
    ratio,
    ratioMeaning: `ours / PostGraphile, median of ${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s`,
    notes:
      `per-round ratios ${vsPg.map((x) => round(x, 2)).join(', ')}; ` +
      (Object.keys(samples) as Side[])
        .map((side) => describeSide(side, samples[side] as Samples))
        .join('; ') +
      `; load average at the end ${round(loadavg()[0] ?? 0, 2)} on ${cpus().length} cores`,
  };
  if (variant.headline) {
    throughput.target = `≥ ${TARGET_RATIO}`;
    throughput.met = ratio >= TARGET_RATIO;
  }
  figures.push(throughput);
  const cpuOurs = median(ours.serverUs);
  const cpuTheirs = median(pg.serverUs);
  figures.push({
    bench: 'graphql',
    name: `${label}: server CPU per request`,
    value: Math.round(cpuOurs),
    unit: 'µs',
    baseline: { name: 'PostGraphile', value: Math.round(cpuTheirs) },
    ratio: round(cpuTheirs / cpuOurs, 2),
    ratioMeaning: 'PostGraphile / ours, medians over the rounds (the server process only, not Postgres)',
  });
  for (const p of [50, 99]) {
    figures.push({
      bench: 'graphql',
      name: `${label}: latency p${p}`,
      value: ms(ours, p),
      unit: 'ms',
      baseline: { name: `PostGraphile p${p}`, value: ms(pg, p) },
      ratio: round(percentile(pg.latencies, p) / percentile(ours.latencies, p), 2),
      ratioMeaning: `PostGraphile p${p} / ours (all requests of the ${ROUNDS} rounds)`,
    });
  }
  if (!variant.headline) return figures;

  figures.push({
    bench: 'graphql',
    name: `${label}: p99 against PostGraphile's p50`,
    value: ms(ours, 99),
    unit: 'ms',
    baseline: { name: 'PostGraphile p50', value: ms(pg, 50) },
    ratio: round(percentile(pg.latencies, 50) / percentile(ours.latencies, 99), 2),
    ratioMeaning: 'PostGraphile p50 / our p99 (all requests of the rounds)',
    target: 'p99 ≤ PostGraphile p50',
    met: percentile(ours.latencies, 99) <= percentile(pg.latencies, 50),
  });
  const plain = samples.plainHttp as Samples;
  const raw = samples.rawSql as Samples;
  for (const [side, s, name] of [
    ['plainHttp', plain, 'plain node:http answering the same bytes (the platform ceiling)'],
    [
      'rawSql',
      raw,
      `the resolver's SQL through the same pool, same user and settings, ${CONNECTIONS} loops in process`,
    ],
  ] as const) {
    const r = ratios(ours, s);
    figures.push({
      bench: 'graphql',
      name: `${label}: against ${SIDE_NAMES[side]}`,
      value: Math.round(median(ours.rps)),
      unit: 'req/s',
      baseline: { name, value: Math.round(median(s.rps)) },
      ratio: round(median(r), 2),
      ratioMeaning: `ours / ${SIDE_NAMES[side]}, median of per-round ratios`,
      notes: `${describeSide(side, s)}; per-round ratios ${r.map((x) => round(x, 2)).join(', ')}`,
    });
  }
  const total = (s: Samples) => median(s.serverUs) + median(s.postgresUs) + median(s.loadUs);
  figures.push({
    bench: 'graphql',
    name: `${label}: CPU per request, all processes`,
    value: Math.round(total(ours)),
    unit: 'µs',
    baseline: { name: 'PostGraphile', value: Math.round(total(pg)) },
    ratio: round(total(pg) / total(ours), 2),
    ratioMeaning:
      'PostGraphile / ours: server + Postgres + load generator, medians over the rounds (on 2 cores, ' +
      'req/s ≤ 2 s / this, and ≤ 1 s / the server share, a Node process being one thread)',
    notes: (Object.keys(samples) as Side[])
      .map((side) => describeSide(side, samples[side] as Samples))
      .join('; '),
  });
  return figures;
}
