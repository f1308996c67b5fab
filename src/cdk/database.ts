import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { CognitionError } from '../errors.js';

export const DATABASE_PORT = 5432;
/** The master user: it runs the migrations and becomes a member of cognition_owner. */
export const ADMIN_USERNAME = 'cognition_admin';
/** The role the role-switch executor logs in as (sql/0001_roles.sql). */
export const AUTHENTICATOR_USERNAME = 'cognition_authenticator';

export interface DatabaseOptions {
  vpc?: ec2.IVpc;
  vpcSubnets?: ec2.SubnetSelection;
  /** Interface endpoints to Secrets Manager (and the RDS Data API); default: when the VPC is created here. */
  vpcEndpoints?: boolean;
  /** The data source calls the RDS Data API from the VPC. */
  dataApi: boolean;
  /** Whether functions call the Cognito API (addUser's AdminCreateUser) from the VPC. */
  cognitoIdp: boolean;
  engineVersion?: rds.AuroraPostgresEngineVersion;
  minCapacity?: number;
  maxCapacity?: number;
  databaseName?: string;
  removalPolicy?: RemovalPolicy;
  deletionProtection?: boolean;
  backupRetention?: Duration;
  secretPrefix: string;
}

export interface Database {
  vpc: ec2.IVpc;
  /** Where the cluster and the functions that need the VPC live. */
  subnets: ec2.SubnetSelection;
  cluster: rds.DatabaseCluster;
  /** The master user's secret (RDS shape, with host, port and dbname). */
  adminSecret: secretsmanager.ISecret;
  /** `<prefix>/authenticator`: the authenticator's login, the id the library's secret store reads. */
  authenticatorSecret: secretsmanager.Secret;
  databaseName: string;
  /** The interface endpoints created (Secrets Manager, RDS Data API). */
  endpoints: ec2.InterfaceVpcEndpoint[];
}

/**
 * The Aurora Serverless v2 cluster (Data API on, storage encrypted, master secret generated in
 * Secrets Manager) in a VPC, and the authenticator's secret. A created VPC has isolated subnets
 * only (no NAT gateway to pay for): the functions in it reach Secrets Manager (and the Data
 * API) through interface endpoints.
 */
export function createDatabase(scope: Construct, options: DatabaseOptions): Database {
  const databaseName = options.databaseName ?? 'cognition';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseName)) {
    throw new CognitionError(
      'ERR_CONFIG',
      'databaseName must be a lower-case identifier of up to 63 characters',
    );
  }
  const createdVpc = options.vpc === undefined;
  const vpc =
    options.vpc ??
    new ec2.Vpc(scope, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
  const subnets = options.vpcSubnets ?? (createdVpc ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : {});
  const endpoints: ec2.InterfaceVpcEndpoint[] = [];
  if (options.vpcEndpoints ?? createdVpc) {
    endpoints.push(
      vpc.addInterfaceEndpoint('SecretsManagerEndpoint', {
        service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
        subnets,
      }),
    );
    if (options.cognitoIdp) {
      endpoints.push(
        vpc.addInterfaceEndpoint('CognitoIdpEndpoint', {
          service: ec2.InterfaceVpcEndpointAwsService.COGNITO_IDP,
          subnets,
        }),
      );
    }
    if (options.dataApi) {
      endpoints.push(
        vpc.addInterfaceEndpoint('RdsDataEndpoint', {
          service: ec2.InterfaceVpcEndpointAwsService.RDS_DATA,
          subnets,
        }),
      );
    }
  }

  const cluster = new rds.DatabaseCluster(scope, 'Database', {
    engine: rds.DatabaseClusterEngine.auroraPostgres({
      // 16+: cognition_owner administers the roles it creates without superuser (none on Aurora).
      version: options.engineVersion ?? rds.AuroraPostgresEngineVersion.VER_16_6,
    }),
    writer: rds.ClusterInstance.serverlessV2('Writer', { publiclyAccessible: false }),
    serverlessV2MinCapacity: options.minCapacity ?? 0.5,
    serverlessV2MaxCapacity: options.maxCapacity ?? 4,
    enableDataApi: true,
    storageEncrypted: true,
    credentials: rds.Credentials.fromGeneratedSecret(ADMIN_USERNAME),
    defaultDatabaseName: databaseName,
    port: DATABASE_PORT,
    vpc,
    vpcSubnets: subnets,
    backup: { retention: options.backupRetention ?? Duration.days(7) },
    cloudwatchLogsExports: ['postgresql'],
    ...(options.removalPolicy !== undefined && { removalPolicy: options.removalPolicy }),
    ...(options.deletionProtection !== undefined && { deletionProtection: options.deletionProtection }),
  });
  const adminSecret = cluster.secret;
  if (!adminSecret) throw new CognitionError('ERR_CONFIG', 'the cluster has no generated admin secret');

  const authenticatorSecret = new secretsmanager.Secret(scope, 'AuthenticatorSecret', {
    secretName: `${options.secretPrefix}/authenticator`,
    description:
      'pg-cognition: login of cognition_authenticator, the role-switch executor (set by the migrations)',
    generateSecretString: {
      // The RDS secret shape the library's secret store reads; the password is generated here
      // and given to the database role by the migration function.
      secretStringTemplate: Stack.of(scope).toJsonString({
        username: AUTHENTICATOR_USERNAME,
        engine: 'postgres',
        host: cluster.clusterEndpoint.hostname,
        port: DATABASE_PORT,
        dbname: databaseName,
      }),
      generateStringKey: 'password',
      excludePunctuation: true,
      passwordLength: 48,
    },
    removalPolicy: options.removalPolicy ?? RemovalPolicy.DESTROY,
  });
  return {
    vpc,
    subnets,
    cluster,
    adminSecret,
    authenticatorSecret,
    databaseName,
    endpoints,
  };
}
