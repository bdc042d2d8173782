-- runs: row-level security, policies and grants
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.training_runs
alter table "public"."training_runs"
  enable row level security;

create policy "training_runs_select_authenticated" on "public"."training_runs"
  for select
  to "authenticated"
  using (true);

comment on policy "training_runs_select_authenticated" on "public"."training_runs" is 'Reason: the runs registry is the team''s shared record; every signed-in user reads every run, and changes only their own.';

revoke all on table "public"."training_runs" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_runs" from "authenticated";

grant delete, select on table "public"."training_runs" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_runs" to "postgres", "service_role";

create policy "training_runs_delete_own" on "public"."training_runs"
  for delete
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)));

create policy "training_runs_insert_own" on "public"."training_runs"
  for insert
  to "authenticated"
  with check ((created_by = ( SELECT auth.uid() AS uid)));

create policy "training_runs_update_own" on "public"."training_runs"
  for update
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)))
  with check ((created_by = ( SELECT auth.uid() AS uid)));

revoke all ("blog_post_url") on table "public"."training_runs" from "authenticated";

grant insert ("blog_post_url"), update ("blog_post_url") on table "public"."training_runs" to "authenticated";

revoke all ("chain_of_custody_id") on table "public"."training_runs" from "authenticated";

grant insert ("chain_of_custody_id"), update ("chain_of_custody_id") on table "public"."training_runs" to "authenticated";

revoke all ("config_file_path") on table "public"."training_runs" from "authenticated";

grant insert ("config_file_path"), update ("config_file_path") on table "public"."training_runs" to "authenticated";

revoke all ("config_json") on table "public"."training_runs" from "authenticated";

grant insert ("config_json"), update ("config_json") on table "public"."training_runs" to "authenticated";

revoke all ("conversation_s3_key") on table "public"."training_runs" from "authenticated";

grant insert ("conversation_s3_key"), update ("conversation_s3_key") on table "public"."training_runs" to "authenticated";

revoke all ("crash_analysis_s3_key") on table "public"."training_runs" from "authenticated";

grant insert ("crash_analysis_s3_key"), update ("crash_analysis_s3_key") on table "public"."training_runs" to "authenticated";

revoke all ("crash_report_s3_key") on table "public"."training_runs" from "authenticated";

grant insert ("crash_report_s3_key"), update ("crash_report_s3_key") on table "public"."training_runs" to "authenticated";

revoke all ("duration_seconds") on table "public"."training_runs" from "authenticated";

grant insert ("duration_seconds"), update ("duration_seconds") on table "public"."training_runs" to "authenticated";

revoke all ("ended_at") on table "public"."training_runs" from "authenticated";

grant insert ("ended_at"), update ("ended_at") on table "public"."training_runs" to "authenticated";

revoke all ("error_log_s3_key") on table "public"."training_runs" from "authenticated";

grant insert ("error_log_s3_key"), update ("error_log_s3_key") on table "public"."training_runs" to "authenticated";

revoke all ("error_message") on table "public"."training_runs" from "authenticated";

grant insert ("error_message"), update ("error_message") on table "public"."training_runs" to "authenticated";

revoke all ("final_metrics_json") on table "public"."training_runs" from "authenticated";

grant insert ("final_metrics_json"), update ("final_metrics_json") on table "public"."training_runs" to "authenticated";

revoke all ("host") on table "public"."training_runs" from "authenticated";

grant insert ("host"), update ("host") on table "public"."training_runs" to "authenticated";

revoke all ("instance_id") on table "public"."training_runs" from "authenticated";

grant insert ("instance_id"), update ("instance_id") on table "public"."training_runs" to "authenticated";

revoke all ("metadata") on table "public"."training_runs" from "authenticated";

grant insert ("metadata"), update ("metadata") on table "public"."training_runs" to "authenticated";

revoke all ("run_id") on table "public"."training_runs" from "authenticated";

grant insert ("run_id") on table "public"."training_runs" to "authenticated";

revoke all ("run_name") on table "public"."training_runs" from "authenticated";

grant insert ("run_name"), update ("run_name") on table "public"."training_runs" to "authenticated";

revoke all ("started_at") on table "public"."training_runs" from "authenticated";

grant insert ("started_at"), update ("started_at") on table "public"."training_runs" to "authenticated";

revoke all ("status") on table "public"."training_runs" from "authenticated";

grant insert ("status"), update ("status") on table "public"."training_runs" to "authenticated";

revoke all ("wandb_run_id") on table "public"."training_runs" from "authenticated";

grant insert ("wandb_run_id"), update ("wandb_run_id") on table "public"."training_runs" to "authenticated";

revoke all ("wandb_url") on table "public"."training_runs" from "authenticated";

grant insert ("wandb_url"), update ("wandb_url") on table "public"."training_runs" to "authenticated";

revoke all ("created_by") on table "public"."training_runs" from "authenticated";

grant insert ("created_by") on table "public"."training_runs" to "authenticated";

-- public.run_objectives
alter table "public"."run_objectives"
  enable row level security;

create policy "run_objectives_select_authenticated" on "public"."run_objectives"
  for select
  to "authenticated"
  using (true);

comment on policy "run_objectives_select_authenticated" on "public"."run_objectives" is 'Reason: objective results are part of a run, which every signed-in user reads.';

revoke all on table "public"."run_objectives" from "anon", "authenticated", "service_role";

revoke all on table "public"."run_objectives" from "authenticated";

grant delete, select on table "public"."run_objectives" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."run_objectives" to "postgres", "service_role";

create policy "run_objectives_delete_own" on "public"."run_objectives"
  for delete
  to "authenticated"
  using ((exists ( select 1
   from public.training_runs r
  where ((r.run_id = run_objectives.run_id) AND (r.created_by = ( select auth.uid() as uid))))));
