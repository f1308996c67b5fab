-- Example tenant template: shared notes. Runs with search_path set to the schema being
-- migrated (tenant_template, then each tenant), so names stay unqualified.
create table notes (
  id bigint generated always as identity primary key,
  title text not null check (char_length(title) between 1 and 200),
  body text not null default '',
  owner_id uuid not null default cognition.my_user_id(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index notes_owner_idx on notes (owner_id);

comment on table notes is 'Notes shared within the tenant; only the author or a tenant admin may change one.';

create function touch_updated_at() returns trigger
  language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create trigger notes_touch before update on notes
  for each row execute function touch_updated_at();

alter table notes enable row level security;
alter table notes force row level security;

-- Everyone in the tenant reads every note; the schema itself is the tenant boundary.
create policy notes_read on notes for select using (true);
create policy notes_insert on notes for insert with check (owner_id = cognition.my_user_id());
create policy notes_change on notes for update
  using (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');
create policy notes_delete on notes for delete
  using (owner_id = (select cognition.my_user_id()) or (select cognition.my_role()) = 'admin');

grant select, insert, update, delete on notes to tenant_users;
grant select, insert, update, delete on notes to tenant_admins;
