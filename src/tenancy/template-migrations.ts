import type pg from 'pg';
import { acquireAdvisoryLock } from '../db/advisory-lock.js';
import { readMigrations, type Migration } from '../db/migrator.js';
import { needsPrivilegeRoundTrip } from './privilege-round-trip.js';
import { CognitionError, pgErrorOf } from '../errors.js';

/**
 * Template migrations: the application's SQL files (`NNNN_name.sql`, unqualified names) are
 * applied to `tenant_template` first and then fanned out to every tenant schema, tracked per
 * tenant in `cognition.tenant_migrations` so that a rollout that fails half-way resumes
 * without re-applying anything.
 *
 * Grants: in `tenant_template` a file's grants to `tenant_admins` / `tenant_users` stay as
 * written (the specification for new tenants). In a tenant schema the same file runs against
 * the template-shaped state and its grants are then moved onto that tenant's own roles:
 *
 *   1. before the file, the tenant roles' privileges in the schema are moved back onto the
 *      global roles (so that a `revoke ... from tenant_users` in the file takes effect);
 *   2. the file runs;
 *   3. every privilege in the schema held by a global role (schema, relations, columns,
 *      routines, types) is moved onto the tenant's role, policies naming a global role are
 *      re-pointed at the tenant's role, and the transaction fails if anything is left.
 *
 * All of it happens in one transaction, so no other session ever sees a grant to a global role.
 */

export interface TemplateMigrationProgress {
  phase: 'template' | 'tenants';
  version?: number;
  name?: string;
  tenant?: string;
  done: number;
  total: number;
  failed: number;
}

export interface TemplateMigrateOptions {
  /** The application's template migrations, files NNNN_name.sql with unqualified names. */
  dir: string;
  /** Tenants migrated in parallel (default 4), each on its own connection from the pool. */
  concurrency?: number;
  /** `set local lock_timeout` per tenant transaction (default 5000). */
  lockTimeoutMs?: number;
  /** `set local statement_timeout` per migration transaction (template and tenants); unset by default. */
  statementTimeoutMs?: number;
  onProgress?: (p: TemplateMigrationProgress) => void;
  /** Only these tenant slugs (the template is always migrated). An unknown slug is an error. */
  only?: string[];
}

export interface TemplateMigrateReport {
  template: { version: number; name: string; status: 'applied' | 'skipped' }[];
  tenants: {
    total: number;
    migrated: number;
    upToDate: number;
    failed: { slug: string; version: number; error: string }[];
  };
  ms: number;
}

/** A tenant's schema and roles: each declared tenant role's global role and the tenant's own. */
export interface TenantRoles {
  schemaName: string;
  /** [global role, tenant role] pairs, e.g. ['tenant_admins', 'tenant_acme_admins']. */
  roles: readonly (readonly [string, string])[];
  /** Tenant roles that may hold no write privilege in the schema. */
  readOnly: readonly string[];
}

const OWNER = 'cognition_owner';
const TEMPLATE_SCHEMA = 'tenant_template';
// Session lock of the template phase; differs from the cognition migrator's 7_304_113_505.
const TEMPLATE_LOCK_KEY = 7_304_113_506;
// Transaction locks per tenant: pg_advisory_xact_lock(TENANT_LOCK_CLASS, hashtext(tenant id)).
const TENANT_LOCK_CLASS = 730_411_351;
// A transaction-local setting that a COMMIT or ROLLBACK inside a migration file would undo.
const MARKER = 'pg_cognition.template_migration';

/**
 * Applies new template migrations to `tenant_template`, then brings every tenant (any status,
 * in slug order, `concurrency` at a time) up to the template's version. Tenant failures are
 * recorded in cognition.tenant_migration_failures and reported, not thrown; a template failure
 * or a changed file throws before any tenant is touched.
 */
