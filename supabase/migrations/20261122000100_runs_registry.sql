-- Runs registry: every training run, its whole config, lifecycle and attachments.
-- Extracted hyperparameters are generated columns, so they can never disagree
-- with config_json, whoever writes the row.

create table if not exists public.training_runs (
  run_id text primary key
    constraint training_runs_run_id_format
      check (run_id ~ '^[A-Za-z0-9][A-Za-z0-9._:@=+-]{0,199}$'
             and run_id not in ('stats', 'objectives', 'query-by-objectives', 'openapi.json')),
  wandb_run_id text constraint training_runs_wandb_run_id_key unique
    constraint training_runs_wandb_run_id_length check (length(wandb_run_id) between 1 and 200),
  wandb_url text constraint training_runs_wandb_url_http check (private.is_http_url(wandb_url)),
  run_name text constraint training_runs_run_name_length check (length(run_name) <= 500),
  chain_of_custody_id text constraint training_runs_chain_of_custody_id_length check (length(chain_of_custody_id) <= 200),
  config_file_path text constraint training_runs_config_file_path_length check (length(config_file_path) <= 2048),
  host text constraint training_runs_host_length check (length(host) <= 200),
  instance_id text constraint training_runs_instance_id_length check (length(instance_id) <= 200),
  status text not null default 'launched'
    constraint training_runs_status_valid
      check (status in ('launched', 'running', 'completed', 'failed', 'crashed')),
  created_at timestamptz not null default now(),
  started_at timestamptz,
  ended_at timestamptz,
  duration_seconds double precision
    constraint training_runs_duration_not_negative check (duration_seconds >= 0),
  config_json jsonb not null
    constraint training_runs_config_is_object check (jsonb_typeof(config_json) = 'object'),
  final_metrics_json jsonb
    constraint training_runs_final_metrics_is_object check (jsonb_typeof(final_metrics_json) = 'object'),
  batch_size integer generated always as (private.jsonb_int(private.config_value(config_json, 'batch_size'))) stored,
  learning_rate double precision generated always as (private.jsonb_num(private.config_value(config_json, 'learning_rate'))::double precision) stored,
  beta double precision generated always as (private.jsonb_num(private.config_value(config_json, 'beta'))::double precision) stored,
  gradient_method text generated always as (private.jsonb_str(private.config_value(config_json, 'gradient_method'))) stored,
  num_gpus integer generated always as (private.jsonb_int(private.config_value(config_json, 'num_gpus'))) stored,
  num_objectives integer generated always as (
    case when jsonb_typeof(config_json -> 'objectives') = 'array'
      then jsonb_array_length(config_json -> 'objectives')
      else private.jsonb_int(private.config_value(config_json, 'num_objectives')) end) stored,
  num_scaffolds integer generated always as (private.jsonb_int(private.config_value(config_json, 'num_scaffolds'))) stored,
  blog_post_url text constraint training_runs_blog_post_url_http check (private.is_http_url(blog_post_url)),
  conversation_s3_key text constraint training_runs_conversation_s3_key_valid check (private.is_s3_key(conversation_s3_key)),
  crash_report_s3_key text constraint training_runs_crash_report_s3_key_valid check (private.is_s3_key(crash_report_s3_key)),
  error_log_s3_key text constraint training_runs_error_log_s3_key_valid check (private.is_s3_key(error_log_s3_key)),
  crash_analysis_s3_key text constraint training_runs_crash_analysis_s3_key_valid check (private.is_s3_key(crash_analysis_s3_key)),
  error_message text constraint training_runs_error_message_length check (length(error_message) <= 20000),
  created_by uuid default auth.uid(),
  created_at_db timestamptz not null default now(),
  updated_at_db timestamptz not null default now(),
  constraint training_runs_ended_after_started check (ended_at >= started_at)
);

-- Indexes for every filter and order of GET /runs (keyset: order column, then run_id).
create index if not exists training_runs_created_at_idx on public.training_runs (created_at desc, run_id desc);
create index if not exists training_runs_status_created_at_idx on public.training_runs (status, created_at desc, run_id desc);
create index if not exists training_runs_method_status_created_at_idx on public.training_runs (gradient_method, status, created_at desc, run_id desc);
create index if not exists training_runs_host_created_at_idx on public.training_runs (host, created_at desc, run_id desc);
create index if not exists training_runs_batch_size_idx on public.training_runs (batch_size);
create index if not exists training_runs_duration_idx on public.training_runs (duration_seconds desc nulls last, run_id desc);
create index if not exists training_runs_with_blog_post_idx on public.training_runs (created_at desc, run_id desc) where blog_post_url is not null;
create index if not exists training_runs_with_crash_analysis_idx on public.training_runs (created_at desc, run_id desc) where crash_analysis_s3_key is not null;
create index if not exists training_runs_created_by_idx on public.training_runs (created_by);

-- Lifecycle: launched -> running; launched|running -> completed|failed|crashed;
-- the same status again is allowed (a no-op). Enforced for every client.
create or replace function private.training_runs_check_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Unknown statuses are left to the check constraint (bad input, not a conflict).
  if new.status is distinct from old.status
     and new.status in ('launched', 'running', 'completed', 'failed', 'crashed') and not (
       (old.status = 'launched' and new.status in ('running', 'completed', 'failed', 'crashed'))
    or (old.status = 'running' and new.status in ('completed', 'failed', 'crashed'))
  ) then
    raise exception using
      errcode = 'PT409',
      message = format('illegal status transition: run %s is %s and cannot become %s', old.run_id, old.status, new.status),
      detail = format('current status: %s', old.status);
  end if;
  return new;
