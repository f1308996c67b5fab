import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySnapshot, createTemplateCloner, type CloneOptions } from '../../src/tenancy/template-clone.js';
import {
  takeSnapshot,
  templateFingerprint,
  type TemplateSnapshot,
} from '../../src/tenancy/template-snapshot.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/full-template.sql', import.meta.url));
const TEMPLATE = 'tenant_template';

interface Tenant {
  slug: string;
  schema: string;
  admins: string;
  users: string;
}

let cluster: TestCluster;
let db: pg.Client;
let snapshot: TemplateSnapshot;
const tenants: Record<string, Tenant> = {};

async function createTenant(slug: string, snap: TemplateSnapshot, options?: CloneOptions): Promise<Tenant> {
  await db.query('begin');
  try {
    await db.query('set local role cognition_owner');
    const { rows } = await db.query('select * from cognition.create_tenant_shell($1, $2)', [
      slug,
      `Tenant ${slug}`,
    ]);
    const row = rows[0];
    const tenant = { slug, schema: row.schema_name, admins: row.admin_role, users: row.user_role };
    await applySnapshot(
      db,
      snap,
      { schema: tenant.schema, roles: { tenant_admins: tenant.admins, tenant_users: tenant.users } },
      options,
    );
    await db.query('commit');
    return tenant;
  } catch (error) {
    await db.query('rollback');
    throw error;
  }
}

/** Runs `sql` in its own transaction as `role` (null: as the superuser) with `search_path`. */
async function run<T extends pg.QueryResultRow = pg.QueryResultRow>(
  role: string | null,
  schema: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  await db.query('begin');
  try {
    if (role) await db.query(`set local role ${pg.escapeIdentifier(role)}`);
    await db.query(`select set_config('search_path', $1, true)`, [pg.escapeIdentifier(schema)]);
    const { rows } = await db.query<T>(sql, params);
    await db.query('commit');
    return rows;
  } catch (error) {
    await db.query('rollback');
    throw error;
  }
}

async function one<T extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params: unknown[] = [],
): Promise<T> {
  const { rows } = await db.query<T>(sql, params);
  if (!rows[0]) throw new Error(`no row from ${sql}`);
  return rows[0];
}

async function sequenceState(
  schema: string,
  name: string,
): Promise<{ last_value: string; is_called: boolean }> {
  return one(
    `select last_value::text, is_called from ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`,
  );
}

/**
 * Everything the catalog says about a schema, deparsed with search_path set to that schema
 * (so names of its own objects print unqualified) and with tenant roles and the schema name
 * written as they are in the template, so that a faithful copy describes equal to the template.
 */
async function describeSchema(schema: string, roleNames: Record<string, string> = {}) {
  const rows = await run<{ doc: Record<string, unknown[]> }>(null, schema, DESCRIBE_SQL, [schema]);
  const doc = rows[0]?.doc ?? {};
  const text = JSON.stringify(doc, (_key, value: unknown) => {
    if (typeof value !== 'string') return value;
    if (value === schema) return '<schema>';
    if (Object.hasOwn(roleNames, value)) return roleNames[value];
    if (value.startsWith(`${schema}.`)) return `<schema>.${value.slice(schema.length + 1)}`;
    if (value.startsWith('search_path=')) {
      return value
        .split(/=|, /)
        .map((part) => (part === schema ? '<schema>' : part))
        .join(',');
    }
    return value;
  });
  // ACL entries come in grantee oid order; compare them by (mapped) name instead.
  return JSON.parse(text, (_key, value: unknown) =>
    Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null && 'priv' in v)
      ? value
          .map((v) => JSON.stringify(v))
          .sort()
          .map((v) => JSON.parse(v) as unknown)
      : value,
  ) as Record<string, unknown[]>;
}

