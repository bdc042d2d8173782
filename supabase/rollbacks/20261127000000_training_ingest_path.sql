-- Inverse of 20261127000000_training_ingest_path.sql: the search vector is a
-- stored generated column again (every example indexed at ingest), and the
-- list, few-shot, export-page and parser functions, and the annotation
-- triggers, are those of 20261126000000.
do $$
begin
  -- nested: the inner statement names cron.job, which exists only with pg_cron
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.unschedule(jobid) from cron.job where jobname = 'training-search-index';
  end if;
end
$$;

-- Few-shot's pool back on the examples: stamping and history as in 20261126000000.
drop trigger if exists training_examples_sync_annotation on public.training_examples;
drop function if exists private.training_examples_sync_annotation();
create or replace function private.training_annotations_stamp() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.annotated_by := coalesce(auth.uid(), new.annotated_by);
  new.annotated_at := now();
  return new;
end
$$;

create or replace trigger training_annotations_stamp
  before insert or update on public.training_annotations
  for each row execute function private.training_annotations_stamp();
create or replace trigger training_annotations_audit
  after insert or update or delete on public.training_annotations
  for each row execute function private.training_annotations_audit();
drop index if exists public.training_annotations_pool_cell_idx;
drop index if exists public.training_annotations_pool_cascade_idx;
alter table public.training_annotations drop column if exists cascade_id, drop column if exists cell_name;

drop trigger if exists training_annotations_index_example on public.training_annotations;
drop trigger if exists training_examples_search_stale on public.training_examples;
drop function if exists public.training_search_index(integer);
drop procedure if exists private.training_search_index_run(interval, integer);
drop function if exists private.training_search_index_batch(integer);
drop function if exists private.training_annotations_index_example();
drop function if exists private.training_examples_search_stale();

drop index if exists public.training_examples_search_pending_idx;
alter table public.training_examples drop column if exists search_vector;
alter table public.training_examples add column search_vector tsvector generated always as (
  to_tsvector('english', left(user_input, 100000) || ' ' || left(assistant_output, 100000))) stored;
create index if not exists training_examples_search_idx on public.training_examples using gin (search_vector);
drop function if exists private.example_search_vector(text, text);
create or replace function public.training_examples_list(p_filter jsonb default '{}'::jsonb, p_limit integer default 50, p_cursor text default null)
returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_cursor jsonb;
  v_where text[] := array['true'];
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
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
    'exists (select 1 from public.training_examples s where s.trace_id = v.trace_id and s.search_vector @@ websearch_to_tsquery(''english'', $1 ->> ''q''))'); end if;
  if p_filter ? 'created_after' then v_where := array_append(v_where, 'v.created_at >= ($1 ->> ''created_after'')::timestamptz'); end if;
  if p_filter ? 'created_before' then v_where := array_append(v_where, 'v.created_at < ($1 ->> ''created_before'')::timestamptz'); end if;
  if v_cursor is not null then v_where := array_append(v_where, '(v.created_at, v.trace_id) < (($2 ->> ''t'')::timestamptz, $2 ->> ''i'')'); end if;
  execute format(
    'select coalesce(jsonb_agg(to_jsonb(p) order by p.created_at desc, p.trace_id desc), ''[]''::jsonb), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.trace_id) order by p.created_at, p.trace_id))[1]
       from (select v.* from public.training_examples_with_annotations v where %s
              order by v.created_at desc, v.trace_id desc limit $3) p',
    array_to_string(v_where, ' and '))
  into v_items, v_count, v_last using p_filter, v_cursor, p_limit;
  return jsonb_build_object('items', v_items, 'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;
-- The k best trainable examples for a prompt, in the order to inject them:
-- verified first, then confidence, then similarity to the query (full-text
-- rank over input and output), then the newest. With the total available.
--
-- Similarity only breaks ties, so it is computed only for the candidates:
-- the rows whose (verified, confidence) key is at least the k-th row's,
-- found by walking the trainable-annotations index, not for the whole pool.
-- Dynamic SQL so that only the given filters are in the query: an optional
-- "(p is null or col = p)" in a cached generic plan cannot use an index.
create or replace function public.training_few_shot(
  p_cascade_id text default null, p_cell_name text default null, p_k integer default 5, p_query text default null
) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_pool text;
  v_kth record;
  v_total bigint;
  v_items jsonb;
begin
  perform private.check_page_limit(p_k, 50);
  v_pool := format('public.training_annotations a join public.training_examples e on e.trace_id = a.trace_id where a.trainable %s %s',
    case when p_cascade_id is null then '' else 'and e.cascade_id = $1' end,
    case when p_cell_name is null then '' else 'and e.cell_name = $2' end);
  execute format('select count(*) from %s', v_pool) into v_total using p_cascade_id, p_cell_name;
  execute format('select a.verified, a.confidence from %s order by a.verified desc, a.confidence desc nulls last offset $3 - 1 limit 1', v_pool)
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
                       from %s %s) c
              order by rank limit $3) r',
    case when nullif(p_query, '') is null then '0::real' else 'ts_rank(e.search_vector, websearch_to_tsquery(''english'', $4))' end,
    v_pool,
    -- at least the k-th key (nulls last: a null confidence is the lowest); no k-th row: the pool is the candidates
    case when v_kth is null then ''
         else 'and (a.verified > $5 or (a.verified = $5 and ($6::numeric is null or a.confidence >= $6)))' end)
  into v_items using p_cascade_id, p_cell_name, p_k, p_query, v_kth.verified, v_kth.confidence;
  return jsonb_build_object('total_available', v_total, 'items', v_items);
