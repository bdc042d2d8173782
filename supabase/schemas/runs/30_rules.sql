-- runs: generated columns, cross-table keys, indexes, triggers and views
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.training_runs
-- Indexes for every filter and order of GET /runs (keyset: order column, then run_id).
create index training_runs_created_at_idx on public.training_runs using btree (created_at desc, run_id desc);

create index training_runs_duration_idx on public.training_runs using btree (duration_seconds desc nulls last, run_id desc);

create index training_runs_host_created_at_idx on public.training_runs using btree (host, created_at desc, run_id desc);

create index training_runs_status_created_at_idx on public.training_runs using btree (status, created_at desc, run_id desc);

create index training_runs_with_blog_post_idx on public.training_runs using btree (created_at desc, run_id desc)
  where (blog_post_url is not null);

create index training_runs_with_crash_analysis_idx on public.training_runs using btree (created_at desc, run_id desc)
  where (crash_analysis_s3_key is not null);

create trigger training_runs_check_transition
  before update of status on public.training_runs
  for each row execute function private.training_runs_check_transition();

create trigger training_runs_set_updated_at
  before update on public.training_runs
  for each row execute function private.set_updated_at();

create trigger training_runs_sync_objectives_on_insert
  after insert on public.training_runs
  referencing new table as inserted_runs
  for each statement execute function private.sync_inserted_run_objectives();

create trigger training_runs_sync_objectives
  after update of config_json, final_metrics_json, run_id on public.training_runs
  for each row execute function private.sync_run_objectives();

create index training_runs_created_by_idx on public.training_runs using btree (created_by);

create index training_runs_batch_size_idx on public.training_runs using btree (batch_size);

create index training_runs_method_status_created_at_idx on public.training_runs using btree (gradient_method, status, created_at desc, run_id desc);

create index training_runs_model_name_idx on public.training_runs using btree (model_name, created_at desc, run_id desc);

-- public.run_objectives
create index run_objectives_name_normalized_mean_idx on public.run_objectives using btree (objective_name, normalized_mean, run_id);

create index run_objectives_name_raw_mean_idx on public.run_objectives using btree (objective_name, raw_mean, run_id);