const DESCRIBE_SQL = `
with ns as (select oid from pg_namespace where nspname = $1),
rels as (select c.* from pg_class c where c.relnamespace = (select oid from ns))
select json_build_object(
  'relations', (select json_agg(json_build_object(
      'name', c.relname, 'kind', c.relkind, 'persistence', c.relpersistence, 'options', c.reloptions,
      'rls', c.relrowsecurity, 'force', c.relforcerowsecurity, 'replident', c.relreplident,
      'bound', pg_get_expr(c.relpartbound, c.oid, true),
      'key', case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end,
      'parent', (select h.inhparent::regclass::text from pg_inherits h where h.inhrelid = c.oid),
      'populated', c.relispopulated,
      'view', case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid, true) end,
      'acl', (select json_agg(json_build_object('to', coalesce(pg_get_userbyid(nullif(a.grantee, 0))::text, 'PUBLIC'),
         'priv', a.privilege_type, 'grantable', a.is_grantable) order by a.grantee, a.privilege_type)
         from aclexplode(c.relacl) a)) order by c.relname) from rels c),
  'columns', (select json_agg(json_build_object(
      'rel', c.relname, 'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'notnull', a.attnotnull,
      'identity', a.attidentity, 'generated', a.attgenerated, 'collation', a.attcollation::regcollation::text,
      'default', pg_get_expr(d.adbin, d.adrelid, true),
      'acl', (select json_agg(json_build_object('to', coalesce(pg_get_userbyid(nullif(x.grantee, 0))::text, 'PUBLIC'),
         'priv', x.privilege_type, 'grantable', x.is_grantable) order by x.grantee, x.privilege_type)
         from aclexplode(a.attacl) x)) order by c.relname, a.attnum)
    from pg_attribute a join rels c on c.oid = a.attrelid left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attnum > 0 and not a.attisdropped),
  'constraints', (select json_agg(json_build_object(
      'name', co.conname, 'on', coalesce(nullif(co.conrelid, 0)::regclass::text, co.contypid::regtype::text), 'type', co.contype,
      'def', pg_get_constraintdef(co.oid, true), 'deferrable', co.condeferrable, 'deferred', co.condeferred,
      'local', co.conislocal, 'inherited', co.coninhcount, 'valid', co.convalidated,
      'parent', (select p.conname from pg_constraint p where p.oid = co.conparentid))
      order by co.conname, co.conrelid::regclass::text, co.contypid::regtype::text)
    from pg_constraint co where co.connamespace = (select oid from ns)),
  'indexes', (select json_agg(json_build_object('name', c.relname, 'def', pg_get_indexdef(i.indexrelid, 0, true),
      'clustered', i.indisclustered, 'valid', i.indisvalid,
      'parent', (select h.inhparent::regclass::text from pg_inherits h where h.inhrelid = i.indexrelid))
      order by c.relname) from pg_index i join rels c on c.oid = i.indexrelid),
  'sequences', (select json_agg(json_build_object('name', c.relname, 'type', s.seqtypid::regtype::text,
      'start', s.seqstart, 'increment', s.seqincrement, 'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache,
      'cycle', s.seqcycle,
      'owned_by', (select d.refobjid::regclass::text || '.' || a.attname || ':' || d.deptype::text from pg_depend d
         join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
         where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i'))) order by c.relname)
    from pg_sequence s join rels c on c.oid = s.seqrelid),
  'functions', (select json_agg(json_build_object('name', p.proname, 'args', pg_get_function_arguments(p.oid),
      'result', pg_get_function_result(p.oid), 'kind', p.prokind, 'language', l.lanname, 'volatile', p.provolatile,
      'strict', p.proisstrict, 'definer', p.prosecdef, 'parallel', p.proparallel, 'cost', p.procost, 'rows', p.prorows,
      'config', p.proconfig, 'source', case when p.prosqlbody is null then p.prosrc end,
      'body', case when p.prosqlbody is not null then pg_get_function_sqlbody(p.oid) end,
      'acl', (select json_agg(json_build_object('to', coalesce(pg_get_userbyid(nullif(a.grantee, 0))::text, 'PUBLIC'),
         'priv', a.privilege_type, 'grantable', a.is_grantable) order by a.grantee, a.privilege_type)
         from aclexplode(p.proacl) a)) order by p.proname, pg_get_function_arguments(p.oid))
    from pg_proc p join pg_language l on l.oid = p.prolang where p.pronamespace = (select oid from ns)),
  'types', (select json_agg(json_build_object('name', t.typname, 'type', t.typtype, 'category', t.typcategory,
      'labels', (select json_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid),
      'base', case when t.typbasetype <> 0 then format_type(t.typbasetype, t.typtypmod) end,
      'default', pg_get_expr(t.typdefaultbin, 0, true), 'notnull', t.typnotnull, 'collation', t.typcollation::regcollation::text,
      'range', (select format_type(r.rngsubtype, null) || ' ' || r.rngsubdiff::regproc::text from pg_range r where r.rngtypid = t.oid),
      'acl', (select json_agg(json_build_object('to', coalesce(pg_get_userbyid(nullif(a.grantee, 0))::text, 'PUBLIC'),
         'priv', a.privilege_type, 'grantable', a.is_grantable) order by a.grantee, a.privilege_type)
         from aclexplode(t.typacl) a)) order by t.typname)
    from pg_type t where t.typnamespace = (select oid from ns)),
  'triggers', (select json_agg(json_build_object('name', tg.tgname, 'on', c.relname, 'def', pg_get_triggerdef(tg.oid, true),
      'enabled', tg.tgenabled, 'cloned', tg.tgparentid <> 0) order by c.relname, tg.tgname)
    from pg_trigger tg join rels c on c.oid = tg.tgrelid where not tg.tgisinternal),
  'policies', (select json_agg(json_build_object('name', po.polname, 'on', c.relname, 'cmd', po.polcmd,
      'permissive', po.polpermissive,
      'roles', (select json_agg(case when r = 0 then 'PUBLIC' else pg_get_userbyid(r)::text end order by 1)
         from unnest(po.polroles) r),
      'using', pg_get_expr(po.polqual, po.polrelid, true), 'check', pg_get_expr(po.polwithcheck, po.polrelid, true))
      order by c.relname, po.polname)
    from pg_policy po join rels c on c.oid = po.polrelid),
  'rules', (select json_agg(json_build_object('name', r.rulename, 'def', pg_get_ruledef(r.oid, true)) order by r.rulename)
    from pg_rewrite r join rels c on c.oid = r.ev_class where r.rulename <> '_RETURN'),
  'statistics', (select json_agg(json_build_object('name', s.stxname, 'kinds', s.stxkind::text,
      'columns', pg_get_statisticsobjdef_columns(s.oid)) order by s.stxname)
    from pg_statistic_ext s where s.stxnamespace = (select oid from ns)),
  'comments', (select json_agg(json_build_object('object', a.type, 'names', a.object_names, 'args', a.object_args,
      'text', d.description) order by a.type, a.object_names::text)
    from pg_description d, pg_identify_object_as_address(d.classoid, d.objoid, d.objsubid) a
    where d.objoid in (
      select oid from rels union all select oid from pg_type where typnamespace = (select oid from ns)
      union all select oid from pg_proc where pronamespace = (select oid from ns)
      union all select oid from pg_constraint where connamespace = (select oid from ns)
      union all select tg.oid from pg_trigger tg join rels c on c.oid = tg.tgrelid
      union all select po.oid from pg_policy po join rels c on c.oid = po.polrelid
      union all select r.oid from pg_rewrite r join rels c on c.oid = r.ev_class)
      and d.classoid <> 'pg_namespace'::regclass)
) as doc`;

