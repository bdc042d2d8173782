-- Training packages and their versions: draft -> published -> archived,
-- numbered 1, 2, 3 ... per package and never reused, a published version's
-- content immutable for every role. Every rule is held here (constraints,
-- column grants, RLS, triggers), so a front end writing the tables directly
-- through supabase.from(...) cannot break one; the package functions only
-- add 404/409 answers and the JSON shapes.

-- ---------------------------------------------------------------------------
-- The adoption ledger. A project may already have some tables that this and
-- later migrations create "if not exists" (training_configs here;
-- user_profiles, documents and chunks in 20261125000000). Before touching such
-- a table a migration records what it found: no table (the migration creates
-- it), or the table's state (columns, constraints, indexes, triggers,
-- policies, RLS, privileges). The rollback then undoes exactly that
-- migration: it drops a table it created, and strips an adopted table back to
-- the recorded state, keeping the table and its rows.

create table if not exists private.adopted_tables (
  migration text not null,
  table_name text not null,
  existed boolean not null,
  state jsonb,
  recorded_at timestamptz not null default now(),
  primary key (migration, table_name)
);
revoke all on table private.adopted_tables from public, anon, authenticated, service_role;

-- What a rollback must restore of a table: its parts by name and by
-- definition (so a part this project replaced under the same name comes
-- back as it was), its RLS switches and who besides its owner holds which
-- privilege (table and columns).
create or replace function private.table_state(p_table regclass) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
    'columns', coalesce((select jsonb_agg(a.attname::text order by a.attnum) from pg_catalog.pg_attribute a
                          where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'),
    'constraints', coalesce((select jsonb_agg(k.conname::text order by k.conname) from pg_catalog.pg_constraint k
                              where k.conrelid = c.oid), '[]'),
    'indexes', coalesce((select jsonb_agg(x.relname::text order by x.relname) from pg_catalog.pg_index i
                          join pg_catalog.pg_class x on x.oid = i.indexrelid where i.indrelid = c.oid), '[]'),
    'triggers', coalesce((select jsonb_agg(t.tgname::text order by t.tgname) from pg_catalog.pg_trigger t
                           where t.tgrelid = c.oid and not t.tgisinternal), '[]'),
    'policies', coalesce((select jsonb_agg(p.polname::text order by p.polname) from pg_catalog.pg_policy p
                           where p.polrelid = c.oid), '[]'),
    'rls', c.relrowsecurity,
    'force_rls', c.relforcerowsecurity,
    'privileges', coalesce((select jsonb_agg(jsonb_build_array(
                              case g.grantee when 0 then 'public' else g.grantee::regrole::text end, g.privilege_type, g.is_grantable))
                              from pg_catalog.aclexplode(c.relacl) g where g.grantee <> c.relowner), '[]'),
    'column_privileges', coalesce((select jsonb_agg(jsonb_build_array(a.attname::text,
                              case g.grantee when 0 then 'public' else g.grantee::regrole::text end, g.privilege_type, g.is_grantable))
                              from pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) g
                             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and g.grantee <> c.relowner), '[]'),
    'definitions', jsonb_build_object(
      'constraints', coalesce((select jsonb_object_agg(k.conname, pg_catalog.pg_get_constraintdef(k.oid))
                                 from pg_catalog.pg_constraint k where k.conrelid = c.oid), '{}'),
      'indexes', coalesce((select jsonb_object_agg(x.relname, pg_catalog.pg_get_indexdef(i.indexrelid))
                             from pg_catalog.pg_index i join pg_catalog.pg_class x on x.oid = i.indexrelid
                            where i.indrelid = c.oid
                              and not exists (select 1 from pg_catalog.pg_constraint k where k.conindid = i.indexrelid)), '{}'),
      'triggers', coalesce((select jsonb_object_agg(t.tgname, pg_catalog.pg_get_triggerdef(t.oid))
                              from pg_catalog.pg_trigger t where t.tgrelid = c.oid and not t.tgisinternal), '{}'),
      'policies', coalesce((select jsonb_object_agg(p.polname, format('create policy %I on %s as %s for %s to %s%s%s',
                              p.polname, c.oid::regclass, case when p.polpermissive then 'permissive' else 'restrictive' end,
                              case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                                            when 'd' then 'delete' else 'all' end,
                              case when p.polroles = '{0}' then 'public'
                                   else (select string_agg(r.oid::regrole::text, ', ' order by r.rolname) from pg_catalog.pg_roles r
                                          where r.oid = any (p.polroles)) end,
                              ' using (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')',
                              ' with check (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) || ')'))
                              from pg_catalog.pg_policy p where p.polrelid = c.oid), '{}')))
  from pg_catalog.pg_class c where c.oid = p_table
