import type { ExecResult } from '../db/executor.js';

/**
 * Result values as JSON, decided by each column's type OID. node-postgres has already parsed
 * some types (int2/int4, float, bool, json/jsonb, dates and timestamps to Date, bytea to
 * Buffer, arrays of these); this finishes the job so that nothing loses precision or turns
 * into `{}` on the way to AppSync:
 *
 * - int8: a JSON number when it is a safe integer, else a string;
 * - numeric: a string (exact);
 * - timestamptz: ISO 8601 in UTC; timestamp (no zone): its wall-clock time, written as UTC;
 *   date: `YYYY-MM-DD`; infinities: `infinity` / `-infinity`;
 * - bytea: base64; float NaN/±Infinity: strings; interval: ISO 8601 duration;
 * - json/jsonb: the parsed value; arrays (any depth) element by element.
 *
 * numeric[] arrives as strings from the pools of src/db/pool.ts; with node-postgres's default
 * parser (parseFloat) its elements would be rounded numbers, given back as strings of those.
 */

type Kind =
  'int8' | 'numeric' | 'date' | 'timestamp' | 'timestamptz' | 'bytea' | 'float' | 'interval' | 'value';

// Scalar OIDs and their array OIDs (pg_type.typarray).
const KINDS = new Map<number, Kind>([
  [20, 'int8'],
  [1016, 'int8'],
  [1700, 'numeric'],
  [1231, 'numeric'],
  [1082, 'date'],
  [1182, 'date'],
  [1114, 'timestamp'],
  [1115, 'timestamp'],
  [1184, 'timestamptz'],
  [1185, 'timestamptz'],
  [17, 'bytea'],
  [1001, 'bytea'],
  [700, 'float'],
  [701, 'float'],
  [1021, 'float'],
  [1022, 'float'],
  [1186, 'interval'],
  [1187, 'interval'],
]);

const INTEGER = /^-?\d+$/;

/** One column value as JSON, for a column of type `oid`. */
export function toJsonValue(value: unknown, oid: number): unknown {
  return convert(value, KINDS.get(oid) ?? 'value');
}

/** The rows of a result as objects keyed by column name, JSON-typed. */
export function toJsonRows(result: Pick<ExecResult, 'rows' | 'fields'>): Record<string, unknown>[] {
  return result.rows.map((row) => toJsonRow(row, result.fields));
}

export function toJsonRow(
  row: Record<string, unknown>,
  fields: ExecResult['fields'],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) out[field.name] = toJsonValue(row[field.name], field.dataTypeID);
  return out;
}

function convert(value: unknown, kind: Kind): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => convert(item, kind));
  switch (kind) {
    case 'int8':
      if (typeof value === 'string' && INTEGER.test(value)) {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : value;
      }
      if (typeof value === 'bigint') {
        return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(value)
          : value.toString();
      }
      return generic(value);
    case 'numeric':
      return typeof value === 'number' || typeof value === 'bigint' ? String(value) : generic(value);
    case 'date':
      return value instanceof Date ? datePart(wallClockAsUtc(value)) : generic(value);
    case 'timestamp':
      return value instanceof Date ? isoOrInvalid(wallClockAsUtc(value)) : generic(value);
    default:
      return generic(value);
  }
}

/** What any value becomes when its type says nothing more specific. */
function generic(value: unknown): unknown {
  if (value instanceof Date) return isoOrInvalid(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'number') {
    if (value === Infinity) return 'infinity';
    if (value === -Infinity) return '-infinity';
    return Number.isNaN(value) ? 'NaN' : value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(generic);
  if (typeof value === 'object' && value !== null) {
    const iso = (value as { toISOString?: unknown }).toISOString; // postgres-interval
    if (typeof iso === 'function') return String(iso.call(value));
  }
  return value;
}

/**
 * node-postgres parses `date` and `timestamp` (no zone) in the process's local time zone; the
 * same wall-clock fields in UTC give a text that does not depend on the process's zone.
 */
function wallClockAsUtc(date: Date): Date {
  const utc = new Date(
    Date.UTC(
      date.getFullYear(),
      date.getMonth(),
      date.getDate(),
      date.getHours(),
      date.getMinutes(),
      date.getSeconds(),
      date.getMilliseconds(),
    ),
  );
  utc.setUTCFullYear(date.getFullYear()); // years 0-99
  return utc;
}

function isoOrInvalid(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function datePart(date: Date): string | null {
  const iso = isoOrInvalid(date);
  return iso === null ? null : iso.slice(0, iso.indexOf('T'));
}
