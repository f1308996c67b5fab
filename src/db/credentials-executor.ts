import pg from 'pg';
import { pgErrorOf } from '../errors.js';
import { createPool, urlFor } from './pool.js';
import type { ExecResult, Executor, RunAs } from './executor.js';
import { checkout } from './checkout.js';
import { runRequest } from './request.js';

export interface LoginCredentials {
  username: string;
  password: string;
  host: string;
  port: number;
  dbname: string;
}

export interface CredentialsExecutorOptions {
  /** Looks up a user's credentials (from the secret store). */
  credentialsFor(dbUsername: string): Promise<LoginCredentials>;
  /** Connections per user. */
  maxPerUser?: number;
  /** Users whose pools are kept; the least recently used pool is closed beyond that. */
  maxPools?: number;
}

/**
 * The seed's mode: connect as the user with the user's own credentials. The login role is
 * the user, so even SQL that tries to switch roles cannot leave it. Pools are per user and
 * bounded; a pool whose password stopped working is dropped and rebuilt once.
 */
export class CredentialsExecutor implements Executor {
  readonly mode = 'credentials' as const;
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly options: CredentialsExecutorOptions) {}

  async run<R = Record<string, unknown>>(
    as: RunAs,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<ExecResult<R>> {
    try {
      return await this.once<R>(as, sql, params);
    } catch (error) {
      // 28P01: the stored password changed since the pool was built (rotation, repair).
      if (pgErrorOf(error)?.code === '28P01') {
        await this.forget(as.dbUsername);
        return this.once<R>(as, sql, params);
      }
      if (connectionLost(error)) await this.explainLostConnection(as.dbUsername);
      throw error;
    }
  }

  /**
   * Suspending or removing a user terminates its sessions, so a request racing the
   * suspension sees its connection die rather than a login refusal. Whether the statement
   * committed is unknown, so it is not retried; a fresh login tells whether the user was
   * shut out, and that (28000) is reported instead of the lost connection.
   */
  private async explainLostConnection(dbUsername: string): Promise<void> {
    // The pool's other connections were terminated too, but may not know it yet: drop them all,
    // and ask a connection of its own, which must log in anew.
    await this.forget(dbUsername);
    const probe = new pg.Client({ connectionString: await this.urlFor(dbUsername) });
    try {
      await probe.connect();
    } catch (loginError) {
      if (pgErrorOf(loginError)?.code === '28000') throw loginError;
      return;
    } finally {
      await probe.end().catch(() => {});
    }
  }

  private async urlFor(dbUsername: string): Promise<string> {
    const c = await this.options.credentialsFor(dbUsername);
    return urlFor(`postgres://${c.host}:${c.port}/${encodeURIComponent(c.dbname)}`, c.username, c.password);
  }

  private async once<R>(as: RunAs, sql: string, params: readonly unknown[]): Promise<ExecResult<R>> {
    const pool = await this.poolFor(as.dbUsername);
    for (let attempt = 0; ; attempt++) {
      const client = await checkout(pool);
      const outcome = await runRequest<R>(client, false, as, sql, params);
      client.release(outcome.discard ? new Error('connection retired') : undefined);
      // A connection whose prepared statements were dropped under it ran nothing: try another.
      if (outcome.error !== undefined && outcome.retry && attempt === 0) continue;
      if (outcome.error !== undefined) throw outcome.error;
      return outcome.result as ExecResult<R>;
    }
  }

  private async poolFor(dbUsername: string): Promise<pg.Pool> {
    const existing = this.pools.get(dbUsername);
    if (existing) {
      // Refresh its place in the LRU order.
      this.pools.delete(dbUsername);
      this.pools.set(dbUsername, existing);
      return existing;
    }
    const pool = createPool(await this.urlFor(dbUsername), {
      max: this.options.maxPerUser ?? 2,
      applicationName: 'pg-cognition credentials',
    });
    this.pools.set(dbUsername, pool);
    const limit = this.options.maxPools ?? 100;
    while (this.pools.size > limit) {
      const [oldest, oldPool] = this.pools.entries().next().value as [string, pg.Pool];
      this.pools.delete(oldest);
      void oldPool.end().catch(() => {});
    }
    return pool;
  }

  async forget(dbUsername: string): Promise<void> {
    const pool = this.pools.get(dbUsername);
    if (!pool) return;
    this.pools.delete(dbUsername);
    await pool.end().catch(() => {});
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
  }
}

/** Class 57 (operator intervention: terminated, shut down) or a socket that closed. */
function connectionLost(error: unknown): boolean {
  const code = pgErrorOf(error)?.code ?? '';
  if (code.startsWith('57P') || code === 'ECONNRESET' || code === 'EPIPE') return true;
  return error instanceof Error && /Connection terminated|not queryable/.test(error.message);
}
