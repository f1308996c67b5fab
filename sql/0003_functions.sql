set local role cognition_owner;

alter table cognition.users
  add constraint users_db_username_format check (db_username ~ '^u_[a-z0-9]{24}$');

-- The role a statement runs as. Inside a SECURITY DEFINER function current_user is the
-- definer, so the caller is read from the session's role setting instead: SET ROLE (the
-- role-switch executor) or, when no role is set, the login role (the credentials executor).
create function cognition.caller() returns text
  language sql stable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select coalesce(nullif(current_setting('role'), 'none'), session_user::text)
$$;

-- Who the caller is, for RLS policies: one SECURITY DEFINER lookup, so that it reads
-- cognition.users under the owner's policy and never re-enters the policies that call it.
-- Policies wrap the my_* helpers in a sub-select, so the lookup runs once per statement, not
-- once per row. Nothing here reads pg_authid (not readable on RDS/Aurora). A user counts only
-- while active and, for a tenant user, while the tenant is active.
create type cognition.identity as (user_id uuid, tenant_id uuid, role text, schema_name text);

create function cognition.me() returns cognition.identity
  language sql stable security definer parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select u.id, u.tenant_id, u.role, t.schema_name
  from cognition.users u
  left join cognition.tenants t on t.id = u.tenant_id
  where u.db_username = cognition.caller()
    and u.status = 'active'
    and (u.tenant_id is null or t.status = 'active')
$$;

-- Plain SQL wrappers (no SET clause), so the planner inlines them into the policies.
create function cognition.my_user_id() returns uuid
  language sql stable parallel safe
as $$ select (cognition.me()).user_id $$;

create function cognition.my_tenant_id() returns uuid
  language sql stable parallel safe
as $$ select (cognition.me()).tenant_id $$;

create function cognition.my_role() returns text
  language sql stable parallel safe
as $$ select (cognition.me()).role $$;

create function cognition.my_schema() returns text
  language sql stable parallel safe
as $$ select (cognition.me()).schema_name $$;

alter table cognition.users alter column tenant_id set default cognition.my_tenant_id();

-- The roles a user's database role should be a member of, given its row.
create function cognition.granted_role_for(p_role text, p_tenant_id uuid) returns text
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select case p_role
    when 'application_admin' then 'application_admins'
    when 'admin' then (select t.admin_role from cognition.tenants t where t.id = p_tenant_id)
    when 'user' then (select t.user_role from cognition.tenants t where t.id = p_tenant_id)
  end
$$;

-- Makes a user's database role match its row: active users hold exactly the role for their
-- tenant and rank and may log in; anyone else holds nothing and may not log in. Because
-- privileges are checked on every statement, this takes effect on the very next query, also
-- on connections that are already open.
create function cognition.sync_user_role(p_db_username text, p_role text, p_tenant_id uuid, p_status text)
  returns void
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_granted text;
  v_want text;
begin
  if p_db_username is null or not exists (select from pg_roles where rolname = p_db_username) then
    return;
  end if;
  -- A suspended tenant suspends all of its users.
  v_want := case
    when p_status = 'active'
      and (p_tenant_id is null or exists (
        select from cognition.tenants t where t.id = p_tenant_id and t.status = 'active'))
    then cognition.granted_role_for(p_role, p_tenant_id)
  end;
  for v_granted in
    select g.rolname
    from pg_auth_members m
    join pg_roles g on g.oid = m.roleid
    join pg_roles u on u.oid = m.member
    where u.rolname = p_db_username
  loop
    if v_want is null or v_granted <> v_want then
      execute format('revoke %I from %I', v_granted, p_db_username);
    end if;
  end loop;
  if v_want is not null then
    if not exists (
      select from pg_auth_members m
      join pg_roles g on g.oid = m.roleid
      join pg_roles u on u.oid = m.member
      where u.rolname = p_db_username and g.rolname = v_want
    ) then
      execute format('grant %I to %I', v_want, p_db_username);
    end if;
    execute format('alter role %I login', p_db_username);
    if not pg_has_role('cognition_authenticator', p_db_username, 'MEMBER') then
      execute format('grant %I to cognition_authenticator', p_db_username);
    end if;
  else
    execute format('alter role %I nologin', p_db_username);
    -- The role-switch executor can no longer become this user at all, and the user's open
    -- connections (credentials mode) are closed: even a query that touches no table fails.
    if pg_has_role('cognition_authenticator', p_db_username, 'MEMBER') then
      execute format('revoke %I from cognition_authenticator', p_db_username);
    end if;
    perform pg_terminate_backend(a.pid)
    from pg_stat_activity a
    where a.usename = p_db_username and a.pid <> pg_backend_pid();
  end if;
end
$$;

create function cognition.audit(p_action text, p_tenant_id uuid, p_user_id uuid, p_detail jsonb)
  returns void
  language sql security definer
  set search_path = pg_catalog, pg_temp
