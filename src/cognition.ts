import pg from 'pg';
import { CognitionError, fromPgError, pgErrorOf } from './errors.js';
import { CredentialsExecutor } from './db/credentials-executor.js';
import type { ExecResult, Executor, RunAs } from './db/executor.js';
import { migrate, type MigrationResult } from './db/migrator.js';
import type { DataApiOptions } from './db/data-api-client.js';
import { createPool, endpointOf, urlFor } from './db/pool.js';
import { RoleSwitchExecutor } from './db/role-switch-executor.js';
import type { SecretStore } from './secrets/secret-store.js';
import { createTemplateCloner } from './tenancy/template-clone.js';
import {
  migrateTemplates,
  recordTenantAtCurrentVersion,
  type TemplateMigrateOptions,
  type TemplateMigrateReport,
} from './tenancy/template-migrations.js';
import { TenantRoleService } from './tenancy/tenant-roles.js';
import { TenantService } from './tenancy/tenants.js';
import { generatePassword, scramVerifier } from './users/credentials.js';
import { UserService, type User, type UserRef } from './users/users.js';

export type ExecutionMode = 'role-switch' | 'credentials';

export interface CognitionOptions {
  /** A role that may run the migrations and act as cognition_owner (superuser, or the RDS master user). */
  databaseUrl: string;
  secrets: SecretStore;
  /** Prefix of the secret ids (default `pg-cognition`). */
  secretPrefix?: string;
  /** Default execution mode for runAs (default role-switch). */
  mode?: ExecutionMode;
  /** Size of the admin pool (default 5) and of the role-switch pool (default 20). */
  adminPoolSize?: number;
  executorPoolSize?: number;
  /**
   * The role-switch pool closes a connection once idle after this long (default 3600 s; 0:
   * never), so that no backend's caches keep growing with every tenant it ever served.
   */
  connectionLifetimeSeconds?: number;
  /** Connections per user in credentials mode (default 2). */
  connectionsPerUser?: number;
  /** See TemplateClonerOptions.recheckMs (default 2000 ms). */
  templateRecheckMs?: number;
  /** How statements run as users reach Postgres: node-postgres (default) or the RDS Data API. */
  driver?: 'pg' | 'data-api';
  /** Required with driver `data-api`. */
  dataApi?: DataApiOptions;
}

/** What the Lambda-side factories accept: an existing Cognition, or what it takes to make one. */
export type CognitionSource =
  | { cognition: Cognition }
  | {
      databaseUrl: string;
      secrets: SecretStore;
      secretPrefix?: string;
      adminPoolSize?: number;
      executorPoolSize?: number;
      driver?: 'pg' | 'data-api';
      dataApi?: DataApiOptions;
    };

/**
 * The Cognition of a factory's options, and whether the factory made it (and so must close it).
 * Lambda handlers keep small pools: one container serves one request at a time.
 */
export function cognitionFrom(
  source: CognitionSource,
  defaults: { adminPoolSize: number; executorPoolSize?: number },
): { cognition: Cognition; owned: boolean } {
  if ('cognition' in source) return { cognition: source.cognition, owned: false };
  const executorPoolSize = source.executorPoolSize ?? defaults.executorPoolSize;
  const cognition = Cognition.create({
    databaseUrl: source.databaseUrl,
    secrets: source.secrets,
    ...(source.secretPrefix !== undefined && { secretPrefix: source.secretPrefix }),
    adminPoolSize: source.adminPoolSize ?? defaults.adminPoolSize,
    ...(executorPoolSize !== undefined && { executorPoolSize }),
    ...(source.driver !== undefined && { driver: source.driver }),
    ...(source.dataApi !== undefined && { dataApi: source.dataApi }),
  });
  return { cognition, owned: true };
}

export interface RunAsOptions {
  mode?: ExecutionMode;
  claims?: Record<string, unknown>;
}

/**
 * The library entry point: one object per database that holds the pools and exposes the
 * tenant and user lifecycles, migrations and run-as-user execution.
 */
