-- conversations: private helpers and trigger functions (not callable through the API)
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- Applies a breakdown to the row being written: score, flag, reason, status,
-- and one history entry when the flag changes.
create or replace function private.apply_quality (
  c         public.conversations,
  breakdown jsonb
)
  returns public.conversations
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  v_flagged boolean := (breakdown ->> 'flagged')::boolean;
  v_from text := c.status;
begin
  c.quality_score := (breakdown ->> 'score')::numeric;
  if v_flagged and not c.is_flagged then
    c.is_flagged := true;
    c.flag_reason := format('quality %s below %s: weak %s', breakdown ->> 'score', breakdown ->> 'threshold',
      (select string_agg(w, ', ') from jsonb_array_elements_text(breakdown -> 'weak_components') w));
    if c.status in ('generated', 'pending_review') then
      c.status := 'needs_revision';
    end if;
    c.review_history := c.review_history || jsonb_build_array(jsonb_build_object(
      'action', 'auto_flag', 'at', now(), 'by', auth.uid(), 'from_status', v_from, 'to_status', c.status,
      'score', c.quality_score, 'threshold', breakdown -> 'threshold', 'reason', c.flag_reason));
  elsif v_flagged then
    c.flag_reason := format('quality %s below %s: weak %s', breakdown ->> 'score', breakdown ->> 'threshold',
      (select string_agg(w, ', ') from jsonb_array_elements_text(breakdown -> 'weak_components') w));
  elsif c.is_flagged then
    c.is_flagged := false;
    c.flag_reason := null;
    c.review_history := c.review_history || jsonb_build_array(jsonb_build_object(
      'action', 'auto_unflag', 'at', now(), 'by', auth.uid(), 'from_status', v_from, 'to_status', c.status,
      'score', c.quality_score, 'threshold', breakdown -> 'threshold'));
  end if;
  return c;
end
$function$;

revoke all on function "private"."apply_quality"(public.conversations, jsonb) from public;

grant execute on function "private"."apply_quality"(public.conversations, jsonb) to "authenticated", "postgres", "service_role";

-- Completed only once its chunks ran out; failed with a reason at any time.
create or replace function private.batch_job_finish (
  p_job_id uuid,
  p_error  text
)
  returns public.batch_jobs
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  j public.batch_jobs;
begin
  if p_error is null and not (private.batch_job_position(p_job_id)).exhausted then
    select * into j from public.batch_jobs where id = p_job_id;
    raise exception using errcode = 'PT409',
      message = format('job %s has items left (%s of %s processed): %s, or finish it with an error', p_job_id,
                       j.processed_items, j.total_items,
                       case when j.job_type = 'generation' then 'report the rest of its progress' else 'run its remaining chunks' end);
  end if;
  perform private.batch_job_position(p_job_id);
  update public.batch_jobs set status = case when p_error is null then 'completed' else 'failed' end,
         error_message = left(p_error, 2000), completed_at = now()
   where id = p_job_id
  returning * into j;
  return j;
end
$function$;

revoke all on function "private"."batch_job_finish"(uuid, text) from public;

grant execute on function "private"."batch_job_finish"(uuid, text) to "authenticated", "postgres", "service_role";

create or replace function private.batch_job_open (
  p_job_type   text,
  p_name       text,
  p_total      integer,
  p_parameters jsonb
)
  returns public.batch_jobs
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  j public.batch_jobs;
begin
  if auth.uid() is null and not private.acting_as_service() then
    raise exception using errcode = '42501', message = 'batch jobs are started by a signed-in user or the service role';
  end if;
  insert into public.batch_jobs (job_type, name, status, total_items, parameters, started_at, created_by)
  values (p_job_type, p_name, 'running', p_total, coalesce(p_parameters, '{}'::jsonb), now(), auth.uid())
  returning * into j;
  insert into private.job_positions (job_id) values (j.id);
  return j;
end
$function$;

revoke all on function "private"."batch_job_open"(text, text, integer, jsonb) from public;

grant execute on function "private"."batch_job_open"(text, text, integer, jsonb) to "authenticated", "postgres", "service_role";

-- A running job of the caller's, locked for its next move, with where it
-- stands; 404 otherwise.
create or replace function private.batch_job_position (
  p_job_id uuid
)
  returns private.job_positions
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  p private.job_positions;
begin
  perform 1 from public.batch_jobs
   where id = p_job_id and status = 'running' and (created_by = auth.uid() or private.acting_as_service())
     for no key update;
  if not found then
    raise exception using errcode = 'PT404', message = format('running job %s not found', p_job_id);
  end if;
  select * into p from private.job_positions where job_id = p_job_id;
  return coalesce(p, row(p_job_id, null, false)::private.job_positions);
end
$function$;

revoke all on function "private"."batch_job_position"(uuid) from public;

grant execute on function "private"."batch_job_position"(uuid) to "authenticated", "postgres", "service_role";

-- Progress: counts the database itself measured (results keys are summed),
-- and where the next chunk starts.
create or replace function private.batch_job_progress (
  p_job_id    uuid,
  p_processed integer,
  p_results   jsonb,
  p_after     uuid,
  p_exhausted boolean
)
  returns void
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  perform private.batch_job_position(p_job_id);
  update public.batch_jobs j set
    processed_items = j.processed_items + p_processed,
    successful_items = j.successful_items + p_processed,
    results = j.results || coalesce((select jsonb_object_agg(k, coalesce((j.results ->> k)::numeric, 0) + (p_results ->> k)::numeric)
                                       from jsonb_object_keys(p_results) k), '{}'::jsonb)
  where j.id = p_job_id;
  insert into private.job_positions as p (job_id, after_id, exhausted) values (p_job_id, p_after, p_exhausted)
  on conflict (job_id) do update set after_id = coalesce(excluded.after_id, p.after_id), exhausted = excluded.exhausted;