/** pg_depend rows from objects of `from` to objects of `to`, across the classes that can hold references. */
const CROSS_DEPENDS_SQL = `
with objs(nsp, classid, objid) as (
  select n.nspname, 'pg_namespace'::regclass, n.oid from pg_namespace n
  union all select n.nspname, 'pg_class'::regclass, c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
  union all select n.nspname, 'pg_proc'::regclass, p.oid from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  union all select n.nspname, 'pg_type'::regclass, t.oid from pg_type t join pg_namespace n on n.oid = t.typnamespace
  union all select n.nspname, 'pg_constraint'::regclass, co.oid from pg_constraint co join pg_namespace n on n.oid = co.connamespace
  union all select n.nspname, 'pg_attrdef'::regclass, d.oid from pg_attrdef d join pg_class c on c.oid = d.adrelid
    join pg_namespace n on n.oid = c.relnamespace
  union all select n.nspname, 'pg_rewrite'::regclass, r.oid from pg_rewrite r join pg_class c on c.oid = r.ev_class
    join pg_namespace n on n.oid = c.relnamespace
  union all select n.nspname, 'pg_trigger'::regclass, t.oid from pg_trigger t join pg_class c on c.oid = t.tgrelid
    join pg_namespace n on n.oid = c.relnamespace
  union all select n.nspname, 'pg_policy'::regclass, p.oid from pg_policy p join pg_class c on c.oid = p.polrelid
    join pg_namespace n on n.oid = c.relnamespace
  union all select n.nspname, 'pg_statistic_ext'::regclass, s.oid from pg_statistic_ext s
    join pg_namespace n on n.oid = s.stxnamespace
)
select d.classid::regclass::text as class, pg_describe_object(d.classid, d.objid, d.objsubid) as object,
  pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) as ref
from pg_depend d
join objs o on o.classid = d.classid and o.objid = d.objid and o.nsp = $1
join objs r on r.classid = d.refclassid and r.objid = d.refobjid and r.nsp = $2
where not (d.classid = 'pg_namespace'::regclass)`;

beforeAll(async () => {
  cluster = await startCluster();
  const fixture = await readFile(FIXTURE, 'utf8');
  await cluster.admin.query(`set role cognition_owner; set search_path = tenant_template;\n${fixture}`);
  await cluster.admin.query('reset role; reset search_path');
  db = new pg.Client({ connectionString: cluster.url });
  await db.connect();
  await db.query('begin');
  await db.query('set local role cognition_owner');
  snapshot = await takeSnapshot(db);
  await db.query('commit');
  tenants.acme = await createTenant('acme', snapshot);
  tenants.acme_corp = await createTenant('acme_corp', snapshot, { copyData: true });
});

afterAll(async () => {
  await db?.end().catch(() => {});
  await cluster?.stop();
});

const acme = () => tenants.acme as Tenant;
const acmeCorp = () => tenants.acme_corp as Tenant;
const roleNames = (t: Tenant) => ({ [t.admins]: 'tenant_admins', [t.users]: 'tenant_users' });

describe('template snapshot', () => {
  it('describes every object of the template, in replay order', () => {
    expect(snapshot.templateSchema).toBe(TEMPLATE);
    expect(snapshot.warnings).toEqual([]);
    const kinds = snapshot.statementsWithData.map((s) => s.kind);
    const expected = [
      'type',
      'sequence',
      'function',
      'procedure',
      'table',
      'data',
      'constraint',
      'foreign key',
    ];
    expected.push(
      'index',
      'view',
      'materialized view',
      'trigger',
      'row security',
      'policy',
      'comment',
      'grant',
    );
    for (const kind of expected) expect(kinds, kind).toContain(kind);
    // With data: tables, then rows, then what checks, fires on or filters them; grants last.
    const first = (kind: string) => kinds.indexOf(kind as never);
    const last = (kind: string) => kinds.lastIndexOf(kind as never);
    expect(last('type')).toBeLessThan(first('table'));
    expect(first('data')).toBeGreaterThan(last('table'));
    expect(last('data')).toBeLessThan(first('trigger'));
    expect(last('data')).toBeLessThan(first('foreign key'));
    expect(last('data')).toBeLessThan(first('policy'));
    expect(last('trigger')).toBeLessThan(first('policy'));
    expect(last('comment')).toBeLessThan(first('grant'));
    // Without data: no rows, and foreign keys between plain tables are part of CREATE TABLE.
    expect(snapshot.statements.map((s) => s.kind)).not.toContain('data');
    const create = (label: string) =>
      snapshot.statements.find((s) => s.kind === 'table' && s.label === label)?.sql.join('') ?? '';
    expect(create('invoice_lines')).toContain(
      'FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE',
    );
    expect(create('categories')).toContain('FOREIGN KEY (parent_id) REFERENCES categories(id)');
    // ... unless they form a cycle, or a check calls a template function: then ALTER TABLE.
    const labels = snapshot.statements.map((s) => `${s.kind} ${s.label}`);
    expect(labels).toContain('foreign key departments.departments_head_fk');
    expect(labels).toContain('foreign key employees.employees_department_id_fkey');
    expect(labels).toContain('constraint tickets.tickets_title_slug');
    expect(labels.indexOf('constraint tickets.tickets_title_slug')).toBeGreaterThan(
      labels.indexOf('function slugify(p_text text)'),
    );
    // A function whose signature uses a table's row type comes after that table.
    const position = (label: string) => snapshot.statements.findIndex((s) => s.label === label);
    expect(position('active_customers()')).toBeGreaterThan(position('customers'));
    // SQL-standard bodies are parsed at creation: after what they read.
    expect(position('invoice_total(p_invoice bigint)')).toBeGreaterThan(position('invoice_lines'));
    // A view over a view comes after it.
    expect(position('customer_invoice_totals')).toBeGreaterThan(position('active_customer_names'));
  });

  it('has a fingerprint that is stable until the template changes', async () => {
    const first = await templateFingerprint(db, TEMPLATE);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await templateFingerprint(db, TEMPLATE)).toBe(first);
    expect(snapshot.fingerprint).toBe(first);
    await expect(templateFingerprint(db, 'no_such_schema')).rejects.toMatchObject({
      code: 'ERR_TEMPLATE_MISSING',
    });
  });
});

