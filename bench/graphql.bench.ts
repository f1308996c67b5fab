import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { loadApp } from '../src/local/app.js';
import { ensurePoolLogin } from '../src/local/pool-users.js';
import { startLocalStack, type LocalStack } from '../src/local/stack.js';
import type { UserPool } from '../src/local/user-pool/index.js';
import { startCluster, type TestCluster } from '../test/support/cluster.js';
import { startPostGraphile, type PostGraphileServer } from './postgraphile-server.js';
import { startLoadGenerator, type LoadGenerator, type LoadResult, type LoadTarget } from './http-load.js';
import { median, percentile, round, type BenchFigure } from './result.js';

// The authorized single-row GraphQL query over HTTP, as the agency lead of the agents example:
// the local endpoint (token verification, AppSync auth directives, the data source in process,
// the role-switch executor) against PostGraphile v4 serving the same tenant schema, on the same
// database, with the same row-level security, role and JWT check. Both connect as
// cognition_authenticator with 20 connections, and each request runs as the user's own role.
// The load (20 keep-alive connections, closed loops) comes from a child process, in interleaved
// short rounds whose order alternates (the machine may be shared: many short pairs keep a burst
// of someone else's work from landing on one side only); figures are medians over the rounds.
const ROUNDS = 11;
const ROUND_MS = 1500;
const WARMUP_MS = 2000;
const CONNECTIONS = 20;
const POOL = 20;
const TARGET_RATIO = 4;

const AGENTS_APP = fileURLToPath(new URL('../examples/agents/', import.meta.url));
const TENANT_SCHEMA = 'tenant_mi6';
const LEAD = 'm@mi6.test';
/** A second user, only for the correctness guard: RLS must give both servers the same rows. */
const OFFICE_ADMIN = 'moneypenny@mi6.test';

