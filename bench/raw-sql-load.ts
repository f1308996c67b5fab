import type { Executor, RunAs } from '../src/db/executor.js';
import type { LoadOptions, LoadResult } from './http-load.js';

/**
 * The database's share of the GraphQL bench's request: the resolver's own statement, as the
 * same user with the same settings (role, search_path, claims), through the same executor and
 * so the same pool of connections as the endpoint, from `connections` closed loops in this
 * process. No HTTP, no token, no GraphQL: what Postgres and the driver allow at that
 * concurrency. Same result shape as the HTTP load generator's.
 */
export async function generateSqlLoad(
  executor: Executor,
  as: RunAs,
  sql: string,
  paramSets: readonly (readonly unknown[])[],
  options: LoadOptions,
): Promise<LoadResult> {
  const latenciesUs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.durationMs;
  let lastDone = started;
  await Promise.all(
    Array.from({ length: options.connections }, async (_, index) => {
      let next = index % paramSets.length;
      for (;;) {
        const sentAt = performance.now();
        try {
          const result = await executor.run(as, sql, paramSets[next] as unknown[]);
          if (result.rows.length !== 1) throw new Error(`${result.rows.length} rows`);
        } catch (error) {
          errors++;
          firstError ??= String(error);
        }
        const now = performance.now();
        latenciesUs.push((now - sentAt) * 1000);
        lastDone = now;
        next = (next + 1) % paramSets.length;
        if (now >= deadline) return;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  const result: LoadResult = {
    completed: latenciesUs.length,
    errors,
    elapsedMs: lastDone - started,
    latenciesUs,
    cpuMs: (used.user + used.system) / 1000,
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}
