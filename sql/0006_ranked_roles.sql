-- Tenant roles declared by the application, in order of rank (for example
-- Admin > SuperUser > Member > ReadOnly), replacing the fixed pair admin > user.
--
-- Each declared role has a global role `tenant_<name>s` and, per tenant, a role
-- `tenant_<slug>_<name>s` that inherits it; `admin` and `user` keep the names they always had
-- (tenant_admins, tenant_<slug>_admins, …). The name, as declared, is also the Cognito group.
--
-- Every global tenant role is a member of tenant_users (the base privileges on cognition.*);
-- the global role of every rank that may manage users is a member of tenant_managers, which
-- holds the user-management privileges that tenant_admins held before. Rank rules live in the
-- policies: a manager sees and changes only users at or below their own rank, and may give no
-- one a rank above their own.
--
-- Within a tenant a role is a member of every lower role, except that a read-only role is a
-- member of lower read-only roles only, and it never holds a write privilege in its tenant's
-- schema (cognition.enforce_read_only strips them after every clone and template migration).
set local role cognition_owner;

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'tenant_managers') then
    create role tenant_managers nologin;
  end if;
end
$$;

create table cognition.tenant_roles (
  name text primary key,
  rank integer not null,
  manages_users boolean not null default false,
  read_only boolean not null default false,
  global_role text not null unique,
  -- The lower-cased name becomes part of identifiers: with a 39-byte slug,
  -- "tenant_<slug>_<name>s" stays within Postgres's 63 bytes.
  constraint tenant_roles_name_format check (name ~ '^[A-Za-z][A-Za-z0-9]{0,14}$' and lower(name) <> 'application'),
  constraint tenant_roles_rank_positive check (rank > 0),
  constraint tenant_roles_manager_writes check (not (manages_users and read_only)),
  constraint tenant_roles_rank_key unique (rank) deferrable initially deferred
);
create unique index tenant_roles_lower_name_key on cognition.tenant_roles (lower(name));

comment on table cognition.tenant_roles is 'The tenant roles the application declares, highest rank first when ordered by rank desc.';

insert into cognition.tenant_roles (name, rank, manages_users, read_only, global_role)
values ('admin', 2, true, false, 'tenant_admins'), ('user', 1, false, false, 'tenant_users');

alter table cognition.tenant_roles enable row level security;
alter table cognition.tenant_roles force row level security;
create policy owner_all on cognition.tenant_roles to cognition_owner using (true) with check (true);
create policy everyone_reads on cognition.tenant_roles for select to application_admins, tenant_users using (true);
revoke all on cognition.tenant_roles from public;
grant select on cognition.tenant_roles to application_admins, tenant_users;

alter table cognition.users drop constraint users_role_valid;

-- The per-tenant database role of a declared role.
create function cognition.tenant_db_role(p_slug text, p_role text) returns text
  language sql immutable parallel safe
as $$ select 'tenant_' || p_slug || '_' || lower(p_role) || 's' $$;

-- The rank of a role name (null for application_admin or an undeclared name). Plain SQL, so
-- that policies inline it.
create function cognition.role_rank(p_role text) returns integer
  language sql stable parallel safe
as $$ select r.rank from cognition.tenant_roles r where r.name = p_role $$;

alter type cognition.identity add attribute rank integer, add attribute manages_users boolean;

create or replace function cognition.me() returns cognition.identity
  language sql stable security definer parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select u.id, u.tenant_id, u.role, t.schema_name, r.rank, coalesce(r.manages_users, false)
  from cognition.users u
  left join cognition.tenants t on t.id = u.tenant_id
  left join cognition.tenant_roles r on r.name = u.role and u.tenant_id is not null
  where u.db_username = cognition.caller()
    and u.status = 'active'
    and (u.tenant_id is null or t.status = 'active')
$$;

create function cognition.my_rank() returns integer
  language sql stable parallel safe
as $$ select (cognition.me()).rank $$;

create function cognition.my_manages_users() returns boolean
  language sql stable parallel safe
as $$ select coalesce((cognition.me()).manages_users, false) $$;

