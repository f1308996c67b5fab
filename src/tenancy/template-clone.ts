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
   * (pg_depend) and that no ACL or policy in it names a mapped role (default true; a few ms, found
   * through indexes so it does not grow with the number of tenants).
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
  for (const statement of options.copyData ? snapshot.statementsWithData : snapshot.statements) {
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
 * One query that lists what would break the promise of the clone: objects of the tenant schema
 * that depend on an object of the template (anything pg_depend records: views, defaults,
 * checks, indexes, SQL-standard bodies, triggers, policies, column types), and ACL entries or
 * policies of the tenant schema that name a role that should have been mapped. `applySnapshot`
 * fails when either column is not null.
 *
 * Both are found through indexes, so the cost follows the size of the template, not the size
 * of the catalog (which grows with every tenant): everything that depends on the template is
 * reached by walking pg_depend from the template schema, and every ACL entry or policy that
 * names a role is recorded in pg_shdepend under that role.
 */
function verifySql(templateSchema: string, target: CloneTarget): string {
  const mapped = Object.entries(target.roles)
    .filter(([from, to]) => from !== to)
    .map(([from]) => from);
  const roleList = `array[${mapped.map(literal).join(', ')}]::text[]`;
  const targetOid = `(select n.oid from pg_catalog.pg_namespace n where n.nspname = ${literal(target.schema)})`;
  const templateOid = `(select n.oid from pg_catalog.pg_namespace n where n.nspname = ${literal(templateSchema)})`;
  const namespaceOf = (classid: string, objid: string) => `case ${classid}
    when 'pg_catalog.pg_namespace'::regclass then ${objid}
    when 'pg_catalog.pg_class'::regclass then (select c.relnamespace from pg_catalog.pg_class c where c.oid = ${objid})
    when 'pg_catalog.pg_type'::regclass then (select t.typnamespace from pg_catalog.pg_type t where t.oid = ${objid})
    when 'pg_catalog.pg_proc'::regclass then (select p.pronamespace from pg_catalog.pg_proc p where p.oid = ${objid})
    when 'pg_catalog.pg_constraint'::regclass then
      (select co.connamespace from pg_catalog.pg_constraint co where co.oid = ${objid})
    when 'pg_catalog.pg_attrdef'::regclass then (select c.relnamespace from pg_catalog.pg_attrdef ad
      join pg_catalog.pg_class c on c.oid = ad.adrelid where ad.oid = ${objid})
    when 'pg_catalog.pg_rewrite'::regclass then (select c.relnamespace from pg_catalog.pg_rewrite r
      join pg_catalog.pg_class c on c.oid = r.ev_class where r.oid = ${objid})
    when 'pg_catalog.pg_trigger'::regclass then (select c.relnamespace from pg_catalog.pg_trigger tg
      join pg_catalog.pg_class c on c.oid = tg.tgrelid where tg.oid = ${objid})
    when 'pg_catalog.pg_policy'::regclass then (select c.relnamespace from pg_catalog.pg_policy po
      join pg_catalog.pg_class c on c.oid = po.polrelid where po.oid = ${objid})
    when 'pg_catalog.pg_statistic_ext'::regclass then
      (select s.stxnamespace from pg_catalog.pg_statistic_ext s where s.oid = ${objid})
  end`;
  return `with recursive dependents(classid, objid) as (
  select 'pg_catalog.pg_namespace'::regclass::oid, ${templateOid}
  union
  select d.classid, d.objid from dependents o
  join pg_catalog.pg_depend d on d.refclassid = o.classid and d.refobjid = o.objid
),
leaks(x) as (
  select pg_catalog.pg_describe_object(o.classid, o.objid, 0) || ' depends on ' || (
    select pg_catalog.string_agg(pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), ', ')
    from pg_catalog.pg_depend d where d.classid = o.classid and d.objid = o.objid)
  from dependents o
  where ${namespaceOf('o.classid', 'o.objid')} = ${targetOid}
),
unmapped(x) as (
  select pg_catalog.pg_describe_object(sd.classid, sd.objid, sd.objsubid) || ' names ' || r.rolname
  from pg_catalog.pg_roles r
  join pg_catalog.pg_shdepend sd on sd.refclassid = 'pg_catalog.pg_authid'::regclass and sd.refobjid = r.oid
  where r.rolname = any (${roleList})
    and sd.dbid = (select db.oid from pg_catalog.pg_database db where db.datname = pg_catalog.current_database())
    and ${namespaceOf('sd.classid', 'sd.objid')} = ${targetOid}
)
select (select pg_catalog.string_agg(x, '; ') from leaks) as pgc_clone_leaks,
  (select pg_catalog.string_agg(x, '; ') from unmapped) as pgc_clone_unmapped`;
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
  const verify = options.verify !== false;
  const statements = renderSnapshot(snapshot, target, options);
  // Without the check, the savepoint is released in the same round trip; with it, once the
  // verdict has been read (and rolled back to when the verdict is bad).
  const parts = [`savepoint ${SAVEPOINT}`, ...statements.map((s) => s.sql)];
  if (!verify) parts.push(`release savepoint ${SAVEPOINT}`);
  const { sql, offsets } = joinWithOffsets(parts);
  let results: pg.QueryResult[];
  try {
    results = [(await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[]].flat();
  } catch (error) {
    throw await explainFailure(client, error, sql, offsets, statements, target.schema);
  }
  if (!verify) return;
  const verdict = results.find((r) => r.fields?.some((f) => f.name === 'pgc_clone_leaks'))?.rows[0] as
    { pgc_clone_leaks: string | null; pgc_clone_unmapped: string | null } | undefined;
  if (verdict && verdict.pgc_clone_leaks === null && verdict.pgc_clone_unmapped === null) {
    await client.query(`release savepoint ${SAVEPOINT}`);
    return;
  }
  // Undo the copy; the caller's transaction stays usable (and is expected to roll back).
  await client.query(`rollback to savepoint ${SAVEPOINT}; release savepoint ${SAVEPOINT}`);
  const problem = !verdict
    ? 'the check returned no verdict'
    : verdict.pgc_clone_leaks !== null
      ? `the copy depends on the template: ${verdict.pgc_clone_leaks}`
      : `the copy grants to a role that should have been mapped: ${verdict.pgc_clone_unmapped}`;
  throw new CognitionError(
    'ERR_CLONE_FAILED',
    `cloning the template into ${target.schema} failed: ${problem}`,
    {
      safe: false,
      details: { leaks: verdict?.pgc_clone_leaks ?? null, unmapped: verdict?.pgc_clone_unmapped ?? null },
    },
  );
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
  /**
   * One fingerprint query, plus a catalog read when the template changed, plus the replay.
   * The replay's check (`verify`) runs on the first clone of each snapshot unless set.
   */
  clone(client: pg.ClientBase, target: CloneTarget, options?: CloneOptions): Promise<TemplateSnapshot>;
  /** Forgets the cached snapshot. */
  invalidate(): void;
}

export interface TemplateClonerOptions {
  /**
   * How long a fingerprint check stays good (default 2000 ms). A template migration, from
   * any process, is seen at once (cognition.template_migrations changes); a change made to
   * the template by hand, outside migrations, is seen within this time.
   */
  recheckMs?: number;
}

export function createTemplateCloner(
  templateSchema = 'tenant_template',
  options: TemplateClonerOptions = {},
): TemplateCloner {
  const recheckMs = options.recheckMs ?? 2000;
  let cached: TemplateSnapshot | undefined;
  let checkedAt = -Infinity;
  let checkedVersion: string | undefined;
  // The replay of one snapshot is the same for every tenant but for the schema and role names,
  // so its check (options.verify) runs on the first clone of each snapshot and role mapping,
  // unless the caller asks for it explicitly.
  const verified = new WeakMap<TemplateSnapshot, Set<string>>();

  const snapshot = async (client: pg.ClientBase): Promise<TemplateSnapshot> => {
    // The fingerprint costs milliseconds; the migrations' version a fraction of one.
    const { rows } = await client.query<{ v: string }>({
      name: 'pg_cognition_template_version',
      text: "select coalesce(max(version), 0) || '/' || count(*) as v from cognition.template_migrations",
    });
    const version = rows[0]?.v;
    if (cached && version === checkedVersion && performance.now() - checkedAt < recheckMs) return cached;
    const fingerprint = await templateFingerprint(client, templateSchema);
    checkedAt = performance.now();
    checkedVersion = version;
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
    async clone(client, target, options = {}) {
      const snap = await snapshot(client);
      const key = `${options.copyData ? 'data' : 'schema'}:${Object.keys(target.roles).sort().join(',')}`;
      const done = verified.get(snap) ?? new Set<string>();
      const verify = options.verify ?? !done.has(key);
      await applySnapshot(client, snap, target, { ...options, verify });
      if (verify) verified.set(snap, done.add(key));
      return snap;
    },
    invalidate() {
      cached = undefined;
      checkedAt = -Infinity;
    },
  };
}

export type { ObjectKind, SnapshotStatement, SqlChunk, TemplateSnapshot };
