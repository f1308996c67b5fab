import pg from 'pg';
import { tableNode, type PlanContext } from './plan-context.js';

const ident = pg.escapeIdentifier;

export function addStatistics(ctx: PlanContext): void {
  const { catalog, relName, add, own } = ctx;
  // pg_get_statisticsobjdef always qualifies the statistics object's name: built from parts.
  const statKinds: Record<string, string> = { d: 'ndistinct', f: 'dependencies', m: 'mcv' };
  for (const st of catalog.statistics) {
    const kinds = st.kinds.map((k) => statKinds[k]).filter((k): k is string => k !== undefined);
    const kindList = st.targets > 1 && kinds.length > 0 ? ` (${kinds.join(', ')})` : '';
    const sql = `create statistics ${ident(st.stxname)}${kindList} on ${st.columns} from ${ident(relName(st.rel))}`;
    add(`stx:${st.oid}`, 'statistics', st.stxname, [[sql]], [tableNode(st.rel)]);
    own('pg_statistic_ext', st.oid, `stx:${st.oid}`);
  }
}

export function addRules(ctx: PlanContext): void {
  const { catalog, relName, add, own } = ctx;
  for (const ru of catalog.rules) {
    add(
      `rule:${ru.oid}`,
      'rule',
      `${relName(ru.rel)}.${ru.rulename}`,
      [[ru.def.trim().replace(/;$/, '')]],
      [tableNode(ru.rel)],
    );
    own('pg_rewrite', ru.oid, `rule:${ru.oid}`);
  }
}
