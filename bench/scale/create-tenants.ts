import type { Cognition } from '../../src/cognition.js';
import { median, round } from '../result.js';

export interface CreatedTenant {
  index: number;
  slug: string;
  /** performance.now() when the call began (one clock for every batch). */
  startedAt: number;
  ms: number;
}

export interface Bucket {
  from: number;
  to: number;
  medianMs: number;
  p90Ms: number;
  /** Tenants created per second of wall time in this bucket. */
  perSecond: number;
}

/** Zero-padded so that slug order (the rollout's order) is creation order. */
export function slugOf(index: number): string {
  return `t${String(index).padStart(5, '0')}`;
}

/**
 * Creates tenants `from`..`to-1` with `workers` concurrent callers of the public API (each its
 * own pooled connection and transaction), recording each creation's latency.
 */
export async function createTenants(
  cognition: Cognition,
  range: { from: number; to: number },
  options: { workers: number; onTenant?: (created: CreatedTenant, done: number) => void },
): Promise<CreatedTenant[]> {
  const out: CreatedTenant[] = [];
  let next = range.from;
  await Promise.all(
    Array.from({ length: options.workers }, async () => {
      while (next < range.to) {
        const index = next++;
        const slug = slugOf(index);
        const started = performance.now();
        await cognition.tenants.create({ slug, name: `Tenant ${index}` });
        const created = { index, slug, startedAt: started, ms: performance.now() - started };
        out.push(created);
        options.onTenant?.(created, out.length);
      }
    }),
  );
  return out.sort((a, b) => a.index - b.index);
}

/** Consecutive buckets of `size` tenants in creation order. */
export function buckets(created: readonly CreatedTenant[], size: number): Bucket[] {
  const out: Bucket[] = [];
  for (let i = 0; i < created.length; i += size) {
    const part = created.slice(i, i + size);
    const start = Math.min(...part.map((c) => c.startedAt));
    const end = Math.max(...part.map((c) => c.startedAt + c.ms));
    const sorted = part.map((c) => c.ms).sort((a, b) => a - b);
    out.push({
      from: (part[0] as CreatedTenant).index,
      to: (part.at(-1) as CreatedTenant).index,
      medianMs: round(median(sorted), 1),
      p90Ms: round(sorted[Math.floor(sorted.length * 0.9)] as number, 1),
      perSecond: round(part.length / ((end - start) / 1000), 1),
    });
  }
  return out;
}

/** Wall time from the first start to the last end of these creations, in seconds. */
export function wallSeconds(created: readonly CreatedTenant[]): number {
  const start = Math.min(...created.map((c) => c.startedAt));
  const end = Math.max(...created.map((c) => c.startedAt + c.ms));
  return (end - start) / 1000;
}
