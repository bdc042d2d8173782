-- The ingest path of training examples, made cheaper where it measured
-- expensive (the figures are in bench/README.md, "Training examples"):
--   1. Full-text indexing moves off it: most of an example's cost at ingest
--      was computing the stored search vector and inserting it into the GIN
--      index. Search is not needed the moment a log arrives, so:
--      - extraction writes the example with search_vector null (listable,
--        annotatable and exportable at once);
--      - an indexer computes vectors in batches, oldest first
--        (private.training_search_index_batch), run by pg_cron when the
--        project has it, by POST /training-examples/search-index, and by
--        `npm start`;
--      - annotating an example trainable indexes it at once (few-shot needs it);
--      - searches stay complete: an example not indexed yet is matched by
--        computing its vector on the fly (the pending set is small when the
--        indexer keeps up, and the partial index finds it).
--      Invariant: search_vector is null or equals
--      private.example_search_vector(user_input, assistant_output); a change
--      to either text resets it to null (trigger below), and the indexer
--      redoes it.
--   2. The parsers get fast paths (about 3.6 times cheaper for all three):
--      content_text is inlinable now (its array case, the only one needing a
--      sub-select, is a function of its own; before, every call went through
--      the SQL-function executor), and the system prompt is read from
--      messages[0] and the user input from messages[-1] when those have the
--      role looked for, which is what the general jsonpath search would find.
--   3. (Not the ingest path, found by the same benchmark.) Few-shot reads its
--      pool from the annotations alone: they carry their example's cascade_id
--      and cell_name, kept in step by triggers, so counting the pool and
--      finding the k-th key are index scans of a human-sized table instead of
--      a join to every example (which grew with the whole pool before).