end
$function$;

revoke all on function "private"."batch_job_progress"(uuid, integer, jsonb, uuid, boolean) from public;

grant execute on function "private"."batch_job_progress"(uuid, integer, jsonb, uuid, boolean) to "authenticated", "postgres", "service_role";

-- One chunk of a running batch job, after where the job stands, as the
-- caller (RLS decides which conversations it touches): a rescore (validation
-- job "rescore") rescores; a validation ("validate") rescores and counts the
-- structure checks; a cleanup ("archive_flagged") archives flagged
-- conversations older than the job's cutoff, approved ones kept. The chunk
-- starts where the job stands: a caller that thinks otherwise ran a chunk twice.
create or replace function private.batch_job_run_chunk (
  j       public.batch_jobs,
  p_after uuid,
  p_limit integer
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  v_noun text := case j.name when 'rescore' then 'rescore job' else 'job' end;
  v_position private.job_positions;
  v_counts jsonb;
  v_results jsonb;
begin
  perform private.check_page_limit(p_limit, 10000);
  if j.status <> 'running' then
    raise exception using errcode = 'PT409', message = format('%s %s is %s', v_noun, j.id, j.status);
  end if;
  v_position := private.batch_job_position(j.id);
  if p_after is distinct from v_position.after_id then
    raise exception using errcode = 'PT409',
      message = format('%s %s has moved on: its next chunk starts after %s, not after %s', v_noun, j.id,
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
                                case when $4 then private.quality_breakdown(u.id, u.quality_metrics, u.template_id) -> ''structure_checks'' end as s)
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
      into v_counts using j.parameters -> 'filter', v_position.after_id, p_limit, j.name = 'validate';
    perform set_config('registry.rescore', '', true);
    v_results := case when j.name = 'validate' then v_counts - 'processed' - 'last'
                      else jsonb_build_object('flagged', (v_counts ->> 'flagged')::int, 'unflagged', (v_counts ->> 'unflagged')::int,
                                              'unchanged', (v_counts ->> 'unchanged')::int) end;
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
  perform private.batch_job_progress(j.id, (v_counts ->> 'processed')::int, v_results,
    (v_counts ->> 'last')::uuid, (v_counts ->> 'processed')::int < p_limit);
  return jsonb_build_object('processed', (v_counts ->> 'processed')::int,
    'next_after', case when (v_counts ->> 'processed')::int = p_limit then v_counts ->> 'last' end);
end
$function$;

revoke all on function "private"."batch_job_run_chunk"(public.batch_jobs, uuid, integer) from public;

grant execute on function "private"."batch_job_run_chunk"(public.batch_jobs, uuid, integer) to "authenticated", "postgres", "service_role";

-- Who may approve, reject and see every conversation: reviewers and the service role.
create or replace function private.can_review()
  returns boolean
  language sql
  stable
  set search_path to ''
  AS $function$ select auth.role() is not distinct from 'service_role' or private.is_reviewer() $function$;

revoke all on function "private"."can_review"() from public;

grant execute on function "private"."can_review"() to "authenticated", "postgres", "service_role";

create or replace function private.check_parent_template()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  if new.parent_template_id is not null and not private.acting_as_service()
     and not exists (select 1 from public.conversation_templates t where t.id = new.parent_template_id
                       and (t.created_by is null or t.created_by = auth.uid() or private.is_reviewer())) then
    raise exception using errcode = 'PT404', message = format('template %s not found', new.parent_template_id);
  end if;
  return new;
end
$function$;

revoke all on function "private"."check_parent_template"() from public;

grant execute on function "private"."check_parent_template"() to "postgres";

-- The list filter as SQL over alias c, reading every value from the filter
-- object bound as $1: no caller text becomes SQL. Shared by the list, the
-- export and the bulk rescore.
create or replace function private.conversation_filter_sql (
  p_filter jsonb
)
  returns text
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
declare
  v_where text[] := array['true'];
  v_unknown text[];
begin
  if p_filter is null or jsonb_typeof(p_filter) = 'null' then
    return 'true';
  end if;
  if jsonb_typeof(p_filter) <> 'object' then
    raise exception using errcode = '22023', message = 'filter must be an object';
  end if;
  select array_agg(k order by k) into v_unknown from jsonb_object_keys(p_filter) k
   where k not in ('status', 'tier', 'persona', 'emotion', 'topic', 'flagged', 'min_quality', 'max_quality', 'q',
                   'created_after', 'created_before', 'template_id', 'created_by');
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('unknown filter fields: %s', array_to_string(v_unknown, ', '));
  end if;
  if length(p_filter ->> 'q') > 500 then
    raise exception using errcode = '22023', message = 'q is longer than 500 characters';
  end if;
  if p_filter ? 'status' then v_where := array_append(v_where, 'c.status = ($1 ->> ''status'')'); end if;
  if p_filter ? 'tier' then v_where := array_append(v_where, 'c.tier = ($1 ->> ''tier'')'); end if;
  if p_filter ? 'persona' then v_where := array_append(v_where, 'c.persona = ($1 ->> ''persona'')'); end if;
  if p_filter ? 'emotion' then v_where := array_append(v_where, 'c.emotion = ($1 ->> ''emotion'')'); end if;
  if p_filter ? 'topic' then v_where := array_append(v_where, 'c.topic = ($1 ->> ''topic'')'); end if;
  if p_filter ? 'flagged' then v_where := array_append(v_where, 'c.is_flagged = ($1 ->> ''flagged'')::boolean'); end if;
  if p_filter ? 'min_quality' then v_where := array_append(v_where, 'c.quality_score >= ($1 ->> ''min_quality'')::numeric'); end if;
  if p_filter ? 'max_quality' then v_where := array_append(v_where, 'c.quality_score <= ($1 ->> ''max_quality'')::numeric'); end if;
  if p_filter ? 'q' then v_where := array_append(v_where, 'c.search_vector @@ websearch_to_tsquery(''english'', $1 ->> ''q'')'); end if;
  if p_filter ? 'created_after' then v_where := array_append(v_where, 'c.created_at >= ($1 ->> ''created_after'')::timestamptz'); end if;
  if p_filter ? 'created_before' then v_where := array_append(v_where, 'c.created_at < ($1 ->> ''created_before'')::timestamptz'); end if;
  if p_filter ? 'template_id' then v_where := array_append(v_where, 'c.template_id = ($1 ->> ''template_id'')::uuid'); end if;
  if p_filter ? 'created_by' then v_where := array_append(v_where, 'c.created_by = ($1 ->> ''created_by'')::uuid'); end if;
  return array_to_string(v_where, ' and ');
end
$function$;

revoke all on function "private"."conversation_filter_sql"(jsonb) from public;

grant execute on function "private"."conversation_filter_sql"(jsonb) to "authenticated", "postgres", "service_role";

-- A conversation never exists without its turns: checked at commit, so the
-- turns may follow the row within the transaction.
create or replace function private.conversation_has_turns()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_id uuid;
begin
  -- Two branches, not one CASE: the row types differ (conversations.conversation_id is the text business id).
  if tg_table_name = 'conversations' then
    v_id := new.id;
  else
    v_id := old.conversation_id;
  end if;
  if exists (select 1 from public.conversations where id = v_id)
     and not exists (select 1 from public.conversation_turns where conversation_id = v_id) then
    raise exception using errcode = '23514',
      message = format('conversation %s has no turns: a conversation is stored with its turns', v_id);
  end if;
  return null;
end
$function$;

revoke all on function "private"."conversation_has_turns"() from public;

grant execute on function "private"."conversation_has_turns"() to "postgres";

-- One conversation as the API answers it. List and export pages write the
-- same expression inline, to_jsonb(p) - 'search_vector', in functions that
-- set TimeZone to UTC too: a function with SET clauses is never inlined, and
-- its call per row was ~8 % of a 50-item page (issue 16).
create or replace function private.conversation_json (
  c public.conversations
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$ select to_jsonb(c) - 'search_vector' $function$;

revoke all on function "private"."conversation_json"(public.conversations) from public;

grant execute on function "private"."conversation_json"(public.conversations) to "authenticated", "postgres", "service_role";

-- A conversation the caller may see, locked for a move by its author (or the
-- service role): 404 when invisible, 403 for a reviewer acting on another's.
create or replace function private.conversation_own_locked (
  p_key    text,
  p_action text
)
  returns public.conversations
  language plpgsql
  set search_path to ''
  AS $function$
declare
  c public.conversations := private.conversation_visible(p_key);
begin
  select * into c from public.conversations where id = c.id for no key update;
  if c.created_by is distinct from auth.uid() and not private.acting_as_service() then
    raise exception using errcode = '42501', message = format('only the author of conversation %s may %s it', c.conversation_id, p_action);
  end if;
  return c;
end
$function$;

revoke all on function "private"."conversation_own_locked"(text, text) from public;

grant execute on function "private"."conversation_own_locked"(text, text) to "authenticated", "postgres", "service_role";

-- The full-text vector of a conversation: title first, then persona,
-- emotion and topic, then the turns' text. One definition for both triggers
-- that keep it.
create or replace function private.conversation_search_vector (
  p_title      text,
  p_persona    text,
  p_emotion    text,
  p_topic      text,
  p_turns_text text
)
  returns tsvector
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select setweight(to_tsvector('english', coalesce(p_title, '')), 'A')
    || setweight(to_tsvector('english', concat_ws(' ', p_persona, p_emotion, p_topic)), 'B')
    || setweight(to_tsvector('english', coalesce(p_turns_text, '')), 'C')
$function$;

revoke all on function "private"."conversation_search_vector"(text, text, text, text, text) from public;

grant execute on function "private"."conversation_search_vector"(text, text, text, text, text) to "authenticated", "postgres", "service_role";

-- Status moves, for every role:
--   draft -> generated; generated -> pending_review | needs_revision;
--   pending_review -> needs_revision; needs_revision -> generated | pending_review;
--   generated | pending_review | needs_revision -> approved | rejected (reviewers only);
--   approved | rejected -> needs_revision (a reviewer reopens); anything -> archived.
create or replace function private.conversation_status_allowed (
  p_from text,
  p_to   text
)
  returns boolean
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select p_from = p_to or p_to = 'archived' and p_from <> 'archived' or (p_from, p_to) in (
    ('draft', 'generated'), ('draft', 'pending_review'), ('generated', 'pending_review'), ('generated', 'needs_revision'),
    ('pending_review', 'needs_revision'), ('needs_revision', 'generated'), ('needs_revision', 'pending_review'),
    ('generated', 'approved'), ('pending_review', 'approved'), ('needs_revision', 'approved'),
    ('generated', 'rejected'), ('pending_review', 'rejected'), ('needs_revision', 'rejected'),
    ('approved', 'needs_revision'), ('rejected', 'needs_revision'))
$function$;

revoke all on function "private"."conversation_status_allowed"(text, text) from public;

grant execute on function "private"."conversation_status_allowed"(text, text) to "authenticated", "postgres", "service_role";

-- A reviewed conversation's template lends it its system prompt (exports
-- put it first) and its turn bounds (the score): while any approved or
-- rejected conversation uses a template, those stay as they were reviewed,
-- and the template is not deleted (deactivate it, or make a new one).
create or replace function private.conversation_templates_guard_review()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_reviewed bigint;
begin
  if private.acting_as_service() then
    return case when tg_op = 'DELETE' then old else new end;
  end if;
  select count(*) into v_reviewed from public.conversations c
   where c.template_id = old.id and c.status in ('approved', 'rejected');
  if v_reviewed > 0 then
    raise exception using errcode = 'PT409',
      message = format('template %s is part of %s reviewed conversation(s): %s', old.template_name, v_reviewed,
        case when tg_op = 'DELETE' then 'it cannot be deleted (deactivate it instead)'
             else 'its system prompt and turn bounds cannot change (create a new template)' end);
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$function$;

revoke all on function "private"."conversation_templates_guard_review"() from public;

grant execute on function "private"."conversation_templates_guard_review"() to "postgres";

-- A template's record, kept by the database as its conversations are
-- reviewed: success_rate = approved / (approved + rejected); rating = the
-- mean quality score of its approved conversations, on the 0-5 scale. A
-- conversation counts by its review decision, which archiving does not undo:
-- its status when approved or rejected, else (archived) the last decision in
-- its history, where a reopen (needs_revision) cancels an earlier one.
create or replace function private.conversation_templates_record()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  update public.conversation_templates t set
    success_rate = round(s.approved::numeric / nullif(s.reviewed, 0), 4),
    rating = round(s.mean_approved / 2, 2)
  from (select count(*) filter (where d.decision = 'approved') as approved,
               count(*) filter (where d.decision in ('approved', 'rejected')) as reviewed,
               avg(d.quality_score) filter (where d.decision = 'approved') as mean_approved
          from (select c.quality_score,
                       case when c.status in ('approved', 'rejected') then c.status
                            when c.status = 'archived' then
                              (select h.entry ->> 'to_status'
                                 from jsonb_array_elements(c.review_history) with ordinality h(entry, n)
                                where h.entry ->> 'to_status' in ('approved', 'rejected', 'needs_revision')
                                order by h.n desc limit 1)
                       end as decision
                  from public.conversations c where c.template_id = new.template_id) d) s
  where t.id = new.template_id;
  return null;
end
$function$;

revoke all on function "private"."conversation_templates_record"() from public;

grant execute on function "private"."conversation_templates_record"() to "postgres";

-- Turns of an approved or rejected conversation are frozen with it (once per
-- statement, over the conversations the statement touched).
create or replace function private.conversation_turns_guard_review()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_frozen public.conversations;
begin
  if private.acting_as_service() then
    return null;
  end if;
  if tg_op = 'INSERT' then
    select c.* into v_frozen from public.conversations c
     where c.id in (select conversation_id from new_turns) and c.status in ('approved', 'rejected') limit 1;
  elsif tg_op = 'UPDATE' then
    select c.* into v_frozen from public.conversations c
     where c.id in (select conversation_id from new_turns union select conversation_id from old_turns)
       and c.status in ('approved', 'rejected') limit 1;
  else
    select c.* into v_frozen from public.conversations c
     where c.id in (select conversation_id from old_turns) and c.status in ('approved', 'rejected') limit 1;
  end if;
  if v_frozen.id is not null then
    raise exception using errcode = 'PT409',
      message = format('conversation %s is %s and its turns are frozen', v_frozen.conversation_id, v_frozen.status),
      detail = 'a reviewer reopens it (request_changes) to allow edits';
  end if;
  return null;
end
$function$;

revoke all on function "private"."conversation_turns_guard_review"() from public;

grant execute on function "private"."conversation_turns_guard_review"() to "postgres";

create or replace function private.conversation_turns_json (
  p_id uuid
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
  select coalesce(jsonb_agg(jsonb_build_object('turn_number', t.turn_number, 'role', t.role, 'content', t.content,
                                               'token_count', t.token_count, 'char_count', t.char_count)
                            order by t.turn_number), '[]'::jsonb)
    from public.conversation_turns t where t.conversation_id = p_id
$function$;

revoke all on function "private"."conversation_turns_json"(uuid) from public;

grant execute on function "private"."conversation_turns_json"(uuid) to "authenticated", "postgres", "service_role";

-- Turn changes, once per statement: counts, tokens, the search text and the
-- score of every conversation they touched. Security definer: those columns
-- are the database's, not writable by clients.
create or replace function private.conversation_turns_sync()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct conversation_id) into v_ids from new_turns;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct conversation_id) into v_ids from old_turns;
  else
    select array_agg(distinct conversation_id) into v_ids
      from (select conversation_id from new_turns union select conversation_id from old_turns) t;
  end if;
  update public.conversations c set
    turn_count = s.turns, total_tokens = s.tokens, turns_updated_at = clock_timestamp(),
    search_vector = private.conversation_search_vector(c.title, c.persona, c.emotion, c.topic, s.text)
  from (select c2.id,
               count(t.id)::int as turns,
               coalesce(sum(t.token_count), 0)::int as tokens,
               coalesce(string_agg(t.content, ' ' order by t.turn_number), '') as text
          from public.conversations c2 left join public.conversation_turns t on t.conversation_id = c2.id
         where c2.id = any (v_ids)
         group by c2.id) s
  where c.id = s.id;
  return null;
