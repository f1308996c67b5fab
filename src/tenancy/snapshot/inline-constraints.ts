import type { ConstraintRow, DependRow } from './catalog-rows.js';
import { tablesInCycles } from './order.js';
import type { PlanContext } from './plan-context.js';

/** Table oid -> the constraints that are part of its CREATE TABLE. */
export function inlinedConstraints(ctx: PlanContext): Map<string, ConstraintRow[]> {
  const { catalog, rels, inlineForeignKeys } = ctx;
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
  return inlined;
}
