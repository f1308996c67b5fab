import { BOND, CIA_LOOT, DIRECTOR, KERIM, M, MI6_LOOT, REAL_NAMES } from './agents-data.js';
import { many, type Attack, type Target } from './harness.js';

/**
 * SQL as the attacker's own database user, logged in with their own credentials (what an attacker
 * holding a user's secret, or any SQL foothold in credentials mode, can do): becoming another
 * role, reading other schemas, abusing the SECURITY DEFINER functions, planting objects that other
 * sessions would resolve (temporary tables, functions), large objects, server files and programs,
 * and rewriting the rules themselves (policies, RLS flags, grants, role attributes).
 */

const dbUser = async (t: Target, email: string) => (await t.user(email)).dbUsername as string;

export const sqlAttacks: Attack[] = [
  {
    name: 'SET ROLE and set_config(role) to a higher group role, another user, the owner and the superuser',
    category: 'sql',
    target: 'agents',
    async run(t) {
      const m = await dbUser(t, M);
      const director = await dbUser(t, DIRECTOR);
      const targets = [
        'tenant_mi6_admins',
        'tenant_admins',
        'tenant_managers',
        'application_admins',
        'tenant_cia_users',
        m,
        director,
        'cognition_owner',
        'cognition_authenticator',
        'postgres',
      ];
      return many(
        ...targets.map((role) => () => t.sql(KERIM, `set role "${role}"`)),
        ...targets.map((role) => () => t.sql(KERIM, "select set_config('role', $1, false)", [role])),
        () => t.sql(KERIM, `set session authorization "${m}"`),
        () => t.sql(KERIM, `select set_config('session_authorization', $1, false)`, [m]),
      );
    },
  },
  {
    name: "reading another tenant's schema, the template, and the system tables of secrets",
    category: 'sql',
    target: 'agents',
    secrets: () => [...CIA_LOOT],
    run: (t) =>
      many(
        () => t.sql(M, 'select * from tenant_cia.agents'),
        () => t.sql(M, 'select * from tenant_cia.messages'),
        () => t.sql(M, 'select * from "tenant_cia"."offices"'),
        () => t.sql(M, 'select * from tenant_template.agents'),
        () => t.sql(M, 'select rolname, rolpassword from pg_authid'),
        () => t.sql(M, 'select * from cognition.template_migrations'),
        () => t.sql(M, 'select * from cognition.tenant_migrations'),
      ),
  },
  {
    name: 'a user grants themself role attributes or memberships, or creates roles',
    category: 'sql',
    target: 'agents',
    run: (t) =>
      many(
        () => t.sql(KERIM, `alter role current_user bypassrls`),
        () => t.sql(KERIM, `alter role current_user createrole`),
        () => t.sql(KERIM, `alter role current_user superuser`),
        () => t.sql(KERIM, `alter role current_user replication`),
        () => t.sql(KERIM, `grant tenant_mi6_admins to current_user`),
        () => t.sql(KERIM, `grant tenant_managers to current_user`),
        () => t.sql(KERIM, `create role evil login password 'evil'`),
      ),
  },
  {
    name: 'session defaults a user may store for themself (role, session_authorization) do not take effect at the next login',
    category: 'sql',
    target: 'agents',
    secrets: () => REAL_NAMES,
    // Postgres lets any role store these defaults for itself (and ignores them at login when they
    // are not allowed): that row is the expected trace, reset afterwards.
    expectedChange: (c) => c.key === 'catalog:role_settings' || c.key === 'catalog:roles',
    async cleanup(t) {
      await t.admin.query(`alter role ${await dbUser(t, KERIM)} reset all`);
    },
    judge: async (outcome, t) => {
      const steps = outcome.kind === 'many' ? outcome.outcomes : [];
      const whoami = steps[2];
      const realNames = steps[3];
      const me = await dbUser(t, KERIM);
      const row = whoami?.kind === 'rows' ? whoami.rows[0] : undefined;
      if (row?.['current_user'] !== me || row?.['session_user'] !== me) {
        return { denied: false, why: `the next session runs as ${JSON.stringify(row)}` };
      }
      if (realNames?.kind !== 'error' || realNames.code !== '42501') {
        return { denied: false, why: `real names: ${JSON.stringify(realNames)}` };
      }
      return { denied: true, why: 'the next session is the user, and still refused real names' };
    },
    run: (t) =>
      many(
        () => t.sql(KERIM, `alter role current_user set role = 'tenant_mi6_admins'`),
        () => t.sql(KERIM, `alter role current_user set session_authorization = 'postgres'`),
        () => t.sql(KERIM, 'select current_user, session_user'),
        () => t.sql(KERIM, 'select real_name from agents'),
      ),
  },
  {
    name: 'SECURITY DEFINER functions of cognition called directly (membership, role sync, drop, provision, audit)',
    category: 'sql',
    target: 'agents',
    async run(t) {
      const kerim = await t.user(KERIM);
      const me = kerim.dbUsername as string;
      const verifier = 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy';
      return many(
        () => t.sql(KERIM, "select cognition.set_membership('tenant_mi6_admins', $1, true)", [me]),
        () =>
          t.sql(KERIM, "select cognition.sync_user_role($1, 'admin', $2, 'active')", [me, kerim.tenantId]),
        () => t.sql(KERIM, "select cognition.drop_managed_role('tenant_cia_admins')"),
        () => t.sql(KERIM, "select cognition.drop_tenant('cia')"),
        () => t.sql(KERIM, "select cognition.create_tenant_shell('evil', 'Evil')"),
        () => t.sql(KERIM, 'select cognition.set_authenticator_password($1)', [verifier]),
        () => t.sql(KERIM, 'select cognition.set_user_password($1, $2)', [kerim.id, verifier]),
        () =>
          t.sql(
            KERIM,
            "select cognition.provision_user(gen_random_uuid(), 'u_aaaaaaaaaaaaaaaaaaaaaaaa', $1, null)",
            [verifier],
          ),
        () => t.sql(KERIM, "select cognition.declare_tenant_roles(array['user'], 'user', null)"),
        () => t.sql(KERIM, "select cognition.enforce_read_only('tenant_cia', 'tenant_cia_users')"),
        () => t.sql(KERIM, "select cognition.audit('user.invited', null, null, '{}')"),
        () => t.sql(KERIM, 'select * from cognition.tenant_role_map($1)', [kerim.tenantId]),
        () => t.sql(KERIM, 'select check_agency_member()'),
      );
    },
  },
  {
    name: "planting objects for other sessions: temporary tables, functions and operators, tables in one's own schema",
    category: 'sql',
    target: 'agents',
    run: (t) =>
      many(
        () => t.sql(KERIM, 'create temp table agents (codename text)'),
        () =>
          t.sql(
            KERIM,
            'create function pg_temp.my_user_id() returns uuid language sql as $$ select null::uuid $$',
          ),
        () => t.sql(KERIM, 'create function public.lower(text) returns text language sql as $$ select $1 $$'),
        () => t.sql(KERIM, 'create table public.spy (x text)'),
        () => t.sql(KERIM, 'create table agents_copy as select codename from agents'),
        () => t.sql(KERIM, 'create view my_agents as select * from agents'),
        () => t.sql(KERIM, 'create schema evil'),
        () =>
          t.sql(
            KERIM,
            "create function cognition.my_role() returns text language sql as $f$ select 'admin' $f$",
          ),
        () =>
          t.sql(
            KERIM,
            "create or replace function cognition.my_role() returns text language sql as $f$ select 'admin' $f$",
          ),
      ),
  },
  {
    name: 'large objects, server files and programs, extensions',
    category: 'sql',
    target: 'agents',
    run: (t) =>
      many(
        () => t.sql(BOND, 'select lo_create(0)'),
        () => t.sql(BOND, 'select lo_creat(-1)'),
        () => t.sql(BOND, "select lo_from_bytea(0, 'x')"),
        () => t.sql(BOND, "select lo_import('/etc/passwd')"),
        () => t.sql(BOND, "select pg_read_file('/etc/passwd')"),
        () => t.sql(BOND, "select pg_ls_dir('.')"),
        () => t.sql(BOND, "copy (select 1) to program 'id'"),
        () => t.sql(BOND, "copy (select codename from agents) to '/tmp/agents.csv'"),
        // pgcrypto is a trusted extension: anyone with CREATE on the database may install it.
        () => t.sql(BOND, 'create extension pgcrypto with schema tenant_mi6'),
        () =>
          t.sql(BOND, 'select pg_terminate_backend(pid) from pg_stat_activity where usename <> current_user'),
      ),
  },
  {
    name: 'rewriting the rules: policies, RLS flags, grants, triggers and ownership of a tenant table',
    category: 'sql',
    target: 'agents',
    secrets: () => MI6_LOOT,
    run: (t) =>
      many(
        () => t.sql(M, 'alter policy agents_read on agents using (true)'),
        () => t.sql(M, 'create policy open_messages on messages for select using (true)'),
        () => t.sql(M, 'drop policy messages_read on messages'),
        () => t.sql(M, 'alter table messages disable row level security'),
        () => t.sql(M, 'alter table messages no force row level security'),
        () => t.sql(M, 'alter table messages disable trigger all'),
        () => t.sql(M, 'grant select on messages to public'),
        () => t.sql(M, 'grant tenant_mi6_admins to current_user'),
        () => t.sql(M, 'alter table messages owner to current_user'),
        () => t.sql(M, 'alter function cognition.me() owner to current_user'),
        () => t.sql(M, 'truncate messages'),
      ),
  },
  {
    name: "role-switch executor: a resolver statement that switches the shared connection to another user's role",
    category: 'sql',
    target: 'agents',
    secrets: () => REAL_NAMES,
    // The authenticator is a member of every user's role, so Postgres itself would let such a
    // statement become another user; the executor refuses it before it is sent.
    async run(t) {
      const lead = await dbUser(t, M);
      const director = await dbUser(t, DIRECTOR);
      return many(
        () =>
          t.runAs(
            KERIM,
            `select set_config('role', $1, true) as r, query_to_xml('select real_name from agents', true, false, '')::text as x`,
            [lead],
          ),
        () =>
          t.runAs(
            KERIM,
            `select set_config('role', $1, true) as r, query_to_xml('select real_name from tenant_cia.agents', true, false, '')::text as x`,
            [director],
          ),
        // Not only set_config: any statement that can run SET ROLE, such as a DO block, and that
        // can write as the other user or carry what it read out in an error message.
        () =>
          t.runAs(
            KERIM,
            `do $$ declare r text; begin execute format('set local role %I', '${lead}');
             select string_agg(real_name, ',') into r from agents; raise exception 'loot: %', r; end $$`,
          ),
      );
    },
  },
];
