import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleModule, packageEntry, sqlFiles, writeAssetDir } from '../../src/cdk/bundle.js';
import { handleMigrationEvent, MIGRATIONS_RESOURCE_ID } from '../../src/cdk/migration-handler.js';
import { sqlHash } from '../../src/cdk/sql-hash.js';
import { Cognition } from '../../src/cognition.js';
import { COGNITION_SQL_DIR, readMigrations } from '../../src/db/migrator.js';
import { urlFor } from '../../src/db/pool.js';
import { isCognitionError } from '../../src/errors.js';
import { createSecretStore, type SecretStore } from '../../src/secrets/secret-store.js';
import { expectCode } from '../support/expect.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { AGENTS, ROOT } from './support.js';

const PREFIX = 'pgc-test';
const AUTHENTICATOR_PASSWORD = 'Generated0By0The0Stack0For0The0Authenticator0xyz';
// Nothing listens there: an event that needs no database must not try to reach one.
const NO_DATABASE = 'postgres://nobody:nothing@127.0.0.1:9/none';

describe('the migration function', () => {
  let cluster: TestCluster;
  let home: string;
  let templateDir: string;
  let env: Record<string, string>;
  let secrets: SecretStore;
  let cognition: Cognition;
  const logged: string[] = [];
  const log = (message: string): void => {
    logged.push(message);
  };

  const event = (requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, string> = {}) => ({
    RequestType: requestType,
    ResourceType: 'Custom::PgCognitionMigrations',
    LogicalResourceId: 'AppMigrations',
    ...(requestType !== 'Create' && { PhysicalResourceId: MIGRATIONS_RESOURCE_ID }),
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x', ...properties },
  });
  const currentHash = (): string => sqlHash({ cognition: COGNITION_SQL_DIR, template: templateDir });

  beforeAll(async () => {
    cluster = await startCluster({ migrate: false });
    home = mkdtempSync(join(tmpdir(), 'pgc-migration-'));
    templateDir = join(home, 'template');
    cpSync(join(AGENTS, 'template'), templateDir, { recursive: true });
    env = {
      DATABASE_URL: cluster.url,
      COGNITION_SECRET_STORE: 'local',
      COGNITION_HOME: home,
      COGNITION_SECRET_PREFIX: PREFIX,
      COGNITION_SQL_DIR,
      COGNITION_TEMPLATE_DIR: templateDir,
    };
    secrets = await createSecretStore({ kind: 'local', dir: join(home, 'secrets') });
    // What the stack creates before the first deploy runs the migrations.
    await secrets.put(`${PREFIX}/authenticator`, {
      username: 'cognition_authenticator',
      password: AUTHENTICATOR_PASSWORD,
      host: 'localhost',
      port: 5432,
      dbname: 'postgres',
      engine: 'postgres',
    });
    cognition = Cognition.create({ databaseUrl: cluster.url, secrets, secretPrefix: PREFIX });
  });

  afterAll(async () => {
    await cognition?.close();
    await cluster?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('as bundled, from its asset folder, applies everything on Create and invites the admin', async () => {
    const assetDir = writeAssetDir({
      'index.mjs': bundleModule(packageEntry('cdk/migration-handler')),
      ...sqlFiles(COGNITION_SQL_DIR, 'sql'),
      ...sqlFiles(templateDir, 'template'),
    });
    const bundled = (await import(pathToFileURL(join(assetDir, 'index.mjs')).href)) as {
      handleMigrationEvent: typeof handleMigrationEvent;
    };
    // As in Lambda: the SQL folders are found next to the code, under LAMBDA_TASK_ROOT.
    const { COGNITION_SQL_DIR: _sql, COGNITION_TEMPLATE_DIR: _template, ...lambdaEnv } = env;
    const result = await bundled.handleMigrationEvent(
      event('Create', { SqlHash: currentHash(), AdminEmail: 'First.Admin@Example.com' }),
      { ...lambdaEnv, LAMBDA_TASK_ROOT: assetDir },
      log,
    );
    const migrations = await readMigrations(COGNITION_SQL_DIR);
    expect(result).toEqual({
      PhysicalResourceId: MIGRATIONS_RESOURCE_ID,
      Data: {
        CognitionApplied: String(migrations.length),
        TemplateApplied: '1',
        TenantsTotal: '0',
        TenantsMigrated: '0',
      },
    });
    const { rows } = await cluster.admin.query(
      "select role, status, tenant_id from cognition.users where lower(email) = 'first.admin@example.com'",
    );
    expect(rows).toEqual([{ role: 'application_admin', status: 'invited', tenant_id: null }]);
    expect(logged).toContain('authenticator password set from its secret');
  });

  it('gives the authenticator role the password of the secret the stack generated', async () => {
    const client = new pg.Client({
      connectionString: urlFor(cluster.url, 'cognition_authenticator', AUTHENTICATOR_PASSWORD),
    });
    await client.connect();
    try {
      expect((await client.query('select current_user as u')).rows[0]).toEqual({
        u: 'cognition_authenticator',
      });
    } finally {
      await client.end();
    }
  });

  it('applies nothing on an Update whose SQL is unchanged, and keeps the admin as it is', async () => {
    const result = await handleMigrationEvent(
      event('Update', { SqlHash: currentHash(), AdminEmail: 'first.admin@example.com' }),
      env,
      log,
    );
    expect(result).toMatchObject({
      PhysicalResourceId: MIGRATIONS_RESOURCE_ID,
      Data: { CognitionApplied: '0', TemplateApplied: '0' },
    });
    const { rows } = await cluster.admin.query(
      "select count(*)::int as n from cognition.users where role = 'application_admin'",
    );
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('skips an Update for SQL it was not bundled with (a rollback), without connecting', async () => {
    const result = await handleMigrationEvent(
      event('Update', { SqlHash: 'the-hash-of-the-previous-deploy' }),
      { ...env, DATABASE_URL: NO_DATABASE },
      log,
    );
    expect(result).toEqual({ PhysicalResourceId: MIGRATIONS_RESOURCE_ID, Data: { Skipped: 'true' } });
  });

  it('leaves the database alone on Delete', async () => {
    const result = await handleMigrationEvent(event('Delete'), { ...env, DATABASE_URL: NO_DATABASE }, log);
    expect(result).toEqual({ PhysicalResourceId: MIGRATIONS_RESOURCE_ID });
  });

  it('rolls a new template migration out to every tenant on the next deploy', async () => {
    await cognition.tenants.create({ slug: 'mi6', name: 'MI6' });
    await cognition.tenants.create({ slug: 'cia', name: 'CIA' });
    writeFileSync(
      join(templateDir, '0002_gadgets.sql'),
      'create table gadgets (id int primary key, name text);\n',
    );
    const result = await handleMigrationEvent(event('Update', { SqlHash: currentHash() }), env, log);
    expect(result).toMatchObject({
      Data: { CognitionApplied: '0', TemplateApplied: '1', TenantsTotal: '2', TenantsMigrated: '2' },
    });
    const { rows } = await cluster.admin.query(
      "select to_regclass('tenant_mi6.gadgets') is not null as mi6, to_regclass('tenant_cia.gadgets') is not null as cia",
    );
    expect(rows[0]).toEqual({ mi6: true, cia: true });
  });

  it('fails the deploy when a tenant fails, and resumes on {"action":"migrate"} once fixed', async () => {
    await cluster.admin.query("insert into tenant_mi6.offices (name, city) values ('Station T', 'Istanbul')");
    writeFileSync(
      join(templateDir, '0003_no_offices_yet.sql'),
      'alter table offices add constraint no_offices_yet check (false);\n',
    );
    const failure = await handleMigrationEvent(event('Update', { SqlHash: currentHash() }), env, log).catch(
      (error: unknown) => error,
    );
    expect(isCognitionError(failure, 'ERR_TEMPLATE_MIGRATION_FAILED'), String(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/1 of 2 tenant\(s\).*mi6@3/);

    await cluster.admin.query('delete from tenant_mi6.offices');
    const resumed = await handleMigrationEvent({ action: 'migrate' }, env, log);
    expect(resumed).toMatchObject({ templateApplied: 0, tenantsTotal: 2, tenantsMigrated: 1 });
  });

  it('invites an application admin on {"action":"invite-admin"}, idempotently, never promoting anyone', async () => {
    expect(
      await handleMigrationEvent({ action: 'invite-admin', email: 'second@example.com' }, env, log),
    ).toEqual({
      email: 'second@example.com',
      status: 'invited',
      invited: true,
    });
    expect(
      await handleMigrationEvent({ action: 'invite-admin', email: 'Second@Example.com' }, env, log),
    ).toMatchObject({
      invited: false,
    });
    await cognition.users.invite({ email: 'q@mi6.test', tenant: 'mi6', role: 'user' });
    await expectCode(
      handleMigrationEvent({ action: 'invite-admin', email: 'q@mi6.test' }, env, log),
      'ERR_USER_EXISTS',
    );
    const { rows } = await cluster.admin.query("select role from cognition.users where email = 'q@mi6.test'");
    expect(rows).toEqual([{ role: 'user' }]);
  });

  it('refuses anything else', async () => {
    await expectCode(handleMigrationEvent({ action: 'drop-everything' }, env, log), 'ERR_INVALID_EVENT');
    await expectCode(handleMigrationEvent('migrate', env, log), 'ERR_INVALID_EVENT');
    await expectCode(handleMigrationEvent({ action: 'invite-admin' }, env, log), 'ERR_INVALID_ARGUMENT');
  });
});

describe('the migration function, for an application that declares its tenant roles', () => {
  let cluster: TestCluster;
  let home: string;

  beforeAll(async () => {
    cluster = await startCluster({ migrate: false });
    home = mkdtempSync(join(tmpdir(), 'pgc-migration-roles-'));
  });

  afterAll(async () => {
    await cluster?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('declares the roles of roles.json before the template that grants to them, once', async () => {
    const patterns = join(ROOT, 'examples/patterns');
    const env = {
      DATABASE_URL: cluster.url,
      COGNITION_SECRET_STORE: 'local',
      COGNITION_HOME: home,
      COGNITION_SECRET_PREFIX: PREFIX,
      COGNITION_SQL_DIR,
      COGNITION_TEMPLATE_DIR: join(patterns, 'template'),
      COGNITION_TENANT_ROLES: join(patterns, 'roles.json'),
    };
    const hash = sqlHash({
      cognition: COGNITION_SQL_DIR,
      template: join(patterns, 'template'),
      roles: join(patterns, 'roles.json'),
    });
    const messages: string[] = [];
    await handleMigrationEvent({ ...createEvent(hash) }, env, (m) => messages.push(m));
    const { rows } = await cluster.admin.query<{ name: string }>(
      'select name from cognition.tenant_roles order by rank desc',
    );
    expect(rows.map((r) => r.name)).toEqual(['Admin', 'SuperUser', 'Member', 'ReadOnly']);
    expect(messages.indexOf('tenant roles declared')).toBeLessThan(messages.indexOf('template migration'));
    // Unchanged: not declared again.
    messages.length = 0;
    await handleMigrationEvent({ ...createEvent(hash), RequestType: 'Update' }, env, (m) => messages.push(m));
    expect(messages).not.toContain('tenant roles declared');
  });
});

function createEvent(hash: string): Record<string, unknown> {
  return {
    RequestType: 'Create',
    ResourceType: 'Custom::PgCognitionMigrations',
    LogicalResourceId: 'AppMigrations',
    PhysicalResourceId: MIGRATIONS_RESOURCE_ID,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:x', SqlHash: hash },
  };
}
