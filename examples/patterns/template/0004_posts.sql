-- Use case 6: public and private records, combined with group membership both ways.
--
--   PUBLIC posts:  every user of the tenant reads them.
--   PRIVATE posts: those with permission read them (their author, and users whose permission
--                  row says read_private) ...
--     ... OR  anyone in the group Admin             (a permissive policy: ORed with the others)
--     ... AND only users in the group Member or above (a restrictive policy: ANDed with them)
--
-- So a ReadOnly user whose permission row says read_private still reads no private post, and an
-- Admin reads every private post without a permission row. Amplify's @auth rules can only OR;
-- Postgres combines permissive policies with OR and then every restrictive policy with AND.
-- "Member or above" is the group by rank: the ranks above Member hold Member's privileges too.

create table posts (
  id bigint generated always as identity primary key,
  author_id uuid not null default cognition.my_user_id(),
  title text not null check (char_length(title) between 1 and 200),
  body text not null default '' check (char_length(body) <= 20000),
  -- The GraphQL enum's names, so resolvers return the value as stored.
  visibility text not null default 'PRIVATE' check (visibility in ('PUBLIC', 'PRIVATE')),
  created_at timestamptz not null default now()
);

create index posts_author_idx on posts (author_id);

comment on table posts is 'Posts, PUBLIC (the whole tenant) or PRIVATE (those with permission): use case 6.';
comment on column posts.author_id is 'Always the caller who wrote it: not writable by users.';

alter table posts enable row level security;
alter table posts force row level security;

create policy posts_public_read on posts for select
  using (visibility = 'PUBLIC');
create policy posts_author_read on posts for select
  using (author_id = (select cognition.my_user_id()));
-- The permission row is read once per statement (an uncorrelated sub-select), under the
-- caller's own policy on permissions: their own row.
create policy posts_permitted_read on posts for select
  using (
    visibility = 'PRIVATE'
    and coalesce(
      (select p.read_private from permissions p where p.user_id = (select cognition.my_user_id())),
      false
    )
  );
-- OR: private, or in the group Admin.
create policy posts_admin_read on posts for select
  using ((select cognition.my_role()) = 'Admin');
-- AND: private, and in the group Member or above.
create policy posts_private_needs_member on posts as restrictive for select
  using (
    visibility = 'PUBLIC'
    or (select cognition.my_rank()) >= (select cognition.role_rank('Member'))
  );

create policy posts_author_insert on posts for insert
  with check (author_id = (select cognition.my_user_id()));

grant select on posts to tenant_readonlys;
grant insert (title, body, visibility) on posts to tenant_members;
