import { describe, expect, it } from 'vitest';
import { isCognitionError } from '../../../src/errors.js';
import { createGraphqlEndpoint, type GraphqlEndpointOptions } from '../../../src/local/graphql/index.js';
import { isTenantArgumentName } from '../../../src/local/graphql/tenant-arguments.js';
import { API_KEY } from './support.js';

// Schema loading: AppSync's dialect is accepted as is; tenant arguments, unknown resolver names
// and invalid SDL are refused with ERR_CONFIG.

function endpoint(schema: string, options: Partial<GraphqlEndpointOptions> = {}) {
  return createGraphqlEndpoint({
    schema,
    resolvers: [],
    dataSource: async () => null,
    apiKeys: [API_KEY],
    defaultAuthMode: 'API_KEY',
    ...options,
  });
}

function configError(run: () => unknown): { message: string; details: Record<string, unknown> | undefined } {
  try {
    run();
  } catch (error) {
    if (isCognitionError(error, 'ERR_CONFIG')) return { message: error.message, details: error.details };
    throw new Error(`expected ERR_CONFIG, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected ERR_CONFIG, got no error');
}

describe('tenant arguments are refused at load', () => {
  it.each([
    ['tenantId', 'type Query { notes(tenantId: ID!): [String] }', 'Query.notes(tenantId)'],
    ['tenant_id', 'type Query { notes(tenant_id: ID): [String] }', 'Query.notes(tenant_id)'],
    ['tenant', 'type Query { notes(first: Int, tenant: String): [String] }', 'Query.notes(tenant)'],
    [
      'TENANT_ID',
      'type Query { a: Int } type Mutation { add(TENANT_ID: ID): Int }',
      'Mutation.add(TENANT_ID)',
    ],
    ['TenantID', 'type Query { a: Int } type Note { tags(TenantID: ID): [String] }', 'Note.tags(TenantID)'],
    [
      'an input field',
      'type Query { a: Int } input NoteInput { title: String tenantId: ID } type Mutation { add(input: NoteInput): Int }',
      'NoteInput.tenantId (input field)',
    ],
    [
      'an interface field argument',
      'type Query { a: Int } interface Node { items(tenant: ID): [String] }',
      'Node.items(tenant)',
    ],
  ])('%s', (_, schema, where) => {
    const error = configError(() => endpoint(schema));
    expect(error.message).toContain(where);
    expect(error.message).toMatch(/tenant always comes from who is calling/);
    expect(error.details?.['arguments']).toEqual([where]);
  });

  it('lists every offending argument', () => {
    const error = configError(() => endpoint('type Query { a(tenantId: ID): Int b(tenant_id: ID): Int }'));
    expect(error.details?.['arguments']).toEqual(['Query.a(tenantId)', 'Query.b(tenant_id)']);
  });

  it('allows output fields named tenantId and arguments that only start with "tenant"', () => {
    const built = endpoint(
      'type Query { me: Me tenants(tenantName: String, tenantsOnly: Boolean): [String] } type Me { tenantId: ID }',
    );
    expect(built.schema.getType('Me')).toBeDefined();
  });

  it('matches the names case-insensitively, and only those names', () => {
    for (const name of [
      'tenant',
      'Tenant',
      'tenantId',
      'tenantid',
      'tenant_id',
      'TENANT_ID',
      'TenantId',
      'tenants',
      'tenantIds',
      'tenant_ids',
      'tenantSlug',
      'tenant_slug',
    ]) {
      expect(isTenantArgumentName(name), name).toBe(true);
    }
    for (const name of ['tenantName', 'tenant__id', 'myTenantId', 'id', 'tenantsOnly']) {
      expect(isTenantArgumentName(name), name).toBe(false);
    }
  });
});

describe('the AppSync dialect', () => {
  it('needs no declaration of AWS scalars and directives', () => {
    const built = endpoint(`
      type Query @aws_api_key {
        at(date: AWSDate, time: AWSTime, dt: AWSDateTime, ts: AWSTimestamp, email: AWSEmail,
           json: AWSJSON, url: AWSURL, phone: AWSPhone, ip: AWSIPAddress): String
          @aws_cognito_user_pools(cognito_groups: ["a"]) @aws_iam @aws_oidc @aws_lambda @aws_api_key
        old: String @aws_auth(cognito_groups: ["b"])
      }
      type Subscription { on: String @aws_subscribe(mutations: ["m"]) }
    `);
    for (const name of ['AWSDate', 'AWSJSON', 'AWSIPAddress'])
      expect(built.schema.getType(name)).toBeDefined();
    for (const name of ['aws_cognito_user_pools', 'aws_auth', 'aws_subscribe', 'aws_lambda']) {
      expect(built.schema.getDirective(name)).toBeDefined();
    }
  });

  it('accepts an SDL that declares some of them itself', () => {
    const built = endpoint(
      'scalar AWSDate\ndirective @aws_api_key on OBJECT | FIELD_DEFINITION\ntype Query { d: AWSDate @aws_api_key }',
    );
    expect(built.schema.getType('AWSDate')).toBeDefined();
  });

  it('refuses @aws_auth on a type (fields only, as in the AppSync simulator)', () => {
    const error = configError(() => endpoint('type Query @aws_auth(cognito_groups: ["a"]) { a: Int }'));
    expect(error.message).toMatch(/@aws_auth.*OBJECT/);
  });

  it('refuses unknown directives, unknown types and syntax errors', () => {
    expect(configError(() => endpoint('type Query { a: Int @nope }')).message).toMatch(
      /Unknown directive "@nope"/,
    );
    expect(configError(() => endpoint('type Query { a: Missing }')).message).toMatch(
      /Unknown type "Missing"/,
    );
    expect(configError(() => endpoint('type Query { a: Int')).message).toMatch(/Syntax Error/);
  });
});

describe('resolvers', () => {
  const schema = 'type Query { post: Post } type Post { id: ID }';

  it('takes Type.field names from a list, a Set, or the keys of a Resolvers object', () => {
    expect(() => endpoint(schema, { resolvers: ['Query.post'] })).not.toThrow();
    expect(() => endpoint(schema, { resolvers: new Set(['Query.post', 'Post.id']) })).not.toThrow();
    expect(() => endpoint(schema, { resolvers: { 'Query.post': { sql: 'select 1' } } })).not.toThrow();
  });

  it('refuses names the schema does not have', () => {
    const error = configError(() =>
      endpoint(schema, { resolvers: ['Query.post', 'Query.posts', 'Nope.x', 'bad'] }),
    );
    expect(error.details?.['resolvers']).toEqual(['Query.posts', 'Nope.x', 'bad']);
  });
});

describe('options', () => {
  it('need a verifier for the user pool default mode, keys for the API key mode', () => {
    expect(
      configError(() => endpoint('type Query { a: Int }', { defaultAuthMode: undefined })).message,
    ).toMatch(/verifier is required/);
    expect(configError(() => endpoint('type Query { a: Int }', { apiKeys: [] })).message).toMatch(
      /apiKeys are required/,
    );
  });

  it('refuse a maxBatchSize outside 0-2000', () => {
    expect(configError(() => endpoint('type Query { a: Int }', { maxBatchSize: 2001 })).message).toMatch(
      /maxBatchSize/,
    );
    expect(configError(() => endpoint('type Query { a: Int }', { maxBatchSize: -1 })).message).toMatch(
      /maxBatchSize/,
    );
    expect(() => endpoint('type Query { a: Int }', { maxBatchSize: 0 })).not.toThrow();
  });
});
