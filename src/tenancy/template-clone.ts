import pg from 'pg';
import { CognitionError } from '../errors.js';
import {
  takeSnapshot,
  templateFingerprint,
  type ObjectKind,
  type SnapshotStatement,
  type SqlChunk,
  type TemplateSnapshot,
} from './template-snapshot.js';

const ident = pg.escapeIdentifier;
const literal = pg.escapeLiteral;

export interface CloneTarget {
  /** The tenant schema, already created (empty) by cognition.create_tenant_shell. */
  schema: string;
  /**
   * Template grantee -> tenant role, e.g. `{ tenant_users: 'tenant_acme_users' }`. A grant or
   * policy role in the template that is a key here goes to the mapped role only; any other
   * grantee (PUBLIC, other roles) is kept as it is.
   */
  roles: Record<string, string>;
}

export interface CloneOptions {
  /** Copy the template's rows too (default false). Sequences keep the template's values either way. */
  copyData?: boolean;
  /**
   * Check, in the same round trip, that nothing in the tenant schema depends on the template
   * (pg_depend) and that no ACL or policy in it names a mapped role (default true; about 1 ms).
   */
  verify?: boolean;
}

export interface RenderedStatement {
  kind: ObjectKind | 'setup' | 'verify';
  label: string;
  sql: string;
}

const SAVEPOINT = 'pg_cognition_clone';

/** The statements `applySnapshot` sends, in order, for one tenant. */
export function renderSnapshot(
  snapshot: TemplateSnapshot,
  target: CloneTarget,
  options: CloneOptions = {},
): RenderedStatement[] {
  const out: RenderedStatement[] = [
    {
      kind: 'setup',
      label: 'settings',
      sql:
        `select pg_catalog.set_config('pg_cognition.clone_saved', pg_catalog.json_build_array(` +
        `pg_catalog.current_setting('search_path'), pg_catalog.current_setting('check_function_bodies'))::text, true)`,
    },
    // Unqualified names in the snapshot now resolve to (and create in) the tenant schema.
    { kind: 'setup', label: 'search_path', sql: `set local search_path = ${ident(target.schema)}, pg_temp` },
    // Bodies of plpgsql and quoted SQL functions may name objects created later.
    { kind: 'setup', label: 'check_function_bodies', sql: 'set local check_function_bodies = off' },
  ];
  for (const statement of snapshot.statements) {
    if (statement.copyDataOnly && !options.copyData) continue;
    out.push({ kind: statement.kind, label: statement.label, sql: renderChunks(statement.sql, target) });
  }
  if (options.verify !== false) {
    out.push({ kind: 'verify', label: target.schema, sql: verifySql(snapshot.templateSchema, target) });
  }
  out.push({
    kind: 'setup',
    label: 'restore settings',
    sql:
      `select pg_catalog.set_config('search_path', s::json->>0, true), pg_catalog.set_config('check_function_bodies', s::json->>1, true) ` +
      `from pg_catalog.current_setting('pg_cognition.clone_saved') s`,
  });
  return out;
}

function renderChunks(chunks: SqlChunk[], target: CloneTarget): string {
  let sql = '';
  for (const chunk of chunks) {
    if (typeof chunk === 'string') sql += chunk;
    else if ('role' in chunk)
      sql += chunk.role === null ? 'public' : ident(mapRole(chunk.role, target.roles));
    else sql += chunk.target === 'identifier' ? ident(target.schema) : literal(target.schema);
  }
  return sql;
}

function mapRole(role: string, roles: Record<string, string>): string {
  return Object.prototype.hasOwnProperty.call(roles, role) ? (roles[role] ?? role) : role;
}

/**
 * A DO block that fails the clone when an object of the tenant schema depends on an object of
 * the template (anything pg_depend records: views, defaults, checks, indexes, SQL-standard
 * bodies, triggers, policies, types of columns), or when an ACL or policy of the tenant schema
 * names a role that should have been mapped.
 */
