import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvers } from '../examples/agents/resolvers.js';
import { seedAgents } from '../examples/agents/seed.js';
import { Cognition } from '../src/cognition.js';
import { LocalSecretStore } from '../src/secrets/local-secret-store.js';
import { startCluster } from '../test/support/cluster.js';
import { buildLambdaPackage } from './lambda/bundle.js';
import { invokeEvent } from './lambda/event.js';
import { runNode } from './lambda/spawn.js';
import { median, round, type BenchFigure } from './result.js';

// The AppSync data source as AWS Lambda runs it: bundled and minified with esbuild as the CDK
// construct does; a cold start (a new node process imports the bundle and serves its first
// Invoke event, AWS's documented sample re-pointed at a real user of a real Postgres) against
// node's own start; and the warm handler, one invocation at a time as a container serves them,
// against its own statement run through the same pool.
const COLD_RUNS = 20;
const WARM_ROUNDS = 25;
const WARM_CALLS = 400;
const TARGET_BYTES = 1024 * 1024;
const TARGET_COLD_MS = 100;
const TARGET_OVERHEAD = 0.2;

const CACHE = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
const AGENTS_TEMPLATE = fileURLToPath(new URL('../examples/agents/template/', import.meta.url));
const LEAD = 'm@mi6.test';
const BENCH = 'lambda';

// Loads the Secrets Manager client as the secret store's first use does, from the package folder
// (so from the same node_modules), and says when it is done.
const SDK_IMPORT = `await import(${JSON.stringify('@aws-sdk/client-secrets-manager')}); process.stdout.write('ready\\n');`;

interface FirstLine {
  kind: 'first';
  bootMs: number;
  importMs: number;
  invokeMs: number;
  sinceStartMs: number;
  result: { codename?: string } | null;
}

interface ColdRun extends FirstLine {
  spawnToAnswer: number;
  inside: number;
  /** The same process's later invocations (median, µs). */
  warmUs: number;
}

const med = (runs: readonly ColdRun[], pick: (r: ColdRun) => number) => round(median(runs.map(pick)), 1);

