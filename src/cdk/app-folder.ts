import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isObjectType, type GraphQLSchema } from 'graphql';
import { CognitionError } from '../errors.js';
import { validateDeclaration, type TenantRolesDeclaration } from '../tenancy/tenant-roles.js';
// The cdk layer sits at the top, like cli: it may use local's schema checks (eslint.config.js
// exempts only cli and local from this rule so far).
import { buildAppSyncSchema } from '../local/graphql/schema.js';
import { loadModuleSync } from './bundle.js';
import { subscribedFields } from './subscriptions.js';

/** One `Type.field` of the application's resolvers. */
export interface ResolverField {
  typeName: string;
  fieldName: string;
  /**
   * Below the root (not a Query, Mutation or Subscription field): AppSync resolves it once per
   * parent item, so it is batched (BatchInvoke), as the local endpoint does.
   */
  nested: boolean;
}

/**
 * An application folder as the construct deploys it, the same layout the local stack loads
 * (`src/local/app.ts`): `template/` (template migrations), and optionally `roles.json` and
 * `schema.graphql` with a `resolvers` module. Read synchronously, because constructs are built synchronously.
 */
export interface AppFolder {
  dir: string;
  templateDir: string;
  /** `roles.json`: the tenant roles, highest rank first (absent: `admin` > `user`). */
  tenantRoles?: { path: string; declaration: Required<TenantRolesDeclaration> };
  graphql?: {
    schemaPath: string;
    resolversPath: string;
    fields: ResolverField[];
    /** `Subscription.field`s with `@aws_subscribe` (see subscriptions.ts). */
    subscriptions: string[];
  };
}

export function readAppFolder(dir: string): AppFolder {
  const root = resolve(dir);
  const templateDir = join(root, 'template');
  if (!existsSync(templateDir)) {
    throw new CognitionError(
      'ERR_CONFIG',
      `${root} is not an application folder: it has no template/ folder`,
    );
  }
  const app: AppFolder = { dir: root, templateDir };
  const rolesPath = join(root, 'roles.json');
  if (existsSync(rolesPath)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(rolesPath, 'utf8'));
    } catch {
      throw new CognitionError('ERR_CONFIG', `${rolesPath} is not valid JSON`);
    }
    app.tenantRoles = { path: rolesPath, declaration: validateDeclaration(parsed) };
  }
  const schemaPath = join(root, 'schema.graphql');
  if (!existsSync(schemaPath)) return app;
  const resolversPath = ['resolvers.ts', 'resolvers.js', 'resolvers.mjs']
    .map((name) => join(root, name))
    .find((path) => existsSync(path));
  if (!resolversPath) {
    throw new CognitionError(
      'ERR_CONFIG',
      `${root}/schema.graphql needs a resolvers module exporting \`resolvers\``,
    );
  }
  const resolvers = loadModuleSync(resolversPath)['resolvers'];
  if (typeof resolvers !== 'object' || resolvers === null || Array.isArray(resolvers)) {
    throw new CognitionError('ERR_CONFIG', `${resolversPath} exports no \`resolvers\` object`);
  }
  // The local endpoint's own checks (AWS scalars and directives, no tenant-like arguments), so
  // that nothing deploys that would not load locally.
  const sdl = readFileSync(schemaPath, 'utf8');
  const schema = buildAppSyncSchema(sdl);
  const fields = resolverFields(schema, Object.keys(resolvers));
  const subscriptions = subscribedFields(sdl);
  app.graphql = { schemaPath, resolversPath, fields, subscriptions };
  return app;
}

/** The fields of `Type.field` keys, each checked against the schema (AppSync would refuse it at deploy). */
export function resolverFields(schema: GraphQLSchema, keys: readonly string[]): ResolverField[] {
  const roots = new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]
      .filter((type) => type !== null && type !== undefined)
      .map((type) => type.name),
  );
  const fields: ResolverField[] = [];
  for (const key of [...keys].sort()) {
    const match = /^([_A-Za-z][_0-9A-Za-z]*)\.([_A-Za-z][_0-9A-Za-z]*)$/.exec(key);
    if (!match) throw new CognitionError('ERR_CONFIG', `resolver key "${key}" is not Type.field`);
    const [, typeName = '', fieldName = ''] = match;
    const type = schema.getType(typeName);
    // AppSync attaches resolvers to object types only (not to interfaces or inputs).
    if (!isObjectType(type) || !(fieldName in type.getFields())) {
      throw new CognitionError(
        'ERR_CONFIG',
        `resolver ${key} names no field of an object type in schema.graphql`,
      );
    }
    fields.push({ typeName, fieldName, nested: !roots.has(typeName) });
  }
  return fields;
}
