import { join } from 'node:path';
import { AuthorizationType } from 'aws-cdk-lib/aws-appsync';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COGNITION_SQL_DIR } from '../../src/db/migrator.js';
import { sqlHash } from '../../src/cdk/sql-hash.js';
import { resolvers } from '../../examples/agents/resolvers.js';
import {
  AGENTS,
  STACK_NAME,
  assetFile,
  grantsOf,
  logicalId,
  onlyResource,
  removeOutdirs,
  resourcesOf,
  roleOf,
  synth,
  type CfnTemplate,
  type Statement,
  type Synthed,
} from './support.js';

// One synth of the agents example for the whole file, with the CloudFormation validation on.
let s: Synthed;
let ids: {
  triggers: string;
  dataSource: string;
  migration: string;
  cluster: string;
  writer: string;
  adminSecret: string;
  authenticatorSecret: string;
  userPool: string;
};

const USERS_PATTERN = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:secret:pg-cognition/${STACK_NAME}/users/*`,
    ],
  ],
};

const grant = (action: string, resource: unknown): string => `${action} ${JSON.stringify(resource)}`;

beforeAll(() => {
  s = synth(
    {
      additionalAuthorizationModes: [
        { authorizationType: AuthorizationType.API_KEY },
        { authorizationType: AuthorizationType.IAM },
      ],
      adminEmail: 'first.admin@example.com',
    },
    { validation: true },
  );
  const { construct, stack } = s;
  ids = {
    triggers: logicalId(stack, construct.triggerFunction),
    dataSource: logicalId(
      stack,
      construct.dataSourceFunction as NonNullable<typeof construct.dataSourceFunction>,
    ),
    migration: logicalId(stack, construct.migrationFunction),
    cluster: logicalId(stack, construct.cluster),
    writer: onlyResource(s.json, 'AWS::RDS::DBInstance')[0],
    adminSecret: (stack.resolve(construct.adminSecret.secretArn) as { Ref: string }).Ref,
    authenticatorSecret: (stack.resolve(construct.authenticatorSecret.secretArn) as { Ref: string }).Ref,
    userPool: logicalId(stack, construct.userPool),
  };
}, 120_000);
afterAll(removeOutdirs);

describe('the agents example on AWS', () => {
  it('passes CloudFormation validation at synth', async () => {
    const { readFileSync } = await import('node:fs');
    const report = JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  describe('Cognito', () => {
    it('attaches the four triggers, all to the function that holds the Cognito handler', () => {
      const [, pool] = onlyResource(s.json, 'AWS::Cognito::UserPool');
      const target = { 'Fn::GetAtt': [ids.triggers, 'Arn'] };
      expect(pool.Properties?.['LambdaConfig']).toEqual({
        PreSignUp: target,
        PostConfirmation: target,
        PreAuthentication: target,
        PreTokenGeneration: target,
      });
      const fn = s.json.Resources[ids.triggers]?.Properties ?? {};
      expect(fn['Handler']).toBe('index.handler');
      const code = assetFile(s, ids.triggers, 'index.mjs');
      // The bundle of src/cognito/lambda.ts: its dispatch on triggerSource and its error codes.
      for (const marker of [
        'PreSignUp_SignUp',
        'PostConfirmation_ConfirmSignUp',
        'TokenGeneration_RefreshTokens',
      ]) {
        expect(code).toContain(marker);
      }
      expect(code).not.toContain('COGNITION_RESOLVERS');
      // Cognito may invoke it, from this user pool only, once per trigger.
      const permissions = Object.values(resourcesOf(s.json, 'AWS::Lambda::Permission')).filter(
        (p) => JSON.stringify(p.Properties?.['FunctionName']) === JSON.stringify(target),
      );
      expect(permissions).toHaveLength(4);
      for (const p of permissions) {
        expect(p.Properties).toMatchObject({
          Action: 'lambda:InvokeFunction',
          Principal: 'cognito-idp.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [logicalId(s.stack, s.construct.userPool), 'Arn'] },
        });
      }
    });

    it('answers within the 5 s Cognito gives a trigger', () => {
      expect(s.json.Resources[ids.triggers]?.Properties?.['Timeout']).toBeLessThanOrEqual(5);
    });

    it('signs in by email, case-insensitively, and lets invited users sign up by default', () => {
      s.template.hasResourceProperties('AWS::Cognito::UserPool', {
        UsernameAttributes: ['email'],
        UsernameConfiguration: { CaseSensitive: false },
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
        AutoVerifiedAttributes: ['email'],
        UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
      });
    });

    it('has a group per role and an app client for password and SRP sign-in with refresh', () => {
      const groups = Object.values(resourcesOf(s.json, 'AWS::Cognito::UserPoolGroup')).map(
        (g) => g.Properties?.['GroupName'],
      );
      expect(groups.sort()).toEqual(['admin', 'application_admin', 'user']);
      s.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        ExplicitAuthFlows: Match.arrayEquals([
          'ALLOW_USER_PASSWORD_AUTH',
          'ALLOW_USER_SRP_AUTH',
          'ALLOW_REFRESH_TOKEN_AUTH',
        ]),
        GenerateSecret: false,
        PreventUserExistenceErrors: 'ENABLED',
        AllowedOAuthFlowsUserPoolClient: false,
      });
    });
    it('declares custom:tenant_id for the logins pg-cognition creates, and users cannot write it', () => {
      s.template.hasResourceProperties('AWS::Cognito::UserPool', {
        Schema: Match.arrayWith([
          Match.objectLike({ Name: 'tenant_id', AttributeDataType: 'String', Mutable: true }),
        ]),
      });
      const [, client] = onlyResource(s.json, 'AWS::Cognito::UserPoolClient');
      const writable = client.Properties?.['WriteAttributes'] as string[];
      expect(writable).toContain('email');
      expect(writable.filter((a) => a.startsWith('custom:'))).toEqual([]);
    });
  });

  describe('AppSync', () => {
    it('authorizes with the user pool by default (this client only), plus the extra modes', () => {
      s.template.hasResourceProperties('AWS::AppSync::GraphQLApi', {
        AuthenticationType: 'AMAZON_COGNITO_USER_POOLS',
        UserPoolConfig: {
          DefaultAction: 'ALLOW',
          UserPoolId: { Ref: logicalId(s.stack, s.construct.userPool) },
          AppIdClientRegex: {
            'Fn::Join': ['', ['^', { Ref: logicalId(s.stack, s.construct.userPoolClient) }, '$']],
          },
        },
        AdditionalAuthenticationProviders: [
          { AuthenticationType: 'API_KEY' },
          { AuthenticationType: 'AWS_IAM' },
        ],
      });
    });

    it('has one direct Lambda resolver per declared field, on the data source function', () => {
      const [dataSourceId, dataSource] = onlyResource(s.json, 'AWS::AppSync::DataSource');
      expect(dataSource.Properties).toMatchObject({
        Type: 'AWS_LAMBDA',
        LambdaConfig: { LambdaFunctionArn: { 'Fn::GetAtt': [ids.dataSource, 'Arn'] } },
      });
      const found = Object.values(resourcesOf(s.json, 'AWS::AppSync::Resolver'));
      expect(found.map((r) => `${r.Properties?.['TypeName']}.${r.Properties?.['FieldName']}`).sort()).toEqual(
        Object.keys(resolvers).sort(),
      );
      for (const resolver of found) {
        expect(resolver.Properties?.['DataSourceName']).toBe(dataSource.Properties?.['Name']);
        expect(resolver.Properties?.['Kind']).toBe('UNIT');
        // Direct Lambda: AppSync's own event goes to the function, no template or code in between.
        for (const key of [
          'RequestMappingTemplate',
          'ResponseMappingTemplate',
          'RequestMappingTemplateS3Location',
          'ResponseMappingTemplateS3Location',
          'Code',
          'CodeS3Location',
          'Runtime',
          'PipelineConfig',
        ]) {
          expect(resolver.Properties, key).not.toHaveProperty(key);
        }
        expect([resolver.DependsOn].flat()).toContain(dataSourceId);
      }
      const code = assetFile(s, ids.dataSource, 'index.mjs');
      expect(code).toContain('COGNITION_RESOLVERS');
      expect(assetFile(s, ids.dataSource, 'resolvers.mjs')).toContain('Agent.realName');
    });

    it('batches the fields below the root (BatchInvoke), list fields included, and no root field', () => {
      const batch = Object.fromEntries(
        Object.values(resourcesOf(s.json, 'AWS::AppSync::Resolver')).map((r) => [
          `${r.Properties?.['TypeName']}.${r.Properties?.['FieldName']}`,
          r.Properties?.['MaxBatchSize'],
        ]),
      );
      expect(batch['Office.agents']).toBe(1000);
      expect(batch['Agent.missions']).toBe(1000);
      expect(batch['Agent.office']).toBe(1000);
      expect(batch['Agent.realName']).toBe(1000);
      for (const [field, size] of Object.entries(batch)) {
        if (/^(Query|Mutation|Subscription)\./.test(field)) expect(size, field).toBeUndefined();
        else expect(size, field).toBe(1000);
      }
    });

    it('deploys the schema without @aws_subscribe unless the application opts in', () => {
      const [, schema] = onlyResource(s.json, 'AWS::AppSync::GraphQLSchema');
      const definition = String(schema.Properties?.['Definition']);
      expect(definition).toContain('onMessage(recipientId: ID!): Message');
      expect(definition).not.toContain('@aws_subscribe');
      const warnings = s.stack.node
        .findAll()
        .flatMap((c) => c.node.metadata)
        .filter((m) => m.type === 'aws:cdk:warning')
        .map((m) => String(m.data));
      expect(warnings.some((w) => w.includes('Subscription.onMessage'))).toBe(true);
    });
  });

  describe('the database', () => {
    it('is Aurora Serverless v2 Postgres, encrypted, with the Data API and a generated admin secret', () => {
      s.template.hasResourceProperties('AWS::RDS::DBCluster', {
        Engine: 'aurora-postgresql',
        EngineVersion: Match.stringLikeRegexp('^1[6-9]\\.'),
        StorageEncrypted: true,
        EnableHttpEndpoint: true,
        ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 4 },
        MasterUsername: Match.anyValue(),
        MasterUserPassword: Match.objectLike({
          'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('resolve:secretsmanager')])],
        }),
      });
      s.template.hasResourceProperties('AWS::RDS::DBInstance', {
        DBInstanceClass: 'db.serverless',
        PubliclyAccessible: false,
      });
      s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password' }),
      });
    });

    it('keeps the cluster in isolated subnets, open on 5432 to the three functions only', () => {
      s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
      s.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
      const ingress = Object.values(resourcesOf(s.json, 'AWS::EC2::SecurityGroupIngress'));
      for (const rule of ingress) {
        expect(rule.Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 });
      }
      const sources = ingress.map((i) => JSON.stringify(i.Properties?.['SourceSecurityGroupId'])).sort();
      const groups = [ids.triggers, ids.dataSource, ids.migration]
        .map((id) =>
          JSON.stringify(
            (s.json.Resources[id]?.Properties?.['VpcConfig'] as { SecurityGroupIds: unknown[] })
              .SecurityGroupIds[0],
          ),
        )
        .sort();
      expect(sources).toEqual(groups);
      // Secrets Manager and Cognito (addUser) through endpoints; no Data API endpoint with the
      // default driver.
      const endpoints = Object.values(resourcesOf(s.json, 'AWS::EC2::VPCEndpoint'))
        .map((e) => JSON.stringify(e.Properties?.['ServiceName']))
        .sort();
      expect(endpoints).toHaveLength(2);
      expect(endpoints[0]).toContain('.cognito-idp');
      expect(endpoints[1]).toContain('.secretsmanager');
    });
  });

  describe('the migrations', () => {
    it('run as a custom resource that depends on the cluster and its writer, keyed by the SQL', () => {
      const [, resource] = onlyResource(s.json, 'Custom::PgCognitionMigrations');
      expect(resource.DependsOn).toEqual(expect.arrayContaining([ids.cluster, ids.writer]));
      expect(resource.Properties).toMatchObject({
        SqlHash: sqlHash({ cognition: COGNITION_SQL_DIR, template: join(AGENTS, 'template') }),
        AdminEmail: 'first.admin@example.com',
      });
      // The provider framework hands each event to the migration function.
      const token = resource.Properties?.['ServiceToken'] as { 'Fn::GetAtt': [string, string] };
      const framework = s.json.Resources[token['Fn::GetAtt'][0]];
      expect(framework?.Properties?.['Environment']).toEqual({
        Variables: { USER_ON_EVENT_FUNCTION_ARN: { 'Fn::GetAtt': [ids.migration, 'Arn'] } },
      });
    });

    it('are applied by a function in the VPC that carries the SQL it applies', () => {
      const fn = s.json.Resources[ids.migration]?.Properties ?? {};
      expect(fn['VpcConfig']).toBeDefined();
      expect(fn['Timeout']).toBe(900);
      expect(assetFile(s, ids.migration, 'sql/0001_roles.sql')).toContain('cognition_owner');
      expect(assetFile(s, ids.migration, 'template/0001_agents.sql')).toContain('agents');
    });
  });

  describe('least privilege', () => {
    it('lets the data source read the admin and authenticator secrets and create logins, nothing else', () => {
      expect(grantsOf(s.json, roleOf(s.json, ids.dataSource))).toEqual(
        new Set([
          grant('secretsmanager:GetSecretValue', { Ref: ids.adminSecret }),
          grant('secretsmanager:GetSecretValue', { Ref: ids.authenticatorSecret }),
          grant('cognito-idp:AdminCreateUser', { 'Fn::GetAtt': [ids.userPool, 'Arn'] }),
        ]),
      );
    });

    it('lets the triggers manage the users’ secrets under the prefix, and read the admin secret', () => {
      expect(grantsOf(s.json, roleOf(s.json, ids.triggers))).toEqual(
        new Set([
          grant('secretsmanager:GetSecretValue', { Ref: ids.adminSecret }),
          ...[
            'secretsmanager:CreateSecret',
            'secretsmanager:PutSecretValue',
            'secretsmanager:GetSecretValue',
            'secretsmanager:DeleteSecret',
          ].map((a) => grant(a, USERS_PATTERN)),
        ]),
      );
    });

    it('lets the migration function read the two secrets it needs', () => {
      expect(grantsOf(s.json, roleOf(s.json, ids.migration))).toEqual(
        new Set([
          grant('secretsmanager:GetSecretValue', { Ref: ids.adminSecret }),
          grant('secretsmanager:GetSecretValue', { Ref: ids.authenticatorSecret }),
        ]),
      );
    });

    it('lets AppSync write its field errors to its own log group only', () => {
      s.template.resourceCountIs('Custom::LogRetention', 0);
      const [, api] = onlyResource(s.json, 'AWS::AppSync::GraphQLApi');
      const logConfig = api.Properties?.['LogConfig'] as {
        CloudWatchLogsRoleArn: { 'Fn::GetAtt': [string, string] };
      };
      expect(logConfig).toMatchObject({ FieldLogLevel: 'ERROR', ExcludeVerboseContent: true });
      const role = logConfig.CloudWatchLogsRoleArn['Fn::GetAtt'][0];
      expect(s.json.Resources[role]?.Properties).not.toHaveProperty('ManagedPolicyArns');
      const [logGroupId, logGroup] = onlyResource(s.json, 'AWS::Logs::LogGroup', (g) =>
        JSON.stringify(g.Properties?.['LogGroupName'] ?? '').includes('/aws/appsync/apis/'),
      );
      expect(logGroup.Properties?.['RetentionInDays']).toBe(30);
      const arn = { 'Fn::GetAtt': [logGroupId, 'Arn'] };
      expect(grantsOf(s.json, role)).toEqual(
        new Set([grant('logs:CreateLogStream', arn), grant('logs:PutLogEvents', arn)]),
      );
    });

    it('grants no wildcard action and no secret or database action on every resource', () => {
      for (const [id, policy] of Object.entries(resourcesOf(s.json, 'AWS::IAM::Policy'))) {
        const document = policy.Properties?.['PolicyDocument'] as { Statement: Statement[] };
        for (const statement of document.Statement) {
          const actions = [statement.Action].flat();
          const resources = [statement.Resource].flat();
          expect(
            actions.filter((a) => a === '*' || a.endsWith(':*')),
            id,
          ).toEqual([]);
          if (actions.some((a) => /^(secretsmanager|rds-data|rds|kms):/.test(a))) {
            expect(resources, id).not.toContain('*');
          }
        }
      }
    });
  });

  describe('configuration', () => {
    it('holds no plaintext secret in any function environment: secrets by ARN only', () => {
      const secretIds = new Set(
        Object.keys({
          ...resourcesOf(s.json, 'AWS::SecretsManager::Secret'),
          ...resourcesOf(s.json, 'AWS::SecretsManager::SecretTargetAttachment'),
        }),
      );
      const functions = resourcesOf(s.json, 'AWS::Lambda::Function');
      expect(Object.keys(functions).length).toBeGreaterThanOrEqual(4);
      for (const [id, fn] of Object.entries(functions)) {
        const variables =
          (fn.Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined)
            ?.Variables ?? {};
        expect(JSON.stringify(variables), id).not.toMatch(/resolve:secretsmanager|postgres(ql)?:\/\//i);
        for (const [name, value] of Object.entries(variables)) {
          expect(name, id).not.toMatch(/PASSWORD|DATABASE_URL|TOKEN|API_KEY/);
          if (name.endsWith('_SECRET_ARN')) {
            const ref = (value as { Ref?: string }).Ref;
            expect(ref !== undefined && secretIds.has(ref), `${id} ${name}`).toBe(true);
          } else if (typeof value === 'string') {
            // Literals are settings (names, paths, numbers), never credentials.
            expect(value, `${id} ${name}`).toMatch(/^[\w./:@-]{0,200}$/);
            expect(value, `${id} ${name}`).not.toMatch(/^[A-Za-z0-9]{32,}$/);
          }
        }
      }
      const env = (id: string): Record<string, unknown> =>
        (s.json.Resources[id]?.Properties?.['Environment'] as { Variables: Record<string, unknown> })
          .Variables;
      expect(env(ids.dataSource)).toMatchObject({
        DATABASE_SECRET_ARN: { Ref: ids.adminSecret },
        COGNITION_AUTHENTICATOR_SECRET_ARN: { Ref: ids.authenticatorSecret },
        COGNITION_SECRET_PREFIX: `pg-cognition/${STACK_NAME}`,
        COGNITION_MODE: 'role-switch',
        COGNITION_RESOLVERS: 'resolvers.mjs',
      });
      for (const id of [ids.triggers, ids.dataSource, ids.migration]) {
        // node-postgres verifies the server's certificate against the Amazon CAs.
        expect(env(id)).toMatchObject({
          DATABASE_SSLMODE: 'verify-full',
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
          DATABASE_SECRET_ARN: { Ref: ids.adminSecret },
        });
        expect(env(id)).not.toHaveProperty('COGNITION_DRIVER');
      }
      // No secret value anywhere in the template either: only generated ones.
      expect(JSON.stringify(s.json as CfnTemplate)).not.toMatch(/"SecretString"/);
    });

    it('runs the functions on Node.js 22, ARM64, in the VPC', () => {
      for (const id of [ids.triggers, ids.dataSource, ids.migration]) {
        expect(s.json.Resources[id]?.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          VpcConfig: { SubnetIds: expect.any(Array), SecurityGroupIds: expect.any(Array) },
        });
      }
    });
  });
});
