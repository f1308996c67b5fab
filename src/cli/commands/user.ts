import type { User } from '../../users/users.js';
import { validateEmail, validateRole, type UserStatus } from '../../users/validation.js';
import { stringOption, usageError, type Command } from '../command.js';
import { withContext } from '../context.js';
import type { Output } from '../output.js';

function userJson(u: User) {
  return { ...u, createdAt: u.createdAt.toISOString(), activatedAt: u.activatedAt?.toISOString() ?? null };
}

function printUser(out: Output, verb: string, u: User) {
  out.info(`${verb} ${u.email} (${u.role}${u.tenantSlug ? ` in ${u.tenantSlug}` : ''}, ${u.status})`);
}

export const userInviteCommand: Command = {
  path: ['user', 'invite'],
  summary: 'Invite a user into a tenant',
  usage:
    'pg-cognition user invite <email> --tenant <slug> --role admin|user [--given-name <n>] [--family-name <n>] [--json]\n' +
    '       pg-cognition user invite <email> --role application_admin [--json]',
  help: `Records an invitation: the user may sign up (Cognito PreSignUp checks it) and is
provisioned when the sign-up is confirmed. Emails are unique and compare case-insensitively.

Example:
  pg-cognition user invite alice@acme.test --tenant acme --role admin`,
  options: {
    tenant: { type: 'string' },
    role: { type: 'string' },
    'given-name': { type: 'string' },
    'family-name': { type: 'string' },
  },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, out) {
    const roleOption = stringOption(values, 'role');
    const role = roleOption === undefined ? undefined : validateRole(roleOption);
    validateEmail(positionals[0]);
    return withContext(out, async (ctx) => {
      const user = await ctx.cognition.users.invite({
        email: positionals[0] as string,
        tenant: stringOption(values, 'tenant') ?? null,
        role,
        givenName: stringOption(values, 'given-name') ?? null,
        familyName: stringOption(values, 'family-name') ?? null,
      });
      out.result(userJson(user), () => printUser(out, 'invited', user));
    });
  },
};

export const userProvisionCommand: Command = {
  path: ['user', 'provision'],
  summary: 'Provision an invited user (what a confirmed sign-up does)',
  usage: 'pg-cognition user provision <email> [--subject <idp subject>] [--json]',
  help: `Creates the user's database role with a random password, grants it the tenant role
for its rank, stores the credentials in the secret store and marks the user active. Running it
again for an active user changes nothing. The password is never printed.`,
  options: { subject: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, out) {
    return withContext(out, async (ctx) => {
      const subject = stringOption(values, 'subject');
      const { user, created } = await ctx.cognition.users.provision(
        positionals[0] as string,
        subject === undefined ? {} : { subject },
      );
      out.result({ created, user: userJson(user) }, () =>
        printUser(
          out,
          created ? `provisioned (database role ${user.dbUsername})` : 'already provisioned:',
          user,
        ),
      );
    });
  },
};

export const userListCommand: Command = {
  path: ['user', 'list'],
  summary: 'List users',
  usage: 'pg-cognition user list [--tenant <slug>] [--status invited|active|suspended|removed] [--json]',
  help: 'Lists users with their tenant, rank, status and database role.',
  options: { tenant: { type: 'string' }, status: { type: 'string' } },
  async run({ values }, out) {
    const status = stringOption(values, 'status');
    if (status !== undefined && !['invited', 'active', 'suspended', 'removed'].includes(status)) {
      throw usageError('--status must be invited, active, suspended or removed');
    }
    return withContext(out, async (ctx) => {
      const filter: { tenant?: string; status?: UserStatus } = {};
      const tenant = stringOption(values, 'tenant');
      if (tenant) filter.tenant = tenant;
      if (status) filter.status = status as UserStatus;
      const users = await ctx.cognition.users.list(filter);
      out.result(users.map(userJson), () =>
        out.table(
          users.map((u) => ({
            email: u.email,
            tenant: u.tenantSlug,
            role: u.role,
            status: u.status,
            db_username: u.dbUsername,
          })),
        ),
      );
    });
  },
};

export function userStatusCommand(verb: 'suspend' | 'reactivate' | 'remove'): Command {
  const help = {
    suspend:
      'Suspends the user: its database role loses its tenant role and may not log in, so its very next query is refused (in both execution modes), even with a valid token.',
    reactivate: 'Gives a suspended user its tenant role and login back.',
    remove:
      'Removes the user: drops its database role and deletes its stored credentials. The row stays, with status removed, as the audit record.',
  }[verb];
  return {
    path: ['user', verb],
    summary: {
      suspend: 'Suspend a user',
      reactivate: 'Reactivate a suspended user',
      remove: 'Remove a user (drops its role and secret)',
    }[verb],
    usage: `pg-cognition user ${verb} <email> [--json]`,
    help,
    positionals: { min: 1, max: 1 },
    async run({ positionals }, out) {
      return withContext(out, async (ctx) => {
        const ref = positionals[0] as string;
        const user =
          verb === 'suspend'
            ? await ctx.cognition.suspendUser(ref)
            : verb === 'remove'
              ? await ctx.cognition.removeUser(ref)
              : await ctx.cognition.users.reactivate(ref);
        out.result(userJson(user), () =>
          printUser(out, { suspend: 'suspended', reactivate: 'reactivated', remove: 'removed' }[verb], user),
        );
      });
    },
  };
}
