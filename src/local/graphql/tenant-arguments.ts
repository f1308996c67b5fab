import { isInputObjectType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { CognitionError } from '../../errors.js';

/**
 * The tenant of a request is who is calling (the token's claims, the database role), never a
 * value the client sends. A GraphQL argument named like a tenant id invites resolvers to trust
 * one, so schemas that have such an argument, or such a field in an input type (an argument
 * too, one level down), are refused when loaded.
 */

/** `tenant`, `tenants`, `tenantId`, `tenant_id`, `tenantIds`, `tenantSlug`, `TENANT_KEY`, ... */
export function isTenantArgumentName(name: string): boolean {
  return /^tenants?(_?(id|ids|slug|slugs|key|uuid))?$/i.test(name);
}

/** Every place where the schema lets a client name a tenant, as `Type.field(argument)` or `Input.field`. */
export function tenantArguments(schema: GraphQLSchema, ignoreDirectives: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        for (const arg of field.args) {
          if (isTenantArgumentName(arg.name)) found.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (isTenantArgumentName(field.name)) found.push(`${type.name}.${field.name} (input field)`);
      }
    }
  }
  for (const directive of schema.getDirectives()) {
    if (ignoreDirectives.has(directive.name)) continue;
    for (const arg of directive.args) {
      if (isTenantArgumentName(arg.name)) found.push(`@${directive.name}(${arg.name})`);
    }
  }
  return found;
}

export function assertNoTenantArguments(schema: GraphQLSchema, ignoreDirectives: ReadonlySet<string>): void {
  const found = tenantArguments(schema, ignoreDirectives);
  if (found.length === 0) return;
  throw new CognitionError(
    'ERR_CONFIG',
    `GraphQL schema: tenant arguments are not allowed (${found.join(', ')}): the tenant always comes ` +
      'from who is calling (the token and the database role), never from the request. Remove the argument.',
    { safe: false, details: { arguments: found } },
  );
}
