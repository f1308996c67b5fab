import pg from 'pg';
import type { Cognition } from '../../src/cognition.js';
import type { Executor, RunAs } from '../../src/db/executor.js';
import { median } from '../result.js';

export type Run = () => Promise<unknown>;

/** Requests per second of `concurrency` closed loops sharing `requests` calls. */
export async function throughput(run: Run, requests: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) await run();
    }),
  );
  return requests / ((performance.now() - started) / 1000);
}

export interface RateOptions {
  rounds: number;
  requests: number;
  concurrency: number;
  warmup: number;
}

/**
 * Every way, round after round, in an order that rotates, so that machine noise hits them
 * alike; returns each way's per-round rates.
 */
export async function interleavedRates(
  runs: Record<string, Run>,
  options: RateOptions,
): Promise<Record<string, number[]>> {
  const names = Object.keys(runs);
  for (const name of names) await throughput(runs[name] as Run, options.warmup, options.concurrency);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length] as string;
      rates[name]?.push(await throughput(runs[name] as Run, options.requests, options.concurrency));
    }
  }
  return rates;
}

/** Median over rounds of a / b, each round's pair measured back to back. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / (b[i] as number)));
}

export interface BenchUser {
  as: RunAs;
  slug: string;
  schema: string;
}

/**
 * Invites and provisions one user per given tenant (two callers at a time), and has each
 * write its own member row, so that the request path reads one row as that user.
 */
export async function provisionUsers(
  cognition: Cognition,
  slugs: readonly string[],
  tag: string,
): Promise<BenchUser[]> {
  const out: BenchUser[] = [];
  let next = 0;
  // Made once before the two callers: Cognition.executor() is not safe to call concurrently the
  // first time (each call would set a new authenticator password, and one pool keeps a stale one).
  await cognition.executor('role-switch');
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < slugs.length) {
        const i = next++;
        const slug = slugs[i] as string;
        const email = `${tag}${i}@${slug}.test`;
        await cognition.users.invite({ email, tenant: slug, role: 'user' });
        const { user } = await cognition.users.provision(email);
        await cognition.runAs(user, 'insert into members (display_name, email) values ($1, $2)', [
          `User ${i}`,
          email,
        ]);
        out.push({
          as: { dbUsername: user.dbUsername as string, schema: user.tenantSchema },
          slug,
          schema: user.tenantSchema as string,
        });
      }
    }),
  );
  return out;
}

/**
 * The request: one row by primary key, as the user, in their tenant's schema. `email` is of the
 * tenant's own domain type (a different type oid in every schema), and the executor prepares a
 * statement once per connection by its text: run for another tenant, such a result column fails
 * with 0A000 "cached plan must not change result type". Casting keeps the result types the same
 * in every tenant (see docs/scaling.md).
 */
export const REQUEST_SQL =
  'select id, display_name, email::text as email, timezone, created_at from members where id = $1';

function pick<T>(list: readonly T[]): T {
  return list[Math.floor(Math.random() * list.length)] as T;
}

/** A random one of `users` per request, through the role-switch executor. */
export function roleSwitchRun(executor: Executor, users: readonly BenchUser[]): Run {
  return () => executor.run(pick(users).as, REQUEST_SQL, [1]);
}

/** The same statement as the superuser on a pool of the same size, schema-qualified, no role switch or RLS. */
export function rawRun(pool: pg.Pool, users: readonly BenchUser[]): Run {
  const texts = new Map(
    users.map((u) => [
      u.schema,
      REQUEST_SQL.replace(' from members ', ` from ${pg.escapeIdentifier(u.schema)}.members `),
    ]),
  );
  return () => {
    const { schema } = pick(users);
    return pool.query({ name: `raw_${schema}`, text: texts.get(schema) as string, values: [1] });
  };
}
