import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/users/users.js';
import { expectCode, expectDenied } from '../support/expect.js';
import { startStack, type TestStack } from '../support/stack.js';

const TEMPLATE = fileURLToPath(new URL('./fixtures/ranked-template/', import.meta.url));
const DECLARATION = {
  roles: ['Admin', 'SuperUser', 'Member', 'ReadOnly'],
  manageUsersFrom: 'SuperUser',
  readOnly: ['ReadOnly'],
};

// Ranked tenant roles: the escalation guard and read-only roles are enforced by the database,
// so every attack below runs as the attacker's own database role.
describe('ranked tenant roles', () => {
  let stack: TestStack;
  let admin: User;
  let superUser: User;
  let member: User;
  let readOnly: User;
  let otherSuper: User;

  const as = (user: User, sql: string, params: unknown[] = []) => stack.cognition.runAs(user, sql, params);
  const count = async (user: User, sql: string, params: unknown[] = []) =>
    (await as(user, sql, params)).rowCount ?? 0;
  const roleOf = async (id: string) =>
    (await stack.cluster.admin.query('select role, status from cognition.users where id = $1', [id]))
      .rows[0] as { role: string; status: string };

  beforeAll(async () => {
    stack = await startStack({ template: false });
    // A tenant that exists before the declaration gets the new roles too.
    await stack.cognition.tenants.create({ slug: 'early', name: 'Early' });
    await stack.cognition.tenantRoles.declare(DECLARATION);
    await stack.cognition.migrateTemplates({ dir: TEMPLATE });
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    await stack.cognition.tenants.create({ slug: 'globex', name: 'Globex' });
    admin = await stack.user('admin@acme.test', 'acme', 'Admin');
    superUser = await stack.user('super@acme.test', 'acme', 'SuperUser');
    member = await stack.user('member@acme.test', 'acme', 'Member');
    readOnly = await stack.user('ro@acme.test', 'acme', 'ReadOnly');
    otherSuper = await stack.user('super@globex.test', 'globex', 'SuperUser');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe('declaration', () => {
    it('lists the roles by rank, with who manages users and who is read-only', async () => {
      expect(await stack.cognition.tenantRoles.list()).toEqual([
        { name: 'Admin', rank: 4, managesUsers: true, readOnly: false, globalRole: 'tenant_admins' },
        { name: 'SuperUser', rank: 3, managesUsers: true, readOnly: false, globalRole: 'tenant_superusers' },
        { name: 'Member', rank: 2, managesUsers: false, readOnly: false, globalRole: 'tenant_members' },
        { name: 'ReadOnly', rank: 1, managesUsers: false, readOnly: true, globalRole: 'tenant_readonlys' },
      ]);
      expect(await stack.cognition.tenantRoles.matches(DECLARATION)).toBe(true);
    });

    it('gives every tenant, old and new, one role per rank; higher ranks include lower, read-only includes none', async () => {
      const { rows } = await stack.cluster.admin.query<{ role: string; members_of: string[] }>(
        `select r.rolname as role,
                array(select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid
                      where m.member = r.oid order by 1)::text[] as members_of
         from pg_roles r where r.rolname like 'tenant\\_early\\_%' order by 1`,
      );
      expect(rows).toEqual(
        [
          {
            role: 'tenant_early_admins',
            members_of: [
              'tenant_admins',
              'tenant_early_members',
              'tenant_early_readonlys',
              'tenant_early_superusers',
            ],
          },
          { role: 'tenant_early_members', members_of: ['tenant_early_readonlys', 'tenant_members'] },
          { role: 'tenant_early_readonlys', members_of: ['tenant_readonlys'] },
          {
            role: 'tenant_early_superusers',
            members_of: ['tenant_early_members', 'tenant_early_readonlys', 'tenant_superusers'],
          },
          // The roles of the former declaration (admin > user) are gone, except the reused admins.
        ].filter(Boolean),
      );
      expect(
        (await stack.cluster.admin.query("select 1 from pg_roles where rolname = 'tenant_early_users'"))
          .rowCount,
      ).toBe(0);
    });

    it('refuses to drop a role that users hold, and bad declarations, changing nothing', async () => {
      await expectCode(
        stack.cognition.tenantRoles.declare({ roles: ['Admin', 'SuperUser', 'Member'], readOnly: [] }),
        'ERR_ROLE_IN_USE',
      );
      await expectCode(
        stack.cognition.tenantRoles.declare({ roles: ['Admin', 'admin'] }),
        'ERR_INVALID_ROLE',
      );
      await expectCode(
        stack.cognition.tenantRoles.declare({
          roles: ['Admin', 'Member'],
          manageUsersFrom: 'Member',
          readOnly: ['Member'],
        }),
        'ERR_INVALID_ROLE',
      );
      await expectCode(
        stack.cognition.tenantRoles.declare({ roles: ["x'; drop role postgres; --"] }),
        'ERR_INVALID_ROLE',
      );
      await expectCode(
        stack.cognition.tenantRoles.declare({ roles: ['Averyveryverylongname'] }),
        'ERR_INVALID_ROLE',
      );
      expect(await stack.cognition.tenantRoles.matches(DECLARATION)).toBe(true);
    });

    it('refuses to invite with an undeclared role', async () => {
      await expectCode(
        stack.cognition.users.invite({ email: 'x@acme.test', tenant: 'acme', role: 'user' }),
        'ERR_INVALID_ROLE',
      );
      await expectCode(
        count(superUser, "insert into cognition.users (email, role) values ('y@acme.test', 'Owner')"),
        'ERR_INVALID_ROLE',
        'ERR_PERMISSION_DENIED',
      );
    });

    it('invites with the lowest rank when no role is given', async () => {
      const invited = await stack.cognition.users.invite({ email: 'lowest@acme.test', tenant: 'acme' });
      expect(invited.role).toBe('ReadOnly');
    });
  });

  describe('managing users', () => {
    it('lets a SuperUser invite at or below their own rank', async () => {
      expect(
        await count(superUser, "insert into cognition.users (email, role) values ('m2@acme.test', 'Member')"),
      ).toBe(1);
      expect(
        await count(
          superUser,
          "insert into cognition.users (email, role) values ('s2@acme.test', 'SuperUser')",
        ),
      ).toBe(1);
      const { rows } = await stack.cluster.admin.query(
        "select tenant_id from cognition.users where email = 'm2@acme.test'",
      );
      expect(rows[0].tenant_id).toBe(superUser.tenantId);
    });

    it('refuses a SuperUser creating an Admin', async () => {
      await expectDenied(
        as(superUser, "insert into cognition.users (email, role) values ('evil@acme.test', 'Admin')"),
      );
    });

    it('refuses a SuperUser promoting anyone (themselves included) above their rank', async () => {
      await expectDenied(
        as(superUser, "update cognition.users set role = 'Admin' where id = $1", [superUser.id]),
      );
      await expectDenied(
        as(superUser, "update cognition.users set role = 'Admin' where id = $1", [member.id]),
      );
      expect((await roleOf(member.id)).role).toBe('Member');
      expect((await roleOf(superUser.id)).role).toBe('SuperUser');
    });

    it('refuses a SuperUser demoting, suspending or removing an Admin', async () => {
      expect(
        await count(superUser, "update cognition.users set role = 'ReadOnly' where id = $1", [admin.id]),
      ).toBe(0);
      expect(
        await count(superUser, "update cognition.users set status = 'suspended' where id = $1", [admin.id]),
      ).toBe(0);
      expect(
        await count(superUser, "update cognition.users set status = 'removed' where id = $1", [admin.id]),
      ).toBe(0);
      expect(await roleOf(admin.id)).toEqual({ role: 'Admin', status: 'active' });
    });

    it('lets a SuperUser promote a ReadOnly to Member, and an Admin make them SuperUser', async () => {
      const ro2 = await stack.user('ro2@acme.test', 'acme', 'ReadOnly');
      expect(
        await count(superUser, "update cognition.users set role = 'Member' where id = $1", [ro2.id]),
      ).toBe(1);
      expect(
        await count(admin, "update cognition.users set role = 'SuperUser' where id = $1", [ro2.id]),
      ).toBe(1);
      expect((await roleOf(ro2.id)).role).toBe('SuperUser');
      // The database role follows the row: the user now holds the tenant's superusers role.
      const { rows } = await stack.cluster.admin.query(
        "select pg_has_role($1, 'tenant_acme_superusers', 'MEMBER') as yes",
        [ro2.dbUsername],
      );
      expect(rows[0].yes).toBe(true);
    });

    it('refuses a Member or ReadOnly managing anyone', async () => {
      await expectDenied(
        as(member, "insert into cognition.users (email, role) values ('z@acme.test', 'ReadOnly')"),
      );
      await expectDenied(
        as(readOnly, "insert into cognition.users (email, role) values ('z@acme.test', 'ReadOnly')"),
      );
      await expectDenied(
        as(member, "update cognition.users set status = 'suspended' where id = $1", [readOnly.id]),
      );
      expect(await count(member, 'select * from cognition.users')).toBe(1);
    });

    it("refuses a SuperUser of another tenant touching this tenant's users", async () => {
      expect(
        await count(otherSuper, "update cognition.users set status = 'suspended' where id = $1", [member.id]),
      ).toBe(0);
      expect(await count(otherSuper, 'select * from cognition.users where id = $1', [member.id])).toBe(0);
      await expectDenied(
        as(
          otherSuper,
          "insert into cognition.users (tenant_id, email, role) values ($1, 'x2@acme.test', 'Member')",
          [member.tenantId],
        ),
      );
    });
  });

  describe('read-only roles', () => {
    it('read but never write their tenant schema, even when the template granted it', async () => {
      expect(await count(member, "insert into docs (title) values ('by member')")).toBe(1);
      expect(await count(readOnly, 'select * from docs')).toBe(1);
      await expectDenied(as(readOnly, "insert into docs (title) values ('by read-only')"));
      await expectDenied(as(readOnly, "update docs set title = 'changed'"));
      await expectDenied(as(readOnly, 'delete from docs'));
      await expectDenied(as(readOnly, 'truncate docs'));
      await expectDenied(as(readOnly, "select nextval('doc_numbers')"));
      await expectDenied(as(readOnly, 'create table mine (id int)'));
      expect(await count(member, "select nextval('doc_numbers')")).toBe(1);
    });

    it('stay read-only after a template migration grants them writes', async () => {
      const { rows } = await stack.cluster.admin.query<{ privilege_type: string }>(
        `select privilege_type from information_schema.role_table_grants
         where table_schema = 'tenant_acme' and grantee = 'tenant_acme_readonlys' order by 1`,
      );
      expect(rows.map((r) => r.privilege_type)).toEqual(['SELECT']);
    });
  });

  describe('tokens', () => {
    it('carry the declared role name as the Cognito group', async () => {
      const me = await as(superUser, 'select cognition.my_role() as role, cognition.my_rank() as rank');
      expect(me.rows[0]).toEqual({ role: 'SuperUser', rank: 3 });
    });
  });
});