describe('the copy', () => {
  it('holds every object of the template, defined the same way', async () => {
    const template = await describeSchema(TEMPLATE);
    const copy = await describeSchema(acme().schema, roleNames(acme()));
    // Every kind is present in the template, so that the comparison below means something.
    const count = (doc: Record<string, unknown[]>, key: string) => (doc[key] ?? []).length;
    for (const key of Object.keys(template)) expect(count(template, key), key).toBeGreaterThan(0);
    const relkinds = (doc: Record<string, unknown[]>) =>
      (doc.relations as { kind: string }[]).reduce<Record<string, number>>(
        (acc, r) => ({ ...acc, [r.kind]: (acc[r.kind] ?? 0) + 1 }),
        {},
      );
    expect(relkinds(template)).toMatchObject({ r: 16, p: 2, v: 3, m: 1, S: 8, c: 1, i: 30, I: 3 });
    for (const key of Object.keys(template)) {
      expect(count(copy, key), key).toBe(count(template, key));
      expect(copy[key], key).toEqual(template[key]);
    }
  });

  it('contains no reference to the template in its definitions', async () => {
    const { rows } = await db.query<{ what: string; def: string }>(
      `select 'function ' || p.proname as what, pg_get_functiondef(p.oid) as def from pg_proc p
         where p.pronamespace = $1::regnamespace and p.prokind in ('f', 'p')
       union all select 'view ' || c.relname, pg_get_viewdef(c.oid) from pg_class c
         where c.relnamespace = $1::regnamespace and c.relkind in ('v', 'm')
       union all select 'default ' || c.relname, pg_get_expr(d.adbin, d.adrelid) from pg_attrdef d
         join pg_class c on c.oid = d.adrelid where c.relnamespace = $1::regnamespace
       union all select 'constraint ' || co.conname, pg_get_constraintdef(co.oid) from pg_constraint co
         where co.connamespace = $1::regnamespace
       union all select 'index ' || c.relname, pg_get_indexdef(c.oid) from pg_class c
         where c.relnamespace = $1::regnamespace and c.relkind in ('i', 'I')
       union all select 'trigger ' || t.tgname, pg_get_triggerdef(t.oid) from pg_trigger t
         join pg_class c on c.oid = t.tgrelid where c.relnamespace = $1::regnamespace
       union all select 'policy ' || p.polname, coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' '
         || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') from pg_policy p
         join pg_class c on c.oid = p.polrelid where c.relnamespace = $1::regnamespace
       union all select 'config ' || p.proname, array_to_string(p.proconfig, ';') from pg_proc p
         where p.pronamespace = $1::regnamespace and p.proconfig is not null`,
      [acme().schema],
    );
    expect(rows.length).toBeGreaterThan(80);
    expect(rows.filter((r) => r.def?.includes(TEMPLATE))).toEqual([]);
    // Qualified names are printed in full here (no search_path): the copy names itself.
    expect(rows.some((r) => r.def?.includes(`${acme().schema}.`))).toBe(true);
    const config = await one<{ proconfig: string[] }>(
      `select proconfig from pg_proc where oid = 'tenant_acme.next_invoice_number'::regproc`,
    );
    expect(config.proconfig).toEqual(['search_path=tenant_acme, pg_temp']);
  });

  it('does not depend on the template (pg_depend)', async () => {
    const leaks = await db.query(CROSS_DEPENDS_SQL, [acme().schema, TEMPLATE]);
    expect(leaks.rows).toEqual([]);
    const leaksWithData = await db.query(CROSS_DEPENDS_SQL, [acmeCorp().schema, TEMPLATE]);
    expect(leaksWithData.rows).toEqual([]);
    // Neither tenant depends on the other (the slugs share a prefix).
    expect((await db.query(CROSS_DEPENDS_SQL, [acmeCorp().schema, acme().schema])).rows).toEqual([]);
    expect((await db.query(CROSS_DEPENDS_SQL, [acme().schema, acmeCorp().schema])).rows).toEqual([]);
    // The same references point inside the copy instead, for every kind of dependent object.
    const inside = await db.query<{ class: string }>(CROSS_DEPENDS_SQL, [acme().schema, acme().schema]);
    const classes = new Set(inside.rows.map((r) => r.class));
    for (const c of [
      'pg_class',
      'pg_proc',
      'pg_type',
      'pg_constraint',
      'pg_attrdef',
      'pg_rewrite',
      'pg_trigger',
      'pg_policy',
    ]) {
      expect(classes, c).toContain(c);
    }
    // And the query does see a dependency on the template when there is one.
    await db.query('create schema leaky');
    try {
      await db.query('create view leaky.v as select id from tenant_template.customers');
      const found = await db.query(CROSS_DEPENDS_SQL, ['leaky', TEMPLATE]);
      expect(found.rows.length).toBeGreaterThan(0);
    } finally {
      await db.query('drop schema leaky cascade');
    }
  });

  it('starts empty without copyData, with the template sequences where they were', async () => {
    const [template] = await run(null, TEMPLATE, 'select count(*)::int as n from customers');
    expect(template?.n).toBe(2);
    for (const table of [
      'customers',
      'invoices',
      'invoice_lines',
      'categories',
      'measurements',
      'documents',
      'audit_events',
    ]) {
      const [row] = await run(
        null,
        acme().schema,
        `select count(*)::int as n from ${pg.escapeIdentifier(table)}`,
      );
      expect(row?.n, table).toBe(0);
    }
    const [stats] = await run(null, acme().schema, 'select count(*)::int as n from invoice_stats');
    expect(stats?.n).toBe(0);
    for (const seq of [
      'invoice_number_seq',
      'ticket_seq',
      'customers_id_seq',
      'invoices_id_seq',
      'tickets_ref_seq',
    ]) {
      expect(await sequenceState(acme().schema, seq), seq).toEqual(await sequenceState(TEMPLATE, seq));
    }
    expect(await sequenceState(acme().schema, 'ticket_seq')).toEqual({ last_value: '50', is_called: false });
  });

  it('copies rows with copyData, keeping identity values, without firing triggers', async () => {
    const schema = acmeCorp().schema;
    const customers = await run(
      null,
      schema,
      'select id::int, name, slug, status::text from customers order by id',
    );
    expect(customers).toEqual([
      { id: 100, name: 'Ada Lovelace', slug: 'ada-lovelace', status: 'active' },
      { id: 101, name: 'Bob Builder', slug: 'bob-builder', status: 'draft' },
    ]);
    const [counts] = await run(
      null,
      schema,
      `select (select count(*) from categories)::int as categories, (select count(*) from invoices)::int as invoices,
         (select count(*) from invoice_lines)::int as lines, (select count(*) from measurements_2024)::int as m2024,
         (select count(*) from measurements_other)::int as other, (select count(*) from audit_events)::int as audit,
         (select count(*) from documents)::int as documents`,
    );
    // The template's audit_events has the two rows its own triggers wrote; none more here.
    expect(counts).toEqual({
      categories: 3,
      invoices: 1,
      lines: 1,
      m2024: 1,
      other: 1,
      audit: 2,
      documents: 1,
    });
    const [stats] = await run(null, schema, 'select invoices::int, total::text from invoice_stats');
    expect(stats).toEqual({ invoices: 1, total: '10.00' });
    expect(await sequenceState(schema, 'customers_id_seq')).toEqual(
      await sequenceState(TEMPLATE, 'customers_id_seq'),
    );
    // The copy of the rows left the template's data alone.
    const [template] = await run(null, TEMPLATE, 'select count(*)::int as n from audit_events');
    expect(template?.n).toBe(2);
  });
});

