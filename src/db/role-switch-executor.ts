import type pg from 'pg';
import { createPool } from './pool.js';
import type { ExecResult, Executor, RunAs } from './executor.js';
import { checkout } from './checkout.js';
import { runRequest } from './request.js';
import { guardStatement } from './statement-guard.js';

/**
 * The default, pooled mode: every connection logs in as cognition_authenticator (LOGIN
 * NOINHERIT, no privileges of its own) and each request switches to the user's role for
 * the duration of its transaction.
 */
export class RoleSwitchExecutor implements Executor {
  readonly mode = 'role-switch' as const;
  private readonly pool: pg.Pool;

  constructor(authenticatorUrl: string, options: { max?: number; maxLifetimeSeconds?: number } = {}) {
    this.pool = createPool(authenticatorUrl, {
      max: options.max ?? 20,
      applicationName: 'pg-cognition role-switch',
      // A backend never evicts what it caches of the tenants it served (relations, catalogs,
      // prepared statements): a connection that serves every tenant in turn grows to hold them
      // all. Renewing connections starts their caches over (docs/scaling.md).
      maxLifetimeSeconds: options.maxLifetimeSeconds ?? 3600,
    });
  }

  async run<R = Record<string, unknown>>(
    as: RunAs,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<ExecResult<R>> {
    guardStatement(sql);
    for (let attempt = 0; ; attempt++) {
      const client = await checkout(this.pool);
      const outcome = await runRequest<R>(client, true, as, sql, params);
      client.release(outcome.discard ? new Error('connection retired') : undefined);
      // A connection whose prepared statements were dropped under it ran nothing: try another.
      if (outcome.error !== undefined && outcome.retry && attempt === 0) continue;
      if (outcome.error !== undefined) throw outcome.error;
      return outcome.result as ExecResult<R>;
    }
  }

  async connect(): Promise<void> {
    (await this.pool.connect()).release();
  }

  async forget(): Promise<void> {
    // Nothing per user is cached: the role is chosen anew by every request.
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
