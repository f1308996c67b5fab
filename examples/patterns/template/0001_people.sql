-- Example tenant template: AppSync's authorization use cases as Postgres rules. Each tenant (a
-- company) gets a copy of this schema. Runs with search_path set to the schema being migrated
-- (tenant_template, then each tenant), so names stay unqualified.
--
-- Tenant roles (roles.json), highest rank first: Admin > SuperUser > Member > ReadOnly.
-- Templates grant to the global roles tenant_admins, tenant_superusers, tenant_members and
-- tenant_readonlys; each tenant gets those grants on its own roles. A higher rank is a member of
-- every lower rank's role, so a grant to tenant_members reaches SuperUsers and Admins too, and
-- ReadOnly never keeps a write privilege whatever a template grants it.
--
-- In policies, the caller is cognition.my_user_id(), their group (= their role's name, also the
-- Cognito group of their token) cognition.my_role(), its rank cognition.my_rank(). They are
-- wrapped in (select …) so that Postgres evaluates them once per statement, not once per row.
--
-- This file: what the other files share. The user ids a row names must be users of this
-- tenant, and each user's permission row (who may read private posts, who may subscribe).

-- The check reads cognition.users as its owner (a Member may read only their own row there)
-- and tells the caller nothing but yes or no. The tenant is the schema of the table the trigger
-- fires on, so it holds for the owner too; tenant_template belongs to no tenant and so accepts
-- no people at all.
create function check_tenant_people() returns trigger
  language plpgsql security definer
  set search_path from current
as $$
declare
  v_row jsonb := to_jsonb(new);
  v_column text;
  v_ids uuid[];
begin
  foreach v_column in array tg_argv loop
    v_ids := case jsonb_typeof(v_row -> v_column)
      when 'array' then array(select jsonb_array_elements_text(v_row -> v_column)::uuid)
      when 'string' then array[(v_row ->> v_column)::uuid]
      else '{}'::uuid[]
    end;
    if exists (
      select
      from unnest(v_ids) as p (id)
      where p.id is null or not exists (
        select
        from cognition.users u
        join cognition.tenants t on t.id = u.tenant_id
        where u.id = p.id
          and t.schema_name = tg_table_schema
          and u.status <> 'removed'
      )
    ) then
      raise exception 'ERR_CONSTRAINT: %.% must name users of this tenant', tg_table_name, v_column
        using errcode = '23503';
    end if;
  end loop;
  return new;
end
$$;

comment on function check_tenant_people() is
  'Trigger: every user id in the columns named by the trigger arguments (uuid or uuid[]) is a user of this tenant.';

revoke execute on function check_tenant_people() from public;

-- Permission rows -----------------------------------------------------------------------------

-- One row per user, kept by the people who manage users (SuperUser and above). A user without a
-- row has no permission: every flag defaults to false.
create table permissions (
  user_id uuid primary key,
  read_private boolean not null default false,
  subscribe boolean not null default false
);

comment on table permissions is 'Per-user permissions: read_private (private posts), subscribe (real-time messages).';

create trigger permissions_people before insert or update of user_id on permissions
  for each row execute function check_tenant_people('user_id');

alter table permissions enable row level security;
alter table permissions force row level security;

-- Everyone reads their own row; managers read all of their tenant's.
create policy permissions_own_read on permissions for select
  using (user_id = (select cognition.my_user_id()));
create policy permissions_manager_read on permissions for select
  using ((select cognition.my_manages_users()));
-- Managers set the rows of users at or below their own rank, as they manage only those users
-- (cognition.users shows a manager every user of their tenant, and nobody else).
create policy permissions_manager_insert on permissions for insert
  with check (
    (select cognition.my_manages_users())
    and user_id in (
      select u.id from cognition.users u
      where cognition.role_rank(u.role) <= (select cognition.my_rank())
    )
  );
create policy permissions_manager_update on permissions for update
  using (
    (select cognition.my_manages_users())
    and user_id in (
      select u.id from cognition.users u
      where cognition.role_rank(u.role) <= (select cognition.my_rank())
    )
  )
  with check (
    user_id in (
      select u.id from cognition.users u
      where cognition.role_rank(u.role) <= (select cognition.my_rank())
    )
  );

grant select on permissions to tenant_readonlys;
-- The policy asks for a manager; the privilege is the same rule's second lock (manageUsersFrom
-- is SuperUser in roles.json).
grant insert (user_id, read_private, subscribe), update (read_private, subscribe) on permissions
  to tenant_superusers;
