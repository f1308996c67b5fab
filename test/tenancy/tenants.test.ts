import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cognition } from '../../src/cognition.js';
import { LocalSecretStore } from '../../src/secrets/local-secret-store.js';
import { expectCode } from '../support/expect.js';
import { startStack, type TestStack } from '../support/stack.js';
import { mkdtemp, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { NOTES_TEMPLATE } from '../support/stack.js';

describe('tenants', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const columns = async (schema: string, table: string) =>
    (
      await stack.cluster.admin.query(
        'select attname from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum',
        [`${schema}.${table}`],
      )
    ).rows.map((r) => r.attname);

  it('creates a tenant at the template version, with its row, schema and roles', async () => {
    const t = await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    expect(t).toMatchObject({
      slug: 'acme',
      schemaName: 'tenant_acme',
      adminRole: 'tenant_acme_admins',
      userRole: 'tenant_acme_users',
      status: 'active',
    });
    expect(await columns('tenant_acme', 'notes')).toContain('owner_id');
    const { rows } = await stack.cluster.admin.query(
      'select array_agg(version order by version)::int[] as v from cognition.tenant_migrations where tenant_id = $1',
      [t.id],
    );
    expect(rows[0].v).toEqual([1, 2]);
    await expectCode(stack.cognition.tenants.create({ slug: 'acme', name: 'Again' }), 'ERR_TENANT_EXISTS');
  });

  it('leaves nothing behind when creation fails half-way', async () => {
    const before = await stack.cluster.admin.query(
      "select count(*)::int as n from pg_roles where rolname like 'tenant\\_%'",
    );
    // A role that collides with the new tenant's admin role makes the shell refuse, before any DDL.
    await stack.cluster.admin.query('create role tenant_clash_admins');
    await expectCode(stack.cognition.tenants.create({ slug: 'clash', name: 'Clash' }), 'ERR_TENANT_EXISTS');
    await stack.cluster.admin.query('drop role tenant_clash_admins');
    // A template object the clone cannot take fails the clone after the shell was made.
    await stack.cluster.admin.query(
      'set role cognition_owner; create aggregate tenant_template.total(int) (sfunc = int4pl, stype = int); reset role',
    );
    // A hand-made change is seen within templateRecheckMs; this Cognition checks every time.
    const strict = Cognition.create({
      databaseUrl: stack.cluster.url,
      secrets: stack.secrets,
      templateRecheckMs: 0,
    });
    try {
      await expect(strict.tenants.create({ slug: 'broken', name: 'Broken' })).rejects.toThrow(/aggregate/);
    } finally {
      await strict.close();
      await stack.cluster.admin.query('drop aggregate tenant_template.total(int)');
    }
    const after = await stack.cluster.admin.query(
      "select count(*)::int as n from pg_roles where rolname like 'tenant\\_%'",
    );
    expect(after.rows[0].n).toBe(before.rows[0].n);
    expect(await stack.cognition.tenants.get('broken')).toBeUndefined();
    const { rows } = await stack.cluster.admin.query(
      "select count(*)::int as n from pg_namespace where nspname = 'tenant_broken'",
    );
    expect(rows[0].n).toBe(0);
  });

  it('sees a template migration at once, from another process too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgc-tpl-'));
    await cp(NOTES_TEMPLATE, dir, { recursive: true });
    await writeFile(
      join(dir, '0003_pinned.sql'),
      'alter table notes add column pinned boolean not null default false;',
    );
    // Another process: a second Cognition on the same database migrates the template.
    const other = Cognition.create({
      databaseUrl: stack.cluster.url,
      secrets: new LocalSecretStore({ dir: join(stack.cluster.dir, 'other-secrets') }),
    });
    try {
      await stack.cognition.tenants.create({ slug: 'before', name: 'Before' }); // warms the snapshot cache
      const report = await other.migrateTemplates({ dir });
      expect(report.tenants.failed).toEqual([]);
      await stack.cognition.tenants.create({ slug: 'after', name: 'After' });
      expect(await columns('tenant_after', 'notes')).toContain('pinned');
      expect(await columns('tenant_before', 'notes')).toContain('pinned');
    } finally {
      await other.close();
    }
  });

  it('refuses a template migration that alters default privileges', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgc-tpl-'));
    await cp(NOTES_TEMPLATE, dir, { recursive: true });
    await writeFile(
      join(dir, '0009_defaults.sql'),
      'alter default privileges grant select on tables to tenant_users; create table extra (id int);',
    );
    await expectCode(stack.cognition.migrateTemplates({ dir }), 'ERR_TEMPLATE_MIGRATION_FAILED');
    const { rows } = await stack.cluster.admin.query(
      "select (select count(*)::int from pg_default_acl) as acl, to_regclass('tenant_template.extra') is null as gone",
    );
    expect(rows[0]).toEqual({ acl: 0, gone: true });
  });

  it('renames and suspends; a suspended tenant loses its schema until reactivated', async () => {
    const user = await stack.user('u@acme.test', 'acme', 'user');
    expect((await stack.cognition.tenants.setName('acme', 'Acme Corp')).name).toBe('Acme Corp');
    await stack.cognition.tenants.setStatus('acme', 'suspended');
    await expectCode(stack.cognition.runAs(user, 'select count(*) from notes'), 'ERR_USER_INACTIVE');
    await expectCode(
      stack.cognition.runAs(user, 'select count(*) from notes', [], { mode: 'credentials' }),
      'ERR_USER_INACTIVE',
    );
    await stack.cognition.tenants.setStatus('acme', 'active');
    expect((await stack.cognition.runAs(user, 'select count(*)::int as n from notes')).rows).toEqual([
      { n: 0 },
    ]);
    expect(
      (await stack.cognition.runAs(user, 'select count(*)::int as n from notes', [], { mode: 'credentials' }))
        .rows,
    ).toEqual([{ n: 0 }]);
  });
});
