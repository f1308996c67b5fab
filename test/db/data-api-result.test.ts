import type { ColumnMetadata, Field } from '@aws-sdk/client-rds-data';
import { describe, expect, it } from 'vitest';
import { fieldValue, oidOfTypeName, toExecResult } from '../../src/db/data-api-result.js';
import { isCognitionError } from '../../src/errors.js';

// A zone other than UTC (the CI machines' own), so that a timestamptz read as local time shows.
process.env.TZ = 'America/Sao_Paulo';

// Recorded ExecuteStatement responses from the AWS documentation, mapped to node-postgres's
// ExecResult. Sources:
// - Aurora User Guide, "Calling the Data API" (AWS CLI and Python examples):
//   https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api.calling
//   (also in github.com/awsdocs/amazon-aurora-user-guide, doc_source/data-api.md)
// - API reference, ExecuteStatement and ColumnMetadata:
//   https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html
//   https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ColumnMetadata.html

/** A columnMetadata entry with the fields the API reference lists; typeName is pg_type.typname. */
function column(name: string, typeName: string, type: number): ColumnMetadata {
  return {
    name,
    label: name,
    type,
    typeName,
    schemaName: '',
    tableName: '',
    isAutoIncrement: false,
    isSigned: false,
    isCurrency: false,
    isCaseSensitive: false,
    nullable: 1,
    precision: 0,
    scale: 0,
    arrayBaseColumnType: 0,
  };
}

describe('recorded responses', () => {
  it('"select * from mytable": the CLI example, with the column metadata the driver always asks for', () => {
    // Aurora User Guide, "Running a SQL statement" (aws rds-data execute-statement).
    const recorded = {
      numberOfRecordsUpdated: 0,
      records: [
        [{ longValue: 1 }, { stringValue: 'ValueOne' }],
        [{ longValue: 2 }, { stringValue: 'ValueTwo' }],
        [{ longValue: 3 }, { stringValue: 'ValueThree' }],
      ],
    };
    const result = toExecResult(
      { ...recorded, columnMetadata: [column('id', 'int4', 4), column('val', 'varchar', 12)] },
      'SELECT',
    );
    expect(result).toEqual({
      rows: [
        { id: 1, val: 'ValueOne' },
        { id: 2, val: 'ValueTwo' },
        { id: 3, val: 'ValueThree' },
      ],
      fields: [
        { name: 'id', dataTypeID: 23 },
        { name: 'val', dataTypeID: 1043 },
      ],
      rowCount: 3,
      command: 'SELECT',
    });
    // Without metadata the columns have no names: refused rather than guessed.
    let error: unknown;
    try {
      toExecResult(recorded, 'SELECT');
    } catch (e) {
      error = e;
    }
    expect(isCognitionError(error, 'ERR_DATA_API')).toBe(true);
  });

  it('"update mytable set quantity=5 where id=201": numberOfRecordsUpdated is the row count', () => {
    // Aurora User Guide, "Running a SQL statement" (in a transaction).
    expect(toExecResult({ numberOfRecordsUpdated: 1 }, 'UPDATE')).toEqual({
      rows: [],
      fields: [],
      rowCount: 1,
      command: 'UPDATE',
    });
    // ... "insert into mytable values (:id, :val)".
    expect(toExecResult({ numberOfRecordsUpdated: 1 }, 'INSERT').rowCount).toBe(1);
  });

  it('a DDL statement: no row count, as node-postgres reports none', () => {
    // Aurora User Guide, "Running a SQL statement" (alter table ... --continue-after-timeout).
    expect(toExecResult({ generatedFields: [], numberOfRecordsUpdated: 0 } as never, 'ALTER')).toEqual({
      rows: [],
      fields: [],
      rowCount: null,
      command: 'ALTER',
    });
  });

  it('"select * from employees limit 3": the Python example, timestamps as the Data API writes them', () => {
    // Aurora User Guide, "Running a SQL query" (Python): '2016-02-15 04:34:33.0'.
    const result = toExecResult(
      {
        records: [[{ longValue: 1 }, { stringValue: 'ROSALEZ' }, { stringValue: '2016-02-15 04:34:33.0' }]],
        columnMetadata: [
          column('id', 'serial', 4),
          column('last_name', 'text', 12),
          column('hired', 'timestamp', 93),
        ],
      },
      'SELECT',
    );
    expect(result.rows).toEqual([{ id: 1, last_name: 'ROSALEZ', hired: new Date(2016, 1, 15, 4, 34, 33) }]);
    expect(result.fields.map((f) => f.dataTypeID)).toEqual([23, 25, 1114]);
  });
});

