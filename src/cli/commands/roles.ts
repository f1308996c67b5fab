import { stringOption, type Command } from '../command.js';
import { withContext } from '../context.js';
import type { Output } from '../output.js';
import type { TenantRoleInfo } from '../../tenancy/tenant-roles.js';

function printRoles(out: Output, roles: TenantRoleInfo[]): void {
  for (const r of roles) {
    const traits = [r.managesUsers ? 'manages users' : '', r.readOnly ? 'read-only' : ''].filter(Boolean);
    out.info(
      `${String(r.rank).padStart(3)}  ${r.name.padEnd(16)} ${r.globalRole.padEnd(24)} ${traits.join(', ')}`,
    );
  }
}

export const rolesListCommand: Command = {
  path: ['roles', 'list'],
  summary: 'List the tenant roles, highest rank first',
  usage: 'pg-cognition roles list [--json]',
  help: `Lists the tenant roles the application declared (default: admin > user): each role's
rank, its global role (which template grants name), whether it manages users and whether it
is read-only. The role name is also the Cognito group and the tenant_role claim.`,
  async run(_args, out) {
    return withContext(out, async (ctx) => {
      const roles = await ctx.cognition.tenantRoles.list();
      out.result(roles, () => printRoles(out, roles));
    });
  },
};

export const rolesDeclareCommand: Command = {
  path: ['roles', 'declare'],
  summary: 'Declare the tenant roles, highest rank first',
  usage: 'pg-cognition roles declare <role>... [--manage-from <role>] [--read-only <role,...>] [--json]',
  help: `Replaces the tenant roles, in order of rank, highest first, e.g.
  pg-cognition roles declare Admin SuperUser Member ReadOnly --manage-from SuperUser --read-only ReadOnly
Roles from --manage-from upwards may invite and manage users of their tenant, never above their
own rank (default: only the highest). Read-only roles hold no write privilege in their tenant's
schema. Every tenant gets the new roles in the same transaction; a role that users still hold
cannot be dropped (ERR_ROLE_IN_USE). Declare roles before the template migrations that grant
to them (tenant_<role>s, lower-cased: tenant_superusers, tenant_members, ...).`,
  options: { 'manage-from': { type: 'string' }, 'read-only': { type: 'string' } },
  positionals: { min: 1, max: 32 },
  async run({ positionals, values }, out) {
    const readOnly = stringOption(values, 'read-only');
    const manageFrom = stringOption(values, 'manage-from');
    return withContext(out, async (ctx) => {
      const roles = await ctx.cognition.tenantRoles.declare({
        roles: positionals,
        ...(manageFrom !== undefined && { manageUsersFrom: manageFrom }),
        readOnly: readOnly ? readOnly.split(',').map((r) => r.trim()) : [],
      });
      out.result(roles, () => printRoles(out, roles));
    });
  },
};
