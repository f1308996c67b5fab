import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cognition } from '../src/cognition.js';
import { LocalSecretStore } from '../src/secrets/local-secret-store.js';
import { startCluster, type TestCluster } from '../test/support/cluster.js';
import { median, round, type BenchFigure } from './result.js';
import { analyze } from './sustained/analysis.js';
import { churn } from './sustained/churn.js';
import { closeConnections, graphql } from './sustained/graphql-client.js';
import { OpenLoopLoad, type LoadUser } from './sustained/load.js';
import { startStackServer, type ServerMemory, type StackServer } from './sustained/server.js';
import { idToken } from './id-token.js';

// The local stack (user pool + GraphQL endpoint + data source, the agents example) in its own
// process under a steady open-loop rate of authorized GraphQL requests from users of several
// tenants, while every PERIOD a tenant is created (its first user signs up and joins the load)
// and a user is suspended, probed, and reactivated 5 s later. Duration: BENCH_SUSTAIN_SECONDS
// (default 600); rate: BENCH_SUSTAIN_RATE (default 200 requests/s); BENCH_SUSTAIN_DUMP=<file> writes
// every request's record and the suspensions as JSON, to look into latency spikes.
const SECONDS = Number(process.env.BENCH_SUSTAIN_SECONDS ?? 600);
const RATE = Number(process.env.BENCH_SUSTAIN_RATE ?? 200);
const PERIOD_MS = 10_000;
const WARMUP_MS = 10_000;
const SUSPENDED_MS = 5_000;
const EXTRA_AGENCIES = 4;
const TARGET_RSS_RATIO = 1.2;
const BENCH = 'sustained-load';
// Two resolvers, each one statement as the caller: their own row of cognition.users, and the
// agents of their agency that row-level security lets them see.
const BODY = JSON.stringify({ query: 'query { me { email role } agents { codename status } }' });

const log = (line: string) => process.stdout.write(`${line}\n`);