create or replace function cognition.granted_role_for(p_role text, p_tenant_id uuid) returns text
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select case
    when p_role = 'application_admin' then 'application_admins'
    else (select cognition.tenant_db_role(t.slug, r.name)
          from cognition.tenants t, cognition.tenant_roles r
          where t.id = p_tenant_id and r.name = p_role)
  end
$$;

-- Grants or revokes one membership, only when it differs (no notices, no needless catalog writes).
create function cognition.set_membership(p_group text, p_member text, p_want boolean) returns void
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_has boolean := exists (
    select from pg_auth_members m
    join pg_roles g on g.oid = m.roleid join pg_roles u on u.oid = m.member
    where g.rolname = p_group and u.rolname = p_member
  );
begin
  if p_want and not v_has then
    execute format('grant %I to %I', p_group, p_member);
  elsif not p_want and v_has then
    execute format('revoke %I from %I', p_group, p_member);
  end if;
end
$$;

-- Removes every write privilege a role holds in a schema: a read-only role may read and call,
-- never change data. Revoking at table level also revokes the column privileges.
create function cognition.enforce_read_only(p_schema text, p_role text) returns void
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  execute format('revoke insert, update, delete, truncate on all tables in schema %I from %I', p_schema, p_role);
  execute format('revoke usage, update on all sequences in schema %I from %I', p_schema, p_role);
  execute format('revoke create on schema %I from %I', p_schema, p_role);
end
$$;

-- Creates a tenant's missing roles and makes their memberships match the declaration. Used
-- when a tenant is created and when the declaration changes.
create function cognition.sync_tenant_roles(p_tenant_id uuid) returns void
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_tenant cognition.tenants;
  r record;
  l record;
  v_role text;
begin
  select * into v_tenant from cognition.tenants where id = p_tenant_id;
  if not found then
    return;
  end if;
  for r in select * from cognition.tenant_roles order by rank loop
    v_role := cognition.tenant_db_role(v_tenant.slug, r.name);
    if not exists (select from pg_roles where rolname = v_role) then
      execute format('create role %I nologin', v_role);
    end if;
    perform cognition.set_membership(r.global_role, v_role, true);
    if v_tenant.status = 'active' then
      execute format('grant usage on schema %I to %I', v_tenant.schema_name, v_role);
    end if;
    -- Lower roles are included; a higher one (after a change of ranks) no longer is.
    for l in select * from cognition.tenant_roles where name <> r.name loop
      perform cognition.set_membership(cognition.tenant_db_role(v_tenant.slug, l.name), v_role,
        l.rank < r.rank and (not r.read_only or l.read_only));
    end loop;
    if r.read_only then
      perform cognition.enforce_read_only(v_tenant.schema_name, v_role);
    end if;
  end loop;
end
$$;

-- Replaces the declaration: roles in order of rank, highest first; those from p_manage_from
-- upwards manage users; those in p_read_only are read-only. A role still held by a user
-- cannot be dropped from it. Existing tenants get the new roles and memberships.
create function cognition.declare_tenant_roles(p_roles text[], p_manage_from text, p_read_only text[])
  returns setof cognition.tenant_roles
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_count integer := coalesce(array_length(p_roles, 1), 0);
  v_manage_at integer;
  v_name text;
  v_global text;
  v_old cognition.tenant_roles;
  v_tenant record;
  i integer;
