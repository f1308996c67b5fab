-- Benchmark tenant template "saas20": a project-management / CRM SaaS schema of 20 tables,
-- realistic enough to measure tenant creation (clone) and template rollouts at scale.
--
-- Template migration conventions: this file runs with search_path set to the schema being
-- migrated (tenant_template, then each tenant), so every name is unqualified; only the
-- cognition helpers are schema-qualified. Grants go to tenant_users / tenant_admins and
-- become grants to each tenant's own roles. The schema is the tenant boundary: policies
-- decide who may change what inside a tenant, and who may see the few private tables.

-- Types -------------------------------------------------------------------------------------

create type task_status as enum ('backlog', 'todo', 'in_progress', 'in_review', 'done', 'cancelled');
comment on type task_status is 'Workflow state of a task';

create type deal_stage as enum ('lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost');
comment on type deal_stage is 'Sales pipeline stage of a deal';

create domain email_address as text
  constraint email_address_format check (value ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$');
comment on domain email_address is 'An email address (shape only; compare with lower())';

-- Tables ------------------------------------------------------------------------------------

-- 1. Tenant-local profile of each cognition user.
create table members (
  id bigint generated always as identity primary key,
  user_id uuid not null default cognition.my_user_id(),
  display_name text not null,
  email email_address not null,
  job_title text,
  timezone text not null default 'UTC',
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint members_user_id_key unique (user_id),
  constraint members_display_name_length check (char_length(display_name) between 1 and 120),
  constraint members_timezone_length check (char_length(timezone) between 1 and 64)
);
comment on table members is 'Profile of each user of the tenant; user_id is cognition.users.id.';
comment on column members.user_id is 'cognition.users.id of the member';
create unique index members_email_lower_key on members (lower(email));
create index members_active_name_idx on members (display_name) where is_active;

-- 2.
create table teams (
  id bigint generated always as identity primary key,
  name text not null,
  description text not null default '',
  lead_id uuid references members (user_id) on delete set null,
  created_by uuid default cognition.my_user_id() references members (user_id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint teams_name_key unique (name),
  constraint teams_name_length check (char_length(name) between 1 and 80)
);
comment on table teams is 'Groups of members; only tenant admins manage them.';
create index teams_lead_idx on teams (lead_id);
create index teams_created_by_idx on teams (created_by);

-- 3.
create table team_members (
  team_id bigint not null references teams (id) on delete cascade,
  user_id uuid not null references members (user_id) on delete cascade,
  role text not null default 'member' constraint team_members_role_check check (role in ('member', 'lead')),
  joined_at timestamptz not null default now(),
  primary key (team_id, user_id)
);
comment on table team_members is 'Membership of members in teams; managed by admins and team leads.';
create index team_members_user_idx on team_members (user_id);

-- 4.
create table companies (
  id bigint generated always as identity primary key,
  name text not null,
  domain text,
  industry text,
  employee_count integer constraint companies_employee_count_check check (employee_count >= 0),
  annual_revenue numeric(16, 2) constraint companies_annual_revenue_check check (annual_revenue >= 0),
  owner_id uuid default cognition.my_user_id() references members (user_id) on delete set null,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint companies_domain_key unique (domain),
  constraint companies_name_length check (char_length(name) between 1 and 200),
  constraint companies_domain_format check (domain ~ '^[a-z0-9.-]+\.[a-z]{2,}$')
);
comment on table companies is 'CRM accounts: customers and prospects.';
create index companies_name_lower_idx on companies (lower(name));
create index companies_owner_idx on companies (owner_id);
create index companies_active_idx on companies (name) where archived_at is null;

-- 5.
create table contacts (
  id bigint generated always as identity primary key,
  company_id bigint references companies (id) on delete set null,
  first_name text not null,
  last_name text not null default '',
  email email_address,
  phone text,
  title text,
  do_not_contact boolean not null default false,
  owner_id uuid default cognition.my_user_id() references members (user_id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint contacts_email_key unique (email),
  constraint contacts_first_name_length check (char_length(first_name) between 1 and 100),
  constraint contacts_phone_format check (phone ~ '^\+?[0-9 ()-]{6,20}$')
);
comment on table contacts is 'People at companies.';
create index contacts_company_idx on contacts (company_id);
create index contacts_email_lower_idx on contacts (lower(email));
create index contacts_owner_idx on contacts (owner_id);

-- 6.
create table deals (
  id bigint generated always as identity primary key,
  company_id bigint not null references companies (id) on delete cascade,
  contact_id bigint references contacts (id) on delete set null,
  title text not null,
  stage deal_stage not null default 'lead',
  amount numeric(14, 2) not null default 0,
  currency char(3) not null default 'USD',
  probability smallint,
  expected_close_on date,
  closed_at timestamptz,
  owner_id uuid default cognition.my_user_id() references members (user_id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint deals_title_length check (char_length(title) between 1 and 200),
  constraint deals_amount_check check (amount >= 0),
  constraint deals_currency_format check (currency ~ '^[A-Z]{3}$'),
  constraint deals_probability_range check (probability between 0 and 100),
  constraint deals_closed_when_final check ((stage in ('won', 'lost')) = (closed_at is not null))
);
comment on table deals is 'Sales opportunities with a company.';
create index deals_company_idx on deals (company_id);
create index deals_contact_idx on deals (contact_id);
create index deals_owner_stage_idx on deals (owner_id, stage);
create index deals_open_close_idx on deals (expected_close_on) where stage not in ('won', 'lost');

-- 7.
create table projects (
  id bigint generated always as identity primary key,
  key text not null,
  name text not null,
  description text not null default '',
  company_id bigint references companies (id) on delete set null,
  team_id bigint references teams (id) on delete set null,
  owner_id uuid default cognition.my_user_id() references members (user_id) on delete set null,
  status text not null default 'active',
  start_on date,
  due_on date,
  budget numeric(14, 2),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint projects_key_key unique (key),
  constraint projects_key_format check (key ~ '^[A-Z][A-Z0-9]{1,9}$'),
  constraint projects_name_length check (char_length(name) between 1 and 200),
  constraint projects_status_check check (status in ('planned', 'active', 'on_hold', 'completed', 'archived')),
  constraint projects_dates_order check (due_on is null or start_on is null or due_on >= start_on),
  constraint projects_budget_check check (budget >= 0)
);
comment on table projects is 'Projects, optionally for a customer company.';
comment on column projects.key is 'Short upper-case key used in task references, e.g. WEB-42';
create index projects_company_idx on projects (company_id);
create index projects_team_idx on projects (team_id);
create index projects_owner_idx on projects (owner_id);
create index projects_open_due_idx on projects (due_on) where status in ('planned', 'active');

-- 8.
create table project_members (
  project_id bigint not null references projects (id) on delete cascade,
  user_id uuid not null references members (user_id) on delete cascade,
  role text not null default 'contributor',
  added_at timestamptz not null default now(),
  primary key (project_id, user_id),
  constraint project_members_role_check check (role in ('manager', 'contributor', 'viewer'))
);
comment on table project_members is 'Who works on a project besides its owner.';
create index project_members_user_idx on project_members (user_id);

-- 9.
create table milestones (
  id bigint generated always as identity primary key,
  project_id bigint not null references projects (id) on delete cascade,
  name text not null,
  due_on date,
  position integer not null default 0,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint milestones_project_name_key unique (project_id, name),
  constraint milestones_position_check check (position >= 0)
);
comment on table milestones is 'Dated goals within a project.';
create index milestones_open_due_idx on milestones (due_on) where completed_at is null;

-- 10.
create table labels (
  id bigint generated always as identity primary key,
  name text not null,
  color char(7) not null default '#808080',
  created_at timestamptz not null default now(),
  constraint labels_name_length check (char_length(name) between 1 and 40),
  constraint labels_color_format check (color ~ '^#[0-9a-f]{6}$')
);
comment on table labels is 'Tenant-wide task labels.';
create unique index labels_name_lower_key on labels (lower(name));

-- 11.
create table tasks (
  id bigint generated always as identity primary key,
  project_id bigint not null references projects (id) on delete cascade,
  milestone_id bigint references milestones (id) on delete set null,
  parent_id bigint references tasks (id) on delete set null,
  title text not null,
  description text not null default '',
  status task_status not null default 'todo',
  priority smallint not null default 3,
  assignee_id uuid references members (user_id) on delete set null,
  reporter_id uuid default cognition.my_user_id() references members (user_id) on delete set null,
  estimate_hours numeric(6, 2),
  due_on date,
  position integer not null default 0,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tasks_title_length check (char_length(title) between 1 and 300),
  constraint tasks_priority_range check (priority between 1 and 4),
  constraint tasks_estimate_check check (estimate_hours >= 0),
  constraint tasks_not_own_parent check (parent_id <> id),
  constraint tasks_done_has_completed_at check (status <> 'done' or completed_at is not null)
);
comment on table tasks is 'Work items of a project; may nest under a parent task.';
comment on column tasks.priority is '1 = urgent ... 4 = low';
create index tasks_project_status_idx on tasks (project_id, status);
create index tasks_milestone_idx on tasks (milestone_id);
create index tasks_parent_idx on tasks (parent_id);
create index tasks_open_assignee_idx on tasks (assignee_id, due_on) where status not in ('done', 'cancelled');
create index tasks_title_search_idx on tasks using gin (to_tsvector('simple', title));

-- 12.
create table task_labels (
  task_id bigint not null references tasks (id) on delete cascade,
  label_id bigint not null references labels (id) on delete cascade,
  primary key (task_id, label_id)
);
comment on table task_labels is 'Labels attached to tasks.';
create index task_labels_label_idx on task_labels (label_id);

-- 13.
create table task_dependencies (
  task_id bigint not null references tasks (id) on delete cascade,
  depends_on_id bigint not null references tasks (id) on delete cascade,
  kind text not null default 'blocks',
  created_at timestamptz not null default now(),
  primary key (task_id, depends_on_id),
  constraint task_dependencies_kind_check check (kind in ('blocks', 'relates')),
  constraint task_dependencies_not_self check (task_id <> depends_on_id)
);
comment on table task_dependencies is 'Task A depends on task B.';
create index task_dependencies_depends_on_idx on task_dependencies (depends_on_id);

-- 14.
create table comments (
  id bigint generated always as identity primary key,
  task_id bigint not null references tasks (id) on delete cascade,
  author_id uuid default cognition.my_user_id() references members (user_id) on delete set null,
  body text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint comments_body_length check (char_length(body) between 1 and 10000)
);
comment on table comments is 'Discussion on tasks.';
create index comments_task_created_idx on comments (task_id, created_at);
create index comments_author_idx on comments (author_id);

-- 15.
create table attachments (
  id uuid primary key default gen_random_uuid(),
  task_id bigint not null references tasks (id) on delete cascade,
  comment_id bigint references comments (id) on delete cascade,
  file_name text not null,
  content_type text not null,
  size_bytes bigint not null,
  storage_key text not null,
  uploaded_by uuid default cognition.my_user_id() references members (user_id) on delete set null,
  created_at timestamptz not null default now(),
  constraint attachments_storage_key_key unique (storage_key),
  constraint attachments_file_name_length check (char_length(file_name) between 1 and 255),
  constraint attachments_content_type_format check (content_type ~ '^[a-z]+/[a-z0-9.+-]+$'),
  constraint attachments_size_range check (size_bytes > 0 and size_bytes <= 104857600)
);
comment on table attachments is 'Files attached to tasks or comments (bytes live in object storage).';
create index attachments_task_idx on attachments (task_id);
create index attachments_uploaded_by_idx on attachments (uploaded_by);

-- 16.
create table time_entries (
  id bigint generated always as identity primary key,
  task_id bigint not null references tasks (id) on delete cascade,
  user_id uuid not null default cognition.my_user_id() references members (user_id) on delete cascade,
  started_at timestamptz not null,
  ended_at timestamptz not null,
  minutes integer generated always as ((extract(epoch from ended_at - started_at) / 60)::integer) stored,
  billable boolean not null default true,
  note text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint time_entries_order check (ended_at > started_at),
  constraint time_entries_max_day check (ended_at - started_at <= interval '24 hours')
);
comment on table time_entries is 'Time tracked on tasks; private to the member and admins.';
create index time_entries_task_idx on time_entries (task_id);
create index time_entries_user_started_idx on time_entries (user_id, started_at desc);

-- 17.
create table interactions (
  id bigint generated always as identity primary key,
  contact_id bigint not null references contacts (id) on delete cascade,
  deal_id bigint references deals (id) on delete set null,
  kind text not null,
  occurred_at timestamptz not null default now(),
  summary text not null,
  duration_minutes integer,
  logged_by uuid default cognition.my_user_id() references members (user_id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint interactions_kind_check check (kind in ('call', 'email', 'meeting', 'note')),
  constraint interactions_duration_check check (duration_minutes >= 0),
  constraint interactions_summary_length check (char_length(summary) between 1 and 5000)
);
comment on table interactions is 'Calls, emails and meetings with contacts.';
create index interactions_contact_occurred_idx on interactions (contact_id, occurred_at desc);
create index interactions_deal_idx on interactions (deal_id) where deal_id is not null;

-- 18.
create table activity_log (
  id bigint generated always as identity primary key,
  table_name text not null,
  row_id text,
  action text not null,
  actor_id uuid,
  changes jsonb not null default '{}',
  created_at timestamptz not null default now(),
  constraint activity_log_action_check check (action in ('INSERT', 'UPDATE', 'DELETE')),
  constraint activity_log_changes_object check (jsonb_typeof(changes) = 'object')
);
comment on table activity_log is 'Audit trail written by the log_activity trigger; read-only for users.';
create index activity_log_row_idx on activity_log (table_name, row_id);
create index activity_log_actor_idx on activity_log (actor_id, created_at desc);
create index activity_log_created_brin on activity_log using brin (created_at);

-- 19.
create table notifications (
  id bigint generated always as identity primary key,
  recipient_id uuid not null references members (user_id) on delete cascade,
  kind text not null,
  task_id bigint references tasks (id) on delete cascade,
  payload jsonb not null default '{}',
  read_at timestamptz,
  created_at timestamptz not null default now(),
  constraint notifications_kind_check check (kind in ('assigned', 'mentioned', 'commented', 'due_soon', 'deal_won')),
  constraint notifications_payload_object check (jsonb_typeof(payload) = 'object')
);
comment on table notifications is 'In-app notifications; each member sees only their own.';
create index notifications_unread_idx on notifications (recipient_id, created_at desc) where read_at is null;
create index notifications_task_idx on notifications (task_id);

-- 20.
create table webhooks (
  id uuid primary key default gen_random_uuid(),
  url text not null,
  events text[] not null,
  secret text not null,
  is_active boolean not null default true,
  failure_count integer not null default 0,
  last_delivery_at timestamptz,
  created_by uuid default cognition.my_user_id() references members (user_id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint webhooks_url_key unique (url),
  constraint webhooks_url_https check (url ~ '^https://'),
  constraint webhooks_events_nonempty check (cardinality(events) > 0),
  constraint webhooks_secret_length check (char_length(secret) >= 32),
  constraint webhooks_failure_count_check check (failure_count >= 0)
);
comment on table webhooks is 'Outgoing event subscriptions; tenant admins only.';
create index webhooks_active_events_idx on webhooks using gin (events) where is_active;

-- Functions ---------------------------------------------------------------------------------

create function touch_updated_at() returns trigger
  language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
comment on function touch_updated_at() is 'BEFORE UPDATE trigger: stamps updated_at';

-- SECURITY DEFINER so that users, who may not write activity_log, still leave a trail; the
-- search_path is pinned and the target qualified with the trigger's own schema, so the same
-- function body works in the template and in every tenant.
create function log_activity() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_row jsonb;
  v_changes jsonb;
begin
  if tg_op = 'DELETE' then
    v_row := to_jsonb(old);
    v_changes := v_row;
  elsif tg_op = 'INSERT' then
    v_row := to_jsonb(new);
    v_changes := v_row;
  else
    v_row := to_jsonb(new);
    select coalesce(jsonb_object_agg(n.key, n.value), '{}'::jsonb)
      into v_changes
      from jsonb_each(v_row) n
      where n.key <> 'updated_at' and n.value is distinct from (to_jsonb(old) -> n.key);
    if v_changes = '{}'::jsonb then
      return null;
    end if;
  end if;
  execute format(
    'insert into %I.activity_log (table_name, row_id, action, actor_id, changes) values ($1, $2, $3, $4, $5)',
    tg_table_schema)
    using tg_table_name, v_row ->> 'id', tg_op, cognition.my_user_id(), v_changes;
  return null;
end
$$;
comment on function log_activity() is 'AFTER row trigger: records inserts, changed columns and deletes in activity_log';

create function project_progress(p_project_id bigint) returns numeric
  language plpgsql stable
as $$
declare
  v_total integer;
  v_done integer;
begin
  select count(*) filter (where t.status <> 'cancelled'),
         count(*) filter (where t.status = 'done')
    into v_total, v_done
    from tasks t
    where t.project_id = p_project_id;
  if v_total = 0 then
    return 0;
  end if;
  return round(100.0 * v_done / v_total, 1);
end
$$;
comment on function project_progress(bigint) is 'Percentage of a project''s tasks that are done (cancelled ones excluded)';

create function is_project_member(p_project_id bigint) returns boolean
  language sql stable
as $$
  select exists (select from projects p
                 where p.id = p_project_id and p.owner_id = cognition.my_user_id())
      or exists (select from project_members pm
                 where pm.project_id = p_project_id and pm.user_id = cognition.my_user_id())
$$;
comment on function is_project_member(bigint) is 'Whether the caller owns or works on the project';

revoke execute on function touch_updated_at() from public;
revoke execute on function log_activity() from public;
revoke execute on function project_progress(bigint) from public;
revoke execute on function is_project_member(bigint) from public;
grant execute on function project_progress(bigint) to tenant_users;
grant execute on function project_progress(bigint) to tenant_admins;
grant execute on function is_project_member(bigint) to tenant_users;
grant execute on function is_project_member(bigint) to tenant_admins;

-- Triggers ----------------------------------------------------------------------------------

create trigger members_touch before update on members
  for each row execute function touch_updated_at();
create trigger teams_touch before update on teams
  for each row execute function touch_updated_at();
create trigger companies_touch before update on companies
  for each row execute function touch_updated_at();
create trigger contacts_touch before update on contacts
  for each row execute function touch_updated_at();
create trigger deals_touch before update on deals
  for each row execute function touch_updated_at();
create trigger projects_touch before update on projects
  for each row execute function touch_updated_at();
create trigger milestones_touch before update on milestones
  for each row execute function touch_updated_at();
create trigger tasks_touch before update on tasks
  for each row execute function touch_updated_at();
create trigger comments_touch before update on comments
  for each row execute function touch_updated_at();
create trigger time_entries_touch before update on time_entries
  for each row execute function touch_updated_at();
create trigger interactions_touch before update on interactions
  for each row execute function touch_updated_at();
create trigger webhooks_touch before update on webhooks
  for each row execute function touch_updated_at();

create trigger projects_audit after insert or update or delete on projects
  for each row execute function log_activity();
create trigger tasks_audit after insert or update or delete on tasks
  for each row execute function log_activity();
create trigger deals_audit after insert or update or delete on deals
  for each row execute function log_activity();

-- Views -------------------------------------------------------------------------------------

create view task_overview with (security_invoker = true) as
  select t.id,
         t.title,
         t.status,
         t.priority,
         t.due_on,
         t.project_id,
         p.key as project_key,
         p.name as project_name,
         m.name as milestone_name,
         a.display_name as assignee_name,
         c.name as company_name,
         (select count(*) from comments cm where cm.task_id = t.id) as comment_count,
         array(select l.name from task_labels tl join labels l on l.id = tl.label_id
               where tl.task_id = t.id order by l.name) as labels,
         (t.due_on < current_date and t.status not in ('done', 'cancelled')) as overdue
  from tasks t
  join projects p on p.id = t.project_id
  left join milestones m on m.id = t.milestone_id
  left join members a on a.user_id = t.assignee_id
  left join companies c on c.id = p.company_id;
comment on view task_overview is 'Tasks with their project, milestone, assignee, company, comment count and labels';

create view project_summary with (security_invoker = true) as
  select p.id,
         p.key,
         p.name,
         p.status,
         p.owner_id,
         p.due_on,
         project_progress(p.id) as progress_pct,
         count(t.id) filter (where t.status not in ('done', 'cancelled')) as open_tasks,
         count(t.id) filter (where t.status = 'done') as done_tasks
  from projects p
  left join tasks t on t.project_id = p.id
  group by p.id;
comment on view project_summary is 'One row per project with its progress';

create view pipeline_by_stage with (security_invoker = true) as
  select d.stage,
         d.currency,
         count(*) as deal_count,
         sum(d.amount) as total_amount,
         sum(d.amount * coalesce(d.probability, 0) / 100.0) as weighted_amount
  from deals d
  group by d.stage, d.currency;
comment on view pipeline_by_stage is 'Sales pipeline totals per stage and currency';

-- Row-level security ------------------------------------------------------------------------

alter table members enable row level security;
alter table members force row level security;
create policy members_read on members for select using (true);
create policy members_insert on members for insert
  with check (user_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy members_update on members for update
  using (user_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin')
  with check (user_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy members_delete on members for delete
  using ((select cognition.my_role()) = 'admin');

alter table teams enable row level security;
alter table teams force row level security;
create policy teams_read on teams for select using (true);
create policy teams_admin on teams for all
  using ((select cognition.my_role()) = 'admin')
  with check ((select cognition.my_role()) = 'admin');

alter table team_members enable row level security;
alter table team_members force row level security;
create policy team_members_read on team_members for select using (true);
create policy team_members_manage on team_members for all
  using ((select cognition.my_role()) = 'admin'
         or exists (select from teams t where t.id = team_id and t.lead_id = (select cognition.my_user_id())))
  with check ((select cognition.my_role()) = 'admin'
              or exists (select from teams t where t.id = team_id and t.lead_id = (select cognition.my_user_id())));

alter table companies enable row level security;
alter table companies force row level security;
create policy companies_read on companies for select using (true);
create policy companies_insert on companies for insert
  with check (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy companies_update on companies for update
  using (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy companies_delete on companies for delete
  using ((select cognition.my_role()) = 'admin');

alter table contacts enable row level security;
alter table contacts force row level security;
create policy contacts_read on contacts for select using (true);
create policy contacts_insert on contacts for insert
  with check (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy contacts_update on contacts for update
  using (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy contacts_delete on contacts for delete
  using (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');

alter table deals enable row level security;
alter table deals force row level security;
create policy deals_read on deals for select using (true);
create policy deals_insert on deals for insert
  with check (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy deals_update on deals for update
  using (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy deals_delete on deals for delete
  using ((select cognition.my_role()) = 'admin');

alter table projects enable row level security;
alter table projects force row level security;
create policy projects_read on projects for select using (true);
create policy projects_insert on projects for insert
  with check (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy projects_update on projects for update
  using (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy projects_delete on projects for delete
  using ((select cognition.my_role()) = 'admin');

alter table project_members enable row level security;
alter table project_members force row level security;
create policy project_members_read on project_members for select using (true);
create policy project_members_manage on project_members for all
  using ((select cognition.my_role()) = 'admin'
         or exists (select from projects p where p.id = project_id and p.owner_id = (select cognition.my_user_id())))
  with check ((select cognition.my_role()) = 'admin'
              or exists (select from projects p where p.id = project_id and p.owner_id = (select cognition.my_user_id())));

alter table milestones enable row level security;
alter table milestones force row level security;
create policy milestones_read on milestones for select using (true);
create policy milestones_manage on milestones for all
  using ((select cognition.my_role()) = 'admin' or is_project_member(project_id))
  with check ((select cognition.my_role()) = 'admin' or is_project_member(project_id));

alter table labels enable row level security;
alter table labels force row level security;
create policy labels_read on labels for select using (true);
create policy labels_insert on labels for insert with check (true);
create policy labels_admin on labels for all
  using ((select cognition.my_role()) = 'admin')
  with check ((select cognition.my_role()) = 'admin');

alter table tasks enable row level security;
alter table tasks force row level security;
create policy tasks_read on tasks for select using (true);
create policy tasks_insert on tasks for insert
  with check ((select cognition.my_role()) = 'admin'
              or (reporter_id = (select cognition.my_user_id()) and is_project_member(project_id)));
create policy tasks_update on tasks for update
  using ((select cognition.my_role()) = 'admin'
         or assignee_id = (select cognition.my_user_id())
         or reporter_id = (select cognition.my_user_id())
         or is_project_member(project_id));
create policy tasks_delete on tasks for delete
  using ((select cognition.my_role()) = 'admin' or reporter_id = (select cognition.my_user_id()));

alter table task_labels enable row level security;
alter table task_labels force row level security;
create policy task_labels_read on task_labels for select using (true);
create policy task_labels_manage on task_labels for all
  using ((select cognition.my_role()) = 'admin'
         or is_project_member((select t.project_id from tasks t where t.id = task_id)))
  with check ((select cognition.my_role()) = 'admin'
              or is_project_member((select t.project_id from tasks t where t.id = task_id)));

alter table task_dependencies enable row level security;
alter table task_dependencies force row level security;
create policy task_dependencies_read on task_dependencies for select using (true);
create policy task_dependencies_manage on task_dependencies for all
  using ((select cognition.my_role()) = 'admin'
         or is_project_member((select t.project_id from tasks t where t.id = task_id)))
  with check ((select cognition.my_role()) = 'admin'
              or is_project_member((select t.project_id from tasks t where t.id = task_id)));

alter table comments enable row level security;
alter table comments force row level security;
create policy comments_read on comments for select using (true);
create policy comments_insert on comments for insert
  with check (author_id = (select cognition.my_user_id()));
create policy comments_update on comments for update
  using (author_id = (select cognition.my_user_id()))
  with check (author_id = (select cognition.my_user_id()));
create policy comments_delete on comments for delete
  using (author_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');

alter table attachments enable row level security;
alter table attachments force row level security;
create policy attachments_read on attachments for select using (true);
create policy attachments_insert on attachments for insert
  with check (uploaded_by = (select cognition.my_user_id()));
create policy attachments_delete on attachments for delete
  using (uploaded_by = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');

alter table time_entries enable row level security;
alter table time_entries force row level security;
create policy time_entries_own on time_entries for all
  using (user_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin')
  with check (user_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');

alter table interactions enable row level security;
alter table interactions force row level security;
create policy interactions_read on interactions for select using (true);
create policy interactions_insert on interactions for insert
  with check (logged_by = (select cognition.my_user_id()));
create policy interactions_update on interactions for update
  using (logged_by = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy interactions_delete on interactions for delete
  using (logged_by = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');

-- Users hold no INSERT privilege here: rows come from log_activity (SECURITY DEFINER), which
-- still must attribute them to the calling user.
alter table activity_log enable row level security;
alter table activity_log force row level security;
create policy activity_log_read on activity_log for select
  using (actor_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy activity_log_write on activity_log for insert
  with check (actor_id is not distinct from (select cognition.my_user_id()));

alter table notifications enable row level security;
alter table notifications force row level security;
create policy notifications_own on notifications for select
  using (recipient_id = (select cognition.my_user_id()));
create policy notifications_send on notifications for insert with check (true);
create policy notifications_mark on notifications for update
  using (recipient_id = (select cognition.my_user_id()))
  with check (recipient_id = (select cognition.my_user_id()));
create policy notifications_dismiss on notifications for delete
  using (recipient_id = (select cognition.my_user_id()));

alter table webhooks enable row level security;
alter table webhooks force row level security;
create policy webhooks_admin on webhooks for all
  using ((select cognition.my_role()) = 'admin')
  with check ((select cognition.my_role()) = 'admin');

-- Grants (tenant_admins are also members of tenant_users) ----------------------------------

grant select, insert on members to tenant_users;
grant update (display_name, email, job_title, timezone) on members to tenant_users;
grant select, insert, update, delete on members to tenant_admins;

grant select on teams to tenant_users;
grant select, insert, update, delete on teams to tenant_admins;

grant select, insert, update, delete on team_members to tenant_users;
grant select, insert, update, delete on team_members to tenant_admins;

grant select, insert, update on companies to tenant_users;
grant select, insert, update, delete on companies to tenant_admins;

grant select, insert, update, delete on contacts to tenant_users;
grant select, insert, update, delete on contacts to tenant_admins;

grant select, insert, update on deals to tenant_users;
grant select, insert, update, delete on deals to tenant_admins;

grant select, insert, update on projects to tenant_users;
grant select, insert, update, delete on projects to tenant_admins;

grant select, insert, update, delete on project_members to tenant_users;
grant select, insert, update, delete on project_members to tenant_admins;

grant select, insert, update, delete on milestones to tenant_users;
grant select, insert, update, delete on milestones to tenant_admins;

grant select, insert on labels to tenant_users;
grant select, insert, update, delete on labels to tenant_admins;

grant select, insert, update, delete on tasks to tenant_users;
grant select, insert, update, delete on tasks to tenant_admins;

grant select, insert, delete on task_labels to tenant_users;
grant select, insert, update, delete on task_labels to tenant_admins;

grant select, insert, delete on task_dependencies to tenant_users;
grant select, insert, update, delete on task_dependencies to tenant_admins;

grant select, insert, update, delete on comments to tenant_users;
grant select, insert, update, delete on comments to tenant_admins;

grant select, insert, delete on attachments to tenant_users;
grant select, insert, delete on attachments to tenant_admins;

grant select, insert, update, delete on time_entries to tenant_users;
grant select, insert, update, delete on time_entries to tenant_admins;

grant select, insert, update, delete on interactions to tenant_users;
grant select, insert, update, delete on interactions to tenant_admins;

grant select on activity_log to tenant_users;
grant select on activity_log to tenant_admins;

grant select, insert, delete on notifications to tenant_users;
grant update (read_at) on notifications to tenant_users;
grant select, insert, update, delete on notifications to tenant_admins;

grant select, insert, update, delete on webhooks to tenant_admins;

grant select on task_overview to tenant_users;
grant select on task_overview to tenant_admins;
grant select on project_summary to tenant_users;
grant select on project_summary to tenant_admins;
grant select on pipeline_by_stage to tenant_users;
grant select on pipeline_by_stage to tenant_admins;
