import { CognitionError } from '../errors.js';
import { validateEmail, validatePersonName, validateRole } from '../users/validation.js';
import type { ResolverDefinition } from './types.js';

interface AddedUser {
  id: string;
  email: string;
  role: string;
  status: string;
  name: string | null;
  tenantId: string | null;
}

/**
 * `addUser(name, email, role)` for managers: invites the user into the caller's tenant and, when
 * the data source has an identity provider, creates their login. The statement runs as the
 * caller, so the database decides: the tenant is the caller's (the column defaults to it and the
 * policy allows no other), only ranks that manage users may invite, and nobody above the
 * caller's own rank. No argument names a tenant.
 */
export function addUserResolver(): ResolverDefinition {
  return {
    sql: `insert into cognition.users (email, role, given_name)
          values ($1, $2, $3)
          returning id, email, role, status, given_name as name, tenant_id as "tenantId"`,
    params: ({ arguments: args }) => [
      validateEmail(args['email']),
      validateRole(args['role']),
      validatePersonName(args['name'], 'name'),
    ],
    returns: 'one',
    async after(value, context) {
      const user = value as AddedUser | null;
      if (!user || !context.identityProvider) return user;
      try {
        await context.identityProvider.createUser({
          email: user.email,
          tenantId: user.tenantId,
          role: user.role,
          givenName: user.name,
        });
      } catch (error) {
        // No invitation without a login: withdraw it, as the same caller.
        await context
          .run(`update cognition.users set status = 'removed' where id = $1 and status = 'invited'`, [
            user.id,
          ])
          .catch(() => {});
        throw error instanceof CognitionError
          ? error
          : new CognitionError('ERR_IDENTITY_PROVIDER', 'the login could not be created', { cause: error });
      }
      return user;
    },
  };
}
