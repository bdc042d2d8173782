-- packages: private helpers and trigger functions (not callable through the API)
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

create or replace function private.budget_alert_thresholds()
  returns numeric[]
  language sql
  immutable
  set search_path to ''
  AS $function$ select array[0.8, 1.0]::numeric[] $function$;

revoke all on function "private"."budget_alert_thresholds"() from public;

grant execute on function "private"."budget_alert_thresholds"() to "authenticated", "postgres", "service_role";

-- The thresholds a version's cost has reached that its alerts do not cover
-- yet: reached when actual_cost >= threshold × budget_limit; covered by an
-- alert of that threshold recorded at this budget or a higher one (or
-- without a numeric budget, by an older writer). So a lower budget does not
-- repeat an alert, and a higher one re-arms it.
create or replace function private.budget_alerts_due (
  p_sent         jsonb,
  p_actual_cost  numeric,
  p_budget_limit numeric
)
  returns numeric[]
  language sql
  immutable
  set search_path to ''
  AS $function$
  select coalesce(array_agg(t order by t), '{}')
    from unnest(private.budget_alert_thresholds()) t
   where p_actual_cost >= t * p_budget_limit
     and not exists (
       select 1 from jsonb_array_elements(case when jsonb_typeof(p_sent) = 'array' then p_sent else '[]' end) a
        where jsonb_typeof(a) = 'object' and jsonb_typeof(a -> 'threshold') = 'number'
          and (a ->> 'threshold')::numeric = t
          and (coalesce(jsonb_typeof(a -> 'budget_limit'), 'absent') <> 'number'
               or (a ->> 'budget_limit')::numeric >= p_budget_limit))
$function$;

revoke all on function "private"."budget_alerts_due"(jsonb, numeric, numeric) from public;

grant execute on function "private"."budget_alerts_due"(jsonb, numeric, numeric) to "authenticated", "postgres", "service_role";

-- Differences between two JSON values as JSON-pointer operations (RFC 6901
-- paths, RFC 6902 op names): objects key by key, arrays index by index.
create or replace function private.jsonb_diff (
  p_path text,
  p_old  jsonb,
  p_new  jsonb
)
  returns SETOF jsonb
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
declare
  k text;
  i integer;
  v_old_len integer;
  v_new_len integer;
begin
  -- jsonb equality compares numbers by value (1.0 = 1), as the canonical hash does.
  if p_old = p_new then
    return;
  end if;
  if jsonb_typeof(p_old) = 'object' and jsonb_typeof(p_new) = 'object' then
    for k in select key from (select jsonb_object_keys(p_old) key union select jsonb_object_keys(p_new)) keys order by key collate "C" loop
      if not p_new ? k then
        return next jsonb_build_object('op', 'remove', 'path', p_path || '/' || replace(replace(k, '~', '~0'), '/', '~1'), 'old', p_old -> k);
      elsif not p_old ? k then
        return next jsonb_build_object('op', 'add', 'path', p_path || '/' || replace(replace(k, '~', '~0'), '/', '~1'), 'new', p_new -> k);
      else
        return query select * from private.jsonb_diff(p_path || '/' || replace(replace(k, '~', '~0'), '/', '~1'), p_old -> k, p_new -> k);
      end if;
    end loop;
  elsif jsonb_typeof(p_old) = 'array' and jsonb_typeof(p_new) = 'array' then
    v_old_len := jsonb_array_length(p_old);
    v_new_len := jsonb_array_length(p_new);
    for i in 0 .. greatest(v_old_len, v_new_len) - 1 loop
      if i >= v_new_len then
        return next jsonb_build_object('op', 'remove', 'path', p_path || '/' || i, 'old', p_old -> i);
      elsif i >= v_old_len then
        return next jsonb_build_object('op', 'add', 'path', p_path || '/' || i, 'new', p_new -> i);
      else
        return query select * from private.jsonb_diff(p_path || '/' || i, p_old -> i, p_new -> i);
      end if;
    end loop;
  else
    return next jsonb_build_object('op', 'replace', 'path', p_path, 'old', p_old, 'new', p_new);
  end if;
end
$function$;

revoke all on function "private"."jsonb_diff"(text, jsonb, jsonb) from public;

