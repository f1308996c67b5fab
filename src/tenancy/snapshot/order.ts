import { CognitionError } from '../../errors.js';
import type { Node } from './plan-context.js';
import type { ObjectKind } from './types.js';

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

/**
 * Kahn's algorithm; among the statements whose dependencies are done, the one of the earliest
 * phase (then the earliest in catalog order) goes next.
 */
export function sortNodes(nodes: Map<string, Node>): Node[] {
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

/** The tables that are part of a cycle (strongly connected component of two or more). */
export function tablesInCycles(edges: Map<string, Set<string>>): Set<string> {
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
