import pg from 'pg';
import { CognitionError } from '../errors.js';

/**
 * A replayable description of everything in the tenant template schema.
 *
 * The catalog is read with `search_path` set to the template, so that Postgres's own deparsers
 * (pg_get_viewdef, pg_get_expr, pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef,
 * pg_get_function_sqlbody, ...) print template objects unqualified. Replayed with
 * `search_path` set to a tenant schema, the same text resolves to the tenant's objects. Where
 * a statement needs a name that differs per tenant (the tenant schema inside a function's
 * `set search_path`, a grantee that maps to a tenant role), the statement holds a placeholder
 * instead of text, filled in by `applySnapshot` with escaped identifiers or literals.
 *
 * The statements are stored in replay order: a topological sort over pg_depend, with ties
 * broken by phase (types, sequences, functions, tables, data, constraints and indexes,
 * foreign keys, views, triggers, row security, OWNED BY, comments, grants).
 */
export interface TemplateSnapshot {
  version: 1;
  templateSchema: string;
  /** `templateFingerprint` as read before the catalog, so a concurrent change only makes it stale. */
  fingerprint: string;
  serverVersionNum: number;
  takenAt: string;
  statements: SnapshotStatement[];
  /** Objects per kind in the template (as cloned; rows of `copyData` statements are not counted). */
  counts: Partial<Record<ObjectKind, number>>;
  /** Things the clone copies as they are but that may surprise (see the messages). */
  warnings: string[];
}

export type ObjectKind =
  | 'type'
  | 'sequence'
  | 'function'
  | 'procedure'
  | 'table'
  | 'default'
  | 'data'
  | 'sequence value'
  | 'constraint'
  | 'foreign key'
  | 'index'
  | 'index attach'
  | 'statistics'
  | 'view'
  | 'materialized view'
  | 'rule'
  | 'trigger'
  | 'row security'
  | 'policy'
  | 'replica identity'
  | 'owned by'
  | 'comment'
  | 'grant';

/**
 * A piece of SQL text. Strings are final SQL (identifiers already quoted); the objects are
 * placeholders that differ per tenant:
 * - `{ role }`: a grantee or policy role, mapped through `target.roles`; `null` is PUBLIC;
 * - `{ target: 'identifier' }`: the tenant schema as a quoted identifier;
 * - `{ target: 'literal' }`: the tenant schema as a string literal (inside `set search_path`).
 */
export type SqlChunk = string | { role: string | null } | { target: 'identifier' | 'literal' };

export interface SnapshotStatement {
  kind: ObjectKind;
  /** Human-readable object name, for error messages. */
  label: string;
  sql: SqlChunk[];
  /** Only replayed with `copyData: true`. */
  copyDataOnly?: boolean;
}

const ident = pg.escapeIdentifier;
const literal = pg.escapeLiteral;

/** Privilege keywords that may appear in generated GRANT statements. */
const PRIVILEGES = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
  'MAINTAIN',
  'USAGE',
  'EXECUTE',
  'CREATE',
]);

/** GUCs whose values are lists of identifiers (GUC_LIST_QUOTE in guc_tables.c). */
const LIST_GUCS = new Set([
  'search_path',
  'temp_tablespaces',
  'local_preload_libraries',
  'session_preload_libraries',
]);

/** Phase of each kind: the replay order where pg_depend leaves a choice. */
const PHASE: Record<ObjectKind, number> = {
  type: 0,
  sequence: 1,
  function: 2,
  procedure: 2,
  table: 3,
  default: 3,
  data: 4,
  'sequence value': 4,
  constraint: 5,
  index: 5,
  'index attach': 5,
  statistics: 5,
  'foreign key': 6,
  view: 7,
  'materialized view': 7,
  rule: 7,
  trigger: 8,
  'row security': 9,
  policy: 9,
  'replica identity': 9,
  'owned by': 10,
  comment: 11,
  grant: 12,
};

// ---------------------------------------------------------------------------------------------
// Fingerprint

/**
 * The template objects as (catalog, oid, row version) triples. `ns` is an expression for the
 * template's namespace oid.
 */
function templateObjectsCte(ns: string): string {
  return `
  rels as (select c.oid, c.xmin from pg_catalog.pg_class c where c.relnamespace = ${ns}),
  objs(classid, objid, x) as (
    select 'pg_catalog.pg_class'::regclass::oid, r.oid, r.xmin from rels r
    union all select 'pg_catalog.pg_type'::regclass::oid, t.oid, t.xmin from pg_catalog.pg_type t where t.typnamespace = ${ns}
    union all select 'pg_catalog.pg_proc'::regclass::oid, p.oid, p.xmin from pg_catalog.pg_proc p where p.pronamespace = ${ns}
    union all select 'pg_catalog.pg_constraint'::regclass::oid, co.oid, co.xmin from pg_catalog.pg_constraint co where co.connamespace = ${ns}
    union all select 'pg_catalog.pg_attrdef'::regclass::oid, ad.oid, ad.xmin from pg_catalog.pg_attrdef ad join rels r on r.oid = ad.adrelid
    union all select 'pg_catalog.pg_rewrite'::regclass::oid, rw.oid, rw.xmin from pg_catalog.pg_rewrite rw join rels r on r.oid = rw.ev_class
    union all select 'pg_catalog.pg_trigger'::regclass::oid, tg.oid, tg.xmin from pg_catalog.pg_trigger tg join rels r on r.oid = tg.tgrelid
    union all select 'pg_catalog.pg_policy'::regclass::oid, po.oid, po.xmin from pg_catalog.pg_policy po join rels r on r.oid = po.polrelid
    union all select 'pg_catalog.pg_statistic_ext'::regclass::oid, s.oid, s.xmin from pg_catalog.pg_statistic_ext s where s.stxnamespace = ${ns}
  )`;
}

/**
 * One cheap query: an md5 over the oid and row version (xmin) of every catalog row that
 * describes the template (pg_namespace incl. nspacl, pg_class incl. relacl, pg_attribute incl.
 * attacl, pg_attrdef, pg_constraint, pg_index, pg_inherits, pg_proc incl. proacl, pg_type incl.
 * typacl, pg_enum, pg_range, pg_sequence, pg_trigger, pg_policy, pg_rewrite, pg_statistic_ext,
 * pg_description and the pg_depend rows of template objects). Any DDL, GRANT or COMMENT on the
 * template writes one of these rows, so the value changes; sequence values and table rows are
 * not part of it (the clone reads those live).
 */
export async function templateFingerprint(
  client: pg.ClientBase,
  templateSchema = 'tenant_template',
): Promise<string> {
  const { rows } = await client.query<{ ns: string | null; fingerprint: string | null }>(
    fingerprintSql('$1'),
    [templateSchema],
  );
  const row = rows[0];
  if (!row || row.ns === null || row.fingerprint === null) {
    throw new CognitionError('ERR_TEMPLATE_MISSING', `the template schema ${templateSchema} does not exist`);
  }
  return row.fingerprint;
}

function fingerprintSql(schemaParam: string): string {
  const ns = `(select n.oid from pg_catalog.pg_namespace n where n.nspname = ${schemaParam})`;
  return `
with ${templateObjectsCte(ns)},
rows(v) as (
  select 'n' || n.oid || ':' || n.xmin from pg_catalog.pg_namespace n where n.oid = ${ns}
  union all select o.classid || '/' || o.objid || ':' || o.x from objs o
  union all select 'a' || a.attrelid || '.' || a.attnum || ':' || a.xmin
    from pg_catalog.pg_attribute a join rels r on r.oid = a.attrelid where a.attnum > 0
  union all select 'i' || i.indexrelid || ':' || i.xmin from pg_catalog.pg_index i join rels r on r.oid = i.indexrelid
  union all select 'h' || h.inhrelid || '.' || h.inhparent || ':' || h.xmin from pg_catalog.pg_inherits h join rels r on r.oid = h.inhrelid
  union all select 's' || s.seqrelid || ':' || s.xmin from pg_catalog.pg_sequence s join rels r on r.oid = s.seqrelid
  union all select 'e' || e.oid || ':' || e.xmin from pg_catalog.pg_enum e
    join pg_catalog.pg_type t on t.oid = e.enumtypid where t.typnamespace = ${ns}
  union all select 'r' || g.rngtypid || ':' || g.xmin from pg_catalog.pg_range g
    join pg_catalog.pg_type t on t.oid = g.rngtypid where t.typnamespace = ${ns}
  union all select 'c' || d.classoid || '/' || d.objoid || '.' || d.objsubid || ':' || d.xmin
    from pg_catalog.pg_description d join objs o on o.classid = d.classoid and o.objid = d.objoid
  union all select 'd' || d.classid || '/' || d.objid || '.' || d.objsubid || '>' || d.refclassid || '/' || d.refobjid
      || '.' || d.refobjsubid || d.deptype::text || ':' || d.xmin
    from pg_catalog.pg_depend d join objs o on o.classid = d.classid and o.objid = d.objid
)
select ${ns}::text as ns, (select pg_catalog.md5(pg_catalog.string_agg(v, ',' order by v)) from rows) as fingerprint`;
}

