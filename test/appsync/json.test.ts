import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { toJsonRow, toJsonValue } from '../../src/appsync/json.js';

/** Values as node-postgres hands them over: the text format through its own type parsers. */
const parse = (oid: number, text: string): unknown => pg.types.getTypeParser(oid, 'text')(text);

describe('JSON typing of result values (by type OID)', () => {
  const savedTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = savedTz;
  });

  it('int8: a number while safe, a string beyond', () => {
    expect(toJsonValue(parse(20, '42'), 20)).toBe(42);
    expect(toJsonValue(parse(20, '-9007199254740991'), 20)).toBe(-9007199254740991);
    expect(toJsonValue(parse(20, '9007199254740993'), 20)).toBe('9007199254740993');
    expect(toJsonValue(parse(20, '-9223372036854775808'), 20)).toBe('-9223372036854775808');
    expect(toJsonValue(parse(1016, '{1,9007199254740993,NULL}'), 1016)).toEqual([
      1,
      '9007199254740993',
      null,
    ]);
    expect(toJsonValue(12n, 20)).toBe(12);
    expect(toJsonValue(2n ** 60n, 20)).toBe('1152921504606846976');
  });

  it('numeric: an exact string', () => {
    expect(toJsonValue(parse(1700, '1.10'), 1700)).toBe('1.10');
    expect(toJsonValue(parse(1700, '123456789012345678901234567890.5'), 1700)).toBe(
      '123456789012345678901234567890.5',
    );
    // node-postgres parses numeric[] with parseFloat: strings of what it kept.
    expect(toJsonValue(parse(1231, '{1.5,NULL}'), 1231)).toEqual(['1.5', null]);
  });

  it('timestamptz: ISO 8601 in UTC', () => {
    expect(toJsonValue(parse(1184, '2024-01-02 03:04:05.678+02'), 1184)).toBe('2024-01-02T01:04:05.678Z');
    expect(toJsonValue(parse(1185, '{"2024-01-02 03:04:05+00",NULL}'), 1185)).toEqual([
      '2024-01-02T03:04:05.000Z',
      null,
    ]);
    expect(toJsonValue(parse(1184, 'infinity'), 1184)).toBe('infinity');
    expect(toJsonValue(parse(1184, '-infinity'), 1184)).toBe('-infinity');
  });

  it('timestamp and date keep their wall-clock value whatever the process time zone', () => {
    for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      process.env.TZ = tz;
      // The zone is in effect: the parsed Date itself is an instant in that zone.
      const raw = parse(1114, '2024-01-02 03:04:05.678') as Date;
      expect(raw.toISOString() === '2024-01-02T03:04:05.678Z', tz).toBe(tz === 'UTC');
      expect(toJsonValue(parse(1114, '2024-01-02 03:04:05.678'), 1114), tz).toBe('2024-01-02T03:04:05.678Z');
      expect(toJsonValue(parse(1082, '2024-02-29'), 1082), tz).toBe('2024-02-29');
      expect(toJsonValue(parse(1182, '{2024-02-29,1999-12-31}'), 1182), tz).toEqual([
        '2024-02-29',
        '1999-12-31',
      ]);
    }
  });

  it('bytea: base64', () => {
    expect(toJsonValue(parse(17, '\\x0102ff'), 17)).toBe('AQL/');
    expect(toJsonValue(parse(1001, '{"\\\\x01",NULL}'), 1001)).toEqual(['AQ==', null]);
  });

  it('json and jsonb: parsed values, also in arrays', () => {
    expect(toJsonValue(parse(3802, '{"a": [1, {"b": null}]}'), 3802)).toEqual({ a: [1, { b: null }] });
    expect(toJsonValue(parse(114, '"text"'), 114)).toBe('text');
    expect(toJsonValue(parse(3807, '{"{\\"a\\": 1}","[2]"}'), 3807)).toEqual([{ a: 1 }, [2]]);
  });

  it('booleans, int4, floats, text, nested arrays', () => {
    expect(toJsonValue(parse(16, 't'), 16)).toBe(true);
    expect(toJsonValue(parse(1000, '{t,f}'), 1000)).toEqual([true, false]);
    expect(toJsonValue(parse(23, '7'), 23)).toBe(7);
    expect(toJsonValue(parse(1007, '{{1,2},{3,4}}'), 1007)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(toJsonValue(parse(701, '2.5'), 701)).toBe(2.5);
    expect(toJsonValue(parse(701, 'NaN'), 701)).toBe('NaN');
    expect(toJsonValue(parse(701, 'Infinity'), 701)).toBe('infinity');
    expect(toJsonValue(parse(25, 'plain'), 25)).toBe('plain');
    expect(toJsonValue(null, 20)).toBeNull();
  });

  it('interval: an ISO 8601 duration', () => {
    expect(toJsonValue(parse(1186, '1 day 02:00:00'), 1186)).toBe('P0Y0M1DT2H0M0S');
  });

  it('rows: keyed by column name, every value through its column type', () => {
    const row = toJsonRow({ id: '9007199254740993', at: new Date('2024-01-01T00:00:00Z'), n: '0.1' }, [
      { name: 'id', dataTypeID: 20 },
      { name: 'at', dataTypeID: 1184 },
      { name: 'n', dataTypeID: 1700 },
    ]);
    expect(row).toEqual({ id: '9007199254740993', at: '2024-01-01T00:00:00.000Z', n: '0.1' });
    expect(JSON.parse(JSON.stringify(row))).toEqual(row);
  });
});
