-- Group roles of pg-cognition. Roles are cluster-wide, so each is created only when missing.
--
-- cognition_owner owns every object pg-cognition manages (the cognition schema, the template,
-- every tenant schema) and creates every role it manages: on Postgres 16+ a role created by a
-- CREATEROLE role is administered by its creator, so owning the roles is what lets the
-- lifecycle triggers grant and revoke memberships without superuser rights (RDS and Aurora
-- have no superuser).
do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'cognition_owner') then
    create role cognition_owner nologin createrole;
  end if;
end
$$;

grant cognition_owner to current_user;
-- Temporary objects live as long as a connection, and the role-switch executor's connections
-- are shared by every user: a temporary table made during one user's request would shadow a
-- table name in the next user's. So only cognition_owner may create them.
do $$
begin
  execute format('grant create, connect, temporary on database %I to cognition_owner', current_database());
  execute format('revoke temporary on database %I from public', current_database());
end
$$;

alter schema cognition owner to cognition_owner;

-- Before Postgres 15 every role may create objects in public; user roles must not be able to
-- plant functions or operators that other roles' unqualified names could resolve to.
do $$
begin
  revoke create on schema public from public;
exception when insufficient_privilege then
  raise warning 'could not revoke CREATE on schema public from PUBLIC; do it as the schema owner';
end
$$;

-- Lets the lifecycle triggers close a suspended user's open connections.
do $$
begin
  grant pg_signal_backend to cognition_owner;
exception when insufficient_privilege then
  raise warning 'could not grant pg_signal_backend to cognition_owner; suspended users keep open connections until they close';
end
$$;

set local role cognition_owner;

do $$
declare
  r text;
begin
  foreach r in array array['application_admins', 'tenant_admins', 'tenant_users'] loop
    if not exists (select from pg_catalog.pg_roles where rolname = r) then
      execute format('create role %I nologin', r);
    end if;
  end loop;
  -- The authenticator logs in for the role-switch executor. NOINHERIT: it holds no privilege
  -- of its own and only acts through SET ROLE to a user's role. Its password is set by the
  -- application (see Cognition.prepareAuthenticator), never in a migration.
  if not exists (select from pg_catalog.pg_roles where rolname = 'cognition_authenticator') then
    create role cognition_authenticator login noinherit;
  end if;
end
$$;
