-- runs: private helpers and trigger functions (not callable through the API)
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- Declared objectives of a config: `objectives` is an array of names or of
-- objects {name, alias?, weight?, direction?, params: {uniprot?}}.
create or replace function private.objective_definitions (
  config jsonb
)
  returns table (
    objective_name  text,
    objective_alias text,
    uniprot         text,
    weight          double precision,
    direction       text,
    config_index    integer
  )
  language plpgsql
  immutable
  rows 5
  set search_path to ''
  AS $function$
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
  -- Bounded: the duplicate check below is quadratic in the count.
  if jsonb_array_length(v_defs) > 200 then
    raise exception using errcode = '22023', message = 'config.objectives declares more than 200 objectives';
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
$function$;

revoke all on function "private"."objective_definitions"(jsonb) from public;

grant execute on function "private"."objective_definitions"(jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.objective_metric_column (
  metric text
)
  returns text
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
begin
  if metric in ('raw_mean', 'normalized_mean', 'raw_std', 'normalized_std', 'weight') then
    return metric;
  end if;
  raise exception using errcode = '22023',
    message = format('unknown objective metric %s: use raw_mean, normalized_mean, raw_std, normalized_std or weight', metric);
end
$function$;

revoke all on function "private"."objective_metric_column"(text) from public;

grant execute on function "private"."objective_metric_column"(text) to "authenticated", "postgres", "service_role";

create or replace function private.objective_must_exist (
  p_name text
)
  returns void
  language plpgsql
  stable
  set search_path to ''
  AS $function$
begin
  if not exists (select 1 from public.run_objectives o where o.objective_name = p_name) then
    raise exception using errcode = 'PT404', message = format('no run has objective %s', p_name);
  end if;
end
$function$;

revoke all on function "private"."objective_must_exist"(text) from public;

grant execute on function "private"."objective_must_exist"(text) to "authenticated", "postgres", "service_role";

-- A field as SQL: [expression over r, sql type, not null]. `ref` is SQL text
-- that evaluates to the field's AST node (a bound parameter and a fixed path).
create or replace function private.run_field_sql (
  field jsonb,
  ref   text
)
  returns text[]
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."run_field_sql"(jsonb, text) from public;

grant execute on function "private"."run_field_sql"(jsonb, text) to "authenticated", "postgres", "service_role";

create or replace function private.run_filter_check (
  p_filter jsonb,
  p_order  jsonb
)
  returns void
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
begin
  if pg_catalog.pg_column_size(p_filter) > 1048576 then
    raise exception using errcode = '22023', message = 'filter is larger than 1 MB';
  end if;
  if pg_catalog.pg_column_size(p_order) > 16384 then
    raise exception using errcode = '22023', message = 'order is larger than 16 kB';
  end if;
  if jsonb_typeof(p_order #> '{field,path}') = 'array' and jsonb_array_length(p_order #> '{field,path}') > 32 then
    raise exception using errcode = '22023', message = 'a config path has at most 32 keys';
  end if;
  if p_filter is not null then
    perform private.run_filter_check_node(p_filter, 1, 200);
  end if;
end
$function$;

revoke all on function "private"."run_filter_check"(jsonb, jsonb) from public;

grant execute on function "private"."run_filter_check"(jsonb, jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.run_filter_check_node (
  p_node   jsonb,
  p_depth  integer,
  p_budget integer
)
  returns integer
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
declare
  v_arg jsonb;
begin
  if p_depth > 32 then
    raise exception using errcode = '22023', message = 'filter nests deeper than 32 levels';
  end if;
  if jsonb_typeof(p_node) is distinct from 'object' then
    raise exception using errcode = '22023', message = 'a filter node must be an object';
  end if;
  if p_node ->> 'op' in ('and', 'or') then
    if jsonb_typeof(p_node -> 'args') is distinct from 'array' or jsonb_array_length(p_node -> 'args') = 0 then
      raise exception using errcode = '22023', message = format('%s needs arguments', p_node ->> 'op');
    end if;
    if jsonb_array_length(p_node -> 'args') > p_budget then
      raise exception using errcode = '22023', message = 'filter has more than 200 conditions';
    end if;
    for v_arg in select a from jsonb_array_elements(p_node -> 'args') a loop
      p_budget := private.run_filter_check_node(v_arg, p_depth + 1, p_budget);
    end loop;
    return p_budget;
  end if;
  if p_budget < 1 then
    raise exception using errcode = '22023', message = 'filter has more than 200 conditions';
  end if;
  if jsonb_typeof(p_node -> 'values') = 'array' and jsonb_array_length(p_node -> 'values') > 1000 then
    raise exception using errcode = '22023', message = 'IN takes at most 1000 values';
  end if;
  if jsonb_typeof(p_node #> '{field,path}') = 'array' and jsonb_array_length(p_node #> '{field,path}') > 32 then
    raise exception using errcode = '22023', message = 'a config path has at most 32 keys';
  end if;
  return p_budget - 1;
end
$function$;

revoke all on function "private"."run_filter_check_node"(jsonb, integer, integer) from public;

grant execute on function "private"."run_filter_check_node"(jsonb, integer, integer) to "authenticated", "postgres", "service_role";

-- Columns the filter language and order_by may name: column -> [sql type, not null].
create or replace function private.run_filter_columns()
  returns jsonb
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."run_filter_columns"() from public;

grant execute on function "private"."run_filter_columns"() to "authenticated", "postgres", "service_role";

-- A checked AST as SQL, and its predicates in the order the SQL reads them:
-- predicate k is ($param -> k), compiled by private.run_filter_sql.
create or replace function private.run_filter_compile (
  p_node  jsonb,
  p_param text,
  p_base  integer,
  OUT     sql text,
  OUT     leaves jsonb
)
  returns record
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
declare
  v_arg jsonb;
  v_part record;
  v_parts text[] := '{}';
begin
  if p_node ->> 'op' in ('and', 'or') then
    leaves := '[]';
    for v_arg in select a from jsonb_array_elements(p_node -> 'args') a loop
      select * into v_part from private.run_filter_compile(v_arg, p_param, p_base + jsonb_array_length(leaves));
      v_parts := v_parts || format('(%s)', v_part.sql);
      leaves := leaves || v_part.leaves;
    end loop;
    sql := array_to_string(v_parts, format(' %s ', p_node ->> 'op'));
  else
    sql := private.run_filter_sql(p_node, format('(%s -> %s)', p_param, p_base));
    leaves := jsonb_build_array(p_node);
  end if;
end
$function$;

revoke all on function "private"."run_filter_compile"(jsonb, text, integer) from public;

grant execute on function "private"."run_filter_compile"(jsonb, text, integer) to "authenticated", "postgres", "service_role";

-- One predicate or boolean node as SQL. `ref` evaluates to this node.
create or replace function private.run_filter_sql (
  node jsonb,
  ref  text
)
  returns text
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
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
      -- One reference to the node however many values: referring to each
      -- value by its index made the planner copy the whole node per value.
      v_sql := format('%s %s (array(select %s from jsonb_array_elements%s(%s -> ''values'') x(v)))', v_lhs,
        case when (node ->> 'negated')::boolean then '<> all' else '= any' end,
        case when v_cast = 'jsonb' then 'x.v' else format('x.v::%s', v_cast) end,
        case when v_cast = 'jsonb' then '' else '_text' end, ref);
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
$function$;

revoke all on function "private"."run_filter_sql"(jsonb, text) from public;

grant execute on function "private"."run_filter_sql"(jsonb, text) to "authenticated", "postgres", "service_role";

-- The run, locked for a change by the caller: 404 if absent, 403 if it is
-- another user's (authenticated users can see every run, so 404 would lie).
create or replace function private.run_for_update (
  p_run_id text
)
  returns public.training_runs
  language plpgsql
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."run_for_update"(text) from public;

grant execute on function "private"."run_for_update"(text) to "authenticated", "postgres", "service_role";

-- A run's objectives as json: private.run_json's (as jsonb). The list pages
-- inline the same subquery (private.run_objectives_sql).
create or replace function private.run_objectives_json (
  r public.training_runs
)
  returns json
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
  select coalesce((
    select json_agg(json_build_object(
      'objective_name', o.objective_name, 'objective_alias', o.objective_alias, 'uniprot', o.uniprot,
      'weight', o.weight, 'direction', o.direction, 'raw_mean', o.raw_mean,
      'normalized_mean', o.normalized_mean, 'raw_std', o.raw_std, 'normalized_std', o.normalized_std,
      'updated_at', o.updated_at) order by o.config_index, o.objective_name)
    from public.run_objectives o where o.run_id = r.run_id), '[]'::json)
$function$;

revoke all on function "private"."run_objectives_json"(public.training_runs) from public;

grant execute on function "private"."run_objectives_json"(public.training_runs) to "authenticated", "postgres", "service_role";

-- The same objectives as SQL text over a row `p.r`, for the list pages'
-- dynamic queries (runs_list, private.run_select_sql): there the subquery is
-- part of the page's query, rather than a call of run_objectives_json per row
-- (a function with SET clauses is never inlined; bench/README.md, issue 16).
-- Keys and order as run_objectives_json; the runs tests hold every list item
-- equal to GET /runs/<id>.
create or replace function private.run_objectives_sql ()
  returns text
  language sql
  immutable
  set search_path to ''
  AS $function$
  select $sql$coalesce((
    select json_agg(json_build_object(
      'objective_name', o.objective_name, 'objective_alias', o.objective_alias, 'uniprot', o.uniprot,
      'weight', o.weight, 'direction', o.direction, 'raw_mean', o.raw_mean,
      'normalized_mean', o.normalized_mean, 'raw_std', o.raw_std, 'normalized_std', o.normalized_std,
      'updated_at', o.updated_at) order by o.config_index, o.objective_name)
    from public.run_objectives o where o.run_id = (p.r).run_id), '[]'::json)$sql$
$function$;

revoke all on function "private"."run_objectives_sql"() from public;

grant execute on function "private"."run_objectives_sql"() to "authenticated", "postgres", "service_role";

-- A run as the API answers it: the row, plus its objectives in config order.
create or replace function private.run_json (
  r public.training_runs
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
  select to_jsonb(r) || jsonb_build_object('objectives', private.run_objectives_json(r)::jsonb)
$function$;

revoke all on function "private"."run_json"(public.training_runs) from public;

grant execute on function "private"."run_json"(public.training_runs) to "authenticated", "postgres", "service_role";

-- select= of GET /runs (PostgREST-style: a comma list of top-level fields of
-- a run, i.e. its columns and objectives): the SQL expression of a list item
-- holding those fields only, in the order given, over the page row p.r. An
-- empty, unknown or repeated field is refused (22023, a 400) naming it.
create or replace function private.run_select_sql (
  p_select text
)
  returns text
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  v_known text[];
  v_seen text[] := '{}';
  v_parts text[] := '{}';
  v_field text;
begin
  if length(p_select) > 2000 then
    raise exception using errcode = '22023', message = 'select is longer than 2000 characters';
  end if;
  select array_agg(a.attname::text order by a.attnum) || array['objectives'] into v_known
    from pg_catalog.pg_attribute a
   where a.attrelid = 'public.training_runs'::regclass and a.attnum > 0 and not a.attisdropped;
  foreach v_field in array string_to_array(p_select, ',') loop
    v_field := btrim(v_field);
    if v_field = '' then
      raise exception using errcode = '22023',
        message = 'select has an empty field: list top-level fields of a run separated by commas, e.g. select=run_id,status';
    end if;
    if not v_field = any(v_known) then
      raise exception using errcode = '22023',
        message = format('select: unknown field %s; a run has %s', v_field, array_to_string(v_known, ', '));
    end if;
    if v_field = any(v_seen) then
      raise exception using errcode = '22023', message = format('select names %s twice', v_field);
    end if;
    v_seen := v_seen || v_field;
    v_parts := v_parts || case when v_field = 'objectives'
      then private.run_objectives_sql() || ' as objectives'
      else format('(p.r).%1$I as %1$I', v_field) end;
  end loop;
  return format('(select row_to_json(s) from (select %s) s)', array_to_string(v_parts, ', '));
end
$function$;

revoke all on function "private"."run_select_sql"(text) from public;

grant execute on function "private"."run_select_sql"(text) to "authenticated", "postgres", "service_role";

-- Inserts sync once per statement, after every row is in: a bulk load then
-- checks run_objectives' foreign key against the full table (index scan), not
-- a plan made when the table was empty (a sequential scan per row).
create or replace function private.sync_inserted_run_objectives()
  returns trigger
  language plpgsql
  security definer
  set jit to 'off'
  set search_path to ''
  AS $function$
begin
  perform private.sync_run_objectives_for(i.run_id, i.config_json, i.final_metrics_json, false)
  from inserted_runs i
  where jsonb_typeof(i.config_json -> 'objectives') = 'array';
  return null;
end
$function$;

revoke all on function "private"."sync_inserted_run_objectives"() from public;

grant execute on function "private"."sync_inserted_run_objectives"() to "postgres";

create or replace function private.sync_run_objectives()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."sync_run_objectives"() from public;

grant execute on function "private"."sync_run_objectives"() to "postgres";

-- Keeps run_objectives equal to (config definitions x final metrics) for one run.
-- A summary key objectives/<alias>/<metric> belongs to the objective whose
-- alias is <alias>; failing that, whose name is <alias>; failing that, whose
-- name is <alias> without a trailing _maximize/_minimize. Keys for undeclared
-- objectives stay in final_metrics_json only.
create or replace function private.sync_run_objectives_for (
  p_run_id  text,
  p_config  jsonb,
  p_metrics jsonb,
  p_prune   boolean
)
  returns void
  language plpgsql
  set jit to 'off'
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."sync_run_objectives_for"(text, jsonb, jsonb, boolean) from public;

grant execute on function "private"."sync_run_objectives_for"(text, jsonb, jsonb, boolean) to "postgres", "service_role";

-- Lifecycle: launched -> running; launched|running -> completed|failed|crashed;
-- the same status again is allowed (a no-op). Enforced for every client.
create or replace function private.training_runs_check_transition()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."training_runs_check_transition"() from public;

grant execute on function "private"."training_runs_check_transition"() to "postgres";
