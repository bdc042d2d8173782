-- packages: generated columns, cross-table keys, indexes, triggers and views
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.training_configs
alter table "public"."training_configs"
  add constraint "training_configs_current_version_fkey" foreign key (id, current_version_id) references public.training_package_versions(package_id, id) on delete
    set null (current_version_id);

create index training_configs_current_version_idx on public.training_configs using btree (id, current_version_id);

create trigger training_configs_keep_published
  before delete on public.training_configs
  for each row execute function private.package_keep_published();

create trigger training_configs_owner
  before insert on public.training_configs
  for each row execute function private.training_configs_owner();

create trigger training_configs_set_updated_at
  before update on public.training_configs
  for each row execute function private.set_updated_at_column();

create index training_configs_user_created_idx on public.training_configs using btree (user_id, created_at desc, id desc);

-- public.training_package_versions
alter table "public"."training_package_versions"
  add constraint "training_package_versions_package_id_fkey" foreign key (package_id) references public.training_configs(id) on delete cascade;

create index training_package_versions_config_snapshot_idx on public.training_package_versions using gin (config_snapshot);

create index training_package_versions_dataset_snapshot_idx on public.training_package_versions using gin (dataset_snapshot);

create index training_package_versions_deployment_idx on public.training_package_versions using btree (deployment_target, deployment_id)
  where is_deployed;

create index training_package_versions_model_snapshot_idx on public.training_package_versions using gin (model_snapshot);

-- "Which versions are at or over budget": actual_cost >= budget_limit.
create index training_package_versions_over_budget_idx on public.training_package_versions using btree (package_id, version_number desc)
  where (actual_cost >= budget_limit);

create index training_package_versions_package_parent_idx on public.training_package_versions using btree (package_id, parent_version_id);

-- Indexes. "By package, version desc" is the unique (package_id, version_number)
-- index read backwards; a second copy would only slow writes.
create index training_package_versions_status_idx on public.training_package_versions using btree (package_id, status, version_number desc);

create index training_package_versions_training_status_idx on public.training_package_versions using btree (training_status);

create trigger training_package_versions_after_delete
  after delete on public.training_package_versions
  for each row execute function private.package_version_after_delete();

create trigger training_package_versions_after_status_change
  after update of status on public.training_package_versions
  for each row when (old.status is distinct from new.status)
  execute function private.package_version_after_status_change();

create trigger training_package_versions_before_delete
  before delete on public.training_package_versions
  for each row execute function private.package_version_before_delete();

create trigger training_package_versions_before_insert
  before insert on public.training_package_versions
  for each row execute function private.package_version_before_insert();

create trigger training_package_versions_before_update
  before update on public.training_package_versions
  for each row execute function private.package_version_before_update();

create trigger training_package_versions_cost_alerts
  before insert or update of actual_cost, budget_limit, cost_alerts_sent on public.training_package_versions
  for each row execute function private.package_version_cost_alerts();

create index training_package_versions_created_by_idx on public.training_package_versions using btree (created_by);