function verifySql(templateSchema: string, target: CloneTarget): string {
  const mapped = Object.entries(target.roles)
    .filter(([from, to]) => from !== to)
    .map(([from]) => from);
  const roleArray = `array[${mapped.map(literal).join(', ')}]::text[]`;
  const body = `
declare
  v_target oid := (select n.oid from pg_catalog.pg_namespace n where n.nspname = ${literal(target.schema)});
  v_template oid := (select n.oid from pg_catalog.pg_namespace n where n.nspname = ${literal(templateSchema)});
  v_roles oid[] := array(select r.oid from pg_catalog.pg_roles r where r.rolname = any (${roleArray}));
  v_bad text;
begin
  with tpl(classid, objid) as (
    select 'pg_catalog.pg_namespace'::regclass::oid, v_template
    union all select 'pg_catalog.pg_class'::regclass::oid, c.oid from pg_catalog.pg_class c where c.relnamespace = v_template
    union all select 'pg_catalog.pg_type'::regclass::oid, t.oid from pg_catalog.pg_type t where t.typnamespace = v_template
    union all select 'pg_catalog.pg_proc'::regclass::oid, p.oid from pg_catalog.pg_proc p where p.pronamespace = v_template
    union all select 'pg_catalog.pg_constraint'::regclass::oid, co.oid from pg_catalog.pg_constraint co
      where co.connamespace = v_template
  )
  select pg_catalog.string_agg(pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) || ' depends on '
      || pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), '; ')
    into v_bad
    from tpl join pg_catalog.pg_depend d on d.refclassid = tpl.classid and d.refobjid = tpl.objid
    where case d.classid
      when 'pg_catalog.pg_class'::regclass then (select c.relnamespace from pg_catalog.pg_class c where c.oid = d.objid)
      when 'pg_catalog.pg_type'::regclass then (select t.typnamespace from pg_catalog.pg_type t where t.oid = d.objid)
      when 'pg_catalog.pg_proc'::regclass then (select p.pronamespace from pg_catalog.pg_proc p where p.oid = d.objid)
      when 'pg_catalog.pg_constraint'::regclass then
        (select co.connamespace from pg_catalog.pg_constraint co where co.oid = d.objid)
      when 'pg_catalog.pg_attrdef'::regclass then (select c.relnamespace from pg_catalog.pg_attrdef a
        join pg_catalog.pg_class c on c.oid = a.adrelid where a.oid = d.objid)
      when 'pg_catalog.pg_rewrite'::regclass then (select c.relnamespace from pg_catalog.pg_rewrite r
        join pg_catalog.pg_class c on c.oid = r.ev_class where r.oid = d.objid)
      when 'pg_catalog.pg_trigger'::regclass then (select c.relnamespace from pg_catalog.pg_trigger t
        join pg_catalog.pg_class c on c.oid = t.tgrelid where t.oid = d.objid)
      when 'pg_catalog.pg_policy'::regclass then (select c.relnamespace from pg_catalog.pg_policy p
        join pg_catalog.pg_class c on c.oid = p.polrelid where p.oid = d.objid)
      when 'pg_catalog.pg_statistic_ext'::regclass then
        (select s.stxnamespace from pg_catalog.pg_statistic_ext s where s.oid = d.objid)
    end = v_target;
  if v_bad is not null then
    raise exception 'ERR_CLONE_FAILED: the copy depends on the template: %', v_bad;
  end if;
  if pg_catalog.cardinality(v_roles) > 0 then
    select pg_catalog.string_agg(x, '; ') into v_bad from (
      select pg_catalog.format('%I', c.relname) as x from pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        where c.relnamespace = v_target and a.grantee = any (v_roles)
      union all select pg_catalog.format('%I.%I', c.relname, att.attname) from pg_catalog.pg_attribute att
        join pg_catalog.pg_class c on c.oid = att.attrelid, pg_catalog.aclexplode(att.attacl) a
        where c.relnamespace = v_target and att.attacl is not null and a.grantee = any (v_roles)
      union all select pg_catalog.format('%I()', p.proname) from pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        where p.pronamespace = v_target and a.grantee = any (v_roles)
      union all select pg_catalog.format('type %I', t.typname) from pg_catalog.pg_type t, pg_catalog.aclexplode(t.typacl) a
        where t.typnamespace = v_target and a.grantee = any (v_roles)
      union all select pg_catalog.format('policy %I on %I', po.polname, c.relname) from pg_catalog.pg_policy po
        join pg_catalog.pg_class c on c.oid = po.polrelid
        where c.relnamespace = v_target and po.polroles && v_roles
    ) s;
    if v_bad is not null then
      raise exception 'ERR_CLONE_FAILED: the copy grants to a role that should have been mapped: %', v_bad;
    end if;
  end if;
end`;
  return `do ${dollarQuote(body, 'pgc_verify')}`;
}

function dollarQuote(body: string, name: string): string {
  let tag = `$${name}$`;
  for (let n = 0; body.includes(tag); n++) tag = `$${name}_${n}$`;
  return `${tag}${body}${tag}`;
}

/**
 * Recreates the template in `target.schema`. Runs inside the caller's transaction, as
 * cognition_owner, after cognition.create_tenant_shell created the (empty) schema. The whole
 * replay is one multi-statement query (one round trip) inside a savepoint; on failure the
 * savepoint is rolled back and the error names the object that failed.
 */
