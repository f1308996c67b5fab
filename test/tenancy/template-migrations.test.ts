import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCognitionError } from '../../src/errors.js';
import {
  currentTemplateVersion,
  migrateTemplates,
  recordTenantAtCurrentVersion,
  tenantTemplateVersions,
  type TemplateMigrationProgress,
} from '../../src/tenancy/template-migrations.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/template-migrations/', import.meta.url));
// 50 tenants; 'acme' sorts first.
const SLUGS = ['acme', ...Array.from({ length: 49 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`)];

// Template migrations added by the tests, one after another, on top of the fixtures (1-5).
const LATER: [string, string][] = [
  ['0006_tags.sql', 'create table tags (id int primary key, label text not null);'],
  ['0007_tags_label_idx.sql', 'create index tags_label_idx on tags (label);'],
  ['0008_note_pinned.sql', 'alter table notes add column pinned boolean not null default false;'],
  // The pause widens the window in which two concurrent runs reach the same tenant.
  [
    '0009_note_archived.sql',
    'alter table notes add column archived boolean not null default false;\nselect pg_sleep(0.02);',
  ],
  ['0010_note_color.sql', 'alter table notes add column color text;'],
];
/** LATER's files up to and including version `upTo`. */
const later = (upTo: number): Record<string, string> =>
  Object.fromEntries(LATER.filter(([name]) => Number(name.slice(0, 4)) <= upTo));

describe('template migrations', () => {
  let cluster: TestCluster;
  let pool: pg.Pool;
  const dirs: string[] = [];

  /** The fixtures plus extra files (name → SQL), in a fresh folder. */
  async function dirWith(extra: Record<string, string> = {}): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'pgc-template-'));
    dirs.push(dir);
    await cp(FIXTURES, dir, { recursive: true });
    for (const [name, sql] of Object.entries(extra)) await writeFile(join(dir, name), sql);
    return dir;
  }

  async function createTenants(slugs: string[]): Promise<void> {
    const admin = cluster.admin;
    await admin.query('begin');
    await admin.query('set local role cognition_owner');
    for (const slug of slugs)
      await admin.query('select cognition.create_tenant_shell($1, $2)', [slug, `Tenant ${slug}`]);
    await admin.query('commit');
  }

  /** tenant slug → sorted versions it has. */
  async function versionsBySlug(): Promise<Map<string, number[]>> {
    const { rows } = await cluster.admin.query<{ slug: string; versions: number[] }>(`
      select t.slug, coalesce(array_agg(m.version order by m.version) filter (where m.version is not null), '{}') as versions
      from cognition.tenants t left join cognition.tenant_migrations m on m.tenant_id = t.id
      group by t.slug`);
    return new Map(rows.map((r) => [r.slug, r.versions]));
  }

  /** "slug:version" → applied_at (microseconds, as text). */
  async function appliedAt(): Promise<Map<string, string>> {
    const { rows } = await cluster.admin.query<{ key: string; at: string }>(`
      select t.slug || ':' || m.version as key, m.applied_at::text as at
      from cognition.tenant_migrations m join cognition.tenants t on t.id = m.tenant_id`);
    return new Map(rows.map((r) => [r.key, r.at]));
  }

  async function hasColumn(schema: string, table: string, column: string): Promise<boolean> {
    const { rows } = await cluster.admin.query(
      `select from information_schema.columns where table_schema = $1 and table_name = $2 and column_name = $3`,
      [schema, table, column],
    );
    return rows.length === 1;
  }

  beforeAll(async () => {
    cluster = await startCluster();
    pool = new pg.Pool({ connectionString: cluster.url, max: 10 });
    // pool.end() resolves before its sockets close; the server's shutdown must not crash the run.
    pool.on('error', () => {});
    await createTenants(SLUGS);
    // A suspended tenant is migrated too.
    await cluster.admin.query(`
      begin; set local role cognition_owner;
      update cognition.tenants set status = 'suspended' where slug = 't07';
      commit`);
  });

  afterAll(async () => {
    await pool?.end();
    await cluster?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('applies the template, then fans it out to 50 tenants with progress', async () => {
    const dir = await dirWith();
    const events: TemplateMigrationProgress[] = [];
    const report = await migrateTemplates(pool, { dir, concurrency: 4, onProgress: (p) => events.push(p) });
    console.log(`50 tenants x 5 template migrations, concurrency 4: ${report.ms} ms`);

    expect(report.template).toEqual([
      { version: 1, name: 'notes', status: 'applied' },
      { version: 2, name: 'note_title', status: 'applied' },
      { version: 3, name: 'note_grants', status: 'applied' },
      { version: 4, name: 'note_functions', status: 'applied' },
      { version: 5, name: 'revoke_note_delete', status: 'applied' },
    ]);
    const { rows: template } = await cluster.admin.query(
      'select version, name, checksum from cognition.template_migrations order by version',
    );
    expect(template.map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    expect(template[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(await hasColumn('tenant_template', 'notes', 'title')).toBe(true);
    expect(await currentTemplateVersion(pool)).toBe(5);

    expect(report.tenants).toEqual({ total: 50, migrated: 50, upToDate: 0, failed: [] });
    const versions = await versionsBySlug();
    expect(versions.size).toBe(50);
    for (const slug of SLUGS) expect(versions.get(slug), slug).toEqual([1, 2, 3, 4, 5]);
    // The objects exist in every tenant schema, not only the bookkeeping.
    const { rows: objects } = await cluster.admin.query<{
      tables: number;
      indexes: number;
      functions: number;
    }>(`
      select
        (select count(*)::int from information_schema.columns
          where table_schema like 'tenant\\_%' and table_schema <> 'tenant_template'
            and table_name = 'notes' and column_name = 'title') as tables,
        (select count(*)::int from pg_indexes
          where schemaname like 'tenant\\_%' and schemaname <> 'tenant_template'
            and indexname in ('notes_created_at_idx', 'notes_title_idx')) as indexes,
        (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname like 'tenant\\_%' and n.nspname <> 'tenant_template' and p.proname = 'note_count') as functions`);
    expect(objects[0]).toEqual({ tables: 50, indexes: 100, functions: 50 });
    expect(await hasColumn('tenant_t07', 'notes', 'title')).toBe(true);

    // Progress: once per template migration, then once per tenant, counting up.
    const templateEvents = events.filter((e) => e.phase === 'template');
    expect(templateEvents.map((e) => [e.version, e.done, e.total])).toEqual([
      [1, 1, 5],
      [2, 2, 5],
      [3, 3, 5],
      [4, 4, 5],
      [5, 5, 5],
    ]);
    const tenantEvents = events.filter((e) => e.phase === 'tenants');
    expect(tenantEvents.map((e) => e.done)).toEqual(SLUGS.map((_, i) => i + 1));
    expect(tenantEvents.every((e) => e.total === 50 && e.failed === 0 && e.version === 5)).toBe(true);
    expect(new Set(tenantEvents.map((e) => e.tenant))).toEqual(new Set(SLUGS));
    expect(events.findIndex((e) => e.phase === 'tenants')).toBe(5);
    // Concurrency 4 means four connections, no more, and more than one.
    expect(pool.totalCount).toBeLessThanOrEqual(4);
    expect(pool.totalCount).toBeGreaterThan(1);
  });

  it('skips everything on a re-run and re-applies nothing', async () => {
    const before = await appliedAt();
    const report = await migrateTemplates(pool, { dir: await dirWith() });
    expect(report.template.map((t) => t.status)).toEqual([
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(report.tenants).toEqual({ total: 50, migrated: 0, upToDate: 50, failed: [] });
    expect(await appliedAt()).toEqual(before);
    const { rows } = await cluster.admin.query(
      'select count(*)::int as n from cognition.template_migrations',
    );
    expect(rows[0].n).toBe(5);
  });

  it("puts a template's grants on each tenant's own roles, never on the global ones", async () => {
    const q = async (sql: string): Promise<unknown> =>
      (await cluster.admin.query(`select ${sql} as v`)).rows[0].v;
    // Table privileges.
    expect(await q(`has_table_privilege('tenant_users', 'tenant_acme.notes', 'select')`)).toBe(false);
    expect(await q(`has_table_privilege('tenant_acme_users', 'tenant_acme.notes', 'select')`)).toBe(true);
    expect(await q(`has_table_privilege('tenant_users', 'tenant_acme.notes', 'insert')`)).toBe(false);
    expect(await q(`has_table_privilege('tenant_acme_users', 'tenant_acme.notes', 'insert')`)).toBe(true);
    expect(await q(`has_table_privilege('tenant_admins', 'tenant_acme.notes', 'delete')`)).toBe(false);
    expect(await q(`has_table_privilege('tenant_acme_admins', 'tenant_acme.notes', 'delete')`)).toBe(true);
    // Another tenant's roles get nothing on acme's table.
    expect(await q(`has_table_privilege('tenant_t01_users', 'tenant_acme.notes', 'select')`)).toBe(false);
    expect(await q(`has_table_privilege('tenant_t01_admins', 'tenant_acme.notes', 'select')`)).toBe(false);
    // A revoke in a later template migration reaches the tenant role (0005).
    expect(await q(`has_table_privilege('tenant_acme_users', 'tenant_acme.notes', 'delete')`)).toBe(false);
    // Column privileges.
    expect(await q(`has_column_privilege('tenant_acme_users', 'tenant_acme.notes', 'title', 'update')`)).toBe(
      true,
    );
    expect(
      await q(`has_column_privilege('tenant_acme_users', 'tenant_acme.notes', 'created_at', 'update')`),
    ).toBe(false);
    expect(await q(`has_column_privilege('tenant_users', 'tenant_acme.notes', 'title', 'update')`)).toBe(
      false,
    );
    // Functions and types.
    expect(
      await q(`has_function_privilege('tenant_acme_users', 'tenant_acme.note_count()', 'execute')`),
    ).toBe(true);
    expect(await q(`has_function_privilege('tenant_users', 'tenant_acme.note_count()', 'execute')`)).toBe(
      false,
    );
    expect(await q(`has_function_privilege('tenant_t01_users', 'tenant_acme.note_count()', 'execute')`)).toBe(
      false,
    );
    expect(await q(`has_type_privilege('tenant_acme_users', 'tenant_acme.note_kind', 'usage')`)).toBe(true);
    expect(await q(`has_type_privilege('tenant_users', 'tenant_acme.note_kind', 'usage')`)).toBe(false);
    // Policies name the tenant's role.
    const { rows: policies } = await cluster.admin.query(
      `select schemaname, roles::text[] as roles from pg_policies where tablename = 'notes' and schemaname in ('tenant_acme', 'tenant_template')
       order by schemaname`,
    );
    expect(policies).toEqual([
      { schemaname: 'tenant_acme', roles: ['tenant_acme_users'] },
      { schemaname: 'tenant_template', roles: ['tenant_users'] },
    ]);

    // Nowhere in any tenant schema does a global tenant role hold a privilege.
    const { rows: leaks } = await cluster.admin.query(`
      with g as (select oid from pg_roles where rolname in ('tenant_admins', 'tenant_users')),
      s as (select oid, nspname, nspacl from pg_namespace where nspname like 'tenant\\_%' and nspname <> 'tenant_template')
      select s.nspname, 'schema' as kind, a.privilege_type from s, aclexplode(s.nspacl) a where a.grantee in (select oid from g)
      union all
      select s.nspname, c.relname, a.privilege_type from s join pg_class c on c.relnamespace = s.oid, aclexplode(c.relacl) a
        where a.grantee in (select oid from g)
      union all
      select s.nspname, c.relname || '.' || att.attname, a.privilege_type from s join pg_class c on c.relnamespace = s.oid
        join pg_attribute att on att.attrelid = c.oid, aclexplode(att.attacl) a where a.grantee in (select oid from g)
      union all
      select s.nspname, p.proname, a.privilege_type from s join pg_proc p on p.pronamespace = s.oid, aclexplode(p.proacl) a
        where a.grantee in (select oid from g)
      union all
      select s.nspname, t.typname, a.privilege_type from s join pg_type t on t.typnamespace = s.oid, aclexplode(t.typacl) a
        where a.grantee in (select oid from g)
      union all
      select s.nspname, pol.polname, 'policy' from s join pg_class c on c.relnamespace = s.oid
        join pg_policy pol on pol.polrelid = c.oid where pol.polroles && array(select oid from g)`);
    expect(leaks).toEqual([]);

    // The template keeps its grants as written: they specify what new tenants get.
    expect(await q(`has_table_privilege('tenant_users', 'tenant_template.notes', 'select')`)).toBe(true);
    expect(await q(`has_table_privilege('tenant_users', 'tenant_template.notes', 'delete')`)).toBe(false);

    // The attacker: a member of another tenant's user role, with usage on acme's schema even,
    // still cannot read acme's notes.
    await cluster.admin.query('begin');
    try {
      await cluster.admin.query('grant usage on schema tenant_acme to tenant_t01_users');
      await cluster.admin.query('set local role tenant_t01_users');
      await expect(cluster.admin.query('select count(*) from tenant_acme.notes')).rejects.toThrow(
        /permission denied for table notes/,
      );
    } finally {
      await cluster.admin.query('rollback');
    }
    // ... while acme's own user role can.
    await cluster.admin.query('begin');
    try {
      await cluster.admin.query('set local role tenant_acme_users');
      await cluster.admin.query('set local search_path = tenant_acme');
      await cluster.admin.query(`insert into notes (body, title) values ('hello', 'greeting')`);
      const { rows } = await cluster.admin.query('select note_count() as n');
      expect(Number(rows[0].n)).toBe(1);
    } finally {
      await cluster.admin.query('rollback');
    }
  });

  it('records tenants that fail half-way, migrates the others, then resumes only the failed ones', async () => {
    // A conflicting table in the second half of the tenants (t25 .. t49).
    const conflicting = SLUGS.filter((s) => s >= 't25');
    expect(conflicting).toHaveLength(25);
    for (const slug of conflicting) {
      await cluster.admin.query(`create table tenant_${slug}.tags (conflict int)`);
    }
    const dir = await dirWith(later(7));
    const events: TemplateMigrationProgress[] = [];
    const first = await migrateTemplates(pool, { dir, onProgress: (p) => events.push(p) });

    expect(first.template.slice(5)).toEqual([
      { version: 6, name: 'tags', status: 'applied' },
      { version: 7, name: 'tags_label_idx', status: 'applied' },
    ]);
    expect(first.tenants.total).toBe(50);
    expect(first.tenants.migrated).toBe(25);
    expect(first.tenants.upToDate).toBe(0);
    expect(first.tenants.failed.map((f) => f.slug)).toEqual(conflicting);
    for (const failure of first.tenants.failed) {
      expect(failure.version).toBe(6);
      expect(failure.error).toMatch(/relation "tags" already exists.*42P07/);
    }
    expect(events.at(-1)).toMatchObject({ phase: 'tenants', done: 50, total: 50, failed: 25 });

    const { rows: recorded } = await cluster.admin.query<{ slug: string; version: number; error: string }>(`
      select t.slug, f.version, f.error from cognition.tenant_migration_failures f
      join cognition.tenants t on t.id = f.tenant_id order by t.slug`);
    expect(recorded.map((r) => r.slug)).toEqual(conflicting);
    expect(recorded.every((r) => r.version === 6 && /already exists/.test(r.error))).toBe(true);
    expect((await tenantTemplateVersions(pool, { only: ['t30'] }))[0]).toMatchObject({
      slug: 't30',
      version: 5,
      pending: [6, 7],
      failure: { version: 6 },
    });

    let versions = await versionsBySlug();
    for (const slug of SLUGS) {
      // A failed tenant stops at its failure: version 7 waits for 6.
      expect(versions.get(slug), slug).toEqual(
        conflicting.includes(slug) ? [1, 2, 3, 4, 5] : [1, 2, 3, 4, 5, 6, 7],
      );
    }
    // The failed transaction left nothing behind: the conflicting table is untouched, no index.
    expect(await hasColumn('tenant_t30', 'tags', 'conflict')).toBe(true);
    expect(await hasColumn('tenant_t30', 'tags', 'label')).toBe(false);

    // Fix the cause and re-run.
    for (const slug of conflicting) await cluster.admin.query(`drop table tenant_${slug}.tags`);
    const before = await appliedAt();
    const second = await migrateTemplates(pool, { dir });
    expect(second.template.every((t) => t.status === 'skipped')).toBe(true);
    expect(second.tenants).toEqual({ total: 50, migrated: 25, upToDate: 25, failed: [] });

    const after = await appliedAt();
    for (const [key, at] of before) expect(after.get(key), key).toBe(at);
    const added = [...after.keys()].filter((k) => !before.has(k)).sort();
    expect(added).toEqual(conflicting.flatMap((s) => [`${s}:6`, `${s}:7`]).sort());
    versions = await versionsBySlug();
    for (const slug of SLUGS) expect(versions.get(slug), slug).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await hasColumn('tenant_t30', 'tags', 'label')).toBe(true);
    const { rows: left } = await cluster.admin.query(
      'select count(*)::int as n from cognition.tenant_migration_failures',
    );
    expect(left[0].n).toBe(0);
  });

  it('fails a tenant whose table is locked quickly, with a lock timeout, and migrates the others', async () => {
    const dir = await dirWith(later(8));
    const holder = new pg.Client({ connectionString: cluster.url });
    await holder.connect();
    // Without lock_timeout the migration of t10 would wait for this lock, then succeed.
    const release = setTimeout(() => void holder.query('rollback').catch(() => {}), 20_000);
    try {
      await holder.query('begin');
      await holder.query('lock table tenant_t10.notes in access exclusive mode');
      const report = await migrateTemplates(pool, { dir, lockTimeoutMs: 300 });
      console.log(`lock-timeout run (49 migrated, 1 timed out after 300 ms): ${report.ms} ms`);
      expect(report.tenants.failed).toHaveLength(1);
      expect(report.tenants.failed[0]).toMatchObject({ slug: 't10', version: 8 });
      expect(report.tenants.failed[0]?.error).toMatch(/lock timeout.*55P03/);
      expect(report.tenants.migrated).toBe(49);
      expect(report.ms).toBeLessThan(4000);
      expect(await hasColumn('tenant_t10', 'notes', 'pinned')).toBe(false);
      expect(await hasColumn('tenant_t11', 'notes', 'pinned')).toBe(true);
    } finally {
      clearTimeout(release);
      await holder.query('rollback').catch(() => {});
      await holder.end();
    }
    const retry = await migrateTemplates(pool, { dir });
    expect(retry.tenants).toEqual({ total: 50, migrated: 1, upToDate: 49, failed: [] });
    expect(await hasColumn('tenant_t10', 'notes', 'pinned')).toBe(true);
  });

  it('lets two concurrent runs share the work without applying anything twice', async () => {
    const dir = await dirWith(later(9));
    const [a, b] = await Promise.all([
      migrateTemplates(pool, { dir, concurrency: 4 }),
      migrateTemplates(pool, { dir, concurrency: 4 }),
    ]);
    expect([a.template.at(-1)?.status, b.template.at(-1)?.status].sort()).toEqual(['applied', 'skipped']);
    expect(a.tenants.failed).toEqual([]);
    expect(b.tenants.failed).toEqual([]);
    expect(a.tenants.migrated + b.tenants.migrated).toBe(50);
    const versions = await versionsBySlug();
    for (const slug of SLUGS) expect(versions.get(slug)?.at(-1), slug).toBe(9);
  });

  it('migrates only the tenants asked for, and rejects an unknown slug', async () => {
    const dir = await dirWith(later(10));
    const err = await migrateTemplates(pool, { dir, only: ['acme', 'nope'] }).catch((e: unknown) => e);
    expect(isCognitionError(err, 'ERR_TENANT_NOT_FOUND')).toBe(true);
    // Rejected before anything ran, the template included.
    expect(await currentTemplateVersion(pool)).toBe(9);

    const report = await migrateTemplates(pool, { dir, only: ['t03', 'acme'] });
    expect(report.tenants).toEqual({ total: 2, migrated: 2, upToDate: 0, failed: [] });
    const versions = await versionsBySlug();
    expect(versions.get('acme')?.at(-1)).toBe(10);
    expect(versions.get('t03')?.at(-1)).toBe(10);
    expect(versions.get('t04')?.at(-1)).toBe(9);

    const all = await migrateTemplates(pool, { dir });
    expect(all.tenants).toEqual({ total: 50, migrated: 48, upToDate: 2, failed: [] });
  });

  it('records a new tenant at the current template version, so that nothing is applied to it', async () => {
    const admin = cluster.admin;
    await admin.query('begin');
    try {
      await admin.query('set local role cognition_owner');
      const { rows } = await admin.query<{ id: string }>(
        `select id from cognition.create_tenant_shell('fresh', 'Fresh')`,
      );
      await recordTenantAtCurrentVersion(admin, rows[0]?.id as string);
      await admin.query('commit');
    } catch (error) {
      await admin.query('rollback');
      throw error;
    }
    expect((await versionsBySlug()).get('fresh')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Its schema is empty (no clone here): running any template file in it would fail.
    const dir = await dirWith(later(10));
    const report = await migrateTemplates(pool, { dir });
    expect(report.tenants).toEqual({ total: 51, migrated: 0, upToDate: 51, failed: [] });
  });

  it('refuses a file changed after it was applied, before applying anything', async () => {
    const dir = await dirWith({
      ...later(10),
      '0011_note_rank.sql': 'alter table notes add column rank int;',
    });
    const file = join(dir, '0002_note_title.sql');
    await writeFile(file, (await readFile(file, 'utf8')) + '\n-- edited\n');
    const before = await appliedAt();
    const err = await migrateTemplates(pool, { dir }).catch((e: unknown) => e);
    expect(isCognitionError(err, 'ERR_MIGRATION_CHECKSUM')).toBe(true);
    expect((err as Error).message).toMatch(/0*2_note_title/);
    expect(await currentTemplateVersion(pool)).toBe(10);
    expect(await hasColumn('tenant_template', 'notes', 'rank')).toBe(false);
    expect(await appliedAt()).toEqual(before);
  });

  it('refuses a new file numbered below the applied version', async () => {
    const dir = await dirWith({ '0000_early.sql': 'create table early (id int);' });
    const err = await migrateTemplates(pool, { dir }).catch((e: unknown) => e);
    expect(isCognitionError(err, 'ERR_CONFIG')).toBe(true);
    const { rows } = await cluster.admin.query(`select to_regclass('tenant_template.early') as t`);
    expect(rows[0].t).toBeNull();
  });

  it('rolls back a failing template migration entirely and touches no tenant', async () => {
    const extra = later(10);
    const before = await appliedAt();
    const broken = await dirWith({
      ...extra,
      '0011_broken.sql':
        'create table broken_things (id int);\ngrant select on broken_things to tenant_users;\nselect 1/0;',
    });
    const err = await migrateTemplates(pool, { dir: broken }).catch((e: unknown) => e);
    expect(isCognitionError(err, 'ERR_TEMPLATE_MIGRATION_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/11_broken.*division by zero/);
    const { rows } = await cluster.admin.query(`select to_regclass('tenant_template.broken_things') as t`);
    expect(rows[0].t).toBeNull();
    expect(await currentTemplateVersion(pool)).toBe(10);
    const { rows: failures } = await cluster.admin.query(
      'select count(*)::int as n from cognition.tenant_migration_failures',
    );
    expect(failures[0].n).toBe(0);
    expect(await appliedAt()).toEqual(before);

    // A statement timeout applies to template migrations too.
    const slow = await dirWith({ ...extra, '0011_slow.sql': 'select pg_sleep(2);' });
    const timedOut = await migrateTemplates(pool, { dir: slow, statementTimeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(isCognitionError(timedOut, 'ERR_TEMPLATE_MIGRATION_FAILED')).toBe(true);
    expect((timedOut as Error).message).toMatch(/statement timeout/);
  });

  it('detects a migration that commits its own transaction', async () => {
    const dir = await dirWith({
      ...later(10),
      '0011_commits.sql': 'create table committed_early (id int);\ncommit;\nbegin;',
    });
    const err = await migrateTemplates(pool, { dir }).catch((e: unknown) => e);
    expect(isCognitionError(err, 'ERR_TEMPLATE_MIGRATION_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/ended its transaction/);
    expect(await currentTemplateVersion(pool)).toBe(10);
  });
});
