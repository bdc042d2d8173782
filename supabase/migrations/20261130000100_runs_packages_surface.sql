-- The rest of the runs and packages surface (issue 18):
--   1. per-gradient-method run analytics over the filter language and a time range;
--   2. a free-form `metadata` object on a run ("manual actions", seed 002),
--      written by the run's owner, searchable as metadata.<path>;
--   3. budget alerts on package versions: the database records in
--      cost_alerts_sent, once per threshold, when actual_cost reaches a
--      fraction of budget_limit; clients can no longer write that column;
--      versions at or over budget are listed with p_over_budget.
--
-- training_runs and training_package_versions may be tables a deployed
-- project already had (adopted by earlier migrations): what this migration
-- finds is recorded in the adoption ledger first, so its rollback removes
-- exactly what it added (a column, constraint, trigger, grant) and keeps
-- anything that was there before.

select private.adoption_begin('20261130000100', 'public.training_runs');
select private.adoption_begin('20261130000100', 'public.training_package_versions');

-- ---------------------------------------------------------------------------
-- 2. Run metadata. Null is "none". An object of at most 64 kB (its stored
-- jsonb size) nesting at most 32 levels, whoever writes it.

do $$
begin
  if exists (select 1 from pg_catalog.pg_attribute
              where attrelid = 'public.training_runs'::regclass and attname = 'metadata' and not attisdropped
                and atttypid <> 'jsonb'::regtype) then
    raise exception using errcode = '55000',
      message = 'public.training_runs has a metadata column that is not jsonb: this project will not reuse it',
      hint = 'rename it (alter table public.training_runs rename column metadata to metadata_before) and move its values in after applying';
  end if;
end
$$;

alter table public.training_runs add column if not exists metadata jsonb;
alter table public.training_runs drop constraint if exists training_runs_metadata_valid;
alter table public.training_runs add constraint training_runs_metadata_valid
  check (jsonb_typeof(metadata) = 'object' and pg_catalog.pg_column_size(metadata) <= 65536
         and not jsonb_path_exists(metadata, 'strict $.**{33}'));

-- The owner writes it (RLS: update own rows only), on insert and after.
grant insert (metadata), update (metadata) on table public.training_runs to authenticated;

-- RFC 7396 JSON merge patch: keys of the patch replace the target's, a null
-- removes the key, objects merge recursively, anything else replaces.
create or replace function private.jsonb_merge_patch(p_target jsonb, p_patch jsonb) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
  v_target jsonb := case when jsonb_typeof(p_target) = 'object' then p_target else '{}'::jsonb end;
  v_key text;
  v_value jsonb;
begin
  if jsonb_typeof(p_patch) is distinct from 'object' then
    return p_patch;
  end if;
  for v_key, v_value in select key, value from jsonb_each(p_patch) loop
    if jsonb_typeof(v_value) = 'null' then
      v_target := v_target - v_key;
    else
      v_target := jsonb_set(v_target, array[v_key], private.jsonb_merge_patch(v_target -> v_key, v_value));
    end if;
  end loop;
  return v_target;
end
$$;

