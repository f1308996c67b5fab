import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnOutput, type Duration, type RemovalPolicy, Stack, Token, type CustomResource } from 'aws-cdk-lib';
import type * as appsync from 'aws-cdk-lib/aws-appsync';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ExecutionMode } from '../cognition.js';
import { CognitionError } from '../errors.js';
import { isPossibleIdPrefix } from '../secrets/secret-store.js';
import { validateEmail } from '../users/validation.js';
import { readAppFolder } from './app-folder.js';
import { createDatabase } from './database.js';
import { createFunctions, type Driver } from './functions.js';
import { createGraphqlApi } from './graphql-api.js';
import { createMigration } from './migration.js';
import { createUserPool } from './user-pool.js';

export interface PgCognitionAppProps {
  /** The application folder: `template/`, and `schema.graphql` with `resolvers.ts` for an API. */
  readonly appDir: string;
  /**
   * How the data source runs statements as users: `postgres` (default; node-postgres) or
   * `data-api` (the RDS Data API). The library's lifecycle and identity lookups use
   * node-postgres with both, so every function runs in the VPC; the migrations always use
   * node-postgres.
   */
  readonly driver?: Driver;
  /** The data source's execution mode (default `role-switch`). */
  readonly mode?: ExecutionMode;
  /** Prefix of the secret names (default `pg-cognition/<stack name>`); users' secrets are `<prefix>/users/<id>`. */
  readonly secretPrefix?: string;
  /** An existing VPC (default: a new one, 2 AZs, isolated subnets, no NAT gateway). */
  readonly vpc?: ec2.IVpc;
  /** Subnets for the cluster and the in-VPC functions (default: the isolated subnets of the new VPC). */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Interface endpoints for Secrets Manager, and the RDS Data API with the data-api driver
   * (default: only when the VPC is created here; a given VPC needs them or a NAT gateway).
   */
  readonly vpcEndpoints?: boolean;
  /** Aurora PostgreSQL version, 16 or later (default 16.6). */
  readonly engineVersion?: rds.AuroraPostgresEngineVersion;
  /** Serverless v2 capacity in ACUs (default 0.5 to 4). 0 pauses the cluster when idle, see docs/deploy.md. */
  readonly minCapacity?: number;
  readonly maxCapacity?: number;
  /** The database name (default `cognition`). */
  readonly databaseName?: string;
  readonly backupRetention?: Duration;
  /** Applies to the cluster, the user pool and the authenticator secret (default: CDK's, snapshot/retain). */
  readonly removalPolicy?: RemovalPolicy;
  readonly deletionProtection?: boolean;
  /** Invited users may sign up themselves (default true); false: accounts are created by administrators. */
  readonly selfSignUp?: boolean;
  /**
   * User pool groups, one per role name (default: the roles of the app's `roles.json`, else
   * `admin` and `user`, and `application_admin`).
   */
  readonly groups?: readonly string[];
  /** `V1_0` (default) puts the tenant claims in the ID token; `V2_0` in the access token too. */
  readonly preTokenGenerationVersion?: 'V1_0' | 'V2_0';
  /** Default LITE with V1_0, ESSENTIALS with V2_0. */
  readonly featurePlan?: cognito.FeaturePlan;
  /** Extra user pool attributes for the application (pg-cognition itself needs none). */
  readonly customAttributes?: Record<string, cognito.ICustomAttribute>;
  /** How the user pool sends email (default: Cognito's own, limited to a few messages a day). */
  readonly email?: cognito.UserPoolEmail;
  /** The API's name (default: the construct's path). */
  readonly apiName?: string;
  /** Authorization modes besides Cognito user pools (API key, IAM, OIDC, Lambda). */
  readonly additionalAuthorizationModes?: appsync.AuthorizationMode[];
  /**
   * `off` (default): subscriptions are deployed without `@aws_subscribe` and never fire, because
   * AppSync delivers mutation results to subscribers without reading them again as each
   * subscriber (the local endpoint does). `appsync`: AppSync's delivery, once the subscription
   * arguments and auth directives keep events private (see docs/deploy.md).
   */
  readonly subscriptionDelivery?: 'off' | 'appsync';
  /** Most events per BatchInvoke for fields below the root (default 1000, as locally; 0 turns batching off). */
  readonly maxBatchSize?: number;
  /** Invited as an application admin by the migrations (idempotent). */
  readonly adminEmail?: string;
  /** Tenants migrated in parallel by a template rollout (default 4). */
  readonly templateConcurrency?: number;
  /** Lambda runtime (default Node.js 22). */
  readonly runtime?: lambda.Runtime;
  /** Retention of the functions' and the API's logs (default one month). */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A pg-cognition application on AWS: Aurora Serverless v2 Postgres (Data API on, encrypted),
 * the migrations applied at deploy time, a Cognito user pool with the four triggers, and an
 * AppSync API whose resolvers run the application's SQL as the calling user.
 */
export class PgCognitionApp extends Construct {
  readonly secretPrefix: string;
  readonly vpc: ec2.IVpc;
  readonly cluster: rds.DatabaseCluster;
  readonly adminSecret: secretsmanager.ISecret;
  readonly authenticatorSecret: secretsmanager.ISecret;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly triggerFunction: lambda.Function;
  readonly migrationFunction: lambda.Function;
  readonly migrations: CustomResource;
  /** Absent when the application has no schema.graphql. */
  readonly api?: appsync.GraphqlApi;
  readonly dataSourceFunction?: lambda.Function;

