-- Inverse of 20261128000000_table_api_rules.sql: the policies, grants and
-- function bodies of the migrations before it. Sequence privileges come back
-- as Supabase's defaults grant them (all, to anon and authenticated).

-- Objects it added.
drop trigger if exists conversations_guard_review_insert on public.conversations;
drop trigger if exists conversations_guard_review_update on public.conversations;
drop trigger if exists conversation_turns_guard_review_insert on public.conversation_turns;
drop trigger if exists conversation_turns_guard_review_update on public.conversation_turns;
drop trigger if exists conversation_turns_guard_review_delete on public.conversation_turns;
drop trigger if exists conversations_count_usage on public.conversations;
drop trigger if exists conversations_count_usage_delete on public.conversations;
drop trigger if exists conversations_check_references on public.conversations;
drop trigger if exists scenarios_check_parent_template on public.scenarios;
drop trigger if exists edge_cases_check_parent_template on public.edge_cases;
drop trigger if exists conversation_templates_guard_review_update on public.conversation_templates;
drop trigger if exists conversation_templates_guard_review_delete on public.conversation_templates;
drop trigger if exists training_configs_keep_published on public.training_configs;
drop trigger if exists training_configs_owner on public.training_configs;
drop function if exists private.conversations_guard_review();
drop function if exists private.conversation_turns_guard_review();
drop function if exists private.conversations_count_usage();
drop function if exists private.conversations_check_references();
drop function if exists private.check_parent_template();
drop function if exists private.conversation_templates_guard_review();
drop function if exists private.package_keep_published();
drop function if exists private.training_configs_owner();
drop function if exists public.get_next_version_number(uuid);
drop view if exists public.training_examples_mv;
alter table public.training_package_versions drop constraint if exists training_package_versions_snapshots_bounded;
alter table public.conversation_turns drop constraint if exists conversation_turns_number_bounded;
drop index if exists public.training_configs_current_version_idx;
drop index if exists public.training_package_versions_package_parent_idx;
create index if not exists training_package_versions_parent_idx
  on public.training_package_versions (parent_version_id, package_id);

-- Function bodies as they were (they no longer call the helpers below).
create or replace function public.conversations_export_start(
  p_format text, p_shape text, p_filter jsonb, p_include_metadata boolean, p_file_name text
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  e public.export_logs;
begin
  perform private.conversation_filter_sql(p_filter);
  insert into public.export_logs (format, shape, filters, include_metadata, file_name)
  values (p_format, p_shape, coalesce(p_filter, '{}'::jsonb), coalesce(p_include_metadata, false), p_file_name)
  returning * into e;
  return to_jsonb(e);
end
$$;


create or replace function public.conversations_export_page(p_export_id uuid, p_cursor jsonb default null, p_limit integer default 500)
returns json
language plpgsql
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  e public.export_logs;
  v_detail text;
  v_conversation text;
  v_turn text;
  v_rows json;
begin
  perform private.check_page_limit(p_limit, 5000);
  select * into e from public.export_logs where id = p_export_id and status = 'running';
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
  end if;
  v_detail := case when e.shape = 'raw' then 'full'
                   when e.format in ('csv', 'markdown') or e.include_metadata then 'summary'
                   else 'messages' end;
  v_conversation := case v_detail
    when 'full' then 'private.conversation_json(p)::json'
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
    'with page as (select c.* from public.conversations c where %s %s order by c.created_at, c.id limit $4),
          items as (insert into public.export_log_items (export_id, position, conversation_id)
                     select $5, $6 + row_number() over (order by page.created_at, page.id), page.id from page returning 1),
          logged as (update public.export_logs l set conversation_count = l.conversation_count + (select count(*) from items)
                      where l.id = $5 returning 1)
     select coalesce(json_agg(json_build_object(''conversation'', %s, ''turns'', coalesce(tt.turns, ''[]''::json),
                                                ''system_prompt'', tpl.system_prompt)
                              order by p.created_at, p.id), ''[]''::json)
       from page p
            left join lateral (select json_agg(%s order by t.turn_number) as turns
                                 from public.conversation_turns t where t.conversation_id = p.id) tt on true
            left join public.conversation_templates tpl on tpl.id = p.template_id
      where (select count(*) from logged) >= 0',
    private.conversation_filter_sql(e.filters),
    case when p_cursor is null then '' else 'and (c.created_at, c.id) > ($2, $3)' end,
    v_conversation, v_turn)
  into v_rows using e.filters, (p_cursor ->> 't')::timestamptz, (p_cursor ->> 'i')::uuid, p_limit, p_export_id, e.conversation_count;
  return v_rows;
