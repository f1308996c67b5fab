import { invalidParameter } from './errors.js';

export interface Page<T> {
  items: T[];
  /** Opaque; absent on the last page. */
  next?: string;
}

/**
 * One page of items sorted by key. The token names the last key returned, so pages stay
 * consistent while items are added or removed.
 */
export function paginate<T>(
  items: T[],
  keyOf: (item: T) => string,
  limit: number,
  token: string | undefined,
): Page<T> {
  const after = token === undefined ? undefined : decode(token);
  const sorted = [...items].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const rest = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page,
    ...(rest.length > page.length && last !== undefined && { next: encode(keyOf(last)) }),
  };
}

export function checkLimit(value: number | undefined, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (value < 0 || value > max) {
    throw invalidParameter(
      `1 validation error detected: Value '${value}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  // Cognito treats 0 as "the default".
  return value === 0 ? fallback : value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encode(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');
}

function decode(token: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string') return after;
  } catch {
    // fall through
  }
  throw invalidParameter('Invalid pagination token.');
}
