import type pg from 'pg';
import { connectionIsIdle } from './request.js';

/**
 * A pooled connection that is idle: one left inside a transaction block (an error after a
 * statement like `begin`, whose status is only known at the next ReadyForQuery) is destroyed
 * rather than handed to the next request.
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    if (connectionIsIdle(client) || attempt >= 3) return client;
    client.release(new Error('connection left in a transaction block'));
  }
}
