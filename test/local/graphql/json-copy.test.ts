import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { jsonCopy } from '../../../src/local/graphql/json-copy.js';

// Events and answers cross the data-source boundary as JSON copies. jsonCopy must give exactly
// what a trip through JSON text gives (values, key order, prototypes, errors), sharing nothing.

const viaText = (value: unknown): unknown =>
  value === undefined ? value : (JSON.parse(JSON.stringify(value) as string) as unknown);

function expectSameAsJson(value: unknown): void {
  const expected = viaText(value);
  const actual = jsonCopy(value);
  // node's strict deep equality: prototypes, -0, own enumerable keys (vitest's toStrictEqual
  // reads `constructor` and `__proto__` members as if they were the object's own).
  expect(isDeepStrictEqual(actual, expected)).toBe(true);
  // Key order is what deep equality does not pin down.
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  const walk = (a: unknown, b: unknown): void => {
    if (typeof a === 'number') expect(Object.is(a, b)).toBe(true);
    if (a === null || typeof a !== 'object') return;
    expect(Object.getPrototypeOf(a)).toBe(Object.getPrototypeOf(b));
    expect(Object.keys(a)).toEqual(Object.keys(b as object));
    for (const key of Object.keys(a)) {
      walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
    }
  };
  walk(actual, expected);
}

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'b', '1', '0', '__proto__', 'toString', 'x y', 'é', '10', 'constructor'];

function arbitrary(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 12 : 16));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return next() < 0.5;
    case 3:
      return [0, -0, 1.5, -7, NaN, Infinity, -Infinity, 2 ** 53, 1e-300][Math.floor(next() * 9)];
    case 4:
      return ['', 'text', '\u2028', '\ud800', 'é"\\\n'][Math.floor(next() * 5)];
    case 5:
      return () => 1;
    case 6:
      return Symbol('s');
    case 7:
      return new Date(Math.floor(next() * 4e12));
    case 8:
      return Buffer.from([1, 2, 3]);
    case 9:
      return { toJSON: (key: string) => `key:${key}` };
    case 10:
      return new Map([[1, 2]]);
    case 11:
      return new Date(NaN);
    case 12:
    case 13: {
      const out: unknown[] = [];
      const n = Math.floor(next() * 4);
      for (let i = 0; i < n; i++) out.push(arbitrary(next, depth + 1));
      return out;
    }
    default: {
      const out: Record<string, unknown> = {};
      const n = Math.floor(next() * 5);
      for (let i = 0; i < n; i++) {
        const key = KEYS[Math.floor(next() * KEYS.length)] as string;
        Object.defineProperty(out, key, {
          value: arbitrary(next, depth + 1),
          enumerable: next() < 0.9,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}

describe('jsonCopy', () => {
  it('gives what JSON text gives, for thousands of generated values', () => {
    const next = random(6);
    for (let i = 0; i < 5000; i++) {
      const value = arbitrary(next, 0);
      if (typeof value === 'function' || typeof value === 'symbol') continue;
      expectSameAsJson(value);
    }
  });

  it('handles the members JSON treats specially', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      get sum(): number {
        return this.x + this.y;
      }
    }
    const nested = { toJSON: () => ({ toJSON: () => 'not called twice', inner: [undefined, () => 1] }) };
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: undefined });
    const parsedProto = JSON.parse('{"__proto__": {"polluted": true}, "z": 1}') as unknown;
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const bareArray = Object.setPrototypeOf([1, 'two'], null) as unknown;
    class List extends Array<number> {}
    for (const value of [
      { a: undefined, b: () => 1, c: Symbol('c'), d: 1 },
      [undefined, () => 1, Symbol('x'), NaN, -0],
      { date: new Date(0), bad: new Date(NaN) },
      { bytes: new Uint8Array([5, 6]), buffer: Buffer.from('hi') },
      new Point(1, 2),
      nested,
      nullProto,
      parsedProto,
      sparse,
      bareArray,
      List.from([4, 5]),
      { n: new Number(3), s: new String('s'), b: new Boolean(false) },
      Object.assign([1, 2], { extra: 'ignored' }),
      { '2': 'two', '1': 'one', b: 'b', a: 'a' },
      -0,
      'top',
      null,
    ]) {
      expectSameAsJson(value);
    }
    expect(jsonCopy(undefined)).toBeUndefined();
  });

  it('shares nothing with its source', () => {
    const source = { list: [{ a: 1 }], nested: { b: { c: 2 } } };
    const copy = jsonCopy(source);
    copy.list[0]!.a = 9;
    copy.nested.b.c = 9;
    expect(source).toEqual({ list: [{ a: 1 }], nested: { b: { c: 2 } } });
    expect(copy.list).not.toBe(source.list);
  });

  it('copies deep values like JSON, and fails on cycles and bigints as JSON does', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 500; i++) deep = i % 2 ? { d: deep } : [deep];
    expectSameAsJson(deep);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = { back: cyclic };
    expect(() => jsonCopy(cyclic)).toThrow(TypeError);
    expect(() => jsonCopy({ n: 1n })).toThrow(TypeError);
    expect(() => jsonCopy({ toJSON: () => 1n })).toThrow(TypeError);
    expect(() => jsonCopy(() => 1)).toThrow(SyntaxError);
  });
});
