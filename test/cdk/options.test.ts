import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCognitionApp, type PgCognitionAppProps } from '../../src/cdk/index.js';
import { isCognitionError } from '../../src/errors.js';
import { sqlHash } from '../../src/cdk/sql-hash.js';
import { COGNITION_SQL_DIR } from '../../src/db/migrator.js';
import {
  AGENTS,
  ROOT,
  assetFile,
  STACK_NAME,
  grantsOf,
  logicalId,
  onlyResource,
  removeOutdirs,
  resourcesOf,
  roleOf,
  synth,
  tempOutdir,
  type Synthed,
} from './support.js';

// The other way round from the defaults, in one synth: admin-only accounts, the Data API,
// credentials mode, V2 token customization, AppSync's subscription delivery, no batching.
let s: Synthed;
const env = (id: string): Record<string, unknown> =>
  (s.json.Resources[id]?.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;

beforeAll(() => {
  s = synth({
    selfSignUp: false,
    driver: 'data-api',
    mode: 'credentials',
    preTokenGenerationVersion: 'V2_0',
    subscriptionDelivery: 'appsync',
    maxBatchSize: 0,
    secretPrefix: 'agents-prod',
    minCapacity: 0,
    maxCapacity: 8,
  });
}, 120_000);
afterAll(removeOutdirs);

describe('PgCognitionApp options', () => {
  it('selfSignUp: false leaves account creation to administrators', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameConfiguration: { CaseSensitive: false },
    });
  });

  it('preTokenGenerationVersion V2_0 configures the V2 event on the Essentials plan', () => {
    const triggers = logicalId(s.stack, s.construct.triggerFunction);
    s.template.hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'ESSENTIALS',
      LambdaConfig: {
        PreSignUp: { 'Fn::GetAtt': [triggers, 'Arn'] },
        PostConfirmation: { 'Fn::GetAtt': [triggers, 'Arn'] },
        PreAuthentication: { 'Fn::GetAtt': [triggers, 'Arn'] },
        PreTokenGenerationConfig: { LambdaArn: { 'Fn::GetAtt': [triggers, 'Arn'] }, LambdaVersion: 'V2_0' },
      },
    });
  });

  it('driver data-api gives the data source the Data API on the cluster, and nobody else', () => {
    const dataSource = logicalId(
      s.stack,
      s.construct.dataSourceFunction as NonNullable<PgCognitionApp['dataSourceFunction']>,
    );
    const clusterArn = s.stack.resolve(s.construct.cluster.clusterArn);
    expect(env(dataSource)).toMatchObject({
      COGNITION_DRIVER: 'data-api',
      DATABASE_CLUSTER_ARN: clusterArn,
      COGNITION_AUTHENTICATOR_SECRET_ARN: s.stack.resolve(s.construct.authenticatorSecret.secretArn),
      // The library's lifecycle and identity lookups still use node-postgres.
      DATABASE_SSLMODE: 'verify-full',
    });
    const grants = [...grantsOf(s.json, roleOf(s.json, dataSource))].filter((g) => g.startsWith('rds-data:'));
    expect(grants.sort()).toEqual(
      [
        'rds-data:BatchExecuteStatement',
        'rds-data:BeginTransaction',
        'rds-data:CommitTransaction',
        'rds-data:ExecuteStatement',
        'rds-data:RollbackTransaction',
      ].map((a) => `${a} ${JSON.stringify(clusterArn)}`),
    );
    for (const fn of [s.construct.triggerFunction, s.construct.migrationFunction]) {
      const id = logicalId(s.stack, fn);
      expect(env(id)).not.toHaveProperty('COGNITION_DRIVER');
      expect([...grantsOf(s.json, roleOf(s.json, id))].filter((g) => g.startsWith('rds-data:'))).toEqual([]);
    }
    // From the isolated subnets, through an endpoint.
    s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.rds-data'])] }),
    });
  });

  it('mode credentials lets the data source read the users’ secrets, under the prefix only', () => {
    const dataSource = logicalId(
      s.stack,
      s.construct.dataSourceFunction as NonNullable<PgCognitionApp['dataSourceFunction']>,
    );
    const grants = [...grantsOf(s.json, roleOf(s.json, dataSource))];
    expect(env(dataSource)).toMatchObject({
      COGNITION_MODE: 'credentials',
      COGNITION_SECRET_PREFIX: 'agents-prod',
    });
    expect(grants.filter((g) => g.includes('/users/*'))).toEqual([
      expect.stringMatching(/^secretsmanager:GetSecretValue .*:secret:agents-prod\/users\/\*"\]\]\}$/),
    ]);
    // Reading only: creating and deleting the users' secrets is the triggers' business.
    expect(
      grants
        .filter((g) => g.startsWith('secretsmanager:'))
        .every((g) => g.startsWith('secretsmanager:GetSecretValue ')),
    ).toBe(true);
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'agents-prod/authenticator' });
  });

  it('subscriptionDelivery appsync deploys the schema file as it is; maxBatchSize 0 batches nothing', () => {
    const [, schema] = onlyResource(s.json, 'AWS::AppSync::GraphQLSchema');
    expect(String(schema.Properties?.['Definition'])).toContain('@aws_subscribe(mutations: ["sendMessage"])');
    for (const resolver of Object.values(resourcesOf(s.json, 'AWS::AppSync::Resolver'))) {
      expect(resolver.Properties).not.toHaveProperty('MaxBatchSize');
    }
  });

  it('passes the serverless v2 capacity through (0: the cluster pauses when idle)', () => {
    s.template.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 8 },
    });
  });
});

