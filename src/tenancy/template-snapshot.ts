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
 * broken by phase (types, sequences, functions whose bodies are not parsed at creation,
 * tables with their partitions, data, constraints and indexes, foreign keys, views /
 * materialized views / SQL-standard-body functions, triggers, row security and policies,
 * OWNED BY, comments, grants). Primary keys, unique, exclusion and check constraints that
 * refer to nothing but their own table are part of CREATE TABLE, and so, without data, are
 * foreign keys between plain tables that are not in a cycle: one statement instead of one
 * ALTER TABLE each (an added foreign key also runs a validation query).
 */
export interface TemplateSnapshot {
  version: 1;
  templateSchema: string;
  /** `templateFingerprint` as read before the catalog, so a concurrent change only makes it stale. */
  fingerprint: string;
  serverVersionNum: number;
  takenAt: string;
  /** Replay order without the template's rows (foreign keys inline where the order allows). */
  statements: SnapshotStatement[];
  /**
   * Replay order for `copyData`: rows go in after the tables and before the constraints,
   * foreign keys, triggers and policies that would check, fire on or filter them.
   */
  statementsWithData: SnapshotStatement[];
  /** Statements per kind in `statements`. */
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
 * The template's objects as (catalog, oid) pairs, by namespace. Used by the snapshot's catalog
 * reads, which scan the catalogs anyway (and run only when the template changed).
 */
function templateObjectsCte(ns: string): string {
  return `
  rels as (select c.oid from pg_catalog.pg_class c where c.relnamespace = ${ns}),
  objs(classid, objid) as (
    select 'pg_catalog.pg_class'::regclass::oid, r.oid from rels r
    union all select 'pg_catalog.pg_type'::regclass::oid, t.oid from pg_catalog.pg_type t where t.typnamespace = ${ns}
    union all select 'pg_catalog.pg_proc'::regclass::oid, p.oid from pg_catalog.pg_proc p where p.pronamespace = ${ns}
    union all select 'pg_catalog.pg_constraint'::regclass::oid, co.oid from pg_catalog.pg_constraint co
      where co.connamespace = ${ns}
    union all select 'pg_catalog.pg_attrdef'::regclass::oid, ad.oid from pg_catalog.pg_attrdef ad
      join rels r on r.oid = ad.adrelid
    union all select 'pg_catalog.pg_rewrite'::regclass::oid, rw.oid from pg_catalog.pg_rewrite rw
      join rels r on r.oid = rw.ev_class
    union all select 'pg_catalog.pg_trigger'::regclass::oid, tg.oid from pg_catalog.pg_trigger tg
      join rels r on r.oid = tg.tgrelid
    union all select 'pg_catalog.pg_policy'::regclass::oid, po.oid from pg_catalog.pg_policy po
      join rels r on r.oid = po.polrelid
    union all select 'pg_catalog.pg_statistic_ext'::regclass::oid, s.oid from pg_catalog.pg_statistic_ext s
      where s.stxnamespace = ${ns}
  )`;
}

/**
 * One cheap query: an md5 over the row versions (xmin) of every catalog row that describes the
 * template: pg_namespace (incl. nspacl), pg_class (incl. relacl), pg_attribute (incl. attacl),
 * pg_index, pg_inherits (of partitions), pg_sequence, pg_type (incl. typacl), pg_enum, pg_range,
 * pg_proc (incl. proacl), pg_constraint, pg_attrdef, pg_rewrite, pg_trigger, pg_policy,
 * pg_statistic_ext, pg_description, and the pg_depend rows of sequences (OWNED BY); the
 * pg_depend walk itself sees objects come and go. Any DDL, GRANT or COMMENT
 * on the template writes one of these rows, so the value changes. Sequence values and table
 * rows are not part of it: the clone reads those live.
 *
 * The template's objects are found by walking pg_depend from the schema (every object depends
 * on its schema, or on an object that does) through its indexes, and each row is read by its
 * oid: the cost follows the size of the template, not the size of the catalog (which grows
 * with every tenant).
 */
export async function templateFingerprint(
  client: pg.ClientBase,
  templateSchema = 'tenant_template',
): Promise<string> {
  // A named statement: parsed and planned once per connection.
  const { rows } = await client.query<{ fingerprint: string | null }>({
    name: 'pg_cognition_template_fingerprint',
    text: FINGERPRINT_SQL,
    values: [templateSchema],
  });
  const fingerprint = rows[0]?.fingerprint;
  if (!fingerprint) {
    throw new CognitionError('ERR_TEMPLATE_MISSING', `the template schema ${templateSchema} does not exist`);
  }
  return fingerprint;
}

const FINGERPRINT_SQL = `
with recursive ns as (
  select n.oid, n.xmin, n.nspacl from pg_catalog.pg_namespace n where n.nspname = $1
),
objs(classid, objid) as (
  select 'pg_catalog.pg_namespace'::regclass::oid, ns.oid from ns
  union
  select d.classid, d.objid from objs o
  join pg_catalog.pg_depend d on d.refclassid = o.classid and d.refobjid = o.objid
  -- Array and row types, and the triggers that implement foreign keys, change only with what
  -- they belong to.
  where not (d.deptype = 'i' and d.classid in ('pg_catalog.pg_type'::regclass, 'pg_catalog.pg_trigger'::regclass))
),
rows(v) as (
  select o.classid || '/' || o.objid || ':' || coalesce(case o.classid
    when 'pg_catalog.pg_namespace'::regclass then (select ns.xmin::text || coalesce(ns.nspacl::text, '') from ns)
    when 'pg_catalog.pg_class'::regclass then (select c.xmin::text || '|' || coalesce(c.relacl::text, '')
      || '|' || coalesce(case when c.relkind not in ('i', 'I') then
        (select pg_catalog.string_agg(a.attnum || ':' || a.xmin::text, ',' order by a.attnum)
        from pg_catalog.pg_attribute a where a.attrelid = c.oid and a.attnum > 0) end, '')
      || '|' || coalesce((select i.xmin::text from pg_catalog.pg_index i where i.indexrelid = c.oid), '')
      || '|' || coalesce(case when c.relispartition then (select pg_catalog.string_agg(h.inhparent || ':'
        || h.xmin::text, ',') from pg_catalog.pg_inherits h where h.inhrelid = c.oid) end, '')
      || '|' || coalesce(case when c.relkind = 'S' then (select s.xmin::text from pg_catalog.pg_sequence s
        where s.seqrelid = c.oid) end, '')
      -- OWNED BY changes pg_depend only
      || '|' || coalesce(case when c.relkind = 'S' then (select pg_catalog.string_agg(d.refobjid || '.'
        || d.refobjsubid || ':' || d.xmin::text, ',') from pg_catalog.pg_depend d
        where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid) end, '')
      from pg_catalog.pg_class c where c.oid = o.objid)
    when 'pg_catalog.pg_type'::regclass then (select t.xmin::text
      || '|' || coalesce((select pg_catalog.string_agg(e.oid || ':' || e.xmin::text, ',' order by e.oid)
        from pg_catalog.pg_enum e where e.enumtypid = t.oid), '')
      || '|' || coalesce((select r.xmin::text from pg_catalog.pg_range r where r.rngtypid = t.oid), '')
      from pg_catalog.pg_type t where t.oid = o.objid)
    when 'pg_catalog.pg_proc'::regclass then (select x.xmin::text from pg_catalog.pg_proc x where x.oid = o.objid)
    when 'pg_catalog.pg_constraint'::regclass then
      (select x.xmin::text from pg_catalog.pg_constraint x where x.oid = o.objid)
    when 'pg_catalog.pg_attrdef'::regclass then (select x.xmin::text from pg_catalog.pg_attrdef x where x.oid = o.objid)
    when 'pg_catalog.pg_rewrite'::regclass then (select x.xmin::text from pg_catalog.pg_rewrite x where x.oid = o.objid)
    when 'pg_catalog.pg_trigger'::regclass then (select x.xmin::text from pg_catalog.pg_trigger x where x.oid = o.objid)
    when 'pg_catalog.pg_policy'::regclass then (select x.xmin::text from pg_catalog.pg_policy x where x.oid = o.objid)
    when 'pg_catalog.pg_statistic_ext'::regclass then
      (select x.xmin::text from pg_catalog.pg_statistic_ext x where x.oid = o.objid)
  end, '')
  || '|' || coalesce(case when o.classid <> 'pg_catalog.pg_attrdef'::regclass then
    (select pg_catalog.string_agg(d.objsubid || ':' || d.xmin::text, ',' order by d.objsubid)
    from pg_catalog.pg_description d where d.objoid = o.objid and d.classoid = o.classid) end, '')
  from objs o
)
select case when exists (select from ns) then
  (select pg_catalog.md5(pg_catalog.string_agg(v, ',' order by v)) from rows) end as fingerprint`;

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
  convalidated: boolean;
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
       co.conislocal, co.coninhcount, co.convalidated
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
}