end
$$;


create or replace function public.conversations_export_finish(
  p_export_id uuid, p_bytes bigint, p_sha256 text default null, p_error text default null
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  e public.export_logs;
begin
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
$$;


create or replace function public.conversations_create(p_conversation jsonb, p_turns jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r public.conversations := jsonb_populate_record(null::public.conversations, p_conversation);
  c public.conversations;
begin
  if jsonb_typeof(p_turns) is distinct from 'array' or jsonb_array_length(p_turns) = 0 then
    raise exception using errcode = '22023', message = 'turns: give at least one turn';
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
  if c.template_id is not null then
    update public.conversation_templates set usage_count = usage_count + 1 where id = c.template_id;
  end if;
  select * into c from public.conversations where id = c.id;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;


create or replace function public.conversations_rescore_start(p_threshold numeric default null, p_filter jsonb default null)
returns jsonb
language plpgsql
set search_path = ''
as $$
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
  insert into public.batch_jobs (job_type, name, status, total_items, parameters, started_at)
  values ('validation', 'rescore', 'running', v_total,
          jsonb_build_object('threshold', (select quality_threshold from public.conversation_settings where id), 'filter', p_filter), now())
  returning * into j;
  return to_jsonb(j);
end
$$;


create or replace function public.conversations_rescore_chunk(p_job_id uuid, p_after uuid default null, p_limit integer default 1000)
returns jsonb
language plpgsql
set search_path = ''
set jit = off
as $$
declare
  j public.batch_jobs;
  v_counts jsonb;
begin
  perform private.check_page_limit(p_limit, 10000);
  select * into j from public.batch_jobs where id = p_job_id and job_type = 'validation' and name = 'rescore';
  if not found then
    raise exception using errcode = 'PT404', message = format('rescore job %s not found', p_job_id);
  end if;
  if j.status <> 'running' then
    raise exception using errcode = 'PT409', message = format('rescore job %s is %s', p_job_id, j.status);
  end if;
  perform set_config('registry.rescore', 'on', true);
  execute format(
    'with chunk as (select c.id, c.is_flagged from public.conversations c where %s and ($2::uuid is null or c.id > $2)
                     order by c.id limit $3),
          done as (update public.conversations u set quality_metrics = u.quality_metrics from chunk
                    where u.id = chunk.id returning u.id, u.is_flagged, chunk.is_flagged as was_flagged)
     select jsonb_build_object(''processed'', count(*), ''flagged'', count(*) filter (where is_flagged and not was_flagged),
              ''unflagged'', count(*) filter (where was_flagged and not is_flagged),
              ''unchanged'', count(*) filter (where is_flagged = was_flagged), ''last'', max(id::text))
       from done', private.conversation_filter_sql(j.parameters -> 'filter'))
    into v_counts using j.parameters -> 'filter', p_after, p_limit;
  perform set_config('registry.rescore', '', true);
  update public.batch_jobs set
    processed_items = processed_items + (v_counts ->> 'processed')::int,
    successful_items = successful_items + (v_counts ->> 'processed')::int,
    results = jsonb_build_object(
      'flagged', coalesce((results ->> 'flagged')::int, 0) + (v_counts ->> 'flagged')::int,
      'unflagged', coalesce((results ->> 'unflagged')::int, 0) + (v_counts ->> 'unflagged')::int,
      'unchanged', coalesce((results ->> 'unchanged')::int, 0) + (v_counts ->> 'unchanged')::int)
  where id = p_job_id;
  return jsonb_build_object('processed', (v_counts ->> 'processed')::int,
    'next_after', case when (v_counts ->> 'processed')::int = p_limit then v_counts ->> 'last' end);
end
$$;


create or replace function public.conversations_finish_job(p_job_id uuid, p_error text default null) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  j public.batch_jobs;
begin
  update public.batch_jobs set status = case when p_error is null then 'completed' else 'failed' end,
         error_message = p_error, completed_at = now()
   where id = p_job_id and status = 'running'
  returning * into j;
  if not found then
    raise exception using errcode = 'PT404', message = format('running job %s not found', p_job_id);
  end if;
  return to_jsonb(j);
end
$$;


create or replace function public.runs_list(
  p_status text default null,
  p_host text default null,
  p_gradient_method text default null,
  p_batch_size integer default null,
  p_min_duration_hours double precision default null,
  p_created_after timestamptz default null,
  p_created_before timestamptz default null,
  p_has_blog_post boolean default null,
  p_has_crash_analysis boolean default null,
  p_order_by text default null,
  p_limit integer default 50,
  p_cursor text default null,
  p_filter jsonb default null,
  p_order jsonb default null
) returns jsonb
language plpgsql stable
set jit = off
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_order jsonb := p_order;
  v_col text;
  v_dir text;
  v_f text[];
  v_expr text;
  v_not_null boolean;
  v_cmp text;
  v_cast text;
  v_where text[] := array['true'];
  v_cursor jsonb;
  v_rec record;
  v_items jsonb[] := '{}';
  v_n integer := 0;
  v_last_v jsonb;
  v_last_k text;
  v_next text;
begin
  if v_order is null then
    v_col := split_part(coalesce(p_order_by, 'created_at.desc'), '.', 1);
    v_dir := coalesce(nullif(split_part(coalesce(p_order_by, 'created_at.desc'), '.', 2), ''), 'asc');
    if coalesce(p_order_by, 'created_at.desc') !~ '^[a-z_]+(\.(asc|desc))?$' or not private.run_filter_columns() ? v_col then
      raise exception using errcode = '22023',
        message = 'order_by must be a column of the run with .asc or .desc, e.g. created_at.desc';
    end if;
    v_order := jsonb_build_object('field', jsonb_build_object('kind', 'column', 'name', v_col), 'dir', v_dir);
  end if;
  v_dir := v_order ->> 'dir';
  if v_dir is null or v_dir not in ('asc', 'desc') then
    raise exception using errcode = '22023', message = 'order direction must be asc or desc';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 1000';
  end if;
  v_f := private.run_field_sql(v_order -> 'field', '($11 -> ''field'')');
  v_expr := v_f[1];
  v_not_null := v_f[3]::boolean;
  v_cmp := case v_dir when 'asc' then '>' else '<' end;

  if p_status is not null then v_where := v_where || 'r.status = $1'::text; end if;
  if p_host is not null then v_where := v_where || 'r.host = $2'::text; end if;
  if p_gradient_method is not null then v_where := v_where || 'r.gradient_method = $3'::text; end if;
  if p_batch_size is not null then v_where := v_where || 'r.batch_size = $4'::text; end if;
  if p_min_duration_hours is not null then v_where := v_where || 'r.duration_seconds >= $5 * 3600'::text; end if;
  if p_created_after is not null then v_where := v_where || 'r.created_at >= $6'::text; end if;
  if p_created_before is not null then v_where := v_where || 'r.created_at < $7'::text; end if;
  if p_has_blog_post is not null then
    v_where := v_where || case when p_has_blog_post then 'r.blog_post_url is not null' else 'r.blog_post_url is null' end;
  end if;
  if p_has_crash_analysis is not null then
    v_where := v_where || case when p_has_crash_analysis then 'r.crash_analysis_s3_key is not null' else 'r.crash_analysis_s3_key is null' end;
  end if;
  if p_filter is not null then
    v_where := v_where || private.run_filter_sql(p_filter, '$10');
  end if;

  if p_cursor is not null then
    v_cursor := private.cursor_decode(p_cursor);
    if v_cursor -> 'o' is distinct from v_order or v_cursor ->> 'k' is null then
      raise exception using errcode = '22023', message = 'cursor does not belong to this order_by';
    end if;
    v_cast := case when v_f[2] = 'jsonb' then '$8' else format('($8 #>> ''{}'')::%s', v_f[2]) end;
    -- Keyset after (value, run_id) in the sort order; SQL nulls sort last.
    if v_not_null then
      v_where := v_where || format('(%s, r.run_id) %s (%s, $9)', v_expr, v_cmp, v_cast);
    elsif coalesce((v_cursor ->> 'n')::boolean, false) then
      v_where := v_where || format('(%s is null and r.run_id %s $9)', v_expr, v_cmp);
    else
      v_where := v_where || format('(%1$s %2$s %3$s or (%1$s = %3$s and r.run_id %2$s $9) or %1$s is null)', v_expr, v_cmp, v_cast);
    end if;
  end if;

  -- `nulls last` only where nulls can occur: on a not-null column it would
  -- stop the (col desc, run_id desc) indexes from serving the order.
  for v_rec in execute format(
    'select r, to_jsonb(%1$s) as v from public.training_runs r where %2$s order by %1$s %3$s%4$s, r.run_id %3$s limit %5$s',
    v_expr, array_to_string(v_where, ' and '), v_dir, case when v_not_null then '' else ' nulls last' end, p_limit + 1)
  using p_status, p_host, p_gradient_method, p_batch_size, p_min_duration_hours,
        p_created_after, p_created_before, v_cursor -> 'v', v_cursor ->> 'k', p_filter, v_order
  loop
    v_n := v_n + 1;
    exit when v_n > p_limit;
    v_items := array_append(v_items, private.run_json(v_rec.r));
    v_last_v := v_rec.v;
    v_last_k := (v_rec.r).run_id;
  end loop;

  if v_n > p_limit then
    v_next := private.cursor_encode(jsonb_build_object(
      'o', v_order, 'v', v_last_v, 'n', v_last_v is null, 'k', v_last_k));
  end if;
  return jsonb_build_object('items', to_jsonb(v_items), 'next_cursor', v_next);
end
$$;


create or replace function private.objective_definitions(config jsonb)
returns table (objective_name text, objective_alias text, uniprot text, weight double precision, direction text, config_index integer)
language plpgsql immutable
rows 5
set search_path = ''
as $$
declare
  v_defs jsonb := config -> 'objectives';
  v_def jsonb;
  v_i integer := 0;
  v_seen text[] := '{}';
  v_dir text;
begin
  -- Not a list (absent, or another shape): no declared objectives, as
  -- num_objectives then falls back to config's num_objectives key.
  if jsonb_typeof(v_defs) is distinct from 'array' then
    return;
  end if;
  for v_def in select e from jsonb_array_elements(v_defs) e loop
    if jsonb_typeof(v_def) = 'string' then
      objective_name := private.jsonb_str(v_def);
      objective_alias := null; uniprot := null; weight := null; v_dir := null;
    elsif jsonb_typeof(v_def) = 'object' then
      objective_name := private.jsonb_str(v_def -> 'name');
      objective_alias := private.jsonb_str(v_def -> 'alias');
      uniprot := private.jsonb_str(coalesce(v_def #> '{params,uniprot}', v_def -> 'uniprot'));
      weight := private.jsonb_num(v_def -> 'weight')::double precision;
      if v_def ? 'weight' and v_def -> 'weight' <> 'null'::jsonb and weight is null then
        raise exception using errcode = '22023', message = format('config.objectives[%s].weight must be a number', v_i);
      end if;
      v_dir := lower(private.jsonb_str(v_def -> 'direction'));
    else
      objective_name := null;
    end if;
    if objective_name is null then
      raise exception using errcode = '22023',
        message = format('config.objectives[%s] must be a name or an object with a string "name"', v_i);
    end if;
    if objective_name = any(v_seen) then
      raise exception using errcode = '22023',
        message = format('config.objectives[%s]: objective %s is declared twice', v_i, objective_name);
    end if;
    if v_dir is not null and v_dir not in ('maximize', 'minimize') then
      raise exception using errcode = '22023',
        message = format('config.objectives[%s].direction must be maximize or minimize', v_i);
    end if;
    -- No direction given: the alias convention <name>_maximize / _minimize tells it.
    direction := coalesce(v_dir, substring(objective_alias from '_(maximize|minimize)$'));
    config_index := v_i;
    v_seen := v_seen || objective_name;
    v_i := v_i + 1;
    return next;
  end loop;
end
$$;


create or replace function private.quality_breakdown(p_conversation_id uuid, p_metrics jsonb, p_template_id uuid)
returns jsonb
language plpgsql stable security definer
set search_path = ''
set jit = off
as $$
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
  select t.min_turns, t.max_turns into v_min, v_max from public.conversation_templates t where t.id = p_template_id;
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
$$;


create or replace function private.package_version_before_update() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_frozen text[];
begin
  if new.package_id is distinct from old.package_id or new.version_number is distinct from old.version_number
     or new.created_by is distinct from old.created_by or new.created_at is distinct from old.created_at then
    raise exception using errcode = 'PT409',
      message = format('package_id, version_number, created_by and created_at of version %s never change', old.version_number);
  end if;

  if new.status is distinct from old.status and new.status in ('draft', 'published', 'archived') and not (
       (old.status = 'draft' and new.status = 'published') or (old.status = 'published' and new.status = 'archived')) then
    raise exception using errcode = 'PT409',
      message = format('illegal status change: version %s is %s and cannot become %s', old.version_number, old.status, new.status),
      detail = format('current status: %s', old.status);
  end if;

  if old.status = 'draft' then
    if new.status = 'published' then
      new.published_at := now();
      new.published_by := auth.uid();
      new.snapshot_sha256 := private.snapshot_sha256(new.config_snapshot, new.model_snapshot, new.dataset_snapshot);
    else
      new.published_at := null;
      new.published_by := null;
      new.snapshot_sha256 := null;
    end if;
  else
    select array_agg(f) into v_frozen from unnest(array[
      case when new.name is distinct from old.name then 'name' end,
      case when new.config_snapshot is distinct from old.config_snapshot then 'config_snapshot' end,
      case when new.model_snapshot is distinct from old.model_snapshot then 'model_snapshot' end,
      case when new.dataset_snapshot is distinct from old.dataset_snapshot then 'dataset_snapshot' end,
      case when new.change_summary is distinct from old.change_summary then 'change_summary' end,
      case when new.parent_version_id is distinct from old.parent_version_id then 'parent_version_id' end,
      case when new.published_at is distinct from old.published_at then 'published_at' end,
      case when new.published_by is distinct from old.published_by then 'published_by' end,
      case when new.snapshot_sha256 is distinct from old.snapshot_sha256 then 'snapshot_sha256' end
    ]) f where f is not null;
    if v_frozen is not null then
      raise exception using errcode = 'PT409',
        message = format('version %s is %s and immutable: %s cannot change', old.version_number, old.status, array_to_string(v_frozen, ', ')),
        detail = 'fork it to make a new draft';
    end if;
  end if;

  if new.training_status is distinct from old.training_status
     and new.training_status in ('not_started', 'queued', 'running', 'completed', 'failed', 'cancelled') then
    if not ((old.training_status = 'not_started' and new.training_status = 'queued')
         or (old.training_status = 'queued' and new.training_status in ('running', 'cancelled'))
         or (old.training_status = 'running' and new.training_status in ('completed', 'failed', 'cancelled'))
         or (old.training_status in ('failed', 'cancelled') and new.training_status = 'queued')) then
      raise exception using errcode = 'PT409',
        message = format('illegal training status change: %s -> %s', old.training_status, new.training_status),
        detail = format('current training status: %s', old.training_status);
    end if;
    if new.training_status = 'queued' then
      new.training_started_at := null;
      new.training_completed_at := null;
    elsif new.training_status = 'running' then
      new.training_started_at := coalesce(new.training_started_at, now());
    elsif new.training_completed_at is null or new.training_completed_at is not distinct from old.training_completed_at then
      new.training_completed_at := greatest(now(), new.training_started_at);
    end if;
  end if;

  new.updated_at := now();
  return new;
end
$$;


create or replace function private.conversation_filter_sql(p_filter jsonb) returns text
language plpgsql immutable
set search_path = ''
as $$
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


create or replace function private.run_filter_sql(node jsonb, ref text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_op text := node ->> 'op';
  v_field jsonb := node -> 'field';
  v_fref text := format('(%s -> ''field'')', ref);
  v_lit jsonb;
  v_lit_type text;
  v_f text[];
  v_lhs text;
  v_cast text;
  v_cmp text;
  v_sql text;
  v_objective boolean;
begin
  if v_op in ('and', 'or') then
    if jsonb_typeof(node -> 'args') <> 'array' or jsonb_array_length(node -> 'args') = 0 then
      raise exception using errcode = '22023', message = format('%s needs arguments', v_op);
    end if;
    select string_agg(format('(%s)', private.run_filter_sql(a, format('(%s -> ''args'' -> %s)', ref, i - 1))), format(' %s ', v_op))
      into v_sql
    from jsonb_array_elements(node -> 'args') with ordinality x(a, i);
    return v_sql;
  end if;

  if v_op not in ('cmp', 'in', 'null', 'like') or jsonb_typeof(v_field) <> 'object' then
    raise exception using errcode = '22023', message = format('unknown filter node %s', coalesce(v_op, 'null'));
  end if;

  -- The literal that decides how a JSON value is compared.
  v_lit := case v_op when 'cmp' then node -> 'value' when 'in' then node -> 'values' -> 0 end;
  v_lit_type := jsonb_typeof(v_lit);
  v_objective := v_field ->> 'kind' = 'objective';

  if v_objective then
    v_lhs := format('o.%I', private.objective_metric_column(v_field ->> 'metric'));
    v_cast := 'double precision';
  else
    v_f := private.run_field_sql(v_field, v_fref);
    if v_f[2] = 'jsonb' then
      if v_op = 'null' then
        v_lhs := v_f[1];
      elsif v_op = 'like' or v_lit_type = 'string' then
        v_lhs := format('(%s #>> ''{}'')', v_f[1]); v_cast := 'text';
      elsif v_lit_type = 'number' then
        v_lhs := format('private.jsonb_num(%s)', v_f[1]); v_cast := 'numeric';
      elsif v_lit_type = 'boolean' then
        v_lhs := v_f[1]; v_cast := 'jsonb';
      else
        raise exception using errcode = '22023', message = 'a filter value must be a string, number or boolean';
      end if;
    else
      v_lhs := v_f[1]; v_cast := v_f[2];
    end if;
  end if;

  case v_op
    when 'cmp' then
      v_cmp := case node ->> 'cmp' when '=' then '=' when '!=' then '<>' when '<' then '<' when '<=' then '<='
                                   when '>' then '>' when '>=' then '>=' end;
      if v_cmp is null then
        raise exception using errcode = '22023', message = format('unknown comparison %s', node ->> 'cmp');
      end if;
      if v_cast = 'jsonb' and v_cmp not in ('=', '<>') then
        raise exception using errcode = '22023', message = 'true and false compare only with = and !=';
      end if;
      v_sql := format('%s %s %s', v_lhs, v_cmp,
        case when v_cast = 'jsonb' then format('(%s -> ''value'')', ref)
             else format('(%s ->> ''value'')::%s', ref, v_cast) end);
    when 'in' then
      if jsonb_typeof(node -> 'values') <> 'array' or jsonb_array_length(node -> 'values') = 0 then
        raise exception using errcode = '22023', message = 'IN needs at least one value';
      end if;
      select format('%s %s (%s)', v_lhs, case when (node ->> 'negated')::boolean then 'not in' else 'in' end,
        string_agg(case when v_cast = 'jsonb' then format('(%s -> ''values'' -> %s)', ref, i - 1)
                        else format('(%s -> ''values'' ->> %s)::%s', ref, i - 1, v_cast) end, ', '))
        into v_sql
      from generate_series(1, jsonb_array_length(node -> 'values')) i;
    when 'null' then
      v_sql := case
        when v_objective then format('%s is not null', v_lhs)
        else format('%s is not null', v_lhs) end;
      if not v_objective and not coalesce((node ->> 'negated')::boolean, false) then
        v_sql := format('not (%s)', v_sql);
      end if;
    when 'like' then
      if v_objective or v_cast <> 'text' then
        raise exception using errcode = '22023', message = 'LIKE applies to text fields only';
      end if;
      v_sql := format('%s %s%s (%s ->> ''pattern'')', v_lhs,
        case when (node ->> 'negated')::boolean then 'not ' else '' end,
        case when (node ->> 'case_insensitive')::boolean then 'ilike' else 'like' end, ref);
  end case;

  if v_objective then
    -- IS NULL on an objective: the run has no value for it (or no such objective).
    return format('%s (select 1 from public.run_objectives o where o.run_id = r.run_id and o.objective_name = (%s ->> ''name'') and %s)',
      case when v_op = 'null' and not coalesce((node ->> 'negated')::boolean, false) then 'not exists' else 'exists' end,
      v_fref, v_sql);
  end if;
  return v_sql;
end
$$;


drop function if exists private.run_filter_compile(jsonb, text, integer);
drop function if exists private.run_filter_check(jsonb, jsonb);
drop function if exists private.run_filter_check_node(jsonb, integer, integer);
drop function if exists private.export_log_record_page(uuid, uuid[], jsonb);
drop function if exists private.export_log_position(uuid);
drop function if exists private.export_log_open(text, text, jsonb, boolean, text);
drop function if exists private.batch_job_finish(uuid, text);
drop function if exists private.batch_job_progress(uuid, integer, jsonb, uuid, boolean);
drop function if exists private.batch_job_position(uuid);
drop function if exists private.batch_job_open(text, text, integer, jsonb);
drop table if exists private.export_positions;
drop table if exists private.job_positions;

-- Policies as they were.
drop policy if exists documents_insert_own on public.documents;
drop policy if exists documents_update_own on public.documents;
drop policy if exists documents_delete_own on public.documents;
drop policy if exists documents_select on public.documents;
create policy documents_select on public.documents for select to authenticated using (true);
drop policy if exists documents_write_own on public.documents;
create policy documents_write_own on public.documents for all to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));
drop policy if exists chunks_insert_own on public.chunks;
drop policy if exists chunks_update_own on public.chunks;
drop policy if exists chunks_delete_own on public.chunks;
drop policy if exists chunks_select on public.chunks;
create policy chunks_select on public.chunks for select to authenticated using (true);
drop policy if exists chunks_write_own on public.chunks;
create policy chunks_write_own on public.chunks for all to authenticated
  using (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())))
  with check (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())));
