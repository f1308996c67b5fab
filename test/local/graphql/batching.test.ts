import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolverEvent } from '../../../src/appsync/types.js';
import {
  API_KEY,
  BLOG_RESOLVERS,
  BLOG_SCHEMA,
  blogDataSource,
  fixture,
  startTestApi,
  type FakeDataSource,
  type TestApi,
} from './support.js';

// Nested resolver fields of sibling list items are one BatchInvoke per Type.field (N+1 → 1),
// with AppSync's per-item results and errors.

const apiKey = { 'x-api-key': API_KEY };
const open: TestApi[] = [];

async function blogApi(data: FakeDataSource, maxBatchSize?: number): Promise<TestApi> {
  const api = await startTestApi({
    schema: BLOG_SCHEMA,
    resolvers: BLOG_RESOLVERS,
    dataSource: data.handler,
    apiKeys: [API_KEY],
    defaultAuthMode: 'API_KEY',
    ...(maxBatchSize === undefined ? {} : { maxBatchSize }),
  });
  open.push(api);
  return api;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()));
});

describe('N+1', () => {
  it('costs one Invoke for the list and one BatchInvoke for the nested field', async () => {
    const data = blogDataSource();
    const api = await blogApi(data);
    const answer = await api.query('{ allPosts { id author { name } } }', undefined, apiKey);
    expect(answer.body).toEqual({
      data: {
        allPosts: [
          { id: '1', author: { name: 'Ann' } },
          { id: '2', author: { name: 'Bob' } },
          { id: '3', author: { name: 'Cy' } },
        ],
      },
    });
    expect(data.calls).toHaveLength(2);
    expect(Array.isArray(data.calls[0])).toBe(false);
    expect(data.batches).toHaveLength(1);
    expect(data.batches[0]?.map((e) => (e.source as { id: string }).id)).toEqual(['1', '2', '3']);
  });

  it('batches each level once, across every parent of the level', async () => {
    const data = blogDataSource();
    const api = await blogApi(data);
    const answer = await api.query(
      '{ allPosts { id relatedPosts { id author { name } } author { id } } }',
      undefined,
      apiKey,
    );
    expect(answer.body.errors).toBeUndefined();
    const fields = data.batches.map((batch) => `${batch[0]?.info.fieldName}:${batch.length}`).sort();
    // Post.author of the 3 posts and Post.author of the 3 related posts are two loads of the
    // same Type.field at different times (different levels): at most one batch per level.
    expect(fields).toEqual(['author:3', 'author:3', 'relatedPosts:3']);
    expect(data.invokes).toHaveLength(1);
  });

  it('keeps results aligned with their parents', async () => {
    const data = blogDataSource(
      {},
      {
        // Answers in order, each naming its parent: misalignment would show.
        'Post.author': (events) =>
          events.map((e) => ({ data: { id: `author-of-${(e.source as { id: string }).id}`, name: 'x' } })),
      },
    );
    const api = await blogApi(data);
    const answer = await api.query('{ allPosts { id author { id } } }', undefined, apiKey);
    expect(answer.body.data).toEqual({
      allPosts: [
        { id: '1', author: { id: 'author-of-1' } },
        { id: '2', author: { id: 'author-of-2' } },
        { id: '3', author: { id: 'author-of-3' } },
      ],
    });
  });

  it('splits batches at maxBatchSize', async () => {
    const data = blogDataSource();
    const api = await blogApi(data, 2);
    await api.query('{ allPosts { author { name } } }', undefined, apiKey);
    expect(data.batches.map((b) => b.length)).toEqual([2, 1]);
  });

  it('uses Invoke for every item when maxBatchSize is 0 (batching off)', async () => {
    const data = blogDataSource();
    const api = await blogApi(data, 0);
    const answer = await api.query('{ allPosts { author { name } } }', undefined, apiKey);
    expect(answer.body.errors).toBeUndefined();
    expect(data.batches).toHaveLength(0);
    expect(data.invokes).toHaveLength(4);
  });
});

