import pg from 'pg';
import { tableNode, type PlanContext } from './plan-context.js';
import { relOptions } from './rel-options.js';

const ident = pg.escapeIdentifier;

export function addViews(ctx: PlanContext): void {
  const { catalog, add, own, columnsOf, types } = ctx;
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
}

export function ownViewRules(ctx: PlanContext): void {
  const { catalog, rels, own } = ctx;
  // The _RETURN rule of a view is the view: its dependencies are what the view reads.
  for (const dep of catalog.depends) {
    if (dep.class === 'pg_rewrite' && dep.ref_class === 'pg_class' && dep.deptype === 'i') {
      const rel = rels.get(dep.ref_objid);
      if (rel && (rel.relkind === 'v' || rel.relkind === 'm'))
        own('pg_rewrite', dep.objid, tableNode(rel.oid));
    }
  }
}
