import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ExecutionMode } from '../cognition.js';
import { COGNITION_SQL_DIR } from '../db/migrator.js';
import type { AppFolder } from './app-folder.js';
import { bundleModule, packageEntry, sqlFiles, writeAssetDir } from './bundle.js';
import { DATABASE_PORT, type Database } from './database.js';
import * as policies from './policies.js';

/**
 * How statements run as users reach the database: `postgres` (node-postgres, pooled in each
 * function) or `data-api` (the RDS Data API, one HTTPS call per statement). Either way the
 * library's lifecycle and identity lookups (the admin pool) use node-postgres, so the triggers
 * and the data source run in the VPC with both drivers.
 */
export type Driver = 'data-api' | 'postgres';

/** node-postgres verifies the server against the Amazon CAs the Node.js runtime ships (not loaded by default since Node 20). */
const LAMBDA_CA_BUNDLE = '/var/runtime/ca-cert.pem';
const RESOLVERS_MODULE = 'resolvers.mjs';
const ROLES_FILE = 'roles.json';

export interface FunctionsOptions {
  app: AppFolder;
  database: Database;
  driver: Driver;
  mode: ExecutionMode;
  secretPrefix: string;
  runtime: lambda.Runtime;
  logRetention: logs.RetentionDays;
  templateConcurrency: number;
}

export interface Functions {
  /** The four Cognito triggers (one function: the handler dispatches on triggerSource). */
  triggers: lambda.Function;
  /** The AppSync data source; absent when the application has no schema.graphql. */
  dataSource?: lambda.Function;
  /** The migration custom resource's handler. */
  migration: lambda.Function;
}

/**
 * The package's Lambda entry points as functions: code bundled at synth time, configuration
 * from the environment (secrets by ARN only, never their values), and each role granted only
 * what its handler does.
 */
export function createFunctions(scope: Construct, options: FunctionsOptions): Functions {
  const { database, driver, secretPrefix } = options;
  const { cluster, adminSecret, authenticatorSecret } = database;

  // The admin connection of every function: the master secret by ARN, and TLS verified.
  const connection: Record<string, string> = {
    COGNITION_SECRET_STORE: 'aws',
    COGNITION_SECRET_PREFIX: secretPrefix,
    DATABASE_SECRET_ARN: adminSecret.secretArn,
    DATABASE_HOST: cluster.clusterEndpoint.hostname,
    DATABASE_PORT: String(DATABASE_PORT),
    DATABASE_NAME: database.databaseName,
    DATABASE_SSLMODE: 'verify-full',
    NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
  };

  const make = (id: string, props: FunctionProps): lambda.Function => {
    const fn = new lambda.Function(scope, id, {
      runtime: options.runtime,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(props.assetDir),
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      environment: props.environment,
      logGroup: new logs.LogGroup(scope, `${id}Logs`, {
        retention: options.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      vpc: database.vpc,
      vpcSubnets: database.subnets,
    });
    cluster.connections.allowFrom(fn, ec2.Port.tcp(DATABASE_PORT), `${id} to Postgres`);
    for (const statement of props.statements) fn.addToRolePolicy(statement);
    return fn;
  };

  const triggers = make('TriggerFunction', {
    description:
      'pg-cognition: Cognito triggers (PreSignUp, PostConfirmation, PreAuthentication, PreTokenGeneration)',
    assetDir: writeAssetDir({ 'index.mjs': bundleModule(packageEntry('cognito/lambda')) }),
    // Cognito waits 5 s for a trigger; the handler answers with a clean error at 4.5 s.
    timeout: Duration.seconds(5),
    memorySize: 512,
    // The triggers run no statement as a user: the admin connection is all they use.
    environment: connection,
    statements: [
      policies.readSecrets([adminSecret.secretArn]),
      policies.manageUserSecrets(scope, secretPrefix),
    ],
  });

  let dataSource: lambda.Function | undefined;
  const graphql = options.app.graphql;
  if (graphql) {
    const secretArns = [adminSecret.secretArn, authenticatorSecret.secretArn];
    dataSource = make('DataSourceFunction', {
      description: 'pg-cognition: AppSync data source (direct Lambda resolvers, Invoke and BatchInvoke)',
      assetDir: writeAssetDir({
        'index.mjs': bundleModule(packageEntry('appsync/lambda')),
        [RESOLVERS_MODULE]: bundleModule(graphql.resolversPath),
      }),
      timeout: Duration.seconds(30),
      memorySize: 1024,
      environment: {
        ...connection,
        ...(driver === 'data-api' && {
          COGNITION_DRIVER: 'data-api',
          DATABASE_CLUSTER_ARN: cluster.clusterArn,
        }),
        COGNITION_RESOLVERS: RESOLVERS_MODULE,
        COGNITION_MODE: options.mode,
        COGNITION_AUTHENTICATOR_SECRET_ARN: authenticatorSecret.secretArn,
      },
      statements: [
        ...(driver === 'data-api' ? [policies.dataApi(cluster.clusterArn)] : []),
        policies.readSecrets(secretArns),
        ...(options.mode === 'credentials' ? [policies.readUserSecrets(scope, secretPrefix)] : []),
      ],
    });
  }

  const tenantRoles = options.app.tenantRoles;
  const migration = make('MigrationFunction', {
    description: 'pg-cognition: applies the cognition and template migrations at deploy time',
    assetDir: writeAssetDir({
      'index.mjs': bundleModule(packageEntry('cdk/migration-handler')),
      ...sqlFiles(COGNITION_SQL_DIR, 'sql'),
      ...sqlFiles(options.app.templateDir, 'template'),
      ...(tenantRoles && { [ROLES_FILE]: readFileSync(tenantRoles.path) }),
    }),
    // Lambda's maximum: a template change is rolled out to every tenant in this one call
    // (resumable when it is cut short).
    timeout: Duration.minutes(15),
    memorySize: 1024,
    // Migrations need one real session (advisory locks, DDL): node-postgres whatever the driver.
    environment: {
      ...connection,
      COGNITION_SQL_DIR: 'sql',
      COGNITION_TEMPLATE_DIR: 'template',
      COGNITION_TEMPLATE_CONCURRENCY: String(options.templateConcurrency),
      ...(tenantRoles && { COGNITION_TENANT_ROLES: ROLES_FILE }),
    },
    statements: [policies.readSecrets([adminSecret.secretArn, authenticatorSecret.secretArn])],
  });
  return { triggers, ...(dataSource && { dataSource }), migration };
}

interface FunctionProps {
  description: string;
  assetDir: string;
  timeout: Duration;
  memorySize: number;
  environment: Record<string, string>;
  statements: iam.PolicyStatement[];
}
