import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Resolvers } from '../appsync/types.js';
import type { Cognition } from '../cognition.js';
import { validateDeclaration, type TenantRolesDeclaration } from '../tenancy/tenant-roles.js';
import { CognitionError } from '../errors.js';

/** What a seed gives back: the users to give a login on the local user pool, and their password. */
export interface SeedOutput {
  users: readonly { email: string; tenant: string | null; role: string; title?: string }[];
  password: string;
}

/**
 * An application as the local stack loads it from a folder: `template/` (its tenant schema, as
 * template migrations), and optionally `schema.graphql` with `resolvers.ts` (served by the
 * local GraphQL endpoint), `seed.ts` exporting `seed(cognition)`, and `roles.json` declaring
 * its tenant roles: `{ "roles": ["Admin", "Member"], "manageUsersFrom": "Admin", "readOnly": [] }`.
 */
export interface LocalApp {
  name: string;
  dir: string;
  templateDir: string;
  graphql?: { schema: string; resolvers: Resolvers };
  seed?: (cognition: Cognition) => Promise<SeedOutput>;
  /** A GraphQL query worth trying first, from the seed module's `tryQuery` export. */
  tryQuery?: string;
  /** From `roles.json`: the tenant roles by rank (default admin > user). */
  tenantRoles?: TenantRolesDeclaration;
}

export async function loadApp(dir: string): Promise<LocalApp> {
  const root = resolve(dir);
  const templateDir = join(root, 'template');
  if (!existsSync(templateDir)) {
    throw new CognitionError(
      'ERR_CONFIG',
      `${root} is not an application folder: it has no template/ folder`,
    );
  }
  const app: LocalApp = { name: root.split(/[\\/]/).pop() ?? root, dir: root, templateDir };
  const schemaPath = join(root, 'schema.graphql');
  if (existsSync(schemaPath)) {
    const module = (await importFirst(root, 'resolvers')) as { resolvers?: Resolvers } | undefined;
    if (!module?.resolvers) {
      throw new CognitionError(
        'ERR_CONFIG',
        `${root}/schema.graphql needs a resolvers module exporting \`resolvers\``,
      );
    }
    app.graphql = { schema: await readFile(schemaPath, 'utf8'), resolvers: module.resolvers };
  }
  const rolesPath = join(root, 'roles.json');
  if (existsSync(rolesPath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(rolesPath, 'utf8'));
    } catch {
      throw new CognitionError('ERR_CONFIG', `${rolesPath} is not valid JSON`);
    }
    app.tenantRoles = validateDeclaration(parsed);
  }
  const seedModule = (await importFirst(root, 'seed')) as
    { seed?: LocalApp['seed']; tryQuery?: unknown } | undefined;
  if (seedModule?.seed) app.seed = seedModule.seed;
  if (typeof seedModule?.tryQuery === 'string') app.tryQuery = seedModule.tryQuery;
  return app;
}

async function importFirst(root: string, name: string): Promise<unknown> {
  for (const extension of ['.js', '.ts', '.mjs']) {
    const path = join(root, `${name}${extension}`);
    if (existsSync(path)) return import(pathToFileURL(path).href);
  }
  return undefined;
}
