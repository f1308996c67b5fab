import pg from 'pg';
import { CognitionError } from '../../errors.js';
import type { CatalogReads } from './catalog-rows.js';

const literal = pg.escapeLiteral;

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

export async function readCatalog(client: pg.ClientBase, templateSchema: string): Promise<CatalogReads> {
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
