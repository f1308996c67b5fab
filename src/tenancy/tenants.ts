import type pg from 'pg';
import { CognitionError, fromPgError } from '../errors.js';
import { withTransaction } from '../db/pool.js';
import { validateDisplayName, validateSlug } from './validation.js';

export type TenantStatus = 'active' | 'suspended';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  schemaName: string;
  adminRole: string;
  userRole: string;
  createdAt: Date;
}

/** Fills a new, empty tenant schema from the template, inside the creating transaction. */
export interface TemplateCloner {
  clone(
    client: pg.ClientBase,
    target: { schema: string; roles: Record<string, string> },
    options?: { copyData?: boolean },
  ): Promise<unknown>;
}

/** Marks a new tenant as being at the template's current version. */
export type VersionRecorder = (client: pg.ClientBase, tenantId: string) => Promise<void>;

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  schema_name: string;
  admin_role: string;
  user_role: string;
  created_at: Date;
}

export function tenantFromRow(row: TenantRow): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    status: row.status,
    schemaName: row.schema_name,
    adminRole: row.admin_role,
    userRole: row.user_role,
    createdAt: row.created_at,
  };
}

const COLUMNS = 'id, slug, name, status, schema_name, admin_role, user_role, created_at';

/**
 * Tenant lifecycle, run by the system (the admin connection acting as cognition_owner). Each
 * operation is one transaction: a tenant exists with its row, schema, roles and template
 * clone, or not at all.
 */
export class TenantService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly cloner: TemplateCloner,
    private readonly recordVersion: VersionRecorder,
  ) {}

  async create(input: { slug: string; name: string; copyData?: boolean }): Promise<Tenant> {
    const slug = validateSlug(input.slug);
    const name = validateDisplayName(input.name);
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query('set local role cognition_owner');
        const { rows } = await client.query<TenantRow>(
          `select ${COLUMNS} from cognition.create_tenant_shell($1, $2)`,
          [slug, name],
        );
        const tenant = tenantFromRow(rows[0] as TenantRow);
        const roleMap = await client.query<{ global_role: string; tenant_role: string }>(
          'select global_role, tenant_role from cognition.tenant_role_map($1)',
          [tenant.id],
        );
        await this.cloner.clone(
          client,
          {
            schema: tenant.schemaName,
            roles: Object.fromEntries(roleMap.rows.map((r) => [r.global_role, r.tenant_role])),
          },
          { copyData: input.copyData ?? false },
        );
        await client.query(
          `select cognition.enforce_read_only($1, m.tenant_role)
           from cognition.tenant_role_map($2) m where m.read_only`,
          [tenant.schemaName, tenant.id],
        );
        await this.recordVersion(client, tenant.id);
        return tenant;
      });
    } catch (error) {
      throw fromPgError(error);
    }
  }

  async list(): Promise<Tenant[]> {
    const { rows } = await this.pool.query<TenantRow>(
      `select ${COLUMNS} from cognition.tenants order by slug`,
    );
    return rows.map(tenantFromRow);
  }

  async get(slug: string): Promise<Tenant | undefined> {
    const { rows } = await this.pool.query<TenantRow>(
      `select ${COLUMNS} from cognition.tenants where slug = $1`,
      [slug],
    );
    return rows[0] ? tenantFromRow(rows[0]) : undefined;
  }

  async require(slug: string): Promise<Tenant> {
    const tenant = await this.get(validateSlug(slug));
    if (!tenant) throw new CognitionError('ERR_TENANT_NOT_FOUND', `no tenant "${slug}"`);
    return tenant;
  }

  async setName(slug: string, name: string): Promise<Tenant> {
    return this.update(slug, 'name', validateDisplayName(name));
  }

  async setStatus(slug: string, status: TenantStatus): Promise<Tenant> {
    if (status !== 'active' && status !== 'suspended') {
      throw new CognitionError('ERR_INVALID_ARGUMENT', 'status must be active or suspended');
    }
    return this.update(slug, 'status', status);
  }

  private async update(slug: string, column: 'name' | 'status', value: string): Promise<Tenant> {
    validateSlug(slug);
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query('set local role cognition_owner');
        const { rows } = await client.query<TenantRow>(
          `update cognition.tenants set ${column} = $2 where slug = $1 returning ${COLUMNS}`,
          [slug, value],
        );
        if (!rows[0]) throw new CognitionError('ERR_TENANT_NOT_FOUND', `no tenant "${slug}"`);
        return tenantFromRow(rows[0]);
      });
    } catch (error) {
      throw fromPgError(error);
    }
  }

  /**
   * Drops the tenant's schema, its roles and its users' roles. `beforeCommit` receives the
   * ids of the tenant's users (to delete their secrets); if it fails, nothing is dropped.
   */
  async drop(
    slug: string,
    beforeCommit?: (userIds: string[]) => Promise<void>,
  ): Promise<{ userIds: string[] }> {
    validateSlug(slug);
    try {
      return await withTransaction(this.pool, async (client) => {
        await client.query('set local role cognition_owner');
        const { rows } = await client.query<{ id: string }>(
          'select id from cognition.drop_tenant($1) as id',
          [slug],
        );
        const userIds = rows.map((r) => r.id);
        await beforeCommit?.(userIds);
        return { userIds };
      });
    } catch (error) {
      throw fromPgError(error);
    }
  }
}