interface Variant {
  name: string;
  ours: string;
  postgraphile: string;
  /** The figure the issue sets a target for. */
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

type Side = 'ours' | 'postgraphile';

function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Agents of tenant_mi6 the lead may see (all three), sent in rotation. */
const IDS = ['1', '2', '3'];

interface GraphqlAnswer {
  status: number;
  body: { data?: unknown; errors?: unknown[] };
}

async function post(url: string, query: string, variables: unknown, authorization?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  let body: GraphqlAnswer['body'];
  try {
    body = JSON.parse(text) as GraphqlAnswer['body'];
  } catch {
    body = { errors: [text] };
  }
  return { status: response.status, body } satisfies GraphqlAnswer;
}

/** A user-pool ID token, the way a client gets one (USER_PASSWORD_AUTH). */
async function idToken(pool: UserPool, email: string, password: string): Promise<string> {
  await ensurePoolLogin(pool, email, password);
  const response = await fetch(pool.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const json = (await response.json()) as { AuthenticationResult?: { IdToken?: string } };
  const token = json.AuthenticationResult?.IdToken;
  if (!token) throw new Error(`no ID token for ${email}: ${JSON.stringify(json)}`);
  return token;
}

function target(url: string, query: string, token: string): LoadTarget {
  const { hostname, port, pathname } = new URL(url);
  return {
    host: hostname,
    port: Number(port),
    path: pathname,
    bodies: IDS.map((id) => JSON.stringify({ query, variables: { id } })),
    headers: { Authorization: `Bearer ${token}` },
  };
}

function check(result: LoadResult, who: string): LoadResult {
  if (result.errors > 0) {
    throw new Error(`${who}: ${result.errors} of ${result.completed} requests failed: ${result.firstError}`);
  }
  return result;
}

export async function run(): Promise<BenchFigure[]> {
  let cluster: TestCluster | undefined;
  let home: string | undefined;
  let stack: LocalStack | undefined;
  let theirs: PostGraphileServer | undefined;
  let load: LoadGenerator | undefined;
  try {
    cluster = await startCluster();
    home = await mkdtemp(join(tmpdir(), 'pgc-bench-gql-'));
    await chmod(home, 0o711);
    const app = await loadApp(AGENTS_APP);
    stack = await startLocalStack({ home, databaseUrl: cluster.url, port: 0, app });
    const seeded = await app.seed?.(stack.cognition);
    if (!seeded) throw new Error('the agents example has no seed');
    const tokens = new Map<string, string>();
    const roles = new Map<string, string>();
    for (const email of [LEAD, OFFICE_ADMIN]) {
      tokens.set(email, await idToken(stack.userPool, email, seeded.password));
      const user = await stack.cognition.users.require(email);
      roles.set(user.idpSubject as string, user.dbUsername as string);
    }
    theirs = await startPostGraphile({
      connectionString: await stack.cognition.authenticatorUrl(),
      poolSize: POOL,
      schema: TENANT_SCHEMA,
      jwksUri: stack.userPool.jwksUri,
      clientId: stack.userPool.clientId,
      issuer: stack.userPool.issuer,
      roles: [...roles],
    });
    const ourUrl = `${stack.userPool.url}/graphql`;
    const theirUrl = theirs.url;

    // Correctness guard: the same data from both, for both users (the office administrator
    // sees only her office's agents), and both refuse a forged, a malformed and a missing token.
    for (const variant of VARIANTS) {
      for (const [email, token] of tokens) {
        let seen = 0;
        for (const id of [...IDS, '999']) {
          const a = await post(ourUrl, variant.ours, { id }, `Bearer ${token}`);
          const b = await post(theirUrl, variant.postgraphile, { id }, `Bearer ${token}`);
          if (a.status !== 200 || a.body.errors || b.status !== 200 || b.body.errors) {
            throw new Error(`guard: ${email} id ${id}: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
          }
          if (!isDeepStrictEqual(a.body.data, b.body.data)) {
            throw new Error(
              `guard: ${email} id ${id}: different data ${JSON.stringify(a.body.data)} / ${JSON.stringify(b.body.data)}`,
            );
          }
          const visible = (a.body.data as { agent: unknown }).agent !== null;
          if (visible) seen++;
          if (email === LEAD && visible !== (id !== '999')) {
            throw new Error(`guard: the lead should see agent ${id} iff it exists`);
          }
        }
        // Row-level security is at work on both: the office administrator sees some, not all.
        if (email === OFFICE_ADMIN && (seen === 0 || seen === IDS.length)) {
          throw new Error(`guard: the office administrator sees ${seen} of ${IDS.length} agents`);
        }
      }
    }
    const lead = tokens.get(LEAD) as string;
    const [header, payload, signature] = lead.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`;
    for (const bad of [`Bearer ${forged}`, 'Bearer not-a-token', undefined]) {
      for (const [url, query] of [
        [ourUrl, VARIANTS[0]?.ours],
        [theirUrl, VARIANTS[0]?.postgraphile],
      ] as const) {
        const answer = await post(url, query as string, { id: '1' }, bad);
        if (answer.status < 400 || (answer.body.data ?? null) !== null) {
          throw new Error(`guard: ${url} accepted an invalid token: ${JSON.stringify(answer)}`);
        }
      }
    }

    load = await startLoadGenerator();
    const figures: BenchFigure[] = [];
    for (const variant of VARIANTS) {
      const sides = {
        ours: target(ourUrl, variant.ours, lead),
        postgraphile: target(theirUrl, variant.postgraphile, lead),
      };
      const options = { connections: CONNECTIONS, durationMs: ROUND_MS };
      for (const side of Object.values(sides)) {
        check(await load.run(side, { connections: CONNECTIONS, durationMs: WARMUP_MS }), 'warm-up');
      }
      const rps: Record<Side, number[]> = { ours: [], postgraphile: [] };
      const cpuPerRequest: Record<Side, number[]> = { ours: [], postgraphile: [] };
      const latencies: Record<Side, number[]> = { ours: [], postgraphile: [] };
      const ratios: number[] = [];
      // The server's own CPU time per request: ours is this process (idle but for the server
      // while the generator runs), PostGraphile its child process.
      const serverCpuMs = async (side: Side) =>
        side === 'ours' ? ownCpuMs() : (theirs as PostGraphileServer).cpuMs();
      for (let r = 0; r < ROUNDS; r++) {
        const order: readonly Side[] = r % 2 === 0 ? ['ours', 'postgraphile'] : ['postgraphile', 'ours'];
        const perSecond: Partial<Record<Side, number>> = {};
        for (const side of order) {
          const cpuBefore = await serverCpuMs(side);
          const result = check(await load.run(sides[side], options), side);
          const cpuMs = (await serverCpuMs(side)) - cpuBefore;
          perSecond[side] = result.completed / (result.elapsedMs / 1000);
          rps[side].push(perSecond[side]);
          cpuPerRequest[side].push((cpuMs * 1000) / result.completed);
          for (const l of result.latenciesUs) latencies[side].push(l);
        }
        ratios.push((perSecond.ours as number) / (perSecond.postgraphile as number));
      }
      const ratio = round(median(ratios), 2);
      const ms = (side: Side, p: number) => round(percentile(latencies[side], p) / 1000, 2);
      const label = `GraphQL ${variant.name} over HTTP (${CONNECTIONS} connections)`;
      const throughput: BenchFigure = {
        bench: 'graphql',
        name: `${label}: throughput`,
        value: Math.round(median(rps.ours)),
        unit: 'req/s',
        baseline: {
          name: 'PostGraphile v4, same query, RLS and JWT',
          value: Math.round(median(rps.postgraphile)),
        },
        ratio,
        ratioMeaning: `ours / PostGraphile, median of ${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s`,
        notes:
          `per-round ratios ${ratios.map((x) => round(x, 2)).join(', ')}; ` +
          `p50 ${ms('ours', 50)} ms vs ${ms('postgraphile', 50)} ms, p99 ${ms('ours', 99)} ms vs ${ms('postgraphile', 99)} ms; ` +
          `load average at the end ${round(loadavg()[0] ?? 0, 2)} on ${cpus().length} cores`,
      };
      if (variant.headline) {
        throughput.target = `≥ ${TARGET_RATIO}`;
        throughput.met = ratio >= TARGET_RATIO;
      }
      figures.push(throughput);
      const cpuOurs = median(cpuPerRequest.ours);
      const cpuTheirs = median(cpuPerRequest.postgraphile);
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
          value: ms('ours', p),
          unit: 'ms',
          baseline: { name: `PostGraphile p${p}`, value: ms('postgraphile', p) },
          ratio: round(percentile(latencies.postgraphile, p) / percentile(latencies.ours, p), 2),
          ratioMeaning: `PostGraphile p${p} / ours (all requests of the ${ROUNDS} rounds)`,
        });
      }
    }
    return figures;
  } finally {
    await load?.close().catch(() => {});
    await theirs?.close().catch(() => {});
    await stack?.close();
    await cluster?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  }
}
