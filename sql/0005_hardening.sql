-- Hardening after an attacker review.
--
-- Before Postgres ever drops a role it must own nothing and hold no privilege. Any user can own
-- a large object (the large-object functions are PUBLIC) and grant privileges on it to other
-- roles, which made users impossible to remove and tenants impossible to drop. So large objects
-- are closed to PUBLIC where this role may do it, and every role pg-cognition drops is first
-- stripped of whatever it owns or was granted.
do $$
begin
  revoke execute on function pg_catalog.lo_create(oid), pg_catalog.lo_creat(integer),
    pg_catalog.lo_from_bytea(oid, bytea), pg_catalog.lo_import(text), pg_catalog.lo_import(text, oid)
    from public;
exception when insufficient_privilege then
  raise warning 'could not revoke the large-object functions from PUBLIC; roles are still dropped safely';
end
$$;

set local role cognition_owner;

-- DROP OWNED needs the role's own privileges; its creator (cognition_owner) may grant them to
-- itself, which lasts only until the role is dropped a moment later.
create function cognition.drop_managed_role(p_name text) returns void
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  if p_name is null or not exists (select from pg_roles where rolname = p_name) then
    return;
  end if;
  execute format('grant %I to cognition_owner', p_name);
  execute format('drop owned by %I', p_name);
  execute format('drop role %I', p_name);
end
$$;

revoke execute on function cognition.drop_managed_role(text) from public;

create or replace function cognition.users_after_write() returns trigger
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
    perform pg_terminate_backend(a.pid)
    from pg_stat_activity a
    where a.usename = old.db_username and a.pid <> pg_backend_pid();
    perform cognition.drop_managed_role(old.db_username);
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


create or replace function cognition.drop_tenant(p_slug text) returns setof uuid
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
    if v_user.db_username is not null then
      perform cognition.drop_managed_role(v_user.db_username);
    end if;
    return next v_user.id;
  end loop;
  execute format('drop schema if exists %I cascade', v_tenant.schema_name);
  perform cognition.drop_managed_role(v_tenant.admin_role);
  perform cognition.drop_managed_role(v_tenant.user_role);
  delete from cognition.users where tenant_id = v_tenant.id;
  delete from cognition.tenants where id = v_tenant.id;
  perform cognition.audit('tenant.dropped', v_tenant.id, null, jsonb_build_object('slug', p_slug));
end
$$;