as $$
  insert into cognition.audit_log (actor, action, tenant_id, user_id, detail)
  values (cognition.caller(), p_action, p_tenant_id, p_user_id, coalesce(p_detail, '{}'::jsonb))
$$;

-- Checks that hold for every writer, application admins included.
create function cognition.users_before_write() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
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
    -- The role is dropped after the row is written; the row stays as the audit record.
    new.db_username := null;
    new.idp_subject := null;
  end if;
  new.updated_at := now();
  return new;
end
$$;

create function cognition.users_after_write() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_op = 'INSERT' then
    perform cognition.audit('user.invited', new.tenant_id, new.id,
      jsonb_build_object('email', new.email, 'role', new.role));
    return null;
  end if;
  if tg_op = 'DELETE' then
    perform cognition.audit('user.deleted', old.tenant_id, old.id, jsonb_build_object('email', old.email));
    return null;
  end if;

  if new.status = 'removed' and old.db_username is not null then
    if exists (select from pg_roles where rolname = old.db_username) then
      execute format('drop role %I', old.db_username);
    end if;
  elsif new.db_username is not null and (
    new.status is distinct from old.status or new.role is distinct from old.role
    or new.tenant_id is distinct from old.tenant_id or new.db_username is distinct from old.db_username
  ) then
    perform cognition.sync_user_role(new.db_username, new.role, new.tenant_id, new.status);
  end if;

  if new.status is distinct from old.status then
    perform cognition.audit('user.' || case new.status
        when 'active' then case old.status when 'invited' then 'provisioned' else 'reactivated' end
        else new.status end,
      new.tenant_id, new.id, jsonb_build_object('from', old.status, 'to', new.status));
  end if;
  if new.role is distinct from old.role or new.tenant_id is distinct from old.tenant_id
     or new.email is distinct from old.email then
    perform cognition.audit('user.changed', new.tenant_id, new.id, jsonb_strip_nulls(jsonb_build_object(
      'role', case when new.role is distinct from old.role then jsonb_build_array(old.role, new.role) end,
      'tenant_id', case when new.tenant_id is distinct from old.tenant_id
        then jsonb_build_array(old.tenant_id, new.tenant_id) end,
      'email', case when new.email is distinct from old.email then jsonb_build_array(old.email, new.email) end
    )));
  end if;
  return null;
end
$$;

create trigger users_before_write before insert or update on cognition.users
  for each row execute function cognition.users_before_write();
create trigger users_after_write after insert or update or delete on cognition.users
  for each row execute function cognition.users_after_write();

create function cognition.tenants_before_update() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  if (new.slug, new.schema_name, new.admin_role, new.user_role, new.id)
     is distinct from (old.slug, old.schema_name, old.admin_role, old.user_role, old.id) then
    raise exception 'ERR_INVALID_ARGUMENT: a tenant''s slug, schema and roles never change'
      using errcode = '23514';
  end if;
  new.updated_at := now();
  return new;
end
$$;

-- A suspended tenant's users are suspended with it (their roles lose the tenant role and
-- their login), and its roles lose USAGE on its schema; reactivation restores both.
create function cognition.tenants_after_update() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user record;
begin
  if new.status is distinct from old.status then
    for v_user in
      select db_username, role, status from cognition.users
      where tenant_id = new.id and db_username is not null
    loop
      perform cognition.sync_user_role(v_user.db_username, v_user.role, new.id, v_user.status);
    end loop;
    if new.status = 'active' then
      execute format('grant usage on schema %I to %I, %I', new.schema_name, new.admin_role, new.user_role);
    else
      execute format('revoke usage on schema %I from %I, %I', new.schema_name, new.admin_role, new.user_role);
    end if;
    perform cognition.audit('tenant.' || new.status, new.id, null,
      jsonb_build_object('from', old.status, 'to', new.status));
  end if;
  if new.name is distinct from old.name then
    perform cognition.audit('tenant.renamed', new.id, null, jsonb_build_object('from', old.name, 'to', new.name));
  end if;
  return null;
end
$$;

create trigger tenants_before_update before update on cognition.tenants
  for each row execute function cognition.tenants_before_update();
create trigger tenants_after_update after update on cognition.tenants
  for each row execute function cognition.tenants_after_update();

-- Creates a tenant's row, schema and roles (the clone of tenant_template is added by the
-- caller in the same transaction). SECURITY DEFINER so that cognition_owner creates, and so
-- administers, the roles whoever calls it.
create function cognition.create_tenant_shell(p_slug text, p_name text) returns cognition.tenants
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_tenant cognition.tenants;
  v_schema text := 'tenant_' || p_slug;
  v_admins text := 'tenant_' || p_slug || '_admins';
  v_users text := 'tenant_' || p_slug || '_users';
