import { Session } from 'node:inspector/promises';

/**
 * CPU profiles of this process over a window (the inspector's sampling profiler, the one behind
 * `node --cpu-prof`), and a summary of where the time went: self time per function and per
 * area (our layers, each dependency, Node's HTTP/net/stream internals, GC).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  byArea: { area: string; ms: number; share: number }[];
  byFunction: { name: string; ms: number; share: number }[];
}

export async function profile<T>(
  run: () => Promise<T>,
  intervalUs = 500,
): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    const result = await run();
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

function area(url: string, name: string): string {
  if (url === '') {
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
    return '(native)';
  }
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] as string;
  const internal = /^node:internal\/([^/]+(?:\/[^/]+)?)/.exec(url);
  if (internal) return `node:${(internal[1] as string).replace(/\.js$/, '')}`;
  if (url.startsWith('node:')) return url;
  const ours = /\/(src|bench|test)\/(.+?)(?:\.[cm]?[tj]s)?$/.exec(url);
  if (ours) {
    const parts = (ours[2] as string).split('/');
    return `${ours[1]}/${parts.length > 1 ? parts.slice(0, -1).join('/') + '/' : ''}${parts.at(-1)}`;
  }
  return url;
}

export function summarize(cpu: CpuProfile, top = 30): ProfileSummary {
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < cpu.samples.length; i++) {
    const id = cpu.samples[i] as number;
    // A sample's delta is the time until the next one: charge it to this sample's node.
    const delta = cpu.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = (byId.get(id) as ProfileNode).callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const where = area(url, functionName);
    areas.set(where, (areas.get(where) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const sorted = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return {
    busyMs: busy / 1000,
    byArea: sorted(areas).map(({ name, ms, share }) => ({ area: name, ms, share })),
    byFunction: sorted(functions).slice(0, top),
  };
}

/** The summary as text, per request when `requests` is given (µs of this process's CPU). */
export function formatSummary(summary: ProfileSummary, requests?: number, rows = 25): string {
  const per = (ms: number) =>
    requests ? `${((ms * 1000) / requests).toFixed(1)} µs/req` : `${ms.toFixed(0)} ms`;
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`.padStart(6);
  return [
    `busy ${per(summary.busyMs)}`,
    'by area:',
    ...summary.byArea.slice(0, rows).map((a) => `  ${pct(a.share)}  ${per(a.ms).padStart(14)}  ${a.area}`),
    'by function (self time):',
    ...summary.byFunction.map((f) => `  ${pct(f.share)}  ${per(f.ms).padStart(14)}  ${f.name}`),
  ].join('\n');
}
