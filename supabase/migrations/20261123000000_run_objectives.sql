-- Objectives and run analytics: per-objective results derived from the run's
-- config and final metrics, 17 more extracted columns, and one filter
-- language (compiled here, from an AST the caller validated) for lists.

-- ---------------------------------------------------------------------------
-- More extracted columns. Generated, so they can never disagree with
-- config_json / final_metrics_json whoever writes the row. The first
-- non-null of the listed paths wins (README: "Extracted columns").

alter table public.training_runs
  add column if not exists gradient_accumulation_steps integer generated always as (
    private.jsonb_int(private.config_value(config_json, 'gradient_accumulation_steps'))) stored,
  add column if not exists num_epochs integer generated always as (private.jsonb_int(coalesce(
    private.config_value(config_json, 'num_epochs'), private.config_value(config_json, 'num_train_epochs')))) stored,
  add column if not exists max_steps integer generated always as (
    private.jsonb_int(private.config_value(config_json, 'max_steps'))) stored,
  add column if not exists warmup_steps integer generated always as (
    private.jsonb_int(private.config_value(config_json, 'warmup_steps'))) stored,
  add column if not exists weight_decay double precision generated always as (
    private.jsonb_num(private.config_value(config_json, 'weight_decay'))::double precision) stored,
  add column if not exists max_grad_norm double precision generated always as (
    private.jsonb_num(private.config_value(config_json, 'max_grad_norm'))::double precision) stored,
  add column if not exists optimizer text generated always as (private.jsonb_str(coalesce(
    private.config_value(config_json, 'optimizer'), private.config_value(config_json, 'optim')))) stored,
  add column if not exists lr_scheduler_type text generated always as (private.jsonb_str(coalesce(
    private.config_value(config_json, 'lr_scheduler_type'), private.config_value(config_json, 'lr_scheduler')))) stored,
  add column if not exists model_name text generated always as (private.jsonb_str(coalesce(
    private.config_value(config_json, 'model_name'), nullif(config_json #> '{model,name}', 'null'::jsonb),
    private.config_value(config_json, 'model_name_or_path')))) stored,
  add column if not exists seed integer generated always as (
    private.jsonb_int(private.config_value(config_json, 'seed'))) stored,
  add column if not exists max_seq_length integer generated always as (private.jsonb_int(coalesce(
    private.config_value(config_json, 'max_seq_length'), private.config_value(config_json, 'max_length')))) stored,
  add column if not exists lora_rank integer generated always as (private.jsonb_int(coalesce(
    private.config_value(config_json, 'lora_rank'), nullif(config_json #> '{lora,r}', 'null'::jsonb)))) stored,
  add column if not exists num_generations integer generated always as (
    private.jsonb_int(private.config_value(config_json, 'num_generations'))) stored,
  -- From the W&B summary (final_metrics_json), flat keys as W&B writes them.
  add column if not exists final_loss double precision generated always as (
    private.jsonb_num(final_metrics_json -> 'train/loss')::double precision) stored,
  add column if not exists final_reward double precision generated always as (
    private.jsonb_num(final_metrics_json -> 'train/reward')::double precision) stored,
  add column if not exists total_training_steps integer generated always as (
    private.jsonb_int(final_metrics_json -> '_step')) stored,
  add column if not exists wandb_runtime_seconds double precision generated always as (
    private.jsonb_num(final_metrics_json -> '_runtime')::double precision) stored;

create index if not exists training_runs_model_name_idx on public.training_runs (model_name, created_at desc, run_id desc);

-- ---------------------------------------------------------------------------
-- run_objectives: one row per (run, declared objective). Definitions come from
-- config.objectives[]; final values from final_metrics_json keys
-- objectives/<alias>/<metric>. A trigger keeps both in step with the run.

create table if not exists public.run_objectives (
  run_id text not null references public.training_runs (run_id) on delete cascade on update cascade,
  objective_name text not null
    constraint run_objectives_name_length check (length(objective_name) between 1 and 200),
  objective_alias text constraint run_objectives_alias_length check (length(objective_alias) between 1 and 200),
  uniprot text constraint run_objectives_uniprot_length check (length(uniprot) between 1 and 100),
  weight double precision,
  direction text constraint run_objectives_direction_valid check (direction in ('maximize', 'minimize')),
  config_index integer not null default 0,
  raw_mean double precision,
  normalized_mean double precision,
  raw_std double precision,
  normalized_std double precision,
  updated_at timestamptz not null default now(),
  constraint run_objectives_pkey primary key (run_id, objective_name)
);

create index if not exists run_objectives_name_raw_mean_idx on public.run_objectives (objective_name, raw_mean, run_id);
create index if not exists run_objectives_name_normalized_mean_idx on public.run_objectives (objective_name, normalized_mean, run_id);

alter table public.run_objectives enable row level security;

-- As runs: every authenticated user reads; only the run's owner changes.
drop policy if exists run_objectives_select_authenticated on public.run_objectives;
create policy run_objectives_select_authenticated on public.run_objectives
  for select to authenticated using (true);

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

drop policy if exists run_objectives_delete_own on public.run_objectives;
create policy run_objectives_delete_own on public.run_objectives
  for delete to authenticated using (exists (
    select 1 from public.training_runs r where r.run_id = run_objectives.run_id and r.created_by = (select auth.uid())));

revoke all on table public.run_objectives from anon, authenticated;
grant select, insert, update, delete on table public.run_objectives to authenticated;
grant all on table public.run_objectives to service_role;

-- Declared objectives of a config: `objectives` is an array of names or of
-- objects {name, alias?, weight?, direction?, params: {uniprot?}}.
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

-- Keeps run_objectives equal to (config definitions x final metrics) for one run.
-- A summary key objectives/<alias>/<metric> belongs to the objective whose
-- alias is <alias>; failing that, whose name is <alias>; failing that, whose
-- name is <alias> without a trailing _maximize/_minimize. Keys for undeclared
-- objectives stay in final_metrics_json only.
create or replace function private.sync_run_objectives_for(
  p_run_id text, p_config jsonb, p_metrics jsonb, p_prune boolean
) returns void
language plpgsql
-- Small, index-driven statements: JIT compilation would cost far more than it saves
-- (the planner's default row estimates for set-returning functions invite it).
set jit = off
set search_path = ''
as $$
begin
  insert into public.run_objectives as o
    (run_id, objective_name, objective_alias, uniprot, weight, direction, config_index,
     raw_mean, normalized_mean, raw_std, normalized_std)
  with defs as materialized (select * from private.objective_definitions(p_config))
  select p_run_id, d.objective_name, d.objective_alias, d.uniprot, d.weight, d.direction, d.config_index,
         v.raw_mean, v.normalized_mean, v.raw_std, v.normalized_std
  from defs d
  left join lateral (
    select
      max(m.val) filter (where m.metric = 'raw_mean') as raw_mean,
      max(m.val) filter (where m.metric = 'normalized_mean') as normalized_mean,
      max(m.val) filter (where m.metric = 'raw_std') as raw_std,
      max(m.val) filter (where m.metric = 'normalized_std') as normalized_std
    from (
      select distinct on (k.metric) k.metric, k.val
      from (
        select parts[2] as metric, private.jsonb_num(e.value)::double precision as val,
          case
            when parts[1] = d.objective_alias then 1
            when parts[1] = d.objective_name then 2
            when regexp_replace(parts[1], '_(maximize|minimize)$', '') = d.objective_name then 3
          end as priority,
          parts[1] as alias
        from jsonb_each(case when jsonb_typeof(p_metrics) = 'object' then p_metrics else '{}'::jsonb end) e,
             regexp_match(e.key, '^objectives/([^/]+)/(raw_mean|normalized_mean|raw_std|normalized_std)$') parts
      ) k
      where k.priority is not null
        -- the key must not belong to another objective by a stronger rule
        and not exists (
          select 1 from defs other
          where other.objective_name <> d.objective_name
            and ((k.priority > 1 and other.objective_alias = k.alias)
                 or (k.priority > 2 and other.objective_name = k.alias)))
      order by k.metric, k.priority
    ) m
  ) v on true
  on conflict (run_id, objective_name) do update set
    objective_alias = excluded.objective_alias, uniprot = excluded.uniprot, weight = excluded.weight,
    direction = excluded.direction, config_index = excluded.config_index,
    raw_mean = excluded.raw_mean, normalized_mean = excluded.normalized_mean,
    raw_std = excluded.raw_std, normalized_std = excluded.normalized_std, updated_at = now()
  where (o.objective_alias, o.uniprot, o.weight, o.direction, o.config_index,
         o.raw_mean, o.normalized_mean, o.raw_std, o.normalized_std)
        is distinct from
        (excluded.objective_alias, excluded.uniprot, excluded.weight, excluded.direction, excluded.config_index,
         excluded.raw_mean, excluded.normalized_mean, excluded.raw_std, excluded.normalized_std);

  if p_prune then
    delete from public.run_objectives o
    where o.run_id = p_run_id
      and o.objective_name not in (select d.objective_name from private.objective_definitions(p_config) d);
  end if;
end
$$;

create or replace function private.sync_run_objectives() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.config_json is not distinct from old.config_json
     and new.final_metrics_json is not distinct from old.final_metrics_json
     and new.run_id = old.run_id then
    return null;
  end if;
  perform private.sync_run_objectives_for(new.run_id, new.config_json, new.final_metrics_json,
    tg_op = 'UPDATE' and new.config_json is distinct from old.config_json);
  return null;
end
$$;

-- Inserts sync once per statement, after every row is in: a bulk load then
-- checks run_objectives' foreign key against the full table (index scan), not
-- a plan made when the table was empty (a sequential scan per row).
create or replace function private.sync_inserted_run_objectives() returns trigger
language plpgsql
set jit = off
set search_path = ''
as $$
begin
  perform private.sync_run_objectives_for(i.run_id, i.config_json, i.final_metrics_json, false)
  from inserted_runs i
  where jsonb_typeof(i.config_json -> 'objectives') = 'array';
  return null;
end
$$;

create or replace trigger training_runs_sync_objectives_on_insert
  after insert on public.training_runs
  referencing new table as inserted_runs
  for each statement execute function private.sync_inserted_run_objectives();

create or replace trigger training_runs_sync_objectives
  after update of config_json, final_metrics_json, run_id on public.training_runs
  for each row execute function private.sync_run_objectives();

-- Runs registered before this migration get their objective rows. A config
-- the new rules reject (an objective without a name) is reported, not fatal.
do $$
declare
  r record;
begin
  for r in select t.run_id, t.config_json, t.final_metrics_json from public.training_runs t
           where jsonb_typeof(t.config_json -> 'objectives') = 'array'
             and not exists (select 1 from public.run_objectives o where o.run_id = t.run_id) loop
    begin
      perform private.sync_run_objectives_for(r.run_id, r.config_json, r.final_metrics_json, false);
    exception when sqlstate '22023' then
      raise notice 'run %: objectives not extracted: %', r.run_id, sqlerrm;
    end;
  end loop;
end
$$;

-- A run as the API answers it: the row, plus its objectives in config order.
create or replace function private.run_json(r public.training_runs) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$
  select to_jsonb(r) || jsonb_build_object('objectives', coalesce((
    select jsonb_agg(jsonb_build_object(
      'objective_name', o.objective_name, 'objective_alias', o.objective_alias, 'uniprot', o.uniprot,
      'weight', o.weight, 'direction', o.direction, 'raw_mean', o.raw_mean,
      'normalized_mean', o.normalized_mean, 'raw_std', o.raw_std, 'normalized_std', o.normalized_std,
      'updated_at', o.updated_at) order by o.config_index, o.objective_name)
    from public.run_objectives o where o.run_id = r.run_id), '[]'::jsonb))
$$;

-- ---------------------------------------------------------------------------
-- The filter language. The runs function parses `filter` and `order_by` into
-- an AST (functions/runs/filter/) and validates it; this compiles the AST to
-- SQL that quotes every identifier (%I, from the whitelist below) and reads
-- every value from the bound AST itself ($10 / $11 #>> '{path}'), so no
-- caller text ever becomes SQL.

-- Columns the filter language and order_by may name: column -> [sql type, not null].
create or replace function private.run_filter_columns() returns jsonb
language sql immutable parallel safe
set search_path = ''
as $$
  select '{
    "run_id": ["text", true], "wandb_run_id": ["text", false], "wandb_url": ["text", false],
    "run_name": ["text", false], "chain_of_custody_id": ["text", false], "config_file_path": ["text", false],
    "host": ["text", false], "instance_id": ["text", false], "status": ["text", true],
    "created_at": ["timestamptz", true], "started_at": ["timestamptz", false], "ended_at": ["timestamptz", false],
    "duration_seconds": ["double precision", false],
    "batch_size": ["integer", false], "learning_rate": ["double precision", false], "beta": ["double precision", false],
    "gradient_method": ["text", false], "num_gpus": ["integer", false], "num_objectives": ["integer", false],
    "num_scaffolds": ["integer", false], "gradient_accumulation_steps": ["integer", false],
    "num_epochs": ["integer", false], "max_steps": ["integer", false], "warmup_steps": ["integer", false],
    "weight_decay": ["double precision", false], "max_grad_norm": ["double precision", false],
    "optimizer": ["text", false], "lr_scheduler_type": ["text", false], "model_name": ["text", false],
    "seed": ["integer", false], "max_seq_length": ["integer", false], "lora_rank": ["integer", false],
    "num_generations": ["integer", false], "final_loss": ["double precision", false],
    "final_reward": ["double precision", false], "total_training_steps": ["integer", false],
    "wandb_runtime_seconds": ["double precision", false],
    "blog_post_url": ["text", false], "conversation_s3_key": ["text", false], "crash_report_s3_key": ["text", false],
    "error_log_s3_key": ["text", false], "crash_analysis_s3_key": ["text", false], "error_message": ["text", false],
    "created_by": ["uuid", false], "created_at_db": ["timestamptz", true], "updated_at_db": ["timestamptz", true]
  }'::jsonb
$$;

create or replace function private.jsonb_text_array(v jsonb) returns text[]
language sql immutable parallel safe
set search_path = ''
as $$ select array(select jsonb_array_elements_text(v)) $$;

-- A field as SQL: [expression over r, sql type, not null]. `ref` is SQL text
-- that evaluates to the field's AST node (a bound parameter and a fixed path).
create or replace function private.run_field_sql(field jsonb, ref text) returns text[]
language plpgsql immutable
set search_path = ''
as $$
declare
  v_cols jsonb := private.run_filter_columns();
  v_name text := field ->> 'name';
begin
  case field ->> 'kind'
    when 'column' then
      if v_name is null or not v_cols ? v_name then
        raise exception using errcode = '22023', message = format('unknown column %s', v_name);
      end if;
      return array[format('r.%I', v_name), v_cols -> v_name ->> 0, v_cols -> v_name ->> 1];
    when 'config' then
      -- JSON null counts as absent: IS NULL matches it and it sorts with the nulls.
      return array[format('nullif(r.config_json #> private.jsonb_text_array(%s -> ''path''), ''null''::jsonb)', ref), 'jsonb', 'false'];
    when 'metric' then
      return array[format('nullif(r.final_metrics_json -> (%s ->> ''key''), ''null''::jsonb)', ref), 'jsonb', 'false'];
    when 'objective' then
      return array[format(
        '(select o.%I from public.run_objectives o where o.run_id = r.run_id and o.objective_name = (%s ->> ''name''))',
        private.objective_metric_column(field ->> 'metric'), ref), 'double precision', 'false'];
    else
      raise exception using errcode = '22023', message = format('unknown field kind %s', field ->> 'kind');
  end case;
end
$$;

create or replace function private.objective_metric_column(metric text) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if metric in ('raw_mean', 'normalized_mean', 'raw_std', 'normalized_std', 'weight') then
    return metric;
  end if;
  raise exception using errcode = '22023',
    message = format('unknown objective metric %s: use raw_mean, normalized_mean, raw_std, normalized_std or weight', metric);
end
$$;

-- One predicate or boolean node as SQL. `ref` evaluates to this node.
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

-- runs_list with the filter language: p_filter is the AST, p_order {field, dir}
-- (p_order_by '<column>.<dir>' still works for callers that send text).
drop function if exists public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text);

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

-- ---------------------------------------------------------------------------
-- Objective analytics.

create or replace function private.objective_must_exist(p_name text) returns void
language plpgsql stable
set search_path = ''
as $$
begin
  if not exists (select 1 from public.run_objectives o where o.objective_name = p_name) then
    raise exception using errcode = 'PT404', message = format('no run has objective %s', p_name);
  end if;
end
$$;

-- count, mean, min, max, stddev, p50, p90 of one objective metric over completed runs.
create or replace function public.runs_objective_stats(
  p_objective_name text,
  p_gradient_method text default null,
  p_metric text default 'raw_mean'
) returns jsonb
language plpgsql stable
set jit = off
set search_path = ''
as $$
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
$$;

-- Per gradient method, over the runs that declare the objective: runs,
-- completed/failed/crashed counts, crash rate among finished runs, and the
-- metric's mean, best (by the objective's direction) and stddev over completed runs.
create or replace function public.runs_objective_compare_gradient_methods(
  p_objective_name text,
  p_metric text default 'raw_mean'
) returns jsonb
language plpgsql stable
set jit = off
set search_path = ''
as $$
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
$$;

-- Removes a run's objective rows (the owner only). They come back from config
-- and final metrics the next time either changes.
create or replace function public.runs_delete_objectives(p_run_id text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r public.training_runs := private.run_for_update(p_run_id);
  v_n integer;
begin
  delete from public.run_objectives o where o.run_id = r.run_id;
  get diagnostics v_n = row_count;
  return jsonb_build_object('run_id', r.run_id, 'deleted', v_n);
end
$$;

revoke all on function
  private.objective_definitions(jsonb), private.sync_run_objectives_for(text, jsonb, jsonb, boolean),
  private.sync_run_objectives(), private.sync_inserted_run_objectives(), private.run_json(public.training_runs),
  private.run_filter_columns(), private.jsonb_text_array(jsonb), private.run_field_sql(jsonb, text),
  private.objective_metric_column(text), private.run_filter_sql(jsonb, text), private.objective_must_exist(text),
  public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text, jsonb, jsonb),
  public.runs_objective_stats(text, text, text), public.runs_objective_compare_gradient_methods(text, text),
  public.runs_delete_objectives(text)
  from public, anon;
grant execute on function
  private.objective_definitions(jsonb), private.sync_run_objectives_for(text, jsonb, jsonb, boolean), private.run_json(public.training_runs),
  private.run_filter_columns(), private.jsonb_text_array(jsonb), private.run_field_sql(jsonb, text),
  private.objective_metric_column(text), private.run_filter_sql(jsonb, text), private.objective_must_exist(text),
  public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text, jsonb, jsonb),
  public.runs_objective_stats(text, text, text), public.runs_objective_compare_gradient_methods(text, text),
  public.runs_delete_objectives(text)
  to authenticated, service_role;
