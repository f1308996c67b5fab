import type pg from 'pg';
import { CognitionError } from '../errors.js';

/**
 * Takes a session advisory lock, waiting at most `waitMs`. The lock functions are open to every
 * role, so any session, a user's included, can hold a well-known key: a migrator that waited
 * forever could be stalled at will; this one gives up with a clear error instead.
 */
export async function acquireAdvisoryLock(
  client: pg.ClientBase,
  key: number,
  what: string,
  waitMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [key]);
    if (rows[0]?.ok) return;
    if (performance.now() >= deadline) {
      throw new CognitionError(
        'ERR_MIGRATION_FAILED',
        `${what}: another session has held advisory lock ${key} for ${Math.round(waitMs / 1000)} s (another migration, or a stuck session)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
