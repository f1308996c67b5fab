import { writeFile } from 'node:fs/promises';
import { formatSummary, profile, summarize } from './cpu-profile.js';
import { graphqlTarget, LEAD, startAgentsFixture } from './graphql-fixture.js';
import { startLoadGenerator } from './http-load.js';
import { measureTreeCpu } from './process-cpu.js';

// Where the server's CPU goes on the GraphQL bench's headline request: the local stack in this
// process under the bench's load (20 keep-alive connections from a child process), profiled
// with the inspector's sampling profiler. Not part of `npm run bench`; run it by hand:
//   npx tsx bench/graphql-profile.ts [seconds=10] [query] [out.cpuprofile]
// The profile opens in Chrome DevTools or speedscope.

const seconds = Number(process.argv[2] ?? 10);
const query = process.argv[3] || 'query($id: ID!) { agent(id: $id) { codename } }';
const out = process.argv[4];
const CONNECTIONS = 20;

const fixture = await startAgentsFixture();
const load = await startLoadGenerator();
try {
  const target = graphqlTarget(fixture.graphqlUrl, query, fixture.tokens.get(LEAD) as string);
  const warm = await load.run(target, { connections: CONNECTIONS, durationMs: 3000 });
  if (warm.errors > 0) throw new Error(`warm-up: ${warm.firstError}`);
  const cpu = process.cpuUsage();
  const { result: measured, profile: cpuProfile } = await profile(() =>
    measureTreeCpu(fixture.cluster.server.pid, () =>
      load.run(target, { connections: CONNECTIONS, durationMs: seconds * 1000 }),
    ),
  );
  const used = process.cpuUsage(cpu);
  const { result, cpuMs: postgresMs } = measured;
  const n = result.completed;
  const perReq = (ms: number) => `${((ms * 1000) / n).toFixed(1)} µs`;
  process.stdout.write(
    `${n} requests in ${(result.elapsedMs / 1000).toFixed(1)} s: ${Math.round(n / (result.elapsedMs / 1000))} req/s, ` +
      `${result.errors} errors\n` +
      `CPU per request: server ${perReq((used.user + used.system) / 1000)} ` +
      `(user ${perReq(used.user / 1000)}, system ${perReq(used.system / 1000)}; profiler included), ` +
      `Postgres ${perReq(postgresMs)}, load generator ${perReq(result.cpuMs)}\n\n`,
  );
  process.stdout.write(`${formatSummary(summarize(cpuProfile, 40), n, 30)}\n`);
  if (out) await writeFile(out, JSON.stringify(cpuProfile));
} finally {
  await load.close();
  await fixture.close();
}