describe('values, as node-postgres gives them', () => {
  const value = (field: Field, typeName: string) => fieldValue(field, oidOfTypeName(typeName));

  it('numbers: int8 and numeric stay exact strings, whether they come as longs or strings', () => {
    expect(value({ longValue: 42 }, 'int4')).toBe(42);
    expect(value({ stringValue: '42' }, 'int2')).toBe(42);
    expect(value({ longValue: 42 }, 'int8')).toBe('42');
    expect(value({ stringValue: '9007199254740993' }, 'int8')).toBe('9007199254740993');
    expect(value({ stringValue: '1.10' }, 'numeric')).toBe('1.10');
    expect(value({ doubleValue: 0.1 }, 'float8')).toBe(0.1);
    expect(value({ stringValue: 'NaN' }, 'float8')).toBeNaN();
  });

  it('timestamptz in UTC ("the Data API always returns TIMESTAMPTZ in UTC"); timestamp and date in local time', () => {
    expect(value({ stringValue: '2024-02-29 10:34:56.789' }, 'timestamptz')).toEqual(
      new Date('2024-02-29T10:34:56.789Z'),
    );
    expect(value({ stringValue: '2024-02-29 10:34:56+02' }, 'timestamptz')).toEqual(
      new Date('2024-02-29T08:34:56Z'),
    );
    expect(value({ stringValue: '2024-02-29 10:34:56' }, 'timestamp')).toEqual(
      new Date(2024, 1, 29, 10, 34, 56),
    );
    expect(value({ stringValue: '2024-02-29' }, 'date')).toEqual(new Date(2024, 1, 29));
    expect(value({ stringValue: 'infinity' }, 'timestamptz')).toBe(Infinity);
  });

  it('json, bytea, booleans, nulls, and types it does not know (as text)', () => {
    expect(value({ stringValue: '{"a": [1, null]}' }, 'jsonb')).toEqual({ a: [1, null] });
    expect(value({ blobValue: new Uint8Array([1, 255]) }, 'bytea')).toEqual(Buffer.from([1, 255]));
    expect(value({ booleanValue: false }, 'bool')).toBe(false);
    expect(value({ isNull: true }, 'int4')).toBeNull();
    expect(value({ stringValue: 'happy' }, 'mood')).toBe('happy');
    expect(oidOfTypeName('mood')).toBe(25);
    expect(oidOfTypeName('BIGSERIAL')).toBe(20);
  });

  it('arrays, element by element, nulls and nesting included', () => {
    expect(value({ arrayValue: { longValues: [1, 2] } }, '_int4')).toEqual([1, 2]);
    expect(value({ arrayValue: { stringValues: ['1', null as unknown as string] } }, '_int8')).toEqual([
      '1',
      null,
    ]);
    expect(value({ arrayValue: { stringValues: ['1.10', '2'] } }, '_numeric')).toEqual(['1.10', '2']);
    expect(value({ arrayValue: { doubleValues: [1.5, 0.25] } }, '_float8')).toEqual([1.5, 0.25]);
    expect(value({ arrayValue: { booleanValues: [true, false] } }, '_bool')).toEqual([true, false]);
    expect(value({ arrayValue: { stringValues: ['a"b', 'c\\d', '', 'NULL', '{x}'] } }, '_text')).toEqual([
      'a"b',
      'c\\d',
      '',
      'NULL',
      '{x}',
    ]);
    expect(value({ arrayValue: { stringValues: ['2024-01-01 00:00:00'] } }, '_timestamptz')).toEqual([
      new Date('2024-01-01T00:00:00Z'),
    ]);
    expect(value({ arrayValue: { stringValues: ['{"k": 1}'] } }, '_jsonb')).toEqual([{ k: 1 }]);
    expect(value({ arrayValue: { longValues: [] } }, '_int4')).toEqual([]);
    expect(
      value({ arrayValue: { arrayValues: [{ longValues: [1, 2] }, { longValues: [3, 4] }] } }, '_int4'),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('refuses a value of a kind it does not know', () => {
    let error: unknown;
    try {
      fieldValue({ $unknown: ['structValue', {}] } as Field, 25);
    } catch (e) {
      error = e;
    }
    expect(isCognitionError(error, 'ERR_DATA_API')).toBe(true);
  });
});

describe('rows and counts', () => {
  it('keys rows by label, the last of equal names winning, as node-postgres does', () => {
    const result = toExecResult(
      {
        records: [[{ longValue: 1 }, { longValue: 2 }]],
        columnMetadata: [
          { ...column('a', 'int4', 4), label: 'x' },
          { ...column('b', 'int4', 4), label: 'x' },
        ],
      },
      'SELECT',
    );
    expect(result.rows).toEqual([{ x: 2 }]);
    expect(result.fields).toEqual([
      { name: 'x', dataTypeID: 23 },
      { name: 'x', dataTypeID: 23 },
    ]);
  });

  it('counts returned rows for RETURNING, zero included', () => {
    const columns = [column('id', 'int8', -5)];
    expect(
      toExecResult({ records: [], columnMetadata: columns, numberOfRecordsUpdated: 0 }, 'DELETE').rowCount,
    ).toBe(0);
    expect(
      toExecResult(
        { records: [[{ stringValue: '7' }]], columnMetadata: columns, numberOfRecordsUpdated: 0 },
        'DELETE',
      ),
    ).toEqual({
      rows: [{ id: '7' }],
      fields: [{ name: 'id', dataTypeID: 20 }],
      rowCount: 1,
      command: 'DELETE',
    });
  });
});