export async function applySnapshot(
  client: pg.ClientBase,
  snapshot: TemplateSnapshot,
  target: CloneTarget,
  options: CloneOptions = {},
): Promise<void> {
  if (snapshot.version !== 1) {
    throw new CognitionError('ERR_CLONE_FAILED', `unsupported snapshot version ${String(snapshot.version)}`);
  }
  if (target.schema === snapshot.templateSchema) {
    throw new CognitionError('ERR_INVALID_ARGUMENT', 'the target schema is the template itself');
  }
  const statements = renderSnapshot(snapshot, target, options);
  const { sql, offsets } = joinWithOffsets([
    `savepoint ${SAVEPOINT}`,
    ...statements.map((s) => s.sql),
    `release savepoint ${SAVEPOINT}`,
  ]);
  try {
    await client.query(sql);
  } catch (error) {
    throw await explainFailure(client, error, sql, offsets, statements, target.schema);
  }
}

function joinWithOffsets(parts: string[]): { sql: string; offsets: number[] } {
  const offsets: number[] = [];
  let sql = '';
  for (const part of parts) {
    if (sql) sql += ';\n';
    offsets.push(sql.length);
    sql += part;
  }
  return { sql, offsets };
}

async function explainFailure(
  client: pg.ClientBase,
  error: unknown,
  sql: string,
  offsets: number[],
  statements: RenderedStatement[],
  schema: string,
): Promise<Error> {
  const fields = error as { code?: string; position?: string };
  if (fields.code === '25P01') {
    return new CognitionError('ERR_CLONE_FAILED', 'applySnapshot must run inside a transaction', {
      cause: error,
    });
  }
  if (fields.code === '25P02') return error as Error; // the caller's transaction had already failed
  let failed: RenderedStatement | undefined;
  let rolledBack = false;
  try {
    await client.query(`rollback to savepoint ${SAVEPOINT}`);
    rolledBack = true;
  } catch {
    // The savepoint itself failed: nothing to roll back to.
  }
  const position = Number(fields.position);
  if (Number.isInteger(position) && position > 0) {
    // Positions count characters, JavaScript strings count UTF-16 units.
    const index = [...sql].slice(0, position - 1).join('').length;
    let statementIndex = -1;
    for (let i = 0; i < offsets.length; i++) if ((offsets[i] ?? Infinity) <= index) statementIndex = i;
    failed = statements[statementIndex - 1];
  } else if (rolledBack) {
    // Replay one statement at a time to find the one that fails, then undo it all again.
    for (const statement of statements) {
      try {
        await client.query(statement.sql);
      } catch {
        failed = statement;
        break;
      }
    }
    await client.query(`rollback to savepoint ${SAVEPOINT}`).catch(() => {});
  }
  if (rolledBack) await client.query(`release savepoint ${SAVEPOINT}`).catch(() => {});
  const message = error instanceof Error ? error.message : String(error);
  const what = failed ? `${failed.kind} ${failed.label}` : 'the template';
  return new CognitionError('ERR_CLONE_FAILED', `cloning ${what} into ${schema} failed: ${message}`, {
    cause: error,
    safe: false,
    details: failed ? { kind: failed.kind, object: failed.label, statement: failed.sql } : undefined,
  });
}

// ---------------------------------------------------------------------------------------------

export interface TemplateCloner {
  readonly templateSchema: string;
  /** The cached snapshot, re-read when the template's fingerprint changed. */
  snapshot(client: pg.ClientBase): Promise<TemplateSnapshot>;
  /** One fingerprint query, plus a catalog read when the template changed, plus the replay. */
  clone(client: pg.ClientBase, target: CloneTarget, options?: CloneOptions): Promise<TemplateSnapshot>;
  /** Forgets the cached snapshot. */
  invalidate(): void;
}

export function createTemplateCloner(templateSchema = 'tenant_template'): TemplateCloner {
  let cached: TemplateSnapshot | undefined;

  const snapshot = async (client: pg.ClientBase): Promise<TemplateSnapshot> => {
    const fingerprint = await templateFingerprint(client, templateSchema);
    if (cached && cached.fingerprint === fingerprint) return cached;
    // Read through this caller's client (and so its transaction); concurrent callers that
    // both see a change both read, which is rare and harmless.
    const fresh = await takeSnapshot(client, templateSchema);
    cached = fresh;
    return fresh;
  };

  return {
    templateSchema,
    snapshot,
    async clone(client, target, options) {
      const snap = await snapshot(client);
      await applySnapshot(client, snap, target, options);
      return snap;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

export type { ObjectKind, SnapshotStatement, SqlChunk, TemplateSnapshot };
