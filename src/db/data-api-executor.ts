import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CognitionError } from '../errors.js';
import { DataApiClient, type DataApiOptions } from './data-api-client.js';
import { DataApiDatabaseError } from './data-api-errors.js';
import { namedStatement } from './data-api-params.js';
import { toExecResult } from './data-api-result.js';
import type { ExecResult, Executor, RunAs } from './executor.js';
import { statementCommand } from './sql-tokens.js';
import { guardStatement } from './statement-guard.js';

export interface DataApiExecutorOptions {
  mode: 'role-switch' | 'credentials';
  client: DataApiClient;
  /** Role switch: the secret (name or ARN) cognition_authenticator logs in with. */
  authenticatorSecretArn?: () => Promise<string>;
  /** Credentials: the secret (name or ARN) holding this user's own credentials. */
  secretArnFor?: (dbUsername: string) => Promise<string>;
}

// SQLSTATEs of the settings statement that mean "this role cannot be assumed" (as in request.ts).
const CANNOT_ASSUME = new Set(['42501', '22023', '28000', '42704']);

// Statements PREPARE accepts, whose parameter types Postgres can therefore tell.
const PREPARABLE = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE']);

const MAX_CACHED = 10_000;

/**
 * Runs statements as users through the RDS Data API, in either mode, with the results of the
 * node-postgres executors. Every request is one Data API transaction, because the Data API keeps
 * no session between calls outside one and ignores its `schema` parameter for Postgres:
 *
 * 1. BeginTransaction with the authenticator's secret (role switch) or the user's (credentials:
 *    the Data API logs in as the user);
 * 2. one statement that sets, transaction-locally, the role (role switch), the search_path and
 *    the claims, exactly as the node-postgres executors do;
 * 3. the first time a statement with parameters is seen (per schema): PREPARE it and read the
 *    parameter types Postgres infers (see namedStatement for why);
 * 4. the statement; 5. CommitTransaction, or RollbackTransaction on any error.
 */
export class DataApiExecutor implements Executor {
  readonly mode: 'role-switch' | 'credentials';
  private readonly client: DataApiClient;
  private readonly parameterTypes = new Map<string, string[]>();
  private readonly secretArns = new Map<string, string>();
  private authenticatorSecret: string | undefined;

  constructor(private readonly options: DataApiExecutorOptions) {
    this.mode = options.mode;
    this.client = options.client;
  }

  async run<R = Record<string, unknown>>(
    as: RunAs,
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<ExecResult<R>> {
    if (this.mode === 'role-switch') guardStatement(sql);
    const secretArn = await this.secretArn(as.dbUsername);
    const transactionId = await this.client.begin(secretArn);
    const tx = { secretArn, transactionId };
    try {
      await this.applySettings(tx, as);
      const types = params.length === 0 ? [] : await this.typesOf(tx, as, sql);
      if (types !== undefined && types.length !== params.length) {
        throw new DataApiDatabaseError({
          message: `bind message supplies ${params.length} parameters, but prepared statement "" requires ${types.length}`,
          code: '08P01',
        });
      }
      // Without values, `$n` stays as it is, for Postgres to report as node-postgres would see it.
      const statement = params.length === 0 ? { sql } : namedStatement(sql, params, types);
      const output = await this.client.execute({ ...tx, ...statement });
      await this.client.commit(secretArn, transactionId);
      return toExecResult<R>(output, statementCommand(sql));
    } catch (error) {
      await this.client.rollback(secretArn, transactionId).catch(() => {});
      throw error;
    }
  }

  private async secretArn(dbUsername: string): Promise<string> {
    if (this.mode === 'role-switch') {
      if (!this.options.authenticatorSecretArn) {
        throw new CognitionError(
          'ERR_CONFIG',
          'role switch over the Data API needs the authenticator secret',
        );
      }
      this.authenticatorSecret ??= await this.options.authenticatorSecretArn();
      return this.authenticatorSecret;
    }
    const known = this.secretArns.get(dbUsername);
    if (known !== undefined) return known;
    if (!this.options.secretArnFor) {
      throw new CognitionError('ERR_CONFIG', "credentials over the Data API need the users' secrets");
    }
    const arn = await this.options.secretArnFor(dbUsername);
    if (this.secretArns.size >= MAX_CACHED) this.secretArns.clear();
    this.secretArns.set(dbUsername, arn);
    return arn;
  }

  /** Everything is transaction-local (is_local = true), so nothing reaches the next request. */
  private async applySettings(tx: { secretArn: string; transactionId: string }, as: RunAs): Promise<void> {
    const roleSwitch = this.mode === 'role-switch';
    // Role switch always sets the claims, so that no session-level value can stand in for them.
    const claims = as.claims === undefined ? (roleSwitch ? '' : undefined) : JSON.stringify(as.claims);
    const calls: string[] = [];
    const values: unknown[] = [];
    if (roleSwitch) {
      calls.push("set_config('role', $1, true)");
      values.push(as.dbUsername);
    }
    calls.push(`set_config('search_path', $${values.length + 1}, true)`);
    values.push(as.schema ? pg.escapeIdentifier(as.schema) : '');
    if (claims !== undefined) {
      calls.push(`set_config('request.jwt.claims', $${values.length + 1}, true)`);
      values.push(claims);
    }
    try {
      await this.client.execute({ ...tx, ...namedStatement(`select ${calls.join(', ')}`, values) });
    } catch (error) {
      if (error instanceof DataApiDatabaseError && CANNOT_ASSUME.has(error.code ?? '')) {
        throw new CognitionError('ERR_USER_INACTIVE', 'this user cannot be assumed (suspended or removed)', {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * The types Postgres infers for the statement's parameters, in the user's role and search_path
   * (inside the request's transaction), as `regtype` text; undefined for statements PREPARE does
   * not accept. Cached per schema and statement, like node-postgres's named statements.
   */
  private async typesOf(
    tx: { secretArn: string; transactionId: string },
    as: RunAs,
    sql: string,
  ): Promise<string[] | undefined> {
    if (!PREPARABLE.has(statementCommand(sql))) return undefined;
    const key = `${as.schema ?? ''}\u0000${sql}`;
    const known = this.parameterTypes.get(key);
    if (known) return known;
    const name = `cognition_types_${randomBytes(8).toString('hex')}`;
    await this.client.execute({ ...tx, sql: `prepare ${name} as ${sql}` });
    const { rows } = toExecResult<{ types: string[] }>(
      await this.client.execute({
        ...tx,
        ...namedStatement(
          'select parameter_types::text[] as types from pg_prepared_statements where name = $1',
          [name],
        ),
      }),
      'SELECT',
    );
    await this.client.execute({ ...tx, sql: `deallocate ${name}` });
    const types = rows[0]?.types ?? [];
    if (this.parameterTypes.size >= MAX_CACHED) this.parameterTypes.clear();
    this.parameterTypes.set(key, types);
    return types;
  }

  async forget(dbUsername: string): Promise<void> {
    this.secretArns.delete(dbUsername);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** A Data API executor for a mode, with its own client. */
export async function createDataApiExecutor(
  mode: 'role-switch' | 'credentials',
  options: DataApiOptions,
  secrets: Pick<DataApiExecutorOptions, 'authenticatorSecretArn' | 'secretArnFor'>,
): Promise<DataApiExecutor> {
  const client = await DataApiClient.create(options);
  return new DataApiExecutor({ mode, client, ...secrets });
}