end
$function$;

revoke all on function "private"."conversation_turns_sync"() from public;

grant execute on function "private"."conversation_turns_sync"() to "postgres";

-- A conversation by its uuid or its business id; 404 when the caller cannot see it.
create or replace function private.conversation_visible (
  p_key text
)
  returns public.conversations
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  c public.conversations;
begin
  if p_key ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select * into c from public.conversations where id = p_key::uuid;
  end if;
  if c.id is null then
    select * into c from public.conversations where conversation_id = p_key;
  end if;
  if c.id is null then
    raise exception using errcode = 'PT404', message = format('conversation %s not found', p_key);
  end if;
  return c;
end
$function$;

revoke all on function "private"."conversation_visible"(text) from public;

grant execute on function "private"."conversation_visible"(text) to "authenticated", "postgres", "service_role";

create or replace function private.conversations_before_write()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_reviewer boolean;
begin
  if tg_op = 'INSERT' then
    if new.status in ('approved', 'rejected') and not private.can_review() then
      raise exception using errcode = '42501', message = 'only reviewers approve or reject conversations';
    end if;
    new.approved_at := case when new.status = 'approved' then now() end;
    new.approved_by := case when new.status = 'approved' then auth.uid() end;
  elsif new.status is distinct from old.status and new.status in
        ('draft', 'generated', 'pending_review', 'approved', 'rejected', 'needs_revision', 'archived') then
    if not private.conversation_status_allowed(old.status, new.status) then
      raise exception using errcode = 'PT409',
        message = format('illegal status change: conversation %s is %s and cannot become %s', old.conversation_id, old.status, new.status),
        detail = format('current status: %s', old.status);
    end if;
    v_reviewer := private.can_review();
    if new.status in ('approved', 'rejected') and not v_reviewer then
      raise exception using errcode = '42501', message = 'only reviewers approve or reject conversations';
    end if;
    new.approved_at := case when new.status = 'approved' then now() end;
    new.approved_by := case when new.status = 'approved' then auth.uid() end;
    if v_reviewer and new.status in ('approved', 'rejected', 'needs_revision') then
      new.reviewed_at := now();
      new.reviewed_by := auth.uid();
    end if;
    -- The history is the database's record: every status change, who, when, the note.
    new.review_history := old.review_history || jsonb_build_array(jsonb_build_object(
      'action', case new.status when 'approved' then 'approve' when 'rejected' then 'reject'
                                when 'needs_revision' then 'request_changes' else 'status_change' end,
      'at', now(), 'by', auth.uid(), 'from_status', old.status, 'to_status', new.status,
      'note', case when new.reviewer_notes is distinct from old.reviewer_notes then new.reviewer_notes end));
  end if;
  if tg_op = 'UPDATE' then
    new.updated_at := now();
  end if;
  -- Scored only once it has turns (they arrive right after the row, in the
  -- same transaction), and again whenever the metrics, template or turns
  -- change, or a rescore asks (registry.rescore: at worst a client makes the
  -- database recompute the same deterministic score).
  if new.turn_count > 0 and (tg_op = 'INSERT'
      or new.quality_metrics is distinct from old.quality_metrics or new.template_id is distinct from old.template_id
      or new.turns_updated_at is distinct from old.turns_updated_at
      or current_setting('registry.rescore', true) = 'on') then
    new := private.apply_quality(new, private.quality_breakdown(new.id, new.quality_metrics, new.template_id));
  end if;
  return new;
