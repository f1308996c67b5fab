-- Example tenant template: secret agents. Each agency is a tenant. Runs with search_path set
-- to the schema being migrated (tenant_template, then each tenant), so names stay unqualified.
--
-- Who is who within an agency:
--   the agency lead       a tenant admin  (cognition.my_role() = 'admin')
--   office administrators tenant users listed in office_admins for their office(s)
--   agents                tenant users linked to their row in agents by agents.user_id
--
-- Access rules, all enforced here and nowhere else:
--   item level:      an office administrator sees the agents of the offices they administer,
--                    an agent sees their own row, the lead sees every agent (RLS on agents);
--                    missions are visible exactly when their agent is;
--   attribute level: agents.real_name is granted to tenant_admins only (column privileges), so
--                    anyone else who asks for it gets "permission denied for table agents";
--   private messages: readable by their sender and recipient only, the lead included; the
--                    sender is always the caller and no one may change or delete a message.

-- Every user_id that names a person (office administrator, agent's login, message recipient)
-- must be a user of this agency. The check reads cognition.users as its owner (the caller
-- may read only their own row there) and tells the caller nothing but yes or no. The agency is
-- the schema of the table the trigger fires on, so it holds for the owner too; tenant_template
-- belongs to no tenant and so accepts no people at all.
create function check_agency_member() returns trigger
  language plpgsql security definer
  set search_path from current
as $$
declare
  v_user_id uuid := (to_jsonb(new) ->> tg_argv[0])::uuid;
begin
  if v_user_id is not null and not exists (
    select
    from cognition.users u
    join cognition.tenants t on t.id = u.tenant_id
    where u.id = v_user_id
      and t.schema_name = tg_table_schema
      and u.status <> 'removed'
  ) then
    raise exception 'ERR_CONSTRAINT: %.% must be a user of this agency', tg_table_name, tg_argv[0]
      using errcode = '23503';
  end if;
  return new;
end
$$;

comment on function check_agency_member() is
  'Trigger: the column named by the trigger argument must hold the id of a user of this agency.';

revoke execute on function check_agency_member() from public;

-- Offices ----------------------------------------------------------------------------------

create table offices (
  id bigint generated always as identity primary key,
  name text not null unique check (char_length(name) between 1 and 100),
  city text not null check (char_length(city) between 1 and 100),
  created_at timestamptz not null default now()
);

comment on table offices is 'The agency''s offices (stations). Everyone in the agency may read them.';

-- Which user administers which office. A user may administer several offices, and an office
-- may have several administrators.
create table office_admins (
  office_id bigint not null references offices (id) on delete cascade,
  user_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (office_id, user_id)
);

create index office_admins_user_idx on office_admins (user_id, office_id);

comment on table office_admins is 'Office administrators: each sees (and manages) the agents of the offices listed for them.';
comment on column office_admins.user_id is 'cognition.users.id of a user of this agency.';

create trigger office_admins_member before insert or update of user_id on office_admins
  for each row execute function check_agency_member('user_id');

-- Agents -----------------------------------------------------------------------------------

-- status and clearance values are the GraphQL enum's names, so resolvers return them as stored.
create table agents (
  id bigint generated always as identity primary key,
  codename text not null unique check (char_length(codename) between 1 and 50),
  real_name text not null check (char_length(real_name) between 1 and 200),
  office_id bigint not null references offices (id),
  user_id uuid unique,
  status text not null default 'ACTIVE' check (status in ('ACTIVE', 'INACTIVE', 'COMPROMISED')),
  clearance smallint not null default 1 check (clearance between 1 and 5),
  created_at timestamptz not null default now()
);

create index agents_office_idx on agents (office_id);

comment on table agents is 'Field agents. Rows: the lead sees all, an office administrator those of their offices, an agent their own.';
comment on column agents.real_name is 'Readable by the agency lead (tenant_admins) only: not granted to tenant_users at all.';
comment on column agents.user_id is 'The agent''s own login (cognition.users.id), if they have one.';

create trigger agents_member before insert or update of user_id on agents
  for each row execute function check_agency_member('user_id');

-- Missions ---------------------------------------------------------------------------------

create table missions (
  id bigint generated always as identity primary key,
  agent_id bigint not null references agents (id) on delete cascade,
  codename text not null unique check (char_length(codename) between 1 and 50),
  objective text not null default '' check (char_length(objective) <= 2000),
  status text not null default 'PLANNED'
    check (status in ('PLANNED', 'ACTIVE', 'COMPLETED', 'ABORTED')),
  created_by uuid not null default cognition.my_user_id(),
  created_at timestamptz not null default now()
);

create index missions_agent_idx on missions (agent_id);

comment on table missions is 'Missions. Visible exactly when their agent is; assigned by the lead or the agent''s office administrator.';

-- Messages ---------------------------------------------------------------------------------

create table messages (
  id bigint generated always as identity primary key,
  sender_id uuid not null default cognition.my_user_id(),
  recipient_id uuid not null,
  body text not null check (char_length(body) between 1 and 4000),
  created_at timestamptz not null default now()
);

create index messages_recipient_idx on messages (recipient_id, created_at);
create index messages_sender_idx on messages (sender_id, created_at);

comment on table messages is 'Private messages: only the sender and the recipient may read one; nobody may change or delete one.';
comment on column messages.sender_id is 'Always the caller: users may not write this column, the default fills it in.';

create trigger messages_recipient_member before insert on messages
  for each row execute function check_agency_member('recipient_id');

-- Row-level security (forced: the owner is no exception) --------------------------------------

alter table offices enable row level security;
alter table offices force row level security;
alter table office_admins enable row level security;
alter table office_admins force row level security;
alter table agents enable row level security;
alter table agents force row level security;
alter table missions enable row level security;
alter table missions force row level security;
alter table messages enable row level security;
alter table messages force row level security;

-- Offices: a directory everyone in the agency reads; the lead manages it.
create policy offices_read on offices for select using (true);
create policy offices_lead_insert on offices for insert
  with check ((select cognition.my_role()) = 'admin');
create policy offices_lead_update on offices for update
  using ((select cognition.my_role()) = 'admin') with check ((select cognition.my_role()) = 'admin');
create policy offices_lead_delete on offices for delete
  using ((select cognition.my_role()) = 'admin');

-- Office administrators: the lead sees and manages all; a user sees their own assignments
-- (which is what the agents policy below reads through).
create policy office_admins_read on office_admins for select
  using ((select cognition.my_role()) = 'admin' or user_id = (select cognition.my_user_id()));
create policy office_admins_lead_insert on office_admins for insert
  with check ((select cognition.my_role()) = 'admin');
create policy office_admins_lead_delete on office_admins for delete
  using ((select cognition.my_role()) = 'admin');

-- Agents: the item-level rule.
create policy agents_read on agents for select using (
  (select cognition.my_role()) = 'admin'
  or user_id = (select cognition.my_user_id())
  or office_id in (
    select oa.office_id from office_admins oa where oa.user_id = (select cognition.my_user_id())
  )
);
create policy agents_lead_insert on agents for insert
  with check ((select cognition.my_role()) = 'admin');
create policy agents_lead_update on agents for update
  using ((select cognition.my_role()) = 'admin') with check ((select cognition.my_role()) = 'admin');
create policy agents_lead_delete on agents for delete
  using ((select cognition.my_role()) = 'admin');
-- Office administrators may change the agents of their offices (only the status column is
-- granted to them, see below), and may not move an agent out of their reach.
create policy agents_office_update on agents for update
  using (office_id in (
    select oa.office_id from office_admins oa where oa.user_id = (select cognition.my_user_id())
  ))
  with check (office_id in (
    select oa.office_id from office_admins oa where oa.user_id = (select cognition.my_user_id())
  ));

-- Missions: visible with their agent (the sub-select reads agents under the caller's own
-- policy); created and changed by the lead or the administrator of the agent's office, never
-- by the agent.
create policy missions_read on missions for select using (agent_id in (select a.id from agents a));
create policy missions_manage_insert on missions for insert with check (
  created_by = (select cognition.my_user_id())
  and (
    (select cognition.my_role()) = 'admin'
    or agent_id in (
      select a.id from agents a
      join office_admins oa on oa.office_id = a.office_id
      where oa.user_id = (select cognition.my_user_id())
    )
  )
);
create policy missions_manage_update on missions for update
  using (
    (select cognition.my_role()) = 'admin'
    or agent_id in (
      select a.id from agents a
      join office_admins oa on oa.office_id = a.office_id
      where oa.user_id = (select cognition.my_user_id())
    )
  );
create policy missions_lead_delete on missions for delete
  using ((select cognition.my_role()) = 'admin');

-- Messages: only the two people involved; the sender is the caller.
create policy messages_read on messages for select using (
  sender_id = (select cognition.my_user_id()) or recipient_id = (select cognition.my_user_id())
);
create policy messages_send on messages for insert
  with check (sender_id = (select cognition.my_user_id()));
-- No update or delete policy, and no such privilege: messages are immutable.

-- Privileges. Each tenant's admins role is a member of its users role, so the lead holds
-- everything granted to tenant_users as well. -----------------------------------------------

grant select on offices to tenant_users;
grant select, insert, update, delete on offices to tenant_admins;

grant select on office_admins to tenant_users;
grant select, insert, delete on office_admins to tenant_admins;

-- The attribute-level rule: every column but real_name for users, all of them for admins.
grant select (id, codename, office_id, user_id, status, clearance, created_at) on agents to tenant_users;
grant update (status) on agents to tenant_users;
grant select, insert, update, delete on agents to tenant_admins;

grant select on missions to tenant_users;
grant insert (agent_id, codename, objective), update (status, objective) on missions to tenant_users;
grant select, insert, update, delete on missions to tenant_admins;

-- sender_id and created_at are not granted: they can only be the defaults.
grant select, insert (recipient_id, body) on messages to tenant_users;
grant select, insert (recipient_id, body) on messages to tenant_admins;