describe('an application without GraphQL, in a given VPC', () => {
  it('gets the database, the user pool and the migrations, and no API', () => {
    const app = new App({
      outdir: tempOutdir(),
      builtinCloudFormationValidation: false,
    });
    const stack = new Stack(app, STACK_NAME);
    const vpc = new ec2.Vpc(stack, 'Given', { natGateways: 1, maxAzs: 2 });
    const construct = new PgCognitionApp(stack, 'Notes', {
      appDir: join(ROOT, 'examples/notes'),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    const json = app.synth().getStackByName(STACK_NAME).template as Synthed['json'];
    expect(construct.api).toBeUndefined();
    expect(construct.dataSourceFunction).toBeUndefined();
    expect(Object.keys(resourcesOf(json, 'AWS::AppSync::GraphQLApi'))).toEqual([]);
    expect(Object.keys(resourcesOf(json, 'AWS::EC2::VPC'))).toHaveLength(1);
    // A given VPC is assumed to reach Secrets Manager on its own (here: its NAT gateway).
    expect(Object.keys(resourcesOf(json, 'AWS::EC2::VPCEndpoint'))).toEqual([]);
    expect(Object.keys(resourcesOf(json, 'Custom::PgCognitionMigrations'))).toHaveLength(1);
  });
});

describe('an application that declares its tenant roles (roles.json)', () => {
  it('gets a group per role, and the migrations declare the roles when roles.json changes', () => {
    const patterns = synth({ appDir: join(ROOT, 'examples/patterns') });
    const groups = Object.values(resourcesOf(patterns.json, 'AWS::Cognito::UserPoolGroup')).map(
      (g) => g.Properties?.['GroupName'],
    );
    expect(groups).toEqual(['Admin', 'SuperUser', 'Member', 'ReadOnly', 'application_admin']);
    const migration = logicalId(patterns.stack, patterns.construct.migrationFunction);
    const variables = (
      patterns.json.Resources[migration]?.Properties?.['Environment'] as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables['COGNITION_TENANT_ROLES']).toBe('roles.json');
    expect(JSON.parse(assetFile(patterns, migration, 'roles.json'))).toMatchObject({
      manageUsersFrom: 'SuperUser',
    });
    const [, resource] = onlyResource(patterns.json, 'Custom::PgCognitionMigrations');
    const dirs = { cognition: COGNITION_SQL_DIR, template: join(ROOT, 'examples/patterns/template') };
    expect(resource.Properties?.['SqlHash']).toBe(
      sqlHash({ ...dirs, roles: join(ROOT, 'examples/patterns/roles.json') }),
    );
    expect(resource.Properties?.['SqlHash']).not.toBe(sqlHash(dirs));
  });
});

describe('configuration errors, at synth time', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** The agents example with its resolvers module replaced. */
  function appWithResolvers(source: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'pgc-cdk-app-'));
    dirs.push(dir);
    cpSync(join(AGENTS, 'template'), join(dir, 'template'), { recursive: true });
    cpSync(join(AGENTS, 'schema.graphql'), join(dir, 'schema.graphql'));
    writeFileSync(join(dir, 'resolvers.ts'), source);
    return dir;
  }

  function attempt(props: Partial<PgCognitionAppProps>): unknown {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), STACK_NAME);
    try {
      new PgCognitionApp(stack, 'App', { appDir: AGENTS, ...props });
    } catch (error) {
      return error;
    }
    return undefined;
  }

  it.each([
    ['a folder without template/', { appDir: ROOT }, 'ERR_CONFIG'],
    ['a resolver for a field the schema lacks', { appDir: '' }, 'ERR_CONFIG'],
    ['a resolver key that is not Type.field', { appDir: '' }, 'ERR_CONFIG'],
    ['an unknown driver', { driver: 'mysql' as never }, 'ERR_CONFIG'],
    ['maxBatchSize above AppSync’s 2000', { maxBatchSize: 2001 }, 'ERR_CONFIG'],
    ['a secret prefix Secrets Manager would refuse', { secretPrefix: 'my app' }, 'ERR_CONFIG'],
    ['a malformed admin email', { adminEmail: 'not an email' }, 'ERR_INVALID_EMAIL'],
  ] as [string, Partial<PgCognitionAppProps>, string][])('refuses %s', (what, props, code) => {
    const appDir =
      what === 'a resolver for a field the schema lacks'
        ? appWithResolvers(
            `export const resolvers = { 'Query.agents': { sql: 'select 1' }, 'Query.nope': { sql: 'select 1' } };`,
          )
        : what === 'a resolver key that is not Type.field'
          ? appWithResolvers(`export const resolvers = { agents: { sql: 'select 1' } };`)
          : props.appDir;
    const error = attempt({ ...props, ...(appDir !== undefined && { appDir }) });
    expect(isCognitionError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
  });

  it('refuses a schema with a tenant-like argument, as the local endpoint does', () => {
    const dir = appWithResolvers(`export const resolvers = { 'Query.agents': { sql: 'select 1' } };`);
    writeFileSync(join(dir, 'schema.graphql'), 'type Query { agents(tenantId: ID): [String] }');
    const error = attempt({ appDir: dir });
    expect(isCognitionError(error, 'ERR_CONFIG'), String(error)).toBe(true);
  });
});