describe('behaviour of the copy', () => {
  it('fills identity columns, defaults and generated columns from its own objects', async () => {
    const schema = acme().schema;
    const before = await sequenceState(TEMPLATE, 'customers_id_seq');
    const [row] = await run(
      null,
      schema,
      `insert into customers (name, email) values ('Zed Zero', 'zed@example.com')
      returning id::int, slug, status::text, created_at is not null as stamped`,
    );
    expect(row).toEqual({ id: 102, slug: 'zed-zero', status: 'active', stamped: true });
    expect(await sequenceState(schema, 'customers_id_seq')).toEqual({ last_value: '102', is_called: true });
    expect(await sequenceState(TEMPLATE, 'customers_id_seq')).toEqual(before);
    await expect(run(null, schema, `insert into customers (id, name) values (5, 'x')`)).rejects.toMatchObject(
      {
        code: '428C9',
      },
    );
    const [booking] = await run(
      null,
      schema,
      `insert into bookings (id, room, during) values (42, 1, '[2025-01-01 10:00, 2025-01-01 11:00)') returning id`,
    );
    expect(booking?.id).toBe(42);
    const [ticket] = await run(null, schema, `insert into tickets (title) values ('t') returning id, ref`);
    expect(ticket).toEqual({ id: 50, ref: 1 });
    expect(await sequenceState(TEMPLATE, 'ticket_seq')).toEqual({ last_value: '50', is_called: false });
  });

  it('calls its own functions from defaults, triggers and SQL-standard bodies', async () => {
    const schema = acme().schema;
    const templateSeq = await sequenceState(TEMPLATE, 'invoice_number_seq');
    const templateAudit = await run(null, TEMPLATE, 'select count(*)::int as n from audit_events');
    const [invoice] = await run(
      null,
      schema,
      `insert into invoices (customer_id) select id from customers where name = 'Zed Zero' returning id::int, number`,
    );
    expect(invoice?.number).toBe('INV-1240');
    expect(await sequenceState(schema, 'invoice_number_seq')).toEqual({
      last_value: '1240',
      is_called: true,
    });
    expect(await sequenceState(TEMPLATE, 'invoice_number_seq')).toEqual(templateSeq);
    // The statement trigger's function pins search_path: to the tenant schema, in the copy.
    const audit = await run(null, schema, 'select op, table_name from audit_events');
    expect(audit).toEqual([{ op: 'INSERT', table_name: 'invoices' }]);
    expect(await run(null, TEMPLATE, 'select count(*)::int as n from audit_events')).toEqual(templateAudit);
    // Row trigger -> plpgsql -> SQL-standard function over the copy's invoice_lines.
    await run(
      null,
      schema,
      `insert into invoice_lines (invoice_id, line_no, quantity, unit_price) values ($1, 1, 3, 2.5)`,
      [invoice?.id],
    );
    const [total] = await run(null, schema, 'select total::text from invoices where id = $1', [invoice?.id]);
    expect(total?.total).toBe('7.50');
    // The function with set search_path works from anywhere.
    const [fromElsewhere] = await run(null, 'public', `select ${schema}.next_invoice_number() as n`);
    expect(fromElsewhere?.n).toBe('INV-1245');
    const [calls] = await run(
      null,
      schema,
      `select greeting() as greeting, with_tax(10)::text as taxed, (select count(*)::int from active_customers()) as active`,
    );
    expect(calls).toEqual({ greeting: 'hi hello-world', taxed: '12.0', active: 1 });
    const [zed] = await run(null, schema, `select id from customers where name = 'Zed Zero'`);
    await run(null, schema, 'call archive_customer($1)', [zed?.id]);
    const [archived] = await run(null, schema, `select status::text from customers where name = 'Zed Zero'`);
    expect(archived?.status).toBe('archived');
    await run(null, schema, 'call take_ticket()');
    expect(await sequenceState(schema, 'ticket_seq')).toEqual({ last_value: '51', is_called: true });
    expect(await sequenceState(TEMPLATE, 'ticket_seq')).toEqual({ last_value: '50', is_called: false });
    await run(null, schema, `update customers set status = 'active' where name = 'Zed Zero'`);
    const [touched] = await run(
      null,
      schema,
      `select updated_at is not null as touched from customers where name = 'Zed Zero'`,
    );
    expect(touched?.touched).toBe(true);
  });

  it('enforces checks, domains, exclusions, uniqueness and trigger conditions', async () => {
    const schema = acme().schema;
    const [invoice] = await run(null, schema, 'select id from invoices limit 1');
    const line = (quantity: number) =>
      run(null, schema, 'insert into invoice_lines (invoice_id, line_no, quantity) values ($1, $2, $3)', [
        invoice?.id,
        100 + quantity,
        quantity,
      ]);
    await expect(line(0)).rejects.toMatchObject({
      code: '23514',
      constraint: 'invoice_lines_quantity_positive',
    });
    await expect(line(5000)).rejects.toMatchObject({ code: '22003' });
    await expect(line(7)).resolves.toHaveLength(0);
    await expect(
      run(null, schema, `insert into customers (name, credit) values ('c', 0)`),
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'positive_amount_check',
    });
    await expect(
      run(null, schema, `insert into customers (name, email) values ('c', 'not-an-email')`),
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'email_address_format',
    });
    await expect(
      run(null, schema, `insert into customers (name) values (repeat('x', 201))`),
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'customers_name_length',
    });
    await expect(
      run(null, schema, `insert into customers (name, email) values ('dup', 'zed@example.com')`),
    ).rejects.toMatchObject({ code: '23505', constraint: 'customers_email_key' });
    await expect(
      run(
        null,
        schema,
        `insert into bookings (room, during) values (1, '[2025-01-01 10:30, 2025-01-01 12:00)')`,
      ),
    ).rejects.toMatchObject({ code: '23P01', constraint: 'bookings_no_overlap' });
    await run(
      null,
      schema,
      `insert into bookings (room, during) values (2, '[2025-01-01 10:30, 2025-01-01 12:00)')`,
    );
    await run(
      null,
      schema,
      `insert into bookings (room, during, area) values (3, '[2025-01-01 10:30, 2025-01-01 12:00)', '<(0,0),1>')`,
    );
    await expect(
      run(
        null,
        schema,
        `insert into bookings (room, during, area) values (4, '[2025-01-01 10:30, 2025-01-01 12:00)', '<(1,0),1>')`,
      ),
    ).rejects.toMatchObject({ code: '23P01', constraint: 'bookings_area_disjoint' });
    await expect(run(null, schema, `insert into events (kind) values ('unknown')`)).rejects.toMatchObject({
      code: '23514',
    });
  });

  it('cascades foreign keys (incl. self-references) and routes rows to partitions', async () => {
    const schema = acme().schema;
    await run(
      null,
      schema,
      `insert into categories (id, parent_id, name) values (1, null, 'a'), (2, 1, 'b'), (3, 2, 'c')`,
    );
    await run(null, schema, 'delete from categories where id = 1');
    const [left] = await run(null, schema, 'select count(*)::int as n from categories');
    expect(left?.n).toBe(0);
    await expect(
      run(null, schema, 'insert into invoices (customer_id) values (999999)'),
    ).rejects.toMatchObject({
      code: '23503',
      constraint: 'invoices_customer_fk',
    });
    const [c] = await run(null, schema, `insert into customers (name) values ('Cascade') returning id`);
    const [inv] = await run(null, schema, 'insert into invoices (customer_id) values ($1) returning id', [
      c?.id,
    ]);
    await run(null, schema, `insert into invoices (customer_id, parent_id) values ($1, $2)`, [
      c?.id,
      inv?.id,
    ]);
    await run(null, schema, 'insert into invoice_lines (invoice_id, line_no, quantity) values ($1, 1, 1)', [
      inv?.id,
    ]);
    await run(null, schema, 'delete from customers where id = $1', [c?.id]);
    const [gone] = await run(
      null,
      schema,
      'select (select count(*) from invoices where customer_id = $1)::int as invoices, (select count(*) from invoice_lines where invoice_id = $2)::int as lines',
      [c?.id, inv?.id],
    );
    expect(gone).toEqual({ invoices: 0, lines: 0 });

    await run(
      null,
      schema,
      `insert into measurements (sensor, taken_on, value) values (1, '2024-03-01', 1), (1, '2031-01-01', 2)`,
    );
    const [parts] = await run(
      null,
      schema,
      `select (select count(*) from measurements_2024)::int as y2024, (select count(*) from measurements_other)::int as other`,
    );
    expect(parts).toEqual({ y2024: 1, other: 1 });
    await expect(
      run(null, schema, `insert into measurements (sensor, taken_on, value) values (1, '2024-03-01', 5)`),
    ).rejects.toMatchObject({ code: '23505', constraint: 'measurements_2024_pkey' });
    const audits = await run(
      null,
      schema,
      `select count(*)::int as n from audit_events where table_name = 'measurements'`,
    );
    expect(audits[0]?.n).toBe(1);
    // The rule makes the audit log append-only in the copy too.
    await run(null, schema, 'delete from audit_events');
    const [kept] = await run(null, schema, 'select count(*)::int as n from audit_events');
    expect(kept?.n).toBeGreaterThan(0);
  });

  it('reads its own data through views and materialized views', async () => {
    const schema = acme().schema;
    const names = await run<{ name: string }>(
      null,
      schema,
      'select name from active_customer_names order by name',
    );
    expect(names.map((r) => r.name)).toEqual(['Zed Zero']);
    const totals = await run(
      null,
      schema,
      'select name, total::text, gross::text from customer_invoice_totals order by invoice_id',
    );
    expect(totals[0]).toEqual({ name: 'Zed Zero', total: '7.50', gross: '9.000' });
    await expect(
      run(null, schema, `insert into draft_customers (name, status) values ('x', 'active')`),
    ).rejects.toMatchObject({
      code: '44000',
    });
    // Concurrent refresh needs the unique index, which the copy has.
    await run(null, schema, 'refresh materialized view concurrently invoice_stats');
    const stats = await run(null, schema, 'select invoices::int from invoice_stats');
    expect(stats.length).toBeGreaterThan(0);
    const [templateStats] = await run(null, TEMPLATE, 'select count(*)::int as n from invoice_stats');
    expect(templateStats?.n).toBe(1);
  });

  it('filters rows with its policies, for the tenant roles', async () => {
    const t = acme();
    await run(
      null,
      t.schema,
      `insert into documents (author, visible, body) values ('someone', true, 'shown'), ('someone', false, 'hidden')`,
    );
    const asUser = await run(t.users, t.schema, 'select body from documents order by id');
    expect(asUser.map((r) => r.body)).toEqual(['shown']);
    const asAdmin = await run(t.admins, t.schema, 'select body from documents order by id');
    expect(asAdmin.map((r) => r.body)).toEqual(['shown', 'hidden']);
    // Column privileges: users read some columns only.
    await expect(run(t.users, t.schema, 'select author from documents')).rejects.toMatchObject({
      code: '42501',
    });
    // Insert: the permissive check (author = current_user) and the restrictive one (short body).
    await run(t.users, t.schema, `insert into documents (body) values ('mine')`);
    await expect(
      run(t.users, t.schema, `insert into documents (body) values (repeat('x', 2000))`),
    ).rejects.toMatchObject({
      code: '42501',
    });
    // Users update their own rows only; admins delete invisible ones only.
    const updated = await run(t.users, t.schema, `update documents set body = 'changed' returning body`);
    expect(updated).toEqual([{ body: 'changed' }]);
    const deleted = await run(t.admins, t.schema, 'delete from documents returning body');
    expect(deleted).toEqual([{ body: 'hidden' }]);
    // The other tenant's roles and the global ones get nowhere near this tenant.
    const qualified = `select id from ${pg.escapeIdentifier(t.schema)}.documents`;
    await expect(run(acmeCorp().users, t.schema, qualified)).rejects.toMatchObject({ code: '42501' });
    await expect(run('tenant_users', t.schema, qualified)).rejects.toMatchObject({ code: '42501' });
  });
});