do $$
declare
  t text;
begin
  foreach t in array array['conversation_templates', 'scenarios', 'edge_cases'] loop
    execute format('drop policy if exists %1$I on public.%2$I', t || '_insert_own', t);
    execute format('drop policy if exists %1$I on public.%2$I', t || '_update_own', t);
    execute format('drop policy if exists %1$I on public.%2$I', t || '_delete_own', t);
    execute format('drop policy if exists %1$I on public.%2$I', t || '_write_own', t);
    execute format('create policy %1$I on public.%2$I for all to authenticated
                      using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()))', t || '_write_own', t);
  end loop;
end
$$;
drop policy if exists conversation_turns_insert_own on public.conversation_turns;
drop policy if exists conversation_turns_update_own on public.conversation_turns;
drop policy if exists conversation_turns_delete_own on public.conversation_turns;
drop policy if exists conversation_turns_write_own on public.conversation_turns;
create policy conversation_turns_write_own on public.conversation_turns for all to authenticated
  using (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())))
  with check (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())));
drop policy if exists batch_jobs_write_own on public.batch_jobs;
create policy batch_jobs_write_own on public.batch_jobs for all to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));
drop policy if exists export_logs_write_own on public.export_logs;
create policy export_logs_write_own on public.export_logs for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
drop policy if exists export_log_items_select on public.export_log_items;
drop policy if exists export_log_items_own on public.export_log_items;
create policy export_log_items_own on public.export_log_items for all to authenticated
  using (exists (select 1 from public.export_logs l where l.id = export_log_items.export_id and l.user_id = (select auth.uid())))
  with check (exists (select 1 from public.export_logs l where l.id = export_log_items.export_id and l.user_id = (select auth.uid())));