-- PATCH /runs/:run_id: metadata merged (RFC 7396) over the stored object, or
-- cleared with null. Owner only (403 for another user's run, 404 if absent).
create or replace function public.runs_set_metadata(p_run_id text, p_metadata jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

-- runs_create as in 20261122000100, with the metadata at launch. A retry that
-- names metadata must name what is stored (a later PATCH may have changed it).
drop function if exists public.runs_create(text, jsonb, text, text, text, text, text, text);
create or replace function public.runs_create(
  p_run_id text,
  p_config jsonb,
  p_wandb_run_id text default null,
  p_chain_of_custody_id text default null,
  p_run_name text default null,
  p_config_file_path text default null,
  p_host text default null,
  p_instance_id text default null,
  p_metadata jsonb default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

-- run_field_sql as in 20261123000000, with metadata.<path>: JSON like
-- config.<path> (a JSON null counts as absent). Paths are bounded by
-- private.run_filter_check (32 keys), which reads field.path of any kind.
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
    when 'metadata' then
      return array[format('nullif(r.metadata #> private.jsonb_text_array(%s -> ''path''), ''null''::jsonb)', ref), 'jsonb', 'false'];
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

-- ---------------------------------------------------------------------------
-- 1. Per gradient method (seed 002's "compare gradient methods", with no
-- objective needed): runs, how many completed / failed / crashed / still
-- active, success rate = completed / finished (null when none finished), and
-- over completed runs with a duration its mean, p50 and p90 (interpolated;
-- null when there are none). Over the runs the caller may read (security
-- invoker: RLS decides), narrowed by a filter AST (checked and compiled as
-- runs_list does it) and created_at in [created_after, created_before).
create or replace function public.runs_gradient_method_stats(
  p_filter jsonb default null,
  p_created_after timestamptz default null,
  p_created_before timestamptz default null
) returns jsonb
language plpgsql stable
set jit = off
set search_path = ''
set timezone = 'UTC'
as $$
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
$$;

-- ---------------------------------------------------------------------------
-- 3. Budget alerts. The thresholds are fractions of budget_limit; a
-- migration changes them by replacing this function.
create or replace function private.budget_alert_thresholds() returns numeric[]
language sql immutable
set search_path = ''
as $$ select array[0.8, 1.0]::numeric[] $$;

-- cost_alerts_sent is the database's: whatever a writer sends (any role) is
-- replaced by what was recorded, and an alert is appended, once per
-- threshold and version, when actual_cost reaches threshold × budget_limit:
-- {"threshold", "actual_cost", "budget_limit", "sent_at"}. An alert stays
-- when the cost or the budget moves afterwards: it was sent.
create or replace function private.package_version_cost_alerts() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_threshold numeric;
begin
  new.cost_alerts_sent := case when tg_op = 'UPDATE' then old.cost_alerts_sent else '[]'::jsonb end;
  if new.actual_cost is null or new.budget_limit is null then
    return new;
  end if;
  foreach v_threshold in array private.budget_alert_thresholds() loop
    if new.actual_cost >= v_threshold * new.budget_limit
       and not exists (select 1 from jsonb_array_elements(new.cost_alerts_sent) a
                        where jsonb_typeof(a) = 'object' and jsonb_typeof(a -> 'threshold') = 'number'
                          and (a ->> 'threshold')::numeric = v_threshold) then
      new.cost_alerts_sent := new.cost_alerts_sent || jsonb_build_array(jsonb_build_object(
        'threshold', v_threshold, 'actual_cost', new.actual_cost, 'budget_limit', new.budget_limit,
        'sent_at', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')));
    end if;
  end loop;
  return new;
end
$$;

create or replace trigger training_package_versions_cost_alerts
  before insert or update of actual_cost, budget_limit, cost_alerts_sent on public.training_package_versions
  for each row execute function private.package_version_cost_alerts();

revoke update (cost_alerts_sent) on table public.training_package_versions from authenticated;

-- "Which versions are at or over budget": actual_cost >= budget_limit.
create index if not exists training_package_versions_over_budget_idx
  on public.training_package_versions (package_id, version_number desc) where actual_cost >= budget_limit;

-- packages_set_training as in 20261124000000, without cost_alerts_sent.
create or replace function public.packages_set_training(p_version_id uuid, p_changes jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
  v_unknown text[];
begin
  select array_agg(k order by k) into v_unknown from jsonb_object_keys(p_changes) k
   where k not in ('training_status', 'training_metrics', 'estimated_cost', 'actual_cost', 'budget_limit');
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('unknown fields: %s', array_to_string(v_unknown, ', '));
  end if;
  return private.package_version_json(private.package_version_set_lifecycle(v.id, p_changes));
end
$$;

-- packages_list_versions as in 20261124000000, with p_over_budget: true lists
-- versions with actual_cost >= budget_limit, false the others.
drop function if exists public.packages_list_versions(uuid, text, integer, text);
create or replace function public.packages_list_versions(
  p_package_id uuid, p_status text default null, p_limit integer default 50, p_cursor text default null,
  p_over_budget boolean default null
) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_before integer;
  v_items jsonb;
  v_count integer;
  v_last integer;
begin
  perform private.package_visible(p_package_id);
  perform private.check_page_limit(p_limit);
  if p_status is not null and p_status not in ('draft', 'published', 'archived') then
    raise exception using errcode = '22023', message = 'status must be draft, published or archived';
  end if;
  if p_cursor is not null then
    begin
      v_before := (private.cursor_decode(p_cursor) ->> 'n')::integer;
    exception when others then v_before := null;
    end;
    if v_before is null then
      raise exception using errcode = '22023', message = 'invalid cursor';
    end if;
  end if;
  -- Three statements rather than optional conditions: a cached generic plan
  -- cannot turn "(p is null or ...)" into an index bound.
  if p_over_budget then
    select coalesce(jsonb_agg(private.package_version_json(page.v) order by (page.v).version_number desc), '[]'::jsonb),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.actual_cost >= v.budget_limit
               and (p_status is null or v.status = p_status)
               and v.version_number < coalesce(v_before, 2147483647)
             order by v.version_number desc limit p_limit) page;
  elsif p_status is null then
    select coalesce(jsonb_agg(private.package_version_json(page.v) order by (page.v).version_number desc), '[]'::jsonb),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.version_number < coalesce(v_before, 2147483647)
               and (p_over_budget is null or not coalesce(v.actual_cost >= v.budget_limit, false))
             order by v.version_number desc limit p_limit) page;
  else
    select coalesce(jsonb_agg(private.package_version_json(page.v) order by (page.v).version_number desc), '[]'::jsonb),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.status = p_status and v.version_number < coalesce(v_before, 2147483647)
               and (p_over_budget is null or not coalesce(v.actual_cost >= v.budget_limit, false))
             order by v.version_number desc limit p_limit) page;
  end if;
  return jsonb_build_object('items', v_items, 'next_cursor',
    case when v_count = p_limit then private.cursor_encode(jsonb_build_object('n', v_last)) end);
end
$$;

-- ---------------------------------------------------------------------------
-- Privileges.
revoke all on function
  private.jsonb_merge_patch(jsonb, jsonb), public.runs_set_metadata(text, jsonb),
  public.runs_create(text, jsonb, text, text, text, text, text, text, jsonb),
  public.runs_gradient_method_stats(jsonb, timestamptz, timestamptz),
  public.packages_list_versions(uuid, text, integer, text, boolean),
  private.budget_alert_thresholds(), private.package_version_cost_alerts()
  from public, anon;
revoke all on function private.package_version_cost_alerts() from authenticated, service_role;
grant execute on function
  private.jsonb_merge_patch(jsonb, jsonb), public.runs_set_metadata(text, jsonb),
  public.runs_create(text, jsonb, text, text, text, text, text, text, jsonb),
  public.runs_gradient_method_stats(jsonb, timestamptz, timestamptz),
  public.packages_list_versions(uuid, text, integer, text, boolean),
  private.budget_alert_thresholds()
  to authenticated, service_role;
