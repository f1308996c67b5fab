import { CustomResource, RemovalPolicy } from 'aws-cdk-lib';
import type { IDependable } from 'constructs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { COGNITION_SQL_DIR } from '../db/migrator.js';
import type { MigrationProperties } from './migration-handler.js';
import { sqlHash } from './sql-hash.js';

export interface MigrationOptions {
  handler: lambda.IFunction;
  templateDir: string;
  /** The application's roles.json, when it has one. */
  rolesPath?: string;
  adminEmail?: string;
  /** What must exist before the migrations can run: the cluster and its writer, the network path. */
  dependsOn: IDependable[];
  logRetention: logs.RetentionDays;
}

/**
 * The migration step of a deploy: a custom resource whose properties hold a hash of all the SQL,
 * so that CloudFormation calls the migration function on the first deploy and again on every
 * deploy where a migration file changed or was added, and not otherwise.
 */
export function createMigration(scope: Construct, options: MigrationOptions): CustomResource {
  const provider = new cr.Provider(scope, 'MigrationProvider', {
    onEventHandler: options.handler,
    logGroup: new logs.LogGroup(scope, 'MigrationProviderLogs', {
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
  });
  const properties: MigrationProperties = {
    SqlHash: sqlHash({
      cognition: COGNITION_SQL_DIR,
      template: options.templateDir,
      ...(options.rolesPath !== undefined && { roles: options.rolesPath }),
    }),
    ...(options.adminEmail && { AdminEmail: options.adminEmail }),
  };
  const resource = new CustomResource(scope, 'Migrations', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::PgCognitionMigrations',
    properties: { ...properties },
  });
  for (const dependency of options.dependsOn) resource.node.addDependency(dependency);
  return resource;
}