drop policy if exists training_annotations_insert on public.training_annotations;
drop policy if exists training_annotations_update on public.training_annotations;
drop policy if exists training_annotations_delete on public.training_annotations;
drop policy if exists training_annotations_write on public.training_annotations;
create policy training_annotations_write on public.training_annotations for all to authenticated using (true) with check (true);
drop policy if exists run_objectives_insert_own on public.run_objectives;
create policy run_objectives_insert_own on public.run_objectives
  for insert to authenticated with check (exists (
    select 1 from public.training_runs r where r.run_id = run_objectives.run_id and r.created_by = (select auth.uid())));
drop policy if exists run_objectives_update_own on public.run_objectives;
create policy run_objectives_update_own on public.run_objectives
  for update to authenticated
  using (exists (
    select 1 from public.training_runs r where r.run_id = run_objectives.run_id and r.created_by = (select auth.uid())))
  with check (exists (
    select 1 from public.training_runs r where r.run_id = run_objectives.run_id and r.created_by = (select auth.uid())));
comment on policy training_runs_select_authenticated on public.training_runs is null;
comment on policy run_objectives_select_authenticated on public.run_objectives is null;
comment on policy quality_rubric_select on public.quality_rubric is null;
comment on policy conversation_settings_select on public.conversation_settings is null;
comment on policy unified_logs_select on public.unified_logs is null;
comment on policy training_examples_select on public.training_examples is null;
comment on policy training_annotations_select on public.training_annotations is null;
comment on policy training_annotation_history_select on public.training_annotation_history is null;