// ---------------------------------------------------------------------------------------------
// Catalog reads

interface AclEntry {
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

interface RelationRow {
  oid: string;
  relname: string;
  relkind: string;
  relpersistence: string;
  reloptions: string[] | null;
  toast_options: string[] | null;
  access_method: string | null;
  relispartition: boolean;
  partition_bound: string | null;
  partition_key: string | null;
  parents: string[];
  relrowsecurity: boolean;
  relforcerowsecurity: boolean;
  relreplident: string;
  typed: boolean;
  relispopulated: boolean;
  view_def: string | null;
  row_type: string;
  has_acl: boolean;
  acl: AclEntry[];
  policy_roles: (string | null)[];
}

interface ColumnRow {
  rel: string;
  attnum: number;
  attname: string;
  type: string;
  attnotnull: boolean;
  attidentity: string;
  attgenerated: string;
  collation: string | null;
  default_oid: string | null;
  default_expr: string | null;
  default_uses_functions: boolean;
  /** The column's type is (or is made of) a type of the template. */
  template_type: boolean;
  not_null_name: string | null;
  not_null_local: boolean | null;
  not_null_no_inherit: boolean | null;
  parent_default: string | null;
  parent_not_null: boolean;
  has_acl: boolean;
  acl: AclEntry[];
}

interface SequenceRow {
  oid: string;
  relname: string;
  type: string;
  seqstart: string;
  seqincrement: string;
  seqmax: string;
  seqmin: string;
  seqcache: string;
  seqcycle: boolean;
  owner_rel: string | null;
  owner_col: string | null;
  deptype: string | null;
}

interface ConstraintRow {
  oid: string;
  conname: string;
  contype: string;
  conrelid: string;
  contypid: string;
  def: string;
  conindid: string;
  conparentid: string;
  conislocal: boolean;
  coninhcount: number;
}

interface IndexRow {
  oid: string;
  relname: string;
  rel: string;
  def: string;
  constraint_oid: string | null;
  parent_index: string | null;
  indisclustered: boolean;
  indisreplident: boolean;
}

interface FunctionRow {
  oid: string;
  proname: string;
  prokind: string;
  lanname: string;
  args: string;
  identity_args: string;
  result: string | null;
  provolatile: string;
  proisstrict: boolean;
  prosecdef: boolean;
  proleakproof: boolean;
  proparallel: string;
  procost: number;
  prorows: number;
  proretset: boolean;
  support: string | null;
  proconfig: string[] | null;
  prosrc: string;
  probin: string | null;
  sqlbody: string | null;
  /** Set for the constructors Postgres makes with a range type. */
  part_of_type: string | null;
  has_acl: boolean;
  acl: AclEntry[];
}

interface TypeRow {
  oid: string;
  typname: string;
  typtype: string;
  typrelid: string;
  array_of: string | null;
  labels: string[] | null;
  base_type: string | null;
  collation: string | null;
  default_expr: string | null;
  typnotnull: boolean;
  range_subtype: string | null;
  range_opclass: string | null;
  range_collation: string | null;
  range_canonical: string | null;
  range_diff: string | null;
  range_multirange: string | null;
  multirange_of: string | null;
  has_acl: boolean;
  acl: AclEntry[];
}

interface TriggerRow {
  oid: string;
  tgname: string;
  rel: string;
  def: string;
  tgenabled: string;
  parent_trigger: string | null;
  tgconstraint: string;
}

interface PolicyRow {
  oid: string;
  polname: string;
  rel: string;
  polcmd: string;
  polpermissive: boolean;
  roles: (string | null)[];
  using_expr: string | null;
  check_expr: string | null;
}

interface RuleRow {
  oid: string;
  rulename: string;
  rel: string;
  def: string;
}

interface StatisticsRow {
  oid: string;
  stxname: string;
  rel: string;
  columns: string;
  kinds: string[];
  targets: number;
}

interface CommentRow {
  class: string;
  objoid: string;
  objsubid: number;
  description: string;
}

interface DependRow {
  class: string;
  objid: string;
  objsubid: number;
  ref_class: string;
  ref_objid: string;
  refobjsubid: number;
  deptype: string;
}

interface UnsupportedRow {
  kind: string;
  name: string;
}

function aclJson(aclColumn: string, ownerColumn: string): string {
  return `(select coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
      'grantee', case when a.grantee = 0 then null else pg_catalog.pg_get_userbyid(a.grantee) end,
      'privilege', a.privilege_type, 'grantable', a.is_grantable) order by a.grantee, a.privilege_type), '[]')
    from pg_catalog.aclexplode(${aclColumn}) a where a.grantee <> ${ownerColumn}) as acl,
    ${aclColumn} is not null as has_acl`;
}

/** The catalog reads, as one multi-statement string (one round trip, one implicit transaction). */
function snapshotSql(templateSchema: string): string[] {
  const lit = literal(templateSchema);
  const ns = `(select n.oid from pg_catalog.pg_namespace n where n.nspname = ${lit})`;
  return [
    // Deparse template objects unqualified; restored at the end of the same string.
    `select pg_catalog.set_config('pg_cognition.snapshot_saved_search_path', pg_catalog.current_setting('search_path'), true)`,
    `select pg_catalog.set_config('search_path', pg_catalog.quote_ident(${lit}) || ', pg_temp', true)`,
    `select ${ns}::text as ns, pg_catalog.current_setting('server_version_num')::int as server_version_num`,
    // relations
    `select c.oid::text, c.relname, c.relkind, c.relpersistence, c.reloptions, tc.reloptions as toast_options,
       case when c.relkind in ('r', 'p', 'm') and am.amname <> 'heap' then am.amname end as access_method,
       c.relispartition,
       case when c.relispartition then pg_catalog.pg_get_expr(c.relpartbound, c.oid, true) end as partition_bound,
       case when c.relkind = 'p' then pg_catalog.pg_get_partkeydef(c.oid) end as partition_key,
       array(select h.inhparent::text from pg_catalog.pg_inherits h where h.inhrelid = c.oid order by h.inhseqno) as parents,
       c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.reloftype <> 0 as typed, c.relispopulated,
       case when c.relkind in ('v', 'm') then pg_catalog.pg_get_viewdef(c.oid, true) end as view_def,
       c.reltype::text as row_type,
       array(select distinct case when r = 0 then null else pg_catalog.pg_get_userbyid(r)::text end
         from pg_catalog.pg_policy po, unnest(po.polroles) r where po.polrelid = c.oid) as policy_roles,
       ${aclJson('c.relacl', 'c.relowner')}
     from pg_catalog.pg_class c
     left join pg_catalog.pg_class tc on tc.oid = c.reltoastrelid
     left join pg_catalog.pg_am am on am.oid = c.relam
     where c.relnamespace = ${ns} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'c', 'f')
     order by c.oid`,
    // columns (of tables, views, materialized views and composite types)
    `select a.attrelid::text as rel, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
       a.attnotnull, a.attidentity, a.attgenerated,
       case when a.attcollation <> 0 and a.attcollation <> t.typcollation then
         (select pg_catalog.format('%I.%I', cn.nspname, co.collname) from pg_catalog.pg_collation co
          join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace where co.oid = a.attcollation) end as collation,
       ad.oid::text as default_oid, pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as default_expr,
       exists (select from pg_catalog.pg_depend d join pg_catalog.pg_proc p on p.oid = d.refobjid
         where d.classid = 'pg_catalog.pg_attrdef'::regclass and d.objid = ad.oid
           and d.refclassid = 'pg_catalog.pg_proc'::regclass and p.pronamespace = ${ns}) as default_uses_functions,
       exists (select from pg_catalog.pg_depend d join pg_catalog.pg_type dt on dt.oid = d.refobjid
         where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = a.attrelid and d.objsubid = a.attnum
           and d.refclassid = 'pg_catalog.pg_type'::regclass and dt.typnamespace = ${ns}) as template_type,
       nn.conname as not_null_name, nn.conislocal as not_null_local, nn.connoinherit as not_null_no_inherit,
       (select pg_catalog.pg_get_expr(pd.adbin, pd.adrelid, true) from pg_catalog.pg_inherits h
          join pg_catalog.pg_attribute pa on pa.attrelid = h.inhparent and pa.attname = a.attname
          join pg_catalog.pg_attrdef pd on pd.adrelid = pa.attrelid and pd.adnum = pa.attnum
          where h.inhrelid = a.attrelid) as parent_default,
       coalesce((select pa.attnotnull from pg_catalog.pg_inherits h
          join pg_catalog.pg_attribute pa on pa.attrelid = h.inhparent and pa.attname = a.attname
          where h.inhrelid = a.attrelid), false) as parent_not_null,
       ${aclJson('a.attacl', 'c.relowner')}
     from pg_catalog.pg_attribute a
     join pg_catalog.pg_class c on c.oid = a.attrelid
     join pg_catalog.pg_type t on t.oid = a.atttypid
     left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
     left join pg_catalog.pg_constraint nn on nn.conrelid = a.attrelid and nn.contype = 'n' and nn.conkey[1] = a.attnum
     where c.relnamespace = ${ns} and c.relkind in ('r', 'p', 'v', 'm', 'c', 'f') and a.attnum > 0 and not a.attisdropped
     order by a.attrelid, a.attnum`,
    // sequences
    `select c.oid::text, c.relname, pg_catalog.format_type(s.seqtypid, null) as type,
       s.seqstart::text, s.seqincrement::text, s.seqmax::text, s.seqmin::text, s.seqcache::text, s.seqcycle,
       d.refobjid::text as owner_rel, a.attname as owner_col, d.deptype
     from pg_catalog.pg_class c
     join pg_catalog.pg_sequence s on s.seqrelid = c.oid
     left join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
       and d.refclassid = 'pg_catalog.pg_class'::regclass and d.deptype in ('a', 'i')
     left join pg_catalog.pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
     where c.relnamespace = ${ns} and c.relkind = 'S'
     order by c.oid`,
    // constraints of tables and domains
    `select co.oid::text, co.conname, co.contype, co.conrelid::text, co.contypid::text,
       pg_catalog.pg_get_constraintdef(co.oid, true) as def, co.conindid::text, co.conparentid::text,
       co.conislocal, co.coninhcount
     from pg_catalog.pg_constraint co where co.connamespace = ${ns}
     order by co.oid`,
    // indexes
    `select i.indexrelid::text as oid, ic.relname, i.indrelid::text as rel,
       pg_catalog.pg_get_indexdef(i.indexrelid, 0, true) as def,
       (select co.oid::text from pg_catalog.pg_constraint co where co.conindid = i.indexrelid
          and co.conrelid = i.indrelid and co.contype in ('p', 'u', 'x')) as constraint_oid,
       (select h.inhparent::text from pg_catalog.pg_inherits h where h.inhrelid = i.indexrelid) as parent_index,
       i.indisclustered, i.indisreplident
     from pg_catalog.pg_index i join pg_catalog.pg_class ic on ic.oid = i.indexrelid
     where ic.relnamespace = ${ns}
     order by i.indexrelid`,
    // functions and procedures
    `select p.oid::text, p.proname, p.prokind, l.lanname,
       pg_catalog.pg_get_function_arguments(p.oid) as args,
       pg_catalog.pg_get_function_identity_arguments(p.oid) as identity_args,
       case when p.prokind <> 'p' then pg_catalog.pg_get_function_result(p.oid) end as result,
       p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof, p.proparallel, p.procost::float8 as procost,
       p.prorows::float8 as prorows, p.proretset,
       case when p.prosupport <> 0 then p.prosupport::regproc::text end as support,
       p.proconfig, p.prosrc, p.probin,
       case when p.prosqlbody is not null then pg_catalog.pg_get_function_sqlbody(p.oid) end as sqlbody,
       (select d.refobjid::text from pg_catalog.pg_depend d where d.classid = 'pg_catalog.pg_proc'::regclass
          and d.objid = p.oid and d.refclassid = 'pg_catalog.pg_type'::regclass and d.deptype = 'i') as part_of_type,
       ${aclJson('p.proacl', 'p.proowner')}
     from pg_catalog.pg_proc p join pg_catalog.pg_language l on l.oid = p.prolang
     where p.pronamespace = ${ns} and p.prokind in ('f', 'p', 'w')
     order by p.oid`,
    // types (array types and table row types are created with their element / table)
    `select t.oid::text, t.typname, t.typtype, t.typrelid::text,
       (select e.oid::text from pg_catalog.pg_type e where e.typarray = t.oid) as array_of,
       case when t.typtype = 'e' then array(select e.enumlabel::text from pg_catalog.pg_enum e
         where e.enumtypid = t.oid order by e.enumsortorder) end as labels,
       case when t.typtype = 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod) end as base_type,
       case when t.typtype = 'd' and t.typcollation <> 0
         and t.typcollation <> (select b.typcollation from pg_catalog.pg_type b where b.oid = t.typbasetype) then
         (select pg_catalog.format('%I.%I', cn.nspname, co.collname) from pg_catalog.pg_collation co
          join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace where co.oid = t.typcollation) end as collation,
       pg_catalog.pg_get_expr(t.typdefaultbin, 0, true) as default_expr, t.typnotnull,
       pg_catalog.format_type(r.rngsubtype, null) as range_subtype,
       case when r.rngsubopc <> 0 and not oc.opcdefault then pg_catalog.format('%I.%I', ocn.nspname, oc.opcname) end
         as range_opclass,
       case when r.rngcollation <> 0 and r.rngcollation <> (select b.typcollation from pg_catalog.pg_type b
         where b.oid = r.rngsubtype) then (select pg_catalog.format('%I.%I', cn.nspname, co.collname)
           from pg_catalog.pg_collation co join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
           where co.oid = r.rngcollation) end as range_collation,
       case when r.rngcanonical <> 0 then r.rngcanonical::regproc::text end as range_canonical,
       case when r.rngsubdiff <> 0 then r.rngsubdiff::regproc::text end as range_diff,
       (select m.typname from pg_catalog.pg_type m where m.oid = r.rngmultitypid) as range_multirange,
       (select mr.rngtypid::text from pg_catalog.pg_range mr where mr.rngmultitypid = t.oid) as multirange_of,
       ${aclJson('t.typacl', 't.typowner')}
     from pg_catalog.pg_type t
     left join pg_catalog.pg_range r on r.rngtypid = t.oid
     left join pg_catalog.pg_opclass oc on oc.oid = r.rngsubopc
     left join pg_catalog.pg_namespace ocn on ocn.oid = oc.opcnamespace
     where t.typnamespace = ${ns}
     order by t.oid`,
    // triggers (internal ones belong to foreign keys)
    `select tg.oid::text, tg.tgname, tg.tgrelid::text as rel, pg_catalog.pg_get_triggerdef(tg.oid, true) as def,
       tg.tgenabled, nullif(tg.tgparentid, 0)::text as parent_trigger, tg.tgconstraint::text
     from pg_catalog.pg_trigger tg join pg_catalog.pg_class c on c.oid = tg.tgrelid
     where c.relnamespace = ${ns} and not tg.tgisinternal
     order by tg.oid`,
    // policies
    `select po.oid::text, po.polname, po.polrelid::text as rel, po.polcmd, po.polpermissive,
       array(select case when r = 0 then null else pg_catalog.pg_get_userbyid(r)::text end
         from unnest(po.polroles) with ordinality u(r, n) order by n) as roles,
       pg_catalog.pg_get_expr(po.polqual, po.polrelid, true) as using_expr,
       pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid, true) as check_expr
     from pg_catalog.pg_policy po join pg_catalog.pg_class c on c.oid = po.polrelid
     where c.relnamespace = ${ns}
     order by po.oid`,
    // rules other than the ones that make views
    `select rw.oid::text, rw.rulename, rw.ev_class::text as rel, pg_catalog.pg_get_ruledef(rw.oid, true) as def
     from pg_catalog.pg_rewrite rw join pg_catalog.pg_class c on c.oid = rw.ev_class
     where c.relnamespace = ${ns} and rw.rulename <> '_RETURN'
     order by rw.oid`,
    // extended statistics
    `select s.oid::text, s.stxname, s.stxrelid::text as rel,
       pg_catalog.pg_get_statisticsobjdef_columns(s.oid) as columns,
       array(select k::text from unnest(s.stxkind) k where k <> 'e') as kinds,
       pg_catalog.cardinality(s.stxkeys::int2[])
         + coalesce(pg_catalog.cardinality(pg_catalog.pg_get_statisticsobjdef_expressions(s.oid)), 0) as targets
     from pg_catalog.pg_statistic_ext s where s.stxnamespace = ${ns}
     order by s.oid`,
    // comments
    `with ${templateObjectsCte(ns)}
     select d.classoid::regclass::text as class, d.objoid::text, d.objsubid, d.description
     from pg_catalog.pg_description d join objs o on o.classid = d.classoid and o.objid = d.objoid
     order by d.classoid, d.objoid, d.objsubid`,
    // dependencies between template objects
    `with ${templateObjectsCte(ns)}
     select d.classid::regclass::text as class, d.objid::text, d.objsubid,
       d.refclassid::regclass::text as ref_class, d.refobjid::text as ref_objid, d.refobjsubid, d.deptype
     from objs o join pg_catalog.pg_depend d on d.classid = o.classid and d.objid = o.objid
     where exists (select from objs r where r.classid = d.refclassid and r.objid = d.refobjid)`,
    // what the clone cannot copy
    `with ${templateObjectsCte(ns)}
     select 'aggregate' as kind, p.oid::regprocedure::text as name from pg_catalog.pg_proc p
       where p.pronamespace = ${ns} and p.prokind = 'a'
     union all select 'operator', o.oid::regoperator::text from pg_catalog.pg_operator o where o.oprnamespace = ${ns}
     union all select 'operator class', c.opcname from pg_catalog.pg_opclass c where c.opcnamespace = ${ns}
     union all select 'operator family', f.opfname from pg_catalog.pg_opfamily f where f.opfnamespace = ${ns}
     union all select 'collation', c.collname from pg_catalog.pg_collation c where c.collnamespace = ${ns}
     union all select 'conversion', c.conname from pg_catalog.pg_conversion c where c.connamespace = ${ns}
     union all select 'text search configuration', c.cfgname from pg_catalog.pg_ts_config c where c.cfgnamespace = ${ns}
     union all select 'text search dictionary', c.dictname from pg_catalog.pg_ts_dict c where c.dictnamespace = ${ns}
     union all select 'text search parser', c.prsname from pg_catalog.pg_ts_parser c where c.prsnamespace = ${ns}
     union all select 'text search template', c.tmplname from pg_catalog.pg_ts_template c where c.tmplnamespace = ${ns}
     union all select 'foreign table', c.relname from pg_catalog.pg_class c where c.relnamespace = ${ns} and c.relkind = 'f'
     union all select 'typed table', c.relname from pg_catalog.pg_class c where c.relnamespace = ${ns} and c.reloftype <> 0
     union all select 'table inheritance', c.relname from pg_catalog.pg_class c
       where c.relnamespace = ${ns} and not c.relispartition and c.relkind in ('r', 'p')
         and exists (select from pg_catalog.pg_inherits h where h.inhrelid = c.oid)
     union all select 'base or shell type', t.typname from pg_catalog.pg_type t
       where t.typnamespace = ${ns} and (t.typtype = 'p' or (t.typtype = 'b' and not exists
         (select from pg_catalog.pg_type e where e.typarray = t.oid)))
     union all select 'extension member', pg_catalog.pg_describe_object(d.classid, d.objid, 0)
       from objs o join pg_catalog.pg_depend d on d.classid = o.classid and d.objid = o.objid and d.deptype = 'e'`,
    `select pg_catalog.set_config('search_path', pg_catalog.current_setting('pg_cognition.snapshot_saved_search_path'), true)`,
  ];
}

interface CatalogReads {
  serverVersionNum: number;
  relations: RelationRow[];
  columns: ColumnRow[];
  sequences: SequenceRow[];
  constraints: ConstraintRow[];
  indexes: IndexRow[];
  functions: FunctionRow[];
  types: TypeRow[];
  triggers: TriggerRow[];
  policies: PolicyRow[];
  rules: RuleRow[];
  statistics: StatisticsRow[];
  comments: CommentRow[];
  depends: DependRow[];
  unsupported: UnsupportedRow[];
}

async function readCatalog(client: pg.ClientBase, templateSchema: string): Promise<CatalogReads> {
  const statements = snapshotSql(templateSchema);
  const results = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
  if (!Array.isArray(results) || results.length !== statements.length) {
    throw new CognitionError('ERR_CLONE_FAILED', 'unexpected reply to the template catalog query', {
      safe: false,
    });
  }
  const rows = <T>(i: number): T[] => results[i]?.rows as T[];
  const head = rows<{ ns: string | null; server_version_num: number }>(2)[0];
  if (!head || head.ns === null) {
    throw new CognitionError('ERR_TEMPLATE_MISSING', `the template schema ${templateSchema} does not exist`);
  }
  return {
    serverVersionNum: head.server_version_num,
    relations: rows(3),
    columns: rows(4),
    sequences: rows(5),
    constraints: rows(6),
    indexes: rows(7),
    functions: rows(8),
    types: rows(9),
    triggers: rows(10),
    policies: rows(11),
    rules: rows(12),
    statistics: rows(13),
    comments: rows(14),
    depends: rows(15),
    unsupported: rows(16),
  };
}

// ---------------------------------------------------------------------------------------------
// Building statements

interface Node {
  id: string;
  kind: ObjectKind;
  label: string;
  order: number;
  deps: Set<string>;
  sql: SqlChunk[][];
  copyDataOnly: boolean;
}

/** Reads the template's catalog and returns the statements that recreate it in another schema. */
export async function takeSnapshot(
  client: pg.ClientBase,
  templateSchema = 'tenant_template',
): Promise<TemplateSnapshot> {
  // Read first: a change that lands between the two reads only makes the snapshot look stale.
  const fingerprint = await templateFingerprint(client, templateSchema);
  const catalog = await readCatalog(client, templateSchema);
  return buildSnapshot(catalog, templateSchema, fingerprint);
}

function buildSnapshot(catalog: CatalogReads, templateSchema: string, fingerprint: string): TemplateSnapshot {
  if (catalog.unsupported.length > 0) {
    const list = catalog.unsupported.map((u) => `${u.kind} ${u.name}`).join(', ');
    throw new CognitionError(
      'ERR_CLONE_FAILED',
      `the template ${templateSchema} holds objects the clone cannot copy: ${list}`,
      { details: { unsupported: catalog.unsupported } },
    );
  }
  const pg18 = catalog.serverVersionNum >= 180000;
  const warnings: string[] = [];
  const nodes = new Map<string, Node>();
  /** `catalog:oid` of every template object -> the node that creates it. */
  const owner = new Map<string, string>();
  let order = 0;

  const add = (
    id: string,
    kind: ObjectKind,
    label: string,
    sql: SqlChunk[][],
    deps: Iterable<string> = [],
    copyDataOnly = false,
  ): Node => {
    const node: Node = { id, kind, label, order: order++, deps: new Set(deps), sql, copyDataOnly };
    nodes.set(id, node);
    return node;
  };
  const own = (catalogName: string, oid: string, nodeId: string) =>
    owner.set(`${catalogName}:${oid}`, nodeId);

  const rels = new Map(catalog.relations.map((r) => [r.oid, r]));
  const relName = (oid: string): string => {
    const rel = rels.get(oid);
    if (!rel)
      throw new CognitionError('ERR_CLONE_FAILED', `relation ${oid} is not in the template`, { safe: false });
    return rel.relname;
  };
  const columnsOf = new Map<string, ColumnRow[]>();
  for (const col of catalog.columns) {
    const list = columnsOf.get(col.rel) ?? [];
    list.push(col);
    columnsOf.set(col.rel, list);
  }
  const functions = new Map(catalog.functions.map((f) => [f.oid, f]));
  const types = new Map(catalog.types.map((t) => [t.oid, t]));
  const constraints = new Map(catalog.constraints.map((c) => [c.oid, c]));
  const indexes = new Map(catalog.indexes.map((i) => [i.oid, i]));
  const triggers = new Map(catalog.triggers.map((t) => [t.oid, t]));
  const seqByOid = new Map(catalog.sequences.map((s) => [s.oid, s]));
  const identitySeq = new Map<string, SequenceRow>(); // `${rel}.${column}` -> sequence
  for (const seq of catalog.sequences) {
    if (seq.deptype === 'i' && seq.owner_rel && seq.owner_col)
      identitySeq.set(`${seq.owner_rel}.${seq.owner_col}`, seq);
  }
  const tableNode = (relOid: string) => `rel:${relOid}`;
  const dataNode = (relOid: string) => `data:${relOid}`;

  // Types ----------------------------------------------------------------------------------
  const typeName = (t: TypeRow) => ident(t.typname);
  for (const t of catalog.types) {
    if (t.array_of || t.multirange_of) continue; // created with their element / range type
    if (t.typtype === 'c') {
      const rel = rels.get(t.typrelid);
      if (!rel || rel.relkind !== 'c') continue; // a table's row type
      const attrs = (columnsOf.get(rel.oid) ?? []).map(
        (c) => `${ident(c.attname)} ${c.type}${c.collation ? ` collate ${c.collation}` : ''}`,
      );
      add(`type:${t.oid}`, 'type', t.typname, [[`create type ${typeName(t)} as (${attrs.join(', ')})`]]);
      own('pg_class', rel.oid, `type:${t.oid}`);
    } else if (t.typtype === 'e') {
      const labels = (t.labels ?? []).map(literal).join(', ');
      add(`type:${t.oid}`, 'type', t.typname, [[`create type ${typeName(t)} as enum (${labels})`]]);
    } else if (t.typtype === 'd') {
      const sql: SqlChunk[][] = [
        [
          `create domain ${typeName(t)} as ${t.base_type ?? 'text'}` +
            (t.collation ? ` collate ${t.collation}` : '') +
            (t.default_expr !== null ? ` default ${t.default_expr}` : ''),
        ],
      ];
      let hasNotNullConstraint = false;
      for (const co of catalog.constraints) {
        if (co.contypid !== t.oid) continue;
        if (co.contype === 'n') hasNotNullConstraint = true;
        sql.push([`alter domain ${typeName(t)} add constraint ${ident(co.conname)} ${co.def}`]);
        own('pg_constraint', co.oid, `type:${t.oid}`);
      }
      if (t.typnotnull && !hasNotNullConstraint) sql.push([`alter domain ${typeName(t)} set not null`]);
      add(`type:${t.oid}`, 'type', t.typname, sql);
    } else if (t.typtype === 'r') {
      if (t.range_canonical) {
        throw new CognitionError(
          'ERR_CLONE_FAILED',
          `the range type ${t.typname} has a canonical function, which the clone cannot copy`,
        );
      }
      const parts = [`subtype = ${t.range_subtype ?? ''}`];
      if (t.range_opclass) parts.push(`subtype_opclass = ${t.range_opclass}`);
      if (t.range_collation) parts.push(`collation = ${t.range_collation}`);
      if (t.range_diff) parts.push(`subtype_diff = ${t.range_diff}`);
      if (t.range_multirange) parts.push(`multirange_type_name = ${ident(t.range_multirange)}`);
      add(`type:${t.oid}`, 'type', t.typname, [
        [`create type ${typeName(t)} as range (${parts.join(', ')})`],
      ]);
    }
  }
  // Row types, array types and multiranges belong to the node of what they are made from.
  const typeOwner = (oid: string): string | undefined => {
    const t = types.get(oid);
    if (!t) return undefined;
    if (t.array_of) return typeOwner(t.array_of);
    if (t.multirange_of) return typeOwner(t.multirange_of);
    const rel = t.typtype === 'c' ? rels.get(t.typrelid) : undefined;
    if (rel && rel.relkind !== 'c') return tableNode(rel.oid);
    return nodes.has(`type:${t.oid}`) ? `type:${t.oid}` : undefined;
  };
  for (const t of catalog.types) {
    const nodeId = typeOwner(t.oid);
    if (nodeId) own('pg_type', t.oid, nodeId);
  }

  // Sequences ------------------------------------------------------------------------------
  const seqOptions = (s: SequenceRow, withType: boolean): string =>
    (withType ? `as ${s.type} ` : '') +
    `increment by ${s.seqincrement} minvalue ${s.seqmin} maxvalue ${s.seqmax} start with ${s.seqstart} ` +
    `cache ${s.seqcache} ${s.seqcycle ? 'cycle' : 'no cycle'}`;
  const templateQualified = (name: string) => `${ident(templateSchema)}.${ident(name)}`;
  for (const s of catalog.sequences) {
    const rel = rels.get(s.oid);
    const isIdentity = s.deptype === 'i' && s.owner_rel !== null;
    if (!isIdentity) {
      const unlogged = rel?.relpersistence === 'u' ? 'unlogged ' : '';
      add(`rel:${s.oid}`, 'sequence', s.relname, [
        [`create ${unlogged}sequence ${ident(s.relname)} ${seqOptions(s, true)}`],
      ]);
      own('pg_class', s.oid, `rel:${s.oid}`);
    } else if (s.owner_rel) {
      own('pg_class', s.oid, tableNode(s.owner_rel));
    }
    // The value is read from the template when the clone runs, not when the snapshot is taken.
    add(
      `seqval:${s.oid}`,
      'sequence value',
      s.relname,
      [
        [
          `select pg_catalog.setval(${literal(ident(s.relname))}, s.last_value, s.is_called) from ${templateQualified(s.relname)} s`,
        ],
      ],
      [isIdentity && s.owner_rel ? tableNode(s.owner_rel) : `rel:${s.oid}`],
    );
    if (s.deptype === 'a' && s.owner_rel && s.owner_col) {
      add(
        `ownedby:${s.oid}`,
        'owned by',
        s.relname,
        [
          [
            `alter sequence ${ident(s.relname)} owned by ${ident(relName(s.owner_rel))}.${ident(s.owner_col)}`,
          ],
        ],
        [`rel:${s.oid}`, tableNode(s.owner_rel)],
      );
    }
  }

  // Functions and procedures ---------------------------------------------------------------
  const routineRef = (f: FunctionRow) =>
    `${f.prokind === 'p' ? 'procedure' : 'function'} ${ident(f.proname)}(${f.identity_args})`;
  for (const f of catalog.functions) {
    if (f.part_of_type) {
      own('pg_proc', f.oid, `type:${f.part_of_type}`);
      continue;
    }
    const sql: SqlChunk[] = [];
    const isProcedure = f.prokind === 'p';
    sql.push(`create ${isProcedure ? 'procedure' : 'function'} ${ident(f.proname)}(${f.args})`);
    if (!isProcedure) sql.push(` returns ${f.result ?? 'void'}`);
    sql.push(`\n language ${ident(f.lanname)}`);
    if (f.prokind === 'w') sql.push(' window');
    if (!isProcedure) {
      sql.push(f.provolatile === 'i' ? ' immutable' : f.provolatile === 's' ? ' stable' : ' volatile');
      if (f.proisstrict) sql.push(' strict');
    }
    if (f.prosecdef) sql.push(' security definer');
    if (!isProcedure) {
      if (f.proleakproof) sql.push(' leakproof');
      sql.push(
        f.proparallel === 's' ? ' parallel safe' : f.proparallel === 'r' ? ' parallel restricted' : '',
      );
      sql.push(` cost ${f.procost}`);
      if (f.proretset) sql.push(` rows ${f.prorows}`);
      if (f.support) sql.push(` support ${f.support}`);
    }
    for (const item of f.proconfig ?? []) sql.push(...configClause(item, templateSchema));
    if (f.sqlbody !== null) {
      sql.push(`\n${f.sqlbody}`);
    } else if (f.lanname === 'c') {
      sql.push(`\n as ${literal(f.probin ?? '')}, ${literal(f.prosrc)}`);
    } else if (f.lanname === 'internal') {
      sql.push(`\n as ${literal(f.prosrc)}`);
    } else {
      sql.push(`\n as ${dollarQuote(f.prosrc)}`);
      if (mentionsSchema(f.prosrc, templateSchema)) {
        warnings.push(
          `the body of ${f.proname}(${f.identity_args}) names the schema ${templateSchema}; ` +
            'the copy keeps that text as it is (use unqualified names and set search_path instead)',
        );
      }
    }
    const kind: ObjectKind = isProcedure ? 'procedure' : 'function';
    add(`fn:${f.oid}`, kind, `${f.proname}(${f.identity_args})`, [sql]);
    own('pg_proc', f.oid, `fn:${f.oid}`);
  }

  // Tables ---------------------------------------------------------------------------------
  const notNullClause = (c: ColumnRow): string => {
    if (!c.attnotnull) return '';
    if (pg18 && c.not_null_name)
      return ` constraint ${ident(c.not_null_name)} not null${c.not_null_no_inherit ? ' no inherit' : ''}`;
    return ' not null';
  };
  for (const rel of catalog.relations) {
    if (rel.relkind !== 'r' && rel.relkind !== 'p') continue;
    const id = tableNode(rel.oid);
    own('pg_class', rel.oid, id);
    const name = ident(rel.relname);
    const cols = columnsOf.get(rel.oid) ?? [];
    const persistence = rel.relpersistence === 'u' ? 'unlogged ' : '';
    const withOptions = relOptions(rel.reloptions, rel.toast_options);
    const tail =
      (rel.partition_key ? ` partition by ${rel.partition_key}` : '') +
      (rel.access_method ? ` using ${ident(rel.access_method)}` : '') +
      (withOptions ? ` with (${withOptions})` : '');
    const statements: SqlChunk[][] = [];
    const parentOid = rel.parents[0];
    if (rel.relispartition && parentOid) {
      statements.push([
        `create ${persistence}table ${name} partition of ${ident(relName(parentOid))} ${rel.partition_bound ?? 'default'}${tail}`,
      ]);
      // What the partition holds of its own: defaults and NOT NULL that the parent lacks.
      for (const c of cols) {
        if (c.attgenerated === '' && c.default_expr !== c.parent_default) {
          statements.push([
            `alter table only ${name} alter column ${ident(c.attname)} ` +
              (c.default_expr === null ? 'drop default' : `set default ${c.default_expr}`),
          ]);
        }
        if (c.default_oid) own('pg_attrdef', c.default_oid, id);
        if (c.attnotnull && !c.parent_not_null) {
          statements.push([
            pg18 && c.not_null_name
              ? `alter table only ${name} add constraint ${ident(c.not_null_name)} not null ${ident(c.attname)}`
              : `alter table only ${name} alter column ${ident(c.attname)} set not null`,
          ]);
        }
      }
    } else {
      const defs: string[] = [];
      for (const c of cols) {
        let def = `${ident(c.attname)} ${c.type}`;
        if (c.collation) def += ` collate ${c.collation}`;
        def += notNullClause(c);
        if (c.attidentity) {
          const seq = identitySeq.get(`${rel.oid}.${c.attname}`);
          def += ` generated ${c.attidentity === 'a' ? 'always' : 'by default'} as identity`;
          if (seq) def += ` (sequence name ${ident(seq.relname)} ${seqOptions(seq, false)})`;
        } else if (c.attgenerated && c.default_expr !== null) {
          def += ` generated always as (${c.default_expr}) ${c.attgenerated === 'v' ? 'virtual' : 'stored'}`;
          if (c.default_oid) own('pg_attrdef', c.default_oid, id);
        } else if (c.default_expr !== null && c.default_oid) {
          if (c.default_uses_functions) {
            // A default that calls a template function is set after the table, so that a
            // function that takes the table's row type can be created in between.
            add(
              `def:${c.default_oid}`,
              'default',
              `${rel.relname}.${c.attname}`,
              [[`alter table only ${name} alter column ${ident(c.attname)} set default ${c.default_expr}`]],
              [id],
            );
            own('pg_attrdef', c.default_oid, `def:${c.default_oid}`);
          } else {
            def += ` default ${c.default_expr}`;
            own('pg_attrdef', c.default_oid, id);
          }
        }
        defs.push(def);
      }
      statements.unshift([`create ${persistence}table ${name} (\n  ${defs.join(',\n  ')}\n)${tail}`]);
    }
    add(id, 'table', rel.relname, statements, parentOid ? [tableNode(parentOid)] : []);
    const rowType = types.get(rel.row_type);
    if (rowType) own('pg_type', rowType.oid, id);

    if (rel.relkind === 'r') {
      const insertable = cols.filter((c) => c.attgenerated === '');
      if (insertable.length > 0) {
        const list = insertable.map((c) => ident(c.attname)).join(', ');
        // A value of a template type (enum, composite, range, domain) becomes the tenant's
        // type of the same name through its text form.
        const values = insertable
          .map((c) => (c.template_type ? `${ident(c.attname)}::text::${c.type}` : ident(c.attname)))
          .join(', ');
        add(
          dataNode(rel.oid),
          'data',
          rel.relname,
          [
            [
              `insert into ${name} (${list}) overriding system value select ${values} from only ${templateQualified(rel.relname)}`,
            ],
          ],
          [id],
          true,
        );
      }
      if (rel.relforcerowsecurity && !rel.policy_roles.some((r) => r === null || r === 'cognition_owner')) {
        warnings.push(
          `${rel.relname} forces row-level security and has no policy for cognition_owner or PUBLIC: ` +
            'with copyData its rows are not copied',
        );
      }
    }
    if (rel.relrowsecurity || rel.relforcerowsecurity) {
      const sql: SqlChunk[][] = [];
      if (rel.relrowsecurity) sql.push([`alter table ${name} enable row level security`]);
      if (rel.relforcerowsecurity) sql.push([`alter table ${name} force row level security`]);
      add(`rls:${rel.oid}`, 'row security', rel.relname, sql, [id]);
    }
  }

  // Views and materialized views -------------------------------------------------------------
  for (const rel of catalog.relations) {
    if (rel.relkind !== 'v' && rel.relkind !== 'm') continue;
    const id = tableNode(rel.oid);
    own('pg_class', rel.oid, id);
    const rowType = types.get(rel.row_type);
    if (rowType) own('pg_type', rowType.oid, id);
    const withOptions = relOptions(rel.reloptions, null);
    const body = (rel.view_def ?? '').trim().replace(/;$/, '');
    if (rel.relkind === 'v') {
      add(id, 'view', rel.relname, [
        [`create view ${ident(rel.relname)}${withOptions ? ` with (${withOptions})` : ''} as\n${body}`],
      ]);
    } else {
      const am = rel.access_method ? ` using ${ident(rel.access_method)}` : '';
      add(id, 'materialized view', rel.relname, [
        [
          `create materialized view ${ident(rel.relname)}${am}${withOptions ? ` with (${withOptions})` : ''} as\n${body}\n` +
            (rel.relispopulated ? 'with data' : 'with no data'),
        ],
      ]);
    }
    for (const c of columnsOf.get(rel.oid) ?? []) {
      if (c.default_oid && c.default_expr !== null) {
        add(
          `def:${c.default_oid}`,
          'default',
          `${rel.relname}.${c.attname}`,
          [
            [
              `alter view ${ident(rel.relname)} alter column ${ident(c.attname)} set default ${c.default_expr}`,
            ],
          ],
          [id],
        );
        own('pg_attrdef', c.default_oid, `def:${c.default_oid}`);
      }
    }
  }

  // Constraints ----------------------------------------------------------------------------
  const isPartitioned = (relOid: string) => rels.get(relOid)?.relkind === 'p';
  for (const co of catalog.constraints) {
    if (co.conrelid === '0') continue; // domain constraints are part of the domain
    const table = ident(relName(co.conrelid));
    if (co.contype === 'n') {
      own('pg_constraint', co.oid, tableNode(co.conrelid));
      continue;
    }
    if (co.contype === 't') continue; // constraint triggers are created as triggers
    const id = `con:${co.oid}`;
    own('pg_constraint', co.oid, id);
    if (co.contype === 'c' && !co.conislocal) {
      // Inherited from the partitioned parent, whose ALTER TABLE adds it here too.
      continue;
    }
    if (co.contype === 'f' && co.conparentid !== '0') continue; // cloned from the parent's foreign key
    if (co.contype === 'c' && co.coninhcount > 0) continue;
    const only = (co.contype === 'c' || co.contype === 'f') && isPartitioned(co.conrelid) ? '' : 'only ';
    add(
      id,
      co.contype === 'f' ? 'foreign key' : 'constraint',
      `${relName(co.conrelid)}.${co.conname}`,
      [[`alter table ${only}${table} add constraint ${ident(co.conname)} ${co.def}`]],
      [tableNode(co.conrelid)],
    );
  }
  // Cloned constraints (inherited checks, partitions' foreign keys) belong to their parent's node.
  for (const co of catalog.constraints) {
    if (co.conparentid !== '0' && !nodes.has(`con:${co.oid}`)) {
      own('pg_constraint', co.oid, owner.get(`pg_constraint:${co.conparentid}`) ?? tableNode(co.conrelid));
    } else if (co.contype === 'c' && co.conrelid !== '0' && !nodes.has(`con:${co.oid}`)) {
      own('pg_constraint', co.oid, tableNode(co.conrelid));
    }
  }

  // Indexes --------------------------------------------------------------------------------
  for (const ix of catalog.indexes) {
    const table = ident(relName(ix.rel));
    let id: string;
    if (ix.constraint_oid) {
      id = `con:${ix.constraint_oid}`;
    } else {
      id = `idx:${ix.oid}`;
      add(id, 'index', ix.relname, [[ix.def]], [tableNode(ix.rel)]);
    }
    own('pg_class', ix.oid, id);
    const node = nodes.get(id);
    if (node && ix.indisclustered)
      node.sql.push([`alter table only ${table} cluster on ${ident(ix.relname)}`]);
    if (ix.indisreplident) {
      add(
        `replident:${ix.rel}`,
        'replica identity',
        relName(ix.rel),
        [[`alter table only ${table} replica identity using index ${ident(ix.relname)}`]],
        [id],
      );
    }
  }
  for (const ix of catalog.indexes) {
    if (!ix.parent_index) continue;
    const parent = indexes.get(ix.parent_index);
    if (!parent) continue;
    add(
      `attach:${ix.oid}`,
      'index attach',
      `${parent.relname} <- ${ix.relname}`,
      [[`alter index ${ident(parent.relname)} attach partition ${ident(ix.relname)}`]],
      [owner.get(`pg_class:${parent.oid}`) ?? '', owner.get(`pg_class:${ix.oid}`) ?? ''],
    );
  }
  for (const rel of catalog.relations) {
    if (
      (rel.relkind === 'r' || rel.relkind === 'p' || rel.relkind === 'm') &&
      (rel.relreplident === 'f' || rel.relreplident === 'n')
    ) {
      add(
        `replident:${rel.oid}`,
        'replica identity',
        rel.relname,
        [
          [
            `alter table only ${ident(rel.relname)} replica identity ${rel.relreplident === 'f' ? 'full' : 'nothing'}`,
          ],
        ],
        [tableNode(rel.oid)],
      );
    }
  }

  // Extended statistics, rules ---------------------------------------------------------------
  // pg_get_statisticsobjdef always qualifies the statistics object's name: built from parts.
  const statKinds: Record<string, string> = { d: 'ndistinct', f: 'dependencies', m: 'mcv' };
  for (const st of catalog.statistics) {
    const kinds = st.kinds.map((k) => statKinds[k]).filter((k): k is string => k !== undefined);
    const kindList = st.targets > 1 && kinds.length > 0 ? ` (${kinds.join(', ')})` : '';
    const sql = `create statistics ${ident(st.stxname)}${kindList} on ${st.columns} from ${ident(relName(st.rel))}`;
    add(`stx:${st.oid}`, 'statistics', st.stxname, [[sql]], [tableNode(st.rel)]);
    own('pg_statistic_ext', st.oid, `stx:${st.oid}`);
  }
  for (const ru of catalog.rules) {
    add(
      `rule:${ru.oid}`,
      'rule',
      `${relName(ru.rel)}.${ru.rulename}`,
      [[ru.def.trim().replace(/;$/, '')]],
      [tableNode(ru.rel)],
    );
    own('pg_rewrite', ru.oid, `rule:${ru.oid}`);
  }

  // Triggers -------------------------------------------------------------------------------
  for (const tg of catalog.triggers) {
    if (tg.parent_trigger) continue; // cloned to partitions by the parent's trigger
    const table = ident(relName(tg.rel));
    const sql: SqlChunk[][] = [[tg.def]];
    const state: Record<string, string> = {
      D: 'disable trigger',
      R: 'enable replica trigger',
      A: 'enable always trigger',
    };
    const change = state[tg.tgenabled];
    if (change) sql.push([`alter table ${table} ${change} ${ident(tg.tgname)}`]);
    add(`trg:${tg.oid}`, 'trigger', `${relName(tg.rel)}.${tg.tgname}`, sql, [tableNode(tg.rel)]);
    own('pg_trigger', tg.oid, `trg:${tg.oid}`);
    if (tg.tgconstraint !== '0') own('pg_constraint', tg.tgconstraint, `trg:${tg.oid}`);
  }
  for (const tg of catalog.triggers) {
    if (tg.parent_trigger)
      own('pg_trigger', tg.oid, owner.get(`pg_trigger:${tg.parent_trigger}`) ?? tableNode(tg.rel));
  }

  // Policies -------------------------------------------------------------------------------
  const commands: Record<string, string> = { r: 'select', a: 'insert', w: 'update', d: 'delete', '*': 'all' };
  for (const po of catalog.policies) {
    const sql: SqlChunk[] = [
      `create policy ${ident(po.polname)} on ${ident(relName(po.rel))} as ${po.polpermissive ? 'permissive' : 'restrictive'}` +
        ` for ${commands[po.polcmd] ?? 'all'} to `,
    ];
    po.roles.forEach((role, i) => {
      if (i > 0) sql.push(', ');
      sql.push({ role });
    });
    if (po.using_expr !== null) sql.push(` using (${po.using_expr})`);
    if (po.check_expr !== null) sql.push(` with check (${po.check_expr})`);
    add(`pol:${po.oid}`, 'policy', `${relName(po.rel)}.${po.polname}`, [sql], [tableNode(po.rel)]);
    own('pg_policy', po.oid, `pol:${po.oid}`);
  }

  // The _RETURN rules of views are the views.
  // (Their dependencies point at what the view reads.)
  const viewRules = new Set<string>();
  for (const dep of catalog.depends) {
    if (dep.class === 'pg_rewrite' && dep.ref_class === 'pg_class' && dep.deptype === 'i') {
      const rel = rels.get(dep.ref_objid);
      if (rel && (rel.relkind === 'v' || rel.relkind === 'm')) {
        own('pg_rewrite', dep.objid, tableNode(rel.oid));
        viewRules.add(dep.objid);
      }
    }
  }

  // Dependencies from pg_depend --------------------------------------------------------------
  for (const dep of catalog.depends) {
    const from = owner.get(`${dep.class}:${dep.objid}`);
    const to = owner.get(`${dep.ref_class}:${dep.ref_objid}`);
    if (!from || !to || from === to) continue;
    // A sequence OWNED BY a column depends on the table, but the table's default needs the
    // sequence first: OWNED BY is its own statement, after both.
    if (dep.class === 'pg_class' && dep.deptype === 'a' && seqByOid.has(dep.objid)) continue;
    nodes.get(from)?.deps.add(to);
  }

  // Data goes in after the tables and before everything that would check, index, fire on or
  // filter it; foreign-key-safe order besides; materialized views are built from it.
  const dataNodes = [...nodes.values()].filter((n) => n.kind === 'data');
  for (const co of catalog.constraints) {
    if (co.contype !== 'f') continue;
    const referenced = indexes.get(co.conindid)?.rel;
    const fromData = nodes.get(dataNode(co.conrelid));
    if (fromData && referenced && referenced !== co.conrelid) {
      for (const leaf of leavesOf(referenced, catalog.relations)) {
        if (nodes.has(dataNode(leaf))) fromData.deps.add(dataNode(leaf));
      }
    }
  }
  const relOfNode = (n: Node): string | undefined => {
    if (n.kind === 'constraint' || n.kind === 'foreign key') return constraints.get(n.id.slice(4))?.conrelid;
    if (n.kind === 'index') return indexes.get(n.id.slice(4))?.rel;
    if (n.kind === 'trigger') return triggers.get(n.id.slice(4))?.rel;
    if (n.kind === 'row security') return n.id.slice(4);
    if (n.kind === 'statistics') return catalog.statistics.find((s) => `stx:${s.oid}` === n.id)?.rel;
    return undefined;
  };
  for (const n of nodes.values()) {
    const rel = relOfNode(n);
    if (rel) {
      for (const leaf of leavesOf(rel, catalog.relations))
        if (nodes.has(dataNode(leaf))) n.deps.add(dataNode(leaf));
    }
    if (n.kind === 'materialized view') for (const d of dataNodes) n.deps.add(d.id);
    if (n.kind === 'policy') {
      const po = catalog.policies.find((p) => `pol:${p.oid}` === n.id);
      if (po)
        for (const leaf of leavesOf(po.rel, catalog.relations))
          if (nodes.has(dataNode(leaf))) n.deps.add(dataNode(leaf));
    }
  }

  // Comments -------------------------------------------------------------------------------
  for (const cm of catalog.comments) {
    const target = commentTarget(cm, {
      rels,
      columnsOf,
      functions,
      types,
      constraints,
      triggers,
      catalog,
      routineRef,
      relName,
    });
    if (!target) continue;
    const dep = owner.get(`${cm.class}:${cm.objoid}`);
    add(
      `comment:${cm.class}:${cm.objoid}:${cm.objsubid}`,
      'comment',
      target,
      [[`comment on ${target} is ${literal(cm.description)}`]],
      dep ? [dep] : [],
    );
  }

  // Grants ---------------------------------------------------------------------------------
  const grantNodes = (
    id: string,
    label: string,
    objectClause: string,
    acl: AclEntry[],
    deps: string[],
    revokePublic: boolean,
  ) => {
    const sql: SqlChunk[][] = [];
    if (revokePublic) sql.push([`revoke all on ${objectClause} from public`]);
    for (const { grantee, grantable, privileges } of groupAcl(acl)) {
      sql.push([
        `grant ${privileges.join(', ')} on ${objectClause} to `,
        { role: grantee },
        grantable ? ' with grant option' : '',
      ]);
    }
    if (sql.length > 0) add(id, 'grant', label, sql, deps);
  };
  for (const rel of catalog.relations) {
    if (!rel.has_acl || rel.relkind === 'c') continue;
    const clause = rel.relkind === 'S' ? `sequence ${ident(rel.relname)}` : `table ${ident(rel.relname)}`;
    const dep = owner.get(`pg_class:${rel.oid}`);
    grantNodes(`grant:${rel.oid}`, rel.relname, clause, rel.acl, dep ? [dep] : [], false);
  }
  for (const col of catalog.columns) {
    if (!col.has_acl) continue;
    const rel = rels.get(col.rel);
    if (!rel || rel.relkind === 'c') continue;
    const sql: SqlChunk[][] = [];
    for (const { grantee, grantable, privileges } of groupAcl(col.acl)) {
      const privs = privileges.map((p) => `${p} (${ident(col.attname)})`).join(', ');
      sql.push([
        `grant ${privs} on table ${ident(rel.relname)} to `,
        { role: grantee },
        grantable ? ' with grant option' : '',
      ]);
    }
    const dep = owner.get(`pg_class:${rel.oid}`);
    if (sql.length > 0)
      add(`grant:${col.rel}.${col.attnum}`, 'grant', `${rel.relname}.${col.attname}`, sql, dep ? [dep] : []);
  }
  for (const f of catalog.functions) {
    if (f.has_acl) grantNodes(`grant:fn:${f.oid}`, f.proname, routineRef(f), f.acl, [`fn:${f.oid}`], true);
  }
  for (const t of catalog.types) {
    const dep = nodes.has(`type:${t.oid}`) ? `type:${t.oid}` : undefined;
    if (!t.has_acl || !dep) continue;
    const clause = `${t.typtype === 'd' ? 'domain' : 'type'} ${ident(t.typname)}`;
    grantNodes(`grant:type:${t.oid}`, t.typname, clause, t.acl, [dep], true);
  }

  const statements = sortNodes(nodes).map<SnapshotStatement>((n) => ({
    kind: n.kind,
    label: n.label,
    sql: joinStatements(n.sql),
    ...(n.copyDataOnly ? { copyDataOnly: true } : {}),
  }));
  const counts: Partial<Record<ObjectKind, number>> = {};
  for (const n of nodes.values()) counts[n.kind] = (counts[n.kind] ?? 0) + 1;

  return {
    version: 1,
    templateSchema,
    fingerprint,
    serverVersionNum: catalog.serverVersionNum,
    takenAt: new Date().toISOString(),
    statements,
    counts,
    warnings,
  };
}

/** The leaf partitions of a table (the table itself when it is not partitioned). */
function leavesOf(relOid: string, relations: RelationRow[]): string[] {
  const rel = relations.find((r) => r.oid === relOid);
  if (!rel || rel.relkind !== 'p') return [relOid];
  return relations
    .filter((r) => r.parents[0] === relOid && r.relispartition)
    .flatMap((r) => leavesOf(r.oid, relations));
}

function joinStatements(statements: SqlChunk[][]): SqlChunk[] {
  const out: SqlChunk[] = [];
  statements.forEach((s, i) => {
    if (i > 0) out.push(';\n');
    out.push(...s);
  });
  return out;
}

function groupAcl(acl: AclEntry[]): { grantee: string | null; grantable: boolean; privileges: string[] }[] {
  const groups = new Map<string, { grantee: string | null; grantable: boolean; privileges: string[] }>();
  for (const entry of acl) {
    if (!PRIVILEGES.has(entry.privilege)) {
      throw new CognitionError(
        'ERR_CLONE_FAILED',
        `unknown privilege ${entry.privilege} in a template grant`,
        {
          safe: false,
        },
      );
    }
    const key = `${entry.grantee ?? ''}\u0000${entry.grantable}`;
    const group = groups.get(key) ?? { grantee: entry.grantee, grantable: entry.grantable, privileges: [] };
    group.privileges.push(entry.privilege.toLowerCase());
    groups.set(key, group);
  }
  return [...groups.values()];
}

interface CommentContext {
  rels: Map<string, RelationRow>;
  columnsOf: Map<string, ColumnRow[]>;
  functions: Map<string, FunctionRow>;
  types: Map<string, TypeRow>;
  constraints: Map<string, ConstraintRow>;
  triggers: Map<string, TriggerRow>;
  catalog: CatalogReads;
  routineRef: (f: FunctionRow) => string;
  relName: (oid: string) => string;
}

/** `table "x"`, `column "x"."y"`, `function "f"(integer)`, ...: what COMMENT ON needs. */
function commentTarget(cm: CommentRow, ctx: CommentContext): string | undefined {
  switch (cm.class) {
    case 'pg_class': {
      const rel = ctx.rels.get(cm.objoid);
      const index = ctx.catalog.indexes.find((i) => i.oid === cm.objoid);
      if (index) return `index ${ident(index.relname)}`;
      if (!rel) return undefined;
      if (cm.objsubid > 0) {
        const col = ctx.columnsOf.get(rel.oid)?.find((c) => c.attnum === cm.objsubid);
        return col ? `column ${ident(rel.relname)}.${ident(col.attname)}` : undefined;
      }
      const kinds: Record<string, string> = {
        r: 'table',
        p: 'table',
        v: 'view',
        m: 'materialized view',
        S: 'sequence',
        c: 'type',
      };
      const kind = kinds[rel.relkind];
      return kind ? `${kind} ${ident(rel.relname)}` : undefined;
    }
    case 'pg_proc': {
      const f = ctx.functions.get(cm.objoid);
      return f ? ctx.routineRef(f) : undefined;
    }
    case 'pg_type': {
      const t = ctx.types.get(cm.objoid);
      if (!t) return undefined;
      return `${t.typtype === 'd' ? 'domain' : 'type'} ${ident(t.typname)}`;
    }
    case 'pg_constraint': {
      const co = ctx.constraints.get(cm.objoid);
      if (!co) return undefined;
      if (co.contypid !== '0') {
        const t = ctx.types.get(co.contypid);
        return t ? `constraint ${ident(co.conname)} on domain ${ident(t.typname)}` : undefined;
      }
      return `constraint ${ident(co.conname)} on ${ident(ctx.relName(co.conrelid))}`;
    }
    case 'pg_trigger': {
      const tg = ctx.triggers.get(cm.objoid);
      return tg ? `trigger ${ident(tg.tgname)} on ${ident(ctx.relName(tg.rel))}` : undefined;
    }
    case 'pg_policy': {
      const po = ctx.catalog.policies.find((p) => p.oid === cm.objoid);
      return po ? `policy ${ident(po.polname)} on ${ident(ctx.relName(po.rel))}` : undefined;
    }
    case 'pg_rewrite': {
      const ru = ctx.catalog.rules.find((r) => r.oid === cm.objoid);
      return ru ? `rule ${ident(ru.rulename)} on ${ident(ctx.relName(ru.rel))}` : undefined;
    }
    case 'pg_statistic_ext': {
      const st = ctx.catalog.statistics.find((s) => s.oid === cm.objoid);
      return st ? `statistics ${ident(st.stxname)}` : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Kahn's algorithm; among the statements whose dependencies are done, the one of the earliest
 * phase (then the earliest in catalog order) goes next.
 */
function sortNodes(nodes: Map<string, Node>): Node[] {
  const dependents = new Map<string, string[]>();
  const waiting = new Map<string, number>();
  for (const n of nodes.values()) {
    let count = 0;
    for (const dep of n.deps) {
      if (dep === n.id || !nodes.has(dep)) continue;
      count++;
      const list = dependents.get(dep) ?? [];
      list.push(n.id);
      dependents.set(dep, list);
    }
    waiting.set(n.id, count);
  }
  const rank = (n: Node) => PHASE[n.kind] * 1e9 + n.order;
  const ready: Node[] = [...nodes.values()].filter((n) => waiting.get(n.id) === 0);
  const out: Node[] = [];
  while (ready.length > 0) {
    let best = 0;
    for (let i = 1; i < ready.length; i++) {
      const candidate = ready[i];
      const current = ready[best];
      if (candidate && current && rank(candidate) < rank(current)) best = i;
    }
    const [next] = ready.splice(best, 1);
    if (!next) break;
    out.push(next);
    for (const id of dependents.get(next.id) ?? []) {
      const left = (waiting.get(id) ?? 0) - 1;
      waiting.set(id, left);
      const node = nodes.get(id);
      if (left === 0 && node) ready.push(node);
    }
  }
  if (out.length !== nodes.size) {
    const stuck = [...nodes.values()]
      .filter((n) => (waiting.get(n.id) ?? 0) > 0)
      .map((n) => `${n.kind} ${n.label}`);
    throw new CognitionError(
      'ERR_CLONE_FAILED',
      `the template has a dependency cycle the clone cannot order: ${stuck.join(', ')}`,
      { details: { objects: stuck } },
    );
  }
  return out;
}

/** `with (...)` contents: option names as identifiers, values as literals (as pg_dump does). */
function relOptions(options: string[] | null, toastOptions: string[] | null): string {
  const parts: string[] = [];
  const push = (option: string, prefix: string) => {
    const eq = option.indexOf('=');
    const name = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? 'true' : option.slice(eq + 1);
    parts.push(`${prefix}${ident(name)}=${literal(value)}`);
  };
  for (const option of options ?? []) push(option, '');
  for (const option of toastOptions ?? []) push(option, 'toast.');
  return parts.join(', ');
}

/**
 * One `proconfig` entry (`name=value`) as a SET clause. List settings such as search_path are
 * split into their elements; an element that names the template schema becomes the tenant
 * schema.
 */
function configClause(item: string, templateSchema: string): SqlChunk[] {
  const eq = item.indexOf('=');
  const name = item.slice(0, eq);
  const value = item.slice(eq + 1);
  if (!LIST_GUCS.has(name.toLowerCase())) return [`\n set ${ident(name)} to ${literal(value)}`];
  const chunks: SqlChunk[] = [`\n set ${ident(name)} to `];
  const elements = splitIdentifierList(value);
  if (elements.length === 0) return [`\n set ${ident(name)} to ''`];
  elements.forEach((element, i) => {
    if (i > 0) chunks.push(', ');
    chunks.push(element === templateSchema ? { target: 'literal' } : literal(element));
  });
  return chunks;
}

/** Splits `a, "B c", "d""e"` (as flatten_set_variable_args stores list settings) into names. */
export function splitIdentifierList(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value.charAt(i))) i++;
  };
  skipSpace();
  if (i >= value.length) return out;
  for (;;) {
    skipSpace();
    let name = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length)
          throw new CognitionError('ERR_CLONE_FAILED', `unterminated name in setting ${value}`);
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            name += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += value[i];
        i++;
      }
    } else {
      while (i < value.length && value[i] !== ',' && !/\s/.test(value.charAt(i))) {
        name += value[i];
        i++;
      }
      name = name.toLowerCase();
    }
    out.push(name);
    skipSpace();
    if (i >= value.length) break;
    if (value[i] !== ',') throw new CognitionError('ERR_CLONE_FAILED', `cannot parse the setting ${value}`);
    i++;
  }
  return out;
}

function dollarQuote(body: string): string {
  let tag = '$function$';
  for (let n = 0; body.includes(tag); n++) tag = `$function_${n}$`;
  return `${tag}${body}${tag}`;
}

/** True when `text` names `schema` followed by a dot, quoted or not. */
function mentionsSchema(text: string, schema: string): boolean {
  const lower = text.toLowerCase();
  return lower.includes(`${schema.toLowerCase()}.`) || text.includes(`${ident(schema)}.`);
}
