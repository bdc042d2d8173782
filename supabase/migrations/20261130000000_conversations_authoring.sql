-- Seed 001's surface over HTTP (issue 18, conversations): the rules the new
-- routes stand on, each held here so that every door (the functions,
-- PostgREST's table API, a browser) meets the same one.
--   1. Exports cannot leak unreviewed data: the status filter defaults to
--      approved unless the filter names a status, and the export log records
--      the effective filter.
--   2. Authoring: edit (fields and turns replaced in one transaction,
--      rescored), submit, delete a draft, archive; illegal moves are 409.
--   3. A reviewer never approves or rejects their own conversation (a
--      trigger, so the table API is held too). Only the service role grants
--      and revokes the reviewer role (the schema has no admin notion).
--   4. Templates, scenarios and edge cases over functions; their counters,
--      rating and success rate are the database's.
--   5. Lists ordered by quality score, keyset paged, served by an index.
--   6. Validation, cleanup and generation batch jobs on the rescore job's
--      machinery (DB-kept positions: a replayed chunk is a 409).

-- ---------------------------------------------------------------------------
-- 1. Export defaults.

-- As in 20261128000000, with the effective filter: approved unless the filter
-- names a status (explicitly; null names none).
create or replace function public.conversations_export_start(
  p_format text, p_shape text, p_filter jsonb, p_include_metadata boolean, p_file_name text
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_filter jsonb := case when p_filter is null or jsonb_typeof(p_filter) = 'null' then '{}'::jsonb else p_filter end;
begin
  perform private.conversation_filter_sql(v_filter);
  if not v_filter ? 'status' then
    v_filter := v_filter || '{"status": "approved"}'::jsonb;
  elsif jsonb_typeof(v_filter -> 'status') <> 'string' then
    raise exception using errcode = '22023', message = 'filter.status: name the status to export (approved unless named)';
  end if;
  return to_jsonb(private.export_log_open(p_format, p_shape, v_filter, p_include_metadata, p_file_name));
end
$$;

-- ---------------------------------------------------------------------------
-- 2. Authoring.

-- As in 20261125000000, plus draft -> pending_review (submitting a draft).
create or replace function private.conversation_status_allowed(p_from text, p_to text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select p_from = p_to or p_to = 'archived' and p_from <> 'archived' or (p_from, p_to) in (
    ('draft', 'generated'), ('draft', 'pending_review'), ('generated', 'pending_review'), ('generated', 'needs_revision'),
    ('pending_review', 'needs_revision'), ('needs_revision', 'generated'), ('needs_revision', 'pending_review'),
    ('generated', 'approved'), ('pending_review', 'approved'), ('needs_revision', 'approved'),
    ('generated', 'rejected'), ('pending_review', 'rejected'), ('needs_revision', 'rejected'),
    ('approved', 'needs_revision'), ('rejected', 'needs_revision'))
$$;

-- A conversation the caller may see, locked for a move by its author (or the
-- service role): 404 when invisible, 403 for a reviewer acting on another's.
create or replace function private.conversation_own_locked(p_key text, p_action text) returns public.conversations
language plpgsql
set search_path = ''
as $$
declare
  c public.conversations := private.conversation_visible(p_key);
begin
  select * into c from public.conversations where id = c.id for no key update;
  if c.created_by is distinct from auth.uid() and not private.acting_as_service() then
    raise exception using errcode = '42501', message = format('only the author of conversation %s may %s it', c.conversation_id, p_action);
  end if;
  return c;
end
$$;

-- Editable while it is the author's work in progress: a draft, a generated
-- conversation not yet submitted, or one sent back for revision.
create or replace function public.conversations_update(p_key text, p_changes jsonb default null, p_turns jsonb default null)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_changes jsonb := coalesce(p_changes, '{}'::jsonb);
  c public.conversations;
  r public.conversations;
  v_unknown text[];
begin
  if jsonb_typeof(v_changes) <> 'object' then
    raise exception using errcode = '22023', message = 'changes must be an object';
  end if;
  select array_agg(k order by k) into v_unknown from jsonb_object_keys(v_changes) k
   where k not in ('title', 'persona', 'emotion', 'topic', 'intent', 'tone', 'category', 'quality_metrics', 'parameters', 'metadata');
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('fields that cannot be edited: %s', array_to_string(v_unknown, ', '));
  end if;
  if p_turns is not null and (jsonb_typeof(p_turns) <> 'array' or jsonb_array_length(p_turns) not between 1 and 500) then
    raise exception using errcode = '22023', message = 'turns: give 1 to 500 turns (they replace the stored ones)';
  end if;
  if v_changes = '{}'::jsonb and p_turns is null then
    raise exception using errcode = '22023', message = 'nothing to change: give fields or turns';
  end if;
  c := private.conversation_own_locked(p_key, 'edit');
  if c.status not in ('draft', 'generated', 'needs_revision') then
    raise exception using errcode = 'PT409',
      message = format('conversation %s is %s: only a draft, a generated conversation or one in revision is edited', c.conversation_id, c.status),
      detail = format('current status: %s', c.status);
  end if;
  r := jsonb_populate_record(c, v_changes);
  update public.conversations set title = r.title, persona = r.persona, emotion = r.emotion, topic = r.topic, intent = r.intent,
         tone = r.tone, category = r.category, quality_metrics = r.quality_metrics, parameters = r.parameters, metadata = r.metadata
   where id = c.id;
  if p_turns is not null then
    delete from public.conversation_turns where conversation_id = c.id;
    insert into public.conversation_turns (conversation_id, turn_number, role, content, token_count)
    select c.id, coalesce(t.turn_number, e.ord::int), t.role, t.content, t.token_count
      from jsonb_array_elements(p_turns) with ordinality e(turn, ord),
           jsonb_to_record(e.turn) as t(turn_number integer, role text, content text, token_count integer);
  end if;
  select * into c from public.conversations where id = c.id;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;

-- Reviewed content is frozen (20261128000000), and deleting it is the
-- largest change of all: an approved or rejected conversation is deleted by
-- the service role only, through any door. Unreviewed ones stay their
-- owner's to delete through the table API; the HTTP route deletes drafts.
create or replace function private.conversations_keep_reviewed() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not private.acting_as_service() then
    raise exception using errcode = 'PT409',
      message = format('conversation %s is %s: a reviewed conversation is not deleted (archive it)', old.conversation_id, old.status);
  end if;
  return old;
end
$$;

create or replace trigger conversations_keep_reviewed
  before delete on public.conversations
  for each row when (old.status in ('approved', 'rejected'))
  execute function private.conversations_keep_reviewed();

create or replace function public.conversations_submit(p_key text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c public.conversations := private.conversation_own_locked(p_key, 'submit');
begin
  if c.status not in ('draft', 'generated', 'needs_revision') then
    raise exception using errcode = 'PT409',
      message = format('cannot submit conversation %s: it is %s', c.conversation_id, c.status),
      detail = format('current status: %s', c.status);
  end if;
  update public.conversations set status = 'pending_review' where id = c.id returning * into c;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;

-- Only a draft is deleted (anything further along is archived: it may be in a review or an export).
create or replace function public.conversations_delete(p_key text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c public.conversations := private.conversation_own_locked(p_key, 'delete');
begin
  if c.status <> 'draft' then
    raise exception using errcode = 'PT409',
      message = format('conversation %s is %s: only a draft is deleted (archive it instead)', c.conversation_id, c.status),
      detail = format('current status: %s', c.status);
  end if;
  delete from public.conversations where id = c.id;
  return jsonb_build_object('id', c.id, 'conversation_id', c.conversation_id, 'deleted', true);
end
$$;

-- Archived by its author, a reviewer or the service role (RLS: whoever may update it).
create or replace function public.conversations_archive(p_key text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c public.conversations := private.conversation_visible(p_key);
begin
  select * into c from public.conversations where id = c.id for no key update;
  if c.status = 'archived' then
    raise exception using errcode = 'PT409', message = format('conversation %s is already archived', c.conversation_id),
      detail = 'current status: archived';
  end if;
  update public.conversations set status = 'archived' where id = c.id returning * into c;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;

-- ---------------------------------------------------------------------------
-- 3. Reviewers.

-- Nobody approves or rejects their own conversation (the service role, an
-- administrator, excepted): another reviewer does.
create or replace function private.conversations_no_self_review() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.created_by = auth.uid() and not private.acting_as_service() then
    raise exception using errcode = '42501',
      message = format('a reviewer cannot %s their own conversation %s: another reviewer does',
                       case new.status when 'approved' then 'approve' else 'reject' end, old.conversation_id);
  end if;
  return new;
end
$$;

create or replace trigger conversations_no_self_review
  before update of status on public.conversations
  for each row when (new.status in ('approved', 'rejected') and old.status is distinct from new.status)
  execute function private.conversations_no_self_review();

-- Granted and revoked by the service role only (is_reviewer is not writable
-- by users; the schema has no admin reviewer). The user must exist.
create or replace function public.conversations_set_reviewer(p_user_id uuid, p_is_reviewer boolean) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  p public.user_profiles;
begin
  if not private.acting_as_service() then
    raise exception using errcode = '42501', message = 'the reviewer role is granted and revoked by the service role';
  end if;
  if p_user_id is null or p_is_reviewer is null then
    raise exception using errcode = '22023', message = 'give a user id and whether they review';
  end if;
  begin
    insert into public.user_profiles (id, is_reviewer) values (p_user_id, p_is_reviewer)
    on conflict (id) do update set is_reviewer = excluded.is_reviewer
    returning * into p;
  exception when foreign_key_violation then
    raise exception using errcode = 'PT404', message = format('user %s not found', p_user_id);
  end;
  return jsonb_build_object('user_id', p.id, 'display_name', p.display_name, 'is_reviewer', p.is_reviewer, 'created_at', p.created_at);
end
$$;

-- The reviewers, by user id; read by reviewers and the service role.
create or replace function public.conversations_list_reviewers(p_limit integer default 50, p_cursor text default null) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_after uuid;
  v_items jsonb;
  v_count integer;
  v_last uuid;
begin
  if not private.can_review() then
    raise exception using errcode = '42501', message = 'the reviewers are listed for reviewers and the service role';
  end if;
  perform private.check_page_limit(p_limit);
  if p_cursor is not null then
    v_after := (private.cursor_decode(p_cursor) ->> 'u')::uuid;
    if v_after is null then
      raise exception using errcode = '22023', message = 'invalid cursor';
    end if;
  end if;
  select coalesce(jsonb_agg(jsonb_build_object('user_id', p.id, 'display_name', p.display_name, 'is_reviewer', true,
                                               'created_at', p.created_at) order by p.id), '[]'::jsonb), count(*), max(p.id::text)::uuid
    into v_items, v_count, v_last
    from (select * from public.user_profiles u where u.is_reviewer and (v_after is null or u.id > v_after) order by u.id limit p_limit) p;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(jsonb_build_object('u', v_last)) end);
end
$$;

create index if not exists user_profiles_reviewers_idx on public.user_profiles (id) where is_reviewer;

-- ---------------------------------------------------------------------------
-- 4. Templates, scenarios, edge cases.

-- Edge cases are deactivated like templates (scenarios by status archived).
alter table public.edge_cases add column if not exists is_active boolean not null default true;
create index if not exists edge_cases_active_idx on public.edge_cases (is_active, created_at desc, id desc);
create index if not exists conversation_templates_created_idx on public.conversation_templates (created_at desc, id desc);
create index if not exists scenarios_created_idx on public.scenarios (created_at desc, id desc);
grant insert (is_active), update (is_active) on table public.edge_cases to authenticated;

-- What a client writes of each (the rest is the database's: ids, owners,
-- timestamps, usage_count, rating, success_rate); the same as the grants.
create or replace function private.library_columns(p_kind text) returns text[]
language sql immutable parallel safe
set search_path = ''
as $$
  select case p_kind
    when 'conversation_templates' then array['template_name', 'description', 'category', 'tier', 'template_text', 'system_prompt',
      'structure', 'variables', 'applicable_personas', 'applicable_emotions', 'applicable_topics', 'min_turns', 'max_turns', 'version',
      'is_active']
    when 'scenarios' then array['parent_template_id', 'name', 'description', 'context', 'persona', 'topic', 'emotional_arc',
      'parameter_values', 'status']
    when 'edge_cases' then array['parent_template_id', 'name', 'description', 'edge_case_type', 'trigger_condition',
      'expected_behavior', 'risk_level', 'validation_criteria', 'test_status', 'is_active']
  end
$$;

create or replace function private.library_kind(p_kind text) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_kind is null or p_kind not in ('conversation_templates', 'scenarios', 'edge_cases') then
    raise exception using errcode = '22023', message = 'kind must be conversation_templates, scenarios or edge_cases';
  end if;
  return p_kind;
end
$$;

create or replace function private.library_noun(p_kind text) returns text
language sql immutable parallel safe
set search_path = ''
as $$ select case p_kind when 'conversation_templates' then 'template' when 'scenarios' then 'scenario' else 'edge case' end $$;

-- The list filter of each kind as SQL over alias t, every value read from $1.
create or replace function private.library_filter_sql(p_kind text, p_filter jsonb) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_where text[] := array['true'];
  v_allowed text[] := case p_kind
    when 'conversation_templates' then array['active', 'tier', 'category', 'persona', 'emotion', 'topic', 'created_by']
    when 'scenarios' then array['active', 'status', 'persona', 'topic', 'parent_template_id', 'created_by']
    else array['active', 'risk_level', 'edge_case_type', 'test_status', 'parent_template_id', 'created_by'] end;
  v_unknown text[];
begin
  if p_filter is null or jsonb_typeof(p_filter) = 'null' then
    return 'true';
  end if;
  if jsonb_typeof(p_filter) <> 'object' then
    raise exception using errcode = '22023', message = 'filter must be an object';
  end if;
  select array_agg(k order by k) into v_unknown from jsonb_object_keys(p_filter) k where k <> all (v_allowed);
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('unknown filter fields: %s', array_to_string(v_unknown, ', '));
  end if;
  if p_filter ? 'active' then
    v_where := array_append(v_where, case p_kind when 'scenarios' then '(t.status = ''active'') = ($1 ->> ''active'')::boolean'
                                                 else 't.is_active = ($1 ->> ''active'')::boolean' end);
  end if;
  if p_kind = 'conversation_templates' then
    -- applicability: the template lists the persona, emotion or topic
    if p_filter ? 'persona' then v_where := array_append(v_where, 't.applicable_personas @> array[$1 ->> ''persona'']'); end if;
    if p_filter ? 'emotion' then v_where := array_append(v_where, 't.applicable_emotions @> array[$1 ->> ''emotion'']'); end if;
    if p_filter ? 'topic' then v_where := array_append(v_where, 't.applicable_topics @> array[$1 ->> ''topic'']'); end if;
    if p_filter ? 'tier' then v_where := array_append(v_where, 't.tier = ($1 ->> ''tier'')'); end if;
    if p_filter ? 'category' then v_where := array_append(v_where, 't.category = ($1 ->> ''category'')'); end if;
  else
    if p_filter ? 'persona' then v_where := array_append(v_where, 't.persona = ($1 ->> ''persona'')'); end if;
    if p_filter ? 'topic' then v_where := array_append(v_where, 't.topic = ($1 ->> ''topic'')'); end if;
    if p_filter ? 'status' then v_where := array_append(v_where, 't.status = ($1 ->> ''status'')'); end if;
    if p_filter ? 'risk_level' then v_where := array_append(v_where, 't.risk_level = ($1 ->> ''risk_level'')'); end if;
    if p_filter ? 'edge_case_type' then v_where := array_append(v_where, 't.edge_case_type = ($1 ->> ''edge_case_type'')'); end if;
    if p_filter ? 'test_status' then v_where := array_append(v_where, 't.test_status = ($1 ->> ''test_status'')'); end if;
    if p_filter ? 'parent_template_id' then
      v_where := array_append(v_where, 't.parent_template_id = ($1 ->> ''parent_template_id'')::uuid');
    end if;
  end if;
  if p_filter ? 'created_by' then v_where := array_append(v_where, 't.created_by = ($1 ->> ''created_by'')::uuid'); end if;
  return array_to_string(v_where, ' and ');
end
$$;

-- Newest first, keyset paged on (created_at, id); RLS as the caller (shared
-- rows, one's own, reviewers all).
create or replace function public.conversation_library_list(p_kind text, p_filter jsonb default null, p_limit integer default 50,
                                                            p_cursor text default null) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_kind text := private.library_kind(p_kind);
  v_cursor jsonb;
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  execute format(
    'select coalesce(jsonb_agg(to_jsonb(p) order by p.created_at desc, p.id desc), ''[]''::jsonb), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.id) order by p.created_at, p.id))[1]
       from (select t.* from public.%I t where %s %s order by t.created_at desc, t.id desc limit $4) p',
    v_kind, private.library_filter_sql(v_kind, p_filter),
    case when v_cursor is null then '' else 'and (t.created_at, t.id) < ($2, $3)' end)
  into v_items, v_count, v_last
  using p_filter, (v_cursor ->> 't')::timestamptz, (v_cursor ->> 'i')::uuid, p_limit;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

create or replace function public.conversation_library_get(p_kind text, p_id uuid) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_kind text := private.library_kind(p_kind);
  v_row jsonb;
begin
  execute format('select to_jsonb(t) from public.%I t where t.id = $1', v_kind) into v_row using p_id;
  if v_row is null then
    raise exception using errcode = 'PT404', message = format('%s %s not found', private.library_noun(v_kind), p_id);
  end if;
  return v_row;
end
$$;

-- Create (p_id null) or update the given fields. Only client columns are
-- written, as the caller: the grants and RLS decide (a user writes their own
-- rows; the service role also the shared ones, created without an owner).
create or replace function public.conversation_library_save(p_kind text, p_id uuid, p_fields jsonb) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_kind text := private.library_kind(p_kind);
  v_columns text[];
  v_unknown text[];
  v_row jsonb;
begin
  if jsonb_typeof(p_fields) is distinct from 'object' then
    raise exception using errcode = '22023', message = 'fields must be an object';
  end if;
  select array_agg(k order by k) filter (where k <> all (private.library_columns(v_kind))),
         array_agg(k order by k) filter (where k = any (private.library_columns(v_kind)))
    into v_unknown, v_columns from jsonb_object_keys(p_fields) k;
  if v_unknown is not null then
    raise exception using errcode = '22023',
      message = format('fields a client does not write: %s', array_to_string(v_unknown, ', '));
  end if;
  if p_id is null then
    if v_columns is null then
      raise exception using errcode = '22023', message = format('give the new %s''s fields', private.library_noun(v_kind));
    end if;
    execute format('insert into public.%1$I as t (%2$s) select %3$s from jsonb_populate_record(null::public.%1$I, $1) r returning to_jsonb(t)',
      v_kind, coalesce((select string_agg(format('%I', c), ', ') from unnest(v_columns) c), ''),
      coalesce((select string_agg(format('r.%I', c), ', ') from unnest(v_columns) c), ''))
      into v_row using p_fields;
    return v_row;
  end if;
  if v_columns is null then
    raise exception using errcode = '22023', message = 'nothing to change: give at least one field';
  end if;
  perform public.conversation_library_get(v_kind, p_id);
  execute format('update public.%1$I t set %2$s from jsonb_populate_record(null::public.%1$I, $1) r where t.id = $2 returning to_jsonb(t)',
    v_kind, (select string_agg(format('%1$I = r.%1$I', c), ', ') from unnest(v_columns) c))
    into v_row using p_fields, p_id;
  if v_row is null then
    raise exception using errcode = '42501',
      message = format('%s %s is changed by its author (shared ones by the service role)', private.library_noun(v_kind), p_id);
  end if;
  return v_row;
end
$$;

-- Deactivate: templates and edge cases is_active = false, scenarios archived. Twice is 409.
create or replace function public.conversation_library_deactivate(p_kind text, p_id uuid) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_kind text := private.library_kind(p_kind);
  v_row jsonb := public.conversation_library_get(v_kind, p_id);
begin
  if (v_kind = 'scenarios' and v_row ->> 'status' = 'archived') or (v_kind <> 'scenarios' and not (v_row ->> 'is_active')::boolean) then
    raise exception using errcode = 'PT409', message = format('%s %s is already inactive', private.library_noun(v_kind), p_id);
  end if;
  return public.conversation_library_save(v_kind, p_id,
    case v_kind when 'scenarios' then '{"status": "archived"}'::jsonb else '{"is_active": false}'::jsonb end);
end
$$;

-- A template's record, kept by the database as its conversations are
-- reviewed: success_rate = approved / (approved + rejected); rating = the
-- mean quality score of its approved conversations, on the 0-5 scale.
create or replace function private.conversation_templates_record() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.conversation_templates t set
    success_rate = round(s.approved::numeric / nullif(s.reviewed, 0), 4),
    rating = round(s.mean_approved / 2, 2)
  from (select count(*) filter (where c.status = 'approved') as approved,
               count(*) filter (where c.status in ('approved', 'rejected')) as reviewed,
               avg(c.quality_score) filter (where c.status = 'approved') as mean_approved
          from public.conversations c where c.template_id = new.template_id) s
  where t.id = new.template_id;
  return null;
end
$$;

create or replace trigger conversations_template_record
  after update of status on public.conversations
  for each row when (new.template_id is not null and old.status is distinct from new.status
                     and (old.status in ('approved', 'rejected') or new.status in ('approved', 'rejected')))
  execute function private.conversation_templates_record();

-- ---------------------------------------------------------------------------
-- 5. Lists by quality (the seed's dashboard query: status, quality desc).
-- Unscored conversations sort as -1: last when descending, first ascending.
create index if not exists conversations_quality_order_idx
  on public.conversations ((coalesce(quality_score, -1)) desc, id desc);
create index if not exists conversations_status_quality_order_idx
  on public.conversations (status, (coalesce(quality_score, -1)) desc, id desc);

drop function if exists public.conversations_list(jsonb, integer, text);
-- As in 20261125000000, with an order: created_at.desc (default; cursor
-- {t, i} as before), quality_score.desc or quality_score.asc (cursor
-- {o, q, i}; a cursor of another order is refused).
create or replace function public.conversations_list(p_filter jsonb default null, p_limit integer default 50, p_cursor text default null,
                                                     p_order text default 'created_at.desc')
returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_order text := coalesce(p_order, 'created_at.desc');
  v_cursor jsonb;
  v_key text;
  v_dir text;
  v_cmp text;
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  if v_order = 'created_at.desc' then
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
  elsif v_order in ('quality_score.desc', 'quality_score.asc') then
    if p_cursor is not null then
      v_cursor := private.cursor_decode(p_cursor);
      if v_cursor ->> 'o' is distinct from v_order or v_cursor ->> 'q' is null or v_cursor ->> 'i' is null then
        raise exception using errcode = '22023', message = format('invalid cursor for order %s', v_order);
      end if;
    end if;
    v_key := 'coalesce(c.quality_score, -1)';
    v_dir := case v_order when 'quality_score.desc' then 'desc' else 'asc' end;
    v_cmp := case v_order when 'quality_score.desc' then '<' else '>' end;
    execute format(
      'select coalesce(jsonb_agg(private.conversation_json(p) order by coalesce(p.quality_score, -1) %1$s, p.id %1$s), ''[]''::jsonb),
              count(*),
              (array_agg(jsonb_build_object(''o'', $5, ''q'', coalesce(p.quality_score, -1), ''i'', p.id)
                         order by coalesce(p.quality_score, -1) %3$s, p.id %3$s))[1]
         from (select c.* from public.conversations c
                where %5$s %6$s
                order by %4$s %1$s, c.id %1$s limit $4) p',
      v_dir, v_cmp, case v_dir when 'desc' then 'asc' else 'desc' end, v_key, private.conversation_filter_sql(p_filter),
      case when v_cursor is null then '' else format('and (%s, c.id) %s ($2, $3)', v_key, v_cmp) end)
    into v_items, v_count, v_last
    using p_filter, (v_cursor ->> 'q')::numeric, (v_cursor ->> 'i')::uuid, p_limit, v_order;
  else
    raise exception using errcode = '22023', message = 'order must be created_at.desc, quality_score.desc or quality_score.asc';
  end if;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

-- ---------------------------------------------------------------------------
-- 6. Batch jobs: validation (rescore + structure checks over a filter) and
-- cleanup (archive flagged conversations older than N days) run in chunks
-- the caller drives, each its own transaction, positions kept by the
-- database (private.batch_job_*): a replayed chunk is a 409. Generation runs
-- outside this product: its job is a record its worker reports to.
-- Started by the service role.
create or replace function public.conversations_batch_job_start(
  p_job_type text, p_filter jsonb default null, p_older_than_days integer default null, p_total integer default null,
  p_name text default null
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_total integer;
  v_cutoff timestamptz;
begin
  if not private.acting_as_service() then
    raise exception using errcode = '42501', message = 'batch jobs are started by the service role';
  end if;
  if p_job_type = 'validation' then
    execute format('select count(*) from public.conversations c where %s', private.conversation_filter_sql(p_filter))
      into v_total using p_filter;
    return to_jsonb(private.batch_job_open('validation', 'validate', v_total, jsonb_build_object('filter', p_filter)));
  elsif p_job_type = 'cleanup' then
    if p_older_than_days is null or p_older_than_days not between 0 and 36500 then
      raise exception using errcode = '22023', message = 'older_than_days: give a number of days, 0 to 36500';
    end if;
    v_cutoff := now() - make_interval(days => p_older_than_days);
    execute format('select count(*) from public.conversations c where %s and c.is_flagged and c.status not in (''archived'', ''approved'')
                      and c.created_at < $2', private.conversation_filter_sql(p_filter))
      into v_total using p_filter, v_cutoff;
    return to_jsonb(private.batch_job_open('cleanup', 'archive_flagged', v_total,
      jsonb_build_object('filter', p_filter, 'older_than_days', p_older_than_days, 'cutoff', v_cutoff)));
  elsif p_job_type = 'generation' then
    if p_total is null or p_total not between 1 and 10000000 then
      raise exception using errcode = '22023', message = 'total_items: give the number of conversations to generate';
    end if;
    return to_jsonb(private.batch_job_open('generation', coalesce(p_name, 'generation'), p_total,
      jsonb_build_object('filter', p_filter)));
  end if;
  raise exception using errcode = '22023', message = 'job_type must be validation, cleanup or generation';
end
$$;

-- One chunk of a validation or cleanup job, after where the job stands.
create or replace function public.conversations_batch_job_chunk(p_job_id uuid, p_after uuid default null, p_limit integer default 1000)
returns jsonb
language plpgsql
set search_path = ''
set jit = off
as $$
declare
  j public.batch_jobs;
  v_position private.job_positions;
  v_counts jsonb;
  v_results jsonb;
begin
  perform private.check_page_limit(p_limit, 10000);
  select * into j from public.batch_jobs
   where id = p_job_id and (job_type, name) in (('validation', 'validate'), ('cleanup', 'archive_flagged'));
  if not found then
    raise exception using errcode = 'PT404', message = format('validation or cleanup job %s not found', p_job_id);
  end if;
  if j.status <> 'running' then
    raise exception using errcode = 'PT409', message = format('job %s is %s', p_job_id, j.status);
  end if;
  v_position := private.batch_job_position(p_job_id);
  if p_after is distinct from v_position.after_id then
    raise exception using errcode = 'PT409',
      message = format('job %s has moved on: its next chunk starts after %s, not after %s', p_job_id,
                       coalesce(v_position.after_id::text, 'the beginning'), coalesce(p_after::text, 'the beginning'));
  end if;
  if v_position.exhausted then
    return jsonb_build_object('processed', 0, 'next_after', null);
  end if;
  if j.job_type = 'validation' then
    perform set_config('registry.rescore', 'on', true);
    execute format(
      'with chunk as (select c.id, c.is_flagged from public.conversations c where %s and ($2::uuid is null or c.id > $2)
                       order by c.id limit $3),
            done as (update public.conversations u set quality_metrics = u.quality_metrics from chunk
                      where u.id = chunk.id
                      returning u.id, u.is_flagged, chunk.is_flagged as was_flagged,
                                private.quality_breakdown(u.id, u.quality_metrics, u.template_id) -> ''structure_checks'' as s)
       select jsonb_build_object(''processed'', count(*), ''flagged'', count(*) filter (where is_flagged and not was_flagged),
                ''unflagged'', count(*) filter (where was_flagged and not is_flagged),
                ''unchanged'', count(*) filter (where is_flagged = was_flagged),
                ''structure_failed'', count(*) filter (where not ((s ->> ''roles_alternate'')::boolean and (s ->> ''no_empty_turn'')::boolean
                                                                 and (s ->> ''turn_count_in_bounds'')::boolean)),
                ''roles_not_alternating'', count(*) filter (where not (s ->> ''roles_alternate'')::boolean),
                ''empty_turns'', count(*) filter (where not (s ->> ''no_empty_turn'')::boolean),
                ''turn_count_out_of_bounds'', count(*) filter (where not (s ->> ''turn_count_in_bounds'')::boolean),
                ''last'', max(id::text))
         from done', private.conversation_filter_sql(j.parameters -> 'filter'))
      into v_counts using j.parameters -> 'filter', v_position.after_id, p_limit;
    perform set_config('registry.rescore', '', true);
    v_results := v_counts - 'processed' - 'last';
  else
    execute format(
      'with chunk as (select c.id from public.conversations c
                       where %s and c.is_flagged and c.status not in (''archived'', ''approved'') and c.created_at < $4
                         and ($2::uuid is null or c.id > $2)
                       order by c.id limit $3),
            done as (update public.conversations u set status = ''archived'' from chunk where u.id = chunk.id returning u.id)
       select jsonb_build_object(''processed'', count(*), ''archived'', count(*), ''last'', max(id::text)) from done',
      private.conversation_filter_sql(j.parameters -> 'filter'))
      into v_counts using j.parameters -> 'filter', v_position.after_id, p_limit, (j.parameters ->> 'cutoff')::timestamptz;
    v_results := jsonb_build_object('archived', (v_counts ->> 'archived')::int);
  end if;
  perform private.batch_job_progress(p_job_id, (v_counts ->> 'processed')::int, v_results,
    (v_counts ->> 'last')::uuid, (v_counts ->> 'processed')::int < p_limit);
  return jsonb_build_object('processed', (v_counts ->> 'processed')::int,
    'next_after', case when (v_counts ->> 'processed')::int = p_limit then v_counts ->> 'last' end);
end
$$;

-- A generation job's progress, reported by its worker (the service role):
-- the counts it adds, and how many it believes were processed before (a
-- replayed report is a 409, not a double count). Done once processed reaches
-- the total; then conversations_finish_job completes it.
create or replace function public.conversations_batch_job_report(
  p_job_id uuid, p_processed_before integer, p_succeeded integer, p_failed integer default 0, p_results jsonb default null
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  j public.batch_jobs;
begin
  if not private.acting_as_service() then
    raise exception using errcode = '42501', message = 'a generation job''s progress is reported by its worker (the service role)';
  end if;
  if coalesce(p_succeeded, -1) < 0 or coalesce(p_failed, -1) < 0 or p_processed_before is null then
    raise exception using errcode = '22023', message = 'give processed_before, and succeeded and failed counts of 0 or more';
  end if;
  if p_results is not null and (jsonb_typeof(p_results) <> 'object'
      or exists (select 1 from jsonb_each(p_results) e where jsonb_typeof(e.value) <> 'number')) then
    raise exception using errcode = '22023', message = 'results: an object of counts (numbers), summed into the job''s';
  end if;
  perform private.batch_job_position(p_job_id);
  select * into j from public.batch_jobs where id = p_job_id;
  if j.job_type <> 'generation' then
    raise exception using errcode = 'PT409', message = format('job %s is a %s job: the database runs it, no worker reports', p_job_id, j.job_type);
  end if;
  if j.processed_items <> p_processed_before then
    raise exception using errcode = 'PT409',
      message = format('job %s has processed %s items, not %s: this report was made or replayed already', p_job_id, j.processed_items,
                       p_processed_before);
  end if;
  if j.processed_items + p_succeeded + p_failed > j.total_items then
    raise exception using errcode = 'PT409', message = format('job %s has %s items in all: %s more is too many', p_job_id, j.total_items,
                                                              p_succeeded + p_failed);
  end if;
  perform private.batch_job_progress(p_job_id, p_succeeded, coalesce(p_results, '{}'::jsonb), null,
                                     j.processed_items + p_succeeded + p_failed >= j.total_items);
  update public.batch_jobs set processed_items = processed_items + p_failed, failed_items = failed_items + p_failed
   where id = p_job_id returning * into j;
  return to_jsonb(j);
end
$$;

-- ---------------------------------------------------------------------------
-- Privileges.
do $$
declare
  fns text := 'public.conversations_update(text, jsonb, jsonb), public.conversations_submit(text), public.conversations_delete(text),
    public.conversations_archive(text), public.conversations_set_reviewer(uuid, boolean), public.conversations_list_reviewers(integer, text),
    public.conversation_library_list(text, jsonb, integer, text), public.conversation_library_get(text, uuid),
    public.conversation_library_save(text, uuid, jsonb), public.conversation_library_deactivate(text, uuid),
    public.conversations_list(jsonb, integer, text, text),
    public.conversations_batch_job_start(text, jsonb, integer, integer, text), public.conversations_batch_job_chunk(uuid, uuid, integer),
    public.conversations_batch_job_report(uuid, integer, integer, integer, jsonb),
    private.conversation_own_locked(text, text), private.library_columns(text), private.library_kind(text), private.library_noun(text),
    private.library_filter_sql(text, jsonb)';
begin
  execute format('revoke all on function %s from public, anon', fns);
  execute format('grant execute on function %s to authenticated, service_role', fns);
  execute 'revoke all on function private.conversations_no_self_review(), private.conversation_templates_record(),
    private.conversations_keep_reviewed() from public, anon, authenticated';
end
$$;