describe('grants of the copy', () => {
  it('go to the tenant roles only, never to the global ones', async () => {
    const t = acme();
    const other = acmeCorp();
    const check = async (sql: string, params: unknown[]) =>
      (await one<{ ok: boolean }>(`select ${sql} as ok`, params)).ok;
    const table = `${t.schema}.customers`;
    expect(await check('has_table_privilege($1, $2, $3)', [t.users, table, 'select'])).toBe(true);
    expect(await check('has_table_privilege($1, $2, $3)', ['tenant_users', table, 'select'])).toBe(false);
    expect(await check('has_table_privilege($1, $2, $3)', [t.admins, table, 'delete'])).toBe(true);
    expect(await check('has_table_privilege($1, $2, $3)', ['tenant_admins', table, 'delete'])).toBe(false);
    expect(await check('has_table_privilege($1, $2, $3)', [other.users, table, 'select'])).toBe(false);
    expect(
      await check('has_table_privilege($1, $2, $3)', [t.users, `${other.schema}.customers`, 'select']),
    ).toBe(false);
    expect(
      await check('has_table_privilege($1, $2, $3)', [other.users, `${other.schema}.customers`, 'select']),
    ).toBe(true);
    // In the template the global roles hold them (the source of the mapping).
    expect(
      await check('has_table_privilege($1, $2, $3)', ['tenant_users', `${TEMPLATE}.customers`, 'select']),
    ).toBe(true);
    // Column-level.
    const documents = `${t.schema}.documents`;
    expect(await check('has_column_privilege($1, $2, $3, $4)', [t.users, documents, 'body', 'update'])).toBe(
      true,
    );
    expect(
      await check('has_column_privilege($1, $2, $3, $4)', [t.users, documents, 'author', 'update']),
    ).toBe(false);
    expect(
      await check('has_column_privilege($1, $2, $3, $4)', ['tenant_users', documents, 'body', 'update']),
    ).toBe(false);
    expect(await check('has_table_privilege($1, $2, $3)', [t.users, documents, 'select'])).toBe(false);
    // Sequences, functions, procedures, types.
    const seq = `${t.schema}.invoice_number_seq`;
    expect(await check('has_sequence_privilege($1, $2, $3)', [t.users, seq, 'usage'])).toBe(true);
    expect(await check('has_sequence_privilege($1, $2, $3)', ['tenant_users', seq, 'usage'])).toBe(false);
    const fn = `${t.schema}.next_invoice_number()`;
    expect(await check('has_function_privilege($1, $2, $3)', [t.users, fn, 'execute'])).toBe(true);
    expect(await check('has_function_privilege($1, $2, $3)', ['tenant_users', fn, 'execute'])).toBe(false);
    expect(await check('has_function_privilege($1, $2, $3)', ['pgc_reporting', fn, 'execute'])).toBe(false);
    const proc = `${t.schema}.archive_customer(bigint)`;
    expect(await check('has_function_privilege($1, $2, $3)', [t.admins, proc, 'execute'])).toBe(true);
    expect(await check('has_function_privilege($1, $2, $3)', ['pgc_reporting', proc, 'execute'])).toBe(false);
    // Functions the template left at the default stay executable by PUBLIC.
    expect(
      await check('has_function_privilege($1, $2, $3)', [
        'pgc_reporting',
        `${t.schema}.slugify(text)`,
        'execute',
      ]),
    ).toBe(true);
    const type = `${t.schema}.customer_status`;
    expect(await check('has_type_privilege($1, $2, $3)', [t.users, type, 'usage'])).toBe(true);
    expect(await check('has_type_privilege($1, $2, $3)', ['tenant_users', type, 'usage'])).toBe(false);
    expect(await check('has_type_privilege($1, $2, $3)', ['pgc_reporting', type, 'usage'])).toBe(false);
    // Other grantees are kept as they are, grant option included.
    const stats = `${t.schema}.invoice_stats`;
    expect(
      await check('has_table_privilege($1, $2, $3)', ['pgc_reporting', stats, 'select with grant option']),
    ).toBe(true);
    expect(
      await check('has_table_privilege($1, $2, $3)', ['pgc_reporting', `${t.schema}.categories`, 'select']),
    ).toBe(true);
  });

  it('name no global tenant role anywhere in the copy', async () => {
    const { rows } = await db.query(
      `with roles as (select oid from pg_roles where rolname in ('tenant_users', 'tenant_admins'))
       select c.relname::text as what from pg_class c, aclexplode(c.relacl) a
         where c.relnamespace = $1::regnamespace and a.grantee in (select oid from roles)
       union all select c.relname || '.' || att.attname from pg_attribute att join pg_class c on c.oid = att.attrelid,
         aclexplode(att.attacl) a where c.relnamespace = $1::regnamespace and a.grantee in (select oid from roles)
       union all select p.proname from pg_proc p, aclexplode(p.proacl) a
         where p.pronamespace = $1::regnamespace and a.grantee in (select oid from roles)
       union all select t.typname from pg_type t, aclexplode(t.typacl) a
         where t.typnamespace = $1::regnamespace and a.grantee in (select oid from roles)
       union all select po.polname from pg_policy po join pg_class c on c.oid = po.polrelid
         where c.relnamespace = $1::regnamespace and po.polroles && array(select oid from roles)`,
      [acme().schema],
    );
    expect(rows).toEqual([]);
    const template = await db.query(
      `select count(*)::int as n from pg_policy po join pg_class c on c.oid = po.polrelid
       where c.relnamespace = $1::regnamespace and 'tenant_users'::regrole = any (po.polroles)`,
      [TEMPLATE],
    );
    expect(template.rows[0].n).toBeGreaterThan(0);
  });
});

