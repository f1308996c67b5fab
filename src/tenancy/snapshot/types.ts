/**
 * A replayable description of everything in the tenant template schema.
 *
 * The catalog is read with `search_path` set to the template, so that Postgres's own deparsers
 * (pg_get_viewdef, pg_get_expr, pg_get_constraintdef, pg_get_indexdef, pg_get_triggerdef,
 * pg_get_function_sqlbody, ...) print template objects unqualified. Replayed with
 * `search_path` set to a tenant schema, the same text resolves to the tenant's objects. Where
 * a statement needs a name that differs per tenant (the tenant schema inside a function's
 * `set search_path`, a grantee that maps to a tenant role), the statement holds a placeholder
 * instead of text, filled in by `applySnapshot` with escaped identifiers or literals.
 *
 * The statements are stored in replay order: a topological sort over pg_depend, with ties
 * broken by phase (types, sequences, functions whose bodies are not parsed at creation,
 * tables with their partitions, data, constraints and indexes, foreign keys, views /
 * materialized views / SQL-standard-body functions, triggers, row security and policies,
 * OWNED BY, comments, grants). Primary keys, unique, exclusion and check constraints that
 * refer to nothing but their own table are part of CREATE TABLE, and so, without data, are
 * foreign keys between plain tables that are not in a cycle: one statement instead of one
 * ALTER TABLE each (an added foreign key also runs a validation query).
 */
export interface TemplateSnapshot {
  version: 1;
  templateSchema: string;
  /** `templateFingerprint` as read before the catalog, so a concurrent change only makes it stale. */
  fingerprint: string;
  serverVersionNum: number;
  takenAt: string;
  /** Replay order without the template's rows (foreign keys inline where the order allows). */
  statements: SnapshotStatement[];
  /**
   * Replay order for `copyData`: rows go in after the tables and before the constraints,
   * foreign keys, triggers and policies that would check, fire on or filter them.
   */
  statementsWithData: SnapshotStatement[];
  /** Statements per kind in `statements`. */
  counts: Partial<Record<ObjectKind, number>>;
  /** Things the clone copies as they are but that may surprise (see the messages). */
  warnings: string[];
}

export type ObjectKind =
  | 'type'
  | 'sequence'
  | 'function'
  | 'procedure'
  | 'table'
  | 'default'
  | 'data'
  | 'sequence value'
  | 'constraint'
  | 'foreign key'
  | 'index'
  | 'index attach'
  | 'statistics'
  | 'view'
  | 'materialized view'
  | 'rule'
  | 'trigger'
  | 'row security'
  | 'policy'
  | 'replica identity'
  | 'owned by'
  | 'comment'
  | 'grant';

/**
 * A piece of SQL text. Strings are final SQL (identifiers already quoted); the objects are
 * placeholders that differ per tenant:
 * - `{ role }`: a grantee or policy role, mapped through `target.roles`; `null` is PUBLIC;
 * - `{ target: 'identifier' }`: the tenant schema as a quoted identifier;
 * - `{ target: 'literal' }`: the tenant schema as a string literal (inside `set search_path`).
 */
export type SqlChunk = string | { role: string | null } | { target: 'identifier' | 'literal' };

export interface SnapshotStatement {
  kind: ObjectKind;
  /** Human-readable object name, for error messages. */
  label: string;
  sql: SqlChunk[];
}