describe('BatchInvoke results', () => {
  const QUERY = 'query {\n  allPosts {\n    id\n    relatedPosts {\n      id\n      title\n    }\n  }\n}';

  it('give data for the good items and one error with the path of the failed one (fixtures)', async () => {
    const batchResponse = fixture<unknown[]>('batch-response-with-errors.json');
    const expected = fixture<{ data: unknown; errors: Array<Record<string, unknown>> }>(
      'graphql-response-batch-partial-errors.json',
    );
    const data = blogDataSource({}, { 'Post.relatedPosts': () => batchResponse });
    const api = await blogApi(data);
    const answer = await api.query(QUERY, undefined, apiKey);
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual(expected.data);
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors?.[0]).toMatchObject(expected.errors[0] as Record<string, unknown>);
    expect(answer.body.errors?.[0]).toEqual({
      path: ['allPosts', 1, 'relatedPosts'],
      data: null,
      errorType: 'NotFound',
      errorInfo: null,
      locations: [{ line: 4, column: 5, sourceName: null }],
      message: 'Post 2 not found',
    });
    expect(data.batches).toHaveLength(1);
  });

  it("carry a failed item's data into its error", async () => {
    const data = blogDataSource(
      {},
      {
        'Post.author': (events) =>
          events.map((_, i) =>
            i === 0
              ? { data: { partial: true }, errorMessage: 'half done', errorType: 'Partial' }
              : { data: null },
          ),
      },
    );
    const api = await blogApi(data);
    const answer = await api.query('{ allPosts { author { name } } }', undefined, apiKey);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        path: ['allPosts', 0, 'author'],
        data: { partial: true },
        errorType: 'Partial',
      }),
    ]);
  });

  it('fail every item of the batch when the data source throws', async () => {
    const data = blogDataSource(
      {},
      {
        'Post.author': () => {
          const error = new Error('database is down');
          error.name = 'DatabaseUnavailable';
          throw error;
        },
      },
    );
    const api = await blogApi(data);
    const answer = await api.query('{ allPosts { id author { name } } }', undefined, apiKey);
    expect(answer.body.data).toEqual({
      allPosts: [
        { id: '1', author: null },
        { id: '2', author: null },
        { id: '3', author: null },
      ],
    });
    expect(answer.body.errors?.map((e) => e['path'])).toEqual([
      ['allPosts', 0, 'author'],
      ['allPosts', 1, 'author'],
      ['allPosts', 2, 'author'],
    ]);
    expect(answer.body.errors?.every((e) => e['errorType'] === 'DatabaseUnavailable')).toBe(true);
    expect(answer.body.errors?.[0]?.['message']).toBe('database is down');
  });

  it('fail every item when the answer is not aligned with the events', async () => {
    const data = blogDataSource({}, { 'Post.author': () => [{ data: { name: 'only one' } }] });
    const api = await blogApi(data);
    const answer = await api.query('{ allPosts { author { name } } }', undefined, apiKey);
    expect(answer.body.data).toEqual({ allPosts: [{ author: null }, { author: null }, { author: null }] });
    expect(answer.body.errors).toHaveLength(3);
    expect(answer.body.errors?.[0]?.['errorType']).toBe('Lambda:BatchResponseMismatch');
  });

  it('resolve a bare value (not wrapped in { data }) to null, as AppSync does', async () => {
    const data = blogDataSource({}, { 'Post.author': (events) => events.map(() => ({ name: 'bare' })) });
    const api = await blogApi(data);
    const answer = await api.query('{ allPosts { author { name } } }', undefined, apiKey);
    expect(answer.body).toEqual({
      data: { allPosts: [{ author: null }, { author: null }, { author: null }] },
    });
  });

  it('cannot change the endpoint state through the events (JSON copies)', async () => {
    let laterHeaders: Record<string, unknown> | undefined;
    const data = blogDataSource(
      {},
      {
        'Post.relatedPosts': (events: ResolverEvent[]) =>
          events.map((e) => {
            e.request.headers['x-mutated'] = 'yes';
            (e.info.variables as Record<string, unknown>)['mutated'] = true;
            return { data: [{ id: '4', title: 't', author: 'Author1' }] };
          }),
        // Runs on the next level, after the relatedPosts batch: built from the same request state.
        'Post.author': (events: ResolverEvent[]) => {
          laterHeaders = { ...events[0]?.request.headers, ...events[0]?.info.variables };
          return events.map(() => ({ data: { name: 'n' } }));
        },
      },
    );
    const api = await blogApi(data);
    const answer = await api.query('{ allPosts { relatedPosts { author { name } } } }', undefined, apiKey);
    expect(answer.body.errors).toBeUndefined();
    expect(laterHeaders).toBeDefined();
    expect(laterHeaders?.['x-mutated']).toBeUndefined();
    expect(laterHeaders?.['mutated']).toBeUndefined();
  });
});

afterAll(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()));
});

beforeAll(() => {
  // Fixture sanity: the batch response fixture is aligned with batch-invoke.json (3 items).
  expect(fixture<unknown[]>('batch-response-with-errors.json')).toHaveLength(3);
});

describe('resolver invocations per request', () => {
  it('are bounded, so a small query cannot run thousands of statements', async () => {
    const { MAX_RESOLUTIONS } = await import('../../../src/local/graphql/resolution.js');
    const data = blogDataSource();
    const api = await blogApi(data);
    const fields = Array.from({ length: MAX_RESOLUTIONS + 50 }, (_, i) => `p${i}: allPosts { id }`).join(' ');
    const answer = await api.query(`{ ${fields} }`, undefined, apiKey);
    expect(data.calls.length).toBe(MAX_RESOLUTIONS);
    const errors = (answer.body as { errors?: { errorType?: string }[] }).errors ?? [];
    expect(errors.length).toBe(50);
    expect(errors.every((e) => e.errorType === 'BadRequest')).toBe(true);
  });
});
