import type { RelationRow } from './catalog-rows.js';
import { tablesInCycles } from './order.js';
import { dataNode, type Node, type PlanContext } from './plan-context.js';

export function addCatalogDependencies(ctx: PlanContext): void {
  const { catalog, owner, nodes, seqByOid } = ctx;
  for (const dep of catalog.depends) {
    const from = owner.get(`${dep.class}:${dep.objid}`);
    const to = owner.get(`${dep.ref_class}:${dep.ref_objid}`);
    if (!from || !to || from === to) continue;
    // A sequence OWNED BY a column depends on the table, but the table's default needs the
    // sequence first: OWNED BY is its own statement, after both.
    if (dep.class === 'pg_class' && dep.deptype === 'a' && seqByOid.has(dep.objid)) continue;
    nodes.get(from)?.deps.add(to);
  }
}

/**
 * Data goes in after the tables and before everything that would check, index, fire on or
 * filter it; foreign-key-safe order besides; materialized views are built from it.
 */
export function orderData(ctx: PlanContext): void {
  const { catalog, nodes, indexes, constraints, triggers } = ctx;
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
}

/** The leaf partitions of a table (the table itself when it is not partitioned). */
function leavesOf(relOid: string, relations: RelationRow[]): string[] {
  const rel = relations.find((r) => r.oid === relOid);
  if (!rel || rel.relkind !== 'p') return [relOid];
  return relations
    .filter((r) => r.parents[0] === relOid && r.relispartition)
    .flatMap((r) => leavesOf(r.oid, relations));
}