/** Reads the template's catalog and returns the statements that recreate it in another schema. */
export async function takeSnapshot(
  client: pg.ClientBase,
  templateSchema = 'tenant_template',
): Promise<TemplateSnapshot> {
  // Read first: a change that lands between the two reads only makes the snapshot look stale.
  const fingerprint = await templateFingerprint(client, templateSchema);
  const catalog = await readCatalog(client, templateSchema);
  if (catalog.unsupported.length > 0) {
    const list = catalog.unsupported.map((u) => `${u.kind} ${u.name}`).join(', ');
    throw new CognitionError(
      'ERR_CLONE_FAILED',
      `the template ${templateSchema} holds objects the clone cannot copy: ${list}`,
      { details: { unsupported: catalog.unsupported } },
    );
  }
  let plain: Plan;
  try {
    plain = buildPlan(catalog, templateSchema, false, true);
  } catch (error) {
    // Foreign keys inside CREATE TABLE order the tables; should that meet a cycle the sort
    // cannot break, they are added after the tables, as with data.
    if (!(error instanceof CognitionError)) throw error;
    plain = buildPlan(catalog, templateSchema, false, false);
  }
  const withData = buildPlan(catalog, templateSchema, true, false);
  return {
    version: 1,
    templateSchema,
    fingerprint,
    serverVersionNum: catalog.serverVersionNum,
    takenAt: new Date().toISOString(),
    statements: plain.statements,
    statementsWithData: withData.statements,
    counts: plain.counts,
    warnings: [...new Set([...plain.warnings, ...withData.warnings])],
  };
}

