-- A view and a function, to show the conventions for both.

-- security_invoker: the view reads notes with the caller's rights and policies, not with
-- its owner's (cognition_owner), so it can never show more than the caller may see.
create view my_notes with (security_invoker = true) as
  select id, title, body, created_at, updated_at
  from notes
  where owner_id = cognition.my_user_id();

comment on view my_notes is 'The calling user''s own notes.';

-- SECURITY DEFINER functions must pin search_path. "from current" takes the schema being
-- migrated (tenant_template, then each tenant), and a cloned tenant gets its own schema.
create function note_count() returns bigint
  language sql stable security definer
  set search_path from current
as $$
  select count(*) from notes
$$;

comment on function note_count() is 'Notes in this tenant, whoever wrote them.';

revoke execute on function note_count() from public;
grant select on my_notes to tenant_users, tenant_admins;
grant execute on function note_count() to tenant_users, tenant_admins;