export async function migrateTemplates(
  pool: pg.Pool,
  options: TemplateMigrateOptions,
): Promise<TemplateMigrateReport> {
  const started = performance.now();
  const concurrency = options.concurrency ?? 4;
  const lockTimeoutMs = options.lockTimeoutMs ?? 5000;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new CognitionError('ERR_INVALID_ARGUMENT', 'concurrency must be a positive integer');
  }
  for (const [name, value] of [
    ['lockTimeoutMs', lockTimeoutMs],
    ['statementTimeoutMs', options.statementTimeoutMs],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new CognitionError('ERR_INVALID_ARGUMENT', `${name} must be a non-negative integer`);
    }
  }

  const migrations = await readMigrations(options.dir);
  if (options.only) await checkSlugsExist(pool, options.only);

  const template = await migrateTemplateSchema(pool, migrations, options);
  const plan = await planTenants(pool, options.only);

  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const missing = [...new Set(plan.flatMap((t) => t.lacking))]
    .filter((v) => !byVersion.has(v))
    .sort((a, b) => a - b);
  if (missing.length > 0) {
    throw new CognitionError(
      'ERR_CONFIG',
      `template migration(s) ${missing.join(', ')} are recorded in cognition.template_migrations but their files are not in ${options.dir}`,
    );
  }

  const settings: TenantSettings = { lockTimeoutMs, statementTimeoutMs: options.statementTimeoutMs };
  const tenants: TemplateMigrateReport['tenants'] = {
    total: plan.length,
    migrated: 0,
    upToDate: 0,
    failed: [],
  };
  let done = 0;
  let next = 0;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop && next < plan.length) {
      const tenant = plan[next++] as TenantPlan;
      const outcome = await migrateTenant(pool, tenant, byVersion, settings);
      done++;
      if (outcome.failed) {
        tenants.failed.push({
          slug: tenant.slug,
          version: outcome.failed.version,
          error: outcome.failed.error,
        });
      } else if (outcome.applied.length > 0) {
        tenants.migrated++;
      } else {
        tenants.upToDate++;
      }
      const version = outcome.failed?.version ?? outcome.applied.at(-1);
      options.onProgress?.({
        phase: 'tenants',
        tenant: tenant.slug,
        ...(version === undefined ? {} : { version, name: byVersion.get(version)?.name }),
        done,
        total: plan.length,
        failed: tenants.failed.length,
      });
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, plan.length) }, () =>
      worker().catch((error: unknown) => {
        // Only onProgress can throw here; let the other workers finish their tenant and stop.
        stop = true;
        throw error;
      }),
    ),
  );
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;

  tenants.failed.sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  return { template, tenants, ms: Math.round(performance.now() - started) };
}

/**
 * Records a newly cloned tenant as being at the template's current version: one
 * tenant_migrations row per template_migrations row. Call it inside the transaction that
 * creates the tenant, after cognition.create_tenant_shell (whose insert into cognition.tenants
 * makes a concurrent template migration wait, see migrateTemplateSchema) and after the clone,
 * as a role that may write cognition.tenant_migrations (cognition_owner).
 */
export async function recordTenantAtCurrentVersion(client: pg.ClientBase, tenantId: string): Promise<void> {
  await client.query(
    `insert into cognition.tenant_migrations (tenant_id, version)
     select $1, m.version from cognition.template_migrations m
     on conflict (tenant_id, version) do nothing`,
    [tenantId],
  );
}

/** The highest template migration applied to tenant_template (0 when none). */
export async function currentTemplateVersion(db: pg.ClientBase | pg.Pool): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    'select coalesce(max(version), 0)::int as version from cognition.template_migrations',
  );
  return rows[0]?.version ?? 0;
}

export interface TenantTemplateStatus {
  slug: string;
  /** Highest version the tenant has (0 when none). */
  version: number;
  /** Template versions the tenant lacks, in order. */
  pending: number[];
  failure?: { version: number; error: string; failedAt: Date };
}

