import type pg from 'pg';
import { CognitionError } from '../../errors.js';

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