begin
  if v_count = 0 then
    raise exception 'ERR_INVALID_ROLE: declare at least one tenant role' using errcode = '22023';
  end if;
  if (select count(distinct lower(n)) from unnest(p_roles) n) <> v_count then
    raise exception 'ERR_INVALID_ROLE: tenant role names must be unique (case-insensitively)' using errcode = '22023';
  end if;
  foreach v_name in array p_roles loop
    if v_name is null or v_name !~ '^[A-Za-z][A-Za-z0-9]{0,14}$' or lower(v_name) = 'application' then
      raise exception 'ERR_INVALID_ROLE: a tenant role name is a letter and up to 14 letters or digits'
        using errcode = '22023';
    end if;
  end loop;
  v_manage_at := array_position(p_roles, p_manage_from);
  if v_manage_at is null then
    raise exception 'ERR_INVALID_ROLE: the rank that manages users must be one of the declared roles'
      using errcode = '22023';
  end if;
  if exists (select from unnest(coalesce(p_read_only, '{}')) n where not n = any (p_roles)) then
    raise exception 'ERR_INVALID_ROLE: a read-only role must be one of the declared roles' using errcode = '22023';
  end if;
  if exists (select from unnest(coalesce(p_read_only, '{}')) n where array_position(p_roles, n) <= v_manage_at) then
    raise exception 'ERR_INVALID_ROLE: a role that manages users cannot be read-only' using errcode = '22023';
  end if;

  for v_old in select * from cognition.tenant_roles where not name = any (p_roles) for update loop
    if exists (select from cognition.users where role = v_old.name and status <> 'removed') then
      raise exception 'ERR_ROLE_IN_USE: tenant role % is still held by users', v_old.name using errcode = '23503';
    end if;
    for v_tenant in select slug from cognition.tenants loop
      perform cognition.drop_managed_role(cognition.tenant_db_role(v_tenant.slug, v_old.name));
    end loop;
    delete from cognition.tenant_roles where name = v_old.name;
    -- tenant_admins and tenant_users are part of the cognition schema's grants; they stay.
    if v_old.global_role not in ('tenant_admins', 'tenant_users') then
      perform cognition.drop_managed_role(v_old.global_role);
    end if;
  end loop;

  for i in 1 .. v_count loop
    v_name := p_roles[i];
    v_global := 'tenant_' || lower(v_name) || 's';
    insert into cognition.tenant_roles as t (name, rank, manages_users, read_only, global_role)
    values (v_name, v_count - i + 1, i <= v_manage_at, v_name = any (coalesce(p_read_only, '{}')), v_global)
    on conflict (name) do update
      set rank = excluded.rank, manages_users = excluded.manages_users, read_only = excluded.read_only;
    if not exists (select from pg_roles where rolname = v_global) then
      execute format('create role %I nologin', v_global);
    end if;
    if v_global <> 'tenant_users' then
      perform cognition.set_membership('tenant_users', v_global, true);
    end if;
    perform cognition.set_membership('tenant_managers', v_global, i <= v_manage_at);
  end loop;
  set constraints cognition.tenant_roles_rank_key immediate;

  for v_tenant in select id from cognition.tenants loop
    perform cognition.sync_tenant_roles(v_tenant.id);
  end loop;
  perform cognition.audit('tenant_roles.declared', null, null,
    jsonb_build_object('roles', to_jsonb(p_roles), 'manage_from', p_manage_from, 'read_only', to_jsonb(p_read_only)));
  return query select * from cognition.tenant_roles order by rank desc;
end
$$;

-- The existing pair: admin manages users, both inherit the base privileges.
grant tenant_users to tenant_admins;
grant tenant_managers to tenant_admins;

-- Every writer's role must be declared (or application_admin).
create or replace function cognition.users_before_write() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  if (tg_op = 'INSERT' or new.role is distinct from old.role)
     and new.role <> 'application_admin'
     and not exists (select from cognition.tenant_roles r where r.name = new.role) then
    raise exception 'ERR_INVALID_ROLE: % is not a declared tenant role', new.role using errcode = '23514';
  end if;
  if tg_op = 'INSERT' then
    if new.status <> 'invited' or new.db_username is not null then
      raise exception 'ERR_INVALID_TRANSITION: a new user starts as invited, without a database role'
        using errcode = '23514';
    end if;
    new.invited_by := coalesce(new.invited_by, cognition.my_user_id());
    new.created_at := now();
    new.updated_at := now();
    return new;
  end if;

  if old.status = 'removed' then
    raise exception 'ERR_USER_REMOVED: a removed user cannot be changed' using errcode = '23514';
  end if;
  if new.id <> old.id then
    raise exception 'ERR_INVALID_ARGUMENT: a user id never changes' using errcode = '23514';
  end if;
  if new.db_username is distinct from old.db_username
     and old.db_username is not null and new.status <> 'removed' then
    raise exception 'ERR_INVALID_ARGUMENT: a database username never changes' using errcode = '23514';
  end if;
  if new.status <> old.status and (old.status, new.status) not in (
    ('invited', 'active'), ('invited', 'removed'),
    ('active', 'suspended'), ('suspended', 'active'),
    ('active', 'removed'), ('suspended', 'removed')
  ) then
    raise exception 'ERR_INVALID_TRANSITION: a user cannot go from % to %', old.status, new.status
      using errcode = '23514';
  end if;
  if new.status = 'active' and old.status = 'invited' then
    if new.db_username is null then
      raise exception 'ERR_INVALID_TRANSITION: an invited user becomes active only by being provisioned'
        using errcode = '23514';
    end if;
    new.activated_at := now();
  end if;
  if new.status = 'removed' then
    new.db_username := null;
    new.idp_subject := null;
  end if;
  new.updated_at := now();
  return new;
