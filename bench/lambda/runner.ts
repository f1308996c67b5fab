import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { WarmSetup } from './warm-entry.js';

// The child process of the lambda bench, bundled to plain JavaScript so that nothing but node
// itself runs before the handler is imported. `cold`: import the bundled handler and serve the
// event once (what a new Lambda container does), then a few warm invocations; `warm`: the
// handler against its own statement through the same pool, one call at a time as a Lambda
// container serves them. Results go to stdout, one JSON line each.
const mode = process.argv[2];
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT_FILE as string, 'utf8')) as Record<
  string,
  unknown
>;
const write = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function timed(fn: () => Promise<unknown>, calls: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await fn();
    out.push((performance.now() - started) * 1000);
  }
  return out;
}

if (mode === 'cold') {
  // performance.now() counts from the process's start.
  const ready = performance.now();
  const module = (await import(pathToFileURL(process.env.BENCH_HANDLER as string).href)) as {
    handler: (e: unknown) => Promise<unknown>;
    closeLambdaDataSource: () => Promise<void>;
  };
  const imported = performance.now();
  const result = await module.handler(event);
  const answered = performance.now();
  write({
    kind: 'first',
    bootMs: ready,
    importMs: imported - ready,
    invokeMs: answered - imported,
    sinceStartMs: answered,
    result,
  });
  const warm = await timed(() => module.handler(event), Number(process.env.BENCH_WARM_CALLS ?? 200));
  write({ kind: 'warm', medianUs: medianOf(warm) });
  await module.closeLambdaDataSource();
} else if (mode === 'warm') {
  const { setup } = (await import(pathToFileURL(process.env.BENCH_WARM as string).href)) as {
    setup: (env: NodeJS.ProcessEnv, event: unknown, as: unknown) => Promise<WarmSetup>;
  };
  const as = JSON.parse(process.env.BENCH_AS as string) as unknown;
  const s = await setup(process.env, event, as);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 25);
  const calls = Number(process.env.BENCH_CALLS ?? 400);
  const runs: Record<string, () => Promise<unknown>> = {
    handler: () => s.handler(event as never),
    query: s.query,
    raw: s.raw,
  };
  const names = Object.keys(runs);
  for (const name of names) await timed(runs[name] as () => Promise<unknown>, calls);
  for (let r = 0; r < rounds; r++) {
    const round: Record<string, number> = {};
    // Rotate the order, so that no way always follows the same other.
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length] as string;
      round[name] = medianOf(await timed(runs[name] as () => Promise<unknown>, calls));
    }
    write({ kind: 'round', ...round });
  }
  await s.close();
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
