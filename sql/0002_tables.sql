set local role cognition_owner;

create table cognition.tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique,
  name text not null,
  status text not null default 'active',
  schema_name text not null unique,
  admin_role text not null unique,
  user_role text not null unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Slugs become parts of identifiers: lower-case ASCII only, short enough that
  -- "tenant_<slug>_admins" stays under Postgres's 63-byte identifier limit.
  constraint tenants_slug_format check (slug ~ '^[a-z][a-z0-9_]{0,39}$' and slug <> 'template'),
  constraint tenants_name_format check (
    char_length(name) between 1 and 200 and name = btrim(name) and name !~ '[[:cntrl:]]'
  ),
  constraint tenants_status_valid check (status in ('active', 'suspended'))
);

comment on table cognition.tenants is 'One row per tenant; each tenant has its own schema and two roles.';

create table cognition.users (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid references cognition.tenants (id) on delete cascade,
  email text not null,
  role text not null default 'user',
  status text not null default 'invited',
  given_name text,
  family_name text,
  preferences jsonb not null default '{}'::jsonb,
  db_username text unique,
  idp_subject text unique,
  invited_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  activated_at timestamptz,
  constraint users_email_format check (
    char_length(email) between 3 and 254 and email ~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+$'
  ),
  constraint users_role_valid check (role in ('user', 'admin', 'application_admin')),
  constraint users_tenant_matches_role check ((role = 'application_admin') = (tenant_id is null)),
  constraint users_status_valid check (status in ('invited', 'active', 'suspended', 'removed')),
  constraint users_provisioned_has_role check (status not in ('active', 'suspended') or db_username is not null),
  constraint users_names_length check (
    coalesce(char_length(given_name), 0) <= 200 and coalesce(char_length(family_name), 0) <= 200
  ),
  constraint users_preferences_object check (jsonb_typeof(preferences) = 'object')
);

comment on table cognition.users is 'Application users; one database role each once provisioned.';

-- Emails compare case-insensitively; a removed user frees the address for a new invitation.
create unique index users_email_key on cognition.users (lower(email)) where status <> 'removed';
create index users_tenant_idx on cognition.users (tenant_id);

create table cognition.audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  tenant_id uuid,
  user_id uuid,
  detail jsonb not null default '{}'::jsonb
);

create index audit_log_tenant_idx on cognition.audit_log (tenant_id, at);
create index audit_log_user_idx on cognition.audit_log (user_id, at);

-- Template migrations: the application's SQL files, applied to tenant_template and then to
-- every tenant schema. tenant_migrations records, per tenant, which versions it has, so a
-- rollout that fails half-way resumes without re-applying what succeeded.
create table cognition.template_migrations (
  version integer primary key,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now()
);

create table cognition.tenant_migrations (
  tenant_id uuid not null references cognition.tenants (id) on delete cascade,
  version integer not null references cognition.template_migrations (version),
  applied_at timestamptz not null default now(),
  primary key (tenant_id, version)
);

create table cognition.tenant_migration_failures (
  tenant_id uuid not null references cognition.tenants (id) on delete cascade,
  version integer not null,
  error text not null,
  failed_at timestamptz not null default now(),
  primary key (tenant_id, version)
);

create schema tenant_template authorization cognition_owner;
comment on schema tenant_template is 'Cloned into every new tenant schema; changed only by template migrations.';