end
$$;

create or replace trigger training_runs_check_transition
  before update of status on public.training_runs
  for each row execute function private.training_runs_check_transition();

create or replace trigger training_runs_set_updated_at
  before update on public.training_runs
  for each row execute function private.set_updated_at();

-- RLS: anon nothing; authenticated read all (a team registry) and change only
-- what they created; the service role (bypassrls) does everything.
alter table public.training_runs enable row level security;

drop policy if exists training_runs_select_authenticated on public.training_runs;
create policy training_runs_select_authenticated on public.training_runs
  for select to authenticated using (true);

drop policy if exists training_runs_insert_own on public.training_runs;
create policy training_runs_insert_own on public.training_runs
  for insert to authenticated with check (created_by = (select auth.uid()));

drop policy if exists training_runs_update_own on public.training_runs;
create policy training_runs_update_own on public.training_runs
  for update to authenticated
  using (created_by = (select auth.uid()))
  with check (created_by = (select auth.uid()));

drop policy if exists training_runs_delete_own on public.training_runs;
create policy training_runs_delete_own on public.training_runs
  for delete to authenticated using (created_by = (select auth.uid()));

revoke all on table public.training_runs from anon, authenticated;
grant select, insert, update, delete on table public.training_runs to authenticated;
grant all on table public.training_runs to service_role;

-- ---------------------------------------------------------------------------
-- Operations. Security invoker: RLS applies as the caller.

create or replace function private.run_json(r public.training_runs) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$ select to_jsonb(r) $$;

-- The run, locked for a change by the caller: 404 if absent, 403 if it is
-- another user's (authenticated users can see every run, so 404 would lie).
create or replace function private.run_for_update(p_run_id text) returns public.training_runs
language plpgsql
set search_path = ''
as $$
declare
  r public.training_runs;
begin
  perform 1 from public.training_runs where run_id = p_run_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('run %s not found', p_run_id);
  end if;
  select * into r from public.training_runs where run_id = p_run_id for update;
  if not found then
    raise exception using errcode = '42501', message = format('run %s belongs to another user', p_run_id);
  end if;
  return r;
end
$$;

create or replace function public.runs_create(
  p_run_id text,
  p_config jsonb,
  p_wandb_run_id text default null,
  p_chain_of_custody_id text default null,
  p_run_name text default null,
  p_config_file_path text default null,
  p_host text default null,
  p_instance_id text default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r public.training_runs;
begin
  insert into public.training_runs
    (run_id, config_json, wandb_run_id, chain_of_custody_id, run_name, config_file_path, host, instance_id)
  values
    (p_run_id, p_config, p_wandb_run_id, p_chain_of_custody_id, p_run_name, p_config_file_path, p_host, p_instance_id)
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
  then
    return jsonb_build_object('created', false, 'run', private.run_json(r));
  end if;
  raise exception using errcode = 'PT409',
    message = format('run %s already exists with different content', p_run_id);
end
$$;

create or replace function public.runs_get(p_run_id text) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  r public.training_runs;
begin
  select * into r from public.training_runs where run_id = p_run_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('run %s not found', p_run_id);
  end if;
  return private.run_json(r);
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

create or replace function public.runs_stats() returns jsonb
language sql stable
set search_path = ''
as $$
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
$$;

create or replace function public.runs_update_status(
  p_run_id text,
  p_status text,
  p_started_at timestamptz default null,
  p_ended_at timestamptz default null,
  p_duration_seconds double precision default null,
  p_wandb_run_id text default null,
  p_wandb_url text default null,
  p_final_metrics jsonb default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

-- Crash data in one transaction: the run becomes crashed (failed or crashed
-- runs keep their status) and the keys are attached.
create or replace function public.runs_attach_crash(
  p_run_id text,
  p_error_log_s3_key text default null,
  p_crash_report_s3_key text default null,
  p_crash_analysis_s3_key text default null,
  p_error_message text default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

create or replace function public.runs_set_blog_post(p_run_id text, p_url text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r public.training_runs := private.run_for_update(p_run_id);
begin
  update public.training_runs set blog_post_url = p_url
  where run_id = p_run_id and blog_post_url is distinct from p_url
  returning * into r;
  return private.run_json(r);
end
$$;

create or replace function public.runs_set_conversation(p_run_id text, p_s3_key text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r public.training_runs := private.run_for_update(p_run_id);
begin
  update public.training_runs set conversation_s3_key = p_s3_key
  where run_id = p_run_id and conversation_s3_key is distinct from p_s3_key
  returning * into r;
  return private.run_json(r);
end
$$;

revoke all on function
  private.training_runs_check_transition(), private.run_json(public.training_runs), private.run_for_update(text),
  public.runs_create(text, jsonb, text, text, text, text, text, text), public.runs_get(text),
  public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text),
  public.runs_stats(),
  public.runs_update_status(text, text, timestamptz, timestamptz, double precision, text, text, jsonb),
  public.runs_attach_crash(text, text, text, text, text),
  public.runs_set_blog_post(text, text), public.runs_set_conversation(text, text)
  from public, anon;
grant execute on function
  private.run_json(public.training_runs), private.run_for_update(text),
  public.runs_create(text, jsonb, text, text, text, text, text, text), public.runs_get(text),
  public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text),
  public.runs_stats(),
  public.runs_update_status(text, text, timestamptz, timestamptz, double precision, text, text, jsonb),
  public.runs_attach_crash(text, text, text, text, text),
  public.runs_set_blog_post(text, text), public.runs_set_conversation(text, text)
  to authenticated, service_role;
