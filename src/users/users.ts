import type pg from 'pg';
import { CognitionError, fromPgError, pgErrorOf } from '../errors.js';
import { withTransaction } from '../db/pool.js';
import { userSecretId, type SecretStore, type UserSecret } from '../secrets/secret-store.js';
import { validateSlug } from '../tenancy/validation.js';
import { generateDbUsername, generatePassword, scramVerifier } from './credentials.js';
import {
  validateEmail,
  validatePersonName,
  validateRole,
  type UserRole,
  type UserStatus,
} from './validation.js';

export interface User {
  id: string;
  tenantId: string | null;
  tenantSlug: string | null;
  /** The tenant's schema, where the user's unqualified names resolve. */
  tenantSchema: string | null;
  email: string;
  role: UserRole;
  status: UserStatus;
  givenName: string | null;
  familyName: string | null;
  preferences: Record<string, unknown>;
  dbUsername: string | null;
  idpSubject: string | null;
  createdAt: Date;
  activatedAt: Date | null;
}

interface UserRow {
  id: string;
  tenant_id: string | null;
  tenant_slug: string | null;
  tenant_schema: string | null;
  email: string;
  role: UserRole;
  status: UserStatus;
  given_name: string | null;
  family_name: string | null;
  preferences: Record<string, unknown>;
  db_username: string | null;
  idp_subject: string | null;
  created_at: Date;
  activated_at: Date | null;
}

export function userFromRow(row: UserRow): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    tenantSlug: row.tenant_slug,
    tenantSchema: row.tenant_schema,
    email: row.email,
    role: row.role,
    status: row.status,
    givenName: row.given_name,
    familyName: row.family_name,
    preferences: row.preferences,
    dbUsername: row.db_username,
    idpSubject: row.idp_subject,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
  };
}

const SELECT_USER = `
  select u.id, u.tenant_id, t.slug as tenant_slug, t.schema_name as tenant_schema, u.email, u.role, u.status, u.given_name, u.family_name,
         u.preferences, u.db_username, u.idp_subject, u.created_at, u.activated_at
  from cognition.users u left join cognition.tenants t on t.id = u.tenant_id`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user is named by id, by email (case-insensitive) or by identity-provider subject. */
export type UserRef = string | { id: string } | { email: string } | { subject: string };

export interface InviteInput {
  email: string;
  /** Tenant slug; omitted only for application admins. */
  tenant?: string | null;
  role?: UserRole;
  givenName?: string | null;
  familyName?: string | null;
  preferences?: Record<string, unknown>;
}

export interface ProvisionResult {
  user: User;
  /** False when the user was already provisioned (a retried confirmation). */
  created: boolean;
}

export interface UserServiceOptions {
  secretPrefix: string;
  /** Where users connect, recorded in their secret. */
  endpoint: { host: string; port: number; dbname: string };
}

/**
 * The user lifecycle, run by the system: invited → active → suspended ↔ active → removed.
 * The database enforces the transitions and keeps each user's role in step with the row
 * (see sql/0003_functions.sql); this service adds what lives outside it, the secrets.
 */
