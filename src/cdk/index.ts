/**
 * `pg-cognition/cdk`: the AWS CDK construct that deploys a pg-cognition application. It needs
 * `aws-cdk-lib`, `constructs` and `esbuild` (the functions are bundled at synth time), which
 * the rest of the package never loads.
 */
export { PgCognitionApp, type PgCognitionAppProps } from './app-construct.js';
export { readAppFolder, type AppFolder, type ResolverField } from './app-folder.js';
export type { Driver } from './functions.js';
export type { MigrationCommand, MigrationProperties, MigrationSummary } from './migration-handler.js';
