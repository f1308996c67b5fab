import pg from 'pg';
import type { CommentRow } from './catalog-rows.js';
import { routineRef } from './functions.js';
import type { PlanContext } from './plan-context.js';

const ident = pg.escapeIdentifier;
const literal = pg.escapeLiteral;

export function addComments(ctx: PlanContext): void {
  const { catalog, owner, add } = ctx;
  for (const cm of catalog.comments) {
    const target = commentTarget(cm, ctx);
    if (!target) continue;
    const dep = owner.get(`${cm.class}:${cm.objoid}`);
    add(
      `comment:${cm.class}:${cm.objoid}:${cm.objsubid}`,
      'comment',
      target,
      [[`comment on ${target} is ${literal(cm.description)}`]],
      dep ? [dep] : [],
    );
  }
}

/** `table "x"`, `column "x"."y"`, `function "f"(integer)`, ...: what COMMENT ON needs. */
function commentTarget(cm: CommentRow, ctx: PlanContext): string | undefined {
  switch (cm.class) {
    case 'pg_class': {
      const rel = ctx.rels.get(cm.objoid);
      const index = ctx.catalog.indexes.find((i) => i.oid === cm.objoid);
      if (index) return `index ${ident(index.relname)}`;
      if (!rel) return undefined;
      if (cm.objsubid > 0) {
        const col = ctx.columnsOf.get(rel.oid)?.find((c) => c.attnum === cm.objsubid);
        return col ? `column ${ident(rel.relname)}.${ident(col.attname)}` : undefined;
      }
      const kinds: Record<string, string> = {
        r: 'table',
        p: 'table',
        v: 'view',
        m: 'materialized view',
        S: 'sequence',
        c: 'type',
      };
      const kind = kinds[rel.relkind];
      return kind ? `${kind} ${ident(rel.relname)}` : undefined;
    }
    case 'pg_proc': {
      const f = ctx.functions.get(cm.objoid);
      return f ? routineRef(f) : undefined;
    }
    case 'pg_type': {
      const t = ctx.types.get(cm.objoid);
      if (!t) return undefined;
      return `${t.typtype === 'd' ? 'domain' : 'type'} ${ident(t.typname)}`;
    }
    case 'pg_constraint': {
      const co = ctx.constraints.get(cm.objoid);
      if (!co) return undefined;
      if (co.contypid !== '0') {
        const t = ctx.types.get(co.contypid);
        return t ? `constraint ${ident(co.conname)} on domain ${ident(t.typname)}` : undefined;
      }
      return `constraint ${ident(co.conname)} on ${ident(ctx.relName(co.conrelid))}`;
    }
    case 'pg_trigger': {
      const tg = ctx.triggers.get(cm.objoid);
      return tg ? `trigger ${ident(tg.tgname)} on ${ident(ctx.relName(tg.rel))}` : undefined;
    }
    case 'pg_policy': {
      const po = ctx.catalog.policies.find((p) => p.oid === cm.objoid);
      return po ? `policy ${ident(po.polname)} on ${ident(ctx.relName(po.rel))}` : undefined;
    }
    case 'pg_rewrite': {
      const ru = ctx.catalog.rules.find((r) => r.oid === cm.objoid);
      return ru ? `rule ${ident(ru.rulename)} on ${ident(ctx.relName(ru.rel))}` : undefined;
    }
    case 'pg_statistic_ext': {
      const st = ctx.catalog.statistics.find((s) => s.oid === cm.objoid);
      return st ? `statistics ${ident(st.stxname)}` : undefined;
    }
    default:
      return undefined;
  }
}