$$;

-- Called by a migration before it creates or alters an adoptable table. A
-- second run of the migration finds its entry and records nothing new.
create or replace function private.adoption_begin(p_migration text, p_table text) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_table regclass := pg_catalog.to_regclass(p_table);
  v_policies text;
begin
  insert into private.adopted_tables (migration, table_name, existed, state)
  values (p_migration, p_table, v_table is not null, case when v_table is not null then private.table_state(v_table) end)
  on conflict (migration, table_name) do nothing;
  -- The table's own policies stay; permissive ones add to this project's (a row either allows is allowed).
  if found and v_table is not null then
    select string_agg(quote_ident(p.polname), ', ' order by p.polname) into v_policies from pg_catalog.pg_policy p where p.polrelid = v_table;
    if v_policies is not null then
      raise notice 'adopting %: its own policies stay beside this project''s, and permissive ones add up: %', p_table, v_policies;
    end if;
  end if;
end
$$;

-- Called by a rollback once the objects that depend on the table are gone:
-- drops a table the migration created; strips an adopted one back to its
-- recorded state (the rows stay). Without an entry (a database that applied
-- the migration before the ledger existed) it cannot tell the two apart, so
-- it refuses rather than guess.
create or replace function private.adoption_undo(p_migration text, p_table text) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_entry private.adopted_tables;
  v_table regclass := pg_catalog.to_regclass(p_table);
  v_now jsonb;
  v_defs jsonb;
  v_name text;
  v_def text;
  v_grant jsonb;
begin
  select * into v_entry from private.adopted_tables where migration = p_migration and table_name = p_table;
  if not found then
    raise exception using errcode = '55000',
      message = format('migration %s has no adoption record for %s: applied before the adoption ledger existed, it cannot tell whether it created the table or found it, so it will not roll it back', p_migration, p_table),
      hint = 'undo the migration''s objects on this table by hand';
  end if;
  if v_table is not null and not v_entry.existed then
    execute format('drop table %s', v_table);
  elsif v_table is not null then
    v_now := private.table_state(v_table);
    for v_name in select jsonb_array_elements_text(v_now -> 'policies') except select jsonb_array_elements_text(v_entry.state -> 'policies') loop
      execute format('drop policy %I on %s', v_name, v_table);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'triggers') except select jsonb_array_elements_text(v_entry.state -> 'triggers') loop
      execute format('drop trigger %I on %s', v_name, v_table);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'constraints') except select jsonb_array_elements_text(v_entry.state -> 'constraints') loop
      execute format('alter table %s drop constraint if exists %I', v_table, v_name);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'indexes') except select jsonb_array_elements_text(v_entry.state -> 'indexes') loop
      execute format('drop index if exists %I.%I', (select n.nspname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = v_table), v_name);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'columns') except select jsonb_array_elements_text(v_entry.state -> 'columns') loop
      execute format('alter table %s drop column %I', v_table, v_name);
    end loop;
    -- Parts it replaced under the same name come back as they were.
    v_defs := private.table_state(v_table) -> 'definitions';
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,constraints}') loop
      if v_defs #>> array['constraints', v_name] is distinct from v_def then
        execute format('alter table %s drop constraint if exists %I', v_table, v_name);
        execute format('alter table %s add constraint %I %s', v_table, v_name, v_def);
      end if;
    end loop;
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,indexes}') loop
      if v_defs #>> array['indexes', v_name] is distinct from v_def then
        execute format('drop index if exists %I.%I', (select n.nspname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = v_table), v_name);
        execute v_def;
      end if;
    end loop;
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,triggers}') loop
      if v_defs #>> array['triggers', v_name] is distinct from v_def then
        execute format('drop trigger if exists %I on %s', v_name, v_table);
        execute v_def;
      end if;
    end loop;
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,policies}') loop
      if v_defs #>> array['policies', v_name] is distinct from v_def then
        execute format('drop policy if exists %I on %s', v_name, v_table);
        execute v_def;
      end if;
    end loop;
    execute format('alter table %s %s row level security', v_table, case when (v_entry.state ->> 'rls')::boolean then 'enable' else 'disable' end);
    execute format('alter table %s %s row level security', v_table, case when (v_entry.state ->> 'force_rls')::boolean then 'force' else 'no force' end);
    -- Privileges: whoever holds any now loses them, then the recorded ones come back.
    for v_name in select g ->> 0 from jsonb_array_elements(v_now -> 'privileges') g
                  union select g ->> 1 from jsonb_array_elements(v_now -> 'column_privileges') g loop
      execute format('revoke all on table %s from %s', v_table, v_name);
    end loop;
    for v_grant in select jsonb_array_elements(v_entry.state -> 'privileges') loop
      execute format('grant %s on table %s to %s%s', v_grant ->> 1, v_table,
        v_grant ->> 0,
        case when (v_grant ->> 2)::boolean then ' with grant option' else '' end);
    end loop;
    for v_grant in select jsonb_array_elements(v_entry.state -> 'column_privileges') loop
      execute format('grant %s (%I) on table %s to %s%s', v_grant ->> 2, v_grant ->> 0, v_table,
        v_grant ->> 1,
        case when (v_grant ->> 3)::boolean then ' with grant option' else '' end);
    end loop;
  end if;
  delete from private.adopted_tables where migration = p_migration and table_name = p_table;
