-- packages: the public SQL functions the HTTP functions and the table API call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- Seed 004's front end: rpc('get_next_version_number', { p_package_id }) is
-- the next number as an integer; its draft insert names status 'draft'; its
-- publish is a direct update that also sends published_at and published_by,
-- which the trigger replaces with its own (refusing a publisher other than
-- the caller).
-- Rules: training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
create or replace function public.get_next_version_number (
  p_package_id uuid
)
  returns integer
  language sql
  stable
  set search_path to ''
  AS $function$ select p.last_version_number + 1 from private.package_visible(p_package_id) p $function$;

revoke all on function "public"."get_next_version_number"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."get_next_version_number"(uuid) to "authenticated", "postgres", "service_role";

-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_archive_version (
  p_version_id uuid
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  return private.package_version_json(private.package_version_set_lifecycle(v.id, '{"status": "archived"}'));
end
$function$;

revoke all on function "public"."packages_archive_version"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_archive_version"(uuid) to "authenticated", "postgres", "service_role";

-- Rules: training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
create or replace function public.packages_create (
  p_name          text,
  p_template_type text  default null::text,
  p_config        jsonb default '{}'::jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  p public.training_configs;
begin
  insert into public.training_configs (name, template_type, config_json)
  values (p_name, p_template_type, coalesce(p_config, '{}'::jsonb))
  returning * into p;
  return private.package_json(p);
end
$function$;

revoke all on function "public"."packages_create"(text, text, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_create"(text, text, jsonb) to "authenticated", "postgres", "service_role";

-- A new draft. Snapshots left out start from the package's config and empty
-- model and dataset snapshots.
-- Rules: training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
--         training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_create_version (
  p_package_id       uuid,
  p_name             text    default null::text,
  p_config_snapshot  jsonb   default null::jsonb,
  p_model_snapshot   jsonb   default null::jsonb,
  p_dataset_snapshot jsonb   default null::jsonb,
  p_change_summary   text    default null::text,
  p_estimated_cost   numeric default null::numeric,
  p_budget_limit     numeric default null::numeric
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  p public.training_configs := private.package_visible(p_package_id);
  v public.training_package_versions;
begin
  insert into public.training_package_versions
    (package_id, name, config_snapshot, model_snapshot, dataset_snapshot, change_summary, estimated_cost, budget_limit)
  values
    (p.id, p_name, coalesce(p_config_snapshot, p.config_json), coalesce(p_model_snapshot, '{}'::jsonb),
     coalesce(p_dataset_snapshot, '[]'::jsonb), p_change_summary, p_estimated_cost, p_budget_limit)
  returning * into v;
  return private.package_version_json(v);
end
$function$;

revoke all on function "public"."packages_create_version"(uuid, text, jsonb, jsonb, jsonb, text, numeric, numeric) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_create_version"(uuid, text, jsonb, jsonb, jsonb, text, numeric, numeric) to "authenticated", "postgres", "service_role";

-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_delete_version (
  p_version_id uuid
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  perform private.package_version_must_be_draft(v, 'delete');
  delete from public.training_package_versions where id = v.id and status = 'draft';
  if not found then
    perform private.package_version_lost_race(p_version_id, 'delete');
  end if;
  return jsonb_build_object('id', v.id, 'package_id', v.package_id, 'version_number', v.version_number, 'deleted', true);
end
$function$;

revoke all on function "public"."packages_delete_version"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_delete_version"(uuid) to "authenticated", "postgres", "service_role";

-- What changed from `against` (old) to the version (new), over the three snapshots.
-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_diff_versions (
  p_version_id uuid,
  p_against    uuid
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  v_new public.training_package_versions := private.package_version_visible(p_version_id);
  v_old public.training_package_versions := private.package_version_visible(p_against);
  v_changes jsonb;
begin
  select coalesce(jsonb_agg(d), '[]'::jsonb) into v_changes from (
    select * from private.jsonb_diff('/config_snapshot', v_old.config_snapshot, v_new.config_snapshot)
    union all select * from private.jsonb_diff('/model_snapshot', v_old.model_snapshot, v_new.model_snapshot)
    union all select * from private.jsonb_diff('/dataset_snapshot', v_old.dataset_snapshot, v_new.dataset_snapshot)
  ) changes(d);
  return jsonb_build_object(
    'version', jsonb_build_object('id', v_new.id, 'package_id', v_new.package_id, 'version_number', v_new.version_number),
    'against', jsonb_build_object('id', v_old.id, 'package_id', v_old.package_id, 'version_number', v_old.version_number),
    'identical', jsonb_array_length(v_changes) = 0,
    'changes', v_changes);
end
$function$;

revoke all on function "public"."packages_diff_versions"(uuid, uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_diff_versions"(uuid, uuid) to "authenticated", "postgres", "service_role";

-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_fork_version (
  p_version_id     uuid,
  p_name           text default null::text,
  p_change_summary text default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_source public.training_package_versions := private.package_version_visible(p_version_id);
  v public.training_package_versions;
begin
  insert into public.training_package_versions
    (package_id, name, config_snapshot, model_snapshot, dataset_snapshot, change_summary, parent_version_id,
     estimated_cost, budget_limit)
  values
    (v_source.package_id, p_name, v_source.config_snapshot, v_source.model_snapshot, v_source.dataset_snapshot,
     coalesce(p_change_summary, format('forked from version %s', v_source.version_number)), v_source.id,
     v_source.estimated_cost, v_source.budget_limit)
  returning * into v;
  return private.package_version_json(v);
end
$function$;

revoke all on function "public"."packages_fork_version"(uuid, text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_fork_version"(uuid, text, text) to "authenticated", "postgres", "service_role";

-- Rules: training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
create or replace function public.packages_get (
  p_package_id uuid
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  AS $function$ select private.package_json(private.package_visible(p_package_id)) $function$;

revoke all on function "public"."packages_get"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_get"(uuid) to "authenticated", "postgres", "service_role";

-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_get_version (
  p_version_id uuid
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  AS $function$ select private.package_version_json(private.package_version_visible(p_version_id)) $function$;

revoke all on function "public"."packages_get_version"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_get_version"(uuid) to "authenticated", "postgres", "service_role";

-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
--         training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
create or replace function public.packages_get_version_by_number (
  p_package_id     uuid,
  p_version_number integer
)
  returns jsonb
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions;
begin
  perform private.package_visible(p_package_id);
  select * into v from public.training_package_versions where package_id = p_package_id and version_number = p_version_number;
  if not found then
    raise exception using errcode = 'PT404', message = format('package %s has no version %s', p_package_id, p_version_number);
  end if;
  return private.package_version_json(v);
end
$function$;

revoke all on function "public"."packages_get_version_by_number"(uuid, integer) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_get_version_by_number"(uuid, integer) to "authenticated", "postgres", "service_role";

-- Rules: training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
create or replace function public.packages_list (
  p_limit  integer default 50,
  p_cursor text    default null::text
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_uid uuid := auth.uid();
  v_cursor jsonb;
  v_items json;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  -- The caller's packages (the service role, with no user, sees all): newest first.
  with page as (
    select p from public.training_configs p
     where (v_uid is null or p.user_id = v_uid)
       and (p.created_at, p.id) < (coalesce((v_cursor ->> 't')::timestamptz, 'infinity'),
                                   coalesce((v_cursor ->> 'i')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
     order by p.created_at desc, p.id desc
     limit p_limit
  )
  select coalesce(json_agg(to_json(page.p) order by (page.p).created_at desc, (page.p).id desc), '[]'::json),
         count(*),
         (array_agg(jsonb_build_object('t', (page.p).created_at, 'i', (page.p).id) order by (page.p).created_at, (page.p).id))[1]
    into v_items, v_count, v_last from page;
  return json_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$function$;

revoke all on function "public"."packages_list"(integer, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_list"(integer, text) to "authenticated", "postgres", "service_role";

-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
--         training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
create or replace function public.packages_list_versions (
  p_package_id  uuid,
  p_status      text    default null::text,
  p_limit       integer default 50,
  p_cursor      text    default null::text,
  p_over_budget boolean default null::boolean
)
  returns json
  language plpgsql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$
declare
  v_before integer;
  v_items json;
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
    select coalesce(json_agg(to_json(page.v) order by (page.v).version_number desc), '[]'::json),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.actual_cost >= v.budget_limit
               and (p_status is null or v.status = p_status)
               and v.version_number < coalesce(v_before, 2147483647)
             order by v.version_number desc limit p_limit) page;
  elsif p_status is null then
    select coalesce(json_agg(to_json(page.v) order by (page.v).version_number desc), '[]'::json),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.version_number < coalesce(v_before, 2147483647)
               and (p_over_budget is null or not coalesce(v.actual_cost >= v.budget_limit, false))
             order by v.version_number desc limit p_limit) page;
  else
    select coalesce(json_agg(to_json(page.v) order by (page.v).version_number desc), '[]'::json),
           count(*), min((page.v).version_number)
      into v_items, v_count, v_last
      from (select v from public.training_package_versions v
             where v.package_id = p_package_id and v.status = p_status and v.version_number < coalesce(v_before, 2147483647)
               and (p_over_budget is null or not coalesce(v.actual_cost >= v.budget_limit, false))
             order by v.version_number desc limit p_limit) page;
  end if;
  return json_build_object('items', v_items, 'next_cursor',
    case when v_count = p_limit then private.cursor_encode(jsonb_build_object('n', v_last)) end);
end
$function$;

revoke all on function "public"."packages_list_versions"(uuid, text, integer, text, boolean) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_list_versions"(uuid, text, integer, text, boolean) to "authenticated", "postgres", "service_role";

-- Rules: training_configs: triggers training_configs_keep_published, training_configs_owner, training_configs_set_updated_at (packages/30_rules.sql); policies training_configs_delete_own, training_configs_insert_own, training_configs_select_own, training_configs_update_own (packages/40_access.sql)
create or replace function public.packages_next_version_number (
  p_package_id uuid
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  AS $function$
  select jsonb_build_object('package_id', p.id, 'next_version_number', p.last_version_number + 1)
    from private.package_visible(p_package_id) p
$function$;

revoke all on function "public"."packages_next_version_number"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_next_version_number"(uuid) to "authenticated", "postgres", "service_role";

-- draft -> published. A second, concurrent publish waits on the row lock, then
-- finds the row no longer a draft: exactly one succeeds, the other gets 409.
-- The trigger stamps published_at/by and the hash; the package's current
-- version follows.
-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_publish_version (
  p_version_id uuid
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  perform private.package_version_must_be_draft(v, 'publish');
  update public.training_package_versions set status = 'published' where id = v.id and status = 'draft' returning * into v;
  if not found then
    perform private.package_version_lost_race(p_version_id, 'publish');
  end if;
  return private.package_version_json(v);
end
$function$;

revoke all on function "public"."packages_publish_version"(uuid) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_publish_version"(uuid) to "authenticated", "postgres", "service_role";

-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_set_deployment (
  p_version_id        uuid,
  p_is_deployed       boolean,
  p_deployment_target text    default null::text,
  p_deployment_url    text    default null::text,
  p_deployment_id     text    default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  return private.package_version_json(private.package_version_set_lifecycle(v.id, jsonb_build_object(
    'is_deployed', p_is_deployed, 'deployment_target', p_deployment_target,
    'deployment_url', p_deployment_url, 'deployment_id', p_deployment_id)));
end
$function$;

revoke all on function "public"."packages_set_deployment"(uuid, boolean, text, text, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_set_deployment"(uuid, boolean, text, text, text) to "authenticated", "postgres", "service_role";

-- Training progress and costs: the keys present in p_changes are set.
-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_set_training (
  p_version_id uuid,
  p_changes    jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "public"."packages_set_training"(uuid, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_set_training"(uuid, jsonb) to "authenticated", "postgres", "service_role";

-- Edit a draft: the keys present in p_changes are set (null clears a nullable
-- field), the others are left alone.
-- Rules: training_package_versions: triggers training_package_versions_after_delete, training_package_versions_after_status_change, training_package_versions_before_delete, training_package_versions_before_insert, training_package_versions_before_update, training_package_versions_cost_alerts (packages/30_rules.sql); policies training_package_versions_delete_own_drafts, training_package_versions_insert_own, training_package_versions_select_own, training_package_versions_update_own_drafts (packages/40_access.sql)
create or replace function public.packages_update_version (
  p_version_id uuid,
  p_changes    jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
  v_unknown text[];
begin
  select array_agg(k order by k) into v_unknown from jsonb_object_keys(p_changes) k
   where k not in ('name', 'change_summary', 'config_snapshot', 'model_snapshot', 'dataset_snapshot', 'estimated_cost', 'budget_limit');
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('unknown fields: %s', array_to_string(v_unknown, ', '));
  end if;
  perform private.package_version_must_be_draft(v, 'edit');
  update public.training_package_versions set
    name = case when p_changes ? 'name' then p_changes ->> 'name' else name end,
    change_summary = case when p_changes ? 'change_summary' then p_changes ->> 'change_summary' else change_summary end,
    config_snapshot = case when p_changes ? 'config_snapshot' then p_changes -> 'config_snapshot' else config_snapshot end,
    model_snapshot = case when p_changes ? 'model_snapshot' then p_changes -> 'model_snapshot' else model_snapshot end,
    dataset_snapshot = case when p_changes ? 'dataset_snapshot' then p_changes -> 'dataset_snapshot' else dataset_snapshot end,
    estimated_cost = case when p_changes ? 'estimated_cost' then (p_changes ->> 'estimated_cost')::numeric else estimated_cost end,
    budget_limit = case when p_changes ? 'budget_limit' then (p_changes ->> 'budget_limit')::numeric else budget_limit end
  where id = v.id and status = 'draft'
  returning * into v;
  if not found then
    perform private.package_version_lost_race(p_version_id, 'edit');
  end if;
  return private.package_version_json(v);
end
$function$;

revoke all on function "public"."packages_update_version"(uuid, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."packages_update_version"(uuid, jsonb) to "authenticated", "postgres", "service_role";