export class UserService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly secrets: SecretStore,
    private readonly options: UserServiceOptions,
  ) {}

  secretId(userId: string): string {
    return userSecretId(this.options.secretPrefix, userId);
  }

  async invite(input: InviteInput): Promise<User> {
    const email = validateEmail(input.email);
    // Without a role, a tenant user gets the lowest declared rank.
    const role = input.role === undefined ? undefined : validateRole(input.role);
    const givenName = validatePersonName(input.givenName, 'given name');
    const familyName = validatePersonName(input.familyName, 'family name');
    const preferences = input.preferences ?? {};
    if (typeof preferences !== 'object' || preferences === null || Array.isArray(preferences)) {
      throw new CognitionError('ERR_INVALID_ARGUMENT', 'preferences must be an object');
    }
    if ((role === 'application_admin') !== (input.tenant === undefined || input.tenant === null)) {
      throw new CognitionError(
        'ERR_INVALID_ARGUMENT',
        role === 'application_admin'
          ? 'an application admin belongs to no tenant'
          : 'a tenant user needs a tenant (--tenant <slug>)',
      );
    }
    const slug = input.tenant ? validateSlug(input.tenant) : null;
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query('set local role cognition_owner');
        let tenantId: string | null = null;
        if (slug) {
          const { rows } = await client.query<{ id: string }>(
            'select id from cognition.tenants where slug = $1',
            [slug],
          );
          if (!rows[0]) throw new CognitionError('ERR_TENANT_NOT_FOUND', `no tenant "${slug}"`);
          tenantId = rows[0].id;
        }
        const { rows } = await client.query<{ id: string }>(
          `insert into cognition.users (tenant_id, email, role, given_name, family_name, preferences)
           values ($1, $2, coalesce($3, (select name from cognition.tenant_roles order by rank limit 1)),
                   $4, $5, $6)
           returning id`,
          [tenantId, email, role ?? null, givenName, familyName, JSON.stringify(preferences)],
        );
        return this.load(client, (rows[0] as { id: string }).id);
      });
    } catch (error) {
      if (pgErrorOf(error)?.code === '23505') {
        throw new CognitionError('ERR_USER_EXISTS', `a user with email ${email} already exists`, {
          cause: error,
        });
      }
      throw fromPgError(error);
    }
  }

  async find(ref: UserRef): Promise<User | undefined> {
    const { where, value } = refClause(ref);
    const { rows } = await this.pool.query<UserRow>(
      `${SELECT_USER} where ${where} order by u.created_at desc limit 1`,
      [value],
    );
    return rows[0] ? userFromRow(rows[0]) : undefined;
  }

  async require(ref: UserRef): Promise<User> {
    const user = await this.find(ref);
    if (!user) throw new CognitionError('ERR_USER_NOT_FOUND', 'no such user');
    return user;
  }

  async list(filter: { tenant?: string; status?: UserStatus } = {}): Promise<User[]> {
    const { rows } = await this.pool.query<UserRow>(
      `${SELECT_USER} where ($1::text is null or t.slug = $1) and ($2::text is null or u.status = $2)
       order by t.slug nulls first, lower(u.email)`,
      [filter.tenant ? validateSlug(filter.tenant) : null, filter.status ?? null],
    );
    return rows.map(userFromRow);
  }

  /**
   * What a confirmed sign-up does: creates the user's login role with a fresh random
   * password, grants it the tenant role for its rank, stores the credentials and binds the
   * identity provider's subject. Safe to call again (a retried trigger): an active user is
   * returned as is, with its secret restored if it went missing. A failure anywhere leaves
   * no role and no secret behind.
   */
  async provision(ref: UserRef, options: { subject?: string } = {}): Promise<ProvisionResult> {
    const subject = options.subject ?? null;
    if (subject !== null && (typeof subject !== 'string' || subject.length < 1 || subject.length > 255)) {
      throw new CognitionError('ERR_INVALID_ARGUMENT', 'the identity subject must be 1-255 characters');
    }
    const target = await this.require(ref);
    let storedSecretId: string | undefined;
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query('set local role cognition_owner');
        const { rows } = await client.query<{ status: UserStatus; db_username: string | null }>(
          'select status, db_username from cognition.users where id = $1 for update',
          [target.id],
        );
        const locked = rows[0];
        if (!locked) throw new CognitionError('ERR_USER_NOT_FOUND', 'no such user');
        const secretId = this.secretId(target.id);
        if (locked.status === 'active' && locked.db_username) {
          const existing = await this.secrets.get(secretId);
          if (!existing || existing.username !== locked.db_username) {
            const password = generatePassword();
            await client.query('select cognition.set_user_password($1, $2)', [
              target.id,
              scramVerifier(password),
            ]);
            storedSecretId = secretId;
            await this.secrets.put(secretId, this.secretFor(locked.db_username, password));
          }
          if (subject !== null) {
            await client.query(
              'update cognition.users set idp_subject = $2 where id = $1 and idp_subject is null',
              [target.id, subject],
            );
          }
          return { user: await this.load(client, target.id), created: false };
        }
        if (locked.status !== 'invited') {
          throw new CognitionError(
            locked.status === 'removed' ? 'ERR_USER_REMOVED' : 'ERR_NOT_INVITED',
            `only an invited user can be provisioned; this one is ${locked.status}`,
          );
        }
        const dbUsername = generateDbUsername();
        const password = generatePassword();
        await client.query('select cognition.provision_user($1, $2, $3, $4)', [
          target.id,
          dbUsername,
          scramVerifier(password),
          subject,
        ]);
        storedSecretId = secretId;
        await this.secrets.put(secretId, this.secretFor(dbUsername, password));
        return { user: await this.load(client, target.id), created: true };
      });
    } catch (error) {
      // The transaction rolled back, so a secret written for it describes a role that does
      // not exist: remove it rather than leave a dangling credential.
      if (storedSecretId) await this.secrets.delete(storedSecretId).catch(() => {});
      throw fromPgError(error);
    }
  }

  suspend(ref: UserRef): Promise<User> {
    return this.setStatus(ref, 'suspended');
  }

  reactivate(ref: UserRef): Promise<User> {
    return this.setStatus(ref, 'active');
  }

  /** Drops the user's role and secret; the row stays, status removed, as the audit record. */
  async remove(ref: UserRef): Promise<User> {
    const user = await this.require(ref);
    return this.setStatus(user, 'removed', async () => {
      await this.secrets.delete(this.secretId(user.id));
    });
  }

  async credentials(userId: string): Promise<UserSecret> {
    const secret = await this.secrets.get(this.secretId(userId));
    if (!secret) throw new CognitionError('ERR_SECRET_NOT_FOUND', 'this user has no stored credentials');
    return secret;
  }

  private async setStatus(
    ref: UserRef | User,
    status: UserStatus,
    beforeCommit?: () => Promise<void>,
  ): Promise<User> {
    const user = isUser(ref) ? ref : await this.require(ref);
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query('set local role cognition_owner');
        await client.query('update cognition.users set status = $2 where id = $1', [user.id, status]);
        await beforeCommit?.();
        return this.load(client, user.id);
      });
    } catch (error) {
      throw fromPgError(error);
    }
  }

  private async load(client: pg.ClientBase, id: string): Promise<User> {
    const { rows } = await client.query<UserRow>(`${SELECT_USER} where u.id = $1`, [id]);
    if (!rows[0]) throw new CognitionError('ERR_USER_NOT_FOUND', 'no such user');
    return userFromRow(rows[0]);
  }

  private secretFor(username: string, password: string): UserSecret {
    return { username, password, ...this.options.endpoint, engine: 'postgres' };
  }
}

function isUser(ref: UserRef | User): ref is User {
  return typeof ref === 'object' && 'status' in ref && 'email' in ref;
}

function refClause(ref: UserRef): { where: string; value: string } {
  if (typeof ref === 'string') {
    if (UUID.test(ref)) return { where: 'u.id = $1::uuid', value: ref };
    return { where: "lower(u.email) = lower($1) and u.status <> 'removed'", value: validateEmail(ref) };
  }
  if ('id' in ref) {
    if (!UUID.test(ref.id)) throw new CognitionError('ERR_INVALID_ARGUMENT', 'a user id is a UUID');
    return { where: 'u.id = $1::uuid', value: ref.id };
  }
  if ('email' in ref) {
    return { where: "lower(u.email) = lower($1) and u.status <> 'removed'", value: validateEmail(ref.email) };
  }
  return { where: 'u.idp_subject = $1', value: ref.subject };
}
