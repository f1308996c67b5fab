import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Cognition } from '../../src/cognition.js';
import type {
  TemplateMigrateReport,
  TemplateMigrationProgress,
} from '../../src/tenancy/template-migrations.js';
import { round } from '../result.js';

/** The template change rolled out: a column and an index on the busiest table. */
export const ROLLOUT_FILE = '0002_task_priority_score.sql';
export const ROLLOUT_SQL = `alter table tasks add column priority_score integer not null default 0;
create index tasks_priority_score_idx on tasks (priority_score);
`;

export interface RolloutResult {
  tenants: number;
  /** Wall time of both runs, template phase included. */
  totalMs: number;
  firstRun: {
    ms: number;
    done: number;
    interrupted: boolean;
    failed: TemplateMigrateReport['tenants']['failed'];
  };
  resume: { ms: number; report: TemplateMigrateReport };
  /** Tenant schemas that have the new column afterwards (the template apart). */
  withColumn: number;
  /** Tenants recorded at the new version afterwards. */
  atVersion: number;
}

export interface RolloutOptions {
  dir: string;
  tenants: number;
  concurrency: number;
  lockTimeoutMs: number;
  /** Stop the first run (onProgress throws) once this many tenants are done. */
  interruptAfter: number;
  /** A tenant whose `tasks` another session holds locked during the first run. */
  blocked: string;
  log: (line: string) => void;
}

/**
 * Rolls ROLLOUT_SQL out to every tenant in two runs: the first is cut off part-way (as an
 * operator's Ctrl-C or a crashed deploy would) while another session holds a lock on one
 * tenant's table (so that tenant fails on lock_timeout and is recorded, without stopping the
 * others); the second run resumes and must finish exactly what is left.
 */
export async function interruptedRollout(
  cognition: Cognition,
  url: string,
  options: RolloutOptions,
): Promise<RolloutResult> {
  await writeFile(join(options.dir, ROLLOUT_FILE), ROLLOUT_SQL);
  const blocker = new pg.Client({ connectionString: url, application_name: 'bench blocker' });
  await blocker.connect();
  const every = Math.max(1, Math.round(options.tenants / 20));
  const progress = (label: string, started: number) => (p: TemplateMigrationProgress) => {
    if (p.phase !== 'tenants') return;
    if (p.done % every === 0 || p.done === p.total) {
      const seconds = (performance.now() - started) / 1000;
      const rate = p.done / seconds;
      options.log(
        `  ${label}: ${p.done}/${p.total} tenants, ${round(rate, 1)}/s, eta ${Math.round((p.total - p.done) / rate)} s, failed ${p.failed}`,
      );
    }
  };
  const origin = performance.now();
  let firstRun: RolloutResult['firstRun'];
  try {
    await blocker.query(
      `begin; lock table ${pg.escapeIdentifier(`tenant_${options.blocked}`)}.tasks in access share mode`,
    );
    let done = 0;
    let failed: RolloutResult['firstRun']['failed'] = [];
    const onProgress = progress('rollout', origin);
    let interrupted = false;
    try {
      const report = await cognition.migrateTemplates({
        dir: options.dir,
        concurrency: options.concurrency,
        lockTimeoutMs: options.lockTimeoutMs,
        onProgress: (p) => {
          onProgress(p);
          if (p.phase === 'tenants') done = p.done;
          if (p.phase === 'tenants' && p.done >= options.interruptAfter) {
            throw new Error('interrupted by the bench');
          }
        },
      });
      failed = report.tenants.failed;
    } catch (error) {
      if ((error as Error).message !== 'interrupted by the bench') throw error;
      interrupted = true;
    }
    firstRun = { ms: performance.now() - origin, done, interrupted, failed };
  } finally {
    await blocker.query('rollback').catch(() => {});
    await blocker.end();
  }
  const { rows: recorded } = await cognition.pool.query<{ n: number }>(
    `select count(*)::int as n from cognition.tenant_migration_failures where version = 2`,
  );
  options.log(
    `  interrupted after ${firstRun.done} tenants in ${round(firstRun.ms / 1000, 1)} s; ${recorded[0]?.n ?? 0} failure(s) recorded (the locked tenant); resuming`,
  );
  const resumedAt = performance.now();
  const report = await cognition.migrateTemplates({
    dir: options.dir,
    concurrency: options.concurrency,
    lockTimeoutMs: options.lockTimeoutMs,
    onProgress: progress('resume', resumedAt),
  });
  const resume = { ms: performance.now() - resumedAt, report };
  const { rows } = await cognition.pool.query<{ with_column: number; at_version: number }>(
    `select (select count(*)::int from pg_attribute a join pg_class c on c.oid = a.attrelid
             join pg_namespace n on n.oid = c.relnamespace
             where a.attname = 'priority_score' and c.relname = 'tasks' and n.nspname ~ '^tenant_t[0-9]+$') as with_column,
            (select count(*)::int from cognition.tenant_migrations where version = 2) as at_version`,
  );
  return {
    tenants: options.tenants,
    totalMs: performance.now() - origin,
    firstRun,
    resume,
    withColumn: rows[0]?.with_column ?? 0,
    atVersion: rows[0]?.at_version ?? 0,
  };
}
