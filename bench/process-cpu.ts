import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU time of other processes, from /proc (Linux): how the two cores are split between the
 * server under test, Postgres and the load generator. Elsewhere the figures are NaN.
 */

/** USER_HZ: /proc/<pid>/stat counts clock ticks of 10 ms on every common Linux build. */
const TICK_MS = 10;

interface Stat {
  ppid: number;
  cpuMs: number;
}

async function stat(pid: number): Promise<Stat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 4 (ppid), 14 (utime) and 15 (stime), counted from 1 with pid and comm.
  return {
    ppid: Number(fields[1]),
    cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
  };
}

/** CPU time (ms) of a process and its direct children, by pid (Postgres: the postmaster and its backends). */
export async function treeCpuMs(rootPid: number): Promise<Map<number, number>> {
  const result = new Map<number, number>();
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return result;
  }
  await Promise.all(
    entries.map(async (entry) => {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) return;
      const s = await stat(pid);
      if (s && (pid === rootPid || s.ppid === rootPid)) result.set(pid, s.cpuMs);
    }),
  );
  return result;
}

/**
 * Measures the CPU a process tree uses while `run` runs: processes that exist at both ends
 * (pooled backends live through a round) are counted; NaN where /proc is not available.
 */
export async function measureTreeCpu<T>(
  rootPid: number,
  run: () => Promise<T>,
): Promise<{ result: T; cpuMs: number }> {
  const before = await treeCpuMs(rootPid);
  const result = await run();
  const after = await treeCpuMs(rootPid);
  if (before.size === 0) return { result, cpuMs: NaN };
  let cpuMs = 0;
  for (const [pid, ms] of after) {
    const start = before.get(pid);
    cpuMs += ms - (start ?? 0);
  }
  return { result, cpuMs };
}