export class Cognition {
  readonly tenants: TenantService;
  readonly users: UserService;
  /** The tenant roles the application declares (default admin > user). */
  readonly tenantRoles: TenantRoleService;
  readonly pool: pg.Pool;
  private readonly executors = new Map<ExecutionMode, Executor>();
  private readonly pendingDataApi = new Map<ExecutionMode, Promise<Executor>>();

  private constructor(private readonly options: CognitionOptions) {
    this.pool = createPool(options.databaseUrl, {
      max: options.adminPoolSize ?? 5,
      applicationName: 'pg-cognition admin',
    });
    this.tenants = new TenantService(
      this.pool,
      createTemplateCloner('tenant_template'),
      recordTenantAtCurrentVersion,
    );
    this.tenantRoles = new TenantRoleService(this.pool);
    this.users = new UserService(this.pool, options.secrets, {
      secretPrefix: this.secretPrefix,
      endpoint: endpointOf(options.databaseUrl),
    });
  }

  static create(options: CognitionOptions): Cognition {
    if (!options.databaseUrl) throw new CognitionError('ERR_CONFIG', 'databaseUrl is required');
    return new Cognition(options);
  }

  get secretPrefix(): string {
    return this.options.secretPrefix ?? 'pg-cognition';
  }

  /** Applies the cognition schema's migrations (idempotent). */
  async migrate(onResult?: (r: MigrationResult) => void): Promise<MigrationResult[]> {
    const client = await this.pool.connect();
    try {
      return await migrate(client, onResult ? { onResult } : {});
    } finally {
      client.release();
    }
  }

  /** Applies the application's template migrations to tenant_template and every tenant. */
  migrateTemplates(options: TemplateMigrateOptions): Promise<TemplateMigrateReport> {
    return migrateTemplates(this.pool, options);
  }

  /** Drops a tenant with its schema, roles, users' roles and their secrets, all or nothing. */
  async dropTenant(slug: string): Promise<{ userIds: string[] }> {
    const result = await this.tenants.drop(slug, async (userIds) => {
      for (const id of userIds) await this.options.secrets.delete(this.users.secretId(id));
    });
    return result;
  }

  async suspendUser(ref: UserRef): Promise<User> {
    const user = await this.users.suspend(ref);
    await this.forget(user);
    return user;
  }

  async removeUser(ref: UserRef): Promise<User> {
    const before = await this.users.require(ref);
    const user = await this.users.remove(before);
    await this.forget(before);
    return user;
  }

  /** Runs one statement with bound parameters as the user, in the chosen execution mode. */
  async runAs<R = Record<string, unknown>>(
    ref: UserRef | User,
    sql: string,
    params: readonly unknown[] = [],
    options: RunAsOptions = {},
  ): Promise<ExecResult<R>> {
    const user = typeof ref === 'object' && 'dbUsername' in ref ? ref : await this.users.require(ref);
    if (!user.dbUsername || user.status !== 'active') {
      throw new CognitionError('ERR_USER_INACTIVE', `this user is ${user.status}`);
    }
    const executor = await this.executor(options.mode ?? this.options.mode ?? 'role-switch');
    try {
      const as: RunAs = { dbUsername: user.dbUsername, schema: user.tenantSchema };
      if (options.claims) as.claims = options.claims;
      return await executor.run<R>(as, sql, params);
    } catch (error) {
      // 28000: the login role may no longer log in (suspended since the lookup above).
      if (pgErrorOf(error)?.code === '28000') {
        throw new CognitionError('ERR_USER_INACTIVE', 'this user is not active', { cause: error });
      }
      throw fromPgError(error);
    }
  }

