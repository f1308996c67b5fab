import type { Tenant } from '../../tenancy/tenants.js';
import { validateDisplayName, validateSlug } from '../../tenancy/validation.js';
import { requiredOption, type Command } from '../command.js';
import { withContext } from '../context.js';
import type { Output } from '../output.js';

function tenantJson(t: Tenant) {
  return { ...t, createdAt: t.createdAt.toISOString() };
}

function printTenants(out: Output, tenants: Tenant[]) {
  out.table(
    tenants.map((t) => ({
      slug: t.slug,
      name: t.name,
      status: t.status,
      schema: t.schemaName,
      created: t.createdAt,
    })),
  );
}

export const tenantCreateCommand: Command = {
  path: ['tenant', 'create'],
  summary: 'Create a tenant: row, schema cloned from tenant_template, admin and user roles',
  usage: 'pg-cognition tenant create <slug> --name <display name> [--copy-data] [--json]',
  help: `Creates the tenant in one transaction: its row in cognition.tenants, the schema
tenant_<slug> cloned from tenant_template (every object, no data unless --copy-data), and the
roles tenant_<slug>_admins / tenant_<slug>_users. A slug is 1-40 characters of a-z, 0-9 and _,
starting with a letter.

Example:
  pg-cognition tenant create acme --name "Acme Corp"`,
  options: { name: { type: 'string' }, 'copy-data': { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, out) {
    const name = requiredOption(values, 'name');
    validateSlug(positionals[0]);
    validateDisplayName(name);
    return withContext(out, async (ctx) => {
      const started = performance.now();
      const tenant = await ctx.cognition.tenants.create({
        slug: positionals[0] as string,
        name,
        copyData: values['copy-data'] === true,
      });
      out.result(tenantJson(tenant), () =>
        out.info(
          `created tenant ${tenant.slug} (schema ${tenant.schemaName}, roles ${tenant.adminRole}, ${tenant.userRole}) in ${Math.round(performance.now() - started)} ms`,
        ),
      );
    });
  },
};

export const tenantListCommand: Command = {
  path: ['tenant', 'list'],
  summary: 'List tenants',
  usage: 'pg-cognition tenant list [--json]',
  help: 'Lists every tenant with its slug, display name, status and schema.',
  async run(_args, out) {
    return withContext(out, async (ctx) => {
      const tenants = await ctx.cognition.tenants.list();
      out.result(tenants.map(tenantJson), () => printTenants(out, tenants));
    });
  },
};

export const tenantDropCommand: Command = {
  path: ['tenant', 'drop'],
  summary: "Drop a tenant with its schema, roles, users' roles and secrets",
  usage: 'pg-cognition tenant drop <slug> --yes [--json]',
  help: `Drops the tenant in one transaction: its schema with all data, its two roles, the
database roles of its users and their stored credentials. There is no undo, hence --yes.`,
  options: { yes: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, out) {
    const slug = positionals[0] as string;
    if (values.yes !== true) {
      const { usageError } = await import('../command.js');
      throw usageError(`dropping tenant ${slug} deletes all its data: add --yes to confirm`);
    }
    return withContext(out, async (ctx) => {
      const { userIds } = await ctx.cognition.dropTenant(slug);
      out.result({ dropped: slug, users: userIds.length }, () =>
        out.info(`dropped tenant ${slug} and ${userIds.length} user(s)`),
      );
    });
  },
};

export const tenantRenameCommand: Command = {
  path: ['tenant', 'rename'],
  summary: "Change a tenant's display name",
  usage: 'pg-cognition tenant rename <slug> --name <display name> [--json]',
  help: "Changes the tenant's display name (its slug, schema and roles never change).",
  options: { name: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, out) {
    const name = requiredOption(values, 'name');
    return withContext(out, async (ctx) => {
      const tenant = await ctx.cognition.tenants.setName(positionals[0] as string, name);
      out.result(tenantJson(tenant), () => out.info(`tenant ${tenant.slug} is now "${tenant.name}"`));
    });
  },
};

export function tenantStatusCommand(status: 'active' | 'suspended'): Command {
  const verb = status === 'active' ? 'reactivate' : 'suspend';
  return {
    path: ['tenant', verb],
    summary:
      status === 'active'
        ? 'Reactivate a suspended tenant'
        : 'Suspend a tenant: its users lose access to its schema',
    usage: `pg-cognition tenant ${verb} <slug> [--json]`,
    help:
      status === 'active'
        ? "Gives the tenant's roles back their access to its schema."
        : "Revokes the tenant's roles' access to its schema; its users' next queries are refused.",
    positionals: { min: 1, max: 1 },
    async run({ positionals }, out) {
      return withContext(out, async (ctx) => {
        const tenant = await ctx.cognition.tenants.setStatus(positionals[0] as string, status);
        out.result(tenantJson(tenant), () => out.info(`tenant ${tenant.slug} is ${tenant.status}`));
      });
    },
  };
}