end
$$;

create or replace function cognition.create_tenant_shell(p_slug text, p_name text) returns cognition.tenants
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_tenant cognition.tenants;
  v_schema text := 'tenant_' || p_slug;
begin
  if p_slug is null or p_slug !~ '^[a-z][a-z0-9_]{0,39}$' or p_slug = 'template' then
    raise exception 'ERR_INVALID_SLUG: invalid tenant slug' using errcode = '22023';
  end if;
  if exists (select from cognition.tenants where slug = p_slug) then
    raise exception 'ERR_TENANT_EXISTS: tenant % already exists', p_slug using errcode = '23505';
  end if;
  if exists (select from pg_roles where rolname in (select cognition.tenant_db_role(p_slug, name) from cognition.tenant_roles))
     or exists (select from pg_namespace where nspname = v_schema) then
    raise exception 'ERR_TENANT_EXISTS: a schema or role for tenant % already exists', p_slug
      using errcode = '23505';
  end if;
  -- admin_role and user_role record the highest and lowest declared ranks at creation.
  insert into cognition.tenants (slug, name, schema_name, admin_role, user_role)
  values (
    p_slug, p_name, v_schema,
    cognition.tenant_db_role(p_slug, (select name from cognition.tenant_roles order by rank desc limit 1)),
    cognition.tenant_db_role(p_slug, (select name from cognition.tenant_roles order by rank limit 1))
  )
  returning * into v_tenant;
  execute format('create schema %I authorization cognition_owner', v_schema);
  perform cognition.sync_tenant_roles(v_tenant.id);
  perform cognition.audit('tenant.created', v_tenant.id, null,
    jsonb_build_object('slug', p_slug, 'name', p_name));
  return v_tenant;
end
$$;

-- The global role -> tenant role pairs of a tenant, for mapping the template's grants.
create function cognition.tenant_role_map(p_tenant_id uuid)
  returns table (global_role text, tenant_role text, read_only boolean)
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select r.global_role, cognition.tenant_db_role(t.slug, r.name), r.read_only
  from cognition.tenants t, cognition.tenant_roles r
  where t.id = p_tenant_id
  order by r.rank desc
$$;

create or replace function cognition.tenants_after_update() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user record;
  v_role text;
begin
  if new.status is distinct from old.status then
    for v_user in
      select db_username, role, status from cognition.users
      where tenant_id = new.id and db_username is not null
    loop
      perform cognition.sync_user_role(v_user.db_username, v_user.role, new.id, v_user.status);
    end loop;
    for v_role in select m.tenant_role from cognition.tenant_role_map(new.id) m loop
      if new.status = 'active' then
        execute format('grant usage on schema %I to %I', new.schema_name, v_role);
      else
        execute format('revoke usage on schema %I from %I', new.schema_name, v_role);
      end if;
    end loop;
    perform cognition.audit('tenant.' || new.status, new.id, null,
      jsonb_build_object('from', old.status, 'to', new.status));
  end if;
  if new.name is distinct from old.name then
    perform cognition.audit('tenant.renamed', new.id, null, jsonb_build_object('from', old.name, 'to', new.name));
  end if;
  return null;
end
$$;

create or replace function cognition.drop_tenant(p_slug text) returns setof uuid
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_tenant cognition.tenants;
  v_user record;
  v_role text;
