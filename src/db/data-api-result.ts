import type { ArrayValue, ColumnMetadata, Field as DataApiField } from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { CognitionError } from '../errors.js';
import type { ExecResult, Field } from './executor.js';

/** The parts of an ExecuteStatement response that make a result. */
export interface DataApiOutput {
  records?: DataApiField[][];
  columnMetadata?: ColumnMetadata[];
  numberOfRecordsUpdated?: number;
}

// Postgres type OIDs by the name the Data API reports in columnMetadata.typeName (pg_type.typname,
// as pgjdbc gives it; arrays are `_elem`; serial columns are named after their sequence kind).
const OIDS: Record<string, number> = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  bigserial: 20,
  int2: 21,
  smallserial: 21,
  int4: 23,
  serial: 23,
  regproc: 24,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  _xml: 143,
  _json: 199,
  cidr: 650,
  _cidr: 651,
  float4: 700,
  float8: 701,
  money: 790,
  _money: 791,
  macaddr: 829,
  inet: 869,
  _bool: 1000,
  _bytea: 1001,
  _char: 1002,
  _name: 1003,
  _int2: 1005,
  _int4: 1007,
  _regproc: 1008,
  _text: 1009,
  _bpchar: 1014,
  _varchar: 1015,
  _int8: 1016,
  _float4: 1021,
  _float8: 1022,
  _oid: 1028,
  _macaddr: 1040,
  _inet: 1041,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  _timestamp: 1115,
  _date: 1182,
  _time: 1183,
  timestamptz: 1184,
  _timestamptz: 1185,
  interval: 1186,
  _interval: 1187,
  _numeric: 1231,
  timetz: 1266,
  _timetz: 1270,
  bit: 1560,
  varbit: 1562,
  numeric: 1700,
  regclass: 2205,
  regtype: 2206,
  _regtype: 2211,
  uuid: 2950,
  _uuid: 2951,
  jsonb: 3802,
  _jsonb: 3807,
};

const TEXT = 25;
const TEXT_ARRAY = 1009;
const NUMERIC_ARRAY = 1231;
const TIMESTAMPTZ = 1184;
const TIMESTAMPTZ_ARRAY = 1185;

/**
 * The OID node-postgres would report for a column the Data API names `typeName`. Types it cannot
 * know (enums, domains, composites, extension types) come back as text, which is what their
 * values are.
 */
export function oidOfTypeName(typeName: string | undefined): number {
  return OIDS[(typeName ?? '').toLowerCase()] ?? TEXT;
}

// The parsers of this project's pools (src/db/pool.ts): node-postgres's defaults, except that
// numeric[] keeps its elements as text, like a plain numeric.
function parse(oid: number, text: string): unknown {
  return pg.types.getTypeParser(oid === NUMERIC_ARRAY ? TEXT_ARRAY : oid, 'text')(text);
}

/**
 * The Data API returns timestamptz values in UTC without an offset ("always returns TIMESTAMPTZ
 * in UTC", Aurora User Guide, Calling the Data API); node-postgres would read a bare timestamp as
 * local time.
 */
function asUtc(text: string): string {
  const bc = text.endsWith(' BC');
  const time = bc ? text.slice(0, -3) : text;
  if (/([+-]\d\d(:?\d\d){0,2}|Z)$/.test(time) || /infinity$/.test(time)) return text;
  return `${time}+00${bc ? ' BC' : ''}`;
}

function quoteElement(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** The Postgres text form of an arrayValue, for node-postgres's array parser of that type. */
function arrayLiteral(value: ArrayValue, utc: boolean): string {
  if (value.arrayValues) {
    return `{${value.arrayValues.map((v) => (v === null ? 'NULL' : arrayLiteral(v, utc))).join(',')}}`;
  }
  const items: readonly unknown[] =
    value.stringValues ?? value.longValues ?? value.doubleValues ?? value.booleanValues ?? [];
  const elements = items.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (typeof item === 'boolean') return item ? 't' : 'f';
    return quoteElement(utc ? asUtc(String(item)) : String(item));
  });
  return `{${elements.join(',')}}`;
}

/**
 * One value as node-postgres gives it for a column of type `oid`: every form the Data API
 * returns is turned back into Postgres's text form and read by the pool's parser for that type,
 * so both drivers yield the same JS values by construction.
 */
export function fieldValue(field: DataApiField, oid: number): unknown {
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue);
  if (field.longValue !== undefined) return parse(oid, String(field.longValue));
  if (field.doubleValue !== undefined) return parse(oid, String(field.doubleValue));
  if (field.stringValue !== undefined) {
    return parse(oid, oid === TIMESTAMPTZ ? asUtc(field.stringValue) : field.stringValue);
  }
  if (field.arrayValue !== undefined) {
    return parse(oid, arrayLiteral(field.arrayValue, oid === TIMESTAMPTZ_ARRAY));
  }
  throw new CognitionError('ERR_DATA_API', 'the Data API returned a value of an unknown kind', {
    safe: false,
  });
}

// Command tags whose rowCount node-postgres reports; for the others (DDL, SET, ...) it is null.
const COUNTED = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'FETCH', 'MOVE', 'COPY']);

/**
 * An ExecuteStatement response as the ExecResult node-postgres gives for the same statement.
 * `command` comes from the SQL (statementCommand), as the Data API does not return it. Rows that
 * come back (SELECT, or RETURNING) are the row count; otherwise numberOfRecordsUpdated is.
 */
export function toExecResult<R = Record<string, unknown>>(
  output: DataApiOutput,
  command: string,
): ExecResult<R> {
  const records = output.records ?? [];
  const columns = output.columnMetadata ?? [];
  if (records.length > 0 && columns.length === 0) {
    throw new CognitionError('ERR_DATA_API', 'the Data API returned rows without column metadata', {
      safe: false,
    });
  }
  const fields: Field[] = columns.map((c) => ({
    name: c.label || c.name || '?column?',
    dataTypeID: oidOfTypeName(c.typeName),
  }));
  const rows = records.map((record) => {
    const row: Record<string, unknown> = {};
    // Later columns of the same name win, as with node-postgres.
    fields.forEach((f, i) => {
      const value = record[i];
      row[f.name] = value === undefined ? null : fieldValue(value, f.dataTypeID);
    });
    return row as R;
  });
  const hasResultSet = columns.length > 0 || records.length > 0;
  const rowCount = !COUNTED.has(command)
    ? null
    : hasResultSet
      ? records.length
      : (output.numberOfRecordsUpdated ?? 0);
  return { rows, fields, rowCount, command };
}
