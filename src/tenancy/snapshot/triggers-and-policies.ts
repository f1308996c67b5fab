import pg from 'pg';
import { tableNode, type PlanContext } from './plan-context.js';
import type { SqlChunk } from './types.js';

const ident = pg.escapeIdentifier;

export function addTriggers(ctx: PlanContext): void {
  const { catalog, relName, owner, add, own } = ctx;
  for (const tg of catalog.triggers) {
    if (tg.parent_trigger) continue; // cloned to partitions by the parent's trigger
    const table = ident(relName(tg.rel));
    const sql: SqlChunk[][] = [[tg.def]];
    const state: Record<string, string> = {
      D: 'disable trigger',
      R: 'enable replica trigger',
      A: 'enable always trigger',
    };
    const change = state[tg.tgenabled];
    if (change) sql.push([`alter table ${table} ${change} ${ident(tg.tgname)}`]);
    add(`trg:${tg.oid}`, 'trigger', `${relName(tg.rel)}.${tg.tgname}`, sql, [tableNode(tg.rel)]);
    own('pg_trigger', tg.oid, `trg:${tg.oid}`);
    if (tg.tgconstraint !== '0') own('pg_constraint', tg.tgconstraint, `trg:${tg.oid}`);
  }
  for (const tg of catalog.triggers) {
    if (tg.parent_trigger)
      own('pg_trigger', tg.oid, owner.get(`pg_trigger:${tg.parent_trigger}`) ?? tableNode(tg.rel));
  }
}

export function addPolicies(ctx: PlanContext): void {
  const { catalog, relName, add, own } = ctx;
  const commands: Record<string, string> = { r: 'select', a: 'insert', w: 'update', d: 'delete', '*': 'all' };
  for (const po of catalog.policies) {
    const sql: SqlChunk[] = [
      `create policy ${ident(po.polname)} on ${ident(relName(po.rel))} as ${po.polpermissive ? 'permissive' : 'restrictive'}` +
        ` for ${commands[po.polcmd] ?? 'all'} to `,
    ];
    po.roles.forEach((role, i) => {
      if (i > 0) sql.push(', ');
      sql.push({ role });
    });
    if (po.using_expr !== null) sql.push(` using (${po.using_expr})`);
    if (po.check_expr !== null) sql.push(` with check (${po.check_expr})`);
    add(`pol:${po.oid}`, 'policy', `${relName(po.rel)}.${po.polname}`, [sql], [tableNode(po.rel)]);
    own('pg_policy', po.oid, `pol:${po.oid}`);
  }
}