export async function run(): Promise<BenchFigure[]> {
  const cluster = await startCluster();
  const cognition = Cognition.create({
    databaseUrl: cluster.url,
    secrets: new LocalSecretStore({ dir: join(cluster.dir, 'secrets') }),
  });
  // Under node_modules, so that the bundle's import of the AWS SDK resolves (the Lambda runtime
  // provides the SDK; the bundle imports it on first use).
  await mkdir(CACHE, { recursive: true });
  const dir = await mkdtemp(join(CACHE, 'pgc-bench-lambda-'));
  try {
    await cognition.migrateTemplates({ dir: AGENTS_TEMPLATE });
    await seedAgents(cognition);
    const sub = randomUUID();
    const { user } = await cognition.users.provision(LEAD, { subject: sub });
    // As after a deployment: the authenticator's password is set and in the secret store.
    await cognition.authenticatorUrl();
    const expected = (await cognition.runAs(user, resolvers['Query.agent']?.sql as string, ['1'])).rows[0];

    const pkg = await buildLambdaPackage(dir);
    const eventFile = join(dir, 'event.json');
    await writeFile(eventFile, JSON.stringify(await invokeEvent(sub, LEAD, '1')));
    // What the function's configuration gives it (src/cdk/functions.ts), with the local secret
    // store instead of Secrets Manager; nothing of this process's environment or loaders.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      LAMBDA_TASK_ROOT: dir,
      COGNITION_RESOLVERS: 'resolvers.mjs',
      DATABASE_URL: cluster.url,
      COGNITION_SECRET_STORE: 'local',
      COGNITION_HOME: cluster.dir,
      AWS_REGION: 'us-east-1',
      BENCH_EVENT_FILE: eventFile,
      BENCH_HANDLER: pkg.handler,
      BENCH_WARM: pkg.warm,
    };

    const cold = async (handler: string): Promise<ColdRun> => {
      const child = await runNode([pkg.runner, 'cold'], { ...env, BENCH_HANDLER: handler });
      const first = child.lines[0] as FirstLine;
      if (first.result?.codename !== expected?.codename) {
        throw new Error(`guard: the cold invocation answered ${JSON.stringify(first.result)}`);
      }
      const warmUs = (child.lines[1] as { medianUs: number }).medianUs;
      return { spawnToAnswer: child.firstLineMs, ...first, inside: first.importMs + first.invokeMs, warmUs };
    };
    const nodeStart: number[] = [];
    const sdkImport: number[] = [];
    const asDeployed: ColdRun[] = [];
    const sdkBundled: ColdRun[] = [];
    const noSdk: ColdRun[] = [];
    const steps = [
      async () =>
        nodeStart.push((await runNode(['-e', 'process.stdout.write("ready\\n")'], env)).firstLineMs),
      async () => asDeployed.push(await cold(pkg.handler)),
      async () => sdkBundled.push(await cold(pkg.handlerWithSdk)),
      async () => noSdk.push(await cold(pkg.handlerWithoutSdk)),
      // The runtime's copy of the SDK is loaded from node_modules by the handler's first line.
      async () =>
        sdkImport.push((await runNode(['--input-type=module', '-e', SDK_IMPORT], env, dir)).firstLineMs),
    ];
    for (let i = 0; i < COLD_RUNS; i++) {
      // Rotate, so that no step always follows the same other.
      for (let j = 0; j < steps.length; j++)
        await (steps[(i + j) % steps.length] as () => Promise<unknown>)();
    }

    const warm = await runNode([pkg.runner, 'warm'], {
      ...env,
      BENCH_AS: JSON.stringify({ dbUsername: user.dbUsername, schema: user.tenantSchema }),
      BENCH_ROUNDS: String(WARM_ROUNDS),
      BENCH_CALLS: String(WARM_CALLS),
    });
    const rounds = warm.lines as { handler: number; query: number; raw: number }[];
    const overhead = round(median(rounds.map((r) => r.handler / r.query - 1)), 3);
    const handlerUs = round(median(rounds.map((r) => r.handler)), 1);
    const queryUs = round(median(rounds.map((r) => r.query)), 1);
    const rawUs = round(median(rounds.map((r) => r.raw)), 1);

    const kib = (bytes: number) => round(bytes / 1024, 1);
    const nodeMs = round(median(nodeStart), 1);
    const coldMs = med(asDeployed, (r) => r.spawnToAnswer);
    const insideMs = med(asDeployed, (r) => r.inside);
    const insideSdk = med(sdkBundled, (r) => r.inside);
    const runtime = "node's own start (node -e, spawn to first line)";
    return [
      {
        bench: BENCH,
        name: 'data-source Lambda bundle (src/appsync/lambda.ts, esbuild, minified)',
        value: kib(pkg.bytes.handler),
        unit: 'KiB',
        baseline: { name: 'the 1 MiB target', value: TARGET_BYTES / 1024 },
        ratio: round(pkg.bytes.handler / TARGET_BYTES, 3),
        target: '≤ 1 MB',
        met: pkg.bytes.handler <= TARGET_BYTES,
        notes:
          `options of src/cdk/bundle.ts (esm, node20, minify, keepNames, AWS SDK and pg-native external); ` +
          `with the AWS SDK bundled in: ${kib(pkg.bytes.handlerWithSdk)} KiB; the agents example's resolvers.mjs: ${kib(pkg.bytes.resolvers)} KiB`,
      },
      {
        bench: BENCH,
        name: 'Lambda cold start: new node process to the first Invoke answered',
        value: coldMs,
        unit: 'ms',
        baseline: { name: 'node -e, spawn to its first line of output', value: nodeMs },
        ratio: round(coldMs / nodeMs, 2),
        ratioMeaning: `medians of ${COLD_RUNS} rotations; the handler adds ${round(coldMs - nodeMs, 1)} ms to node's own start`,
        notes: `with the AWS SDK bundled in: ${med(sdkBundled, (r) => r.spawnToAnswer)} ms`,
      },
      {
        bench: BENCH,
        name: 'Lambda cold init in the process: import the bundle + first Invoke',
        value: insideMs,
        unit: 'ms',
        baseline: { name: runtime, value: nodeMs },
        ratio: round(insideMs / nodeMs, 2),
        ratioMeaning: 'in-process time / node start',
        target: `≤ ${TARGET_COLD_MS} ms (the part the package controls; the runtime's own start is AWS's)`,
        met: insideMs <= TARGET_COLD_MS,
        notes:
          `medians: import ${med(asDeployed, (r) => r.importMs)} ms; first Invoke ${med(asDeployed, (r) => r.invokeMs)} ms ` +
          `(resolvers module, the authenticator's secret, an admin and an executor connection with SCRAM, the identity lookup, the statement). ` +
          `The AWS SDK's Secrets Manager client is loaded on first use, which a cold start that reads its secrets from Secrets Manager ` +
          `pays on top: ${round(median(sdkImport) - nodeMs, 1)} ms here (its own process: ${round(median(sdkImport), 1)} ms spawn to done). ` +
          `With the SDK bundled in: ${insideSdk} ms (import ${med(sdkBundled, (r) => r.importMs)} ms, first Invoke ${med(sdkBundled, (r) => r.invokeMs)} ms). ` +
          `Without the SDK (an empty module in its place; ${kib(pkg.bytes.handlerWithoutSdk)} KiB): ${med(noSdk, (r) => r.inside)} ms ` +
          `(import ${med(noSdk, (r) => r.importMs)} ms, first Invoke ${med(noSdk, (r) => r.invokeMs)} ms)`,
      },
      {
        bench: BENCH,
        name: 'Lambda warm invocation, one at a time (handler vs its statement through the same pool)',
        value: handlerUs,
        unit: 'µs',
        baseline: { name: 'Query.agent as the same user through the same executor and pool', value: queryUs },
        ratio: round(1 + overhead, 3),
        ratioMeaning: `handler / statement, median of ${WARM_ROUNDS} rounds of ${WARM_CALLS} calls: overhead ${round(overhead * 100, 1)}%`,
        target: `overhead ≤ ${TARGET_OVERHEAD * 100}%`,
        met: overhead <= TARGET_OVERHEAD,
        notes:
          `raw superuser query (no role switch, no RLS, own pool) ${rawUs} µs; src/appsync/lambda.ts's own handler ` +
          `in the cold processes, after the first call (a fresh, unoptimized process): ${med(asDeployed, (r) => r.warmUs)} µs`,
      },
    ];
  } finally {
    await cognition.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
