import { describe, expect, it } from 'vitest';
import { namedStatement, toField } from '../../src/db/data-api-params.js';
import {
  maxPositional,
  rewriteNamed,
  rewritePositional,
  statementCommand,
  tokenize,
} from '../../src/db/sql-tokens.js';

const mark = (sql: string) => rewritePositional(sql, (n) => `<${n}>`);

describe('positional parameters', () => {
  it('are rewritten where they are parameters', () => {
    expect(mark('select $1, $2::int, $10 from t where a = $1')).toBe(
      'select <1>, <2>::int, <10> from t where a = <1>',
    );
    expect(mark('select($1)+$2')).toBe('select(<1>)+<2>');
    expect(maxPositional('select $3, $1')).toBe(3);
  });

  it('are left alone inside literals, identifiers, dollar quotes and comments', () => {
    const untouched = [
      "select '$1'",
      "select 'it''s $1'",
      "select E'\\'$1'",
      "select e'\\\\' || $$ $1 $$",
      'select "$1"',
      'select "a""$1"',
      'select U&\'$1\', U&"$1"',
      "select B'101', X'1F'",
      'select $$ $1 $$',
      'select $tag$ $1 $$ $1 $tag$',
      'select 1 -- $1',
      'select /* $1 /* $2 */ $3 */ 1',
      'select a$1 from t$2',
    ];
    for (const sql of untouched) expect(mark(sql), sql).toBe(sql);
    // After each of those constructs, parameters are found again.
    expect(mark("select 'it''s', $1")).toBe("select 'it''s', <1>");
    expect(mark("select E'\\'', $1")).toBe("select E'\\'', <1>");
    expect(mark('select $x$ $1 $x$, $1')).toBe('select $x$ $1 $x$, <1>');
    expect(mark('select /* a /* b */ c */ $1')).toBe('select /* a /* b */ c */ <1>');
    expect(mark('select 1 -- $1\n, $1')).toBe('select 1 -- $1\n, <1>');
  });

  it('keep an unterminated literal as text (Postgres reports it)', () => {
    expect(mark("select '$1")).toBe("select '$1");
    expect(mark('select $a$ $1')).toBe('select $a$ $1');
  });

  it('round-trip every token', () => {
    const sql =
      'with x as (select 1.5e3::float8, .5, \'a\', "b", $1, :n, $q$z$q$ -- c\n) select * from x /* d */;';
    expect(
      tokenize(sql)
        .map((t) => t.text)
        .join(''),
    ).toBe(sql);
  });
});

describe('named parameters', () => {
  const named = (sql: string) => rewriteNamed(sql, (name) => `<${name}>`);

  it('are rewritten, never a :: cast', () => {
    expect(named('select :id, :id::text, :a_b1 from t where x = :id')).toBe(
      'select <id>, <id>::text, <a_b1> from t where x = <id>',
    );
    expect(named('select x::int, x :: int')).toBe('select x::int, x :: int');
  });

  it('are left alone inside literals, identifiers and comments', () => {
    for (const sql of [
      "select ':id'",
      'select ":id"',
      'select $$ :id $$',
      'select 1 -- :id',
      'select /* :id */ 1',
    ]) {
      expect(named(sql), sql).toBe(sql);
    }
  });
});

describe('statementCommand', () => {
  it('is the command tag node-postgres reports', () => {
    expect(statementCommand('select 1')).toBe('SELECT');
    expect(statementCommand('  -- hi\n/* x */ (SELECT 1)')).toBe('SELECT');
    expect(statementCommand('values (1)')).toBe('SELECT');
    expect(statementCommand('table t')).toBe('SELECT');
    expect(statementCommand('insert into t values (1)')).toBe('INSERT');
    expect(statementCommand('Update t set a = 1')).toBe('UPDATE');
    expect(statementCommand('delete from t')).toBe('DELETE');
    expect(statementCommand('with a as (select 1), b (x) as (select 2) insert into t select * from a')).toBe(
      'INSERT',
    );
    expect(statementCommand('with recursive r as (select 1 union all select 1 from r) select * from r')).toBe(
      'SELECT',
    );
    expect(statementCommand('with d as (delete from t returning *) select * from d')).toBe('SELECT');
    expect(statementCommand('create table t (a int)')).toBe('CREATE');
    expect(statementCommand('')).toBe('');
  });
});

describe('toField', () => {
  it('carries the text node-postgres would send for each JS value', () => {
    expect(toField(null)).toEqual({ isNull: true });
    expect(toField(undefined)).toEqual({ isNull: true });
    expect(toField(1.5)).toEqual({ stringValue: '1.5' });
    expect(toField(12345678901234567890n)).toEqual({ stringValue: '12345678901234567890' });
    expect(toField(true)).toEqual({ stringValue: 'true' });
    expect(toField('x')).toEqual({ stringValue: 'x' });
    expect(toField({ a: [1, 'b'] })).toEqual({ stringValue: '{"a":[1,"b"]}' });
    expect(toField([1, null, 'a"b'])).toEqual({ stringValue: '{"1",NULL,"a\\"b"}' });
    const when = new Date('2024-05-06T07:08:09.123Z');
    const sent = (toField(when) as { stringValue: string }).stringValue;
    expect(new Date(sent).getTime()).toBe(when.getTime());
    expect(toField(Buffer.from([1, 2]))).toEqual({ blobValue: new Uint8Array([1, 2]) });
  });
});

describe('namedStatement', () => {
  it('casts each parameter to the type Postgres inferred, and names them p1..pn', () => {
    expect(namedStatement("select $1, '$2', $2 where id = $1", ['a', 2], ['uuid', 'integer'])).toEqual({
      sql: "select cast(:p1 as uuid), '$2', cast(:p2 as integer) where id = cast(:p1 as uuid)",
      parameters: [
        { name: 'p1', value: { stringValue: 'a' } },
        { name: 'p2', value: { stringValue: '2' } },
      ],
    });
  });

  it('leaves parameters bare without types', () => {
    expect(namedStatement('call p($1)', [null])).toEqual({
      sql: 'call p(:p1)',
      parameters: [{ name: 'p1', value: { isNull: true } }],
    });
  });
});
