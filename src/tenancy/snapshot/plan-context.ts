import pg from 'pg';
import { CognitionError } from '../../errors.js';
import type {
  CatalogReads,
  ColumnRow,
  ConstraintRow,
  FunctionRow,
  IndexRow,
  RelationRow,
  SequenceRow,
  TriggerRow,
  TypeRow,
} from './catalog-rows.js';
import type { ObjectKind, SqlChunk } from './types.js';

const ident = pg.escapeIdentifier;

export interface Node {
  id: string;
  kind: ObjectKind;
  label: string;
  order: number;
  deps: Set<string>;
  sql: SqlChunk[][];
}

export const tableNode = (relOid: string) => `rel:${relOid}`;
export const dataNode = (relOid: string) => `data:${relOid}`;

/**
 * One plan under construction, shared by the builders: an object made by one builder is often
 * referred to by another's (a table's default calling a function, a grant on a sequence), and
 * `owner` is how the second finds the first's node.
 */
export interface PlanContext {
  catalog: CatalogReads;
  templateSchema: string;
  withData: boolean;
  inlineForeignKeys: boolean;
  pg18: boolean;
  warnings: string[];
  nodes: Map<string, Node>;
  /** `catalog:oid` of every template object -> the node that creates it. */
  owner: Map<string, string>;
  add(id: string, kind: ObjectKind, label: string, sql: SqlChunk[][], deps?: Iterable<string>): Node;
  own(catalogName: string, oid: string, nodeId: string): void;
  rels: Map<string, RelationRow>;
  relName(oid: string): string;
  columnsOf: Map<string, ColumnRow[]>;
  functions: Map<string, FunctionRow>;
  types: Map<string, TypeRow>;
  constraints: Map<string, ConstraintRow>;
  indexes: Map<string, IndexRow>;
  triggers: Map<string, TriggerRow>;
  seqByOid: Map<string, SequenceRow>;
  identitySeq: Map<string, SequenceRow>;
  templateQualified(name: string): string;
}

export function createPlanContext(
  catalog: CatalogReads,
  templateSchema: string,
  withData: boolean,
  inlineForeignKeys: boolean,
): PlanContext {
  const pg18 = catalog.serverVersionNum >= 180000;
  const warnings: string[] = [];
  const nodes = new Map<string, Node>();
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
  return {
    catalog,
    templateSchema,
    withData,
    inlineForeignKeys,
    pg18,
    warnings,
    nodes,
    owner,
    add,
    own,
    rels,
    relName,
    columnsOf,
    functions,
    types,
    constraints,
    indexes,
    triggers,
    seqByOid,
    identitySeq,
    templateQualified: (name: string) => `${ident(templateSchema)}.${ident(name)}`,
  };
}