end
$function$;

revoke all on function "private"."conversations_before_write"() from public;

grant execute on function "private"."conversations_before_write"() to "postgres";

-- What a conversation refers to (template, scenario, edge case, document,
-- chunk, parent) must be something its writer may see: a foreign key alone
-- would let a user attach another user's private rows (and count their use).
-- Not found, whether absent or private, so nothing is revealed.
create or replace function private.conversations_check_references()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_uid uuid := auth.uid();
  v_reviewer boolean;
  v_missing text;
begin
  if private.acting_as_service() then
    return new;
  end if;
  v_reviewer := private.is_reviewer();
  v_missing := case
    when new.template_id is not null and not exists (select 1 from public.conversation_templates t where t.id = new.template_id
           and (t.created_by is null or t.created_by = v_uid or v_reviewer)) then format('template %s', new.template_id)
    when new.scenario_id is not null and not exists (select 1 from public.scenarios s where s.id = new.scenario_id
           and (s.created_by is null or s.created_by = v_uid or v_reviewer)) then format('scenario %s', new.scenario_id)
    when new.edge_case_id is not null and not exists (select 1 from public.edge_cases e where e.id = new.edge_case_id
           and (e.created_by is null or e.created_by = v_uid or v_reviewer)) then format('edge case %s', new.edge_case_id)
    when new.document_id is not null and not exists (select 1 from public.documents d where d.id = new.document_id
           and (d.created_by = v_uid or v_reviewer)) then format('document %s', new.document_id)
    when new.chunk_id is not null and not exists (select 1 from public.chunks k join public.documents d on d.id = k.document_id
           where k.id = new.chunk_id and (d.created_by = v_uid or v_reviewer)) then format('chunk %s', new.chunk_id)
    when new.parent_id is not null and not exists (select 1 from public.conversations p where p.id = new.parent_id
           and (p.created_by = v_uid or v_reviewer)) then format('conversation %s', new.parent_id)
  end;
  if v_missing is not null then
    raise exception using errcode = 'PT404', message = format('%s not found', v_missing);
  end if;
  return new;
