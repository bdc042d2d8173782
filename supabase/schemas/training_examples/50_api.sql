-- training_examples: the public SQL functions the HTTP functions and the table API call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- Writing an annotation replaces the one there (the latest wins); the
-- history keeps every version.
-- Rules: training_annotations: triggers training_annotations_audit, training_annotations_index_example, training_annotations_stamp (training_examples/30_rules.sql); policies training_annotations_delete, training_annotations_insert, training_annotations_select, training_annotations_update (training_examples/40_access.sql)
--         training_examples: triggers training_examples_search_stale, training_examples_sync_annotation (training_examples/30_rules.sql); policies training_examples_select (training_examples/40_access.sql)
create or replace function public.training_annotate (
  p_trace_id   text,
  p_trainable  boolean,
  p_verified   boolean default null::boolean,
  p_confidence numeric default null::numeric,
  p_notes      text    default null::text,
  p_tags       text[]  default null::text[]
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
begin
  perform private.training_example_must_exist(p_trace_id);
  insert into public.training_annotations as a (trace_id, trainable, verified, confidence, notes, tags)
  values (p_trace_id, p_trainable, coalesce(p_verified, false), p_confidence, p_notes, coalesce(p_tags, '{}'))
  on conflict (trace_id) do update set
    trainable = excluded.trainable, verified = excluded.verified, confidence = excluded.confidence,
    notes = excluded.notes, tags = excluded.tags;
  return private.training_example_json(p_trace_id);
end
$function$;

revoke all on function "public"."training_annotate"(text, boolean, boolean, numeric, text, text[]) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_annotate"(text, boolean, boolean, numeric, text, text[]) to "authenticated", "postgres", "service_role";

-- Rules: training_annotations: triggers training_annotations_audit, training_annotations_index_example, training_annotations_stamp (training_examples/30_rules.sql); policies training_annotations_delete, training_annotations_insert, training_annotations_select, training_annotations_update (training_examples/40_access.sql)
--         training_examples: triggers training_examples_search_stale, training_examples_sync_annotation (training_examples/30_rules.sql); policies training_examples_select (training_examples/40_access.sql)
create or replace function public.training_clear_annotation (
  p_trace_id text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_deleted boolean;
begin
  perform private.training_example_must_exist(p_trace_id);
  delete from public.training_annotations where trace_id = p_trace_id;
  v_deleted := found;
  return private.training_example_json(p_trace_id) || jsonb_build_object('cleared', v_deleted);
end
$function$;

revoke all on function "public"."training_clear_annotation"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_clear_annotation"(text) to "authenticated", "postgres", "service_role";

-- Rules: training_examples: triggers training_examples_search_stale, training_examples_sync_annotation (training_examples/30_rules.sql); policies training_examples_select (training_examples/40_access.sql)
create or replace function public.training_example_get (
  p_trace_id text
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  AS $function$
begin
  perform private.training_example_must_exist(p_trace_id);
  return private.training_example_json(p_trace_id);
end
$function$;

revoke all on function "public"."training_example_get"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_example_get"(text) to "authenticated", "postgres", "service_role";

-- ---------------------------------------------------------------------------
-- Lists: `q` matches indexed examples through the GIN index and pending ones
-- by computing their vector.
-- Rules: training_examples: triggers training_examples_search_stale, training_examples_sync_annotation (training_examples/30_rules.sql); policies training_examples_select (training_examples/40_access.sql)
create or replace function public.training_examples_list (
  p_filter jsonb   default '{}'::jsonb,
  p_limit  integer default 50,
  p_cursor text    default null::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  set jit to 'off'
  AS $function$
declare
  v_cursor jsonb;
  v_where text[] := array['true'];
  v_items json;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  if length(p_filter ->> 'q') > 500 then
    raise exception using errcode = '22023', message = 'q is longer than 500 characters';
  end if;
  v_cursor := private.time_cursor_decode(p_cursor);
  p_filter := coalesce(p_filter, '{}'::jsonb);
  if p_filter ? 'cascade_id' then v_where := array_append(v_where, 'v.cascade_id = ($1 ->> ''cascade_id'')'); end if;
  if p_filter ? 'cell_name' then v_where := array_append(v_where, 'v.cell_name = ($1 ->> ''cell_name'')'); end if;
  if p_filter ? 'model' then v_where := array_append(v_where, 'v.model = ($1 ->> ''model'')'); end if;
  if p_filter ? 'trainable' then v_where := array_append(v_where, 'v.trainable = ($1 ->> ''trainable'')::boolean'); end if;
  if p_filter ? 'verified' then v_where := array_append(v_where, 'v.verified = ($1 ->> ''verified'')::boolean'); end if;
  if p_filter ? 'min_confidence' then v_where := array_append(v_where, 'v.confidence >= ($1 ->> ''min_confidence'')::numeric'); end if;
  if p_filter ? 'tag' then v_where := array_append(v_where, 'v.tags @> array[($1 ->> ''tag'')]'); end if;
  if p_filter ? 'q' then v_where := array_append(v_where,
    'exists (select 1 from public.training_examples s
              where s.trace_id = v.trace_id
                and (s.search_vector @@ websearch_to_tsquery(''english'', $1 ->> ''q'')
                     or (s.search_vector is null
                         and private.example_search_vector(s.user_input, s.assistant_output) @@ websearch_to_tsquery(''english'', $1 ->> ''q''))))');
  end if;
  if p_filter ? 'created_after' then v_where := array_append(v_where, 'v.created_at >= ($1 ->> ''created_after'')::timestamptz'); end if;
  if p_filter ? 'created_before' then v_where := array_append(v_where, 'v.created_at < ($1 ->> ''created_before'')::timestamptz'); end if;
  if v_cursor is not null then v_where := array_append(v_where, '(v.created_at, v.trace_id) < (($2 ->> ''t'')::timestamptz, $2 ->> ''i'')'); end if;
  execute format(
    'select coalesce(json_agg(to_json(p) order by p.created_at desc, p.trace_id desc), ''[]''::json), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.trace_id) order by p.created_at, p.trace_id))[1]
       from (select v.* from public.training_examples_with_annotations v where %s
              order by v.created_at desc, v.trace_id desc limit $3) p',
    array_to_string(v_where, ' and '))
  into v_items, v_count, v_last using p_filter, v_cursor, p_limit;
  return json_build_object('items', v_items, 'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$function$;

revoke all on function "public"."training_examples_list"(jsonb, integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_examples_list"(jsonb, integer, text) to "authenticated", "postgres", "service_role";

-- The export page, with the cascade filter only when given (dynamic SQL: an
-- optional "(p is null or col = p)" cannot use an index in a generic plan).
-- Rules: training_examples: triggers training_examples_search_stale, training_examples_sync_annotation (training_examples/30_rules.sql); policies training_examples_select (training_examples/40_access.sql)
--         training_annotations: triggers training_annotations_audit, training_annotations_index_example, training_annotations_stamp (training_examples/30_rules.sql); policies training_annotations_delete, training_annotations_insert, training_annotations_select, training_annotations_update (training_examples/40_access.sql)
create or replace function public.training_export_page (
  p_cursor     jsonb   default null::jsonb,
  p_limit      integer default 1000,
  p_cascade_id text    default null::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  set jit to 'off'
  AS $function$
declare
  v_rows json;
begin
  perform private.check_page_limit(p_limit, 5000);
  execute format(
    'select coalesce(json_agg(json_build_object(''trace_id'', e.trace_id, ''created_at'', e.created_at, ''cascade_id'', e.cascade_id,
                                                ''cell_name'', e.cell_name, ''model'', e.model, ''system_prompt'', e.system_prompt,
                                                ''user_input'', e.user_input, ''assistant_output'', e.assistant_output,
                                                ''verified'', a.verified, ''confidence'', a.confidence, ''tags'', a.tags)
                              order by e.created_at, e.trace_id), ''[]''::json)
       from (select e.* from public.training_examples e
              where exists (select 1 from public.training_annotations a where a.trace_id = e.trace_id and a.trainable) %s
                and (e.created_at, e.trace_id) > (coalesce(($1 ->> ''t'')::timestamptz, ''-infinity''), coalesce($1 ->> ''i'', ''''))
              order by e.created_at, e.trace_id limit $2) e
       join public.training_annotations a on a.trace_id = e.trace_id',
    case when p_cascade_id is null then '' else 'and e.cascade_id = $3' end)
  into v_rows using p_cursor, p_limit, p_cascade_id;
  return v_rows;
end
$function$;

revoke all on function "public"."training_export_page"(jsonb, integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_export_page"(jsonb, integer, text) to "authenticated", "postgres", "service_role";

-- The k best trainable examples for a prompt, in the order to inject them:
-- verified first, then confidence, then similarity to the query (full-text
-- rank over input and output), then the newest. With the total available.
--
-- Similarity only breaks ties, so it is computed only for the candidates:
-- the rows whose (verified, confidence) key is at least the k-th row's,
-- found by walking the trainable-annotations index, not for the whole pool.
-- Dynamic SQL so that only the given filters are in the query: an optional
-- "(p is null or col = p)" in a cached generic plan cannot use an index.
-- Rules: training_annotations: triggers training_annotations_audit, training_annotations_index_example, training_annotations_stamp (training_examples/30_rules.sql); policies training_annotations_delete, training_annotations_insert, training_annotations_select, training_annotations_update (training_examples/40_access.sql)
--         training_examples: triggers training_examples_search_stale, training_examples_sync_annotation (training_examples/30_rules.sql); policies training_examples_select (training_examples/40_access.sql)
create or replace function public.training_few_shot (
  p_cascade_id text    default null::text,
  p_cell_name  text    default null::text,
  p_k          integer default 5,
  p_query      text    default null::text
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  set jit to 'off'
  AS $function$
declare
  v_filter text;
  v_kth record;
  v_total bigint;
  v_items jsonb;
begin
  perform private.check_page_limit(p_k, 50);
  if length(p_query) > 4000 then
    raise exception using errcode = '22023', message = 'query is longer than 4000 characters';
  end if;
  v_filter := concat(case when p_cascade_id is not null then ' and a.cascade_id = $1' end,
                     case when p_cell_name is not null then ' and a.cell_name = $2' end);
  execute 'select count(*) from public.training_annotations a where a.trainable' || v_filter into v_total using p_cascade_id, p_cell_name;
  execute 'select a.verified, a.confidence from public.training_annotations a where a.trainable' || v_filter
       || ' order by a.verified desc, a.confidence desc nulls last offset $3 - 1 limit 1'
    into v_kth using p_cascade_id, p_cell_name, p_k;
  execute format(
    'select coalesce(jsonb_agg(jsonb_build_object(
         ''rank'', r.rank, ''trace_id'', r.trace_id, ''cascade_id'', r.cascade_id, ''cell_name'', r.cell_name, ''model'', r.model,
         ''system_prompt'', r.system_prompt, ''user_input'', r.user_input, ''assistant_output'', r.assistant_output,
         ''verified'', r.verified, ''confidence'', r.confidence, ''similarity'', round(r.similarity::numeric, 6), ''tags'', r.tags,
         ''created_at'', r.created_at) order by r.rank), ''[]''::jsonb)
       from (select c.*, row_number() over (order by c.verified desc, c.confidence desc nulls last, c.similarity desc,
                                                    c.created_at desc, c.trace_id) as rank
               from (select e.*, a.verified, a.confidence, a.tags, %s as similarity
                       from public.training_annotations a join public.training_examples e on e.trace_id = a.trace_id
                      where a.trainable %s %s) c
              order by rank limit $3) r',
    case when nullif(p_query, '') is null then '0::real'
         else 'ts_rank(coalesce(e.search_vector, private.example_search_vector(e.user_input, e.assistant_output)),
                       websearch_to_tsquery(''english'', $4))' end,
    v_filter,
    -- at least the k-th key (nulls last: a null confidence is the lowest); no k-th row: the pool is the candidates
    case when v_kth is null then ''
         else 'and (a.verified > $5 or (a.verified = $5 and ($6::numeric is null or a.confidence >= $6)))' end)
  into v_items using p_cascade_id, p_cell_name, p_k, p_query, v_kth.verified, v_kth.confidence;
  return jsonb_build_object('total_available', v_total, 'items', v_items);
end
$function$;

revoke all on function "public"."training_few_shot"(text, text, integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_few_shot"(text, text, integer, text) to "authenticated", "postgres", "service_role";

-- A batch of log events in one statement (the extraction trigger runs once).
-- Events already stored (same id) are ignored. Service role only.
-- Rules: unified_logs: triggers unified_logs_extract_examples (training_examples/30_rules.sql); policies unified_logs_select (training_examples/40_access.sql)
create or replace function public.training_logs_ingest (
  p_events jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  v_inserted integer;
  v_examples_before bigint;
begin
  if auth.role() is distinct from 'service_role' then
    raise exception using errcode = '42501', message = 'log events are written by the service role';
  end if;
  if jsonb_typeof(p_events) is distinct from 'array' then
    raise exception using errcode = '22023', message = 'events must be an array';
  end if;
  with rows as (
    insert into public.unified_logs (id, trace_id, parent_id, session_id, cascade_id, cell_name, node_type, model, role,
                                     request, response, prompt_tokens, completion_tokens, total_tokens, cost_usd, duration_ms,
                                     metadata, created_at)
    select e.id, e.trace_id, e.parent_id, e.session_id, e.cascade_id, e.cell_name, coalesce(e.node_type, 'llm_call'), e.model, e.role,
           x -> 'request', x -> 'response', e.prompt_tokens, e.completion_tokens, e.total_tokens, e.cost_usd, e.duration_ms,
           coalesce(x -> 'metadata', '{}'::jsonb), coalesce(e.created_at, now())
      from jsonb_array_elements(p_events) x,
           jsonb_to_record(x) as e(id text, trace_id text, parent_id text, session_id text, cascade_id text, cell_name text,
                                   node_type text, model text, role text, prompt_tokens integer, completion_tokens integer,
                                   total_tokens integer, cost_usd numeric, duration_ms integer, created_at timestamptz)
    on conflict (id) do nothing
    returning 1)
  select count(*) into v_inserted from rows;
  return jsonb_build_object('received', jsonb_array_length(p_events), 'inserted', v_inserted,
                            'duplicates', jsonb_array_length(p_events) - v_inserted);
end
$function$;

revoke all on function "public"."training_logs_ingest"(jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_logs_ingest"(jsonb) to "authenticated", "postgres", "service_role";

-- One batch through the API (service role): how many were indexed and how
-- many are still pending.
-- Rules: training_examples: triggers training_examples_search_stale, training_examples_sync_annotation (training_examples/30_rules.sql); policies training_examples_select (training_examples/40_access.sql)
create or replace function public.training_search_index (
  p_limit integer default 5000
)
  returns jsonb
  language plpgsql
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  v_indexed integer;
begin
  if auth.role() is distinct from 'service_role' then
    raise exception using errcode = '42501', message = 'the search indexer is run by the service role';
  end if;
  perform private.check_page_limit(p_limit, 50000);
  v_indexed := private.training_search_index_batch(p_limit);
  return jsonb_build_object('indexed', v_indexed,
    'pending', (select count(*) from public.training_examples where search_vector is null));
end
$function$;

revoke all on function "public"."training_search_index"(integer) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_search_index"(integer) to "postgres", "service_role";

-- Rules: touches no table directly
create or replace function public.training_stats (
  p_cascade_id text default null::text
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
  select jsonb_build_object('items', coalesce(jsonb_agg(to_jsonb(s) order by s.cascade_id nulls last, s.cell_name nulls last), '[]'::jsonb))
    from public.training_stats_by_cascade s
   where p_cascade_id is null or s.cascade_id = p_cascade_id
$function$;

revoke all on function "public"."training_stats"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."training_stats"(text) to "authenticated", "postgres", "service_role";
