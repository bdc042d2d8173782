-- runs: the public SQL functions the HTTP functions and the table API call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- Crash data in one transaction: the run becomes crashed (failed or crashed
-- runs keep their status) and the keys are attached.
-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_attach_crash (
  p_run_id                text,
  p_error_log_s3_key      text default null::text,
  p_crash_report_s3_key   text default null::text,
  p_crash_analysis_s3_key text default null::text,
  p_error_message         text default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.training_runs := private.run_for_update(p_run_id);
  v_status text := case when r.status in ('failed', 'crashed') then r.status else 'crashed' end;
  v_ended timestamptz := coalesce(r.ended_at, now());
begin
  update public.training_runs set
    status = v_status,
    ended_at = v_ended,
    duration_seconds = coalesce(r.duration_seconds,
      greatest(0, extract(epoch from v_ended - coalesce(r.started_at, r.created_at)))::double precision),
    error_log_s3_key = coalesce(p_error_log_s3_key, r.error_log_s3_key),
    crash_report_s3_key = coalesce(p_crash_report_s3_key, r.crash_report_s3_key),
    crash_analysis_s3_key = coalesce(p_crash_analysis_s3_key, r.crash_analysis_s3_key),
    error_message = coalesce(p_error_message, r.error_message)
  where run_id = p_run_id
  returning * into r;
  return private.run_json(r);
end
$function$;

revoke all on function "public"."runs_attach_crash"(text, text, text, text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_attach_crash"(text, text, text, text, text) to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_create (
  p_run_id              text,
  p_config              jsonb,
  p_wandb_run_id        text  default null::text,
  p_chain_of_custody_id text  default null::text,
  p_run_name            text  default null::text,
  p_config_file_path    text  default null::text,
  p_host                text  default null::text,
  p_instance_id         text  default null::text,
  p_metadata            jsonb default null::jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.training_runs;
begin
  insert into public.training_runs
    (run_id, config_json, wandb_run_id, chain_of_custody_id, run_name, config_file_path, host, instance_id, metadata)
  values
    (p_run_id, p_config, p_wandb_run_id, p_chain_of_custody_id, p_run_name, p_config_file_path, p_host, p_instance_id, p_metadata)
  on conflict (run_id) do nothing
  returning * into r;
  if found then
    return jsonb_build_object('created', true, 'run', private.run_json(r));
  end if;

  -- Launch scripts retry: the same request again answers with the stored run;
  -- a different one under the same id is a conflict. Fields the retry leaves
  -- out (null) are not compared: a later PATCH may have filled them.
  select * into r from public.training_runs where run_id = p_run_id;
  if found
     and r.config_json = p_config
     and (p_wandb_run_id is null or p_wandb_run_id = r.wandb_run_id)
     and (p_chain_of_custody_id is null or p_chain_of_custody_id = r.chain_of_custody_id)
     and (p_run_name is null or p_run_name = r.run_name)
     and (p_config_file_path is null or p_config_file_path = r.config_file_path)
     and (p_host is null or p_host = r.host)
     and (p_instance_id is null or p_instance_id = r.instance_id)
     and (p_metadata is null or p_metadata = r.metadata)
  then
    return jsonb_build_object('created', false, 'run', private.run_json(r));
  end if;
  raise exception using errcode = 'PT409',
    message = format('run %s already exists with different content', p_run_id);
end
$function$;

revoke all on function "public"."runs_create"(text, jsonb, text, text, text, text, text, text, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_create"(text, jsonb, text, text, text, text, text, text, jsonb) to "authenticated", "postgres", "service_role";

-- Removes a run's objective rows (the owner only). They come back from config
-- and final metrics the next time either changes.
-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_delete_objectives (
  p_run_id text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.training_runs := private.run_for_update(p_run_id);
  v_n integer;
begin
  delete from public.run_objectives o where o.run_id = r.run_id;
  get diagnostics v_n = row_count;
  return jsonb_build_object('run_id', r.run_id, 'deleted', v_n);
end
$function$;

revoke all on function "public"."runs_delete_objectives"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_delete_objectives"(text) to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_get (
  p_run_id text
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  r public.training_runs;
begin
  select * into r from public.training_runs where run_id = p_run_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('run %s not found', p_run_id);
  end if;
  return private.run_json(r);
end
$function$;

revoke all on function "public"."runs_get"(text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_get"(text) to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_gradient_method_stats (
  p_filter         jsonb                    default null::jsonb,
  p_created_after  timestamp with time zone default null::timestamp with time zone,
  p_created_before timestamp with time zone default null::timestamp with time zone
)
  returns jsonb
  language plpgsql
  stable
  set jit to 'off'
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_where text := 'true';
  v_compiled record;
  v_leaves jsonb;
  v_methods jsonb;
begin
  perform private.run_filter_check(p_filter, null);
  if p_filter is not null then
    select * into v_compiled from private.run_filter_compile(p_filter, '$1', 0);
    v_where := v_compiled.sql;
    v_leaves := v_compiled.leaves;
  end if;
  execute format($q$
    select coalesce(jsonb_agg(to_jsonb(m) order by m.gradient_method nulls last), '[]'::jsonb)
    from (
      select r.gradient_method,
        count(*) as runs,
        count(*) filter (where r.status = 'completed') as completed,
        count(*) filter (where r.status = 'failed') as failed,
        count(*) filter (where r.status = 'crashed') as crashed,
        count(*) filter (where r.status in ('launched', 'running')) as active,
        round(count(*) filter (where r.status = 'completed')::numeric
          / nullif(count(*) filter (where r.status in ('completed', 'failed', 'crashed')), 0), 4) as success_rate,
        avg(r.duration_seconds) filter (where r.status = 'completed') as mean_duration_seconds,
        percentile_cont(0.5) within group (order by r.duration_seconds) filter (where r.status = 'completed') as p50_duration_seconds,
        percentile_cont(0.9) within group (order by r.duration_seconds) filter (where r.status = 'completed') as p90_duration_seconds
      from public.training_runs r
      where (%s)
        and ($2::timestamptz is null or r.created_at >= $2)
        and ($3::timestamptz is null or r.created_at < $3)
      group by r.gradient_method
    ) m $q$, v_where)
  into v_methods
  using v_leaves, p_created_after, p_created_before;
  return jsonb_build_object('created_after', p_created_after, 'created_before', p_created_before, 'methods', v_methods);
end
$function$;

revoke all on function "public"."runs_gradient_method_stats"(jsonb, timestamp with time zone, timestamp with time zone) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_gradient_method_stats"(jsonb, timestamp with time zone, timestamp with time zone) to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_list (
  p_status             text                     default null::text,
  p_host               text                     default null::text,
  p_gradient_method    text                     default null::text,
  p_batch_size         integer                  default null::integer,
  p_min_duration_hours double precision         default null::double precision,
  p_created_after      timestamp with time zone default null::timestamp with time zone,
  p_created_before     timestamp with time zone default null::timestamp with time zone,
  p_has_blog_post      boolean                  default null::boolean,
  p_has_crash_analysis boolean                  default null::boolean,
  p_order_by           text                     default null::text,
  p_limit              integer                  default 50,
  p_cursor             text                     default null::text,
  p_filter             jsonb                    default null::jsonb,
  p_order              jsonb                    default null::jsonb,
  p_select             text                     default null::text
)
  returns json
  language plpgsql
  stable
  set jit to 'off'
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
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
  v_items json;
  v_more boolean;
  v_last_v jsonb;
  v_last_k text;
  v_next text;
  v_compiled record;
  v_leaves jsonb;
  -- A run as private.run_json has it, built as json: json_agg of these is
  -- several times cheaper than of jsonb for 2-5 KB configs, and written here,
  -- objectives' subquery included (private.run_objectives_sql), rather than
  -- called per row, as a function with SET clauses (search_path, TimeZone)
  -- cannot be inlined and costs ~35 us a row (issue 16). Keys in column
  -- order, objectives last.
  v_item text := format('(select row_to_json(t) from (select (p.r).*, %s as objectives) t)', private.run_objectives_sql());
begin
  -- Sizes first: nothing is compiled or planned from an input over the bounds.
  perform private.run_filter_check(p_filter, p_order);
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
  if p_select is not null then
    v_item := private.run_select_sql(p_select);
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
    select * into v_compiled from private.run_filter_compile(p_filter, '$10', 0);
    v_where := v_where || v_compiled.sql;
    v_leaves := v_compiled.leaves;
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
  -- One more row than the page says whether there is a next one; the page is
  -- json text (v_item: the whole run, or the fields select= names), and the
  -- last row's key makes the cursor.
  execute format(
    'select coalesce(json_agg(%6$s order by p.n) filter (where p.n <= $12), ''[]''::json),
            count(*) > $12,
            (array_agg(p.v order by p.n desc) filter (where p.n <= $12))[1],
            (array_agg((p.r).run_id order by p.n desc) filter (where p.n <= $12))[1]
       from (select r, to_jsonb(%1$s) as v, row_number() over (order by %1$s %3$s%4$s, r.run_id %3$s) as n
               from public.training_runs r where %2$s order by %1$s %3$s%4$s, r.run_id %3$s limit %5$s) p',
    v_expr, array_to_string(v_where, ' and '), v_dir, case when v_not_null then '' else ' nulls last' end, p_limit + 1, v_item)
  into v_items, v_more, v_last_v, v_last_k
  using p_status, p_host, p_gradient_method, p_batch_size, p_min_duration_hours,
        p_created_after, p_created_before, v_cursor -> 'v', v_cursor ->> 'k', v_leaves, v_order, p_limit;

  if v_more then
    v_next := private.cursor_encode(jsonb_build_object(
      'o', v_order, 'v', v_last_v, 'n', v_last_v is null, 'k', v_last_k));
  end if;
  return json_build_object('items', v_items, 'next_cursor', v_next);
end
$function$;

revoke all
  on function "public"."runs_list"(text, text, text, integer, double precision, timestamp with time zone, timestamp
    with time zone, boolean, boolean, text, integer, text, jsonb, jsonb, text)
  from public, "anon", "authenticated", "service_role";

grant execute
  on function "public"."runs_list"(text, text, text, integer, double precision, timestamp with time zone, timestamp
    with time zone, boolean, boolean, text, integer, text, jsonb, jsonb, text)
  to "authenticated", "postgres", "service_role";

-- Per gradient method, over the runs that declare the objective: runs,
-- completed/failed/crashed counts, crash rate among finished runs, and the
-- metric's mean, best (by the objective's direction) and stddev over completed runs.
-- Rules: run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
--         training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
create or replace function public.runs_objective_compare_gradient_methods (
  p_objective_name text,
  p_metric         text default 'raw_mean'::text
)
  returns jsonb
  language plpgsql
  stable
  set jit to 'off'
  set search_path to ''
  AS $function$
declare
  v_col text := private.objective_metric_column(coalesce(p_metric, 'raw_mean'));
  v_direction text;
  v_result jsonb;
begin
  perform private.objective_must_exist(p_objective_name);
  select coalesce(mode() within group (order by o.direction), 'maximize') into v_direction
  from public.run_objectives o where o.objective_name = p_objective_name;

  execute format($q$
    select coalesce(jsonb_agg(to_jsonb(m) order by m.mean %2$s nulls last, m.gradient_method nulls last), '[]'::jsonb)
    from (
      select r.gradient_method,
        count(*) as runs,
        count(*) filter (where r.status = 'completed') as completed,
        count(*) filter (where r.status = 'failed') as failed,
        count(*) filter (where r.status = 'crashed') as crashed,
        round(count(*) filter (where r.status = 'crashed')::numeric
          / nullif(count(*) filter (where r.status in ('completed', 'failed', 'crashed')), 0), 4) as crash_rate,
        count(o.%1$I) filter (where r.status = 'completed') as runs_with_value,
        avg(o.%1$I) filter (where r.status = 'completed') as mean,
        %3$s(o.%1$I) filter (where r.status = 'completed') as best,
        stddev_samp(o.%1$I) filter (where r.status = 'completed') as stddev
      from public.run_objectives o
      join public.training_runs r on r.run_id = o.run_id
      where o.objective_name = $1
      group by r.gradient_method
    ) m $q$, v_col, case when v_direction = 'minimize' then 'asc' else 'desc' end,
      case when v_direction = 'minimize' then 'min' else 'max' end)
  into v_result
  using p_objective_name;
  return jsonb_build_object('objective_name', p_objective_name, 'metric', v_col,
    'direction', v_direction, 'methods', v_result);
end
$function$;

revoke all on function "public"."runs_objective_compare_gradient_methods"(text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_objective_compare_gradient_methods"(text, text) to "authenticated", "postgres", "service_role";

-- count, mean, min, max, stddev, p50, p90 of one objective metric over completed runs.
-- Rules: run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
--         training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
create or replace function public.runs_objective_stats (
  p_objective_name  text,
  p_gradient_method text default null::text,
  p_metric          text default 'raw_mean'::text
)
  returns jsonb
  language plpgsql
  stable
  set jit to 'off'
  set search_path to ''
  AS $function$
declare
  v_col text := private.objective_metric_column(coalesce(p_metric, 'raw_mean'));
  v_result jsonb;
begin
  perform private.objective_must_exist(p_objective_name);
  execute format($q$
    select jsonb_build_object(
      'objective_name', $1, 'metric', $3, 'gradient_method', $2,
      'count', count(s.v), 'mean', avg(s.v), 'min', min(s.v), 'max', max(s.v), 'stddev', stddev_samp(s.v),
      'p50', percentile_cont(0.5) within group (order by s.v),
      'p90', percentile_cont(0.9) within group (order by s.v))
    from (
      select o.%1$I as v
      from public.run_objectives o
      join public.training_runs r on r.run_id = o.run_id
      where o.objective_name = $1 and o.%1$I is not null and r.status = 'completed'
        and ($2::text is null or r.gradient_method = $2)
    ) s $q$, v_col)
  into v_result
  using p_objective_name, p_gradient_method, v_col;
  return v_result;
end
$function$;

revoke all on function "public"."runs_objective_stats"(text, text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_objective_stats"(text, text, text) to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_set_blog_post (
  p_run_id text,
  p_url    text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.training_runs := private.run_for_update(p_run_id);
begin
  update public.training_runs set blog_post_url = p_url
  where run_id = p_run_id and blog_post_url is distinct from p_url
  returning * into r;
  return private.run_json(r);
end
$function$;

revoke all on function "public"."runs_set_blog_post"(text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_set_blog_post"(text, text) to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_set_conversation (
  p_run_id text,
  p_s3_key text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.training_runs := private.run_for_update(p_run_id);
begin
  update public.training_runs set conversation_s3_key = p_s3_key
  where run_id = p_run_id and conversation_s3_key is distinct from p_s3_key
  returning * into r;
  return private.run_json(r);
end
$function$;

revoke all on function "public"."runs_set_conversation"(text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_set_conversation"(text, text) to "authenticated", "postgres", "service_role";

-- PATCH /runs/:run_id: metadata merged (RFC 7396) over the stored object, or
-- cleared with null. Owner only (403 for another user's run, 404 if absent).
-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_set_metadata (
  p_run_id   text,
  p_metadata jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.training_runs := private.run_for_update(p_run_id);
  v_metadata jsonb;
begin
  if p_metadata is not null and jsonb_typeof(p_metadata) not in ('object', 'null') then
    raise exception using errcode = '22023', message = 'metadata must be an object or null';
  end if;
  -- The merge recurses once per level: bound the patch before it runs.
  if pg_catalog.pg_column_size(p_metadata) > 1048576 or jsonb_path_exists(p_metadata, 'strict $.**{33}') then
    raise exception using errcode = '22023', message = 'metadata is larger than 1 MB or nests deeper than 32 levels';
  end if;
  v_metadata := case when p_metadata is null or jsonb_typeof(p_metadata) = 'null' then null
                     else private.jsonb_merge_patch(coalesce(r.metadata, '{}'::jsonb), p_metadata) end;
  update public.training_runs set metadata = v_metadata
  where run_id = r.run_id and metadata is distinct from v_metadata
  returning * into r;
  if not found then
    select * into r from public.training_runs where run_id = p_run_id;
  end if;
  return private.run_json(r);
end
$function$;

revoke all on function "public"."runs_set_metadata"(text, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_set_metadata"(text, jsonb) to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
create or replace function public.runs_stats()
  returns jsonb
  language sql
  stable
  set search_path to ''
  AS $function$
  select jsonb_build_object(
    'total_runs', count(*),
    'by_status', jsonb_build_object(
      'launched', count(*) filter (where status = 'launched'),
      'running', count(*) filter (where status = 'running'),
      'completed', count(*) filter (where status = 'completed'),
      'failed', count(*) filter (where status = 'failed'),
      'crashed', count(*) filter (where status = 'crashed')),
    'with_blog_posts', count(*) filter (where blog_post_url is not null),
    'with_crash_analysis', count(*) filter (where crash_analysis_s3_key is not null))
  from public.training_runs
$function$;

revoke all on function "public"."runs_stats"() from public, "anon", "authenticated", "service_role";

grant execute on function "public"."runs_stats"() to "authenticated", "postgres", "service_role";

-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         run_objectives: policies run_objectives_select_authenticated, run_objectives_delete_own (runs/40_access.sql)
create or replace function public.runs_update_status (
  p_run_id           text,
  p_status           text,
  p_started_at       timestamp with time zone default null::timestamp with time zone,
  p_ended_at         timestamp with time zone default null::timestamp with time zone,
  p_duration_seconds double precision         default null::double precision,
  p_wandb_run_id     text                     default null::text,
  p_wandb_url        text                     default null::text,
  p_final_metrics    jsonb                    default null::jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  r public.training_runs := private.run_for_update(p_run_id);
  v_terminal boolean := p_status in ('completed', 'failed', 'crashed');
  v_started timestamptz;
  v_ended timestamptz;
  v_duration double precision;
  v_metrics jsonb;
begin
  if p_final_metrics is not null and jsonb_typeof(p_final_metrics) <> 'object' then
    raise exception using errcode = '22023', message = 'final_metrics must be an object';
  end if;
  -- Defaults come from the clock only on a real move, so a repeat is a no-op.
  v_started := coalesce(p_started_at, r.started_at,
    case when p_status = 'running' and r.status <> 'running' then now() end);
  v_ended := coalesce(p_ended_at, r.ended_at,
    case when v_terminal and r.status <> p_status then now() end);
  v_duration := coalesce(p_duration_seconds, r.duration_seconds,
    case when v_ended is not null and v_terminal
      then greatest(0, extract(epoch from v_ended - coalesce(v_started, r.created_at)))::double precision end);
  v_metrics := case when p_final_metrics is null then r.final_metrics_json
                    else coalesce(r.final_metrics_json, '{}'::jsonb) || p_final_metrics end;

  update public.training_runs set
    status = p_status,
    started_at = v_started,
    ended_at = v_ended,
    duration_seconds = v_duration,
    wandb_run_id = coalesce(p_wandb_run_id, r.wandb_run_id),
    wandb_url = coalesce(p_wandb_url, r.wandb_url),
    final_metrics_json = v_metrics
  where run_id = p_run_id
    and (status, started_at, ended_at, duration_seconds, wandb_run_id, wandb_url, final_metrics_json)
        is distinct from
        (p_status, v_started, v_ended, v_duration, coalesce(p_wandb_run_id, r.wandb_run_id),
         coalesce(p_wandb_url, r.wandb_url), v_metrics)
  returning * into r;
  if not found then
    select * into r from public.training_runs where run_id = p_run_id;
  end if;
  return private.run_json(r);
end
$function$;

revoke all on function "public"."runs_update_status"(text, text, timestamp with time zone, timestamp with time zone, double precision, text, text, jsonb) from public, "anon", "authenticated", "service_role";

grant execute
  on function "public"."runs_update_status"(text, text, timestamp with time zone, timestamp with time zone, double precision, text, text, jsonb)
  to "authenticated", "postgres", "service_role";
