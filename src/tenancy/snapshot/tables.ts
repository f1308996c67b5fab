import pg from 'pg';
import type { ColumnRow, ConstraintRow } from './catalog-rows.js';
import { dataNode, tableNode, type PlanContext } from './plan-context.js';
import { relOptions } from './rel-options.js';
import { seqOptions } from './types-and-sequences.js';
import type { SqlChunk } from './types.js';

const ident = pg.escapeIdentifier;

export function addTables(ctx: PlanContext, inlined: Map<string, ConstraintRow[]>): void {
  const {
    catalog,
    pg18,
    withData,
    warnings,
    add,
    own,
    relName,
    columnsOf,
    types,
    identitySeq,
    templateQualified,
  } = ctx;
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
}