begin
  if p_slug is null or p_slug !~ '^[a-z][a-z0-9_]{0,39}$' or p_slug = 'template' then
    raise exception 'ERR_INVALID_SLUG: invalid tenant slug' using errcode = '22023';
  end if;
  if exists (select from cognition.tenants where slug = p_slug) then
    raise exception 'ERR_TENANT_EXISTS: tenant % already exists', p_slug using errcode = '23505';
  end if;
  if exists (select from pg_roles where rolname in (v_admins, v_users))
     or exists (select from pg_namespace where nspname = v_schema) then
    raise exception 'ERR_TENANT_EXISTS: a schema or role for tenant % already exists', p_slug
      using errcode = '23505';
  end if;
  insert into cognition.tenants (slug, name, schema_name, admin_role, user_role)
  values (p_slug, p_name, v_schema, v_admins, v_users)
  returning * into v_tenant;

  execute format('create role %I nologin', v_users);
  execute format('create role %I nologin', v_admins);
  execute format('grant tenant_users to %I', v_users);
  execute format('grant tenant_admins to %I', v_admins);
  execute format('grant %I to %I', v_users, v_admins);
  execute format('create schema %I authorization cognition_owner', v_schema);
  execute format('grant usage on schema %I to %I, %I', v_schema, v_admins, v_users);
  perform cognition.audit('tenant.created', v_tenant.id, null,
    jsonb_build_object('slug', p_slug, 'name', p_name));
  return v_tenant;
end
$$;

-- Drops a tenant with its schema, its roles and its users' roles. Returns the ids of its
-- users so that the caller can delete their secrets within the same transaction.
create function cognition.drop_tenant(p_slug text) returns setof uuid
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_tenant cognition.tenants;
  v_user record;
begin
  select * into v_tenant from cognition.tenants where slug = p_slug for update;
  if not found then
    raise exception 'ERR_TENANT_NOT_FOUND: no tenant %', p_slug using errcode = 'P0002';
  end if;
  for v_user in select id, db_username from cognition.users where tenant_id = v_tenant.id for update loop
    if v_user.db_username is not null and exists (select from pg_roles where rolname = v_user.db_username) then
      execute format('drop role %I', v_user.db_username);
    end if;
    return next v_user.id;
  end loop;
  execute format('drop schema if exists %I cascade', v_tenant.schema_name);
  execute format('drop role if exists %I', v_tenant.admin_role);
  execute format('drop role if exists %I', v_tenant.user_role);
  delete from cognition.users where tenant_id = v_tenant.id;
  delete from cognition.tenants where id = v_tenant.id;
  perform cognition.audit('tenant.dropped', v_tenant.id, null, jsonb_build_object('slug', p_slug));
end
$$;

-- Creates the login role of an invited user and activates it. The password arrives as a
-- SCRAM-SHA-256 verifier, so the plaintext never reaches the server or its logs.
create function cognition.provision_user(p_user_id uuid, p_db_username text, p_verifier text, p_subject text)
  returns cognition.users
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user cognition.users;
begin
  select * into v_user from cognition.users where id = p_user_id for update;
  if not found then
    raise exception 'ERR_USER_NOT_FOUND: no such user' using errcode = 'P0002';
  end if;
  if v_user.status <> 'invited' then
    raise exception 'ERR_NOT_INVITED: only an invited user can be provisioned (this one is %)', v_user.status
      using errcode = '23514';
  end if;
  if v_user.tenant_id is not null
     and not exists (select from cognition.tenants where id = v_user.tenant_id and status = 'active') then
    raise exception 'ERR_TENANT_INACTIVE: the user''s tenant is not active' using errcode = '23514';
  end if;
  if p_db_username !~ '^u_[a-z0-9]{24}$' then
    raise exception 'ERR_INVALID_ARGUMENT: invalid database username' using errcode = '22023';
  end if;
  if p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' then
    raise exception 'ERR_INVALID_ARGUMENT: the password must be a SCRAM-SHA-256 verifier' using errcode = '22023';
  end if;
  execute format('create role %I nologin inherit password %L', p_db_username, p_verifier);
  -- Activating the row grants the tenant role, LOGIN and the authenticator's membership
  -- (users_after_write → sync_user_role).
  update cognition.users
     set db_username = p_db_username, idp_subject = coalesce(p_subject, idp_subject), status = 'active'
   where id = p_user_id
  returning * into v_user;
  return v_user;
end
$$;

create function cognition.set_user_password(p_user_id uuid, p_verifier text) returns void
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_name text;
begin
  select db_username into v_name from cognition.users where id = p_user_id;
  if v_name is null then
    raise exception 'ERR_USER_NOT_FOUND: the user has no database role' using errcode = 'P0002';
  end if;
  if p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' then
    raise exception 'ERR_INVALID_ARGUMENT: the password must be a SCRAM-SHA-256 verifier' using errcode = '22023';
  end if;
  execute format('alter role %I password %L', v_name, p_verifier);
end
$$;

-- The authenticator's password, as a SCRAM verifier (see provision_user).
create function cognition.set_authenticator_password(p_verifier text) returns void
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  if p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' then
    raise exception 'ERR_INVALID_ARGUMENT: the password must be a SCRAM-SHA-256 verifier' using errcode = '22023';
  end if;
  execute format('alter role cognition_authenticator password %L', p_verifier);
end
$$;
