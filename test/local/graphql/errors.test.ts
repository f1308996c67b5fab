import { afterEach, describe, expect, it } from 'vitest';
import {
  API_KEY,
  BLOG_RESOLVERS,
  BLOG_SCHEMA,
  blogDataSource,
  fixture,
  startTestApi,
  type FieldAnswer,
  type TestApi,
} from './support.js';

// Invoke errors: a thrown error becomes a field error with errorType = error.name and
// message = error.message; UnauthorizedException gets AppSync's fixed message.

const apiKey = { 'x-api-key': API_KEY };
const open: TestApi[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()));
});

async function apiAnswering(field: string, answer: FieldAnswer): Promise<TestApi> {
  const api = await startTestApi({
    schema: BLOG_SCHEMA,
    resolvers: BLOG_RESOLVERS,
    dataSource: blogDataSource({ [field]: answer }).handler,
    apiKeys: [API_KEY],
    defaultAuthMode: 'API_KEY',
  });
  open.push(api);
  return api;
}

class CustomException extends Error {
  override name = 'CustomException';
}

describe('Invoke errors', () => {
  it('match graphql-response-direct-lambda-error.json', async () => {
    const api = await apiAnswering('Query.getPost', () => {
      throw new CustomException('Custom message');
    });
    const answer = await api.query('query {\n  getPost(id: "1") {\n    id\n  }\n}', undefined, apiKey);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(fixture('graphql-response-direct-lambda-error.json'));
  });

  it('UnauthorizedException gets "You are not authorized to make this call."', async () => {
    const api = await apiAnswering('Query.getPost', () => {
      const error = new Error('user 42 may not read post 1');
      error.name = 'UnauthorizedException';
      throw error;
    });
    const answer = await api.query('{ getPost(id: "1") { id } }', undefined, apiKey);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        path: ['getPost'],
        errorType: 'UnauthorizedException',
        message: 'You are not authorized to make this call.',
      }),
    ]);
    expect(JSON.stringify(answer.body)).not.toContain('user 42');
  });

  it('a plain Error has errorType "Error"; a non-Error throw is Lambda:Unhandled', async () => {
    const plain = await apiAnswering('Query.whoAmI', () => {
      throw new Error('boom');
    });
    expect((await plain.query('{ whoAmI }', undefined, apiKey)).body.errors).toEqual([
      expect.objectContaining({ errorType: 'Error', message: 'boom' }),
    ]);
    const odd = await apiAnswering('Query.whoAmI', () => {
      throw 'a string';
    });
    expect((await odd.query('{ whoAmI }', undefined, apiKey)).body.errors).toEqual([
      expect.objectContaining({ errorType: 'Lambda:Unhandled', message: 'a string' }),
    ]);
  });

  it('only the failing field is null: its siblings resolve', async () => {
    const api = await apiAnswering('Query.whoAmI', () => {
      throw new CustomException('nope');
    });
    const answer = await api.query('{ whoAmI getPost(id: "2") { title } }', undefined, apiKey);
    expect(answer.body.data).toEqual({ whoAmI: null, getPost: { title: 'Second book' } });
    expect(answer.body.errors).toHaveLength(1);
  });

  it('a returned value is the field value, undefined is null', async () => {
    const api = await apiAnswering('Query.whoAmI', () => undefined);
    expect((await api.query('{ whoAmI }', undefined, apiKey)).body).toEqual({ data: { whoAmI: null } });
  });
});

describe('request errors', () => {
  it('a syntax error: data null and an error with locations, path null', async () => {
    const api = await apiAnswering('Query.whoAmI', () => 'x');
    const answer = await api.query('{ whoAmI ', undefined, apiKey);
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors).toEqual([
      {
        path: null,
        locations: [{ line: 1, column: 10, sourceName: null }],
        message: expect.stringContaining('Syntax Error'),
      },
    ]);
  });

  it('an unknown field: a validation error, nothing invoked', async () => {
    const data = blogDataSource();
    const api = await startTestApi({
      schema: BLOG_SCHEMA,
      resolvers: BLOG_RESOLVERS,
      dataSource: data.handler,
      apiKeys: [API_KEY],
      defaultAuthMode: 'API_KEY',
    });
    open.push(api);
    const answer = await api.query('{ whoAmI nope }', undefined, apiKey);
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors?.[0]?.['message']).toMatch(/Cannot query field "nope" on type "Query"/);
    expect(data.calls).toHaveLength(0);
  });
});