describe('safety nets', () => {
  it('refuses a copy that would depend on the template', async () => {
    const leaky: TemplateSnapshot = {
      ...snapshot,
      statements: [
        ...snapshot.statements,
        {
          kind: 'view',
          label: 'leak',
          sql: ['create view leak as select id from tenant_template.customers'],
        },
      ],
    };
    await expect(createTenant('leaky', leaky)).rejects.toMatchObject({
      code: 'ERR_CLONE_FAILED',
      message: expect.stringContaining('depends on the template'),
    });
    const exists = await db.query(`select from pg_namespace where nspname = 'tenant_leaky'`);
    expect(exists.rowCount).toBe(0);
  });

  it('refuses a copy that grants to a global tenant role', async () => {
    const global: TemplateSnapshot = {
      ...snapshot,
      statements: [
        ...snapshot.statements,
        { kind: 'grant', label: 'customers', sql: ['grant select on customers to tenant_users'] },
      ],
    };
    await expect(createTenant('global', global)).rejects.toMatchObject({
      code: 'ERR_CLONE_FAILED',
      message: expect.stringContaining('should have been mapped'),
    });
  });

  it('names the object whose statement failed', async () => {
    const broken: TemplateSnapshot = {
      ...snapshot,
      statements: snapshot.statements.map((s) =>
        s.kind === 'view' && s.label === 'draft_customers'
          ? { ...s, sql: ['create view draft_customers as select nope'] }
          : s,
      ),
    };
    await expect(createTenant('broken', broken)).rejects.toMatchObject({
      code: 'ERR_CLONE_FAILED',
      details: { kind: 'view', object: 'draft_customers' },
    });
  });

  it('runs inside a transaction only', async () => {
    await expect(applySnapshot(db, snapshot, { schema: 'tenant_nowhere', roles: {} })).rejects.toMatchObject({
      code: 'ERR_CLONE_FAILED',
      message: expect.stringContaining('inside a transaction'),
    });
  });
});

