import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsPrivilegeRoundTrip } from '../../src/tenancy/privilege-round-trip.js';
import { migrateTemplates } from '../../src/tenancy/template-migrations.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/template-migrations/', import.meta.url));

describe('needsPrivilegeRoundTrip', () => {
  it.each([
    ['alter table notes add column rank int; create index notes_rank on notes (rank);', false],
    ['create table tags (id int); grant select on tags to tenant_users;', false],
    ['grant execute on function f() to tenant_users, tenant_admins;', false],
    ['create trigger t before update on notes for each row execute function touch();', false],
    ['insert into kinds values (1) on conflict do nothing;', false],
    ['-- no need to revoke anything here\nalter table notes add column x int;', false],
    ['/* revoke */ create index i on notes (x);', false],
    ['revoke delete on notes from tenant_users;', true],
    ['REVOKE/**/DELETE ON notes FROM tenant_users;', true],
    ['revoke/* a comment */delete on notes from tenant_users;', true],
    ['do $$ begin execute format(%L, 1); end $$;', true],
    ["DO LANGUAGE plpgsql 'begin null; end';", true],
    ["select run_sql('revoke select on notes from tenant_users');", true],
    ['drop owned by tenant_users;', true],
    ['reassign owned by tenant_users to cognition_owner;', true],
    ["select has_table_privilege('tenant_users', 'notes', 'select');", true],
    ['grant all privileges on notes to tenant_admins;', true],
    ['call rebuild();', true],
    ['create function f() returns void language plpgsql as $$ begin execute $q$select 1$q$; end $$;', true],
  ])('%s → %s', (sql, expected) => {
    expect(needsPrivilegeRoundTrip(sql)).toBe(expected);
  });
});

// Every kind of privilege a template migration can give, with and without the round trip: each
// tenant must end with exactly the template's privileges and policies, on its own roles.
describe('template migrations without the privilege round trip', () => {
  let cluster: TestCluster;
  let pool: pg.Pool;
  let dir: string;
  const slugs = ['acme', 'globex', 'initech'];

  beforeAll(async () => {
    cluster = await startCluster();
    pool = new pg.Pool({ connectionString: cluster.url, max: 4 });
    pool.on('error', () => {});
    await cluster.admin.query('begin');
    await cluster.admin.query('set local role cognition_owner');
    for (const slug of slugs) {
      await cluster.admin.query('select cognition.create_tenant_shell($1, $2)', [slug, slug]);
    }
    await cluster.admin.query('commit');
    dir = await mkdtemp(join(tmpdir(), 'pgc-round-trip-'));
    await cp(FIXTURES, dir, { recursive: true });
    await migrateTemplates(pool, { dir });
  });
  afterAll(async () => {
    await pool?.end();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Privileges and policies of a schema's objects, tenant role names written as the global ones. */
  async function privileges(schema: string): Promise<string[]> {
    const { rows } = await cluster.admin.query<{ line: string }>(
      `with s as (select oid from pg_namespace where nspname = $1)
       select c.relname || coalesce('.' || att.attname, '') || ' ' || g.rolname || ' ' || a.privilege_type
              || case when a.is_grantable then ' grantable' else '' end as line
       from pg_class c
       left join pg_attribute att on att.attrelid = c.oid and att.attnum > 0 and att.attacl is not null
       cross join lateral aclexplode(coalesce(att.attacl, c.relacl)) a
       join pg_roles g on g.oid = a.grantee
       where c.relnamespace = (select oid from s)
       union
       select p.proname || '() ' || g.rolname || ' ' || a.privilege_type
       from pg_proc p cross join lateral aclexplode(p.proacl) a join pg_roles g on g.oid = a.grantee
       where p.pronamespace = (select oid from s)
       union
       select 'type ' || t.typname || ' ' || coalesce(g.rolname, 'public') || ' ' || a.privilege_type
       from pg_type t cross join lateral aclexplode(t.typacl) a left join pg_roles g on g.oid = a.grantee
       where t.typnamespace = (select oid from s)
       union
       select 'policy ' || pol.polname || ' ' || array_to_string(array(
                select coalesce(r.rolname, 'public') from unnest(pol.polroles) o left join pg_roles r on r.oid = o
                order by 1), ',')
       from pg_policy pol join pg_class c on c.oid = pol.polrelid
       where c.relnamespace = (select oid from s)
       order by 1`,
      [schema],
    );
    const own = new RegExp(`\\b${schema}_(\\w+)\\b`, 'g');
    return rows.map((r) => r.line.replace(own, 'tenant_$1'));
  }

  async function expectTenantsLikeTemplate(): Promise<void> {
    const template = await privileges('tenant_template');
    expect(template.length).toBeGreaterThan(5);
    for (const slug of slugs) expect(await privileges(`tenant_${slug}`)).toEqual(template);
  }

  it('gives each tenant the template privileges, file after file', async () => {
    await expectTenantsLikeTemplate();
    const files: [string, string][] = [
      // New objects with grants, a column privilege on an existing table, a grant option.
      [
        '0006_tags.sql',
        `create table tags (id int primary key, label text not null, note_id bigint);
         grant select, insert on tags to tenant_users;
         grant all on tags to tenant_admins with grant option;
         alter table notes add column color text;
         grant update (color) on notes to tenant_users;`,
      ],
      // A new policy naming a global role, a function granted (no revoke from public: a
      // function's default grant to PUBLIC stays), a type.
      [
        '0007_policy_and_function.sql',
        `alter table tags enable row level security;
         create policy tags_members on tags to tenant_users, tenant_admins using (true);
         create function tag_count() returns bigint language sql stable as $$ select count(*) from tags $$;
         grant execute on function tag_count() to tenant_admins;
         create type tag_kind as enum ('a', 'b');
         grant usage on type tag_kind to tenant_users;`,
      ],
      // With the round trip: revokes of what tenants hold.
      [
        '0008_revokes.sql',
        `revoke insert on tags from tenant_users;
         revoke update (color) on notes from tenant_users;
         revoke execute on function tag_count() from public;`,
      ],
      // Without again, after the revokes.
      [
        '0009_more.sql',
        'alter table tags add column weight int; grant update (weight) on tags to tenant_users;',
      ],
    ];
    for (const [name, sql] of files) {
      await writeFile(join(dir, name), sql);
      const report = await migrateTemplates(pool, { dir });
      expect(report.tenants.failed).toEqual([]);
      await expectTenantsLikeTemplate();
    }
    // And the grants reached the tenants' roles: acme's users may read tags, globex's may not.
    const q = async (sql: string): Promise<unknown> =>
      (await cluster.admin.query(`select ${sql} as v`)).rows[0].v;
    expect(await q(`has_table_privilege('tenant_acme_users', 'tenant_acme.tags', 'select')`)).toBe(true);
    expect(await q(`has_table_privilege('tenant_acme_users', 'tenant_acme.tags', 'insert')`)).toBe(false);
    expect(await q(`has_table_privilege('tenant_globex_users', 'tenant_acme.tags', 'select')`)).toBe(false);
    expect(await q(`has_table_privilege('tenant_users', 'tenant_acme.tags', 'select')`)).toBe(false);
  });
});
