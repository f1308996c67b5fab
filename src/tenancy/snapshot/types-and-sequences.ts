import pg from 'pg';
import { CognitionError } from '../../errors.js';
import type { SequenceRow, TypeRow } from './catalog-rows.js';
import { tableNode, type PlanContext } from './plan-context.js';
import type { SqlChunk } from './types.js';

const ident = pg.escapeIdentifier;
const literal = pg.escapeLiteral;

export function addTypes(ctx: PlanContext): void {
  const { catalog, rels, columnsOf, add, own } = ctx;
  const typeName = (t: TypeRow) => ident(t.typname);
  for (const t of catalog.types) {
    if (t.array_of || t.multirange_of) continue; // created with their element / range type
    if (t.typtype === 'c') {
      const rel = rels.get(t.typrelid);
      if (!rel || rel.relkind !== 'c') continue; // a table's row type
      const attrs = (columnsOf.get(rel.oid) ?? []).map(
        (c) => `${ident(c.attname)} ${c.type}${c.collation ? ` collate ${c.collation}` : ''}`,
      );
      add(`type:${t.oid}`, 'type', t.typname, [[`create type ${typeName(t)} as (${attrs.join(', ')})`]]);
      own('pg_class', rel.oid, `type:${t.oid}`);
    } else if (t.typtype === 'e') {
      const labels = (t.labels ?? []).map(literal).join(', ');
      add(`type:${t.oid}`, 'type', t.typname, [[`create type ${typeName(t)} as enum (${labels})`]]);
    } else if (t.typtype === 'd') {
      const sql: SqlChunk[][] = [
        [
          `create domain ${typeName(t)} as ${t.base_type ?? 'text'}` +
            (t.collation ? ` collate ${t.collation}` : '') +
            (t.default_expr !== null ? ` default ${t.default_expr}` : ''),
        ],
      ];
      let hasNotNullConstraint = false;
      for (const co of catalog.constraints) {
        if (co.contypid !== t.oid) continue;
        if (co.contype === 'n') hasNotNullConstraint = true;
        sql.push([`alter domain ${typeName(t)} add constraint ${ident(co.conname)} ${co.def}`]);
        own('pg_constraint', co.oid, `type:${t.oid}`);
      }
      if (t.typnotnull && !hasNotNullConstraint) sql.push([`alter domain ${typeName(t)} set not null`]);
      add(`type:${t.oid}`, 'type', t.typname, sql);
    } else if (t.typtype === 'r') {
      if (t.range_canonical) {
        throw new CognitionError(
          'ERR_CLONE_FAILED',
          `the range type ${t.typname} has a canonical function, which the clone cannot copy`,
        );
      }
      const parts = [`subtype = ${t.range_subtype ?? ''}`];
      if (t.range_opclass) parts.push(`subtype_opclass = ${t.range_opclass}`);
      if (t.range_collation) parts.push(`collation = ${t.range_collation}`);
      if (t.range_diff) parts.push(`subtype_diff = ${t.range_diff}`);
      if (t.range_multirange) parts.push(`multirange_type_name = ${ident(t.range_multirange)}`);
      add(`type:${t.oid}`, 'type', t.typname, [
        [`create type ${typeName(t)} as range (${parts.join(', ')})`],
      ]);
    }
  }
  for (const t of catalog.types) {
    const nodeId = typeOwner(ctx, t.oid);
    if (nodeId) own('pg_type', t.oid, nodeId);
  }
}

/** Row types, array types and multiranges belong to the node of what they are made from. */
export function typeOwner(ctx: PlanContext, oid: string): string | undefined {
  const t = ctx.types.get(oid);
  if (!t) return undefined;
  if (t.array_of) return typeOwner(ctx, t.array_of);
  if (t.multirange_of) return typeOwner(ctx, t.multirange_of);
  const rel = t.typtype === 'c' ? ctx.rels.get(t.typrelid) : undefined;
  if (rel && rel.relkind !== 'c') return tableNode(rel.oid);
  return ctx.nodes.has(`type:${t.oid}`) ? `type:${t.oid}` : undefined;
}

export function seqOptions(s: SequenceRow, withType: boolean): string {
  return (
    (withType ? `as ${s.type} ` : '') +
    `increment by ${s.seqincrement} minvalue ${s.seqmin} maxvalue ${s.seqmax} start with ${s.seqstart} ` +
    `cache ${s.seqcache} ${s.seqcycle ? 'cycle' : 'no cycle'}`
  );
}

export function addSequences(ctx: PlanContext): void {
  const { catalog, rels, relName, add, own, templateQualified } = ctx;
  const seqValues: { seq: SequenceRow; dep: string }[] = [];
  for (const s of catalog.sequences) {
    const rel = rels.get(s.oid);
    const isIdentity = s.deptype === 'i' && s.owner_rel !== null;
    if (!isIdentity) {
      const unlogged = rel?.relpersistence === 'u' ? 'unlogged ' : '';
      add(`rel:${s.oid}`, 'sequence', s.relname, [
        [`create ${unlogged}sequence ${ident(s.relname)} ${seqOptions(s, true)}`],
      ]);
      own('pg_class', s.oid, `rel:${s.oid}`);
    } else if (s.owner_rel) {
      own('pg_class', s.oid, tableNode(s.owner_rel));
    }
    seqValues.push({ seq: s, dep: isIdentity && s.owner_rel ? tableNode(s.owner_rel) : `rel:${s.oid}` });
    if (s.deptype === 'a' && s.owner_rel && s.owner_col) {
      add(
        `ownedby:${s.oid}`,
        'owned by',
        s.relname,
        [
          [
            `alter sequence ${ident(s.relname)} owned by ${ident(relName(s.owner_rel))}.${ident(s.owner_col)}`,
          ],
        ],
        [`rel:${s.oid}`, tableNode(s.owner_rel)],
      );
    }
  }

  if (seqValues.length > 0) {
    // Every sequence's value, read from the template when the clone runs (not when the
    // snapshot is taken), in one statement. A UNION ALL rather than one row from a join of
    // every sequence: planning a many-way join costs more than all the setval calls.
    const branches = seqValues.map(
      ({ seq }) =>
        `select pg_catalog.setval(${literal(ident(seq.relname))}, s.last_value, s.is_called) from ${templateQualified(seq.relname)} s`,
    );
    add(
      'seqvals',
      'sequence value',
      seqValues.map(({ seq }) => seq.relname).join(', '),
      [[branches.join('\nunion all ')]],
      seqValues.map(({ dep }) => dep),
    );
  }
}