end
$function$;

revoke all on function "private"."conversations_check_references"() from public;

grant execute on function "private"."conversations_check_references"() to "postgres";

-- Usage: the conversations made from a template or scenario, whoever wrote
-- them and however (once per statement, on insert and on delete; never
-- below zero for rows older than this count).
create or replace function private.conversations_count_usage()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_sign integer;
  v_templates uuid[];
  v_scenarios uuid[];
begin
  -- Two branches, not one query: each trigger has only its own transition table.
  if tg_op = 'INSERT' then
    select 1, array_agg(template_id), array_agg(scenario_id) into v_sign, v_templates, v_scenarios from new_conversations;
  else
    select -1, array_agg(template_id), array_agg(scenario_id) into v_sign, v_templates, v_scenarios from old_conversations;
  end if;
  update public.conversation_templates t set usage_count = greatest(0, t.usage_count + v_sign * u.n)
    from (select id, count(*)::int as n from unnest(v_templates) id where id is not null group by id) u
   where t.id = u.id;
  update public.scenarios s set usage_count = greatest(0, s.usage_count + v_sign * u.n)
    from (select id, count(*)::int as n from unnest(v_scenarios) id where id is not null group by id) u
   where s.id = u.id;
  return null;
end
$function$;

revoke all on function "private"."conversations_count_usage"() from public;

