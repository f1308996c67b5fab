-- Use case 1: the owner reads a single item, and a list holds the owner's items only.
--
-- A to-do list is private to its owner: nobody else reads it, an Admin included. The owner is
-- always the caller (owner_id is not writable: only its default fills it), and the one policy
-- per command serves both the single item (todo(id) is null for anyone else's id) and the list
-- (a plain `select … from todos` returns the caller's rows, whatever the resolver asks for).

create table todos (
  id bigint generated always as identity primary key,
  owner_id uuid not null default cognition.my_user_id(),
  title text not null check (char_length(title) between 1 and 200),
  done boolean not null default false,
  created_at timestamptz not null default now()
);

create index todos_owner_idx on todos (owner_id, id);

comment on table todos is 'To-do items, private to their owner (use case 1).';
comment on column todos.owner_id is 'Always the caller: users may not write this column, the default fills it in.';

alter table todos enable row level security;
alter table todos force row level security;

create policy todos_owner_read on todos for select
  using (owner_id = (select cognition.my_user_id()));
create policy todos_owner_insert on todos for insert
  with check (owner_id = (select cognition.my_user_id()));
create policy todos_owner_update on todos for update
  using (owner_id = (select cognition.my_user_id()))
  with check (owner_id = (select cognition.my_user_id()));
create policy todos_owner_delete on todos for delete
  using (owner_id = (select cognition.my_user_id()));

grant select on todos to tenant_readonlys;
grant insert (title), update (title, done), delete on todos to tenant_members;