end
$$;

revoke all on function private.table_state(regclass), private.adoption_begin(text, text), private.adoption_undo(text, text)
  from public, anon, authenticated, service_role;

select private.adoption_begin('20261124000000', 'public.training_configs');

-- Versions are not adopted: a training_package_versions from another system
-- (seed 004's own versions migration) has neither this one's columns nor its
-- keys, and comes with counting triggers of its own.
do $$
begin
  if pg_catalog.to_regclass('public.training_package_versions') is not null and not exists (
       select 1 from pg_catalog.pg_attribute
        where attrelid = pg_catalog.to_regclass('public.training_package_versions') and attname = 'snapshot_sha256' and not attisdropped) then
    raise exception using errcode = '55000',
      message = 'public.training_package_versions exists already, from another system: this project does not adopt it',
      hint = 'rename it (alter table public.training_package_versions rename to training_package_versions_before) and move its rows in after applying';
  end if;
end
$$;

-- ---------------------------------------------------------------------------
-- Packages. A project may already have training_configs: create it only if
-- missing and add the version-tracking columns if they are not there.

create table if not exists public.training_configs (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  template_type text,
  config_json jsonb not null default '{}'::jsonb,
  user_id uuid default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

alter table public.training_configs
  add column if not exists current_version_id uuid,
  add column if not exists version_count integer not null default 0,
  add column if not exists latest_published_version integer not null default 0,
  -- The numbering counter: the last number handed out, never decremented, so
  -- a deleted draft's number is not given again.
  add column if not exists last_version_number integer not null default 0;

alter table public.training_configs drop constraint if exists training_configs_name_length;
alter table public.training_configs add constraint training_configs_name_length
  check (length(name) between 1 and 200);
alter table public.training_configs drop constraint if exists training_configs_template_type_length;
alter table public.training_configs add constraint training_configs_template_type_length
  check (length(template_type) between 1 and 100);
alter table public.training_configs drop constraint if exists training_configs_config_is_object;
alter table public.training_configs add constraint training_configs_config_is_object
  check (jsonb_typeof(config_json) = 'object');
alter table public.training_configs drop constraint if exists training_configs_counters_valid;
alter table public.training_configs add constraint training_configs_counters_valid
  check (version_count >= 0 and version_count <= last_version_number
         and latest_published_version between 0 and last_version_number);

-- ---------------------------------------------------------------------------
-- Versions.

create table if not exists public.training_package_versions (
  id uuid primary key default gen_random_uuid(),
  package_id uuid not null references public.training_configs (id) on delete cascade,
  version_number integer not null constraint training_package_versions_number_positive check (version_number > 0),
  name text not null constraint training_package_versions_name_length check (length(name) between 1 and 200),
  status text not null default 'draft'
    constraint training_package_versions_status_valid check (status in ('draft', 'published', 'archived')),
  created_at timestamptz not null default now(),
  created_by uuid default auth.uid(),
  published_at timestamptz,
  published_by uuid,
  updated_at timestamptz not null default now(),
  config_snapshot jsonb not null default '{}'::jsonb
    constraint training_package_versions_config_is_object check (jsonb_typeof(config_snapshot) = 'object'),
  model_snapshot jsonb not null default '{}'::jsonb
    constraint training_package_versions_model_is_object check (jsonb_typeof(model_snapshot) = 'object'),
  dataset_snapshot jsonb not null default '[]'::jsonb
    constraint training_package_versions_dataset_is_array_or_object check (jsonb_typeof(dataset_snapshot) in ('array', 'object')),
  change_summary text constraint training_package_versions_change_summary_length check (length(change_summary) <= 10000),
  parent_version_id uuid,
  is_deployed boolean not null default false,
  deployment_target text
    constraint training_package_versions_deployment_target_valid check (deployment_target in ('local', 'hf_space')),
  deployment_url text constraint training_package_versions_deployment_url_http check (private.is_http_url(deployment_url)),
  deployment_id text constraint training_package_versions_deployment_id_length check (length(deployment_id) between 1 and 200),
  training_status text not null default 'not_started'
    constraint training_package_versions_training_status_valid
      check (training_status in ('not_started', 'queued', 'running', 'completed', 'failed', 'cancelled')),
  training_started_at timestamptz,
  training_completed_at timestamptz,
  training_metrics jsonb
    constraint training_package_versions_training_metrics_is_object check (jsonb_typeof(training_metrics) = 'object'),
  estimated_cost numeric(10, 2) constraint training_package_versions_estimated_cost_not_negative check (estimated_cost >= 0),
  actual_cost numeric(10, 2) constraint training_package_versions_actual_cost_not_negative check (actual_cost >= 0),
  budget_limit numeric(10, 2) constraint training_package_versions_budget_limit_not_negative check (budget_limit >= 0),
  cost_alerts_sent jsonb not null default '[]'::jsonb
    constraint training_package_versions_cost_alerts_is_array check (jsonb_typeof(cost_alerts_sent) = 'array'),
  -- sha256 (hex) of the canonical JSON of the three snapshots, set at publish.
  snapshot_sha256 text constraint training_package_versions_sha256_hex check (snapshot_sha256 ~ '^[0-9a-f]{64}$'),
  constraint training_package_versions_package_number_key unique (package_id, version_number),
  -- Target of the parent and current-version keys below: both stay inside one package.
  constraint training_package_versions_package_id_id_key unique (package_id, id),
  constraint training_package_versions_parent_same_package
    foreign key (package_id, parent_version_id) references public.training_package_versions (package_id, id),
  constraint training_package_versions_not_own_parent check (parent_version_id <> id),
  constraint training_package_versions_published_fields
    check ((status = 'draft') = (published_at is null) and (status = 'draft') = (snapshot_sha256 is null)),
  constraint training_package_versions_deployed_has_target check (not is_deployed or deployment_target is not null),
  constraint training_package_versions_training_times
    check (training_completed_at >= training_started_at)
);

-- A package's current version is one of its own versions.
alter table public.training_configs drop constraint if exists training_configs_current_version_fkey;
alter table public.training_configs add constraint training_configs_current_version_fkey
  foreign key (id, current_version_id) references public.training_package_versions (package_id, id)
  on delete set null (current_version_id);

-- Indexes. "By package, version desc" is the unique (package_id, version_number)
-- index read backwards; a second copy would only slow writes.
create index if not exists training_package_versions_status_idx
  on public.training_package_versions (package_id, status, version_number desc);
create index if not exists training_package_versions_created_by_idx on public.training_package_versions (created_by);
create index if not exists training_package_versions_deployment_idx
  on public.training_package_versions (deployment_target, deployment_id) where is_deployed;
create index if not exists training_package_versions_training_status_idx
  on public.training_package_versions (training_status);
create index if not exists training_package_versions_parent_idx
  on public.training_package_versions (parent_version_id, package_id);
create index if not exists training_package_versions_config_snapshot_idx
  on public.training_package_versions using gin (config_snapshot);
create index if not exists training_package_versions_model_snapshot_idx
  on public.training_package_versions using gin (model_snapshot);
create index if not exists training_package_versions_dataset_snapshot_idx
  on public.training_package_versions using gin (dataset_snapshot);
create index if not exists training_configs_user_created_idx on public.training_configs (user_id, created_at desc, id desc);
-- training_configs (id, current_version_id) needs no index of its own: the
-- primary key finds the row when a version goes.

-- ---------------------------------------------------------------------------
-- Canonical JSON and the snapshot hash. Canonical form: no whitespace, object
-- keys sorted by code point, numbers in plain decimal without trailing zeros
-- (1.50 -> 1.5, 1e3 -> 1000), strings and literals as JSON writes them. The
-- same content always gives the same text, whoever wrote it and however.

create or replace function private.canonical_json(j jsonb) returns text
language sql immutable strict parallel safe
set search_path = ''
as $$
  select case jsonb_typeof(j)
    when 'object' then '{' || coalesce((
      select string_agg(to_jsonb(e.key)::text || ':' || private.canonical_json(e.value), ',' order by e.key collate "C")
        from jsonb_each(j) e), '') || '}'
    when 'array' then '[' || coalesce((
      select string_agg(private.canonical_json(e.value), ',' order by e.ord)
        from jsonb_array_elements(j) with ordinality e(value, ord)), '') || ']'
    when 'number' then trim_scale(j::text::numeric)::text
    else j::text
  end
$$;

create or replace function private.snapshot_sha256(config_snapshot jsonb, model_snapshot jsonb, dataset_snapshot jsonb)
returns text
language sql immutable parallel safe
set search_path = ''
as $$
  select encode(sha256(convert_to(private.canonical_json(jsonb_build_object(
    'config_snapshot', config_snapshot, 'model_snapshot', model_snapshot, 'dataset_snapshot', dataset_snapshot)), 'UTF8')), 'hex')
$$;

-- ---------------------------------------------------------------------------
-- Triggers. The ones that write training_configs' tracking columns are
-- security definer: no client role may write those columns itself.

create or replace function private.set_updated_at_column() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create or replace trigger training_configs_set_updated_at
  before update on public.training_configs
  for each row execute function private.set_updated_at_column();

-- Numbering: the package row is locked while its counter moves, so concurrent
-- drafts on one package get distinct consecutive numbers; version_count moves
-- with it. A number given by the writer must be the one the counter hands out.
create or replace function private.package_version_before_insert() returns trigger
language plpgsql security definer
set search_path = ''
as $$
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
$$;

create or replace trigger training_package_versions_before_insert
  before insert on public.training_package_versions
  for each row execute function private.package_version_before_insert();

-- Lifecycle and immutability, for every role (the service role included):
--   draft -> published (the trigger stamps published_at/by and the hash),
--   published -> archived; nothing else changes status.
--   Once published, content is frozen; deployment, training and cost fields may move.
--   Training: not_started -> queued -> running -> completed | failed | cancelled,
--   queued -> cancelled, failed | cancelled -> queued (a retry).
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

create or replace trigger training_package_versions_before_update
  before update on public.training_package_versions
  for each row execute function private.package_version_before_update();

-- A package's current version is its highest-numbered published version, and
-- latest_published_version that version's number (0 when none is published).
-- The package row is locked before the new state is read, so two publishes on
-- one package settle on the right answer whichever commits first.
create or replace function private.package_refresh_current_version(p_package_id uuid) returns void
language plpgsql security definer
set search_path = ''
as $$
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
$$;

create or replace function private.package_version_after_status_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.package_refresh_current_version(new.package_id);
  return null;
end
$$;

create or replace trigger training_package_versions_after_status_change
  after update of status on public.training_package_versions
  for each row when (old.status is distinct from new.status)
  execute function private.package_version_after_status_change();

-- Only drafts are deleted, by any role; published and archived versions go
-- only with their package (the cascade, when the package row is already gone).
create or replace function private.package_version_before_delete() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if old.status <> 'draft' and exists (select 1 from public.training_configs where id = old.package_id) then
    raise exception using errcode = 'PT409',
      message = format('version %s is %s: only drafts can be deleted', old.version_number, old.status);
  end if;
  return old;
end
$$;

create or replace trigger training_package_versions_before_delete
  before delete on public.training_package_versions
  for each row execute function private.package_version_before_delete();

create or replace function private.package_version_after_delete() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.training_configs set version_count = version_count - 1 where id = old.package_id;
  return null;
end
$$;

create or replace trigger training_package_versions_after_delete
  after delete on public.training_package_versions
  for each row execute function private.package_version_after_delete();

-- ---------------------------------------------------------------------------
-- RLS and grants. Users see and change only their own packages and versions;
-- they update and delete only drafts (publishing is the update of a draft to
-- published). Lifecycle changes of published versions go through
-- private.package_version_set_lifecycle, which checks the owner itself.
-- Column grants keep counters, numbers and publish stamps out of clients' hands.

alter table public.training_configs enable row level security;

drop policy if exists training_configs_select_own on public.training_configs;
create policy training_configs_select_own on public.training_configs
  for select to authenticated using (user_id = (select auth.uid()));
drop policy if exists training_configs_insert_own on public.training_configs;
create policy training_configs_insert_own on public.training_configs
  for insert to authenticated with check (user_id = (select auth.uid()));
drop policy if exists training_configs_update_own on public.training_configs;
create policy training_configs_update_own on public.training_configs
  for update to authenticated using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
drop policy if exists training_configs_delete_own on public.training_configs;
create policy training_configs_delete_own on public.training_configs
  for delete to authenticated using (user_id = (select auth.uid()));

revoke all on table public.training_configs from anon, authenticated;
grant select, delete on table public.training_configs to authenticated;
grant insert (id, name, template_type, config_json, user_id) on table public.training_configs to authenticated;
grant update (name, template_type, config_json) on table public.training_configs to authenticated;
grant all on table public.training_configs to service_role;

alter table public.training_package_versions enable row level security;

drop policy if exists training_package_versions_select_own on public.training_package_versions;
create policy training_package_versions_select_own on public.training_package_versions
  for select to authenticated using (created_by = (select auth.uid()));
drop policy if exists training_package_versions_insert_own on public.training_package_versions;
create policy training_package_versions_insert_own on public.training_package_versions
  for insert to authenticated with check (
    created_by = (select auth.uid())
    and exists (select 1 from public.training_configs p where p.id = package_id and p.user_id = (select auth.uid())));
drop policy if exists training_package_versions_update_own_drafts on public.training_package_versions;
create policy training_package_versions_update_own_drafts on public.training_package_versions
  for update to authenticated
  using (created_by = (select auth.uid()) and status = 'draft')
  with check (created_by = (select auth.uid()) and status in ('draft', 'published'));
drop policy if exists training_package_versions_delete_own_drafts on public.training_package_versions;
create policy training_package_versions_delete_own_drafts on public.training_package_versions
  for delete to authenticated using (created_by = (select auth.uid()) and status = 'draft');

revoke all on table public.training_package_versions from anon, authenticated;
grant select, delete on table public.training_package_versions to authenticated;
grant insert (id, package_id, version_number, name, created_by, config_snapshot, model_snapshot, dataset_snapshot,
              change_summary, parent_version_id, is_deployed, deployment_target, deployment_url, deployment_id,
              training_metrics, estimated_cost, budget_limit)
  on table public.training_package_versions to authenticated;
grant update (name, status, config_snapshot, model_snapshot, dataset_snapshot, change_summary, parent_version_id,
              is_deployed, deployment_target, deployment_url, deployment_id, training_status, training_started_at,
              training_completed_at, training_metrics, estimated_cost, actual_cost, budget_limit, cost_alerts_sent)
  on table public.training_package_versions to authenticated;
grant all on table public.training_package_versions to service_role;

-- ---------------------------------------------------------------------------
-- Keyset paging helpers shared by the list functions from here on: a page
-- size check and the (created_at, id) cursor {"t": ..., "i": ...}.

create or replace function private.check_page_limit(p_limit integer, p_max integer default 1000) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if p_limit is null or p_limit not between 1 and p_max then
    raise exception using errcode = '22023', message = format('limit must be between 1 and %s', p_max);
  end if;
end
$$;

create or replace function private.time_cursor_decode(p_cursor text) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
  v jsonb;
begin
  if p_cursor is null then
    return null;
  end if;
  v := private.cursor_decode(p_cursor);
  if v ->> 't' is null or v ->> 'i' is null then
    raise exception using errcode = '22023', message = 'invalid cursor';
  end if;
  return v;
end
$$;

-- ---------------------------------------------------------------------------
-- Operations. Security invoker: RLS applies as the caller, so another user's
-- package or version is simply not found (404, its existence not revealed).

create or replace function private.package_json(p public.training_configs) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$ select to_jsonb(p) $$;

create or replace function private.package_version_json(v public.training_package_versions) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$ select to_jsonb(v) $$;

create or replace function private.package_visible(p_package_id uuid) returns public.training_configs
language plpgsql stable
set search_path = ''
as $$
declare
  p public.training_configs;
begin
  select * into p from public.training_configs where id = p_package_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('package %s not found', p_package_id);
  end if;
  return p;
end
$$;

-- The version as the caller sees it: 404 when it cannot (another user's
-- version is not revealed). Not locked: SELECT ... FOR UPDATE would also apply
-- the drafts-only update policy and turn "published" into "not found".
create or replace function private.package_version_visible(p_version_id uuid)
returns public.training_package_versions
language plpgsql stable
set search_path = ''
as $$
declare
  v public.training_package_versions;
begin
  select * into v from public.training_package_versions where id = p_version_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('version %s not found', p_version_id);
  end if;
  return v;
end
$$;

-- A change guarded by "where status = 'draft'" touched nothing: someone else
-- got there first. Gone is 404; changed (published, archived) is 409.
create or replace function private.package_version_lost_race(p_version_id uuid, p_action text) returns void
language plpgsql
set search_path = ''
as $$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  perform private.package_version_must_be_draft(v, p_action);
  raise exception using errcode = 'PT409', message = format('version %s changed while it was being %s; try again', v.version_number, p_action);
end
$$;

create or replace function private.package_version_must_be_draft(v public.training_package_versions, p_action text) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if v.status <> 'draft' then
    raise exception using errcode = 'PT409',
      message = format('cannot %s version %s: it is %s, and only drafts can be changed', p_action, v.version_number, v.status),
      detail = format('current status: %s', v.status);
  end if;
end
$$;

create or replace function public.packages_create(p_name text, p_template_type text default null, p_config jsonb default '{}'::jsonb)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  p public.training_configs;
begin
  insert into public.training_configs (name, template_type, config_json)
  values (p_name, p_template_type, coalesce(p_config, '{}'::jsonb))
  returning * into p;
  return private.package_json(p);
end
$$;

create or replace function public.packages_list(p_limit integer default 50, p_cursor text default null) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_uid uuid := auth.uid();
  v_cursor jsonb;
  v_items jsonb;
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
  select coalesce(jsonb_agg(private.package_json(page.p) order by (page.p).created_at desc, (page.p).id desc), '[]'::jsonb),
         count(*),
         (array_agg(jsonb_build_object('t', (page.p).created_at, 'i', (page.p).id) order by (page.p).created_at, (page.p).id))[1]
    into v_items, v_count, v_last from page;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

create or replace function public.packages_get(p_package_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$ select private.package_json(private.package_visible(p_package_id)) $$;

create or replace function public.packages_next_version_number(p_package_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object('package_id', p.id, 'next_version_number', p.last_version_number + 1)
    from private.package_visible(p_package_id) p
$$;

-- A new draft. Snapshots left out start from the package's config and empty
-- model and dataset snapshots.
create or replace function public.packages_create_version(
  p_package_id uuid,
  p_name text default null,
  p_config_snapshot jsonb default null,
  p_model_snapshot jsonb default null,
  p_dataset_snapshot jsonb default null,
  p_change_summary text default null,
  p_estimated_cost numeric default null,
  p_budget_limit numeric default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

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

create or replace function public.packages_get_version(p_version_id uuid) returns jsonb
language sql stable
set search_path = ''
as $$ select private.package_version_json(private.package_version_visible(p_version_id)) $$;

create or replace function public.packages_get_version_by_number(p_package_id uuid, p_version_number integer) returns jsonb
language plpgsql stable
set search_path = ''
as $$
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
$$;

-- Edit a draft: the keys present in p_changes are set (null clears a nullable
-- field), the others are left alone.
create or replace function public.packages_update_version(p_version_id uuid, p_changes jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

-- draft -> published. A second, concurrent publish waits on the row lock, then
-- finds the row no longer a draft: exactly one succeeds, the other gets 409.
-- The trigger stamps published_at/by and the hash; the package's current
-- version follows.
create or replace function public.packages_publish_version(p_version_id uuid) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

-- Lifecycle fields of a version the caller owns, in any status: the RLS update
-- policy covers drafts only, so this runs as the owner of the table and checks
-- the caller itself. The immutability trigger still applies.
create or replace function private.package_version_set_lifecycle(p_version_id uuid, p_changes jsonb)
returns public.training_package_versions
language plpgsql security definer
set search_path = ''
as $$
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
$$;

create or replace function public.packages_archive_version(p_version_id uuid) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  return private.package_version_json(private.package_version_set_lifecycle(v.id, '{"status": "archived"}'));
end
$$;

create or replace function public.packages_set_deployment(
  p_version_id uuid, p_is_deployed boolean, p_deployment_target text default null,
  p_deployment_url text default null, p_deployment_id text default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v public.training_package_versions := private.package_version_visible(p_version_id);
begin
  return private.package_version_json(private.package_version_set_lifecycle(v.id, jsonb_build_object(
    'is_deployed', p_is_deployed, 'deployment_target', p_deployment_target,
    'deployment_url', p_deployment_url, 'deployment_id', p_deployment_id)));
end
$$;

-- Training progress and costs: the keys present in p_changes are set.
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

create or replace function public.packages_delete_version(p_version_id uuid) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

create or replace function public.packages_fork_version(
  p_version_id uuid, p_name text default null, p_change_summary text default null
) returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

-- Differences between two JSON values as JSON-pointer operations (RFC 6901
-- paths, RFC 6902 op names): objects key by key, arrays index by index.
create or replace function private.jsonb_diff(p_path text, p_old jsonb, p_new jsonb) returns setof jsonb
language plpgsql immutable
set search_path = ''
as $$
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
$$;

-- What changed from `against` (old) to the version (new), over the three snapshots.
create or replace function public.packages_diff_versions(p_version_id uuid, p_against uuid) returns jsonb
language plpgsql stable
set search_path = ''
as $$
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
$$;

revoke all on function
  private.check_page_limit(integer, integer), private.time_cursor_decode(text),
  private.canonical_json(jsonb), private.snapshot_sha256(jsonb, jsonb, jsonb), private.set_updated_at_column(),
  private.package_version_before_insert(), private.package_version_before_update(),
  private.package_refresh_current_version(uuid), private.package_version_after_status_change(),
  private.package_version_before_delete(), private.package_version_after_delete(),
  private.package_json(public.training_configs), private.package_version_json(public.training_package_versions),
  private.package_visible(uuid), private.package_version_visible(uuid), private.package_version_lost_race(uuid, text),
  private.package_version_must_be_draft(public.training_package_versions, text),
  private.package_version_set_lifecycle(uuid, jsonb), private.jsonb_diff(text, jsonb, jsonb),
  public.packages_create(text, text, jsonb), public.packages_list(integer, text), public.packages_get(uuid),
  public.packages_next_version_number(uuid),
  public.packages_create_version(uuid, text, jsonb, jsonb, jsonb, text, numeric, numeric),
  public.packages_list_versions(uuid, text, integer, text), public.packages_get_version(uuid),
  public.packages_get_version_by_number(uuid, integer), public.packages_update_version(uuid, jsonb),
  public.packages_publish_version(uuid), public.packages_archive_version(uuid),
  public.packages_set_deployment(uuid, boolean, text, text, text), public.packages_set_training(uuid, jsonb),
  public.packages_delete_version(uuid), public.packages_fork_version(uuid, text, text),
  public.packages_diff_versions(uuid, uuid)
  from public, anon;
-- Trigger functions run as triggers only; the rest is what the operations call.
grant execute on function
  private.check_page_limit(integer, integer), private.time_cursor_decode(text),
  private.canonical_json(jsonb), private.snapshot_sha256(jsonb, jsonb, jsonb),
  private.package_json(public.training_configs), private.package_version_json(public.training_package_versions),
  private.package_visible(uuid), private.package_version_visible(uuid), private.package_version_lost_race(uuid, text),
  private.package_version_must_be_draft(public.training_package_versions, text),
  private.package_version_set_lifecycle(uuid, jsonb), private.jsonb_diff(text, jsonb, jsonb),
  public.packages_create(text, text, jsonb), public.packages_list(integer, text), public.packages_get(uuid),
  public.packages_next_version_number(uuid),
  public.packages_create_version(uuid, text, jsonb, jsonb, jsonb, text, numeric, numeric),
  public.packages_list_versions(uuid, text, integer, text), public.packages_get_version(uuid),
  public.packages_get_version_by_number(uuid, integer), public.packages_update_version(uuid, jsonb),
  public.packages_publish_version(uuid), public.packages_archive_version(uuid),
  public.packages_set_deployment(uuid, boolean, text, text, text), public.packages_set_training(uuid, jsonb),
  public.packages_delete_version(uuid), public.packages_fork_version(uuid, text, text),
  public.packages_diff_versions(uuid, uuid)
  to authenticated, service_role;
