import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Cognition } from '../cognition.js';
import { migrate, type MigrationResult } from '../db/migrator.js';
import { CognitionError } from '../errors.js';
import { connectionFromEnv, type Env, type LambdaConnection } from '../secrets/lambda-env.js';
import type { TemplateMigrateReport } from '../tenancy/template-migrations.js';
import { validateDeclaration } from '../tenancy/tenant-roles.js';
import { scramVerifier } from '../users/credentials.js';
import type { User } from '../users/users.js';
import { sqlHash } from './sql-hash.js';

/**
 * The Lambda behind the migration custom resource of `PgCognitionApp` (bundled with the
 * package's `sql/` folder and the application's `template/` folder next to it). It runs in the
 * VPC with node-postgres: migrations need one real session for their advisory locks and DDL.
 *
 * - CloudFormation Create/Update (through the custom resource provider framework): applies the
 *   cognition migrations, syncs the authenticator's password with its secret, declares the
 *   application's tenant roles (`roles.json`), rolls the template migrations out to the template
 *   and every tenant, and invites `AdminEmail` as an application admin if that property is set. Delete does nothing: a stack never drops its data this way.
 * - Direct invocation (`aws lambda invoke`): `{"action":"migrate"}` resumes a rollout without a
 *   deploy; `{"action":"invite-admin","email":"..."}` invites an application admin.
 *
 * Configuration, from the environment: what `connectionFromEnv` reads (`DATABASE_SECRET_ARN`,
 * `DATABASE_HOST`, ...), plus `COGNITION_SQL_DIR` and `COGNITION_TEMPLATE_DIR` (relative to
 * `LAMBDA_TASK_ROOT`; default `sql` and `template`), `COGNITION_TENANT_ROLES` (the application's
 * `roles.json`, when it has one) and `COGNITION_TEMPLATE_CONCURRENCY`.
 */

/** Stable, so that an Update never looks like a replacement (which would send a Delete). */
export const MIGRATIONS_RESOURCE_ID = 'pg-cognition-migrations';

/** The custom resource's properties (CloudFormation passes every value as a string). */
export interface MigrationProperties {
  SqlHash: string;
  AdminEmail?: string;
}

export type MigrationCommand = { action: 'migrate' } | { action: 'invite-admin'; email: string };

export interface MigrationSummary {
  cognitionApplied: number;
  templateApplied: number;
  tenantsTotal: number;
  tenantsMigrated: number;
  admin?: { email: string; status: string; invited: boolean };
}

export type MigrationLog = (message: string, details?: Record<string, unknown>) => void;

const defaultLog: MigrationLog = (message, details) => {
  console.log(JSON.stringify({ message, ...details }));
};

export async function handler(event: unknown): Promise<unknown> {
  return handleMigrationEvent(event, process.env);
}

/** The handler over an explicit environment (tests give it a local database and secret store). */
export async function handleMigrationEvent(
  event: unknown,
  env: Env,
  log: MigrationLog = defaultLog,
): Promise<unknown> {
  if (!isObject(event)) throw invalidEvent();
  if (typeof event['RequestType'] === 'string') return customResource(event, env, log);
  const command = commandOf(event);
  if (command.action === 'migrate') return withCognition(env, (c) => migrateAll(c, env, log));
  return withCognition(env, (c) => inviteAdmin(c.cognition, command.email, log));
}

async function customResource(
  event: Record<string, unknown>,
  env: Env,
  log: MigrationLog,
): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> {
  const requestType = event['RequestType'];
  const physicalId =
    typeof event['PhysicalResourceId'] === 'string' ? event['PhysicalResourceId'] : MIGRATIONS_RESOURCE_ID;
  if (requestType === 'Delete') {
    log('delete: nothing to do, the database keeps its schema and data');
    return { PhysicalResourceId: physicalId };
  }
  if (requestType !== 'Create' && requestType !== 'Update') throw invalidEvent();
  const properties = isObject(event['ResourceProperties']) ? event['ResourceProperties'] : {};
  const requested = properties['SqlHash'];
  const bundled = sqlHash(dirsOf(env));
  // A request for other SQL than this code carries is a rollback that reached the custom
  // resource before the function itself: migrations only go forward, so there is nothing to do.
  if (requestType === 'Update' && requested !== bundled) {
    log('update for SQL this function was not bundled with (a rollback?): skipped', {
      requested,
      bundled,
    });
    return { PhysicalResourceId: physicalId, Data: { Skipped: 'true' } };
  }
  const adminEmail = typeof properties['AdminEmail'] === 'string' ? properties['AdminEmail'] : '';
  const summary = await withCognition(env, async (connection) => {
    const result = await migrateAll(connection, env, log);
    if (adminEmail) result.admin = await inviteAdmin(connection.cognition, adminEmail, log);
    return result;
  });
  return {
    PhysicalResourceId: MIGRATIONS_RESOURCE_ID,
    Data: {
      CognitionApplied: String(summary.cognitionApplied),
      TemplateApplied: String(summary.templateApplied),
      TenantsTotal: String(summary.tenantsTotal),
      TenantsMigrated: String(summary.tenantsMigrated),
    },
  };
}

interface Connected extends LambdaConnection {
  cognition: Cognition;
}