export async function run(): Promise<BenchFigure[]> {
  let cluster: TestCluster | undefined;
  let server: StackServer | undefined;
  let cognition: Cognition | undefined;
  let home: string | undefined;
  try {
    cluster = await startCluster();
    home = await mkdtemp(join(tmpdir(), 'pgc-bench-sustain-'));
    await chmod(home, 0o711);
    server = await startStackServer(cluster.url, home);
    // The operator's side (tenant creation, suspension) in this process, on the same database.
    cognition = Cognition.create({
      databaseUrl: cluster.url,
      secrets: new LocalSecretStore({ dir: join(home, 'secrets') }),
    });
    const pool = { url: server.url, clientId: server.clientId };
    const graphqlUrl = `${server.url}/graphql`;

    // Users of several tenants: the seeded agencies', and a lead and a user in each of a few more.
    const createBefore: number[] = [];
    const emails = server.seeded.map((u) => u.email);
    for (let i = 1; i <= EXTRA_AGENCIES; i++) {
      const started = performance.now();
      await cognition.tenants.create({ slug: `agency${i}`, name: `Agency ${i}` });
      createBefore.push(performance.now() - started);
      for (const [who, role] of [
        ['lead', 'admin'],
        ['analyst', 'user'],
      ] as const) {
        await cognition.users.invite({ email: `${who}@agency${i}.test`, tenant: `agency${i}`, role });
        emails.push(`${who}@agency${i}.test`);
      }
    }
    const users: LoadUser[] = [];
    for (const email of emails) users.push({ email, token: await idToken(pool, email, server.password) });
    for (const user of users) {
      const answer = await graphql(graphqlUrl, user.token, BODY);
      if (answer.outcome !== 'ok') throw new Error(`guard: ${user.email} is not served: ${answer.detail}`);
    }
    const tenants = new Set(emails.map((e) => e.split('@')[1])).size;
    log(`  ${users.length} users of ${tenants} tenants; ${RATE} requests/s for ${SECONDS} s`);

    // Fill the server's pools and caches and let its code get optimized before measuring.
    const warm = new OpenLoopLoad(graphqlUrl, BODY, RATE);
    for (const user of users) warm.add(user);
    warm.start();
    await sleep(WARMUP_MS);
    await warm.stop();
    const warmErrors = warm.records.filter((r) => r.outcome !== 'ok');

    const loadStart = round(loadavg()[0] ?? 0, 2);
    const memoryStart = await server.memory();
    const load = new OpenLoopLoad(graphqlUrl, BODY, RATE);
    for (const user of users) load.add(user);
    load.start();
    const until = load.startedAt + SECONDS * 1000;
    const memory: { at: number; m: ServerMemory }[] = [{ at: 0, m: memoryStart }];
    const churned = await churn({
      cognition,
      pool,
      graphqlUrl,
      body: BODY,
      password: server.password,
      load,
      candidates: users,
      periodMs: PERIOD_MS,
      suspendedMs: SUSPENDED_MS,
      until: until - SUSPENDED_MS,
      log,
      onPeriod: async (k) => {
        if (k % 6 !== 0) return;
        const m = await (server as StackServer).memory();
        memory.push({ at: (performance.now() - load.startedAt) / 1000, m });
        log(
          `  ${Math.round((performance.now() - load.startedAt) / 1000)} s: ${load.records.length} answered, ` +
            `${k} tenants created, RSS ${round(m.rssMb, 1)} MB, heap ${round(m.heapUsedMb, 1)} MB`,
        );
      },
    });
    await sleep(Math.max(0, until - performance.now()));
    await load.stop();
    const memoryEnd = await server.memory();
    const a = analyze(load.records, churned.suspensions, load.startedAt);
    a.unexpected += warmErrors.length;
    a.unexpectedSamples.push(
      ...warmErrors.slice(0, 2).map((r) => `warm-up ${r.email}: ${r.outcome} ${r.detail ?? ''}`),
    );
    if (process.env.BENCH_SUSTAIN_DUMP) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(
        process.env.BENCH_SUSTAIN_DUMP,
        JSON.stringify({ startedAt: load.startedAt, records: load.records, churned }),
      );
    }

    const rssRatio = round(memoryEnd.rssMb / memoryStart.rssMb, 3);
    const p99s = a.perMinute.map((m) => m.p99Ms);
    const perMinute = a.perMinute
      .map(
        (m) =>
          `min ${m.minute + 1}: ${m.requests} req, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms${m.unexpected ? `, ${m.unexpected} unexpected` : ''}`,
      )
      .join('; ');
    return [
      {
        bench: BENCH,
        name: `errors other than expected denials, ${SECONDS} s at ${RATE} requests/s with tenant creation and suspensions`,
        value: a.unexpected,
        unit: 'requests',
        baseline: { name: 'requests answered', value: a.requests },
        ratio: round(a.unexpected / a.requests, 6),
        ratioMeaning: 'error rate',
        target: '0',
        met: a.unexpected === 0,
        notes:
          `${a.ok} served, ${a.expectedDenials} refused while their user was suspended (expected); achieved ${a.achievedPerSecond} requests/s ` +
          `(after ${WARMUP_MS / 1000} s of warm-up at the same rate, ${warm.records.length} requests, counted here only for errors); ` +
          `${users.length} users of ${tenants} tenants at the start, ${churned.tenantsCreated} tenants (and their first user) added during the run` +
          (a.unexpectedSamples.length ? `; first unexpected: ${a.unexpectedSamples.join(' | ')}` : ''),
      },
      {
        bench: BENCH,
        name: 'suspended user served by the first request after suspend() returned',
        value: churned.suspendViolations.length,
        unit: 'violations',
        baseline: { name: 'suspensions', value: churned.suspensions.length },
        ratio: round(churned.suspendViolations.length / Math.max(1, churned.suspensions.length), 3),
        target: '0',
        met: churned.suspendViolations.length === 0 && a.servedWhileSuspended === 0,
        notes:
          `load requests sent between suspend() returning and reactivation that were served anyway: ${a.servedWhileSuspended}; ` +
          `reactivated users refused on the first request after reactivate() returned: ${churned.reactivateViolations.length}` +
          (churned.suspendViolations.length ? `; ${churned.suspendViolations.slice(0, 3).join(' | ')}` : ''),
      },
      {
        bench: BENCH,
        name: 'stack server RSS at the end (after a full GC)',
        value: round(memoryEnd.rssMb, 1),
        unit: 'MB',
        baseline: { name: `after ${WARMUP_MS / 1000} s of warm-up load`, value: round(memoryStart.rssMb, 1) },
        ratio: rssRatio,
        ratioMeaning: 'end / start',
        target: `≤ ${TARGET_RSS_RATIO} (flat)`,
        met: rssRatio <= TARGET_RSS_RATIO,
        notes:
          `heap used ${round(memoryStart.heapUsedMb, 1)} → ${round(memoryEnd.heapUsedMb, 1)} MB; every minute: ` +
          memory
            .map((s) => `${Math.round(s.at)} s ${round(s.m.rssMb, 0)}/${round(s.m.heapUsedMb, 1)} MB`)
            .join(', '),
      },
      {
        bench: BENCH,
        name: 'latency per minute, open loop (p99, median over the minutes)',
        value: round(median(p99s), 2),
        unit: 'ms',
        baseline: {
          name: 'p50, median over the minutes',
          value: round(median(a.perMinute.map((m) => m.p50Ms)), 2),
        },
        ratio: round(median(p99s) / median(a.perMinute.map((m) => m.p50Ms)), 2),
        ratioMeaning: `p99 / p50; worst minute's p99 ${round(Math.max(...p99s), 2)} ms`,
        notes:
          `from when each request was due; p99 of sent-to-answered ${a.serviceP99Ms} ms, of this process's own lateness in ` +
          `sending ${a.sendLagP99Ms} ms; load average ${loadStart} at the start, ${round(loadavg()[0] ?? 0, 2)} at the end ` +
          `(${cpus().length} cores, shared); ${perMinute}`,
      },
      {
        bench: BENCH,
        name: 'tenant creation under load (agents template)',
        value: round(median(churned.createMs), 1),
        unit: 'ms',
        baseline: { name: 'before the load', value: round(median(createBefore), 1) },
        ratio: round(median(churned.createMs) / median(createBefore), 2),
        ratioMeaning: `medians; ${churned.tenantsCreated} tenants during the run`,
      },
    ];
  } finally {
    closeConnections();
    await cognition?.close().catch(() => {});
    await server?.close().catch(() => {});
    await cluster?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  }
}
