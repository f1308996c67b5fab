import { App, Stack } from 'aws-cdk-lib';
import { fileURLToPath } from 'node:url';
import { PgCognitionApp } from '../../src/cdk/index.js';

/**
 * The secret-agents example (examples/agents) on AWS. `npm run synth` writes the CloudFormation
 * template to cdk.out without any AWS access; `npx cdk deploy` (from this folder, see cdk.json)
 * deploys it, see docs/deploy.md. The stack is environment-agnostic (no account or region in
 * the code), so synth never looks anything up: the region comes from the AWS profile at deploy.
 *
 * COGNITION_ADMIN_EMAIL, when set, is invited as the first application admin by the migrations.
 */
const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' });
const stack = new Stack(app, process.env.COGNITION_STACK_NAME ?? 'PgCognitionAgents', {
  description: 'pg-cognition example: secret agents (Aurora Serverless v2, Cognito, AppSync)',
});
new PgCognitionApp(stack, 'Agents', {
  appDir: fileURLToPath(new URL('../agents/', import.meta.url)),
  ...(process.env.COGNITION_ADMIN_EMAIL && { adminEmail: process.env.COGNITION_ADMIN_EMAIL }),
});
app.synth();