describe('createTemplateCloner', () => {
  it('reuses its snapshot until the template changes, then takes a new one', async () => {
    const cloner = createTemplateCloner(TEMPLATE, { recheckMs: 0 });
    const clone = async (slug: string) => {
      await db.query('begin');
      try {
        await db.query('set local role cognition_owner');
        const { rows } = await db.query('select * from cognition.create_tenant_shell($1, $2)', [slug, slug]);
        const snap = await cloner.clone(db, {
          schema: rows[0].schema_name,
          roles: { tenant_admins: rows[0].admin_role, tenant_users: rows[0].user_role },
        });
        await db.query('commit');
        return snap;
      } catch (error) {
        await db.query('rollback');
        throw error;
      }
    };
    const first = await clone('beta');
    expect(await clone('gamma')).toBe(first);

    // Each kind of change to the template changes the fingerprint.
    const changes = [
      'alter table customers add column nickname text',
      `comment on column customers.nickname is 'Short name'`,
      `comment on table tickets is 'Support tickets'`,
      'grant select on tickets to pgc_reporting',
      'grant update (title) on tickets to tenant_users',
      'alter sequence ticket_seq owned by tickets.id',
      'alter sequence invoice_number_seq increment by 10',
      `alter type customer_status add value 'vip' before 'archived'`,
      'create index tickets_title_idx on tickets (title)',
      'alter table bookings set (fillfactor = 70)',
      'alter table invoices alter column total set default 0',
      'create policy tickets_read on tickets for select to tenant_users using (true)',
      'alter table tickets enable row level security',
      'alter function greeting(text) immutable',
      'alter trigger customers_touch on customers rename to customers_touched',
      `create or replace view active_customer_names as select id, name from customers where status <> 'archived'`,
      `alter domain email_address set default 'nobody@example.com'`,
      'drop view draft_customers',
      'create function shout(p text) returns text language sql immutable return upper(p)',
    ];
    let last = await templateFingerprint(db, TEMPLATE);
    for (const change of changes) {
      await cluster.admin.query(`set role cognition_owner; set search_path = tenant_template; ${change}`);
      await cluster.admin.query('reset role; reset search_path');
      const now = await templateFingerprint(db, TEMPLATE);
      expect(now, change).not.toBe(last);
      last = now;
    }
    const afterOwnedBy = last;

    const second = await clone('delta');
    expect(second).not.toBe(first);
    expect(second.fingerprint).toBe(afterOwnedBy);
    const columns = async (schema: string) =>
      (
        await db.query(
          `select count(*)::int as n from pg_attribute where attrelid = $1::regclass and attname = 'nickname'`,
          [`${schema}.customers`],
        )
      ).rows[0].n;
    expect(await columns('tenant_gamma')).toBe(0);
    expect(await columns('tenant_delta')).toBe(1);
    const [comment] = await run(
      null,
      'tenant_delta',
      `select col_description(attrelid, attnum) as text from pg_attribute where attrelid = 'customers'::regclass and attname = 'nickname'`,
    );
    expect(comment?.text).toBe('Short name');
    expect(
      await one(`select has_table_privilege('pgc_reporting', 'tenant_delta.tickets', 'select') as ok`),
    ).toEqual({ ok: true });
    expect(await one(`select pg_get_serial_sequence('tenant_delta.tickets', 'id') as s`)).toEqual({
      s: 'tenant_delta.ticket_seq',
    });
    // The whole template, changed, is still copied faithfully.
    const template = await describeSchema(TEMPLATE);
    const copy = await describeSchema('tenant_delta', {
      tenant_delta_admins: 'tenant_admins',
      tenant_delta_users: 'tenant_users',
    });
    expect(copy).toEqual(template);
  });
});