  constructor(scope: Construct, id: string, props: PgCognitionAppProps) {
    super(scope, id);
    const options = checkProps(props);
    this.secretPrefix = props.secretPrefix ?? `pg-cognition/${Stack.of(this).stackName}`;
    if (!Token.isUnresolved(this.secretPrefix) && !isPossibleIdPrefix(this.secretPrefix)) {
      throw new CognitionError('ERR_CONFIG', 'secretPrefix may hold only letters, digits and /_+=.@-');
    }
    const app = readAppFolder(props.appDir);
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const database = createDatabase(this, {
      secretPrefix: this.secretPrefix,
      dataApi: options.driver === 'data-api',
      cognitoIdp: app.graphql !== undefined,
      ...pick(props, [
        'vpc',
        'vpcSubnets',
        'vpcEndpoints',
        'engineVersion',
        'minCapacity',
        'maxCapacity',
        'databaseName',
        'removalPolicy',
        'deletionProtection',
        'backupRetention',
      ]),
    });
    const functions = createFunctions(this, {
      app,
      database,
      driver: options.driver,
      mode: options.mode,
      secretPrefix: this.secretPrefix,
      runtime: props.runtime ?? lambda.Runtime.NODEJS_22_X,
      logRetention,
      templateConcurrency: options.templateConcurrency,
    });
    const { userPool, client } = createUserPool(this, {
      triggers: functions.triggers,
      selfSignUp: props.selfSignUp ?? true,
      groups: props.groups ?? [
        ...(app.tenantRoles?.declaration.roles ?? ['admin', 'user']),
        'application_admin',
      ],
      preTokenGenerationVersion: props.preTokenGenerationVersion ?? 'V1_0',
      ...pick(props, ['featurePlan', 'customAttributes', 'email', 'removalPolicy', 'deletionProtection']),
    });
    this.migrations = createMigration(this, {
      handler: functions.migration,
      templateDir: app.templateDir,
      ...(app.tenantRoles && { rolesPath: app.tenantRoles.path }),
      ...(options.adminEmail && { adminEmail: options.adminEmail }),
      // The cluster construct holds the writer instance, the security group and its ingress
      // rules; the endpoints are how the function reaches Secrets Manager from isolated subnets.
      dependsOn: [database.cluster, ...database.endpoints],
      logRetention,
    });

    if (app.graphql && functions.dataSource) {
      // addUser creates the login of the user it invites; that one call is all it may make.
      functions.dataSource.addEnvironment('COGNITO_USER_POOL_ID', userPool.userPoolId);
      functions.dataSource.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['cognito-idp:AdminCreateUser'],
          resources: [userPool.userPoolArn],
        }),
      );
      this.api = createGraphqlApi(this, {
        name: props.apiName ?? this.node.path.replace(/\//g, '-'),
        schemaPath: app.graphql.schemaPath,
        fields: app.graphql.fields,
        subscriptions: app.graphql.subscriptions,
        subscriptionDelivery: options.subscriptionDelivery,
        dataSource: functions.dataSource,
        userPool,
        client,
        maxBatchSize: options.maxBatchSize,
        logRetention,
        ...(props.additionalAuthorizationModes && {
          additionalAuthorizationModes: props.additionalAuthorizationModes,
        }),
      }).api;
      this.dataSourceFunction = functions.dataSource;
      new CfnOutput(this, 'GraphqlUrl', { value: this.api.graphqlUrl });
    }

