import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PgCognitionApp, type PgCognitionAppProps } from '../../src/cdk/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const AGENTS = join(ROOT, 'examples/agents');
export const STACK_NAME = 'PgcTest';

export interface Synthed {
  app: App;
  stack: Stack;
  construct: PgCognitionApp;
  template: Template;
  json: CfnTemplate;
  outdir: string;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[] | string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

const outdirs: string[] = [];

/** Removes the cloud assemblies this file synthesized. */
export function removeOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A temporary folder for a cloud assembly, removed by removeOutdirs. */
export function tempOutdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgc-cdk-'));
  outdirs.push(dir);
  return dir;
}

/**
 * One stack with one PgCognitionApp, synthesized into a temporary folder. CloudFormation
 * validation (a few seconds of WebAssembly) is off unless asked for.
 */
export function synth(
  props: Partial<PgCognitionAppProps> = {},
  options: { validation?: boolean } = {},
): Synthed {
  const outdir = tempOutdir();
  const app = new App({ outdir, builtinCloudFormationValidation: options.validation === true });
  const stack = new Stack(app, STACK_NAME);
  const construct = new PgCognitionApp(stack, 'App', { appDir: AGENTS, ...props });
  const template = Template.fromStack(stack);
  return { app, stack, construct, template, json: template.toJSON() as CfnTemplate, outdir };
}

/** Resources of a type, by logical id. */
export function resourcesOf(json: CfnTemplate, type: string): Record<string, CfnResource> {
  return Object.fromEntries(Object.entries(json.Resources).filter(([, r]) => r.Type === type));
}

/** The one resource of a type whose properties satisfy `where`. */
export function onlyResource(
  json: CfnTemplate,
  type: string,
  where: (r: CfnResource) => boolean = () => true,
): [string, CfnResource] {
  const found = Object.entries(resourcesOf(json, type)).filter(([, r]) => where(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as [string, CfnResource];
}

/** The logical id of a construct's default CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as Parameters<Stack['getLogicalId']>[0]);
}

/** A file of a Lambda function's asset, read from the cloud assembly. */
export function assetFile(synthed: Synthed, functionId: string, file: string): string {
  const fn = synthed.json.Resources[functionId];
  const key = (fn?.Properties?.['Code'] as { S3Key?: string } | undefined)?.S3Key;
  if (!key) throw new Error(`${functionId} has no asset`);
  return readFileSync(join(synthed.outdir, `asset.${key.replace(/\.zip$/, '')}`, file), 'utf8');
}

/** Every (action, resource) pair the inline policies of a role grant, resources as JSON. */
export function grantsOf(json: CfnTemplate, roleId: string): Set<string> {
  const grants = new Set<string>();
  for (const policy of Object.values(resourcesOf(json, 'AWS::IAM::Policy'))) {
    const roles = policy.Properties?.['Roles'] as { Ref?: string }[] | undefined;
    if (!roles?.some((r) => r.Ref === roleId)) continue;
    const document = policy.Properties?.['PolicyDocument'] as { Statement: Statement[] };
    for (const statement of document.Statement) {
      if (statement.Effect !== 'Allow') throw new Error('unexpected Deny statement');
      for (const action of [statement.Action].flat()) {
        for (const resource of [statement.Resource].flat())
          grants.add(`${action} ${JSON.stringify(resource)}`);
      }
    }
  }
  return grants;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The role of a function resource, as its logical id. */
export function roleOf(json: CfnTemplate, functionId: string): string {
  const role = json.Resources[functionId]?.Properties?.['Role'] as { 'Fn::GetAtt'?: [string, string] };
  const id = role?.['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`${functionId} has no role of this stack`);
  return id;
}
