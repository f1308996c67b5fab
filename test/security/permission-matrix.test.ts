import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionMode } from '../../src/cognition.js';
import { RoleSwitchExecutor } from '../../src/db/role-switch-executor.js';
import type { User } from '../../src/users/users.js';
import { expectCode, expectDenied } from '../support/expect.js';
import { startStack, type TestStack } from '../support/stack.js';

// Each cell of DESIGN.md's permission matrix on cognition.*, allowed and denied, run as the
// user's own database role through the executor, in both execution modes.
describe.each<ExecutionMode>(['role-switch', 'credentials'])('permission matrix (%s)', (mode) => {
  let stack: TestStack;
  let appAdmin: User;
  let acmeAdmin: User;
  let acmeUser: User;
  let acmeUser2: User;
  let globexAdmin: User;
  let globexUser: User;
  let acmeId: string;
  let globexId: string;

  const as = (user: User, sql: string, params: unknown[] = []) =>
    stack.cognition.runAs(user, sql, params, { mode });
  const count = async (user: User, sql: string, params: unknown[] = []) =>
    (await as(user, sql, params)).rowCount ?? 0;

  beforeAll(async () => {
    stack = await startStack();
    acmeId = (await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' })).id;
    globexId = (await stack.cognition.tenants.create({ slug: 'globex', name: 'Globex' })).id;
    appAdmin = await stack.user('root@app.test', null, 'application_admin');
    acmeAdmin = await stack.user('admin@acme.test', 'acme', 'admin');
    acmeUser = await stack.user('user@acme.test', 'acme', 'user');
    acmeUser2 = await stack.user('user2@acme.test', 'acme', 'user');
    globexAdmin = await stack.user('admin@globex.test', 'globex', 'admin');
    globexUser = await stack.user('user@globex.test', 'globex', 'user');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  describe('application admins', () => {
    it('read every tenant and user', async () => {
      expect(await count(appAdmin, 'select * from cognition.tenants')).toBe(2);
      expect(await count(appAdmin, 'select * from cognition.users')).toBe(6);
    });
    it("change any tenant's name and status", async () => {
      expect(
        await count(appAdmin, "update cognition.tenants set name = 'Globex Corp' where slug = 'globex'"),
      ).toBe(1);
      expect(
        await count(appAdmin, "update cognition.tenants set status = 'suspended' where slug = 'globex'"),
      ).toBe(1);
      expect(
        await count(appAdmin, "update cognition.tenants set status = 'active' where slug = 'globex'"),
      ).toBe(1);
    });
    it("change any user's attributes, in any tenant", async () => {
      const sql =
        'update cognition.users set given_name = $2, family_name = $2, preferences = $3 where id = $1';
      expect(await count(appAdmin, sql, [globexUser.id, 'Changed', '{"a":1}'])).toBe(1);
      expect(
        await count(appAdmin, "update cognition.users set role = 'admin' where id = $1", [acmeUser2.id]),
      ).toBe(1);
      expect(
        await count(appAdmin, "update cognition.users set role = 'user' where id = $1", [acmeUser2.id]),
      ).toBe(1);
    });
    it('invite users into any tenant, and other application admins', async () => {
      expect(
        await count(
          appAdmin,
          "insert into cognition.users (tenant_id, email, role) values ($1, 'new@globex.test', 'user')",
          [globexId],
        ),
      ).toBe(1);
      expect(
        await count(
          appAdmin,
          "insert into cognition.users (email, role) values ('root2@app.test', 'application_admin')",
        ),
      ).toBe(1);
    });
    it('never set a database username, which only provisioning does', async () => {
      await expectDenied(
        as(appAdmin, "update cognition.users set db_username = 'u_aaaaaaaaaaaaaaaaaaaaaaaa' where id = $1", [
          acmeUser.id,
        ]),
      );
    });
    it('cannot create or delete tenants by hand', async () => {
      await expectDenied(as(appAdmin, 'delete from cognition.tenants'));
      await expectDenied(
        as(
          appAdmin,
          "insert into cognition.tenants (slug, name, schema_name, admin_role, user_role) values ('x','x','x','x','y')",
        ),
      );
    });
  });

  describe('tenant admins', () => {
    it('read their own tenant only', async () => {
      const { rows } = await as(acmeAdmin, 'select slug from cognition.tenants');
      expect(rows).toEqual([{ slug: 'acme' }]);
    });
    it("change their own tenant's display name", async () => {
      expect(
        await count(acmeAdmin, "update cognition.tenants set name = 'Acme Inc' where id = $1", [acmeId]),
      ).toBe(1);
    });
    it("cannot change another tenant's name (no row is visible)", async () => {
      expect(
        await count(acmeAdmin, "update cognition.tenants set name = 'pwned' where id = $1", [globexId]),
      ).toBe(0);
      const { rows } = await stack.cluster.admin.query('select name from cognition.tenants where id = $1', [
        globexId,
      ]);
      expect(rows[0].name).not.toBe('pwned');
    });
    it("cannot change their tenant's status or slug", async () => {
      await expectDenied(
        as(acmeAdmin, "update cognition.tenants set status = 'suspended' where id = $1", [acmeId]),
      );
      await expectDenied(
        as(acmeAdmin, "update cognition.tenants set slug = 'globex2' where id = $1", [acmeId]),
      );
    });
    it('read the users of their tenant only', async () => {
      const { rows } = await as(acmeAdmin, 'select email from cognition.users order by email');
      expect(rows.map((r) => r.email)).toEqual(['admin@acme.test', 'user2@acme.test', 'user@acme.test']);
    });
    it('change names, email, rank and status of users in their tenant', async () => {
      expect(
        await count(
          acmeAdmin,
          "update cognition.users set given_name = 'Bo', email = 'user2+x@acme.test' where id = $1",
          [acmeUser2.id],
        ),
      ).toBe(1);
      expect(
        await count(acmeAdmin, "update cognition.users set role = 'admin' where id = $1", [acmeUser2.id]),
      ).toBe(1);
      expect(
        await count(
          acmeAdmin,
          "update cognition.users set role = 'user', email = 'user2@acme.test' where id = $1",
          [acmeUser2.id],
        ),
      ).toBe(1);
      expect(
        await count(acmeAdmin, "update cognition.users set status = 'suspended' where id = $1", [
          acmeUser2.id,
        ]),
      ).toBe(1);
      expect(
        await count(acmeAdmin, "update cognition.users set status = 'active' where id = $1", [acmeUser2.id]),
      ).toBe(1);
    });
    it('invite into their own tenant', async () => {
      expect(
        await count(
          acmeAdmin,
          "insert into cognition.users (email, role) values ('invitee@acme.test', 'user')",
        ),
      ).toBe(1);
      const { rows } = await stack.cluster.admin.query(
        "select tenant_id, status, invited_by from cognition.users where email = 'invitee@acme.test'",
      );
      expect(rows[0]).toEqual({ tenant_id: acmeId, status: 'invited', invited_by: acmeAdmin.id });
    });
    it('read the audit log of their tenant only', async () => {
      const { rows } = await as(acmeAdmin, 'select distinct tenant_id from cognition.audit_log');
      expect(rows).toEqual([{ tenant_id: acmeId }]);
    });
  });

  describe('tenant users', () => {
    it('read their own row and tenant only', async () => {
      expect((await as(acmeUser, 'select id from cognition.users')).rows).toEqual([{ id: acmeUser.id }]);
      expect((await as(acmeUser, 'select id from cognition.tenants')).rows).toEqual([{ id: acmeId }]);
    });
    it('change their own names and preferences', async () => {
      const sql =
        "update cognition.users set given_name = 'Me', family_name = 'Myself', preferences = '{\"theme\":\"dark\"}' where id = $1";
      expect(await count(acmeUser, sql, [acmeUser.id])).toBe(1);
    });
    it("cannot change another user's names (no row is visible)", async () => {
      expect(
        await count(acmeUser, "update cognition.users set given_name = 'x' where id = $1", [acmeUser2.id]),
      ).toBe(0);
    });
    it('cannot change their own rank, status, email, tenant or database username', async () => {
      for (const set of [
        "role = 'admin'",
        "status = 'suspended'",
        "email = 'me@evil.test'",
        'tenant_id = null',
        "db_username = 'u_aaaaaaaaaaaaaaaaaaaaaaaa'",
      ]) {
        await expectDenied(as(acmeUser, `update cognition.users set ${set} where id = $1`, [acmeUser.id]));
      }
    });
    it('cannot invite, delete, rename their tenant or read the audit log', async () => {
      await expectDenied(
        as(acmeUser, "insert into cognition.users (email, role) values ('x@acme.test', 'user')"),
      );
      await expectDenied(as(acmeUser, 'delete from cognition.users where id = $1', [acmeUser.id]));
      await expectDenied(as(acmeUser, "update cognition.tenants set name = 'x'"));
      await expectDenied(as(acmeUser, 'select * from cognition.audit_log'));
    });
  });

  describe('escalation by a tenant admin', () => {
    it('cannot change a database username', async () => {
      await expectDenied(
        as(acmeAdmin, "update cognition.users set db_username = 'u_aaaaaaaaaaaaaaaaaaaaaaaa' where id = $1", [
          acmeUser.id,
        ]),
      );
    });
    it('cannot move a user to another tenant', async () => {
      await expectDenied(
        as(acmeAdmin, 'update cognition.users set tenant_id = $2 where id = $1', [acmeUser.id, globexId]),
      );
    });
    it('cannot make anyone, including themselves, an application admin', async () => {
      await expectCode(
        as(acmeAdmin, "update cognition.users set role = 'application_admin' where id = $1", [acmeUser.id]),
        'ERR_PERMISSION_DENIED',
        'ERR_CONSTRAINT',
      );
      await expectCode(
        as(acmeAdmin, "update cognition.users set role = 'application_admin' where id = $1", [acmeAdmin.id]),
        'ERR_PERMISSION_DENIED',
        'ERR_CONSTRAINT',
      );
      await expectCode(
        as(
          acmeAdmin,
          "insert into cognition.users (email, role, tenant_id) values ('boss@acme.test', 'application_admin', null)",
        ),
        'ERR_PERMISSION_DENIED',
        'ERR_CONSTRAINT',
      );
    });
    it('cannot invite into another tenant, or as active', async () => {
      await expectDenied(
        as(
          acmeAdmin,
          "insert into cognition.users (tenant_id, email, role) values ($1, 'spy@globex.test', 'admin')",
          [globexId],
        ),
      );
      await expectDenied(
        as(
          acmeAdmin,
          "insert into cognition.users (email, role, status) values ('a@acme.test', 'user', 'active')",
        ),
      );
    });
    it('cannot touch users of another tenant or application admins', async () => {
      expect(
        await count(acmeAdmin, "update cognition.users set status = 'suspended' where id = $1", [
          globexUser.id,
        ]),
      ).toBe(0);
      expect(
        await count(acmeAdmin, "update cognition.users set given_name = 'x' where id = $1", [appAdmin.id]),
      ).toBe(0);
      expect(
        await count(acmeAdmin, 'select * from cognition.users where id = any($1)', [
          [globexUser.id, globexAdmin.id, appAdmin.id],
        ]),
      ).toBe(0);
      const { rows } = await stack.cluster.admin.query('select status from cognition.users where id = $1', [
        globexUser.id,
      ]);
      expect(rows[0].status).toBe('active');
    });
    it('cannot activate an invited user without provisioning', async () => {
      await expectCode(
        as(acmeAdmin, "update cognition.users set status = 'active' where email = 'invitee@acme.test'"),
        'ERR_CONSTRAINT',
        'ERR_INVALID_TRANSITION',
      );
    });
    it('gains nothing by switching to a group role it belongs to', async () => {
      if (mode !== 'credentials') return;
      // tenant_admins is reachable through the tenant's admin role; as that role, no user is visible.
      const { rows } = await as(
        acmeAdmin,
        "select set_config('role', 'tenant_admins', true) as r, (select count(*) from cognition.users) as n",
      );
      expect(rows[0]?.r).toBe('tenant_admins');
    });
  });

  describe('RLS helpers', () => {
    it('run once per statement (an InitPlan), not once per row', async () => {
      for (const sql of ['select * from cognition.users', "update cognition.users set given_name = 'x'"]) {
        const plan = (await as(acmeAdmin, `explain (verbose, costs off) ${sql}`)).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
        expect(plan).toContain('InitPlan');
        expect(plan).not.toContain('SubPlan');
        // Every call of the lookup sits in an InitPlan's output, none in a per-row filter.
        const calls = plan.split('\n').filter((line) => line.includes('cognition.me()'));
        expect(calls.length).toBeGreaterThan(0);
        expect(calls.every((line) => line.trim().startsWith('Output:'))).toBe(true);
      }
    });
    it('never read pg_authid', async () => {
      const { rows } = await stack.cluster.admin.query(
        "select proname from pg_proc where pronamespace = 'cognition'::regnamespace and prosrc ilike '%pg_authid%'",
      );
      expect(rows).toEqual([]);
    });
  });

  describe('shared connections', () => {
    it('cannot create temporary tables that would shadow names in later requests', async () => {
      await expectDenied(as(globexUser, 'create temp table notes (title text)'));
    });
    it('leave nothing of one request to the next on the same connection', async () => {
      // One connection, so that consecutive requests certainly share it.
      const executor =
        mode === 'role-switch'
          ? new RoleSwitchExecutor(await stack.cognition.authenticatorUrl(), { max: 1 })
          : undefined;
      if (!executor) return;
      try {
        const globex = { dbUsername: globexUser.dbUsername as string, schema: globexUser.tenantSchema };
        const acme = { dbUsername: acmeUser.dbUsername as string, schema: acmeUser.tenantSchema };
        // A statement that could change the session is refused before it is sent.
        await expectCode(
          executor.run(
            globex,
            "select set_config('search_path', 'tenant_acme', false), set_config('request.jwt.claims', '{\"forged\":1}', false)",
          ),
          'ERR_STATEMENT_REFUSED',
        );
        const { rows } = await executor.run(
          acme,
          "select current_user as me, current_setting('search_path') as path, current_setting('request.jwt.claims', true) as claims",
        );
        expect(rows[0]).toMatchObject({ me: acmeUser.dbUsername, path: '"tenant_acme"' });
        expect(rows[0]?.claims ?? '').toBe('');
        const titles = (await executor.run(globex, 'select title from notes')).rows.map((r) => r.title);
        expect(titles).not.toContain('acme secret');

        // A statement that leaves a transaction open, or drops the prepared statements, cannot
        // capture or break the next user's request on the connection.
        await expectCode(executor.run(globex, 'begin'), 'ERR_STATEMENT_REFUSED');
        const inserted = await executor.run(
          acme,
          "insert into notes (title) values ('after begin') returning id",
        );
        const committed = await stack.cluster.admin.query(
          'select count(*)::int as n from tenant_acme.notes where id = $1',
          [inserted.rows[0]?.id],
        );
        expect(committed.rows[0].n).toBe(1);
        await executor.run(globex, 'begin').catch(() => {});
        await executor.run(globex, 'select 1/0').catch(() => {});
        expect((await executor.run(acme, 'select 1 as ok')).rows).toEqual([{ ok: 1 }]);
        await expectCode(executor.run(globex, 'deallocate all'), 'ERR_STATEMENT_REFUSED');
        expect((await executor.run(acme, 'select 2 as ok')).rows).toEqual([{ ok: 2 }]);
      } finally {
        await executor.close();
      }
    });
  });

  describe('cross-tenant', () => {
    it("cannot read or write another tenant's schema by qualified name", async () => {
      await expectDenied(as(globexUser, 'select * from tenant_acme.notes'));
      await expectDenied(as(globexAdmin, "insert into tenant_acme.notes (title) values ('x')"));
      await expectDenied(as(globexAdmin, 'delete from tenant_acme.notes'));
      await expectDenied(as(globexAdmin, 'select tenant_acme.touch_updated_at()'));
    });
    it("cannot reach another tenant's data through its views or functions", async () => {
      await expectDenied(as(globexUser, 'select * from tenant_acme.my_notes'));
      await expectDenied(as(globexUser, 'select tenant_acme.note_count()'));
      await expectDenied(as(globexAdmin, 'select * from tenant_acme.my_notes'));
    });
    it('uses its own tenant through views and functions', async () => {
      await as(acmeUser2, "insert into notes (title) values ('mine')");
      expect((await as(acmeUser2, 'select title from my_notes')).rows).toEqual([{ title: 'mine' }]);
      const acmeCount = Number((await as(acmeUser2, 'select note_count() as n')).rows[0]?.n);
      const globexCount = Number((await as(globexUser, 'select note_count() as n')).rows[0]?.n);
      const { rows } = await stack.cluster.admin.query(
        'select (select count(*) from tenant_acme.notes)::int as a, (select count(*) from tenant_globex.notes)::int as g',
      );
      expect([acmeCount, globexCount]).toEqual([rows[0].a, rows[0].g]);
    });
    it('cannot read the template', async () => {
      await expectDenied(as(globexAdmin, 'select * from tenant_template.notes'));
    });
    it("template grants went to each tenant's roles, not to the global ones", async () => {
      const { rows } = await stack.cluster.admin.query(`
        select has_table_privilege('tenant_users', 'tenant_acme.notes', 'select') as global_users,
               has_table_privilege('tenant_admins', 'tenant_acme.notes', 'select') as global_admins,
               has_table_privilege('tenant_globex_users', 'tenant_acme.notes', 'select') as other_tenant,
               has_table_privilege('tenant_acme_users', 'tenant_acme.notes', 'select') as own_tenant`);
      expect(rows[0]).toEqual({
        global_users: false,
        global_admins: false,
        other_tenant: false,
        own_tenant: true,
      });
    });
    it("reads its own tenant's data through unqualified names", async () => {
      await as(acmeUser, "insert into notes (title) values ('acme secret')");
      await as(globexUser, "insert into notes (title) values ('globex note')");
      const acme = (await as(acmeUser, 'select title from notes')).rows.map((r) => r.title);
      const globex = (await as(globexUser, 'select title from notes')).rows.map((r) => r.title);
      expect(acme).toContain('acme secret');
      expect(acme).not.toContain('globex note');
      expect(globex).toEqual(['globex note']);
    });
  });
});
