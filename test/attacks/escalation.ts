import {
  AdminAddUserToGroupCommand,
  AdminRemoveUserFromGroupCommand,
  CreateGroupCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { BOND, CIA_LOOT, DIRECTOR, KERIM, M, MONEYPENNY, officeId, tenantId } from './agents-data.js';
import { many, type Attack, type Target } from './harness.js';

/**
 * Privilege escalation on cognition.* as the attacker's own database user (a real login with
 * their own credentials): raising one's own rank, moving to another tenant, taking over another
 * user's database role or identity, acting on another tenant's users, inviting above one's rank
 * or into another tenant. And in the identity provider: a Cognito group the database never gave.
 * The permission matrix (README, "The permission matrix on cognition.*") must refuse each.
 */

const ids = async (t: Target) => ({
  cia: await tenantId(t, 'cia'),
  mi6: await tenantId(t, 'mi6'),
  m: await t.user(M),
  kerim: await t.user(KERIM),
  bond: await t.user(BOND),
  director: await t.user(DIRECTOR),
});

export const escalationAttacks: Attack[] = [
  {
    name: 'a tenant user raises their own rank, status or tenant in cognition.users',
    category: 'escalation',
    target: 'agents',
    async run(t) {
      const { cia } = await ids(t);
      const me = 'id = cognition.my_user_id()';
      return many(
        () => t.sql(KERIM, `update cognition.users set role = 'admin' where ${me}`),
        () =>
          t.sql(KERIM, `update cognition.users set role = 'application_admin', tenant_id = null where ${me}`),
        () => t.sql(KERIM, `update cognition.users set tenant_id = $1 where ${me}`, [cia]),
        () =>
          t.sql(KERIM, `update cognition.users set status = 'active', db_username = db_username where ${me}`),
        // The self-service columns are granted, but only on the caller's own row.
        () => t.sql(KERIM, `update cognition.users set given_name = 'K' where role = 'admin'`),
      );
    },
  },
  {
    name: "a tenant user changes or reads other users' rows (suspend the lead, read emails)",
    category: 'escalation',
    target: 'agents',
    secrets: () => ['m@mi6.test', 'moneypenny@mi6.test', 'director@cia.test'],
    async run(t) {
      const { m } = await ids(t);
      return many(
        () => t.sql(KERIM, `update cognition.users set status = 'suspended' where id = $1`, [m.id]),
        () =>
          t.sql(KERIM, `update cognition.users set given_name = 'Pwned' where id <> cognition.my_user_id()`),
        () => t.sql(KERIM, 'select email from cognition.users where id <> cognition.my_user_id()'),
        () => t.sql(KERIM, 'select * from cognition.audit_log'),
        () => t.sql(KERIM, 'select * from cognition.tenants where id <> cognition.my_tenant_id()'),
      );
    },
  },
  {
    name: 'a tenant admin makes themself or another user an application admin',
    category: 'escalation',
    target: 'agents',
    async run(t) {
      const { kerim } = await ids(t);
      return many(
        () =>
          t.sql(M, `update cognition.users set role = 'application_admin' where id = cognition.my_user_id()`),
        () => t.sql(M, `update cognition.users set role = 'application_admin' where id = $1`, [kerim.id]),
        () =>
          t.sql(M, `update cognition.users set role = 'application_admin', tenant_id = null where id = $1`, [
            kerim.id,
          ]),
        () =>
          t.sql(
            M,
            "insert into cognition.users (tenant_id, email, role) values (null, 'root@mi6.test', 'application_admin')",
          ),
        () =>
          t.sql(
            M,
            "insert into cognition.users (email, role) values ('root2@mi6.test', 'application_admin')",
          ),
      );
    },
  },
  {
    name: "a tenant admin invites into another tenant, moves a user there, or acts on that tenant's users",
    category: 'escalation',
    target: 'agents',
    secrets: () => [...CIA_LOOT, 'director@cia.test', 'landy@cia.test'],
    async run(t) {
      const { cia, kerim, director } = await ids(t);
      return many(
        () =>
          t.sql(
            M,
            "insert into cognition.users (tenant_id, email, role) values ($1, 'mole@cia.test', 'admin')",
            [cia],
          ),
        () => t.sql(M, 'update cognition.users set tenant_id = $1 where id = $2', [cia, kerim.id]),
        () => t.sql(M, `update cognition.users set status = 'suspended' where id = $1`, [director.id]),
        () => t.sql(M, `update cognition.users set role = 'user' where tenant_id = $1`, [cia]),
        () => t.sql(M, 'select email from cognition.users where tenant_id = $1', [cia]),
        () => t.sql(M, 'select * from cognition.audit_log where tenant_id = $1', [cia]),
        () => t.sql(M, "update cognition.tenants set name = 'Pwned' where id = $1", [cia]),
      );
    },
  },
  {
    name: "a tenant admin takes over another user's database role or login identity",
    category: 'escalation',
    target: 'agents',
    async run(t) {
      const { bond, director } = await ids(t);
      return many(
        // The database username is who a request runs as; the identity subject, whose login maps to the row.
        () =>
          t.sql(M, 'update cognition.users set db_username = $1 where id = cognition.my_user_id()', [
            bond.dbUsername,
          ]),
        () =>
          t.sql(M, 'update cognition.users set db_username = $1 where id = cognition.my_user_id()', [
            director.dbUsername,
          ]),
        () =>
          t.sql(M, 'update cognition.users set idp_subject = $1 where id = $2', ['attacker-sub', bond.id]),
        () =>
          t.sql(
            M,
            "update cognition.users set idp_subject = 'attacker-sub' where id = cognition.my_user_id()",
          ),
        () => t.sql(M, 'update cognition.users set id = gen_random_uuid() where id = $1', [bond.id]),
        () => t.sql(M, 'delete from cognition.users where id = $1', [bond.id]),
      );
    },
  },
  {
    name: 'a tenant admin suspends or renames their tenant past the privileges, or re-activates a removed user',
    category: 'escalation',
    target: 'agents',
    async run(t) {
      const { mi6 } = await ids(t);
      return many(
        () => t.sql(M, "update cognition.tenants set status = 'suspended' where id = $1", [mi6]),
        () => t.sql(M, "update cognition.tenants set schema_name = 'tenant_cia' where id = $1", [mi6]),
        () => t.sql(M, "update cognition.tenants set slug = 'cia2' where id = $1", [mi6]),
        () => t.sql(M, "update cognition.users set status = 'active' where status = 'removed'"),
        () => t.sql(M, "insert into cognition.audit_log (actor, action) values ('system', 'forged')"),
        () => t.sql(M, 'delete from cognition.audit_log'),
      );
    },
  },
  {
    name: "a Cognito group the database never gave (added through the pool's admin API) reaches a group-only mutation",
    category: 'escalation',
    target: 'agents',
    async setup(t) {
      // Locally the pool's admin API is open (no SigV4); in AWS this is a compromised IAM principal.
      const pool = { UserPoolId: t.stack.userPool.poolId };
      await t.cognito.send(new CreateGroupCommand({ ...pool, GroupName: 'admin' })).catch(() => {});
      await t.cognito.send(
        new AdminAddUserToGroupCommand({ ...pool, GroupName: 'admin', Username: MONEYPENNY }),
      );
    },
    async run(t) {
      // A fresh login: the group would be in the token unless the token hook derives groups from the database.
      const { id } = await t.tokens(MONEYPENNY, { fresh: true });
      return t.graphql(
        'mutation ($o: ID!) { createAgent(codename: "0011", realName: "Mole Hill", officeId: $o) { id codename } }',
        { authorization: id, variables: { o: await officeId(t, 'tenant_mi6', 'London') } },
      );
    },
    async teardown(t) {
      await t.cognito.send(
        new AdminRemoveUserFromGroupCommand({
          UserPoolId: t.stack.userPool.poolId,
          GroupName: 'admin',
          Username: MONEYPENNY,
        }),
      );
    },
  },
];
