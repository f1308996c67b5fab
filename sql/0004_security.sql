set local role cognition_owner;

-- Nothing is reachable unless granted below.
revoke all on cognition.tenants, cognition.users, cognition.audit_log, cognition.template_migrations,
  cognition.tenant_migrations, cognition.tenant_migration_failures from public;
revoke execute on all functions in schema cognition from public;
revoke all on schema tenant_template from public;

grant usage on schema cognition to application_admins, tenant_admins, tenant_users;
grant execute on function
  cognition.caller(), cognition.me(), cognition.my_user_id(), cognition.my_tenant_id(), cognition.my_role(),
  cognition.my_schema()
  to application_admins, tenant_admins, tenant_users;

-- The permission matrix. Column privileges say which attributes a rank may change at all;
-- policies say on which rows; triggers check the transitions that hold for everyone.
--
-- application admins: any tenant (name, status) and any user attribute except the database
--   username, which only provisioning sets.
grant select on cognition.tenants to application_admins;
grant update (name, status) on cognition.tenants to application_admins;
grant select on cognition.users to application_admins;
grant insert (tenant_id, email, role, given_name, family_name, preferences, idp_subject)
  on cognition.users to application_admins;
grant update (tenant_id, email, role, status, given_name, family_name, preferences, idp_subject)
  on cognition.users to application_admins;
grant select on cognition.audit_log to application_admins;

-- tenant admins: users of their tenant (never the database username, the tenant, or a rank
--   above tenant admin) and their tenant's display name.
grant select on cognition.tenants to tenant_admins;
grant update (name) on cognition.tenants to tenant_admins;
grant select on cognition.users to tenant_admins;
grant insert (tenant_id, email, role, given_name, family_name, preferences) on cognition.users to tenant_admins;
grant update (email, role, status, given_name, family_name, preferences) on cognition.users to tenant_admins;
grant select on cognition.audit_log to tenant_admins;

-- tenant users: their own names and preferences; read their own row and tenant.
grant select on cognition.tenants to tenant_users;
grant select on cognition.users to tenant_users;
grant update (given_name, family_name, preferences) on cognition.users to tenant_users;

alter table cognition.tenants enable row level security;
alter table cognition.tenants force row level security;
alter table cognition.users enable row level security;
alter table cognition.users force row level security;
alter table cognition.audit_log enable row level security;
alter table cognition.audit_log force row level security;
alter table cognition.template_migrations enable row level security;
alter table cognition.template_migrations force row level security;
alter table cognition.tenant_migrations enable row level security;
alter table cognition.tenant_migrations force row level security;
alter table cognition.tenant_migration_failures enable row level security;
alter table cognition.tenant_migration_failures force row level security;

-- The owner acts for the system (provisioning, migrations, the RLS helpers themselves).
create policy owner_all on cognition.tenants to cognition_owner using (true) with check (true);
create policy owner_all on cognition.users to cognition_owner using (true) with check (true);
create policy owner_all on cognition.audit_log to cognition_owner using (true) with check (true);
create policy owner_all on cognition.template_migrations to cognition_owner using (true) with check (true);
create policy owner_all on cognition.tenant_migrations to cognition_owner using (true) with check (true);
create policy owner_all on cognition.tenant_migration_failures to cognition_owner using (true) with check (true);

create policy app_admin_all on cognition.tenants to application_admins
  using ((select cognition.my_role()) = 'application_admin')
  with check ((select cognition.my_role()) = 'application_admin');
create policy app_admin_all on cognition.users to application_admins
  using ((select cognition.my_role()) = 'application_admin')
  with check ((select cognition.my_role()) = 'application_admin');
create policy app_admin_read on cognition.audit_log for select to application_admins
  using ((select cognition.my_role()) = 'application_admin');

create policy member_read on cognition.tenants for select to tenant_users, tenant_admins
  using (id = (select cognition.my_tenant_id()));
create policy admin_rename on cognition.tenants for update to tenant_admins
  using (id = (select cognition.my_tenant_id()) and (select cognition.my_role()) = 'admin')
  with check (id = (select cognition.my_tenant_id()));

create policy self_read on cognition.users for select to tenant_users, tenant_admins
  using (id = (select cognition.my_user_id()));
create policy self_update on cognition.users for update to tenant_users, tenant_admins
  using (id = (select cognition.my_user_id()))
  with check (id = (select cognition.my_user_id()));

create policy admin_read on cognition.users for select to tenant_admins
  using (tenant_id = (select cognition.my_tenant_id()) and (select cognition.my_role()) = 'admin');
create policy admin_invite on cognition.users for insert to tenant_admins
  with check (
    tenant_id = (select cognition.my_tenant_id())
    and (select cognition.my_role()) = 'admin'
    and role in ('admin', 'user')
  );
create policy admin_update on cognition.users for update to tenant_admins
  using (
    tenant_id = (select cognition.my_tenant_id())
    and (select cognition.my_role()) = 'admin'
    and role in ('admin', 'user')
  )
  with check (tenant_id = (select cognition.my_tenant_id()) and role in ('admin', 'user'));

create policy admin_read on cognition.audit_log for select to tenant_admins
  using (tenant_id = (select cognition.my_tenant_id()) and (select cognition.my_role()) = 'admin');
