import pg from 'pg';
import type { ConstraintRow } from './catalog-rows.js';
import { tableNode, type PlanContext } from './plan-context.js';

const ident = pg.escapeIdentifier;

export function addConstraints(ctx: PlanContext, inlined: Map<string, ConstraintRow[]>): void {
  const { catalog, rels, relName, owner, add, own } = ctx;
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
}

export function addIndexes(ctx: PlanContext): void {
  const { catalog, relName, indexes, nodes, owner, add, own } = ctx;
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
}