interface Plan {
  statements: SnapshotStatement[];
  counts: Partial<Record<ObjectKind, number>>;
  warnings: string[];
}

function buildPlan(
  catalog: CatalogReads,
  templateSchema: string,
  withData: boolean,
  inlineForeignKeys: boolean,
): Plan {
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
  ): Node => {
    const node: Node = { id, kind, label, order: order++, deps: new Set(deps), sql };
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
  const seqValues: { seq: SequenceRow; dep: string }[] = [];
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
    seqValues.push({ seq: s, dep: isIdentity && s.owner_rel ? tableNode(s.owner_rel) : `rel:${s.oid}` });
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

  if (seqValues.length > 0) {
    // Every sequence's value, read from the template when the clone runs (not when the
    // snapshot is taken), in one statement. A UNION ALL rather than one row from a join of
    // every sequence: planning a many-way join costs more than all the setval calls.
    const branches = seqValues.map(
      ({ seq }) =>
        `select pg_catalog.setval(${literal(ident(seq.relname))}, s.last_value, s.is_called) from ${templateQualified(seq.relname)} s`,
    );
    add(
      'seqvals',
      'sequence value',
      seqValues.map(({ seq }) => seq.relname).join(', '),
      [[branches.join('\nunion all ')]],
      seqValues.map(({ dep }) => dep),
    );
  }

  // Functions and procedures ---------------------------------------------------------------
  const routineRef = (f: FunctionRow) =>
    `${f.prokind === 'p' ? 'procedure' : 'function'} ${ident(f.proname)}(${f.identity_args})`;
  for (const f of catalog.functions) {
    if (f.part_of_type) {
      // Constructors of a range or multirange type: created with the range type.
      const typeNode = typeOwner(f.part_of_type);
      if (typeNode) own('pg_proc', f.oid, typeNode);
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
  // Primary keys, unique, exclusion and check constraints of plain tables are part of CREATE
  // TABLE when they refer to nothing of the template but the table itself (one statement
  // instead of one ALTER TABLE each); the others are added after the tables.
  const depsOf = new Map<string, DependRow[]>();
  for (const dep of catalog.depends) {
    const key = `${dep.class}:${dep.objid}`;
    const list = depsOf.get(key) ?? [];
    list.push(dep);
    depsOf.set(key, list);
  }
  const inlined = new Map<string, ConstraintRow[]>();
  for (const co of catalog.constraints) {
    const rel = rels.get(co.conrelid);
    if (!rel || rel.relkind !== 'r' || rel.relispartition || rel.parents.length > 0) continue;
    if (
      !['p', 'u', 'x', 'c'].includes(co.contype) ||
      !co.conislocal ||
      co.coninhcount > 0 ||
      !co.convalidated
    )
      continue;
    const selfContained = (depsOf.get(`pg_constraint:${co.oid}`) ?? []).every(
      (d) =>
        d.ref_class === 'pg_type' ||
        (d.ref_class === 'pg_class' && (d.ref_objid === co.conrelid || d.ref_objid === co.conindid)),
    );
    if (!selfContained) continue;
    const list = inlined.get(co.conrelid) ?? [];
    list.push(co);
    inlined.set(co.conrelid, list);
  }

  // Without data, foreign keys are part of CREATE TABLE too (an ALTER TABLE ADD FOREIGN KEY
  // runs a validation query), when both tables are plain tables, the referenced key is part of
  // the referenced table's CREATE TABLE, and the tables are not in a cycle of foreign keys.
  // With data, they are added after the rows, whatever order the rows come in.
  const inlineKeyOf = new Map<string, string>(); // constraint-backed index -> its table, when inlined
  for (const [relOid, list] of inlined)
    for (const co of list) if (co.contype !== 'c') inlineKeyOf.set(co.conindid, relOid);
  const candidateFks = !inlineForeignKeys
    ? []
    : catalog.constraints.filter((co) => {
        const rel = rels.get(co.conrelid);
        return (
          co.contype === 'f' &&
          co.conparentid === '0' &&
          co.convalidated &&
          rel?.relkind === 'r' &&
          !rel.relispartition &&
          inlineKeyOf.has(co.conindid)
        );
      });
  const fkEdges = new Map<string, Set<string>>();
  for (const co of candidateFks) {
    const to = inlineKeyOf.get(co.conindid);
    if (!to || to === co.conrelid) continue;
    fkEdges.set(co.conrelid, (fkEdges.get(co.conrelid) ?? new Set()).add(to));
  }
  const cyclic = tablesInCycles(fkEdges);
  for (const co of candidateFks) {
    const to = inlineKeyOf.get(co.conindid);
    if (!to || (to !== co.conrelid && cyclic.has(co.conrelid) && cyclic.has(to))) continue;
    const list = inlined.get(co.conrelid) ?? [];
    list.push(co);
    inlined.set(co.conrelid, list);
  }

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
      for (const co of inlined.get(rel.oid) ?? []) {
        defs.push(`constraint ${ident(co.conname)} ${co.def}`);
        own('pg_constraint', co.oid, id);
      }
      statements.unshift([`create ${persistence}table ${name} (\n  ${defs.join(',\n  ')}\n)${tail}`]);
    }
    add(id, 'table', rel.relname, statements, parentOid ? [tableNode(parentOid)] : []);
    const rowType = types.get(rel.row_type);
    if (rowType) own('pg_type', rowType.oid, id);

    if (rel.relkind === 'r') {
      const insertable = cols.filter((c) => c.attgenerated === '');
      if (withData && insertable.length > 0) {
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
        );
      }
      if (
        withData &&
        rel.relforcerowsecurity &&
        !rel.policy_roles.some((r) => r === null || r === 'cognition_owner')
      ) {
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
    if (inlined.get(co.conrelid)?.includes(co)) continue; // part of CREATE TABLE
    // Inherited from the partitioned parent, whose ALTER TABLE adds it here too.
    if (co.contype === 'c' && (!co.conislocal || co.coninhcount > 0)) continue;
    if (co.contype === 'f' && co.conparentid !== '0') continue; // cloned from the parent's foreign key
    const id = `con:${co.oid}`;
    own('pg_constraint', co.oid, id);
    const only = (co.contype === 'c' || co.contype === 'f') && isPartitioned(co.conrelid) ? '' : 'only ';
    add(
      id,
      co.contype === 'f' ? 'foreign key' : 'constraint',
      `${relName(co.conrelid)}.${co.conname}`,
      [[`alter table ${only}${table} add constraint ${ident(co.conname)} ${co.def}`]],
      [tableNode(co.conrelid)],
    );
  }
  // Cloned constraints (inherited checks, partitions' foreign keys) come with their parent's
  // (or, for an inherited check, with the partition's table).
  for (const co of catalog.constraints) {
    if (co.conrelid === '0' || owner.has(`pg_constraint:${co.oid}`)) continue;
    own('pg_constraint', co.oid, owner.get(`pg_constraint:${co.conparentid}`) ?? tableNode(co.conrelid));
  }

  // Indexes --------------------------------------------------------------------------------
  for (const ix of catalog.indexes) {
    const table = ident(relName(ix.rel));
    let id: string;
    if (ix.constraint_oid) {
      id = owner.get(`pg_constraint:${ix.constraint_oid}`) ?? `con:${ix.constraint_oid}`;
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

  // The _RETURN rule of a view is the view: its dependencies are what the view reads.
  for (const dep of catalog.depends) {
    if (dep.class === 'pg_rewrite' && dep.ref_class === 'pg_class' && dep.deptype === 'i') {
      const rel = rels.get(dep.ref_objid);
      if (rel && (rel.relkind === 'v' || rel.relkind === 'm'))
        own('pg_rewrite', dep.objid, tableNode(rel.oid));
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
  // Foreign keys are added after all the rows, so the order of the rows is a courtesy; tables
  // whose keys point at each other keep catalog order.
  const dataEdges = new Map<string, Set<string>>();
  for (const co of catalog.constraints) {
    const referenced = co.contype === 'f' ? indexes.get(co.conindid)?.rel : undefined;
    if (!referenced || referenced === co.conrelid || !nodes.has(dataNode(co.conrelid))) continue;
    for (const leaf of leavesOf(referenced, catalog.relations)) {
      if (nodes.has(dataNode(leaf)) && leaf !== co.conrelid) {
        dataEdges.set(co.conrelid, (dataEdges.get(co.conrelid) ?? new Set()).add(leaf));
      }
    }
  }
  const dataCycles = tablesInCycles(dataEdges);
  for (const [from, targets] of dataEdges) {
    for (const to of targets) {
      if (!(dataCycles.has(from) && dataCycles.has(to))) nodes.get(dataNode(from))?.deps.add(dataNode(to));
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
  // Grouped into as few statements as GRANT allows: objects of one kind that give the same
  // privileges to the same grantee share a statement.
  const grantDeps = new Set<string>();
  const revokes = new Map<string, string[]>(); // object kind -> objects
  const grants = new Map<
    string,
    { head: string; grantee: string | null; grantable: boolean; objects: string[] }
  >();
  const addAcl = (
    kind: string,
    object: string,
    acl: AclEntry[],
    dep: string | undefined,
    revokePublic: boolean,
  ) => {
    if (dep) grantDeps.add(dep);
    if (revokePublic) revokes.set(kind, [...(revokes.get(kind) ?? []), object]);
    for (const { grantee, grantable, privileges } of groupAcl(acl)) {
      const head = `grant ${privileges.join(', ')} on ${kind} `;
      const key = `${head}\u0000${grantee ?? ''}\u0000${grantable}`;
      const group = grants.get(key) ?? { head, grantee, grantable, objects: [] };
      group.objects.push(object);
      grants.set(key, group);
    }
  };
  for (const rel of catalog.relations) {
    if (!rel.has_acl || rel.relkind === 'c') continue;
    addAcl(
      rel.relkind === 'S' ? 'sequence' : 'table',
      ident(rel.relname),
      rel.acl,
      owner.get(`pg_class:${rel.oid}`),
      false,
    );
  }
  for (const f of catalog.functions) {
    if (f.has_acl && !f.part_of_type) {
      addAcl(
        f.prokind === 'p' ? 'procedure' : 'function',
        `${ident(f.proname)}(${f.identity_args})`,
        f.acl,
        `fn:${f.oid}`,
        true,
      );
    }
  }
  for (const t of catalog.types) {
    if (t.has_acl && nodes.has(`type:${t.oid}`)) {
      addAcl(t.typtype === 'd' ? 'domain' : 'type', ident(t.typname), t.acl, `type:${t.oid}`, true);
    }
  }
  const grantSql: SqlChunk[][] = [];
  // Functions and types are usable by PUBLIC unless the template revoked it: start from none.
  for (const [kind, objects] of revokes)
    grantSql.push([`revoke all on ${kind} ${objects.join(', ')} from public`]);
  for (const g of grants.values()) {
    grantSql.push([
      `${g.head}${g.objects.join(', ')} to `,
      { role: g.grantee },
      g.grantable ? ' with grant option' : '',
    ]);
  }
  // Column privileges: one statement per table and grantee.
  const columnGrants = new Map<
    string,
    { table: string; grantee: string | null; grantable: boolean; privs: Map<string, string[]> }
  >();
  for (const col of catalog.columns) {
    const rel = rels.get(col.rel);
    if (!col.has_acl || !rel || rel.relkind === 'c') continue;
    const dep = owner.get(`pg_class:${rel.oid}`);
    if (dep) grantDeps.add(dep);
    for (const { grantee, grantable, privileges } of groupAcl(col.acl)) {
      const key = `${rel.oid}\u0000${grantee ?? ''}\u0000${grantable}`;
      const group = columnGrants.get(key) ?? {
        table: ident(rel.relname),
        grantee,
        grantable,
        privs: new Map(),
      };
      for (const p of privileges) group.privs.set(p, [...(group.privs.get(p) ?? []), ident(col.attname)]);
      columnGrants.set(key, group);
    }
  }
  for (const g of columnGrants.values()) {
    const privs = [...g.privs].map(([p, cols]) => `${p} (${cols.join(', ')})`).join(', ');
    grantSql.push([
      `grant ${privs} on table ${g.table} to `,
      { role: g.grantee },
      g.grantable ? ' with grant option' : '',
    ]);
  }
  if (grantSql.length > 0) add('grants', 'grant', 'privileges', grantSql, grantDeps);

  const statements = sortNodes(nodes).map<SnapshotStatement>((n) => ({
    kind: n.kind,
    label: n.label,
    sql: joinStatements(n.sql),
  }));
  const counts: Partial<Record<ObjectKind, number>> = {};
  for (const n of nodes.values()) counts[n.kind] = (counts[n.kind] ?? 0) + 1;
  return { statements, counts, warnings };
}

/** The tables that are part of a cycle (strongly connected component of two or more). */
function tablesInCycles(edges: Map<string, Set<string>>): Set<string> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out = new Set<string>();
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (;;) {
        const w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1) for (const w of component) out.add(w);
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
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
function splitIdentifierList(value: string): string[] {
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
