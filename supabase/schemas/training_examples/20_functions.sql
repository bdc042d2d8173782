-- training_examples: private helpers and trigger functions (not callable through the API)
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- The text parts of an array content ([{"type": "text", "text": ...}] in
-- OpenAI and Anthropic style), joined: the one case needing a sub-select, so
-- a function of its own (never inlined, called only for array content).
create or replace function private.content_parts_text (
  c jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  AS $function$
  select nullif(array_to_string(array(
    select coalesce(p ->> 'text', case when jsonb_typeof(p) = 'string' then p #>> '{}' end)
      from pg_catalog.jsonb_array_elements(c) with ordinality e(p, ord)
     where jsonb_typeof(p) = 'string' or (jsonb_typeof(p) = 'object' and coalesce(p ->> 'type', 'text') = 'text')
     order by ord), E'\n'), '')
$function$;

comment on function "private"."content_parts_text"(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';

revoke all on function "private"."content_parts_text"(jsonb) from public;

grant execute on function "private"."content_parts_text"(jsonb) to "authenticated", "postgres", "service_role";

-- Text of a message content: a string, the text parts of an array, or an
-- object's text. Inlined into its callers (plain SQL, no sub-select).
create or replace function private.content_text (
  c jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  AS $function$
  select case jsonb_typeof(c)
    when 'string' then c #>> '{}'
    when 'array' then private.content_parts_text(c)
    when 'object' then c ->> 'text'
  end
$function$;

comment on function "private"."content_text"(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';

revoke all on function "private"."content_text"(jsonb) from public;

grant execute on function "private"."content_text"(jsonb) to "authenticated", "postgres", "service_role";

-- One definition of what is searched. Plain SQL, immutable, no SET clause:
-- inlined wherever it is used.
create or replace function private.example_search_vector (
  p_input  text,
  p_output text
)
  returns tsvector
  language sql
  immutable
  parallel safe
  AS $function$ select pg_catalog.to_tsvector('english'::regconfig, left(p_input, 100000) || ' ' || left(p_output, 100000)) $function$;

comment on function "private"."example_search_vector"(text, text) is 'search_path: none, so that it inlines (see 20261128000000)';

revoke all on function "private"."example_search_vector"(text, text) from public;

grant execute on function "private"."example_search_vector"(text, text) to "authenticated", "postgres", "service_role";

-- Extraction as logs arrive, once per statement (a batch of 1,000 events is
-- one pass). LLM calls with both sides readable become examples; for a trace
-- logged again, the newest event wins.
create or replace function private.extract_training_examples()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  set jit to 'off'
  AS $function$
begin
  insert into public.training_examples as t
    (trace_id, log_id, cascade_id, cell_name, model, system_prompt, user_input, assistant_output, created_at)
  select distinct on (l.trace_id) l.trace_id, l.id, l.cascade_id, l.cell_name, l.model,
         p.system_prompt, p.user_input, p.assistant_output, l.created_at
    from new_logs l,
         -- offset 0 keeps each parser to one call per row
         lateral (select private.request_system_prompt(l.request) as system_prompt, private.request_user_input(l.request) as user_input,
                         private.response_output(l.response) as assistant_output offset 0) p
   where l.node_type = 'llm_call' and p.user_input is not null and p.assistant_output is not null
   order by l.trace_id, l.created_at desc, l.id desc
  on conflict (trace_id) do update set
    log_id = excluded.log_id, cascade_id = excluded.cascade_id, cell_name = excluded.cell_name, model = excluded.model,
    system_prompt = excluded.system_prompt, user_input = excluded.user_input, assistant_output = excluded.assistant_output,
    created_at = excluded.created_at, extracted_at = now()
  where excluded.created_at >= t.created_at;
  return null;
end
$function$;

revoke all on function "private"."extract_training_examples"() from public;

grant execute on function "private"."extract_training_examples"() to "postgres";

-- The system prompt: Anthropic's request.system, else messages[0] when it
-- is a system or developer message (the usual case), else the first such.
create or replace function private.request_system_prompt (
  r jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  AS $function$
  select nullif(coalesce(
    case when jsonb_typeof(r) = 'object' then private.content_text(r -> 'system') end,
    case when jsonb_typeof(r -> 'messages') = 'array' then
      private.content_text(case when r #>> '{messages,0,role}' in ('system', 'developer') then r #> '{messages,0,content}'
        else jsonb_path_query_first(r -> 'messages', '$[*] ? (@.role == "system" || @.role == "developer")') -> 'content' end) end), '')
$function$;

comment on function "private"."request_system_prompt"(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';

revoke all on function "private"."request_system_prompt"(jsonb) from public;

grant execute on function "private"."request_system_prompt"(jsonb) to "authenticated", "postgres", "service_role";

-- The last user message: request.messages (OpenAI and Anthropic), else
-- request.prompt / request.input as text, else the request itself if a string.
create or replace function private.request_user_input (
  r jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  AS $function$
  select nullif(coalesce(
    case when jsonb_typeof(r -> 'messages') = 'array' then
      private.content_text(case when r #>> '{messages,-1,role}' = 'user' then r #> '{messages,-1,content}'
                                else jsonb_path_query_array(r -> 'messages', '$[*] ? (@.role == "user")') -> -1 -> 'content' end) end,
    case when jsonb_typeof(r -> 'prompt') = 'string' then r ->> 'prompt' end,
    case when jsonb_typeof(r -> 'input') = 'string' then r ->> 'input' end,
    case when jsonb_typeof(r) = 'string' then r #>> '{}' end), '')
$function$;

comment on function "private"."request_user_input"(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';

revoke all on function "private"."request_user_input"(jsonb) from public;

grant execute on function "private"."request_user_input"(jsonb) to "authenticated", "postgres", "service_role";

-- The answer: OpenAI choices[0].message.content (or choices[0].text),
-- Anthropic content[] text blocks, output_text, or a plain string.
create or replace function private.response_output (
  r jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  AS $function$
  select nullif(case jsonb_typeof(r)
    when 'string' then r #>> '{}'
    when 'object' then coalesce(
      case when jsonb_typeof(r -> 'choices') = 'array' then
        coalesce(private.content_text(r #> '{choices,0,message,content}'), r #>> '{choices,0,text}') end,
      case when jsonb_typeof(r -> 'content') in ('array', 'string') then private.content_text(r -> 'content') end,
      case when jsonb_typeof(r -> 'output_text') = 'string' then r ->> 'output_text' end,
      case when jsonb_typeof(r -> 'text') = 'string' then r ->> 'text' end)
  end, '')
$function$;

comment on function "private"."response_output"(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';

revoke all on function "private"."response_output"(jsonb) from public;

grant execute on function "private"."response_output"(jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.training_annotations_audit()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  insert into public.training_annotation_history (trace_id, action, old_annotation, new_annotation, changed_by)
  values (coalesce(new.trace_id, old.trace_id), lower(tg_op),
          case when tg_op <> 'INSERT' then to_jsonb(old) end, case when tg_op <> 'DELETE' then to_jsonb(new) end, auth.uid());
  return null;
end
$function$;

revoke all on function "private"."training_annotations_audit"() from public;

grant execute on function "private"."training_annotations_audit"() to "postgres";

-- Annotating an example trainable indexes it at once: few-shot ranks the
-- trainable pool by similarity and should not compute vectors per request.
create or replace function private.training_annotations_index_example()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  update public.training_examples
     set search_vector = private.example_search_vector(user_input, assistant_output)
   where trace_id = new.trace_id and search_vector is null;
  return null;
end
$function$;

revoke all on function "private"."training_annotations_index_example"() from public;

grant execute on function "private"."training_annotations_index_example"() to "postgres";

-- Stamping now also copies the example's cascade and cell, under a share
-- lock on the example: a concurrent re-extraction that moves the trace to
-- another cascade either commits first (and is read here) or waits for this
-- annotation (and its sync trigger below then sees it). Security definer:
-- the lock needs more than the annotator's select.
create or replace function private.training_annotations_stamp()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  new.annotated_by := coalesce(auth.uid(), new.annotated_by);
  new.annotated_at := now();
  select e.cascade_id, e.cell_name into new.cascade_id, new.cell_name
    from public.training_examples e where e.trace_id = new.trace_id for share;
  return new;
end
$function$;

revoke all on function "private"."training_annotations_stamp"() from public;

grant execute on function "private"."training_annotations_stamp"() to "postgres";

create or replace function private.training_example_json (
  p_trace_id text
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$ select to_jsonb(v) from public.training_examples_with_annotations v where v.trace_id = p_trace_id $function$;

revoke all on function "private"."training_example_json"(text) from public;

grant execute on function "private"."training_example_json"(text) to "authenticated", "postgres", "service_role";

create or replace function private.training_example_must_exist (
  p_trace_id text
)
  returns void
  language plpgsql
  stable
  set search_path to ''
  AS $function$
begin
  if not exists (select 1 from public.training_examples where trace_id = p_trace_id) then
    raise exception using errcode = 'PT404', message = format('no training example for trace %s', p_trace_id);
  end if;
end
$function$;

revoke all on function "private"."training_example_must_exist"(text) from public;

grant execute on function "private"."training_example_must_exist"(text) to "authenticated", "postgres", "service_role";

create or replace function private.training_examples_search_stale()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
begin
  if (new.user_input, new.assistant_output) is distinct from (old.user_input, old.assistant_output) then
    new.search_vector := null;
  end if;
  return new;
end
$function$;

revoke all on function "private"."training_examples_search_stale"() from public;

grant execute on function "private"."training_examples_search_stale"() to "postgres";

create or replace function private.training_examples_sync_annotation()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  update public.training_annotations set cascade_id = new.cascade_id, cell_name = new.cell_name where trace_id = new.trace_id;
  return null;
end
$function$;

revoke all on function "private"."training_examples_sync_annotation"() from public;

grant execute on function "private"."training_examples_sync_annotation"() to "postgres";

-- One batch of the indexer: up to p_limit examples without a vector, oldest
-- first. Rows a concurrent writer holds are skipped (the next batch gets
-- them). Returns how many it indexed.
create or replace function private.training_search_index_batch (
  p_limit integer
)
  returns integer
  language plpgsql
  security definer
  set search_path to ''
  set jit to 'off'
  AS $function$
declare
  v_indexed integer;
begin
  with batch as (
    select trace_id from public.training_examples
     where search_vector is null
     order by created_at, trace_id
     limit p_limit
       for update skip locked)
  update public.training_examples e
     set search_vector = private.example_search_vector(e.user_input, e.assistant_output)
    from batch
   where e.trace_id = batch.trace_id;
  get diagnostics v_indexed = row_count;
  return v_indexed;
end
$function$;

revoke all on function "private"."training_search_index_batch"(integer) from public;

grant execute on function "private"."training_search_index_batch"(integer) to "postgres", "service_role";

-- The indexer as a job: batches of p_batch, each committed on its own (so
-- progress is visible and row locks are short), until nothing is pending or
-- the time budget is spent. For pg_cron: `call private.training_search_index_run()`.
-- No SET clause: a procedure with one cannot commit.
create or replace procedure private.training_search_index_run (
  IN p_budget interval default '00:00:50'::interval,
  IN p_batch integer   default 5000
)
  language plpgsql
  AS $procedure$
declare
  v_started timestamptz := pg_catalog.clock_timestamp();
  v_indexed integer;
begin
  loop
    v_indexed := private.training_search_index_batch(p_batch);
    commit;
    exit when v_indexed < p_batch or pg_catalog.clock_timestamp() - v_started > p_budget;
  end loop;
end
$procedure$;

comment on procedure "private"."training_search_index_run"(interval, integer) is 'search_path: none, so that it may commit between batches (see 20261128000000)';

revoke all on procedure "private"."training_search_index_run"(interval, integer) from public;

grant execute on procedure "private"."training_search_index_run"(interval, integer) to "postgres";
