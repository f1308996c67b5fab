import type pg from 'pg';
import { withTransaction } from '../db/pool.js';
import { CognitionError, fromPgError } from '../errors.js';

/**
 * The tenant roles an application declares, highest rank first, e.g.
 * `{ roles: ['Admin', 'SuperUser', 'Member', 'ReadOnly'], manageUsersFrom: 'SuperUser', readOnly: ['ReadOnly'] }`.
 * Without a declaration the roles are `admin` > `user`, and admins manage users.
 */
export interface TenantRolesDeclaration {
  roles: readonly string[];
  /** The lowest rank that may manage users (default: the highest role). */
  manageUsersFrom?: string;
  /** Roles that may not change any data in their tenant's schema. */
  readOnly?: readonly string[];
}

export interface TenantRoleInfo {
  /** As declared; also the Cognito group and the `tenant_role` claim. */
  name: string;
  /** Higher is more. */
  rank: number;
  managesUsers: boolean;
  readOnly: boolean;
  /** The global role every tenant's role of this rank inherits, e.g. `tenant_members`. */
  globalRole: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9]{0,14}$/;

/** Checks a declaration's shape (the database checks it again, and its use). */
export function validateDeclaration(input: unknown): Required<TenantRolesDeclaration> {
  const fail = (why: string): never => {
    throw new CognitionError('ERR_INVALID_ROLE', `invalid tenant roles: ${why}`);
  };
  if (typeof input !== 'object' || input === null)
    return fail('expected { roles, manageUsersFrom?, readOnly? }');
  const { roles, manageUsersFrom, readOnly } = input as Record<string, unknown>;
  const names = (value: unknown, what: string): string[] => {
    if (!Array.isArray(value) || !value.every((n) => typeof n === 'string' && NAME.test(n))) {
      return fail(`${what} must be a list of names, each a letter and up to 14 letters or digits`);
    }
    return value as string[];
  };
  const declared = names(roles, 'roles');
  if (declared.length === 0) fail('declare at least one role');
  if (new Set(declared.map((n) => n.toLowerCase())).size !== declared.length) {
    fail('role names must be unique, case-insensitively');
  }
  const from = manageUsersFrom ?? declared[0];
  if (typeof from !== 'string' || !declared.includes(from)) fail('manageUsersFrom must be a declared role');
  const ro = readOnly === undefined ? [] : names(readOnly, 'readOnly');
  for (const name of ro) {
    if (!declared.includes(name)) fail(`read-only role ${name} is not declared`);
    if (declared.indexOf(name) <= declared.indexOf(from as string)) {
      fail(`${name} manages users, so it cannot be read-only`);
    }
  }
  return { roles: declared, manageUsersFrom: from as string, readOnly: ro };
}

interface RoleRow {
  name: string;
  rank: number;
  manages_users: boolean;
  read_only: boolean;
  global_role: string;
}

const fromRow = (r: RoleRow): TenantRoleInfo => ({
  name: r.name,
  rank: r.rank,
  managesUsers: r.manages_users,
  readOnly: r.read_only,
  globalRole: r.global_role,
});

/** Declares and lists the tenant roles (run by the system, as cognition_owner). */
export class TenantRoleService {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Replaces the declaration in one transaction: new roles are created in every tenant, ranks
   * and memberships follow the new order, a role no user holds any more is dropped. Dropping
   * a role that users still hold fails with ERR_ROLE_IN_USE.
   */
  async declare(input: TenantRolesDeclaration): Promise<TenantRoleInfo[]> {
    const d = validateDeclaration(input);
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query('set local role cognition_owner');
        const { rows } = await client.query<RoleRow>(
          'select * from cognition.declare_tenant_roles($1::text[], $2, $3::text[])',
          [d.roles, d.manageUsersFrom, d.readOnly],
        );
        return rows.map(fromRow);
      });
    } catch (error) {
      throw fromPgError(error);
    }
  }

  /** Whether the declaration in the database is this one already (so declaring is a no-op). */
  async matches(input: TenantRolesDeclaration): Promise<boolean> {
    const d = validateDeclaration(input);
    const current = await this.list();
    const managers = d.roles.slice(0, d.roles.indexOf(d.manageUsersFrom) + 1);
    return (
      current.length === d.roles.length &&
      current.every(
        (r, i) =>
          r.name === d.roles[i] &&
          r.managesUsers === managers.includes(r.name) &&
          r.readOnly === d.readOnly.includes(r.name),
      )
    );
  }

  /** Highest rank first. */
  async list(): Promise<TenantRoleInfo[]> {
    const { rows } = await this.pool.query<RoleRow>(
      'select name, rank, manages_users, read_only, global_role from cognition.tenant_roles order by rank desc',
    );
    return rows.map(fromRow);
  }
}