grant execute on function "private"."conversations_count_usage"() to "postgres";

-- Before a conversation is written: created unreviewed; reviewer notes and
-- reopening by reviewers; an approved or rejected conversation's content
-- frozen. Every client-writable column but status and reviewer_notes is
-- content (test/table_api/rules.test.ts checks this list against the grants),
-- and so are its turns and its template.
create or replace function private.conversations_guard_review()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_changed text[];
begin
  if private.acting_as_service() then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.status in ('approved', 'rejected') then
      raise exception using errcode = 'PT409',
        message = format('a conversation is stored unreviewed: create it, then %s it', case new.status when 'approved' then 'approve' else 'reject' end);
    end if;
    return new;
  end if;
  if new.reviewer_notes is distinct from old.reviewer_notes and not private.can_review() then
    raise exception using errcode = '42501',
      message = format('reviewer_notes of conversation %s are written by reviewers', old.conversation_id);
  end if;
  if old.status in ('approved', 'rejected') then
    if new.status = 'needs_revision' and not private.can_review() then
      raise exception using errcode = '42501',
        message = format('conversation %s is %s: only a reviewer reopens it', old.conversation_id, old.status);
    end if;
    select array_agg(f) into v_changed from unnest(array[
      case when new.title is distinct from old.title then 'title' end,
      case when new.persona is distinct from old.persona then 'persona' end,
      case when new.emotion is distinct from old.emotion then 'emotion' end,
      case when new.topic is distinct from old.topic then 'topic' end,
      case when new.intent is distinct from old.intent then 'intent' end,
      case when new.tone is distinct from old.tone then 'tone' end,
      case when new.tier is distinct from old.tier then 'tier' end,
      case when new.category is distinct from old.category then 'category' end,
      case when new.quality_metrics is distinct from old.quality_metrics then 'quality_metrics' end,
      case when new.estimated_cost_usd is distinct from old.estimated_cost_usd then 'estimated_cost_usd' end,
      case when new.actual_cost_usd is distinct from old.actual_cost_usd then 'actual_cost_usd' end,
      case when new.generation_duration_ms is distinct from old.generation_duration_ms then 'generation_duration_ms' end,
      case when new.generation_model is distinct from old.generation_model then 'generation_model' end,
      case when new.parameters is distinct from old.parameters then 'parameters' end,
      case when new.metadata is distinct from old.metadata then 'metadata' end,
      -- the database's own columns that follow content: a turn change that
      -- raced the review (its statement saw the conversation unreviewed), a
      -- template removed from under it
      case when new.turns_updated_at is distinct from old.turns_updated_at then 'turns' end,
      case when new.template_id is distinct from old.template_id then 'template_id' end
    ]) f where f is not null;
    if v_changed is not null then
      raise exception using errcode = 'PT409',
        message = format('conversation %s is %s and its content is frozen: %s cannot change', old.conversation_id, old.status,
                         array_to_string(v_changed, ', ')),
        detail = 'a reviewer reopens it (request_changes) to allow edits';
    end if;
  end if;
  return new;
end
$function$;

revoke all on function "private"."conversations_guard_review"() from public;

grant execute on function "private"."conversations_guard_review"() to "postgres";

-- Only a draft is deleted, through every door (DELETE /conversations/:id and
-- the table API alike); anything further along is archived instead, and a
-- reviewed conversation is deleted by the service role only.
create or replace function private.conversations_keep_reviewed()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
begin
  if not private.acting_as_service() then
    raise exception using errcode = 'PT409',
      message = format('conversation %s is %s: only a draft is deleted (archive it instead)', old.conversation_id, old.status),
      detail = format('current status: %s', old.status);
  end if;
  return old;
end
$function$;

revoke all on function "private"."conversations_keep_reviewed"() from public;

grant execute on function "private"."conversations_keep_reviewed"() to "postgres";

-- Review is someone else's (the service role, an administrator, excepted):
-- nobody approves or rejects their own conversation, reopens their own
-- reviewed one or writes the reviewer's notes on it; and a draft leaves draft
-- (other than to the archive) only when its author submits it.
create or replace function private.conversations_no_self_review()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_moved boolean := old.status is distinct from new.status;
begin
  if private.acting_as_service() then
    return new;
  end if;
  if old.created_by = auth.uid() then
    if v_moved and new.status in ('approved', 'rejected') then
      raise exception using errcode = '42501',
        message = format('a reviewer cannot %s their own conversation %s: another reviewer does',
                         case new.status when 'approved' then 'approve' else 'reject' end, old.conversation_id);
    end if;
    if v_moved and old.status in ('approved', 'rejected') and new.status = 'needs_revision' then
      raise exception using errcode = '42501',
        message = format('a reviewer cannot reopen their own %s conversation %s: another reviewer does', old.status, old.conversation_id);
    end if;
    if old.status in ('approved', 'rejected') and new.reviewer_notes is distinct from old.reviewer_notes then
      raise exception using errcode = '42501',
        message = format('a reviewer cannot write the notes on their own reviewed conversation %s', old.conversation_id);
    end if;
  elsif v_moved and old.status = 'draft' and new.status <> 'archived' then
    raise exception using errcode = '42501',
      message = format('conversation %s is a draft: only its author submits it', old.conversation_id);
  end if;
  return new;
