-- Use cases 2 to 5 on one table of shared documents, whose authorization metadata lives on the
-- row as AppSync's use cases keep it on the item:
--   owner_id       the owner (reads, writes, decides who else may)
--   readers        users who may read                                  (3: multiple people read)
--   reader_groups  groups whose members may read                       (4: a group reads)
--   editors        users who may write, "multiple owners"              (5)
--   editor_groups  groups whose members may write                      (5: a group updates)
-- and two fixed rules: the Admin group updates any document (2), and Members and above create
-- documents (5: a group creates).
--
-- Every policy for one command is permissive, so Postgres ORs them: a row is readable when any
-- read rule lets the caller in. A group on the row is matched against the caller's group
-- exactly, as Cognito groups are: a document for 'Member' is not thereby for 'SuperUser'.
-- Arrays are tested with @> so that the GIN indexes serve the lists.

create table documents (
  id bigint generated always as identity primary key,
  owner_id uuid not null default cognition.my_user_id(),
  title text not null check (char_length(title) between 1 and 200),
  body text not null default '' check (char_length(body) <= 20000),
  readers uuid[] not null default '{}',
  reader_groups text[] not null default '{}',
  editors uuid[] not null default '{}',
  editor_groups text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index documents_owner_idx on documents (owner_id);
create index documents_readers_idx on documents using gin (readers);
create index documents_editors_idx on documents using gin (editors);

comment on table documents is 'Shared documents: owner, readers, reader groups, editors, editor groups (use cases 2-5).';
comment on column documents.owner_id is 'Always the caller who created it: not writable by users.';

create trigger documents_people before insert or update of readers, editors on documents
  for each row execute function check_tenant_people('readers', 'editors');

-- Column privileges cannot tell the owner from an editor (both hold UPDATE on the sharing
-- columns through the same role), and a policy sees either the old row or the new one, never
-- both: so a trigger keeps the sharing columns the owner's (or an Admin's) to change.
create function documents_before_write() returns trigger
  language plpgsql
  set search_path from current
as $$
begin
  if not (new.reader_groups <@ array(select r.name from cognition.tenant_roles r)
          and new.editor_groups <@ array(select r.name from cognition.tenant_roles r)) then
    raise exception 'ERR_CONSTRAINT: reader_groups and editor_groups name declared tenant roles only'
      using errcode = '23514';
  end if;
  if tg_op = 'UPDATE' then
    if (new.readers, new.reader_groups, new.editors, new.editor_groups)
         is distinct from (old.readers, old.reader_groups, old.editors, old.editor_groups)
       and old.owner_id is distinct from cognition.my_user_id()
       and cognition.my_role() is distinct from 'Admin' then
      raise exception 'ERR_PERMISSION_DENIED: only the owner changes who may read or edit a document'
        using errcode = '42501';
    end if;
    new.updated_at := now();
  end if;
  return new;
end
$$;

create trigger documents_write before insert or update on documents
  for each row execute function documents_before_write();

alter table documents enable row level security;
alter table documents force row level security;

-- The owner.
create policy documents_owner_read on documents for select
  using (owner_id = (select cognition.my_user_id()));

-- 2. A hard-coded group: Admins read and update any document. (An UPDATE … WHERE id = $1 reads
-- the row, so updating anything needs reading it.)
create policy documents_admin_read on documents for select
  using ((select cognition.my_role()) = 'Admin');
create policy documents_admin_update on documents for update
  using ((select cognition.my_role()) = 'Admin')
  with check ((select cognition.my_role()) = 'Admin');

-- 3. Multiple people read: the users listed in readers.
create policy documents_readers_read on documents for select
  using (readers @> array[(select cognition.my_user_id())]);

-- 4. A group reads: the caller's group is one of reader_groups.
create policy documents_groups_read on documents for select
  using (reader_groups @> array[(select cognition.my_role())]);

-- 5. Multiple owners write: the owner and the users listed in editors read and update.
create policy documents_editors_read on documents for select
  using (editors @> array[(select cognition.my_user_id())]);
create policy documents_owners_update on documents for update
  using (owner_id = (select cognition.my_user_id()) or editors @> array[(select cognition.my_user_id())])
  with check (owner_id = (select cognition.my_user_id()) or editors @> array[(select cognition.my_user_id())]);

-- 5. A group updates: the caller's group is one of editor_groups.
create policy documents_editor_groups_read on documents for select
  using (editor_groups @> array[(select cognition.my_role())]);
create policy documents_editor_groups_update on documents for update
  using (editor_groups @> array[(select cognition.my_role())])
  with check (editor_groups @> array[(select cognition.my_role())]);

-- 5. A group creates: Members and every rank above. (ReadOnly holds no INSERT either: the
-- privilege and the policy are two locks on the same door.) The owner is the caller.
create policy documents_members_create on documents for insert
  with check (
    owner_id = (select cognition.my_user_id())
    and (select cognition.my_rank()) >= (select cognition.role_rank('Member'))
  );

-- No delete policy: documents are not deleted through this example.

grant select on documents to tenant_readonlys;
grant insert (title, body, readers, reader_groups, editors, editor_groups),
  update (title, body, readers, reader_groups, editors, editor_groups)
  on documents to tenant_members;