async function withCognition<T>(env: Env, body: (connected: Connected) => Promise<T>): Promise<T> {
  const connection = await connectionFromEnv(env);
  const concurrency = templateConcurrency(env);
  const cognition = Cognition.create({
    databaseUrl: connection.databaseUrl,
    secrets: connection.secrets,
    secretPrefix: connection.secretPrefix,
    // One session for the cognition migrator, one per tenant being migrated.
    adminPoolSize: concurrency + 1,
  });
  try {
    return await body({ ...connection, cognition });
  } finally {
    await cognition.close();
  }
}

async function migrateAll(connected: Connected, env: Env, log: MigrationLog): Promise<MigrationSummary> {
  const { cognition } = connected;
  const dirs = dirsOf(env);
  const client = await cognition.pool.connect();
  let results: MigrationResult[];
  try {
    results = await migrate(client, {
      dir: dirs.cognition,
      onResult: (r) => log('cognition migration', { version: r.version, name: r.name, status: r.status }),
    });
  } finally {
    client.release();
  }
  await syncAuthenticator(connected, log);
  // Roles before the template: its grants name the roles' global roles.
  if (dirs.roles !== undefined) await declareRoles(cognition, dirs.roles, log);
  const report: TemplateMigrateReport = await cognition.migrateTemplates({
    dir: dirs.template,
    concurrency: templateConcurrency(env),
    onProgress: (p) => log('template migration', { ...p }),
  });
  const { failed } = report.tenants;
  if (failed.length > 0) {
    // Failures are recorded per tenant and the next run resumes them; the deploy still fails,
    // so that nobody believes every tenant has the new schema.
    const list = failed.map((f) => `${f.slug}@${f.version}: ${f.error}`).join('; ');
    throw new CognitionError(
      'ERR_TEMPLATE_MIGRATION_FAILED',
      `${failed.length} of ${report.tenants.total} tenant(s) failed their template migration (deploy again, or invoke {"action":"migrate"}, to resume): ${list}`,
    );
  }
  const summary: MigrationSummary = {
    cognitionApplied: results.filter((r) => r.status === 'applied').length,
    templateApplied: report.template.filter((t) => t.status === 'applied').length,
    tenantsTotal: report.tenants.total,
    tenantsMigrated: report.tenants.migrated,
  };
  log('migrations done', { ...summary, ms: report.ms });
  return summary;
}

/**
 * The deployment creates the authenticator's secret (its ARN is configuration of the data
 * source), so the database role has to take that password: set again on every run, which also
 * repairs a secret changed by hand. Without a secret, the library generates and stores one.
 */
async function syncAuthenticator(connected: Connected, log: MigrationLog): Promise<void> {
  const id = `${connected.secretPrefix}/authenticator`;
  const secret = await connected.secrets.get(id);
  if (!secret) {
    await connected.cognition.authenticatorUrl();
    log('authenticator password generated', { secret: id });
    return;
  }
  await connected.cognition.pool.query('select cognition.set_authenticator_password($1)', [
    scramVerifier(secret.password),
  ]);
  log('authenticator password set from its secret', { secret: id });
}

async function declareRoles(cognition: Cognition, path: string, log: MigrationLog): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new CognitionError('ERR_CONFIG', `${path} is not valid JSON`);
  }
  const declaration = validateDeclaration(parsed);
  if (await cognition.tenantRoles.matches(declaration)) return;
  const roles = await cognition.tenantRoles.declare(declaration);
  log('tenant roles declared', { roles: roles.map((r) => r.name) });
}

async function inviteAdmin(
  cognition: Cognition,
  email: string,
  log: MigrationLog,
): Promise<{ email: string; status: string; invited: boolean }> {
  const existing: User | undefined = await cognition.users.find({ email });
  if (existing?.role === 'application_admin') {
    log('application admin already exists', { email: existing.email, status: existing.status });
    return { email: existing.email, status: existing.status, invited: false };
  }
  // Anyone else under that email makes invite fail with ERR_USER_EXISTS: never promote silently.
  const user = await cognition.users.invite({ email, role: 'application_admin' });
  log('application admin invited', { email: user.email });
  return { email: user.email, status: user.status, invited: true };
}

function commandOf(event: Record<string, unknown>): MigrationCommand {
  if (event['action'] === 'migrate') return { action: 'migrate' };
  if (event['action'] === 'invite-admin') {
    const email = event['email'];
    if (typeof email !== 'string' || email === '') {
      throw new CognitionError('ERR_INVALID_ARGUMENT', 'invite-admin needs an "email"');
    }
    return { action: 'invite-admin', email };
  }
  throw invalidEvent();
}

function dirsOf(env: Env): { cognition: string; template: string; roles?: string } {
  const root = env['LAMBDA_TASK_ROOT'] || process.cwd();
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(root, path));
  const roles = env['COGNITION_TENANT_ROLES'];
  return {
    cognition: at(env['COGNITION_SQL_DIR'] || 'sql'),
    template: at(env['COGNITION_TEMPLATE_DIR'] || 'template'),
    ...(roles && { roles: at(roles) }),
  };
}

function templateConcurrency(env: Env): number {
  const value = Number(env['COGNITION_TEMPLATE_CONCURRENCY'] || 4);
  if (!Number.isInteger(value) || value < 1) {
    throw new CognitionError('ERR_CONFIG', 'COGNITION_TEMPLATE_CONCURRENCY must be a positive integer');
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidEvent(): CognitionError {
  return new CognitionError(
    'ERR_INVALID_EVENT',
    'expected a CloudFormation custom resource event, {"action":"migrate"} or {"action":"invite-admin","email":"..."}',
  );
}
