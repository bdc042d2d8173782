-- Inverse of 20261130000000_conversations_authoring: the functions, triggers,
-- indexes and column it added go; the export start, the status moves and
-- the conversation list return to their previous bodies.

drop function if exists public.conversations_batch_job_report(uuid, integer, integer, integer, jsonb);
drop function if exists public.conversations_batch_job_chunk(uuid, uuid, integer);
drop function if exists public.conversations_batch_job_start(text, jsonb, integer, integer, text);

drop function if exists public.conversations_list(jsonb, integer, text, text);
drop index if exists public.conversations_status_quality_order_idx;
drop index if exists public.conversations_quality_order_idx;

drop trigger if exists conversations_template_record on public.conversations;
drop function if exists private.conversation_templates_record();
drop function if exists public.conversation_library_deactivate(text, uuid);
drop function if exists public.conversation_library_save(text, uuid, jsonb);
drop function if exists public.conversation_library_get(text, uuid);
drop function if exists public.conversation_library_list(text, jsonb, integer, text);
drop function if exists private.library_filter_sql(text, jsonb);
drop function if exists private.library_noun(text);
drop function if exists private.library_kind(text);
drop function if exists private.library_columns(text);
drop index if exists public.scenarios_created_idx;
drop index if exists public.conversation_templates_created_idx;
drop index if exists public.edge_cases_active_idx;
alter table public.edge_cases drop column if exists is_active;

drop index if exists public.user_profiles_reviewers_idx;
drop function if exists public.conversations_list_reviewers(integer, text);
drop function if exists public.conversations_set_reviewer(uuid, boolean);
drop trigger if exists conversations_no_self_review on public.conversations;
drop function if exists private.conversations_no_self_review();

drop function if exists public.conversations_archive(text);
drop function if exists public.conversations_delete(text);
drop function if exists public.conversations_submit(text);
drop function if exists public.conversations_update(text, jsonb, jsonb);
drop function if exists private.conversation_own_locked(text, text);
drop trigger if exists conversations_keep_reviewed on public.conversations;
drop function if exists private.conversations_keep_reviewed();

-- As in 20261125000000.
create or replace function private.conversation_status_allowed(p_from text, p_to text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select p_from = p_to or p_to = 'archived' and p_from <> 'archived' or (p_from, p_to) in (
    ('draft', 'generated'), ('generated', 'pending_review'), ('generated', 'needs_revision'),
    ('pending_review', 'needs_revision'), ('needs_revision', 'generated'), ('needs_revision', 'pending_review'),
    ('generated', 'approved'), ('pending_review', 'approved'), ('needs_revision', 'approved'),
    ('generated', 'rejected'), ('pending_review', 'rejected'), ('needs_revision', 'rejected'),
    ('approved', 'needs_revision'), ('rejected', 'needs_revision'))
$$;

-- As in 20261125000000.
create or replace function public.conversations_list(p_filter jsonb default null, p_limit integer default 50, p_cursor text default null)
returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_cursor jsonb;
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  execute format(
    'select coalesce(jsonb_agg(private.conversation_json(p) order by p.created_at desc, p.id desc), ''[]''::jsonb), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.id) order by p.created_at, p.id))[1]
       from (select c.* from public.conversations c
              where %s %s
              order by c.created_at desc, c.id desc limit $4) p',
    private.conversation_filter_sql(p_filter),
    case when v_cursor is null then '' else 'and (c.created_at, c.id) < ($2, $3)' end)
  into v_items, v_count, v_last
  using p_filter, (v_cursor ->> 't')::timestamptz, (v_cursor ->> 'i')::uuid, p_limit;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

revoke all on function public.conversations_list(jsonb, integer, text) from public, anon;
grant execute on function public.conversations_list(jsonb, integer, text) to authenticated, service_role;

-- As in 20261128000000.
create or replace function public.conversations_export_start(
  p_format text, p_shape text, p_filter jsonb, p_include_metadata boolean, p_file_name text
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
begin
  perform private.conversation_filter_sql(p_filter);
  return to_jsonb(private.export_log_open(p_format, p_shape, p_filter, p_include_metadata, p_file_name));
end
$$;