    this.vpc = database.vpc;
    this.cluster = database.cluster;
    this.adminSecret = database.adminSecret;
    this.authenticatorSecret = database.authenticatorSecret;
    this.userPool = userPool;
    this.userPoolClient = client;
    this.triggerFunction = functions.triggers;
    this.migrationFunction = functions.migration;
    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    new CfnOutput(this, 'MigrationFunctionName', { value: functions.migration.functionName });
    new CfnOutput(this, 'Region', { value: Stack.of(this).region });
  }
}

interface CheckedOptions {
  driver: Driver;
  mode: ExecutionMode;
  maxBatchSize: number;
  templateConcurrency: number;
  subscriptionDelivery: 'off' | 'appsync';
  adminEmail?: string;
}

function checkProps(props: PgCognitionAppProps): CheckedOptions {
  const driver = props.driver ?? 'postgres';
  if (driver !== 'data-api' && driver !== 'postgres') {
    throw new CognitionError('ERR_CONFIG', 'driver must be data-api or postgres');
  }
  const mode = props.mode ?? 'role-switch';
  if (mode !== 'role-switch' && mode !== 'credentials') {
    throw new CognitionError('ERR_CONFIG', 'mode must be role-switch or credentials');
  }
  const maxBatchSize = props.maxBatchSize ?? 1000;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 0 || maxBatchSize > 2000) {
    throw new CognitionError('ERR_CONFIG', 'maxBatchSize must be a whole number from 0 to 2000');
  }
  const templateConcurrency = props.templateConcurrency ?? 4;
  if (!Number.isInteger(templateConcurrency) || templateConcurrency < 1 || templateConcurrency > 32) {
    throw new CognitionError('ERR_CONFIG', 'templateConcurrency must be a whole number from 1 to 32');
  }
  for (const group of props.groups ?? []) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,127}$/.test(group)) {
      throw new CognitionError('ERR_CONFIG', `group "${group}" is not a role name`);
    }
  }
  const subscriptionDelivery = props.subscriptionDelivery ?? 'off';
  if (subscriptionDelivery !== 'off' && subscriptionDelivery !== 'appsync') {
    throw new CognitionError('ERR_CONFIG', 'subscriptionDelivery must be off or appsync');
  }
  const checked: CheckedOptions = { driver, mode, maxBatchSize, templateConcurrency, subscriptionDelivery };
  if (props.adminEmail !== undefined) checked.adminEmail = validateEmail(props.adminEmail);
  return checked;
}

/** The props that are set, so that undefined never overrides a default further down. */
function pick<K extends keyof PgCognitionAppProps>(
  props: PgCognitionAppProps,
  keys: readonly K[],
): Partial<Pick<PgCognitionAppProps, K>> {
  const picked: Partial<Pick<PgCognitionAppProps, K>> = {};
  for (const key of keys) if (props[key] !== undefined) picked[key] = props[key];
  return picked;
}
