/**
 * `JSON.parse(JSON.stringify(value))` without the text in between: the copy the Lambda service
 * would deliver (nothing shared with the endpoint's objects; `toJSON` applied, `undefined` and
 * functions dropped from objects and `null` in arrays, non-finite numbers `null`, `-0` as `0`,
 * own enumerable string keys in the same order, `__proto__` as an own property). Copying every
 * event and answer through JSON text was the largest single cost of a request; this walk gives
 * the same value for a fraction of it. Whatever it does not handle itself (bigints, boxed
 * primitives, very deep or cyclic values) goes through JSON, so errors stay JSON's own.
 */

const MAX_DEPTH = 64;
/** A member JSON leaves out (undefined, functions, symbols). */
const OMIT = Symbol('omit');

export function jsonCopy<T>(value: T): T {
  if (value === undefined) return value;
  const copied = copyMember(value, '', 0);
  // Only functions and symbols are left out at the top, where JSON.parse then throws.
  if (copied === OMIT) return JSON.parse(JSON.stringify(value) as string) as T;
  return copied as T;
}

/** JSON's own answer for one member, with `key` as the holder's key (for `toJSON(key)`). */
function viaJson(value: unknown, key: string): unknown {
  const parsed = JSON.parse(JSON.stringify({ [key]: value })) as Record<string, unknown>;
  return Object.hasOwn(parsed, key) ? parsed[key] : OMIT;
}

function copyMember(value: unknown, key: string | number, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case 'undefined':
    case 'function':
    case 'symbol':
      return OMIT;
    case 'bigint':
      return viaJson(value, String(key));
  }
  if (value === null) return null;
  if (depth > MAX_DEPTH) return viaJson(value, String(key));
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  // toJSON applies once, to the member itself; what it returns is copied without it.
  const member = typeof toJSON === 'function' ? toJSON.call(value, String(key)) : value;
  return copyValue(member, key, depth);
}

function copyValue(value: unknown, key: string | number, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    // JSON does not look for a bigint's toJSON again once a toJSON returned it.
    if (typeof value === 'bigint') throw new TypeError('Do not know how to serialize a BigInt');
    return copyMember(value, key, depth);
  }
  // Plain objects first: they can be neither arrays nor boxed primitives.
  if (Object.getPrototypeOf(value) === Object.prototype)
    return copyObject(value as Record<string, unknown>, depth);
  return copyOther(value, key, depth);
}

function copyObject(source: Record<string, unknown>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(source)) {
    const item = copyMember(source[name], name, depth + 1);
    if (item === OMIT) continue;
    if (name === '__proto__') {
      Object.defineProperty(out, name, { value: item, enumerable: true, writable: true, configurable: true });
    } else {
      out[name] = item;
    }
  }
  return out;
}

/** Arrays, boxed primitives, objects without a prototype or of a class (their own enumerable keys). */
function copyOther(value: object, key: string | number, depth: number): unknown {
  if (Array.isArray(value)) {
    const length = value.length;
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      const item = copyMember(value[i], i, depth + 1);
      out[i] = item === OMIT ? null : item;
    }
    return out;
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return viaJson(value, String(key));
  }
  return copyObject(value as Record<string, unknown>, depth);
}
