import { describe, expect, it } from 'vitest';
import { createDocumentCache } from '../../../src/local/graphql/documents.js';
import { buildAppSyncSchema } from '../../../src/local/graphql/schema.js';

// Parsed and validated documents are kept by query text, in a bounded LRU.

const schema = buildAppSyncSchema('type Query { a: Int b(d: AWSDate): Int }');

describe('document cache', () => {
  it('prepares a query once and answers later requests from the cache', () => {
    const cache = createDocumentCache(schema, 10);
    const first = cache.prepare('{ a }');
    expect(first.document).toBeDefined();
    expect(cache.prepare('{ a }')).toBe(first);
    expect(cache.size).toBe(1);
  });

  it('keeps validation failures too (AWS scalar literals included)', () => {
    const cache = createDocumentCache(schema, 10);
    const failed = cache.prepare('{ b(d: "2024-02-30") }');
    expect(failed.errors?.[0]?.message).toMatch(/AWSDate/);
    expect(cache.prepare('{ b(d: "2024-02-30") }')).toBe(failed);
  });

  it('evicts the least recently used query beyond its bound', () => {
    const cache = createDocumentCache(schema, 2);
    const one = cache.prepare('{ a }');
    const evicted = cache.prepare('{ b }');
    cache.prepare('{ a }'); // one is now the most recent
    cache.prepare('{ a b }'); // evicts '{ b }'
    expect(cache.size).toBe(2);
    expect(cache.prepare('{ a }')).toBe(one);
    const b = cache.prepare('{ b }');
    expect(b).not.toBe(evicted);
    expect(cache.prepare('{ b }')).toBe(b);
    expect(cache.size).toBe(2);
  });

  it('with size 0 caches nothing', () => {
    const cache = createDocumentCache(schema, 0);
    expect(cache.prepare('{ a }')).not.toBe(cache.prepare('{ a }'));
    expect(cache.size).toBe(0);
  });
});
