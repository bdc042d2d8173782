-- packages: row-level security, policies and grants
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.training_configs
alter table "public"."training_configs"
  enable row level security;

revoke all on table "public"."training_configs" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_configs" from "authenticated";

grant delete, select on table "public"."training_configs" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_configs" to "postgres", "service_role";

create policy "training_configs_delete_own" on "public"."training_configs"
  for delete
  to "authenticated"
  using ((user_id = ( select auth.uid() as uid)));

create policy "training_configs_insert_own" on "public"."training_configs"
  for insert
  to "authenticated"
  with check ((user_id = ( SELECT auth.uid() AS uid)));

create policy "training_configs_select_own" on "public"."training_configs"
  for select
  to "authenticated"
  using ((user_id = ( select auth.uid() as uid)));

create policy "training_configs_update_own" on "public"."training_configs"
  for update
  to "authenticated"
  using ((user_id = ( select auth.uid() as uid)))
  with check ((user_id = ( SELECT auth.uid() AS uid)));

revoke all ("config_json") on table "public"."training_configs" from "authenticated";

grant insert ("config_json"), update ("config_json") on table "public"."training_configs" to "authenticated";

revoke all ("id") on table "public"."training_configs" from "authenticated";

grant insert ("id") on table "public"."training_configs" to "authenticated";

revoke all ("name") on table "public"."training_configs" from "authenticated";

grant insert ("name"), update ("name") on table "public"."training_configs" to "authenticated";

revoke all ("template_type") on table "public"."training_configs" from "authenticated";

grant insert ("template_type"), update ("template_type") on table "public"."training_configs" to "authenticated";

revoke all ("user_id") on table "public"."training_configs" from "authenticated";

grant insert ("user_id") on table "public"."training_configs" to "authenticated";

-- public.training_package_versions
alter table "public"."training_package_versions"
  enable row level security;

revoke all on table "public"."training_package_versions" from "anon", "authenticated", "service_role";

revoke all on table "public"."training_package_versions" from "authenticated";

grant delete, select on table "public"."training_package_versions" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."training_package_versions" to "postgres", "service_role";

create policy "training_package_versions_delete_own_drafts" on "public"."training_package_versions"
  for delete
  to "authenticated"
  using (((created_by = ( select auth.uid() as uid)) AND (status = 'draft'::text)));

create policy "training_package_versions_insert_own" on "public"."training_package_versions"
  for insert
  to "authenticated"
  with check (((created_by = ( SELECT auth.uid() AS uid)) AND (EXISTS ( SELECT 1
   FROM public.training_configs p
  WHERE ((p.id = training_package_versions.package_id) AND (p.user_id = ( SELECT auth.uid() AS uid)))))));

create policy "training_package_versions_select_own" on "public"."training_package_versions"
  for select
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)));

create policy "training_package_versions_update_own_drafts" on "public"."training_package_versions"
  for update
  to "authenticated"
  using (((created_by = ( select auth.uid() as uid)) AND (status = 'draft'::text)))
  with check (((created_by = ( SELECT auth.uid() AS uid)) AND (status = ANY (ARRAY['draft'::text, 'published'::text]))));

revoke all ("actual_cost") on table "public"."training_package_versions" from "authenticated";

grant update ("actual_cost") on table "public"."training_package_versions" to "authenticated";

revoke all ("budget_limit") on table "public"."training_package_versions" from "authenticated";

grant insert ("budget_limit"), update ("budget_limit") on table "public"."training_package_versions" to "authenticated";

revoke all ("change_summary") on table "public"."training_package_versions" from "authenticated";

grant insert ("change_summary"), update ("change_summary") on table "public"."training_package_versions" to "authenticated";

revoke all ("config_snapshot") on table "public"."training_package_versions" from "authenticated";

grant insert ("config_snapshot"), update ("config_snapshot") on table "public"."training_package_versions" to "authenticated";

revoke all ("dataset_snapshot") on table "public"."training_package_versions" from "authenticated";

grant insert ("dataset_snapshot"), update ("dataset_snapshot") on table "public"."training_package_versions" to "authenticated";

revoke all ("deployment_id") on table "public"."training_package_versions" from "authenticated";

grant insert ("deployment_id"), update ("deployment_id") on table "public"."training_package_versions" to "authenticated";

revoke all ("deployment_target") on table "public"."training_package_versions" from "authenticated";

grant insert ("deployment_target"), update ("deployment_target") on table "public"."training_package_versions" to "authenticated";

revoke all ("deployment_url") on table "public"."training_package_versions" from "authenticated";

grant insert ("deployment_url"), update ("deployment_url") on table "public"."training_package_versions" to "authenticated";

revoke all ("estimated_cost") on table "public"."training_package_versions" from "authenticated";

grant insert ("estimated_cost"), update ("estimated_cost") on table "public"."training_package_versions" to "authenticated";

revoke all ("id") on table "public"."training_package_versions" from "authenticated";

grant insert ("id") on table "public"."training_package_versions" to "authenticated";

revoke all ("is_deployed") on table "public"."training_package_versions" from "authenticated";

grant insert ("is_deployed"), update ("is_deployed") on table "public"."training_package_versions" to "authenticated";

revoke all ("model_snapshot") on table "public"."training_package_versions" from "authenticated";

grant insert ("model_snapshot"), update ("model_snapshot") on table "public"."training_package_versions" to "authenticated";

revoke all ("name") on table "public"."training_package_versions" from "authenticated";

grant insert ("name"), update ("name") on table "public"."training_package_versions" to "authenticated";

revoke all ("package_id") on table "public"."training_package_versions" from "authenticated";

grant insert ("package_id") on table "public"."training_package_versions" to "authenticated";

revoke all ("parent_version_id") on table "public"."training_package_versions" from "authenticated";

grant insert ("parent_version_id"), update ("parent_version_id") on table "public"."training_package_versions" to "authenticated";

revoke all ("published_at") on table "public"."training_package_versions" from "authenticated";

grant update ("published_at") on table "public"."training_package_versions" to "authenticated";

revoke all ("published_by") on table "public"."training_package_versions" from "authenticated";

grant update ("published_by") on table "public"."training_package_versions" to "authenticated";

revoke all ("status") on table "public"."training_package_versions" from "authenticated";

grant insert ("status"), update ("status") on table "public"."training_package_versions" to "authenticated";

revoke all ("training_completed_at") on table "public"."training_package_versions" from "authenticated";

grant update ("training_completed_at") on table "public"."training_package_versions" to "authenticated";

revoke all ("training_metrics") on table "public"."training_package_versions" from "authenticated";

grant insert ("training_metrics"), update ("training_metrics") on table "public"."training_package_versions" to "authenticated";

revoke all ("training_started_at") on table "public"."training_package_versions" from "authenticated";

grant update ("training_started_at") on table "public"."training_package_versions" to "authenticated";

revoke all ("training_status") on table "public"."training_package_versions" from "authenticated";

grant update ("training_status") on table "public"."training_package_versions" to "authenticated";

revoke all ("version_number") on table "public"."training_package_versions" from "authenticated";

grant insert ("version_number") on table "public"."training_package_versions" to "authenticated";

revoke all ("created_by") on table "public"."training_package_versions" from "authenticated";

grant insert ("created_by") on table "public"."training_package_versions" to "authenticated";
