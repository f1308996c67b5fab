import type pg from 'pg';
import { median } from '../result.js';

/**
 * The template's own DDL run directly into a new schema and committed, `samples` times (each
 * schema dropped afterwards, untimed): what any schema-per-tenant system pays per tenant at
 * this catalog size, with none of pg-cognition's work.
 */
export async function rawDdlMedian(
  client: pg.ClientBase,
  sql: string,
  samples: number,
  tag: string,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const schema = `raw_${tag}_${i}`;
    const started = performance.now();
    await client.query(
      `begin; set local role cognition_owner; create schema ${schema}; set local search_path = ${schema}; ${sql}; commit`,
    );
    times.push(performance.now() - started);
    await client.query(`drop schema ${schema} cascade`);
  }
  return median(times);
}