/**
 * Where each tenant stands against the template (slug order). Reads cognition tables, so run
 * it as cognition_owner or a role that bypasses their row-level security.
 */
export async function tenantTemplateVersions(
  db: pg.ClientBase | pg.Pool,
  options: { only?: string[] } = {},
): Promise<TenantTemplateStatus[]> {
  const { rows } = await db.query<{
    slug: string;
    version: number;
    pending: number[];
    failed_version: number | null;
    error: string | null;
    failed_at: Date | null;
  }>(
    `select t.slug,
            coalesce((select max(tm.version) from cognition.tenant_migrations tm where tm.tenant_id = t.id), 0)::int
              as version,
            array(select m.version from cognition.template_migrations m
                  where not exists (select from cognition.tenant_migrations tm
                                    where tm.tenant_id = t.id and tm.version = m.version)
                  order by m.version) as pending,
            f.version as failed_version, f.error, f.failed_at
     from cognition.tenants t
     left join lateral (select * from cognition.tenant_migration_failures f
                        where f.tenant_id = t.id order by f.version limit 1) f on true
     where $1::text[] is null or t.slug = any($1::text[])
     order by t.slug`,
    [options.only ?? null],
  );
  return rows.map((r) => ({
    slug: r.slug,
    version: r.version,
    pending: r.pending,
    ...(r.failed_version === null
      ? {}
      : { failure: { version: r.failed_version, error: r.error ?? '', failedAt: r.failed_at as Date } }),
  }));
}

/**
 * Moves every privilege in a tenant's schema held by the global tenant_admins / tenant_users
 * onto the tenant's own roles, re-points policies that name a global role, and fails if any
 * remains. Run it inside a transaction, as cognition_owner (the owner of the objects); the
 * clone of tenant_template into a new tenant can use it too. Returns the statements it ran.
 */
export async function mapGlobalGrantsToTenant(client: pg.ClientBase, tenant: TenantRoles): Promise<string[]> {
  const statements = await movePrivileges(client, tenant.schemaName, tenant.roles);
  const left = await privilegeMoves(client, tenant.schemaName, tenant.roles);
  for (const role of tenant.readOnly) {
    await client.query('select cognition.enforce_read_only($1, $2)', [tenant.schemaName, role]);
  }
  if (left.length > 0) {
    throw new CognitionError(
      'ERR_TEMPLATE_MIGRATION_FAILED',
      `privileges in schema ${tenant.schemaName} are still granted to a global tenant role: ${left.join('; ')}`,
    );
  }
  return statements;
}

// ---------------------------------------------------------------------------------------------

interface TenantPlan extends TenantRoles {
  id: string;
  slug: string;
  lacking: number[];
}

interface TenantSettings {
  lockTimeoutMs: number;
  statementTimeoutMs: number | undefined;
}

interface TenantOutcome {
  applied: number[];
  failed?: { version: number; error: string };
}

async function checkSlugsExist(pool: pg.Pool, slugs: string[]): Promise<void> {
  const found = await withOwner(pool, async (client) => {
    const { rows } = await client.query<{ slug: string }>(
      'select slug from cognition.tenants where slug = any($1::text[])',
      [slugs],
    );
    return new Set(rows.map((r) => r.slug));
  });
  const unknown = slugs.filter((s) => !found.has(s));
  if (unknown.length > 0) {
    throw new CognitionError('ERR_TENANT_NOT_FOUND', `no tenant ${unknown.join(', ')}`);
  }
}

