import pg from 'pg';

/**
 * Postgres values (in their text form) as the RDS Data API's Field shapes, and parameters the
 * other way, for the local Data API server. The mapping follows the Aurora User Guide ("Calling
 * the Data API": JDBC type → Field; timestamptz in UTC) and the API reference (resultSetOptions,
 * typeHint); where AWS leaves a choice undocumented, the choice is noted.
 */

/** A JSON number written exactly as its digits (a JS number cannot hold every int8). */
export class JsonNumber {
  constructor(readonly digits: string) {}
}

export type Json =
  null | boolean | number | string | JsonNumber | Json[] | { [key: string]: Json | undefined };

/** JSON text, with JsonNumbers as their digits. */
export function toJsonText(value: Json | undefined): string {
  if (value instanceof JsonNumber) return value.digits;
  if (Array.isArray(value)) return `[${value.map((v) => toJsonText(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface TypeInfo {
  typname: string;
  /** The element type of an array type, else 0. */
  elem: number;
}

// The built-in types, so that most results need no catalog lookup.
export const BUILTIN_TYPES = new Map<number, TypeInfo>(
  (
    [
      [16, 'bool'],
      [17, 'bytea'],
      [18, 'char'],
      [19, 'name'],
      [20, 'int8'],
      [21, 'int2'],
      [23, 'int4'],
      [25, 'text'],
      [26, 'oid'],
      [114, 'json'],
      [142, 'xml'],
      [650, 'cidr'],
      [700, 'float4'],
      [701, 'float8'],
      [790, 'money'],
      [869, 'inet'],
      [1042, 'bpchar'],
      [1043, 'varchar'],
      [1082, 'date'],
      [1083, 'time'],
      [1114, 'timestamp'],
      [1184, 'timestamptz'],
      [1186, 'interval'],
      [1266, 'timetz'],
      [1700, 'numeric'],
      [2950, 'uuid'],
      [3802, 'jsonb'],
      [2206, 'regtype'],
      [199, '_json', 114],
      [1000, '_bool', 16],
      [1001, '_bytea', 17],
      [1005, '_int2', 21],
      [1007, '_int4', 23],
      [1009, '_text', 25],
      [1014, '_bpchar', 1042],
      [1015, '_varchar', 1043],
      [1016, '_int8', 20],
      [1021, '_float4', 700],
      [1022, '_float8', 701],
      [1028, '_oid', 26],
      [1115, '_timestamp', 1114],
      [1182, '_date', 1082],
      [1183, '_time', 1083],
      [1185, '_timestamptz', 1184],
      [1187, '_interval', 1186],
      [1231, '_numeric', 1700],
      [2951, '_uuid', 2950],
      [3807, '_jsonb', 3802],
      [2211, '_regtype', 2206],
    ] as [number, string, number?][]
  ).map(([oid, typname, elem]) => [oid, { typname, elem: elem ?? 0 }]),
);

type Kind = 'bool' | 'long' | 'double' | 'decimal' | 'blob' | 'timestamptz' | 'string';

function kindOf(oid: number): Kind {
  switch (oid) {
    case 16:
      return 'bool';
    case 20:
    case 21:
    case 23:
    case 26:
      return 'long';
    case 700:
    case 701:
      return 'double';
    case 1700:
      return 'decimal';
    case 17:
      return 'blob';
    case 1184:
      return 'timestamptz';
    default:
      return 'string';
  }
}

// java.sql.Types, as pgjdbc reports them in ResultSetMetaData (the Data API's `type`).
const JDBC_TYPES: Record<string, number> = {
  bool: -7,
  int2: 5,
  int4: 4,
  int8: -5,
  oid: -5,
  float4: 7,
  float8: 8,
  numeric: 2,
  money: 8,
  bpchar: 1,
  char: 1,
  varchar: 12,
  text: 12,
  name: 12,
  date: 91,
  time: 92,
  timetz: 92,
  timestamp: 93,
  timestamptz: 93,
  bytea: -2,
};
const JDBC_OTHER = 1111;
const JDBC_ARRAY = 2003;

export interface ResultOptions {
  longReturnType: 'LONG' | 'STRING';
  decimalReturnType: 'STRING' | 'DOUBLE_OR_LONG';
}

/** Raised for results the Data API refuses (UnsupportedResultException). */
export class UnsupportedResult extends Error {}

/** Postgres writes timestamptz in the session's zone (UTC here) with `+00`; the Data API omits it. */
function utcWithoutOffset(text: string): string {
  return text.replace(/\+00(?=( BC)?$)/, '');
}

function isNonFinite(text: string): boolean {
  return text === 'NaN' || text === 'Infinity' || text === '-Infinity';
}

/** One scalar value as a Field. */
function scalarField(text: string, kind: Kind, options: ResultOptions): Record<string, Json> {
  switch (kind) {
    case 'bool':
      return { booleanValue: text === 't' };
    case 'long':
      return options.longReturnType === 'STRING'
        ? { stringValue: text }
        : { longValue: new JsonNumber(text) };
    case 'double':
      // JSON has no NaN or infinities; AWS does not document what it sends for them.
      return isNonFinite(text) ? { stringValue: text } : { doubleValue: new JsonNumber(text) };
    case 'decimal':
      if (options.decimalReturnType === 'STRING' || text === 'NaN' || /inf/i.test(text)) {
        return { stringValue: text };
      }
      return /^-?\d+$/.test(text) ? { longValue: new JsonNumber(text) } : { doubleValue: Number(text) };
    case 'blob':
      return { blobValue: Buffer.from(text.slice(2), 'hex').toString('base64') };
    case 'timestamptz':
      return { stringValue: utcWithoutOffset(text) };
    default:
      return { stringValue: text };
  }
}

const TEXT_ARRAY = 1009 as Parameters<typeof pg.types.getTypeParser>[0];
const parseTextArray = pg.types.getTypeParser(TEXT_ARRAY, 'text') as (text: string) => unknown[];

/** An array value as an arrayValue; multidimensional arrays are refused, as the Data API does. */
function arrayField(text: string, elem: number, options: ResultOptions): Record<string, Json> {
  const items = parseTextArray(text);
  if (items.some((item) => Array.isArray(item))) {
    throw new UnsupportedResult('The result contains a multidimensional array, which is not supported.');
  }
  const elements = items as (string | null)[];
  const kind = kindOf(elem);
  const map = <T extends Json>(f: (text: string) => T): (T | null)[] =>
    elements.map((e) => (e === null ? null : f(e)));
  if (kind === 'bool') return { arrayValue: { booleanValues: map((e) => e === 't') } };
  if (kind === 'long' && options.longReturnType === 'LONG') {
    return { arrayValue: { longValues: map((e) => new JsonNumber(e)) } };
  }
  if (kind === 'double' && !elements.some((e) => e !== null && isNonFinite(e))) {
    return { arrayValue: { doubleValues: map((e) => new JsonNumber(e)) } };
  }
  if (kind === 'timestamptz') return { arrayValue: { stringValues: map(utcWithoutOffset) } };
  return { arrayValue: { stringValues: map((e) => e) } };
}

/** One value (Postgres text form, or null) of a column of type `oid` as a Field. */
export function toField(
  text: string | null,
  oid: number,
  type: TypeInfo | undefined,
  options: ResultOptions,
): Record<string, Json> {
  if (text === null) return { isNull: true };
  if (type && type.elem !== 0 && type.typname.startsWith('_')) return arrayField(text, type.elem, options);
  return scalarField(text, kindOf(oid), options);
}

/** One value for formatRecordsAs JSON: a number, string, boolean, null or (arrays) a list. */
export function toJsonValue(
  text: string | null,
  oid: number,
  type: TypeInfo | undefined,
  options: ResultOptions,
): Json {
  const field = toField(text, oid, type, options);
  const unwrap = (f: Record<string, Json>): Json => {
    if (f['isNull']) return null;
    const array = f['arrayValue'] as Record<string, Json[]> | undefined;
    if (array) return Object.values(array)[0] ?? [];
    return Object.values(f)[0] ?? null;
  };
  return unwrap(field);
}

/** The columnMetadata entry of a result column. */
export function columnMetadata(name: string, oid: number, type: TypeInfo | undefined): Record<string, Json> {
  const typname = type?.typname ?? 'unknown';
  const isArray = type !== undefined && type.elem !== 0 && typname.startsWith('_');
  const kind = kindOf(isArray ? (type?.elem ?? 0) : oid);
  return {
    name,
    label: name,
    type: isArray ? JDBC_ARRAY : (JDBC_TYPES[typname] ?? JDBC_OTHER),
    typeName: typname,
    schemaName: '',
    tableName: '',
    isAutoIncrement: false,
    isSigned: kind === 'long' || kind === 'double' || kind === 'decimal',
    isCurrency: typname === 'money',
    isCaseSensitive: kind === 'string',
    // columnNullableUnknown: results are not traced back to their tables here.
    nullable: 2,
    precision: 0,
    scale: 0,
    arrayBaseColumnType: isArray
      ? (JDBC_TYPES[BUILTIN_TYPES.get(type?.elem ?? 0)?.typname ?? ''] ?? JDBC_OTHER)
      : 0,
  };
}

// The type a parameter is bound with: what pgjdbc sends for each Field member, and for a
// stringValue its typeHint (a plain string is a varchar, which Postgres does not coerce the
// way it coerces an untyped parameter).
const TYPE_HINTS: Record<string, number> = {
  DATE: 1082,
  TIME: 1083,
  TIMESTAMP: 1114,
  DECIMAL: 1700,
  JSON: 114,
  UUID: 2950,
};
const VARCHAR = 1043;

/** Raised for malformed parameters (BadRequestException). */
export class BadParameter extends Error {}

/** A SqlParameter's value and the type to bind it with (0: unspecified, for NULL). */
export function decodeParameter(parameter: unknown): { value: string | Buffer | null; oid: number } {
  if (typeof parameter !== 'object' || parameter === null) throw new BadParameter('Invalid parameter.');
  const { value, typeHint } = parameter as { value?: unknown; typeHint?: unknown };
  if (typeof value !== 'object' || value === null) {
    throw new BadParameter('Each parameter needs a value.');
  }
  const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (members.length !== 1) throw new BadParameter('A parameter value must have exactly one member.');
  const [member, v] = members[0] as [string, unknown];
  switch (member) {
    case 'isNull':
      return { value: null, oid: 0 };
    case 'stringValue': {
      if (typeof v !== 'string') throw new BadParameter('stringValue must be a string.');
      if (typeHint === undefined || typeHint === null) return { value: v, oid: VARCHAR };
      const oid = typeof typeHint === 'string' ? TYPE_HINTS[typeHint] : undefined;
      if (oid === undefined) throw new BadParameter(`Invalid typeHint: ${String(typeHint)}`);
      return { value: v, oid };
    }
    case 'longValue':
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw new BadParameter('longValue must be an integer.');
      return { value: String(v), oid: 20 };
    case 'doubleValue':
      if (typeof v !== 'number') throw new BadParameter('doubleValue must be a number.');
      return { value: String(v), oid: 701 };
    case 'booleanValue':
      if (typeof v !== 'boolean') throw new BadParameter('booleanValue must be a boolean.');
      return { value: v ? 'true' : 'false', oid: 16 };
    case 'blobValue':
      if (typeof v !== 'string') throw new BadParameter('blobValue must be base64.');
      return { value: Buffer.from(v, 'base64'), oid: 17 };
    case 'arrayValue':
      throw new BadParameter('Array parameters are not supported.');
    default:
      throw new BadParameter(`Unknown parameter value member: ${member}`);
  }
}