end
$$;
-- One page of trainable examples for the JSONL export, oldest first.
create or replace function public.training_export_page(p_cursor jsonb default null, p_limit integer default 1000, p_cascade_id text default null)
returns json
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_rows json;
begin
  perform private.check_page_limit(p_limit, 5000);
  select coalesce(json_agg(json_build_object('trace_id', e.trace_id, 'created_at', e.created_at, 'cascade_id', e.cascade_id,
                                             'cell_name', e.cell_name, 'model', e.model, 'system_prompt', e.system_prompt,
                                             'user_input', e.user_input, 'assistant_output', e.assistant_output,
                                             'verified', a.verified, 'confidence', a.confidence, 'tags', a.tags)
                           order by e.created_at, e.trace_id), '[]'::json)
    into v_rows
    from (select e.* from public.training_examples e
           where exists (select 1 from public.training_annotations a where a.trace_id = e.trace_id and a.trainable)
             and (p_cascade_id is null or e.cascade_id = p_cascade_id)
             and (e.created_at, e.trace_id) > (coalesce((p_cursor ->> 't')::timestamptz, '-infinity'), coalesce(p_cursor ->> 'i', ''))
           order by e.created_at, e.trace_id limit p_limit) e
    join public.training_annotations a on a.trace_id = e.trace_id;
  return v_rows;
end
$$;

-- The parsers of 20261126000000.
create or replace function private.content_text(c jsonb) returns text
language sql immutable parallel safe
as $$
  select case jsonb_typeof(c)
    when 'string' then c #>> '{}'
    when 'array' then nullif(array_to_string(array(
      select coalesce(p ->> 'text', case when jsonb_typeof(p) = 'string' then p #>> '{}' end)
        from pg_catalog.jsonb_array_elements(c) with ordinality e(p, ord)
       where jsonb_typeof(p) = 'string' or (jsonb_typeof(p) = 'object' and coalesce(p ->> 'type', 'text') = 'text')
       order by ord), E'\n'), '')
    when 'object' then c ->> 'text'
  end
$$;
create or replace function private.request_user_input(r jsonb) returns text
language sql immutable parallel safe
as $$
  select nullif(coalesce(
    case when jsonb_typeof(r -> 'messages') = 'array' then
      private.content_text(jsonb_path_query_array(r -> 'messages', '$[*] ? (@.role == "user")') -> -1 -> 'content') end,
    case when jsonb_typeof(r -> 'prompt') = 'string' then r ->> 'prompt' end,
    case when jsonb_typeof(r -> 'input') = 'string' then r ->> 'input' end,
    case when jsonb_typeof(r) = 'string' then r #>> '{}' end), '')
$$;
create or replace function private.request_system_prompt(r jsonb) returns text
language sql immutable parallel safe
as $$
  select nullif(coalesce(
    case when jsonb_typeof(r) = 'object' then private.content_text(r -> 'system') end,
    case when jsonb_typeof(r -> 'messages') = 'array' then
      private.content_text(jsonb_path_query_first(r -> 'messages', '$[*] ? (@.role == "system" || @.role == "developer")') -> 'content') end), '')
$$;
drop function if exists private.content_parts_text(jsonb);