end
$function$;

revoke all on function "private"."conversations_no_self_review"() from public;

grant execute on function "private"."conversations_no_self_review"() to "postgres";

-- The search text also follows title, persona, emotion and topic.
create or replace function private.conversations_search_text()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
begin
  new.search_vector := private.conversation_search_vector(new.title, new.persona, new.emotion, new.topic,
    (select string_agg(t.content, ' ' order by t.turn_number) from public.conversation_turns t where t.conversation_id = new.id));
  return new;
end
$function$;

revoke all on function "private"."conversations_search_text"() from public;

grant execute on function "private"."conversations_search_text"() to "postgres";

create or replace function private.export_log_open (
  p_format           text,
  p_shape            text,
  p_filters          jsonb,
  p_include_metadata boolean,
  p_file_name        text
)
  returns public.export_logs
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  e public.export_logs;
begin
  if auth.uid() is null and not private.acting_as_service() then
    raise exception using errcode = '42501', message = 'exports are made by a signed-in user or the service role';
  end if;
  insert into public.export_logs (user_id, format, shape, filters, include_metadata, file_name)
  values (auth.uid(), p_format, p_shape, coalesce(p_filters, '{}'::jsonb), coalesce(p_include_metadata, false), p_file_name)
  returning * into e;
  insert into private.export_positions (export_id) values (e.id);
  return e;
end
$function$;

revoke all on function "private"."export_log_open"(text, text, jsonb, boolean, text) from public;

grant execute on function "private"."export_log_open"(text, text, jsonb, boolean, text) to "authenticated", "postgres", "service_role";

-- Where a running export of the caller's stands (the last conversation it
-- took, as {t, i}; null before the first page), the export locked for its
-- next page; 404 otherwise.
create or replace function private.export_log_position (
  p_export_id uuid
)
  returns jsonb
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  perform 1 from public.export_logs
   where id = p_export_id and status = 'running' and (user_id = auth.uid() or private.acting_as_service())
     for no key update;
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
  end if;
  return (select p.position from private.export_positions p where p.export_id = p_export_id);
end
$function$;

revoke all on function "private"."export_log_position"(uuid) from public;

grant execute on function "private"."export_log_position"(uuid) to "authenticated", "postgres", "service_role";

-- The page the database just built for the export: its ids (conversations
-- the caller may see) and where the next page starts.
create or replace function private.export_log_record_page (
  p_export_id uuid,
  p_ids       uuid[],
  p_position  jsonb
)
  returns void
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_before integer;
begin
  perform private.export_log_position(p_export_id);
  if exists (select 1 from unnest(p_ids) u(id)
              where not exists (select 1 from public.conversations c where c.id = u.id
                                  and (c.created_by = auth.uid() or private.is_reviewer() or private.acting_as_service()))) then
    raise exception using errcode = '22023', message = 'an export records only conversations its maker may see';
  end if;
  update public.export_logs set conversation_count = conversation_count + coalesce(cardinality(p_ids), 0)
   where id = p_export_id
  returning conversation_count - coalesce(cardinality(p_ids), 0) into v_before;
  insert into public.export_log_items (export_id, position, conversation_id)
  select p_export_id, v_before + u.i, u.id from unnest(p_ids) with ordinality u(id, i);
  insert into private.export_positions as p (export_id, position) values (p_export_id, p_position)
  on conflict (export_id) do update set position = coalesce(excluded.position, p.position);
end
$function$;

revoke all on function "private"."export_log_record_page"(uuid, uuid[], jsonb) from public;

grant execute on function "private"."export_log_record_page"(uuid, uuid[], jsonb) to "authenticated", "postgres", "service_role";

-- Reviewers see and review everything. Security definer so that policies on
-- user_profiles itself can ask without recursing through them.
create or replace function private.is_reviewer()
  returns boolean
  language sql
  stable
  security definer
  set search_path to ''
  AS $function$
  select coalesce((select p.is_reviewer from public.user_profiles p where p.id = auth.uid()), false)
$function$;

revoke all on function "private"."is_reviewer"() from public;

grant execute on function "private"."is_reviewer"() to "authenticated", "postgres", "service_role";

-- What a client writes of each (the rest is the database's: ids, owners,
-- timestamps, usage_count, rating, success_rate); the same as the grants.
create or replace function private.library_columns (
  p_kind text
)
  returns text[]
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select case p_kind
    when 'conversation_templates' then array['template_name', 'description', 'category', 'tier', 'template_text', 'system_prompt',
      'structure', 'variables', 'applicable_personas', 'applicable_emotions', 'applicable_topics', 'min_turns', 'max_turns', 'version',
      'is_active']
    when 'scenarios' then array['parent_template_id', 'name', 'description', 'context', 'persona', 'topic', 'emotional_arc',
      'parameter_values', 'status']
    when 'edge_cases' then array['parent_template_id', 'name', 'description', 'edge_case_type', 'trigger_condition',
      'expected_behavior', 'risk_level', 'validation_criteria', 'test_status', 'is_active']
  end