-- The text parts of an array content ([{"type": "text", "text": ...}] in
-- OpenAI and Anthropic style), joined: the one case needing a sub-select, so
-- a function of its own (never inlined, called only for array content).
create or replace function private.content_parts_text(c jsonb) returns text
language sql immutable parallel safe
as $$
  select nullif(array_to_string(array(
    select coalesce(p ->> 'text', case when jsonb_typeof(p) = 'string' then p #>> '{}' end)
      from pg_catalog.jsonb_array_elements(c) with ordinality e(p, ord)
     where jsonb_typeof(p) = 'string' or (jsonb_typeof(p) = 'object' and coalesce(p ->> 'type', 'text') = 'text')
     order by ord), E'\n'), '')
$$;

-- Text of a message content: a string, the text parts of an array, or an
-- object's text. Inlined into its callers (plain SQL, no sub-select).
create or replace function private.content_text(c jsonb) returns text
language sql immutable parallel safe
as $$
  select case jsonb_typeof(c)
    when 'string' then c #>> '{}'
    when 'array' then private.content_parts_text(c)
    when 'object' then c ->> 'text'
  end
$$;

-- The last user message: messages[-1] when it is the user's (the usual
-- case), else the last message with role user; then prompt / input / a
-- plain string, as in 20261126000000.
create or replace function private.request_user_input(r jsonb) returns text
language sql immutable parallel safe
as $$
  select nullif(coalesce(
    case when jsonb_typeof(r -> 'messages') = 'array' then
      private.content_text(case when r #>> '{messages,-1,role}' = 'user' then r #> '{messages,-1,content}'
                                else jsonb_path_query_array(r -> 'messages', '$[*] ? (@.role == "user")') -> -1 -> 'content' end) end,
    case when jsonb_typeof(r -> 'prompt') = 'string' then r ->> 'prompt' end,
    case when jsonb_typeof(r -> 'input') = 'string' then r ->> 'input' end,
    case when jsonb_typeof(r) = 'string' then r #>> '{}' end), '')
$$;

-- The system prompt: Anthropic's request.system, else messages[0] when it
-- is a system or developer message (the usual case), else the first such.
create or replace function private.request_system_prompt(r jsonb) returns text
language sql immutable parallel safe
as $$
  select nullif(coalesce(
    case when jsonb_typeof(r) = 'object' then private.content_text(r -> 'system') end,
    case when jsonb_typeof(r -> 'messages') = 'array' then
      private.content_text(case when r #>> '{messages,0,role}' in ('system', 'developer') then r #> '{messages,0,content}'
        else jsonb_path_query_first(r -> 'messages', '$[*] ? (@.role == "system" || @.role == "developer")') -> 'content' end) end), '')
$$;

-- One definition of what is searched. Plain SQL, immutable, no SET clause:
-- inlined wherever it is used.
create or replace function private.example_search_vector(p_input text, p_output text) returns tsvector
language sql immutable parallel safe
as $$ select pg_catalog.to_tsvector('english'::regconfig, left(p_input, 100000) || ' ' || left(p_output, 100000)) $$;

-- The stored generated column becomes a plain column; the vectors already
-- computed stay.
alter table public.training_examples alter column search_vector drop expression if exists;

-- The indexer's queue: examples without a vector, oldest first.
create index if not exists training_examples_search_pending_idx on public.training_examples (created_at, trace_id)
  where search_vector is null;

create or replace function private.training_examples_search_stale() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.user_input, new.assistant_output) is distinct from (old.user_input, old.assistant_output) then
    new.search_vector := null;
  end if;
  return new;
end
$$;

create or replace trigger training_examples_search_stale
  before update of user_input, assistant_output on public.training_examples
  for each row execute function private.training_examples_search_stale();

-- One batch of the indexer: up to p_limit examples without a vector, oldest
-- first. Rows a concurrent writer holds are skipped (the next batch gets
-- them). Returns how many it indexed.
create or replace function private.training_search_index_batch(p_limit integer) returns integer
language plpgsql security definer
set search_path = ''
set jit = off
as $$
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
$$;

-- The indexer as a job: batches of p_batch, each committed on its own (so
-- progress is visible and row locks are short), until nothing is pending or
-- the time budget is spent. For pg_cron: `call private.training_search_index_run()`.
-- No SET clause: a procedure with one cannot commit.
create or replace procedure private.training_search_index_run(p_budget interval default '50 seconds', p_batch integer default 5000)
language plpgsql
as $$
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
$$;

-- One batch through the API (service role): how many were indexed and how
-- many are still pending.
create or replace function public.training_search_index(p_limit integer default 5000) returns jsonb
language plpgsql
set search_path = ''
set jit = off
as $$
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
$$;

-- Annotating an example trainable indexes it at once: few-shot ranks the
-- trainable pool by similarity and should not compute vectors per request.
create or replace function private.training_annotations_index_example() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.training_examples
     set search_vector = private.example_search_vector(user_input, assistant_output)
   where trace_id = new.trace_id and search_vector is null;
  return null;
end
$$;

create or replace trigger training_annotations_index_example
  after insert or update of trainable on public.training_annotations
  for each row when (new.trainable) execute function private.training_annotations_index_example();

-- ---------------------------------------------------------------------------
-- Few-shot's pool from the annotations alone.

alter table public.training_annotations add column if not exists cascade_id text, add column if not exists cell_name text;
update public.training_annotations a set cascade_id = e.cascade_id, cell_name = e.cell_name
  from public.training_examples e
 where e.trace_id = a.trace_id and (a.cascade_id, a.cell_name) is distinct from (e.cascade_id, e.cell_name);
create index if not exists training_annotations_pool_cell_idx on public.training_annotations
  (cascade_id, cell_name, verified desc, confidence desc nulls last) where trainable;
create index if not exists training_annotations_pool_cascade_idx on public.training_annotations
  (cascade_id, verified desc, confidence desc nulls last) where trainable;

-- Stamping now also copies the example's cascade and cell, under a share
-- lock on the example: a concurrent re-extraction that moves the trace to
-- another cascade either commits first (and is read here) or waits for this
-- annotation (and its sync trigger below then sees it). Security definer:
-- the lock needs more than the annotator's select.
create or replace function private.training_annotations_stamp() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  new.annotated_by := coalesce(auth.uid(), new.annotated_by);
  new.annotated_at := now();
  select e.cascade_id, e.cell_name into new.cascade_id, new.cell_name
    from public.training_examples e where e.trace_id = new.trace_id for share;
  return new;
end
$$;

-- Stamping and the history follow what annotators write, not the
-- cascade/cell sync.
create or replace trigger training_annotations_stamp
  before insert or update of trace_id, trainable, verified, confidence, notes, tags on public.training_annotations
  for each row execute function private.training_annotations_stamp();
create or replace trigger training_annotations_audit
  after insert or update of trace_id, trainable, verified, confidence, notes, tags or delete on public.training_annotations
  for each row execute function private.training_annotations_audit();

create or replace function private.training_examples_sync_annotation() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.training_annotations set cascade_id = new.cascade_id, cell_name = new.cell_name where trace_id = new.trace_id;
  return null;
end
$$;

create or replace trigger training_examples_sync_annotation
  after update of cascade_id, cell_name on public.training_examples
  for each row when ((old.cascade_id, old.cell_name) is distinct from (new.cascade_id, new.cell_name))
  execute function private.training_examples_sync_annotation();

-- ---------------------------------------------------------------------------
-- Lists: `q` matches indexed examples through the GIN index and pending ones
-- by computing their vector.
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
    'select coalesce(jsonb_agg(to_jsonb(p) order by p.created_at desc, p.trace_id desc), ''[]''::jsonb), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.trace_id) order by p.created_at, p.trace_id))[1]
       from (select v.* from public.training_examples_with_annotations v where %s
              order by v.created_at desc, v.trace_id desc limit $3) p',
    array_to_string(v_where, ' and '))
  into v_items, v_count, v_last using p_filter, v_cursor, p_limit;
  return jsonb_build_object('items', v_items, 'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

-- Few-shot as in 20261126000000, with the pool counted and its k-th key
-- found on the annotations alone (the pool indexes above), and the
-- similarity of an example whose vector is pending (its text changed since
-- it was annotated) computed on the fly.
create or replace function public.training_few_shot(
  p_cascade_id text default null, p_cell_name text default null, p_k integer default 5, p_query text default null
) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_filter text;
  v_kth record;
  v_total bigint;
  v_items jsonb;
begin
  perform private.check_page_limit(p_k, 50);
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
$$;

-- The export page, with the cascade filter only when given (dynamic SQL: an
-- optional "(p is null or col = p)" cannot use an index in a generic plan).
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
$$;

revoke all on function private.example_search_vector(text, text), private.content_parts_text(jsonb) from public, anon;
grant execute on function private.example_search_vector(text, text), private.content_parts_text(jsonb) to authenticated, service_role;
revoke all on function public.training_search_index(integer), private.training_search_index_batch(integer) from public, anon, authenticated;
grant execute on function public.training_search_index(integer), private.training_search_index_batch(integer) to service_role;
revoke all on function private.training_examples_search_stale(), private.training_annotations_index_example(),
  private.training_examples_sync_annotation() from public, anon, authenticated;
revoke all on procedure private.training_search_index_run(interval, integer) from public, anon, authenticated;

-- Where the project has pg_cron (Supabase: Integrations -> Cron), the
-- indexer runs every minute. Without it, nothing is scheduled here; see the
-- README for the alternatives.
do $$
begin
  if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('training-search-index', '* * * * *', 'call private.training_search_index_run()');
  end if;
end
$$;