begin
  select * into v_tenant from cognition.tenants where slug = p_slug for update;
  if not found then
    raise exception 'ERR_TENANT_NOT_FOUND: no tenant %', p_slug using errcode = 'P0002';
  end if;
  for v_user in select id, db_username from cognition.users where tenant_id = v_tenant.id for update loop
    if v_user.db_username is not null then
      perform cognition.drop_managed_role(v_user.db_username);
    end if;
    return next v_user.id;
  end loop;
  execute format('drop schema if exists %I cascade', v_tenant.schema_name);
  for v_role in
    select m.tenant_role from cognition.tenant_role_map(v_tenant.id) m
    union select v_tenant.admin_role union select v_tenant.user_role
  loop
    perform cognition.drop_managed_role(v_role);
  end loop;
  delete from cognition.users where tenant_id = v_tenant.id;
  delete from cognition.tenants where id = v_tenant.id;
  perform cognition.audit('tenant.dropped', v_tenant.id, null, jsonb_build_object('slug', p_slug));
end
$$;

revoke execute on function cognition.tenant_db_role(text, text), cognition.role_rank(text),
  cognition.my_rank(), cognition.my_manages_users(), cognition.enforce_read_only(text, text), cognition.set_membership(text, text, boolean),
  cognition.sync_tenant_roles(uuid), cognition.declare_tenant_roles(text[], text, text[]),
  cognition.tenant_role_map(uuid)
  from public;
grant execute on function cognition.role_rank(text), cognition.my_rank(), cognition.my_manages_users(),
  cognition.tenant_db_role(text, text)
  to application_admins, tenant_users;

-- User management moves from tenant_admins to tenant_managers, with rank rules.
revoke insert (tenant_id, email, role, given_name, family_name, preferences) on cognition.users from tenant_admins;
revoke update (email, role, status, given_name, family_name, preferences) on cognition.users from tenant_admins;
revoke update (name) on cognition.tenants from tenant_admins;
grant select on cognition.tenants, cognition.users, cognition.audit_log to tenant_managers;
grant update (name) on cognition.tenants to tenant_managers;
grant insert (tenant_id, email, role, given_name, family_name, preferences) on cognition.users to tenant_managers;
grant update (email, role, status, given_name, family_name, preferences) on cognition.users to tenant_managers;
grant usage on schema cognition to tenant_managers;

drop policy admin_rename on cognition.tenants;
drop policy admin_read on cognition.users;
drop policy admin_invite on cognition.users;
drop policy admin_update on cognition.users;
drop policy admin_read on cognition.audit_log;

create policy manager_rename on cognition.tenants for update to tenant_managers
  using (id = (select cognition.my_tenant_id()) and (select cognition.my_manages_users()))
  with check (id = (select cognition.my_tenant_id()));
create policy manager_read on cognition.users for select to tenant_managers
  using (tenant_id = (select cognition.my_tenant_id()) and (select cognition.my_manages_users()));
create policy manager_invite on cognition.users for insert to tenant_managers
  with check (
    tenant_id = (select cognition.my_tenant_id())
    and (select cognition.my_manages_users())
    and cognition.role_rank(role) <= (select cognition.my_rank())
  );
-- USING: only users at or below the manager's rank; CHECK: and they stay there.
create policy manager_update on cognition.users for update to tenant_managers
  using (
    tenant_id = (select cognition.my_tenant_id())
    and (select cognition.my_manages_users())
    and cognition.role_rank(role) <= (select cognition.my_rank())
  )
  with check (
    tenant_id = (select cognition.my_tenant_id())
    and cognition.role_rank(role) <= (select cognition.my_rank())
  );
create policy manager_read on cognition.audit_log for select to tenant_managers
  using (tenant_id = (select cognition.my_tenant_id()) and (select cognition.my_manages_users()));

-- Permissive policies are OR'ed: a manager's column privileges on role would otherwise combine
-- with the self-service policy and let anyone who manages users raise their own rank.
drop policy self_update on cognition.users;
create policy self_update on cognition.users for update to tenant_users
  using (id = (select cognition.my_user_id()))
  with check (
    id = (select cognition.my_user_id())
    and role = (select cognition.my_role())
    and tenant_id = (select cognition.my_tenant_id())
  );
