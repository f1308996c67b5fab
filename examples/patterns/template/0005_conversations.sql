-- Use case 7: real-time messages. A user may subscribe to a conversation only if it is their
-- own (they are a member) and their permission row says subscribe, and each event is checked
-- again as the subscriber, so that a permission taken away stops the next event.
--
-- The rule lives in one place, the view live_conversations ("the conversations the caller may
-- follow live"). The subscription's resolver reads each event through watch_conversation(),
-- which refuses (SQLSTATE 42501, "Unauthorized" to the client) when the conversation is not
-- in that view. AppSync runs a subscription's resolver when the client subscribes (with no
-- event) and the local endpoint runs it for every event (with the event): the function answers
-- both the same way.

create table conversations (
  id bigint generated always as identity primary key,
  title text not null check (char_length(title) between 1 and 200),
  created_by uuid not null default cognition.my_user_id(),
  created_at timestamptz not null default now()
);

comment on table conversations is 'Conversations; their members read and send their messages.';

create table conversation_members (
  conversation_id bigint not null references conversations (id) on delete cascade,
  user_id uuid not null,
  primary key (conversation_id, user_id)
);

create index conversation_members_user_idx on conversation_members (user_id, conversation_id);

comment on table conversation_members is 'Who belongs to which conversation; added by the conversation''s creator.';

create trigger conversation_members_people before insert or update of user_id on conversation_members
  for each row execute function check_tenant_people('user_id');

-- Message ids are uuids rather than a per-tenant sequence: a subscriber in another tenant reads
-- an event again by its id in their own schema, where a sequence number could name a row of
-- their own.
create table messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id bigint not null references conversations (id) on delete cascade,
  sender_id uuid not null default cognition.my_user_id(),
  body text not null check (char_length(body) between 1 and 4000),
  created_at timestamptz not null default now()
);

create index messages_conversation_idx on messages (conversation_id, created_at);

comment on table messages is 'Messages of a conversation: its members read them; the sender is the caller.';
comment on column messages.sender_id is 'Always the caller: users may not write this column, the default fills it in.';

alter table conversations enable row level security;
alter table conversations force row level security;
alter table conversation_members enable row level security;
alter table conversation_members force row level security;
alter table messages enable row level security;
alter table messages force row level security;

-- Whether the caller created the conversation. A function rather than a sub-select in the
-- policy below: conversations' own policy reads conversation_members, and Postgres refuses
-- policies that reach back to their own table within one query (infinite recursion). The
-- function's query is planned on its own (its SET clause keeps it from being inlined), and
-- it runs as the caller, under the caller's policies.
create function created_by_me(p_conversation_id bigint) returns boolean
  language sql stable
  set search_path from current
as $$
  select exists (
    select from conversations c where c.id = p_conversation_id and c.created_by = cognition.my_user_id()
  )
$$;

revoke execute on function created_by_me(bigint) from public;

-- Each user sees their own memberships only; the creator adds the members.
create policy conversation_members_own_read on conversation_members for select
  using (user_id = (select cognition.my_user_id()));
create policy conversation_members_creator_insert on conversation_members for insert
  with check (created_by_me(conversation_id));

create policy conversations_member_read on conversations for select
  using (
    created_by = (select cognition.my_user_id())
    or id in (select m.conversation_id from conversation_members m where m.user_id = (select cognition.my_user_id()))
  );
create policy conversations_create on conversations for insert
  with check (created_by = (select cognition.my_user_id()));

create policy messages_member_read on messages for select
  using (
    conversation_id in (
      select m.conversation_id from conversation_members m where m.user_id = (select cognition.my_user_id())
    )
  );
create policy messages_member_send on messages for insert
  with check (
    sender_id = (select cognition.my_user_id())
    and conversation_id in (
      select m.conversation_id from conversation_members m where m.user_id = (select cognition.my_user_id())
    )
  );
-- No update or delete: messages are immutable.

-- The conversations the caller may follow live: their own, if their permission row allows it.
-- security_invoker: the tables are read as the caller, under the caller's policies.
-- security_barrier: a caller's own conditions (a function that leaks its arguments, say) run
-- only on the rows that passed the view's, never on the others.
create view live_conversations with (security_invoker = true, security_barrier = true) as
  select c.id, c.title
  from conversations c
  join conversation_members m on m.conversation_id = c.id and m.user_id = (select cognition.my_user_id())
  where coalesce(
    (select p.subscribe from permissions p where p.user_id = (select cognition.my_user_id())),
    false
  );

comment on view live_conversations is 'The conversations the caller may subscribe to: a member, with permission to subscribe.';

-- PL/pgSQL, so that the check runs even when the message id is null (a subscription start),
-- where a plain query with "id = null" would be planned away before reaching it.
create function watch_conversation(p_conversation_id bigint, p_message_id uuid)
  returns setof messages
  language plpgsql stable
  set search_path from current
as $$
begin
  if not exists (select from live_conversations lc where lc.id = p_conversation_id) then
    raise exception 'ERR_PERMISSION_DENIED: not allowed to follow this conversation'
      using errcode = '42501';
  end if;
  return query
    select m.* from messages m where m.id = p_message_id and m.conversation_id = p_conversation_id;
end
$$;

comment on function watch_conversation(bigint, uuid) is
  'The message p_message_id of conversation p_conversation_id if the caller may follow it live; refuses (42501) otherwise.';

grant select on conversations, conversation_members, messages, live_conversations to tenant_readonlys;
grant insert (title) on conversations to tenant_members;
grant insert (conversation_id, user_id) on conversation_members to tenant_members;
grant insert (conversation_id, body) on messages to tenant_members;
revoke execute on function watch_conversation(bigint, uuid) from public;
grant execute on function watch_conversation(bigint, uuid), created_by_me(bigint) to tenant_readonlys;
