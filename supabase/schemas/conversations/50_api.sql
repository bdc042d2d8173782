-- conversations: the public SQL functions the HTTP functions and the table API call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- The score of one conversation as the database computes it, with its parts.
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_settings: triggers conversation_settings_set_updated_at (conversations/30_rules.sql); policies conversation_settings_select, conversation_settings_update_reviewers (conversations/40_access.sql)
--         conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
--         quality_rubric: policies quality_rubric_select (conversations/40_access.sql)
--         user_profiles: policies user_profiles_insert_own, user_profiles_select, user_profiles_update_own (foundation/40_access.sql)
create or replace function public.calculate_quality_score (
  p_conversation public.conversations
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  AS $function$ select private.quality_breakdown(p_conversation.id, p_conversation.quality_metrics, p_conversation.template_id) $function$;

revoke all on function "public"."calculate_quality_score"(public.conversations) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."calculate_quality_score"(public.conversations) to "authenticated", "postgres", "service_role";

-- Deactivate: templates and edge cases is_active = false, scenarios archived. Twice is 409.
-- Rules: scenarios: triggers scenarios_check_parent_template, scenarios_set_updated_at (conversations/30_rules.sql); policies scenarios_delete_own, scenarios_insert_own, scenarios_select, scenarios_update_own (conversations/40_access.sql)
--         conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
--         edge_cases: triggers edge_cases_check_parent_template, edge_cases_set_updated_at (conversations/30_rules.sql); policies edge_cases_delete_own, edge_cases_insert_own, edge_cases_select, edge_cases_update_own (conversations/40_access.sql)
create or replace function public.conversation_library_deactivate (
  p_kind text,
  p_id   uuid
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
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
$function$;

revoke all on function "public"."conversation_library_deactivate"(text, uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversation_library_deactivate"(text, uuid) to "authenticated", "postgres", "service_role";

-- Rules: conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
--         scenarios: triggers scenarios_check_parent_template, scenarios_set_updated_at (conversations/30_rules.sql); policies scenarios_delete_own, scenarios_insert_own, scenarios_select, scenarios_update_own (conversations/40_access.sql)
--         edge_cases: triggers edge_cases_check_parent_template, edge_cases_set_updated_at (conversations/30_rules.sql); policies edge_cases_delete_own, edge_cases_insert_own, edge_cases_select, edge_cases_update_own (conversations/40_access.sql)
create or replace function public.conversation_library_get (
  p_kind text,
  p_id   uuid
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
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
$function$;

revoke all on function "public"."conversation_library_get"(text, uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversation_library_get"(text, uuid) to "authenticated", "postgres", "service_role";

-- Newest first, keyset paged on (created_at, id); RLS as the caller (shared
-- rows, one's own, reviewers all).
-- Rules: conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
--         scenarios: triggers scenarios_check_parent_template, scenarios_set_updated_at (conversations/30_rules.sql); policies scenarios_delete_own, scenarios_insert_own, scenarios_select, scenarios_update_own (conversations/40_access.sql)
--         edge_cases: triggers edge_cases_check_parent_template, edge_cases_set_updated_at (conversations/30_rules.sql); policies edge_cases_delete_own, edge_cases_insert_own, edge_cases_select, edge_cases_update_own (conversations/40_access.sql)
create or replace function public.conversation_library_list (
  p_kind   text,
  p_filter jsonb   default null::jsonb,
  p_limit  integer default 50,
  p_cursor text    default null::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_kind text := private.library_kind(p_kind);
  v_cursor jsonb;
  v_items json;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  execute format(
    'select coalesce(json_agg(to_json(p) order by p.created_at desc, p.id desc), ''[]''::json), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.id) order by p.created_at, p.id))[1]
       from (select t.* from public.%I t where %s %s order by t.created_at desc, t.id desc limit $4) p',
    v_kind, private.library_filter_sql(v_kind, p_filter),
    case when v_cursor is null then '' else 'and (t.created_at, t.id) < ($2, $3)' end)
  into v_items, v_count, v_last
  using p_filter, (v_cursor ->> 't')::timestamptz, (v_cursor ->> 'i')::uuid, p_limit;
  return json_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$function$;

revoke all on function "public"."conversation_library_list"(text, jsonb, integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversation_library_list"(text, jsonb, integer, text) to "authenticated", "postgres", "service_role";

-- Create (p_id null) or update the given fields. Only client columns are
-- written, as the caller: the grants and RLS decide (a user writes their own
-- rows; the service role also the shared ones, created without an owner).
-- Rules: conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
--         scenarios: triggers scenarios_check_parent_template, scenarios_set_updated_at (conversations/30_rules.sql); policies scenarios_delete_own, scenarios_insert_own, scenarios_select, scenarios_update_own (conversations/40_access.sql)
--         edge_cases: triggers edge_cases_check_parent_template, edge_cases_set_updated_at (conversations/30_rules.sql); policies edge_cases_delete_own, edge_cases_insert_own, edge_cases_select, edge_cases_update_own (conversations/40_access.sql)
create or replace function public.conversation_library_save (
  p_kind   text,
  p_id     uuid,
  p_fields jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
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
$function$;

revoke all on function "public"."conversation_library_save"(text, uuid, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversation_library_save"(text, uuid, jsonb) to "authenticated", "postgres", "service_role";

-- Archived by its author, a reviewer or the service role (RLS: whoever may update it).
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
create or replace function public.conversations_archive (
  p_key text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "public"."conversations_archive"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_archive"(text) to "authenticated", "postgres", "service_role";

-- One chunk of a validation or cleanup job, after where the job stands.
-- Rules: batch_jobs: triggers batch_jobs_set_updated_at (conversations/30_rules.sql); policies batch_jobs_select (conversations/40_access.sql)
--         conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_settings: triggers conversation_settings_set_updated_at (conversations/30_rules.sql); policies conversation_settings_select, conversation_settings_update_reviewers (conversations/40_access.sql)
--         conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
--         quality_rubric: policies quality_rubric_select (conversations/40_access.sql)
--         user_profiles: policies user_profiles_insert_own, user_profiles_select, user_profiles_update_own (foundation/40_access.sql)
create or replace function public.conversations_batch_job_chunk (
  p_job_id uuid,
  p_after  uuid    default null::uuid,
  p_limit  integer default 1000
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  j public.batch_jobs;
begin
  select * into j from public.batch_jobs
   where id = p_job_id and (job_type, name) in (('validation', 'validate'), ('cleanup', 'archive_flagged'));
  if not found then
    raise exception using errcode = 'PT404', message = format('validation or cleanup job %s not found', p_job_id);
  end if;
  return private.batch_job_run_chunk(j, p_after, p_limit);
end
$function$;

revoke all on function "public"."conversations_batch_job_chunk"(uuid, uuid, integer) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_batch_job_chunk"(uuid, uuid, integer) to "authenticated", "postgres", "service_role";

-- A generation job's progress, reported by its worker (the service role):
-- the counts it adds, and how many it believes were processed before (a
-- replayed report is a 409, not a double count). Done once processed reaches
-- the total; then conversations_finish_job completes it.
-- Rules: batch_jobs: triggers batch_jobs_set_updated_at (conversations/30_rules.sql); policies batch_jobs_select (conversations/40_access.sql)
create or replace function public.conversations_batch_job_report (
  p_job_id           uuid,
  p_processed_before integer,
  p_succeeded        integer,
  p_failed           integer default 0,
  p_results          jsonb   default null::jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
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
$function$;

revoke all on function "public"."conversations_batch_job_report"(uuid, integer, integer, integer, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_batch_job_report"(uuid, integer, integer, integer, jsonb) to "authenticated", "postgres", "service_role";

-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         batch_jobs: triggers batch_jobs_set_updated_at (conversations/30_rules.sql); policies batch_jobs_select (conversations/40_access.sql)
create or replace function public.conversations_batch_job_start (
  p_job_type        text,
  p_filter          jsonb   default null::jsonb,
  p_older_than_days integer default null::integer,
  p_total           integer default null::integer,
  p_name            text    default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
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
$function$;

revoke all on function "public"."conversations_batch_job_start"(text, jsonb, integer, integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_batch_job_start"(text, jsonb, integer, integer, text) to "authenticated", "postgres", "service_role";

-- A conversation and its turns in one transaction (the constraint trigger
-- refuses a conversation left without turns at commit).
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
create or replace function public.conversations_create (
  p_conversation jsonb,
  p_turns        jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.conversations := jsonb_populate_record(null::public.conversations, p_conversation);
  c public.conversations;
begin
  if jsonb_typeof(p_turns) is distinct from 'array' or jsonb_array_length(p_turns) = 0 then
    raise exception using errcode = '22023', message = 'turns: give at least one turn';
  end if;
  if jsonb_array_length(p_turns) > 500 then
    raise exception using errcode = '22023', message = 'turns: at most 500 turns per conversation';
  end if;
  insert into public.conversations
    (conversation_id, document_id, chunk_id, template_id, scenario_id, edge_case_id, parent_id, parent_type, title, persona,
     emotion, topic, intent, tone, tier, category, status, quality_metrics, estimated_cost_usd, actual_cost_usd,
     generation_duration_ms, generation_model, parameters, metadata)
  values
    (coalesce(r.conversation_id, 'conv_' || replace(gen_random_uuid()::text, '-', '')), r.document_id, r.chunk_id,
     r.template_id, r.scenario_id, r.edge_case_id, r.parent_id, r.parent_type, r.title, r.persona, r.emotion, r.topic,
     r.intent, r.tone, coalesce(r.tier, 'template'), r.category, coalesce(r.status, 'generated'),
     coalesce(r.quality_metrics, '{}'::jsonb), r.estimated_cost_usd, r.actual_cost_usd, r.generation_duration_ms,
     r.generation_model, coalesce(r.parameters, '{}'::jsonb), coalesce(r.metadata, '{}'::jsonb))
  returning * into c;
  insert into public.conversation_turns (conversation_id, turn_number, role, content, token_count)
  select c.id, coalesce(t.turn_number, e.ord::int), t.role, t.content, t.token_count
    from jsonb_array_elements(p_turns) with ordinality e(turn, ord),
         jsonb_to_record(e.turn) as t(turn_number integer, role text, content text, token_count integer);
  select * into c from public.conversations where id = c.id;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$function$;

revoke all on function "public"."conversations_create"(jsonb, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_create"(jsonb, jsonb) to "authenticated", "postgres", "service_role";

-- Only a draft is deleted (anything further along is archived: it may be in a review or an export).
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
create or replace function public.conversations_delete (
  p_key text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "public"."conversations_delete"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_delete"(text) to "authenticated", "postgres", "service_role";

-- An export's outcome is vouched for by whoever streamed the file: the
-- service role (the conversations function finishes its exports as it).
-- Rules: export_logs: policies export_logs_select (conversations/40_access.sql)
--         export_log_items: policies export_log_items_select (conversations/40_access.sql)
create or replace function public.conversations_export_finish (
  p_export_id uuid,
  p_bytes     bigint,
  p_sha256    text   default null::text,
  p_error     text   default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  e public.export_logs;
begin
  if not private.acting_as_service() then
    raise exception using errcode = '42501',
      message = 'an export is completed by the service role: the function that streamed the file records its size and checksum';
  end if;
  update public.export_logs set status = case when p_error is null then 'completed' else 'failed' end,
         file_size_bytes = p_bytes, checksum_sha256 = p_sha256, error_message = left(p_error, 2000), completed_at = now(),
         conversation_ids = (select coalesce(array_agg(i.conversation_id order by i.position), '{}')
                               from public.export_log_items i where i.export_id = p_export_id)
   where id = p_export_id and status = 'running'
  returning * into e;
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
  end if;
  delete from public.export_log_items where export_id = p_export_id;
  return to_jsonb(e) - 'conversation_ids';
end
$function$;

revoke all on function "public"."conversations_export_finish"(uuid, bigint, text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_export_finish"(uuid, bigint, text, text) to "authenticated", "postgres", "service_role";

-- One page of an export, with only what the file needs: raw files carry
-- the stored conversation and turns; csv, markdown and metadata the summary
-- fields; openai and sharegpt records without metadata just the messages.
-- Built as json text, not jsonb: nothing reads it back in SQL, and jsonb's
-- binary form costs twice the time to build. Each conversation's turns come
-- from the (conversation_id, turn_number) index, already in order. The page's
-- ids go to export_log_items.
-- Rules: export_logs: policies export_logs_select (conversations/40_access.sql)
--         conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
--         conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
--         export_log_items: policies export_log_items_select (conversations/40_access.sql)
--         user_profiles: policies user_profiles_insert_own, user_profiles_select, user_profiles_update_own (foundation/40_access.sql)
create or replace function public.conversations_export_page (
  p_export_id uuid,
  p_cursor    jsonb   default null::jsonb,
  p_limit     integer default 500
)
  returns json
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  set jit to 'off'
  AS $function$
declare
  e public.export_logs;
  v_detail text;
  v_conversation text;
  v_turn text;
  v_rows json;
  v_ids uuid[];
  v_position jsonb;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit, 5000);
  select * into e from public.export_logs where id = p_export_id and status = 'running';
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
  end if;
  -- The next page starts where the export stands; a caller that thinks otherwise took a page twice.
  v_position := private.export_log_position(p_export_id);
  if (p_cursor is null) <> (v_position is null)
     or ((p_cursor ->> 't')::timestamptz, (p_cursor ->> 'i')::uuid) is distinct from ((v_position ->> 't')::timestamptz, (v_position ->> 'i')::uuid) then
    raise exception using errcode = 'PT409',
      message = format('export %s has moved on: its next page starts after %s, not after %s', p_export_id,
                       coalesce(v_position::text, 'the beginning'), coalesce(p_cursor::text, 'the beginning'));
  end if;
  v_detail := case when e.shape = 'raw' then 'full'
                   when e.format in ('csv', 'markdown') or e.include_metadata then 'summary'
                   else 'messages' end;
  v_conversation := case v_detail
    when 'full' then '(to_jsonb(p) - ''search_vector'')::json'
    when 'summary' then 'json_build_object(''id'', p.id, ''conversation_id'', p.conversation_id, ''title'', p.title,
      ''persona'', p.persona, ''emotion'', p.emotion, ''topic'', p.topic, ''intent'', p.intent, ''tone'', p.tone, ''tier'', p.tier,
      ''category'', p.category, ''status'', p.status, ''quality_score'', p.quality_score, ''is_flagged'', p.is_flagged,
      ''flag_reason'', p.flag_reason, ''template_id'', p.template_id, ''created_at'', p.created_at, ''parameters'', p.parameters,
      ''quality_metrics'', p.quality_metrics)'
    else 'json_build_object(''id'', p.id, ''created_at'', p.created_at)' end;
  v_turn := case v_detail
    when 'full' then 'json_build_object(''turn_number'', t.turn_number, ''role'', t.role, ''content'', t.content,
      ''token_count'', t.token_count, ''char_count'', t.char_count)'
    when 'summary' then 'json_build_object(''turn_number'', t.turn_number, ''role'', t.role, ''content'', t.content, ''token_count'', t.token_count)'
    else 'json_build_object(''role'', t.role, ''content'', t.content)' end;
  execute format(
    'with page as (select c.* from public.conversations c where %s %s order by c.created_at, c.id limit $4)
     select coalesce(json_agg(json_build_object(''conversation'', %s, ''turns'', coalesce(tt.turns, ''[]''::json),
                                                ''system_prompt'', tpl.system_prompt)
                              order by p.created_at, p.id), ''[]''::json),
            array_agg(p.id order by p.created_at, p.id),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.id) order by p.created_at desc, p.id desc))[1]
       from page p
            left join lateral (select json_agg(%s order by t.turn_number) as turns
                                 from public.conversation_turns t where t.conversation_id = p.id) tt on true
            left join public.conversation_templates tpl on tpl.id = p.template_id',
    private.conversation_filter_sql(e.filters),
    case when v_position is null then '' else 'and (c.created_at, c.id) > ($2, $3)' end,
    v_conversation, v_turn)
  into v_rows, v_ids, v_last using e.filters, (v_position ->> 't')::timestamptz, (v_position ->> 'i')::uuid, p_limit;
  perform private.export_log_record_page(p_export_id, v_ids, v_last);
  return v_rows;
end
$function$;

revoke all on function "public"."conversations_export_page"(uuid, jsonb, integer) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_export_page"(uuid, jsonb, integer) to "authenticated", "postgres", "service_role";

-- Exports: the log row first (running), then pages in (created_at, id)
-- order, then the outcome. The caller streams; the database keeps the record.
-- Rules: export_logs: policies export_logs_select (conversations/40_access.sql)
create or replace function public.conversations_export_start (
  p_format           text,
  p_shape            text,
  p_filter           jsonb,
  p_include_metadata boolean,
  p_file_name        text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_filter jsonb := case when p_filter is null or jsonb_typeof(p_filter) = 'null' then '{}'::jsonb else p_filter end;
begin
  perform private.conversation_filter_sql(v_filter);
  -- What a fine-tuning file gets unless the filter names a status: approved
  -- conversations that are not flagged (a validation job may flag an approved
  -- one). A filter naming a status is explicit and gets what it names.
  if not v_filter ? 'status' then
    v_filter := v_filter || '{"status": "approved"}'::jsonb
      || case when v_filter ? 'flagged' then '{}'::jsonb else '{"flagged": false}'::jsonb end;
  elsif jsonb_typeof(v_filter -> 'status') <> 'string' then
    raise exception using errcode = '22023', message = 'filter.status: name the status to export (approved unless named)';
  end if;
  return to_jsonb(private.export_log_open(p_format, p_shape, v_filter, p_include_metadata, p_file_name));
end
$function$;

revoke all on function "public"."conversations_export_start"(text, text, jsonb, boolean, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_export_start"(text, text, jsonb, boolean, text) to "authenticated", "postgres", "service_role";

-- Rules: batch_jobs: triggers batch_jobs_set_updated_at (conversations/30_rules.sql); policies batch_jobs_select (conversations/40_access.sql)
create or replace function public.conversations_finish_job (
  p_job_id uuid,
  p_error  text default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
begin
  return to_jsonb(private.batch_job_finish(p_job_id, p_error));
end
$function$;

revoke all on function "public"."conversations_finish_job"(uuid, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_finish_job"(uuid, text) to "authenticated", "postgres", "service_role";

-- Tokens and cost by day, model and template, over the logs the caller may read.
-- Rules: generation_logs: policies generation_logs_select (conversations/40_access.sql)
--         conversation_templates: triggers conversation_templates_guard_review_delete, conversation_templates_guard_review_update, conversation_templates_set_updated_at (conversations/30_rules.sql); policies conversation_templates_delete_own, conversation_templates_insert_own, conversation_templates_select, conversation_templates_update_own (conversations/40_access.sql)
create or replace function public.conversations_generation_stats (
  p_from timestamp with time zone default null::timestamp with time zone,
  p_to   timestamp with time zone default null::timestamp with time zone
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
  select jsonb_build_object('from', p_from, 'to', p_to, 'items', coalesce(jsonb_agg(to_jsonb(s) order by s.day desc, s.model, s.template_name), '[]'::jsonb))
    from (select date_trunc('day', g.created_at)::date as day, g.model_used as model, g.template_id, t.template_name,
                 count(*) as calls, count(*) filter (where g.status <> 'success') as failed_calls,
                 sum(g.input_tokens) as input_tokens, sum(g.output_tokens) as output_tokens,
                 sum(g.input_tokens + g.output_tokens) as total_tokens, sum(g.cost_usd) as cost_usd,
                 round(avg(g.duration_ms)) as avg_duration_ms
            from public.generation_logs g left join public.conversation_templates t on t.id = g.template_id
           where (p_from is null or g.created_at >= p_from) and (p_to is null or g.created_at < p_to)
           group by 1, 2, 3, 4) s
$function$;

revoke all on function "public"."conversations_generation_stats"(timestamp with time zone, timestamp with time zone) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_generation_stats"(timestamp with time zone, timestamp with time zone) to "authenticated", "postgres", "service_role";

-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
create or replace function public.conversations_get (
  p_key text
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  c public.conversations := private.conversation_visible(p_key);
begin
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$function$;

revoke all on function "public"."conversations_get"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_get"(text) to "authenticated", "postgres", "service_role";

-- Rules: batch_jobs: triggers batch_jobs_set_updated_at (conversations/30_rules.sql); policies batch_jobs_select (conversations/40_access.sql)
create or replace function public.conversations_get_batch_job (
  p_job_id uuid
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  j public.batch_jobs;
begin
  select * into j from public.batch_jobs where id = p_job_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('batch job %s not found', p_job_id);
  end if;
  return to_jsonb(j);
end
$function$;

revoke all on function "public"."conversations_get_batch_job"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_get_batch_job"(uuid) to "authenticated", "postgres", "service_role";

-- Newest first, keyset paged on (created_at, id); list items without turns.
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
create or replace function public.conversations_list (
  p_filter jsonb   default null::jsonb,
  p_limit  integer default 50,
  p_cursor text    default null::text,
  p_order  text    default 'created_at.desc'::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  set jit to 'off'
  AS $function$
declare
  v_order text := coalesce(p_order, 'created_at.desc');
  v_cursor jsonb;
  v_key text;
  v_dir text;
  v_cmp text;
  v_items json;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  if v_order = 'created_at.desc' then
    v_cursor := private.time_cursor_decode(p_cursor);
    execute format(
      'select coalesce(json_agg((to_jsonb(p) - ''search_vector'')::json order by p.created_at desc, p.id desc), ''[]''::json), count(*),
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
      'select coalesce(json_agg((to_jsonb(p) - ''search_vector'')::json order by coalesce(p.quality_score, -1) %1$s, p.id %1$s), ''[]''::json),
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
  return json_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$function$;

revoke all on function "public"."conversations_list"(jsonb, integer, text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_list"(jsonb, integer, text, text) to "authenticated", "postgres", "service_role";

-- Rules: export_logs: policies export_logs_select (conversations/40_access.sql)
create or replace function public.conversations_list_exports (
  p_limit  integer default 50,
  p_cursor text    default null::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_cursor jsonb;
  v_items json;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  select coalesce(json_agg((to_jsonb(p) - 'conversation_ids')::json order by p.created_at desc, p.id desc), '[]'::json), count(*),
         (array_agg(jsonb_build_object('t', p.created_at, 'i', p.id) order by p.created_at, p.id))[1]
    into v_items, v_count, v_last
    from (select e.* from public.export_logs e
           where e.user_id = auth.uid()
             and (e.created_at, e.id) < (coalesce((v_cursor ->> 't')::timestamptz, 'infinity'),
                                         coalesce((v_cursor ->> 'i')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
           order by e.created_at desc, e.id desc limit p_limit) p;
  return json_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$function$;

revoke all on function "public"."conversations_list_exports"(integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_list_exports"(integer, text) to "authenticated", "postgres", "service_role";

-- The reviewers, by user id; read by reviewers and the service role.
-- Rules: user_profiles: policies user_profiles_insert_own, user_profiles_select, user_profiles_update_own (foundation/40_access.sql)
create or replace function public.conversations_list_reviewers (
  p_limit  integer default 50,
  p_cursor text    default null::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_after uuid;
  v_items json;
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
  select coalesce(json_agg(json_build_object('user_id', p.id, 'display_name', p.display_name, 'is_reviewer', true,
                                               'created_at', p.created_at) order by p.id), '[]'::json), count(*), max(p.id::text)::uuid
    into v_items, v_count, v_last
    from (select * from public.user_profiles u where u.is_reviewer and (v_after is null or u.id > v_after) order by u.id limit p_limit) p;
  return json_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(jsonb_build_object('u', v_last)) end);
end
$function$;

revoke all on function "public"."conversations_list_reviewers"(integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_list_reviewers"(integer, text) to "authenticated", "postgres", "service_role";

-- The generator's audit trail: written by the service role only.
-- Rules: generation_logs: policies generation_logs_select (conversations/40_access.sql)
create or replace function public.conversations_log_generation (
  p_log jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  r public.generation_logs := jsonb_populate_record(null::public.generation_logs, p_log);
  g public.generation_logs;
begin
  if auth.role() is distinct from 'service_role' then
    raise exception using errcode = '42501', message = 'generation logs are written by the service role';
  end if;
  insert into public.generation_logs
    (conversation_id, template_id, batch_job_id, request_payload, response_payload, model_used, temperature, max_tokens,
     input_tokens, output_tokens, cost_usd, duration_ms, status, error_message, error_code, retry_attempt)
  values
    (r.conversation_id, r.template_id, r.batch_job_id, coalesce(r.request_payload, '{}'::jsonb), r.response_payload, r.model_used,
     r.temperature, r.max_tokens, coalesce(r.input_tokens, 0), coalesce(r.output_tokens, 0), coalesce(r.cost_usd, 0),
     r.duration_ms, coalesce(r.status, 'success'), r.error_message, r.error_code, coalesce(r.retry_attempt, 0))
  returning * into g;
  return to_jsonb(g);
end
$function$;

revoke all on function "public"."conversations_log_generation"(jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_log_generation"(jsonb) to "authenticated", "postgres", "service_role";

-- Rules: batch_jobs: triggers batch_jobs_set_updated_at (conversations/30_rules.sql); policies batch_jobs_select (conversations/40_access.sql)
--         conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
create or replace function public.conversations_rescore_chunk (
  p_job_id uuid,
  p_after  uuid    default null::uuid,
  p_limit  integer default 1000
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  j public.batch_jobs;
begin
  select * into j from public.batch_jobs where id = p_job_id and job_type = 'validation' and name = 'rescore';
  if not found then
    raise exception using errcode = 'PT404', message = format('rescore job %s not found', p_job_id);
  end if;
  return private.batch_job_run_chunk(j, p_after, p_limit);
end
$function$;

revoke all on function "public"."conversations_rescore_chunk"(uuid, uuid, integer) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_rescore_chunk"(uuid, uuid, integer) to "authenticated", "postgres", "service_role";

-- Bulk rescore, in chunks the caller drives (each its own transaction, so the
-- batch job's progress is visible while it runs). A threshold, when given,
-- becomes the setting first (reviewers and the service role only).
-- Rules: batch_jobs: triggers batch_jobs_set_updated_at (conversations/30_rules.sql); policies batch_jobs_select (conversations/40_access.sql)
--         conversation_settings: triggers conversation_settings_set_updated_at (conversations/30_rules.sql); policies conversation_settings_select, conversation_settings_update_reviewers (conversations/40_access.sql)
--         conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         user_profiles: policies user_profiles_insert_own, user_profiles_select, user_profiles_update_own (foundation/40_access.sql)
create or replace function public.conversations_rescore_start (
  p_threshold numeric default null::numeric,
  p_filter    jsonb   default null::jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_total integer;
  j public.batch_jobs;
begin
  if p_threshold is not null then
    if not private.can_review() then
      raise exception using errcode = '42501', message = 'only reviewers change the quality threshold';
    end if;
    update public.conversation_settings set quality_threshold = p_threshold where id;
  end if;
  execute format('select count(*) from public.conversations c where %s', private.conversation_filter_sql(p_filter))
    into v_total using p_filter;
  j := private.batch_job_open('validation', 'rescore', v_total,
         jsonb_build_object('threshold', (select quality_threshold from public.conversation_settings where id), 'filter', p_filter));
  return to_jsonb(j);
end
$function$;

revoke all on function "public"."conversations_rescore_start"(numeric, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_rescore_start"(numeric, jsonb) to "authenticated", "postgres", "service_role";

-- approve | reject | request_changes, by reviewers (and the service role).
-- The row is locked, so of two reviewers acting at once the second sees the
-- first one's result: a repeated or illegal move is 409.
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         user_profiles: policies user_profiles_insert_own, user_profiles_select, user_profiles_update_own (foundation/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
create or replace function public.conversations_review (
  p_key    text,
  p_action text,
  p_note   text default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  c public.conversations := private.conversation_visible(p_key);
  v_to text := case p_action when 'approve' then 'approved' when 'reject' then 'rejected' when 'request_changes' then 'needs_revision' end;
begin
  if v_to is null then
    raise exception using errcode = '22023', message = 'action must be approve, reject or request_changes';
  end if;
  if not private.can_review() then
    raise exception using errcode = '42501', message = 'only reviewers review conversations';
  end if;
  select * into c from public.conversations where id = c.id for no key update;
  if c.status = v_to or not private.conversation_status_allowed(c.status, v_to) then
    raise exception using errcode = 'PT409',
      message = format('cannot %s conversation %s: it is %s', replace(p_action, '_', ' '), c.conversation_id, c.status),
      detail = format('current status: %s', c.status);
  end if;
  update public.conversations set status = v_to, reviewer_notes = coalesce(p_note, reviewer_notes)
   where id = c.id returning * into c;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$function$;

revoke all on function "public"."conversations_review"(text, text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_review"(text, text, text) to "authenticated", "postgres", "service_role";

-- What waits for review, oldest first (first in, first reviewed): reviewers
-- see every pending conversation, users their own. Served by the partial index.
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
create or replace function public.conversations_review_queue (
  p_limit  integer default 50,
  p_cursor text    default null::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_cursor jsonb;
  v_items json;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  select coalesce(json_agg((to_jsonb(p) - 'search_vector')::json order by p.created_at, p.id), '[]'::json), count(*),
         (array_agg(jsonb_build_object('t', p.created_at, 'i', p.id) order by p.created_at desc, p.id desc))[1]
    into v_items, v_count, v_last
    from (select c.* from public.conversations c
           where c.status = 'pending_review'
             and (c.created_at, c.id) > (coalesce((v_cursor ->> 't')::timestamptz, '-infinity'),
                                         coalesce((v_cursor ->> 'i')::uuid, '00000000-0000-0000-0000-000000000000'))
           order by c.created_at, c.id limit p_limit) p;
  return json_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$function$;

revoke all on function "public"."conversations_review_queue"(integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_review_queue"(integer, text) to "authenticated", "postgres", "service_role";

-- Recompute one conversation's score now and answer the breakdown.
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
create or replace function public.conversations_score (
  p_key text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  c public.conversations := private.conversation_visible(p_key);
begin
  perform set_config('registry.rescore', 'on', true);
  update public.conversations set quality_metrics = quality_metrics where id = c.id returning * into c;
  perform set_config('registry.rescore', '', true);
  if c.id is null then
    raise exception using errcode = '42501', message = 'only the owner or a reviewer rescores a conversation';
  end if;
  return jsonb_build_object('conversation_id', c.conversation_id, 'id', c.id, 'quality_score', c.quality_score,
    'is_flagged', c.is_flagged, 'flag_reason', c.flag_reason, 'status', c.status)
    || jsonb_build_object('breakdown', public.calculate_quality_score(c));
end
$function$;

revoke all on function "public"."conversations_score"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_score"(text) to "authenticated", "postgres", "service_role";

-- Granted and revoked by the service role only (is_reviewer is not writable
-- by users; the schema has no admin reviewer). The user must exist.
-- Rules: user_profiles: policies user_profiles_insert_own, user_profiles_select, user_profiles_update_own (foundation/40_access.sql)
create or replace function public.conversations_set_reviewer (
  p_user_id     uuid,
  p_is_reviewer boolean
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
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
$function$;

revoke all on function "public"."conversations_set_reviewer"(uuid, boolean) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_set_reviewer"(uuid, boolean) to "authenticated", "postgres", "service_role";

-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
create or replace function public.conversations_submit (
  p_key text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "public"."conversations_submit"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_submit"(text) to "authenticated", "postgres", "service_role";

-- Editable while it is the author's work in progress: a draft, a generated
-- conversation not yet submitted, or one sent back for revision.
-- Rules: conversations: triggers conversations_before_write, conversations_check_references, conversations_count_usage_delete, conversations_count_usage, conversations_guard_review_insert, conversations_guard_review_update, conversations_have_turns, conversations_keep_reviewed, conversations_no_self_review, conversations_search_text, conversations_template_record (conversations/30_rules.sql); policies conversations_delete_own, conversations_insert_own, conversations_select, conversations_update (conversations/40_access.sql)
--         conversation_turns: triggers conversation_turns_guard_review_delete, conversation_turns_guard_review_insert, conversation_turns_guard_review_update, conversation_turns_keep_one, conversation_turns_sync_delete, conversation_turns_sync_insert, conversation_turns_sync_update (conversations/30_rules.sql); policies conversation_turns_delete_own, conversation_turns_insert_own, conversation_turns_select, conversation_turns_update_own (conversations/40_access.sql)
create or replace function public.conversations_update (
  p_key     text,
  p_changes jsonb default null::jsonb,
  p_turns   jsonb default null::jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "public"."conversations_update"(text, jsonb, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."conversations_update"(text, jsonb, jsonb) to "authenticated", "postgres", "service_role";
