-- Training examples from trace logs: every LLM call a cascade makes lands in
-- unified_logs; an example is extracted as the log arrives (a statement
-- trigger, not a refresh job); people annotate examples as trainable; the
-- trainable ones serve as few-shot examples and fine-tuning data.

-- ---------------------------------------------------------------------------
-- Logs. Built for volume: the primary key (replays of an event id are
-- ignored) and a BRIN index on created_at (events arrive in time order, so a
-- BRIN range summary is tiny and serves time-window scans). Growth plan in
-- the README: monthly range partitions once the table passes ~100M rows.

create table if not exists public.unified_logs (
  id text primary key constraint unified_logs_id_format check (length(id) between 1 and 200),
  trace_id text not null constraint unified_logs_trace_id_length check (length(trace_id) between 1 and 200),
  parent_id text,
  session_id text,
  cascade_id text,
  cell_name text,
  node_type text not null default 'llm_call' constraint unified_logs_node_type_length check (length(node_type) between 1 and 100),
  model text,
  role text,
  request jsonb,
  response jsonb,
  prompt_tokens integer constraint unified_logs_prompt_tokens_not_negative check (prompt_tokens >= 0),
  completion_tokens integer constraint unified_logs_completion_tokens_not_negative check (completion_tokens >= 0),
  total_tokens integer constraint unified_logs_total_tokens_not_negative check (total_tokens >= 0),
  cost_usd numeric(12, 6) constraint unified_logs_cost_not_negative check (cost_usd >= 0),
  duration_ms integer constraint unified_logs_duration_not_negative check (duration_ms >= 0),
  metadata jsonb not null default '{}'::jsonb constraint unified_logs_metadata_is_object check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  ingested_at timestamptz not null default now()
);
create index if not exists unified_logs_created_at_brin on public.unified_logs using brin (created_at);

-- ---------------------------------------------------------------------------
-- Parsing. Every function here answers null for what it cannot read; none
-- raises (jsonpath in lax mode, type checks before every access), so a log
-- nobody can parse is stored and simply yields no example.
--
-- They run on every ingested row, so they are written to be inlined into the
-- extraction query: plain SQL, immutable, and without a SET search_path
-- clause (Postgres never inlines a function that has one, and the call
-- overhead was most of the extraction cost). They use only pg_catalog, which
-- is always searched first, and private.*, fully qualified.

-- Text of a message content: a string, or the text parts of an array
-- ([{"type": "text", "text": ...}] in OpenAI and Anthropic style), joined.
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

-- The last user message: request.messages (OpenAI and Anthropic), else
-- request.prompt / request.input as text, else the request itself if a string.
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

-- The system prompt: Anthropic's request.system, else the first system message.
create or replace function private.request_system_prompt(r jsonb) returns text
language sql immutable parallel safe
as $$
  select nullif(coalesce(
    case when jsonb_typeof(r) = 'object' then private.content_text(r -> 'system') end,
    case when jsonb_typeof(r -> 'messages') = 'array' then
      private.content_text(jsonb_path_query_first(r -> 'messages', '$[*] ? (@.role == "system" || @.role == "developer")') -> 'content') end), '')
$$;

