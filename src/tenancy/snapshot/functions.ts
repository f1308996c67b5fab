import pg from 'pg';
import type { FunctionRow } from './catalog-rows.js';
import { configClause } from './function-settings.js';
import type { PlanContext } from './plan-context.js';
import { typeOwner } from './types-and-sequences.js';
import type { ObjectKind, SqlChunk } from './types.js';

const ident = pg.escapeIdentifier;
const literal = pg.escapeLiteral;

export function routineRef(f: FunctionRow): string {
  return `${f.prokind === 'p' ? 'procedure' : 'function'} ${ident(f.proname)}(${f.identity_args})`;
}

export function addFunctions(ctx: PlanContext): void {
  const { catalog, templateSchema, warnings, add, own } = ctx;
  for (const f of catalog.functions) {
    if (f.part_of_type) {
      // Constructors of a range or multirange type: created with the range type.
      const typeNode = typeOwner(ctx, f.part_of_type);
      if (typeNode) own('pg_proc', f.oid, typeNode);
      continue;
    }
    const sql: SqlChunk[] = [];
    const isProcedure = f.prokind === 'p';
    sql.push(`create ${isProcedure ? 'procedure' : 'function'} ${ident(f.proname)}(${f.args})`);
    if (!isProcedure) sql.push(` returns ${f.result ?? 'void'}`);
    sql.push(`\n language ${ident(f.lanname)}`);
    if (f.prokind === 'w') sql.push(' window');
    if (!isProcedure) {
      sql.push(f.provolatile === 'i' ? ' immutable' : f.provolatile === 's' ? ' stable' : ' volatile');
      if (f.proisstrict) sql.push(' strict');
    }
    if (f.prosecdef) sql.push(' security definer');
    if (!isProcedure) {
      if (f.proleakproof) sql.push(' leakproof');
      sql.push(
        f.proparallel === 's' ? ' parallel safe' : f.proparallel === 'r' ? ' parallel restricted' : '',
      );
      sql.push(` cost ${f.procost}`);
      if (f.proretset) sql.push(` rows ${f.prorows}`);
      if (f.support) sql.push(` support ${f.support}`);
    }
    for (const item of f.proconfig ?? []) sql.push(...configClause(item, templateSchema));
    if (f.sqlbody !== null) {
      sql.push(`\n${f.sqlbody}`);
    } else if (f.lanname === 'c') {
      sql.push(`\n as ${literal(f.probin ?? '')}, ${literal(f.prosrc)}`);
    } else if (f.lanname === 'internal') {
      sql.push(`\n as ${literal(f.prosrc)}`);
    } else {
      sql.push(`\n as ${dollarQuote(f.prosrc)}`);
      if (mentionsSchema(f.prosrc, templateSchema)) {
        warnings.push(
          `the body of ${f.proname}(${f.identity_args}) names the schema ${templateSchema}; ` +
            'the copy keeps that text as it is (use unqualified names and set search_path instead)',
        );
      }
    }
    const kind: ObjectKind = isProcedure ? 'procedure' : 'function';
    add(`fn:${f.oid}`, kind, `${f.proname}(${f.identity_args})`, [sql]);
    own('pg_proc', f.oid, `fn:${f.oid}`);
  }
}

function dollarQuote(body: string): string {
  let tag = '$function$';
  for (let n = 0; body.includes(tag); n++) tag = `$function_${n}$`;
  return `${tag}${body}${tag}`;
}

/** True when `text` names `schema` followed by a dot, quoted or not. */
function mentionsSchema(text: string, schema: string): boolean {
  const lower = text.toLowerCase();
  return lower.includes(`${schema.toLowerCase()}.`) || text.includes(`${ident(schema)}.`);
}
