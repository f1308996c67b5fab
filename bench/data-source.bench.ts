import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { resolvers } from '../examples/agents/resolvers.js';
import { seedAgents } from '../examples/agents/seed.js';
import { createDataSource } from '../src/appsync/data-source.js';
import type { ResolverEvent } from '../src/appsync/types.js';
import { Cognition } from '../src/cognition.js';
import type { RunAs } from '../src/db/executor.js';
import { createPool } from '../src/db/pool.js';
import { LocalSecretStore } from '../src/secrets/local-secret-store.js';
import { startCluster } from '../test/support/cluster.js';
import { median, round, type BenchFigure } from './result.js';

// The AppSync data source handler in process, one Invoke of `Query.agent` per call for the
// agency lead of the agents example (a Cognito identity), against the same statement run as the
// same user, with the same settings (role, search_path, the identity's claims), through the
// same executor and so the same pool: what the handler adds is resolving the identity (its
// cache), planning and binding the resolver, error mapping and shaping the row as JSON. A raw
// query as the superuser through a pool of the same size (no role switch, no row-level
// security) is the floor. All three interleaved round by round, 16 concurrent callers.
const ROUNDS = 25;
const REQUESTS = 2000;
const WARMUP = 2000;
const CONCURRENCY = 16;
const POOL = 16;
const TARGET_OVERHEAD = 0.2;

const AGENTS_TEMPLATE = fileURLToPath(new URL('../examples/agents/template/', import.meta.url));
const LEAD = 'm@mi6.test';
const SCHEMA = 'tenant_mi6';
const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench';
const IDS = ['1', '2', '3'];

type Run = () => Promise<unknown>;

/** Calls per second, and this process's CPU time per call in µs (Postgres's is not in it). */
async function throughput(
  run: Run,
  requests: number,
  concurrency: number,
): Promise<{ rate: number; cpuUs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) await run();
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { rate: requests / (elapsed / 1000), cpuUs: (used.user + used.system) / requests };
}

/** An AppSync direct-Lambda Invoke event, as AppSync sends it for a user-pool caller. */
function invokeEvent(id: string, sub: string, email: string): ResolverEvent {
  const claims = {
    sub,
    'cognito:groups': ['admin'],
    email_verified: true,
    iss: ISSUER,
    'cognito:username': sub,
    aud: 'bench-client',
    token_use: 'id',
    auth_time: 1_800_000_000,
    exp: 1_800_003_600,
    iat: 1_800_000_000,
    email,
  };
  return {
    arguments: { id },
    identity: {
      sub,
      issuer: ISSUER,
      username: sub,
      claims,
      sourceIp: ['127.0.0.1'],
      defaultAuthStrategy: 'ALLOW',
      groups: ['admin'],
    },
    source: null,
    request: { headers: { 'content-type': 'application/json' }, domainName: null },
    info: {
      fieldName: 'agent',
      parentTypeName: 'Query',
      variables: { id },
      selectionSetList: ['codename'],
      selectionSetGraphQL: '{\n  codename\n}',
    },
    prev: null,
    stash: {},
  } as unknown as ResolverEvent;
}

