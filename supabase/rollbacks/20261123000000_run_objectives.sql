-- Inverse of 20261123000000_run_objectives.sql
drop function if exists public.runs_delete_objectives(text);
drop function if exists public.runs_objective_compare_gradient_methods(text, text);
drop function if exists public.runs_objective_stats(text, text, text);
drop function if exists private.objective_must_exist(text);
drop function if exists public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text, jsonb, jsonb);
drop function if exists private.run_filter_sql(jsonb, text);
drop function if exists private.run_field_sql(jsonb, text);
drop function if exists private.objective_metric_column(text);
drop function if exists private.jsonb_text_array(jsonb);
drop function if exists private.run_filter_columns();
drop trigger if exists training_runs_sync_objectives on public.training_runs;
drop trigger if exists training_runs_sync_objectives_on_insert on public.training_runs;
drop function if exists private.sync_inserted_run_objectives();
drop function if exists private.sync_run_objectives();
drop function if exists private.sync_run_objectives_for(text, jsonb, jsonb, boolean);
drop function if exists private.objective_definitions(jsonb);
drop table if exists public.run_objectives;
drop index if exists public.training_runs_model_name_idx;
alter table public.training_runs
  drop column if exists gradient_accumulation_steps, drop column if exists num_epochs,
  drop column if exists max_steps, drop column if exists warmup_steps, drop column if exists weight_decay,
  drop column if exists max_grad_norm, drop column if exists optimizer, drop column if exists lr_scheduler_type,
  drop column if exists model_name, drop column if exists seed, drop column if exists max_seq_length,
  drop column if exists lora_rank, drop column if exists num_generations, drop column if exists final_loss,
  drop column if exists final_reward, drop column if exists total_training_steps,
  drop column if exists wandb_runtime_seconds;

-- The previous run_json and runs_list, as 20261122000100_runs_registry.sql made them.
create or replace function private.run_json(r public.training_runs) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$ select to_jsonb(r) $$;

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
  p_order_by text default 'created_at.desc',
  p_limit integer default 50,
  p_cursor text default null
) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  -- order column -> (sql type, not null?)
  orderable constant jsonb := '{
    "created_at": ["timestamptz", true], "started_at": ["timestamptz", false],
    "ended_at": ["timestamptz", false], "duration_seconds": ["double precision", false],
    "updated_at_db": ["timestamptz", true], "run_id": ["text", true],
    "run_name": ["text", false], "batch_size": ["integer", false],
    "learning_rate": ["double precision", false], "beta": ["double precision", false],
    "num_gpus": ["integer", false], "status": ["text", true]
  }';
  v_col text := split_part(p_order_by, '.', 1);
  v_dir text := coalesce(nullif(split_part(p_order_by, '.', 2), ''), 'asc');
  v_type text;
  v_not_null boolean;
  v_cmp text;
  v_where text[] := array['true'];
  v_cursor jsonb;
  v_rows public.training_runs[];
  v_n integer;
  v_next text;
begin
  if not orderable ? v_col or v_dir not in ('asc', 'desc') or p_order_by !~ '^[a-z_]+(\.(asc|desc))?$' then
    raise exception using errcode = '22023',
      message = format('order_by must be one of %s, with .asc or .desc', (select string_agg(k, ', ') from jsonb_object_keys(orderable) k));
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 1000';
  end if;
  v_type := orderable -> v_col ->> 0;
  v_not_null := (orderable -> v_col ->> 1)::boolean;
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

  if p_cursor is not null then
    v_cursor := private.cursor_decode(p_cursor);
    if v_cursor ->> 'o' is distinct from p_order_by or v_cursor ->> 'k' is null then
      raise exception using errcode = '22023', message = 'cursor does not belong to this order_by';
    end if;
    -- Keyset after (value, run_id) in the sort order; nulls sort last.
    if v_not_null then
      v_where := v_where || format('(r.%I, r.run_id) %s ($8::%s, $9)', v_col, v_cmp, v_type);
    elsif v_cursor ->> 'v' is null then
      v_where := v_where || format('(r.%I is null and r.run_id %s $9)', v_col, v_cmp);
    else
      v_where := v_where || format('(r.%1$I %2$s $8::%3$s or (r.%1$I = $8::%3$s and r.run_id %2$s $9) or r.%1$I is null)', v_col, v_cmp, v_type);
    end if;
  end if;

  -- `nulls last` only where nulls can occur: on a not-null column it would
  -- stop the (col desc, run_id desc) indexes from serving the order.
  execute format(
    'select array(select r from public.training_runs r where %s order by r.%I %s%s, r.run_id %s limit %s)',
    array_to_string(v_where, ' and '), v_col, v_dir, case when v_not_null then '' else ' nulls last' end, v_dir, p_limit + 1)
  into v_rows
  using p_status, p_host, p_gradient_method, p_batch_size, p_min_duration_hours,
        p_created_after, p_created_before, v_cursor ->> 'v', v_cursor ->> 'k';

  v_n := coalesce(array_length(v_rows, 1), 0);
  if v_n > p_limit then
    v_next := private.cursor_encode(jsonb_build_object(
      'o', p_order_by, 'v', to_jsonb(v_rows[p_limit]) ->> v_col, 'k', (v_rows[p_limit]).run_id));
  end if;
  return jsonb_build_object(
    'items', (select coalesce(jsonb_agg(to_jsonb(v_rows[i]) order by i), '[]'::jsonb)
              from generate_series(1, least(v_n, p_limit)) i),
    'next_cursor', v_next);
end
$$;

revoke all on function public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text) from public, anon;
grant execute on function public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text) to authenticated, service_role;