-- Grants as they were.
revoke insert, update on table public.training_runs from authenticated;
grant insert, update on table public.training_runs to authenticated;
alter function private.sync_run_objectives() security invoker;
alter function private.sync_inserted_run_objectives() security invoker;
grant execute on function private.sync_run_objectives_for(text, jsonb, jsonb, boolean) to authenticated;
grant insert, update on table public.run_objectives to authenticated;
revoke insert, update on table public.conversation_templates, public.scenarios, public.edge_cases from authenticated;
grant insert, update on table public.conversation_templates, public.scenarios, public.edge_cases to authenticated;
grant insert, update, delete on table public.batch_jobs, public.export_logs, public.export_log_items to authenticated;
revoke insert (status) on table public.training_package_versions from authenticated;
revoke update (published_at, published_by) on table public.training_package_versions from authenticated;
grant all on all sequences in schema public to anon, authenticated;
alter default privileges in schema public grant all on sequences to anon, authenticated;

comment on function private.content_text(jsonb) is null;
comment on function private.content_parts_text(jsonb) is null;
comment on function private.request_user_input(jsonb) is null;
comment on function private.request_system_prompt(jsonb) is null;
comment on function private.response_output(jsonb) is null;
comment on function private.example_search_vector(text, text) is null;
comment on procedure private.training_search_index_run(interval, integer) is null;

drop function if exists private.acting_as_service();
