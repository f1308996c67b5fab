import type { Cognition } from '../../src/cognition.js';
import { median, round } from '../result.js';
import { createTenants, wallSeconds } from './create-tenants.js';

export interface ParallelResult {
  /** Tenants this step added (slugs after the first `from`). */
  created: number;
  /** Wall time per tenant, ms, one round each. */
  one: number[];
  two: number[];
  /** Latency per creation with two callers (median, ms). */
  twoLatency: number;
}

const ROUNDS = 3;
const PER_ROUND = 20;

/**
 * Whether two concurrent callers create tenants faster than one: rounds of PER_ROUND tenants
 * each way, alternating. They do not, on this design: `grant tenant_users to <tenant role>`
 * takes a lock on the global role (ShareUpdateExclusiveLock on its pg_authid object) that the
 * next creation's grant waits for until the first one commits.
 */
export async function parallelCreation(
  cognition: Cognition,
  from: number,
  log: (line: string) => void,
): Promise<ParallelResult> {
  const result: ParallelResult = { created: 0, one: [], two: [], twoLatency: 0 };
  const latencies: number[] = [];
  let next = from;
  for (let r = 0; r < ROUNDS; r++) {
    for (const workers of r % 2 ? [2, 1] : [1, 2]) {
      const created = await createTenants(cognition, { from: next, to: next + PER_ROUND }, { workers });
      next += PER_ROUND;
      result.created += PER_ROUND;
      const perTenant = (wallSeconds(created) * 1000) / PER_ROUND;
      (workers === 1 ? result.one : result.two).push(perTenant);
      if (workers === 2) latencies.push(...created.map((c) => c.ms));
    }
  }
  result.twoLatency = round(median(latencies), 1);
  log(
    `  one caller ${round(median(result.one), 1)} ms per tenant, two callers ${round(median(result.two), 1)} ms per tenant (wall)`,
  );
  return result;
}
