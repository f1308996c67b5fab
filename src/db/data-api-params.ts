import type { Field, SqlParameter } from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { rewritePositional } from './sql-tokens.js';

// node-postgres's own conversion of a JS value to the text it sends (Date, arrays, objects,
// Buffer, toPostgres()); it is on the default export at run time but not in its typings.
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;

/**
 * One JS parameter as a Data API Field, carrying the exact text node-postgres would send, so the
 * server parses it with the same input function. Buffers travel as bytes (blobValue).
 */
export function toField(value: unknown): Field {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return { isNull: true };
  if (Buffer.isBuffer(prepared)) return { blobValue: new Uint8Array(prepared) };
  return { stringValue: String(prepared) };
}

export interface NamedStatement {
  sql: string;
  parameters: SqlParameter[];
}

/**
 * The statement with `$n` turned into the Data API's `:pn`.
 *
 * The Data API binds a stringValue as `varchar` (pgjdbc's default), where node-postgres leaves
 * the type unspecified for Postgres to infer: `uuid_column = $1` works there and fails here
 * ("operator does not exist: uuid = character varying"). Given the types Postgres inferred for
 * the parameters (`types[n - 1]`, as `regtype` text), each becomes `cast(:pn as <type>)`, which
 * runs the same input function on the same text: the statement means what it means under
 * node-postgres. Without types, parameters stay bare (varchar).
 */
export function namedStatement(
  sql: string,
  params: readonly unknown[],
  types?: readonly string[],
): NamedStatement {
  const text = rewritePositional(sql, (n) => {
    const type = types?.[n - 1];
    return type === undefined ? `:p${n}` : `cast(:p${n} as ${type})`;
  });
  return {
    sql: text,
    parameters: params.map((value, i) => ({ name: `p${i + 1}`, value: toField(value) })),
  };
}
