import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as appsync from 'aws-cdk-lib/aws-appsync';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ResolverField } from './app-folder.js';
import { writeAssetDir } from './bundle.js';
import { withoutSubscriptionTriggers } from './subscriptions.js';

export interface GraphqlApiOptions {
  name: string;
  schemaPath: string;
  fields: ResolverField[];
  /** The fields with `@aws_subscribe`. */
  subscriptions: string[];
  /** `off` (default): deploy without `@aws_subscribe`; `appsync`: AppSync's delivery, see subscriptions.ts. */
  subscriptionDelivery: 'off' | 'appsync';
  dataSource: lambda.IFunction;
  userPool: cognito.IUserPool;
  client: cognito.IUserPoolClient;
  additionalAuthorizationModes?: appsync.AuthorizationMode[];
  /** Most events per BatchInvoke of a nested field (AppSync allows 0-2000; 0: no batching). */
  maxBatchSize: number;
  logRetention: logs.RetentionDays;
}

export interface GraphqlApi {
  api: appsync.GraphqlApi;
  resolvers: appsync.Resolver[];
}

/**
 * The AppSync API: the application's schema as AppSync takes it, Cognito user pools as the
 * default authorization (tokens of this app's client only), and one direct Lambda resolver per
 * declared field. No mapping templates: AppSync sends its own event to the data source, which
 * is what the data source expects (and what the local endpoint sends).
 */
export function createGraphqlApi(scope: Construct, options: GraphqlApiOptions): GraphqlApi {
  let schemaPath = options.schemaPath;
  if (options.subscriptions.length > 0 && options.subscriptionDelivery === 'off') {
    const sdl = withoutSubscriptionTriggers(readFileSync(schemaPath, 'utf8'));
    schemaPath = join(writeAssetDir({ 'schema.graphql': sdl }), 'schema.graphql');
    Annotations.of(scope).addWarningV2(
      'pg-cognition:subscriptionsOff',
      `${options.subscriptions.join(', ')}: deployed without @aws_subscribe, so these subscriptions never fire. ` +
        'AppSync would send every matching mutation result to every subscriber without asking Postgres; ' +
        "set subscriptionDelivery: 'appsync' once arguments and auth directives keep events private (docs/deploy.md).",
    );
  }
  const api = new appsync.GraphqlApi(scope, 'Api', {
    name: options.name,
    definition: appsync.Definition.fromFile(schemaPath),
    authorizationConfig: {
      defaultAuthorization: {
        authorizationType: appsync.AuthorizationType.USER_POOL,
        userPoolConfig: {
          userPool: options.userPool,
          defaultAction: appsync.UserPoolDefaultAction.ALLOW,
          appIdClientRegex: `^${options.client.userPoolClientId}$`,
        },
      },
      ...(options.additionalAuthorizationModes && {
        additionalAuthorizationModes: options.additionalAuthorizationModes,
      }),
    },
  });
  // Field errors go to a log group made here, with its retention, and a role that may write to
  // that group only. (The construct's logConfig would add a function that may set the retention
  // of every log group, and a role that may write to any.)
  const logGroup = new logs.LogGroup(scope, 'ApiLogs', {
    logGroupName: Fn.join('', ['/aws/appsync/apis/', api.apiId]),
    retention: options.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const logRole = new iam.Role(scope, 'ApiLogsRole', {
    assumedBy: new iam.ServicePrincipal('appsync.amazonaws.com'),
  });
  logGroup.grantWrite(logRole);
  const cfnApi = api.node.defaultChild as appsync.CfnGraphQLApi;
  cfnApi.logConfig = {
    cloudWatchLogsRoleArn: logRole.roleArn,
    fieldLogLevel: appsync.FieldLogLevel.ERROR,
    // Errors only, without request headers and results: they may carry tokens and user data.
    excludeVerboseContent: true,
  };
  const source = api.addLambdaDataSource('Cognition', options.dataSource, {
    name: 'Cognition',
    description: 'pg-cognition data source: resolver SQL runs as the calling user',
  });
  const resolvers = options.fields.map((field) =>
    source.createResolver(`${field.typeName}${field.fieldName}Resolver`, {
      typeName: field.typeName,
      fieldName: field.fieldName,
      // Fields below the root run once per parent item: one BatchInvoke per level instead.
      ...(field.nested && options.maxBatchSize > 0 && { maxBatchSize: options.maxBatchSize }),
    }),
  );
  return { api, resolvers };
}
