-- Inverse of 20261130000100_runs_packages_surface: the function bodies and
-- signatures of the migrations before it; the column, constraint, trigger,
-- index and grants it added to training_runs and training_package_versions
-- go through the adoption ledger, which keeps whatever was there before.

drop function if exists public.runs_gradient_method_stats(jsonb, timestamptz, timestamptz);
drop function if exists public.runs_set_metadata(text, jsonb);
drop function if exists private.jsonb_merge_patch(jsonb, jsonb);
drop trigger if exists training_package_versions_cost_alerts on public.training_package_versions;
drop function if exists private.package_version_cost_alerts();
drop function if exists private.budget_alert_thresholds();

-- runs_create as 20261122000100 defined it.
drop function if exists public.runs_create(text, jsonb, text, text, text, text, text, text, jsonb);
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
revoke all on function public.runs_create(text, jsonb, text, text, text, text, text, text) from public, anon;
grant execute on function public.runs_create(text, jsonb, text, text, text, text, text, text) to authenticated, service_role;

-- run_field_sql as 20261123000000 defined it.
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

-- packages_set_training and packages_list_versions as 20261124000000 defined them.
create or replace function public.packages_set_training(p_version_id uuid, p_changes jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
  v_unknown text[];
begin
  select array_agg(k order by k) into v_unknown from jsonb_object_keys(p_changes) k
   where k not in ('training_status', 'training_metrics', 'estimated_cost', 'actual_cost', 'budget_limit', 'cost_alerts_sent');
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('unknown fields: %s', array_to_string(v_unknown, ', '));
  end if;
  return private.package_version_json(private.package_version_set_lifecycle(v.id, p_changes));
end
$$;

drop function if exists public.packages_list_versions(uuid, text, integer, text, boolean);
create or replace function public.packages_list_versions(
  p_package_id uuid, p_status text default null, p_limit integer default 50, p_cursor text default null
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
  -- Two statements rather than "(p_status is null or ...)": a cached generic
  -- plan cannot turn an optional condition into an index bound, and would walk
  -- the package from its newest version to the cursor.
  if p_status is null then
    select coalesce(jsonb_agg(private.package_version_json(page.v) order by (page.v).version_number desc), '[]'::jsonb),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.version_number < coalesce(v_before, 2147483647)
             order by v.version_number desc limit p_limit) page;
  else
    select coalesce(jsonb_agg(private.package_version_json(page.v) order by (page.v).version_number desc), '[]'::jsonb),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.status = p_status and v.version_number < coalesce(v_before, 2147483647)
             order by v.version_number desc limit p_limit) page;
  end if;
  return jsonb_build_object('items', v_items, 'next_cursor',
    case when v_count = p_limit then private.cursor_encode(jsonb_build_object('n', v_last)) end);
end
$$;
revoke all on function public.packages_list_versions(uuid, text, integer, text) from public, anon;
grant execute on function public.packages_list_versions(uuid, text, integer, text) to authenticated, service_role;

-- The tables back to what this migration found (rows kept; metadata goes
-- only if this migration added it).
select private.adoption_undo('20261130000100', 'public.training_package_versions');
select private.adoption_undo('20261130000100', 'public.training_runs');
