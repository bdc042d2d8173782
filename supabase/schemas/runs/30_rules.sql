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

alter table "public"."training_runs"
  add column "batch_size" integer generated always as (private.jsonb_int(private.config_value(config_json, 'batch_size'::text))) stored;

alter table "public"."training_runs"
  add column "learning_rate" double precision generated always as ((private.jsonb_num(private.config_value(config_json, 'learning_rate'::text)))::double precision) stored;

alter table "public"."training_runs"
  add column "beta" double precision generated always as ((private.jsonb_num(private.config_value(config_json, 'beta'::text)))::double precision) stored;

alter table "public"."training_runs"
  add column "gradient_method" text generated always as (private.jsonb_str(private.config_value(config_json, 'gradient_method'::text))) stored;

alter table "public"."training_runs"
  add column "num_gpus" integer generated always as (private.jsonb_int(private.config_value(config_json, 'num_gpus'::text))) stored;

alter table "public"."training_runs"
  add column "num_objectives" integer generated always as (
CASE
    when (jsonb_typeof((config_json -> 'objectives'::text)) = 'array'::text) THEN jsonb_array_length((config_json -> 'objectives'::text))
    ELSE private.jsonb_int(private.config_value(config_json, 'num_objectives'::text))
end) stored;

alter table "public"."training_runs"
  add column "num_scaffolds" integer generated always as (private.jsonb_int(private.config_value(config_json, 'num_scaffolds'::text))) stored;

alter table "public"."training_runs"
  add column "created_by" uuid default auth.uid();

create index training_runs_created_by_idx on public.training_runs using btree (created_by);

alter table "public"."training_runs"
  add column "gradient_accumulation_steps" integer generated always as (private.jsonb_int(private.config_value(config_json, 'gradient_accumulation_steps'::text))) stored;

alter table "public"."training_runs"
  add column "num_epochs" integer generated always as
    (private.jsonb_int(COALESCE(private.config_value(config_json, 'num_epochs'::text), private.config_value(config_json, 'num_train_epochs'::text)))) stored;

alter table "public"."training_runs"
  add column "max_steps" integer generated always as (private.jsonb_int(private.config_value(config_json, 'max_steps'::text))) stored;

alter table "public"."training_runs"
  add column "warmup_steps" integer generated always as (private.jsonb_int(private.config_value(config_json, 'warmup_steps'::text))) stored;

alter table "public"."training_runs"
  add column "weight_decay" double precision generated always as ((private.jsonb_num(private.config_value(config_json, 'weight_decay'::text)))::double precision) stored;

alter table "public"."training_runs"
  add column "max_grad_norm" double precision generated always as ((private.jsonb_num(private.config_value(config_json, 'max_grad_norm'::text)))::double precision) stored;

alter table "public"."training_runs"
  add column "optimizer" text generated always as
    (private.jsonb_str(COALESCE(private.config_value(config_json, 'optimizer'::text), private.config_value(config_json, 'optim'::text)))) stored;

alter table "public"."training_runs"
  add column "lr_scheduler_type" text generated always as
    (private.jsonb_str(COALESCE(private.config_value(config_json, 'lr_scheduler_type'::text), private.config_value(config_json, 'lr_scheduler'::text)))) stored;

alter table "public"."training_runs"
  add column "model_name" text generated always as
    (private.jsonb_str(COALESCE(private.config_value(config_json, 'model_name'::text), NULLIF((config_json #> '{model,name}'::text[]), 'null'::jsonb),
    private.config_value(config_json, 'model_name_or_path'::text)))) stored;

alter table "public"."training_runs"
  add column "seed" integer generated always as (private.jsonb_int(private.config_value(config_json, 'seed'::text))) stored;

alter table "public"."training_runs"
  add column "max_seq_length" integer generated always as
    (private.jsonb_int(COALESCE(private.config_value(config_json, 'max_seq_length'::text), private.config_value(config_json, 'max_length'::text)))) stored;

alter table "public"."training_runs"
  add column "lora_rank" integer generated always as
    (private.jsonb_int(COALESCE(private.config_value(config_json, 'lora_rank'::text), NULLIF((config_json #> '{lora,r}'::text[]), 'null'::jsonb)))) stored;

alter table "public"."training_runs"
  add column "num_generations" integer generated always as (private.jsonb_int(private.config_value(config_json, 'num_generations'::text))) stored;

alter table "public"."training_runs"
  add column "final_loss" double precision generated always as ((private.jsonb_num((final_metrics_json -> 'train/loss'::text)))::double precision) stored;

alter table "public"."training_runs"
  add column "final_reward" double precision generated always as ((private.jsonb_num((final_metrics_json -> 'train/reward'::text)))::double precision) stored;

alter table "public"."training_runs"
  add column "total_training_steps" integer generated always as (private.jsonb_int((final_metrics_json -> '_step'::text))) stored;

alter table "public"."training_runs"
  add column "wandb_runtime_seconds" double precision generated always as ((private.jsonb_num((final_metrics_json -> '_runtime'::text)))::double precision) stored;

create index training_runs_batch_size_idx on public.training_runs using btree (batch_size);

create index training_runs_method_status_created_at_idx on public.training_runs using btree (gradient_method, status, created_at desc, run_id desc);

create index training_runs_model_name_idx on public.training_runs using btree (model_name, created_at desc, run_id desc);

-- public.run_objectives
create index run_objectives_name_normalized_mean_idx on public.run_objectives using btree (objective_name, normalized_mean, run_id);

create index run_objectives_name_raw_mean_idx on public.run_objectives using btree (objective_name, raw_mean, run_id);