  /** The executor for a mode, created on first use. */
  async executor(mode: ExecutionMode): Promise<Executor> {
    const existing = this.executors.get(mode);
    if (existing) return existing;
    if (this.options.driver === 'data-api' && (mode === 'role-switch' || mode === 'credentials')) {
      return this.dataApiExecutor(mode);
    }
    let executor: Executor;
    if (mode === 'role-switch') {
      executor = new RoleSwitchExecutor(await this.authenticatorUrl(), {
        max: this.options.executorPoolSize ?? 20,
        ...(this.options.connectionLifetimeSeconds !== undefined && {
          maxLifetimeSeconds: this.options.connectionLifetimeSeconds,
        }),
      });
    } else if (mode === 'credentials') {
      executor = new CredentialsExecutor({
        maxPerUser: this.options.connectionsPerUser ?? 2,
        credentialsFor: async (dbUsername) => {
          const { rows } = await this.pool.query<{ id: string }>(
            'select id from cognition.users where db_username = $1',
            [dbUsername],
          );
          if (!rows[0]) throw new CognitionError('ERR_USER_NOT_FOUND', 'no user has this database role');
          return this.users.credentials(rows[0].id);
        },
      });
    } else {
      throw new CognitionError('ERR_CONFIG', `unknown execution mode ${String(mode)}`);
    }
    this.executors.set(mode, executor);
    return executor;
  }

  /**
   * Creates the mode's executor and opens one of its connections ahead of the first statement
   * (the authenticator's secret is read on the way), so that a cold start can do it while it
   * looks the caller up on an admin connection.
   */
  async prepare(mode: ExecutionMode): Promise<void> {
    await (await this.executor(mode)).connect?.();
  }

  /**
   * The Data API executor for a mode, made once: role switch logs in with the authenticator's
   * secret (created in the store on first use, as for node-postgres), credentials with the user's.
   */
  private dataApiExecutor(mode: ExecutionMode): Promise<Executor> {
    let pending = this.pendingDataApi.get(mode);
    if (pending) return pending;
    const config = this.options.dataApi;
    if (!config) throw new CognitionError('ERR_CONFIG', 'the data-api driver needs the dataApi options');
    pending = import('./db/data-api-executor.js').then(async ({ createDataApiExecutor }) => {
      const executor = await createDataApiExecutor(
        mode,
        { database: endpointOf(this.options.databaseUrl).dbname, ...config },
        {
          authenticatorSecretArn: async () => {
            if (config.authenticatorSecretArn) return config.authenticatorSecretArn;
            await this.authenticatorUrl();
            return `${this.secretPrefix}/authenticator`;
          },
          secretArnFor: async (dbUsername) => {
            const { rows } = await this.pool.query<{ id: string }>(
              'select id from cognition.users where db_username = $1',
              [dbUsername],
            );
            if (!rows[0]) throw new CognitionError('ERR_USER_NOT_FOUND', 'no user has this database role');
            return this.users.secretId(rows[0].id);
          },
        },
      );
      this.executors.set(mode, executor);
      return executor;
    });
    pending.catch(() => this.pendingDataApi.delete(mode));
    this.pendingDataApi.set(mode, pending);
    return pending;
  }

  /**
   * The authenticator's connection URL. Its password is generated on first use, set as a
   * SCRAM verifier, and kept in the secret store like any user's.
   */
  async authenticatorUrl(): Promise<string> {
    const id = `${this.secretPrefix}/authenticator`;
    let secret = await this.options.secrets.get(id);
    if (!secret) {
      const password = generatePassword();
      await this.pool.query('select cognition.set_authenticator_password($1)', [scramVerifier(password)]);
      secret = {
        username: 'cognition_authenticator',
        password,
        ...endpointOf(this.options.databaseUrl),
        engine: 'postgres',
      };
      await this.options.secrets.put(id, secret);
    }
    return urlFor(this.options.databaseUrl, secret.username, secret.password);
  }

  private async forget(user: User): Promise<void> {
    if (!user.dbUsername) return;
    await Promise.all([...this.executors.values()].map((e) => e.forget(user.dbUsername as string)));
  }

  async close(): Promise<void> {
    const executors = [...this.executors.values()];
    this.executors.clear();
    await Promise.all(executors.map((e) => e.close()));
    await this.pool.end();
  }
}
