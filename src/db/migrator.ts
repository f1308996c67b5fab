import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { CognitionError } from '../errors.js';
import { acquireAdvisoryLock } from './advisory-lock.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  version: number;
  name: string;
  status: 'applied' | 'skipped';
  ms: number;
}

/** The cognition schema's own migrations ship in the package's `sql/` folder. */
export const COGNITION_SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

// Any constant works as long as every migrator uses the same one.
const MIGRATE_LOCK_KEY = 7_304_113_505;

/** Reads `NNNN_name.sql` files in version order. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d+)_([\w.-]+)\.sql$/.exec(file);
    if (!match) {
      throw new CognitionError('ERR_CONFIG', `migration file ${file} is not named NNNN_name.sql`);
    }
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2] ?? file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new CognitionError('ERR_CONFIG', `two migrations have version ${migrations[i]?.version}`);
    }
  }
  return migrations;
}

/**
 * Applies the cognition migrations in order, each in its own transaction, under an advisory
 * lock so that two migrators never interleave. Re-running is a no-op; a changed file that was
 * already applied is an error rather than silently ignored.
 */
export async function migrate(
  client: pg.ClientBase,
  options: { dir?: string; onResult?: (result: MigrationResult) => void; lockWaitMs?: number } = {},
): Promise<MigrationResult[]> {
  const migrations = await readMigrations(options.dir ?? COGNITION_SQL_DIR);
  const results: MigrationResult[] = [];
  await acquireAdvisoryLock(client, MIGRATE_LOCK_KEY, 'migrate', options.lockWaitMs);
  try {
    await client.query(`
      create schema if not exists cognition;
      create table if not exists cognition.schema_migrations (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      );
      revoke all on cognition.schema_migrations from public;
    `);
    const applied = new Map(
      (
        await client.query<{ version: number; checksum: string }>(
          'select version, checksum from cognition.schema_migrations',
        )
      ).rows.map((r) => [r.version, r.checksum]),
    );
    for (const migration of migrations) {
      const started = performance.now();
      const previous = applied.get(migration.version);
      if (previous !== undefined) {
        if (previous !== migration.checksum) {
          throw new CognitionError(
            'ERR_MIGRATION_CHECKSUM',
            `migration ${migration.version}_${migration.name} changed after it was applied`,
          );
        }
        const result = {
          version: migration.version,
          name: migration.name,
          status: 'skipped' as const,
          ms: 0,
        };
        results.push(result);
        options.onResult?.(result);
        continue;
      }
      try {
        await client.query('begin');
        await client.query(migration.sql);
        await client.query('reset role');
        await client.query(
          'insert into cognition.schema_migrations (version, name, checksum) values ($1, $2, $3)',
          [migration.version, migration.name, migration.checksum],
        );
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw new CognitionError(
          'ERR_MIGRATION_FAILED',
          `migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const result = {
        version: migration.version,
        name: migration.name,
        status: 'applied' as const,
        ms: Math.round(performance.now() - started),
      };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY]).catch(() => {});
  }
  return results;
}
