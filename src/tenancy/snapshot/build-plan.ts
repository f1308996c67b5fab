import type { CatalogReads } from './catalog-rows.js';
import { addComments } from './comments.js';
import { addCatalogDependencies, orderData } from './dependencies.js';
import { addFunctions } from './functions.js';
import { addGrants } from './grants.js';
import { addConstraints, addIndexes } from './indexes-and-constraints.js';
import { inlinedConstraints } from './inline-constraints.js';
import { sortNodes } from './order.js';
import { createPlanContext } from './plan-context.js';
import { addRules, addStatistics } from './statistics-and-rules.js';
import { addTables } from './tables.js';
import { addPolicies, addTriggers } from './triggers-and-policies.js';
import { addSequences, addTypes } from './types-and-sequences.js';
import type { ObjectKind, SnapshotStatement, SqlChunk } from './types.js';
import { addViews, ownViewRules } from './views.js';

export interface Plan {
  statements: SnapshotStatement[];
  counts: Partial<Record<ObjectKind, number>>;
  warnings: string[];
}

export function buildPlan(
  catalog: CatalogReads,
  templateSchema: string,
  withData: boolean,
  inlineForeignKeys: boolean,
): Plan {
  const ctx = createPlanContext(catalog, templateSchema, withData, inlineForeignKeys);
  // The builders run in this order because nodes are numbered as they are added, and the
  // number breaks ties in the sort; later builders also look up what earlier ones own.
  addTypes(ctx);
  addSequences(ctx);
  addFunctions(ctx);
  const inlined = inlinedConstraints(ctx);
  addTables(ctx, inlined);
  addViews(ctx);
  addConstraints(ctx, inlined);
  addIndexes(ctx);
  addStatistics(ctx);
  addRules(ctx);
  addTriggers(ctx);
  addPolicies(ctx);
  ownViewRules(ctx);
  addCatalogDependencies(ctx);
  orderData(ctx);
  addComments(ctx);
  addGrants(ctx);

  const { nodes, warnings } = ctx;
  const statements = sortNodes(nodes).map<SnapshotStatement>((n) => ({
    kind: n.kind,
    label: n.label,
    sql: joinStatements(n.sql),
  }));
  const counts: Partial<Record<ObjectKind, number>> = {};
  for (const n of nodes.values()) counts[n.kind] = (counts[n.kind] ?? 0) + 1;
  return { statements, counts, warnings };
}

function joinStatements(statements: SqlChunk[][]): SqlChunk[] {
  const out: SqlChunk[] = [];
  statements.forEach((s, i) => {
    if (i > 0) out.push(';\n');
    out.push(...s);
  });
  return out;
}