$function$;

revoke all on function "private"."library_columns"(text) from public;

grant execute on function "private"."library_columns"(text) to "authenticated", "postgres", "service_role";

-- The list filter of each kind as SQL over alias t, every value read from $1.
create or replace function private.library_filter_sql (
  p_kind   text,
  p_filter jsonb
)
  returns text
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."library_filter_sql"(text, jsonb) from public;

grant execute on function "private"."library_filter_sql"(text, jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.library_kind (
  p_kind text
)
  returns text
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
begin
  if p_kind is null or p_kind not in ('conversation_templates', 'scenarios', 'edge_cases') then
    raise exception using errcode = '22023', message = 'kind must be conversation_templates, scenarios or edge_cases';
  end if;
  return p_kind;
end
$function$;

revoke all on function "private"."library_kind"(text) from public;

grant execute on function "private"."library_kind"(text) to "authenticated", "postgres", "service_role";

create or replace function private.library_noun (
  p_kind text
)
  returns text
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$ select case p_kind when 'conversation_templates' then 'template' when 'scenarios' then 'scenario' else 'edge case' end $function$;

revoke all on function "private"."library_noun"(text) from public;

grant execute on function "private"."library_noun"(text) to "authenticated", "postgres", "service_role";

-- ---------------------------------------------------------------------------
-- Quality. The breakdown is a pure function of the metrics, the turns, the
-- template's bounds, the rubric and the threshold: deterministic.
--
--   structure = 10 x (checks passed / 3), checks: roles alternate (user,
--     assistant, user ...; a system turn only first), no empty turn, turn
--     count within the template's min_turns..max_turns (2..50 without one);
--   score = sum(weight x value) / sum(weight) over the rubric components
--     present in quality_metrics plus structure, rounded to one decimal;
--     no metric component at all: no score yet (null), nothing flagged.
create or replace function private.quality_breakdown (
  p_conversation_id uuid,
  p_metrics         jsonb,
  p_template_id     uuid
)
  returns jsonb
  language plpgsql
  stable
  security definer
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  v_threshold numeric := (select quality_threshold from public.conversation_settings where id);
  v_min integer := 2;
  v_max integer := 50;
  v_count integer;
  v_empty integer;
  v_alternate boolean;
  v_structure numeric;
  v_checks jsonb;
  v_components jsonb;
  v_score numeric;
begin
  -- Security definer (policies on turns must not recurse through it): so it
  -- checks itself that the caller may see the conversation and the template.
  if not private.acting_as_service() and not exists (
       select 1 from public.conversations c
        where c.id = p_conversation_id and (c.created_by = auth.uid() or private.is_reviewer())) then
    raise exception using errcode = 'PT404', message = format('conversation %s not found', p_conversation_id);
  end if;
  select t.min_turns, t.max_turns into v_min, v_max from public.conversation_templates t
   where t.id = p_template_id
     and (t.created_by is null or t.created_by = auth.uid() or private.is_reviewer() or private.acting_as_service());
  v_min := coalesce(v_min, 2);
  v_max := coalesce(v_max, 50);
  select count(*), count(*) filter (where btrim(content) = ''),
         coalesce(bool_and(case
           when role = 'system' then turn_number = first_turn
           else role = case when (position_in_dialogue % 2) = 1 then 'user' else 'assistant' end end), true)
    into v_count, v_empty, v_alternate
    from (select t.role, t.content, t.turn_number,
                 min(t.turn_number) over () as first_turn,
                 count(*) filter (where t.role <> 'system') over (order by t.turn_number) as position_in_dialogue
            from public.conversation_turns t where t.conversation_id = p_conversation_id) turns;
  v_checks := jsonb_build_object(
    'roles_alternate', v_alternate,
    'no_empty_turn', v_empty = 0,
    'turn_count_in_bounds', v_count between v_min and v_max,
    'turn_count', v_count, 'min_turns', v_min, 'max_turns', v_max);
  v_structure := round(10.0 * ((v_alternate)::int + (v_empty = 0)::int + (v_count between v_min and v_max)::int) / 3, 2);

  select coalesce(jsonb_agg(jsonb_build_object(
           'component', r.component, 'weight', r.weight,
           'value', case when r.component = 'structure' then v_structure else (p_metrics ->> r.component)::numeric end)
           order by r.component), '[]'::jsonb)
    into v_components
    from public.quality_rubric r
   where r.component = 'structure' or p_metrics ? r.component;

  if not exists (select 1 from jsonb_array_elements(v_components) c where c ->> 'component' <> 'structure') then
    v_score := null;
  else
    select round(sum((c ->> 'weight')::numeric * (c ->> 'value')::numeric) / sum((c ->> 'weight')::numeric), 1)
      into v_score from jsonb_array_elements(v_components) c;
  end if;

  return jsonb_build_object(
    'score', v_score,
    'threshold', v_threshold,
    'flagged', v_score is not null and v_score < v_threshold,
    'components', v_components,
    'weak_components', coalesce((select jsonb_agg(c ->> 'component' order by c ->> 'component') from jsonb_array_elements(v_components) c
                                 where (c ->> 'value')::numeric < v_threshold), '[]'::jsonb),
    'structure_checks', v_checks,
    'ignored_metrics', coalesce((select jsonb_agg(k order by k) from jsonb_object_keys(p_metrics) k
                                 where not exists (select 1 from public.quality_rubric r where r.component = k)), '[]'::jsonb));
end
$function$;

revoke all on function "private"."quality_breakdown"(uuid, jsonb, uuid) from public;

grant execute on function "private"."quality_breakdown"(uuid, jsonb, uuid) to "authenticated", "postgres", "service_role";