export async function run(): Promise<BenchFigure[]> {
  const cluster = await startCluster();
  const cognition = Cognition.create({
    databaseUrl: cluster.url,
    secrets: new LocalSecretStore({ dir: join(cluster.dir, 'secrets') }),
    executorPoolSize: POOL,
  });
  const dataSource = createDataSource({ cognition, resolvers });
  const raw = createPool(cluster.url, { max: POOL });
  try {
    await cognition.migrateTemplates({ dir: AGENTS_TEMPLATE });
    await seedAgents(cognition);
    // What Cognito's PostConfirmation does for a confirmed sign-up: bind the identity's subject.
    const sub = randomUUID();
    const { user } = await cognition.users.provision(LEAD, { subject: sub });
    if (user.idpSubject !== sub || !user.dbUsername) throw new Error('the lead has no bound subject');

    const sql = resolvers['Query.agent']?.sql as string;
    const rawSql = sql.replace(/\bfrom agents\b/, `from ${SCHEMA}.agents`);
    const events = IDS.map((id) => invokeEvent(id, sub, LEAD));
    // Exactly what the handler hands the executor for these events.
    const as: RunAs = {
      dbUsername: user.dbUsername,
      schema: user.tenantSchema,
      claims: (events[0]?.identity as { claims: Record<string, unknown> }).claims,
    };
    const executor = await cognition.executor('role-switch');
    let turn = 0;
    const nextIndex = () => turn++ % IDS.length;
    const runs: Record<'handler' | 'executor' | 'raw', Run> = {
      handler: () => dataSource.handler(events[nextIndex()] as ResolverEvent),
      executor: () => executor.run(as, sql, [IDS[nextIndex()]]),
      raw: () => raw.query({ name: 'bench_ds_raw', text: rawSql, values: [IDS[nextIndex()]] }),
    };

    // Correctness guard: the handler answers with the executor's row, as JSON; an unknown
    // identity is refused before any query.
    for (const [i, id] of IDS.entries()) {
      const fromHandler = (await dataSource.handler(events[i] as ResolverEvent)) as Record<string, unknown>;
      const { rows } = await executor.run<Record<string, unknown>>(as, sql, [id]);
      const row = rows[0];
      if (!row || !fromHandler || fromHandler['codename'] !== row['codename'] || String(row['id']) !== id) {
        throw new Error(`guard: agent ${id}: ${JSON.stringify(fromHandler)} / ${JSON.stringify(row)}`);
      }
      const rawRow = (await raw.query({ text: rawSql, values: [id] })).rows[0] as Record<string, unknown>;
      if (!isDeepStrictEqual(rawRow, row)) throw new Error(`guard: raw and executor rows differ for ${id}`);
    }
    const stranger = await dataSource.handler(invokeEvent('1', randomUUID(), 'nobody@example.test')).then(
      () => undefined,
      (error: unknown) => (error as Error).name,
    );
    if (stranger !== 'Unauthorized') throw new Error(`guard: an unknown identity got ${stranger ?? 'data'}`);

    // Warm every pool to its full size, every prepared statement and the identity cache.
    for (const r of Object.values(runs)) await throughput(r, WARMUP, CONCURRENCY);

    const rps: Record<keyof typeof runs, number[]> = { handler: [], executor: [], raw: [] };
    const cpuUs: Record<keyof typeof runs, number[]> = { handler: [], executor: [], raw: [] };
    const vsExecutor: number[] = [];
    const vsRaw: number[] = [];
    const names = Object.keys(runs) as (keyof typeof runs)[];
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order, so that no way is always first (or last) after another's burst.
      const order = names.map((_, i) => names[(i + r) % names.length] as keyof typeof runs);
      const result: Partial<Record<keyof typeof runs, number>> = {};
      for (const name of order) {
        const measured = await throughput(runs[name], REQUESTS, CONCURRENCY);
        result[name] = measured.rate;
        rps[name].push(measured.rate);
        cpuUs[name].push(measured.cpuUs);
      }
      vsExecutor.push((result.handler as number) / (result.executor as number));
      vsRaw.push((result.handler as number) / (result.raw as number));
    }

    const handlerRate = Math.round(median(rps.handler));
    const executorRate = Math.round(median(rps.executor));
    const rawRate = Math.round(median(rps.raw));
    const ratio = round(median(vsExecutor), 3);
    const cpu = (name: keyof typeof runs) => round(median(cpuUs[name]), 1);
    const cpuNote =
      `this process's CPU per call (medians): handler ${cpu('handler')} µs, executor ${cpu('executor')} µs, ` +
      `raw ${cpu('raw')} µs; load average at the end ${round(loadavg()[0] ?? 0, 2)} on ${cpus().length} cores`;
    const overhead = round(1 - ratio, 3);
    const label = `data-source handler, Query.agent Invoke (${CONCURRENCY} concurrent, pool ${POOL})`;
    return [
      {
        bench: 'data-source',
        name: `${label}: throughput`,
        value: handlerRate,
        unit: 'invocations/s',
        baseline: { name: 'the same SQL as the same user through the same executor', value: executorRate },
        ratio,
        ratioMeaning: `handler / executor, median of ${ROUNDS} interleaved rounds`,
        notes: `per-round ratios ${vsExecutor.map((x) => round(x, 2)).join(', ')}; ${cpuNote}`,
      },
      {
        bench: 'data-source',
        name: `${label}: overhead over the executor`,
        value: round(overhead * 100, 1),
        unit: '%',
        ratio: overhead,
        ratioMeaning: '1 - handler / executor',
        target: `≤ ${TARGET_OVERHEAD * 100}%`,
        met: overhead <= TARGET_OVERHEAD,
        notes: `handler ${handlerRate} invocations/s, executor ${executorRate} req/s (medians of ${ROUNDS} rounds)`,
      },
      {
        bench: 'data-source',
        name: `${label}: vs raw SQL as superuser`,
        value: handlerRate,
        unit: 'invocations/s',
        baseline: {
          name: 'raw query as superuser, pool of the same size (no role switch, no RLS)',
          value: rawRate,
        },
        ratio: round(median(vsRaw), 3),
        ratioMeaning: `handler / raw, median of ${ROUNDS} interleaved rounds`,
      },
    ];
  } finally {
    await raw.end();
    await dataSource.close();
    await cognition.close();
    await cluster.stop();
  }
}