/** Runs `fn` in a read transaction as cognition_owner on a pool client. */
async function withOwner<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('role', $1, true)`, [OWNER]);
    const result = await fn(client);
    await client.query('commit');
    client.release();
    return result;
  } catch (error) {
    const healthy = await client.query('rollback').then(
      () => true,
      () => false,
    );
    client.release(healthy ? undefined : true);
    throw error;
  }
}

/**
 * Phase 1: under a session advisory lock, checks every applied file's checksum, then applies
 * each new file to tenant_template in its own transaction.
 */
async function migrateTemplateSchema(
  pool: pg.Pool,
  migrations: Migration[],
  options: TemplateMigrateOptions,
): Promise<TemplateMigrateReport['template']> {
  const client = await pool.connect();
  let healthy = true;
  let ranFile = false;
  try {
    await acquireAdvisoryLock(client, TEMPLATE_LOCK_KEY, 'template migrate');
    try {
      let applied: { version: number; name: string; checksum: string }[];
      try {
        await client.query('begin');
        await client.query(`select set_config('role', $1, true)`, [OWNER]);
        ({ rows: applied } = await client.query<{ version: number; name: string; checksum: string }>(
          'select version, name, checksum from cognition.template_migrations order by version',
        ));
        await client.query('commit');
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      }

      const files = new Map(migrations.map((m) => [m.version, m]));
      for (const row of applied) {
        const file = files.get(row.version);
        if (file && file.checksum !== row.checksum) {
          throw new CognitionError(
            'ERR_MIGRATION_CHECKSUM',
            `template migration ${file.version}_${file.name} changed after it was applied`,
            { details: { version: file.version, name: file.name } },
          );
        }
      }
      const appliedVersions = new Set(applied.map((r) => r.version));
      const latest = applied.at(-1)?.version ?? 0;
      const early = migrations.find((m) => !appliedVersions.has(m.version) && m.version < latest);
      if (early) {
        // Tenants apply versions in order; a file slipped in below the template's version would
        // reach the template after later ones but reach fresh tenants before them.
        throw new CognitionError(
          'ERR_CONFIG',
          `template migration ${early.version}_${early.name} is older than the applied version ${latest}; give it a higher number`,
        );
      }

      const results: TemplateMigrateReport['template'] = [];
      for (const [index, migration] of migrations.entries()) {
        let status: 'applied' | 'skipped' = 'skipped';
        if (!appliedVersions.has(migration.version)) {
          ranFile = true;
          await applyTemplateMigration(client, migration, options.statementTimeoutMs);
          status = 'applied';
        }
        results.push({ version: migration.version, name: migration.name, status });
        options.onProgress?.({
          phase: 'template',
          version: migration.version,
          name: migration.name,
          done: index + 1,
          total: migrations.length,
          failed: 0,
        });
      }
      return results;
    } finally {
      await client.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => {
        healthy = false;
      });
    }
  } finally {
    if (ranFile && healthy) healthy = await resetSession(client);
    client.release(healthy ? undefined : true);
  }
}

async function applyTemplateMigration(
  client: pg.PoolClient,
  migration: Migration,
  statementTimeoutMs: number | undefined,
): Promise<void> {
  const marker = `template:${migration.version}`;
  try {
    await client.query('begin');
    await client.query(`select set_config('role', $1, true)`, [OWNER]);
    // A tenant being created holds a ROW EXCLUSIVE lock on cognition.tenants (its row's insert)
    // until it commits; waiting for it, and making new ones wait for us, means that a clone never
    // copies a template older than the versions it records (recordTenantAtCurrentVersion).
    await client.query('lock table cognition.tenants in share row exclusive mode');
    await client.query(
      `select set_config('search_path', $1, true), set_config($2, $3, true)${
        statementTimeoutMs === undefined ? '' : `, set_config('statement_timeout', $4, true)`
      }`,
      [
        TEMPLATE_SCHEMA,
        MARKER,
        marker,
        ...(statementTimeoutMs === undefined ? [] : [`${statementTimeoutMs}ms`]),
      ],
    );
    await client.query(migration.sql);
    await checkStillInTransaction(client, marker);
    await refuseDefaultPrivileges(client);
    await client.query(
      `select set_config('role', $1, true), set_config('search_path', 'pg_catalog, pg_temp', true)`,
      [OWNER],
    );
    await client.query(
      'insert into cognition.template_migrations (version, name, checksum) values ($1, $2, $3)',
      [migration.version, migration.name, migration.checksum],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw new CognitionError(
      'ERR_TEMPLATE_MIGRATION_FAILED',
      `template migration ${migration.version}_${migration.name} failed in ${TEMPLATE_SCHEMA}: ${describeError(error)}`,
      { cause: error, details: { version: migration.version, name: migration.name } },
    );
  }
}

/** Every tenant (any status) with the template versions it lacks, in slug order. */
async function planTenants(pool: pg.Pool, only: string[] | undefined): Promise<TenantPlan[]> {
  return withOwner(pool, async (client) => {
    const { rows } = await client.query<{
      id: string;
      slug: string;
      schema_name: string;
      role_map: [string, string, string][];
      lacking: number[];
    }>(
      `select t.id, t.slug, t.schema_name,
              array(select array[m.global_role, m.tenant_role, m.read_only::text]
                    from cognition.tenant_role_map(t.id) m) as role_map,
              array(select m.version from cognition.template_migrations m
                    where not exists (select from cognition.tenant_migrations tm
                                      where tm.tenant_id = t.id and tm.version = m.version)
                    order by m.version) as lacking
       from cognition.tenants t
       where $1::text[] is null or t.slug = any($1::text[])
       order by t.slug collate "C"`,
      [only ?? null],
    );
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      schemaName: r.schema_name,
      roles: r.role_map.map(([global, own]) => [global, own] as const),
      readOnly: r.role_map.filter(([, , readOnly]) => readOnly === 'true').map(([, own]) => own),
      lacking: r.lacking,
    }));
  });
}

/** Phase 2, one tenant: its lacking versions in order, each in one transaction; stops at the first failure. */
async function migrateTenant(
  pool: pg.Pool,
  tenant: TenantPlan,
  files: Map<number, Migration>,
  settings: TenantSettings,
): Promise<TenantOutcome> {
  const applied: number[] = [];
  if (tenant.lacking.length === 0) return { applied };
  let client: pg.PoolClient | undefined;
  let healthy = true;
  let ranFile = false;
  let current = tenant.lacking[0] as number;
  try {
    client = await pool.connect();
    for (const version of tenant.lacking) {
      current = version;
      const result = await applyTenantMigration(
        client,
        tenant,
        files.get(version) as Migration,
        settings,
        () => {
          ranFile = true;
        },
      );
      if (result === 'gone') break;
      if (result === 'applied') applied.push(version);
    }
    return { applied };
  } catch (error) {
    const message = describeError(error);
    if (client) {
      healthy = await client.query('rollback').then(
        () => true,
        () => false,
      );
      if (healthy) {
        // A file that ran COMMIT may have left grants to global roles behind: move them.
        await repairGrants(client, tenant, settings.lockTimeoutMs).catch(() => {});
        await recordFailure(client, tenant, current, message, settings.lockTimeoutMs).catch(() => {});
      }
    }
    return { applied, failed: { version: current, error: message } };
  } finally {
    if (client) {
      // SET (not SET LOCAL) in a committed file would outlive the transaction on this pooled connection.
      if (ranFile && healthy) healthy = await resetSession(client);
      client.release(healthy ? undefined : true);
    }
  }
}

const roundTrips = new WeakMap<Migration, boolean>();

function roundTrip(migration: Migration): boolean {
  let needed = roundTrips.get(migration);
  if (needed === undefined) roundTrips.set(migration, (needed = needsPrivilegeRoundTrip(migration.sql)));
  return needed;
}

async function applyTenantMigration(
  client: pg.PoolClient,
  tenant: TenantPlan,
  migration: Migration,
  settings: TenantSettings,
  onRun: () => void,
): Promise<'applied' | 'present' | 'gone'> {
  await client.query('begin');
  await client.query(
    `select set_config('role', $1, true), set_config('lock_timeout', $2, true)${
      settings.statementTimeoutMs === undefined ? '' : `, set_config('statement_timeout', $3, true)`
    }`,
    [
      OWNER,
      `${settings.lockTimeoutMs}ms`,
      ...(settings.statementTimeoutMs === undefined ? [] : [`${settings.statementTimeoutMs}ms`]),
    ],
  );
  // Two migrators never work on the same tenant at once; the second one then finds the version present.
  await client.query('select pg_advisory_xact_lock($1, hashtext($2::text))', [TENANT_LOCK_CLASS, tenant.id]);
  const { rows } = await client.query<{ present: boolean }>(
    `select exists (select from cognition.tenant_migrations m where m.tenant_id = t.id and m.version = $2) as present
     from cognition.tenants t where t.id = $1 for key share`,
    [tenant.id, migration.version],
  );
  const row = rows[0];
  if (!row || row.present) {
    // Dropped since the plan was made, or migrated meanwhile by a concurrent run.
    await client.query('commit');
    return row ? 'present' : 'gone';
  }

  // A file that may act on existing privileges runs against the template-shaped state: the
  // tenant roles' privileges sit on the global roles for the length of this transaction, so that
  // its revokes act on them. Any other file's grants are moved over afterwards either way.
  if (roundTrip(migration)) {
    await movePrivileges(
      client,
      tenant.schemaName,
      tenant.roles.map(([global, own]) => [own, global] as const),
      { schemaAcl: false, policies: false },
    );
  }
  const marker = `tenant:${tenant.id}:${migration.version}`;
  await client.query(`select set_config('search_path', quote_ident($1), true), set_config($2, $3, true)`, [
    tenant.schemaName,
    MARKER,
    marker,
  ]);
  onRun();
  await client.query(migration.sql);
  await checkStillInTransaction(client, marker);
  await refuseDefaultPrivileges(client);
  await client.query(
    `select set_config('role', $1, true), set_config('search_path', 'pg_catalog, pg_temp', true)`,
    [OWNER],
  );
  await mapGlobalGrantsToTenant(client, tenant);
  await client.query('insert into cognition.tenant_migrations (tenant_id, version) values ($1, $2)', [
    tenant.id,
    migration.version,
  ]);
  await client.query(
    'delete from cognition.tenant_migration_failures where tenant_id = $1 and version = $2',
    [tenant.id, migration.version],
  );
  await client.query('commit');
  return 'applied';
}

async function repairGrants(client: pg.PoolClient, tenant: TenantPlan, lockTimeoutMs: number): Promise<void> {
  await client.query('begin');
  try {
    await client.query(`select set_config('role', $1, true), set_config('lock_timeout', $2, true)`, [
      OWNER,
      `${lockTimeoutMs}ms`,
    ]);
    await movePrivileges(client, tenant.schemaName, tenant.roles);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

async function recordFailure(
  client: pg.PoolClient,
  tenant: TenantPlan,
  version: number,
  error: string,
  lockTimeoutMs: number,
): Promise<void> {
  await client.query('begin');
  try {
    await client.query(`select set_config('role', $1, true), set_config('lock_timeout', $2, true)`, [
      OWNER,
      `${lockTimeoutMs}ms`,
    ]);
    await client.query('select pg_advisory_xact_lock($1, hashtext($2::text))', [
      TENANT_LOCK_CLASS,
      tenant.id,
    ]);
    // Not when a concurrent run has applied the version meanwhile, nor for a dropped tenant.
    await client.query(
      `insert into cognition.tenant_migration_failures (tenant_id, version, error)
       select t.id, $2, $3 from cognition.tenants t
       where t.id = $1
         and not exists (select from cognition.tenant_migrations m where m.tenant_id = t.id and m.version = $2)
       on conflict (tenant_id, version) do update set error = excluded.error, failed_at = now()`,
      [tenant.id, version, error],
    );
    await client.query('commit');
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  }
}

async function checkStillInTransaction(client: pg.ClientBase, marker: string): Promise<void> {
  const { rows } = await client.query<{ marker: string | null }>(
    'select current_setting($1, true) as marker',
    [MARKER],
  );
  if (rows[0]?.marker !== marker) {
    throw new Error(
      'the migration ended its transaction (COMMIT or ROLLBACK in the file); part of it may have been committed',
    );
  }
}

async function resetSession(client: pg.ClientBase): Promise<boolean> {
  return client.query('reset role; reset all').then(
    () => true,
    () => false,
  );
}

/**
 * GRANT / REVOKE statements that move each privilege in `schema` held by a `from` role onto its
 * `to` role: the schema itself, relations (sequences apart), columns, routines and types; and
 * ALTER POLICY statements for policies that name a `from` role. Identifiers are quoted by
 * format('%I') in SQL.
 */
async function privilegeMoves(
  client: pg.ClientBase,
  schema: string,
  pairs: readonly (readonly [from: string, to: string])[],
  what: { schemaAcl?: boolean; policies?: boolean } = {},
): Promise<string[]> {
  const { rows } = await client.query<{ statement: string }>(
    `with pairs as (
       select r.oid as from_oid, p.from_name, p.to_name
       from unnest($2::text[], $3::text[]) as p(from_name, to_name)
       join pg_catalog.pg_roles r on r.rolname = p.from_name
     ),
     ns as materialized (select n.oid, n.nspname, n.nspacl from pg_catalog.pg_namespace n where n.nspname = $1),
     -- The schema's objects through pg_depend's index: every relation (but indexes and TOAST),
     -- routine and type (but row and array types) depends on its schema. pg_class, pg_proc and
     -- pg_type have no index on the schema and grow with every tenant: scanning them made this
     -- query cost 65 ms at 2,000 tenants (6 ms this way), three times per tenant and migration.
     members as materialized (
       select d.classid, d.objid from pg_catalog.pg_depend d
       where d.refclassid = 'pg_catalog.pg_namespace'::regclass and d.refobjid = (select oid from ns)
     ),
     rels as materialized (
       select c.oid, c.relname, c.relkind, c.relacl, c.reltype from pg_catalog.pg_class c
       where c.oid = any (array(select objid from members where classid = 'pg_catalog.pg_class'::regclass))
         and c.relnamespace = (select oid from ns) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
     ),
     privs as (
       select format('schema %I', ns.nspname) as target, null::text as col, a.grantee, a.privilege_type,
              a.is_grantable
       from ns cross join lateral pg_catalog.aclexplode(ns.nspacl) a
       where $4::boolean
       union all
       select format('%s %I.%I', case c.relkind when 'S' then 'sequence' else 'table' end, ns.nspname, c.relname),
              null, a.grantee, a.privilege_type, a.is_grantable
       from ns cross join rels c cross join lateral pg_catalog.aclexplode(c.relacl) a
       union all
       select format('table %I.%I', ns.nspname, c.relname), format('%I', att.attname), a.grantee, a.privilege_type,
              a.is_grantable
       from ns cross join pg_catalog.pg_attribute att
       join rels c on c.oid = att.attrelid
       cross join lateral pg_catalog.aclexplode(att.attacl) a
       -- = any (array) makes an index scan of pg_attribute, whatever the estimates.
       where att.attrelid = any (array(select oid from rels)) and att.attacl is not null
         and att.attnum > 0 and not att.attisdropped
       union all
       select format('routine %I.%I(%s)', ns.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)),
              null, a.grantee, a.privilege_type, a.is_grantable
       from ns join pg_catalog.pg_proc p
         on p.oid = any (array(select objid from members where classid = 'pg_catalog.pg_proc'::regclass))
         and p.pronamespace = ns.oid and p.proacl is not null
       cross join lateral pg_catalog.aclexplode(p.proacl) a
       union all
       select format('%s %I.%I', case t.typtype when 'd' then 'domain' else 'type' end, ns.nspname, t.typname),
              null, a.grantee, a.privilege_type, a.is_grantable
       -- Row types of tables (which may hold grants) depend on their table, not the schema.
       from ns join pg_catalog.pg_type t
         on t.oid = any (array(select objid from members where classid = 'pg_catalog.pg_type'::regclass
                               union all select reltype from rels where reltype <> 0))
         and t.typnamespace = ns.oid and t.typacl is not null
       cross join lateral pg_catalog.aclexplode(t.typacl) a
     ),
     -- One GRANT and one REVOKE per object, role and grant option, listing its privileges and
     -- column privileges: every statement rewrites the object's catalog row, and one per
     -- privilege made ~600 statements per tenant and migration with the saas20 template.
     grouped as (
       select privs.target, pairs.from_name, pairs.to_name, privs.is_grantable,
              string_agg(distinct privs.privilege_type || coalesce(' (' || privs.col || ')', ''), ', ') as privileges
       from privs join pairs on pairs.from_oid = privs.grantee
       group by privs.target, pairs.from_name, pairs.to_name, privs.is_grantable
     ),
     moves as (
       select 1 as step,
              format('grant %s on %s to %I%s', g.privileges, g.target, g.to_name,
                     case when g.is_grantable then ' with grant option' else '' end) as statement
       from grouped g
       union all
       select 2, format('revoke %s on %s from %I', g.privileges, g.target, g.from_name)
       from grouped g
       union all
       select 3, format('alter policy %I on %I.%I to %s', pol.polname, ns.nspname, c.relname,
                        (select string_agg(distinct case when r.role_oid = 0 then 'public'
                                                         else format('%I', coalesce(pr.to_name, ro.rolname)) end, ', ')
                         from unnest(pol.polroles) as r(role_oid)
                         left join pairs pr on pr.from_oid = r.role_oid
                         left join pg_catalog.pg_roles ro on ro.oid = r.role_oid))
       from ns cross join rels c
       join pg_catalog.pg_policy pol on pol.polrelid = c.oid
       where $5::boolean and pol.polrelid = any (array(select oid from rels))
         and pol.polroles && array(select from_oid from pairs)
     )
     select statement from moves order by step, statement`,
    [schema, pairs.map((p) => p[0]), pairs.map((p) => p[1]), what.schemaAcl ?? true, what.policies ?? true],
  );
  return rows.map((r) => r.statement);
}

async function movePrivileges(
  client: pg.ClientBase,
  schema: string,
  pairs: readonly (readonly [from: string, to: string])[],
  what: { schemaAcl?: boolean; policies?: boolean } = {},
): Promise<string[]> {
  const statements = await privilegeMoves(client, schema, pairs, what);
  if (statements.length > 0) await client.query(statements.join(';\n'));
  return statements;
}

function describeError(error: unknown): string {
  const pgError = pgErrorOf(error);
  if (pgError && /^[0-9A-Z]{5}$/.test(pgError.code ?? '')) {
    return `${pgError.message} (SQLSTATE ${pgError.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Template migrations run as cognition_owner, so `alter default privileges` in one would apply
 * to everything cognition_owner creates from then on, in every schema, cognition's own tables
 * included: grants that no tenant mapping sees. Such a file fails instead.
 */
async function refuseDefaultPrivileges(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from pg_catalog.pg_default_acl where defaclrole = 'cognition_owner'::regrole",
  );
  if ((rows[0]?.n ?? 0) > 0) {
    throw new CognitionError(
      'ERR_TEMPLATE_MIGRATION_FAILED',
      'template migrations may not alter default privileges: grant on each object instead',
    );
  }
}