-- The answer: OpenAI choices[0].message.content (or choices[0].text),
-- Anthropic content[] text blocks, output_text, or a plain string.
create or replace function private.response_output(r jsonb) returns text
language sql immutable parallel safe
as $$
  select nullif(case jsonb_typeof(r)
    when 'string' then r #>> '{}'
    when 'object' then coalesce(
      case when jsonb_typeof(r -> 'choices') = 'array' then
        coalesce(private.content_text(r #> '{choices,0,message,content}'), r #>> '{choices,0,text}') end,
      case when jsonb_typeof(r -> 'content') in ('array', 'string') then private.content_text(r -> 'content') end,
      case when jsonb_typeof(r -> 'output_text') = 'string' then r ->> 'output_text' end,
      case when jsonb_typeof(r -> 'text') = 'string' then r ->> 'text' end)
  end, '')
$$;

-- ---------------------------------------------------------------------------
-- Examples, annotations and their history.

create table if not exists public.training_examples (
  trace_id text primary key,
  log_id text not null,
  cascade_id text,
  cell_name text,
  model text,
  system_prompt text,
  user_input text not null,
  assistant_output text not null,
  created_at timestamptz not null,
  extracted_at timestamptz not null default now(),
  search_vector tsvector generated always as (
    to_tsvector('english', left(user_input, 100000) || ' ' || left(assistant_output, 100000))) stored
);
create index if not exists training_examples_created_idx on public.training_examples (created_at desc, trace_id desc);
create index if not exists training_examples_cascade_cell_idx on public.training_examples (cascade_id, cell_name, created_at desc);
create index if not exists training_examples_search_idx on public.training_examples using gin (search_vector);

create table if not exists public.training_annotations (
  trace_id text primary key references public.training_examples (trace_id) on delete cascade,
  trainable boolean not null,
  verified boolean not null default false,
  confidence numeric(4, 3) constraint training_annotations_confidence_range check (confidence between 0 and 1),
  notes text constraint training_annotations_notes_length check (length(notes) <= 10000),
  tags text[] not null default '{}' constraint training_annotations_tags_count check (cardinality(tags) <= 50),
  annotated_by uuid default auth.uid(),
  annotated_at timestamptz not null default now()
);
-- Few-shot retrieval walks the trainable ones, best first.
create index if not exists training_annotations_trainable_idx on public.training_annotations (verified desc, confidence desc nulls last) where trainable;
create index if not exists training_annotations_tags_idx on public.training_annotations using gin (tags);
create index if not exists training_annotations_annotated_by_idx on public.training_annotations (annotated_by);

create table if not exists public.training_annotation_history (
  id bigint generated always as identity primary key,
  trace_id text not null,
  action text not null constraint training_annotation_history_action_valid check (action in ('insert', 'update', 'delete')),
  old_annotation jsonb,
  new_annotation jsonb,
  changed_by uuid,
  changed_at timestamptz not null default now()
);
create index if not exists training_annotation_history_trace_idx on public.training_annotation_history (trace_id, id);

-- Extraction as logs arrive, once per statement (a batch of 1,000 events is
-- one pass). LLM calls with both sides readable become examples; for a trace
-- logged again, the newest event wins.
create or replace function private.extract_training_examples() returns trigger
language plpgsql security definer
set search_path = ''
set jit = off
as $$
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
$$;

create or replace trigger unified_logs_extract_examples
  after insert on public.unified_logs referencing new table as new_logs
  for each statement execute function private.extract_training_examples();

-- The latest annotation wins; every change is kept.
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

create or replace function private.training_annotations_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.training_annotation_history (trace_id, action, old_annotation, new_annotation, changed_by)
  values (coalesce(new.trace_id, old.trace_id), lower(tg_op),
          case when tg_op <> 'INSERT' then to_jsonb(old) end, case when tg_op <> 'DELETE' then to_jsonb(new) end, auth.uid());
  return null;
end
$$;

create or replace trigger training_annotations_audit
  after insert or update or delete on public.training_annotations
  for each row execute function private.training_annotations_audit();

-- ---------------------------------------------------------------------------
-- Views (security invoker: RLS of the tables applies to the reader).

create or replace view public.training_examples_with_annotations with (security_invoker = on) as
select e.trace_id, e.log_id, e.cascade_id, e.cell_name, e.model, e.system_prompt, e.user_input, e.assistant_output,
       e.created_at, e.extracted_at,
       coalesce(a.trainable, false) as trainable, coalesce(a.verified, false) as verified, a.confidence, a.notes,
       coalesce(a.tags, '{}') as tags, a.annotated_by, a.annotated_at, a.trace_id is not null as annotated
  from public.training_examples e left join public.training_annotations a on a.trace_id = e.trace_id;

create or replace view public.training_stats_by_cascade with (security_invoker = on) as
select e.cascade_id, e.cell_name, count(*)::integer as examples,
       count(*) filter (where a.trainable)::integer as trainable,
       count(*) filter (where a.verified)::integer as verified,
       round(avg(a.confidence), 3) as mean_confidence,
       max(e.created_at) as latest_example
  from public.training_examples e left join public.training_annotations a on a.trace_id = e.trace_id
 group by e.cascade_id, e.cell_name;

-- ---------------------------------------------------------------------------
-- RLS: logs are written by the service role; authenticated users read logs
-- and examples and annotate; anon nothing.

alter table public.unified_logs enable row level security;
alter table public.training_examples enable row level security;
alter table public.training_annotations enable row level security;
alter table public.training_annotation_history enable row level security;

drop policy if exists unified_logs_select on public.unified_logs;
create policy unified_logs_select on public.unified_logs for select to authenticated using (true);
drop policy if exists training_examples_select on public.training_examples;
create policy training_examples_select on public.training_examples for select to authenticated using (true);
drop policy if exists training_annotations_select on public.training_annotations;
create policy training_annotations_select on public.training_annotations for select to authenticated using (true);
drop policy if exists training_annotations_write on public.training_annotations;
create policy training_annotations_write on public.training_annotations for all to authenticated using (true) with check (true);
drop policy if exists training_annotation_history_select on public.training_annotation_history;
create policy training_annotation_history_select on public.training_annotation_history for select to authenticated using (true);

revoke all on table public.unified_logs, public.training_examples, public.training_annotations,
  public.training_annotation_history from anon, authenticated;
revoke all on table public.training_examples_with_annotations, public.training_stats_by_cascade from anon, authenticated;
grant select on table public.unified_logs, public.training_examples, public.training_annotations,
  public.training_annotation_history, public.training_examples_with_annotations, public.training_stats_by_cascade to authenticated;
grant insert (trace_id, trainable, verified, confidence, notes, tags), update (trainable, verified, confidence, notes, tags), delete
  on table public.training_annotations to authenticated;
grant all on table public.unified_logs, public.training_examples, public.training_annotations, public.training_annotation_history,
  public.training_examples_with_annotations, public.training_stats_by_cascade to service_role;

-- ---------------------------------------------------------------------------
-- Operations.

-- A batch of log events in one statement (the extraction trigger runs once).
-- Events already stored (same id) are ignored. Service role only.
create or replace function public.training_logs_ingest(p_events jsonb) returns jsonb
language plpgsql
set search_path = ''
set jit = off
as $$
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
$$;

create or replace function private.training_example_must_exist(p_trace_id text) returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if not exists (select 1 from public.training_examples where trace_id = p_trace_id) then
    raise exception using errcode = 'PT404', message = format('no training example for trace %s', p_trace_id);
  end if;
end
$$;

create or replace function private.training_example_json(p_trace_id text) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$ select to_jsonb(v) from public.training_examples_with_annotations v where v.trace_id = p_trace_id $$;

create or replace function public.training_example_get(p_trace_id text) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  perform private.training_example_must_exist(p_trace_id);
  return private.training_example_json(p_trace_id);
end
$$;

-- Writing an annotation replaces the one there (the latest wins); the
-- history keeps every version.
create or replace function public.training_annotate(
  p_trace_id text, p_trainable boolean, p_verified boolean default null, p_confidence numeric default null,
  p_notes text default null, p_tags text[] default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  perform private.training_example_must_exist(p_trace_id);
  insert into public.training_annotations as a (trace_id, trainable, verified, confidence, notes, tags)
  values (p_trace_id, p_trainable, coalesce(p_verified, false), p_confidence, p_notes, coalesce(p_tags, '{}'))
  on conflict (trace_id) do update set
    trainable = excluded.trainable, verified = excluded.verified, confidence = excluded.confidence,
    notes = excluded.notes, tags = excluded.tags;
  return private.training_example_json(p_trace_id);
end
$$;

create or replace function public.training_clear_annotation(p_trace_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_deleted boolean;
begin
  perform private.training_example_must_exist(p_trace_id);
  delete from public.training_annotations where trace_id = p_trace_id;
  v_deleted := found;
  return private.training_example_json(p_trace_id) || jsonb_build_object('cleared', v_deleted);
end
$$;

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

create or replace function public.training_stats(p_cascade_id text default null) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$
  select jsonb_build_object('items', coalesce(jsonb_agg(to_jsonb(s) order by s.cascade_id nulls last, s.cell_name nulls last), '[]'::jsonb))
    from public.training_stats_by_cascade s
   where p_cascade_id is null or s.cascade_id = p_cascade_id
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

do $$
declare
  fns text := 'private.content_text(jsonb), private.request_user_input(jsonb), private.request_system_prompt(jsonb),
    private.response_output(jsonb), private.training_example_must_exist(text), private.training_example_json(text),
    public.training_logs_ingest(jsonb), public.training_example_get(text), public.training_annotate(text, boolean, boolean, numeric, text, text[]),
    public.training_clear_annotation(text), public.training_examples_list(jsonb, integer, text),
    public.training_few_shot(text, text, integer, text), public.training_stats(text), public.training_export_page(jsonb, integer, text)';
begin
  execute format('revoke all on function %s from public, anon', fns);
  execute format('grant execute on function %s to authenticated, service_role', fns);
  execute 'revoke all on function private.extract_training_examples(), private.training_annotations_stamp(),
    private.training_annotations_audit() from public, anon, authenticated';
end
$$;