grant execute on function "private"."jsonb_diff"(text, jsonb, jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.package_json (
  p public.training_configs
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$ select to_jsonb(p) $function$;

revoke all on function "private"."package_json"(public.training_configs) from public;

grant execute on function "private"."package_json"(public.training_configs) to "authenticated", "postgres", "service_role";

create or replace function private.package_keep_published()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  if not private.acting_as_service()
     and exists (select 1 from public.training_package_versions v where v.package_id = old.id and v.status <> 'draft') then
    raise exception using errcode = 'PT409',
      message = format('package %s has published versions, which are immutable: it cannot be deleted (archive the versions instead)', old.id);
  end if;
  return old;
end
$function$;

revoke all on function "private"."package_keep_published"() from public;

grant execute on function "private"."package_keep_published"() to "postgres";

-- A package's current version is its highest-numbered published version, and
-- latest_published_version that version's number (0 when none is published).
-- The package row is locked before the new state is read, so two publishes on
-- one package settle on the right answer whichever commits first.
create or replace function private.package_refresh_current_version (
  p_package_id uuid
)
  returns void
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_current public.training_package_versions;
begin
  perform 1 from public.training_configs where id = p_package_id for no key update;
  select * into v_current from public.training_package_versions
   where package_id = p_package_id and status = 'published'
   order by version_number desc limit 1;
  update public.training_configs
     set current_version_id = v_current.id, latest_published_version = coalesce(v_current.version_number, 0)
   where id = p_package_id
     and (current_version_id, latest_published_version) is distinct from (v_current.id, coalesce(v_current.version_number, 0));
end
$function$;

revoke all on function "private"."package_refresh_current_version"(uuid) from public;

grant execute on function "private"."package_refresh_current_version"(uuid) to "postgres";

create or replace function private.package_version_after_delete()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  update public.training_configs set version_count = version_count - 1 where id = old.package_id;
  return null;
end
$function$;

revoke all on function "private"."package_version_after_delete"() from public;

grant execute on function "private"."package_version_after_delete"() to "postgres";

create or replace function private.package_version_after_status_change()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  perform private.package_refresh_current_version(new.package_id);
  return null;
end
$function$;

revoke all on function "private"."package_version_after_status_change"() from public;

grant execute on function "private"."package_version_after_status_change"() to "postgres";

-- Only drafts are deleted, by any role; published and archived versions go
-- only with their package (the cascade, when the package row is already gone).
create or replace function private.package_version_before_delete()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
begin
  if old.status <> 'draft' and exists (select 1 from public.training_configs where id = old.package_id) then
    raise exception using errcode = 'PT409',
      message = format('version %s is %s: only drafts can be deleted', old.version_number, old.status);
  end if;
  return old;
end
$function$;

revoke all on function "private"."package_version_before_delete"() from public;

grant execute on function "private"."package_version_before_delete"() to "postgres";

-- Numbering: the package row is locked while its counter moves, so concurrent
-- drafts on one package get distinct consecutive numbers; version_count moves
-- with it. A number given by the writer must be the one the counter hands out.
create or replace function private.package_version_before_insert()
  returns trigger
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_number integer;
  v_owner uuid;
  v_package_name text;
begin
  if new.status is distinct from 'draft' then
    raise exception using errcode = 'PT409', message = 'a version is created as a draft; publish it afterwards';
  end if;
  -- An authenticated writer only numbers their own package (RLS would reject
  -- the row anyway; this keeps another user's package from being revealed).
  update public.training_configs
     set last_version_number = last_version_number + 1, version_count = version_count + 1
   where id = new.package_id
     and (auth.role() is distinct from 'authenticated' or user_id = auth.uid())
  returning last_version_number, user_id, name into v_number, v_owner, v_package_name;
  if not found then
    raise exception using errcode = 'PT404', message = format('package %s not found', new.package_id);
  end if;
  if new.version_number is not null and new.version_number <> v_number then
    raise exception using errcode = 'PT409',
      message = format('version numbers are assigned by the database: the next one for this package is %s, not %s', v_number, new.version_number);
  end if;
  new.version_number := v_number;
  new.created_by := coalesce(new.created_by, v_owner);
  new.name := coalesce(new.name, left(v_package_name, 190) || ' v' || v_number);
  new.created_at := now();
  new.updated_at := now();
  new.published_at := null;
  new.published_by := null;
  new.snapshot_sha256 := null;
  return new;
end
$function$;

revoke all on function "private"."package_version_before_insert"() from public;

grant execute on function "private"."package_version_before_insert"() to "postgres";

-- Lifecycle and immutability, for every role (the service role included):
--   draft -> published (the trigger stamps published_at/by and the hash),
--   published -> archived; nothing else changes status.
--   Once published, content is frozen; deployment, training and cost fields may move.
--   Training: not_started -> queued -> running -> completed | failed | cancelled,
--   queued -> cancelled, failed | cancelled -> queued (a retry).
create or replace function private.package_version_before_update()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
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
      -- A client may name the publisher (seed 004's front end sends
      -- published_by) only as itself; the time is always the database's.
      if not private.acting_as_service() and new.published_by is distinct from auth.uid() and new.published_by is not null then
        raise exception using errcode = '42501',
          message = format('published_by must be the publishing user (%s), not %s', auth.uid(), new.published_by);
      end if;
      new.published_at := now();
      new.published_by := case when private.acting_as_service() then coalesce(new.published_by, auth.uid()) else auth.uid() end;
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
$function$;

revoke all on function "private"."package_version_before_update"() from public;

grant execute on function "private"."package_version_before_update"() to "postgres";

-- cost_alerts_sent is the database's: whatever a writer sends (any role) is
-- replaced by what was recorded, and an alert is appended for each threshold
-- the cost has reached that no alert covers yet (private.budget_alerts_due):
-- {"threshold", "actual_cost", "budget_limit", "sent_at"}. An alert stays
-- when the cost or the budget moves afterwards: it was sent.
create or replace function private.package_version_cost_alerts()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_threshold numeric;
begin
  new.cost_alerts_sent := case when tg_op = 'UPDATE' then old.cost_alerts_sent else '[]'::jsonb end;
  foreach v_threshold in array private.budget_alerts_due(new.cost_alerts_sent, new.actual_cost, new.budget_limit) loop
    new.cost_alerts_sent := new.cost_alerts_sent || jsonb_build_array(jsonb_build_object(
      'threshold', v_threshold, 'actual_cost', new.actual_cost, 'budget_limit', new.budget_limit,
      'sent_at', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')));
  end loop;
  return new;
end
$function$;

revoke all on function "private"."package_version_cost_alerts"() from public;

grant execute on function "private"."package_version_cost_alerts"() to "postgres";

create or replace function private.package_version_json (
  v public.training_package_versions
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  set "TimeZone" to 'UTC'
  AS $function$ select to_jsonb(v) $function$;

revoke all on function "private"."package_version_json"(public.training_package_versions) from public;

grant execute on function "private"."package_version_json"(public.training_package_versions) to "authenticated", "postgres", "service_role";

-- A change guarded by "where status = 'draft'" touched nothing: someone else
-- got there first. Gone is 404; changed (published, archived) is 409.
create or replace function private.package_version_lost_race (
  p_version_id uuid,
  p_action     text
)
  returns void
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  perform private.package_version_must_be_draft(v, p_action);
  raise exception using errcode = 'PT409', message = format('version %s changed while it was being %s; try again', v.version_number, p_action);
end
$function$;

revoke all on function "private"."package_version_lost_race"(uuid, text) from public;

grant execute on function "private"."package_version_lost_race"(uuid, text) to "authenticated", "postgres", "service_role";

create or replace function private.package_version_must_be_draft (
  v        public.training_package_versions,
  p_action text
)
  returns void
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
begin
  if v.status <> 'draft' then
    raise exception using errcode = 'PT409',
      message = format('cannot %s version %s: it is %s, and only drafts can be changed', p_action, v.version_number, v.status),
      detail = format('current status: %s', v.status);
  end if;
end
$function$;

revoke all on function "private"."package_version_must_be_draft"(public.training_package_versions, text) from public;

grant execute on function "private"."package_version_must_be_draft"(public.training_package_versions, text) to "authenticated", "postgres", "service_role";

-- Lifecycle fields of a version the caller owns, in any status: the RLS update
-- policy covers drafts only, so this runs as the owner of the table and checks
-- the caller itself. The immutability trigger still applies.
create or replace function private.package_version_set_lifecycle (
  p_version_id uuid,
  p_changes    jsonb
)
  returns public.training_package_versions
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_uid uuid := auth.uid();
  v public.training_package_versions;
begin
  select * into v from public.training_package_versions where id = p_version_id for no key update;
  if not found or (auth.role() is distinct from 'service_role' and v.created_by is distinct from v_uid) then
    raise exception using errcode = 'PT404', message = format('version %s not found', p_version_id);
  end if;
  -- Checked under the row lock, so of two concurrent archives one gets 409.
  if p_changes ->> 'status' = 'archived' and v.status <> 'published' then
    raise exception using errcode = 'PT409',
      message = format('cannot archive version %s: it is %s, and only published versions are archived%s', v.version_number, v.status,
                       case when v.status = 'draft' then ' (delete a draft instead)' else '' end),
      detail = format('current status: %s', v.status);
  end if;
  update public.training_package_versions set
    status = case when p_changes ? 'status' then p_changes ->> 'status' else status end,
    is_deployed = case when p_changes ? 'is_deployed' then (p_changes ->> 'is_deployed')::boolean else is_deployed end,
    deployment_target = case when p_changes ? 'deployment_target' then p_changes ->> 'deployment_target' else deployment_target end,
    deployment_url = case when p_changes ? 'deployment_url' then p_changes ->> 'deployment_url' else deployment_url end,
    deployment_id = case when p_changes ? 'deployment_id' then p_changes ->> 'deployment_id' else deployment_id end,
    training_status = case when p_changes ? 'training_status' then p_changes ->> 'training_status' else training_status end,
    training_metrics = case when p_changes ? 'training_metrics' then p_changes -> 'training_metrics' else training_metrics end,
    estimated_cost = case when p_changes ? 'estimated_cost' then (p_changes ->> 'estimated_cost')::numeric else estimated_cost end,
    actual_cost = case when p_changes ? 'actual_cost' then (p_changes ->> 'actual_cost')::numeric else actual_cost end,
    budget_limit = case when p_changes ? 'budget_limit' then (p_changes ->> 'budget_limit')::numeric else budget_limit end,
    cost_alerts_sent = case when p_changes ? 'cost_alerts_sent' then p_changes -> 'cost_alerts_sent' else cost_alerts_sent end
  where id = v.id
  returning * into v;
  return v;
end
$function$;

revoke all on function "private"."package_version_set_lifecycle"(uuid, jsonb) from public;

grant execute on function "private"."package_version_set_lifecycle"(uuid, jsonb) to "authenticated", "postgres", "service_role";

-- The version as the caller sees it: 404 when it cannot (another user's
-- version is not revealed). Not locked: SELECT ... FOR UPDATE would also apply
-- the drafts-only update policy and turn "published" into "not found".
create or replace function private.package_version_visible (
  p_version_id uuid
)
  returns public.training_package_versions
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  v public.training_package_versions;
begin
  select * into v from public.training_package_versions where id = p_version_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('version %s not found', p_version_id);
  end if;
  return v;
end
$function$;

revoke all on function "private"."package_version_visible"(uuid) from public;

grant execute on function "private"."package_version_visible"(uuid) to "authenticated", "postgres", "service_role";

create or replace function private.package_visible (
  p_package_id uuid
)
  returns public.training_configs
  language plpgsql
  stable
  set search_path to ''
  AS $function$
declare
  p public.training_configs;
begin
  select * into p from public.training_configs where id = p_package_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('package %s not found', p_package_id);
  end if;
  return p;
end
$function$;

revoke all on function "private"."package_visible"(uuid) from public;

grant execute on function "private"."package_visible"(uuid) to "authenticated", "postgres", "service_role";

create or replace function private.set_updated_at_column()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
begin
  new.updated_at := now();
  return new;
end
$function$;

revoke all on function "private"."set_updated_at_column"() from public;

grant execute on function "private"."set_updated_at_column"() to "postgres";

create or replace function private.snapshot_sha256 (
  config_snapshot  jsonb,
  model_snapshot   jsonb,
  dataset_snapshot jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select encode(sha256(convert_to(private.canonical_json(jsonb_build_object(
    'config_snapshot', config_snapshot, 'model_snapshot', model_snapshot, 'dataset_snapshot', dataset_snapshot)), 'UTF8')), 'hex')
$function$;

revoke all on function "private"."snapshot_sha256"(jsonb, jsonb, jsonb) from public;

grant execute on function "private"."snapshot_sha256"(jsonb, jsonb, jsonb) to "authenticated", "postgres", "service_role";

-- A package inserted without an owner (seed 004's table has no default for
-- user_id) belongs to whoever inserts it.
create or replace function private.training_configs_owner()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
begin
  new.user_id := coalesce(new.user_id, auth.uid());
  return new;
end
$function$;

revoke all on function "private"."training_configs_owner"() from public;

grant execute on function "private"."training_configs_owner"() to "postgres";
