-- conversations: row-level security, policies and grants
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.export_logs
alter table "public"."export_logs"
  enable row level security;

revoke all on table "public"."export_logs" from "anon", "authenticated", "service_role";

revoke all on table "public"."export_logs" from "authenticated";

grant select on table "public"."export_logs" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."export_logs" to "postgres", "service_role";

create policy "export_logs_select" on "public"."export_logs"
  for select
  to "authenticated"
  using (((user_id = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

-- private.export_positions
grant delete, insert, references, select, trigger, truncate, update on table "private"."export_positions" to "postgres";

-- public.batch_jobs
alter table "public"."batch_jobs"
  enable row level security;

revoke all on table "public"."batch_jobs" from "anon", "authenticated", "service_role";

revoke all on table "public"."batch_jobs" from "authenticated";

grant select on table "public"."batch_jobs" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."batch_jobs" to "postgres", "service_role";

create policy "batch_jobs_select" on "public"."batch_jobs"
  for select
  to "authenticated"
  using (((created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

-- private.job_positions
grant delete, insert, references, select, trigger, truncate, update on table "private"."job_positions" to "postgres";

-- public.documents
alter table "public"."documents"
  enable row level security;

revoke all on table "public"."documents" from "anon", "authenticated", "service_role";

revoke all on table "public"."documents" from "authenticated";

grant delete, insert, select, update on table "public"."documents" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."documents" to "postgres", "service_role";

create policy "documents_delete_own" on "public"."documents"
  for delete
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)));

create policy "documents_insert_own" on "public"."documents"
  for insert
  to "authenticated"
  with check ((created_by = ( SELECT auth.uid() AS uid)));

create policy "documents_select" on "public"."documents"
  for select
  to "authenticated"
  using (((created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

create policy "documents_update_own" on "public"."documents"
  for update
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)))
  with check ((created_by = ( SELECT auth.uid() AS uid)));

-- public.chunks
alter table "public"."chunks"
  enable row level security;

revoke all on table "public"."chunks" from "anon", "authenticated", "service_role";

revoke all on table "public"."chunks" from "authenticated";

grant delete, insert, select, update on table "public"."chunks" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."chunks" to "postgres", "service_role";

create policy "chunks_delete_own" on "public"."chunks"
  for delete
  to "authenticated"
  using ((exists ( select 1
   from public.documents d
  where ((d.id = chunks.document_id) AND (d.created_by = ( select auth.uid() as uid))))));

create policy "chunks_insert_own" on "public"."chunks"
  for insert
  to "authenticated"
  with check ((EXISTS ( SELECT 1
   FROM public.documents d
  WHERE ((d.id = chunks.document_id) AND (d.created_by = ( SELECT auth.uid() AS uid))))));

create policy "chunks_select" on "public"."chunks"
  for select
  to "authenticated"
  using ((( select private.is_reviewer() as is_reviewer) or (exists ( select 1
   from public.documents d
  where ((d.id = chunks.document_id) AND (d.created_by = ( select auth.uid() as uid)))))));

create policy "chunks_update_own" on "public"."chunks"
  for update
  to "authenticated"
  using ((exists ( select 1
   from public.documents d
  where ((d.id = chunks.document_id) AND (d.created_by = ( select auth.uid() as uid))))))
  with check ((EXISTS ( SELECT 1
   FROM public.documents d
  WHERE ((d.id = chunks.document_id) AND (d.created_by = ( SELECT auth.uid() AS uid))))));

-- public.conversation_settings
alter table "public"."conversation_settings"
  enable row level security;

create policy "conversation_settings_select" on "public"."conversation_settings"
  for select
  to "authenticated"
  using (true);

create policy "conversation_settings_update_reviewers" on "public"."conversation_settings"
  for update
  to "authenticated"
  using (( select private.is_reviewer() as is_reviewer))
  with check (( SELECT private.is_reviewer() AS is_reviewer));

comment on policy "conversation_settings_select" on "public"."conversation_settings" is 'Reason: the flagging threshold is shared reference data; it explains every flag.';

revoke all on table "public"."conversation_settings" from "anon", "authenticated", "service_role";

revoke all on table "public"."conversation_settings" from "authenticated";

grant select on table "public"."conversation_settings" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."conversation_settings" to "postgres", "service_role";

revoke all ("quality_threshold") on table "public"."conversation_settings" from "authenticated";

grant update ("quality_threshold") on table "public"."conversation_settings" to "authenticated";

-- public.conversation_templates
alter table "public"."conversation_templates"
  enable row level security;

revoke all on table "public"."conversation_templates" from "anon", "authenticated", "service_role";

revoke all on table "public"."conversation_templates" from "authenticated";

grant delete, select on table "public"."conversation_templates" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."conversation_templates" to "postgres", "service_role";

create policy "conversation_templates_delete_own" on "public"."conversation_templates"
  for delete
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)));

create policy "conversation_templates_insert_own" on "public"."conversation_templates"
  for insert
  to "authenticated"
  with check ((created_by = ( SELECT auth.uid() AS uid)));

create policy "conversation_templates_select" on "public"."conversation_templates"
  for select
  to "authenticated"
  using (((created_by is null) or (created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

create policy "conversation_templates_update_own" on "public"."conversation_templates"
  for update
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)))
  with check ((created_by = ( SELECT auth.uid() AS uid)));

revoke all ("applicable_emotions") on table "public"."conversation_templates" from "authenticated";

grant insert ("applicable_emotions"), update ("applicable_emotions") on table "public"."conversation_templates" to "authenticated";

revoke all ("applicable_personas") on table "public"."conversation_templates" from "authenticated";

grant insert ("applicable_personas"), update ("applicable_personas") on table "public"."conversation_templates" to "authenticated";

revoke all ("applicable_topics") on table "public"."conversation_templates" from "authenticated";

grant insert ("applicable_topics"), update ("applicable_topics") on table "public"."conversation_templates" to "authenticated";

revoke all ("category") on table "public"."conversation_templates" from "authenticated";

grant insert ("category"), update ("category") on table "public"."conversation_templates" to "authenticated";

revoke all ("description") on table "public"."conversation_templates" from "authenticated";

grant insert ("description"), update ("description") on table "public"."conversation_templates" to "authenticated";

revoke all ("id") on table "public"."conversation_templates" from "authenticated";

grant insert ("id") on table "public"."conversation_templates" to "authenticated";

revoke all ("is_active") on table "public"."conversation_templates" from "authenticated";

grant insert ("is_active"), update ("is_active") on table "public"."conversation_templates" to "authenticated";

revoke all ("max_turns") on table "public"."conversation_templates" from "authenticated";

grant insert ("max_turns"), update ("max_turns") on table "public"."conversation_templates" to "authenticated";

revoke all ("min_turns") on table "public"."conversation_templates" from "authenticated";

grant insert ("min_turns"), update ("min_turns") on table "public"."conversation_templates" to "authenticated";

revoke all ("structure") on table "public"."conversation_templates" from "authenticated";

grant insert ("structure"), update ("structure") on table "public"."conversation_templates" to "authenticated";

revoke all ("system_prompt") on table "public"."conversation_templates" from "authenticated";

grant insert ("system_prompt"), update ("system_prompt") on table "public"."conversation_templates" to "authenticated";

revoke all ("template_name") on table "public"."conversation_templates" from "authenticated";

grant insert ("template_name"), update ("template_name") on table "public"."conversation_templates" to "authenticated";

revoke all ("template_text") on table "public"."conversation_templates" from "authenticated";

grant insert ("template_text"), update ("template_text") on table "public"."conversation_templates" to "authenticated";

revoke all ("tier") on table "public"."conversation_templates" from "authenticated";

grant insert ("tier"), update ("tier") on table "public"."conversation_templates" to "authenticated";

revoke all ("variables") on table "public"."conversation_templates" from "authenticated";

grant insert ("variables"), update ("variables") on table "public"."conversation_templates" to "authenticated";

revoke all ("version") on table "public"."conversation_templates" from "authenticated";

grant insert ("version"), update ("version") on table "public"."conversation_templates" to "authenticated";

revoke all ("created_by") on table "public"."conversation_templates" from "authenticated";

grant insert ("created_by") on table "public"."conversation_templates" to "authenticated";

-- public.edge_cases
alter table "public"."edge_cases"
  enable row level security;

revoke all on table "public"."edge_cases" from "anon", "authenticated", "service_role";

revoke all on table "public"."edge_cases" from "authenticated";

grant delete, select on table "public"."edge_cases" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."edge_cases" to "postgres", "service_role";

create policy "edge_cases_delete_own" on "public"."edge_cases"
  for delete
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)));

create policy "edge_cases_insert_own" on "public"."edge_cases"
  for insert
  to "authenticated"
  with check ((created_by = ( SELECT auth.uid() AS uid)));

create policy "edge_cases_select" on "public"."edge_cases"
  for select
  to "authenticated"
  using (((created_by is null) or (created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

create policy "edge_cases_update_own" on "public"."edge_cases"
  for update
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)))
  with check ((created_by = ( SELECT auth.uid() AS uid)));

revoke all ("description") on table "public"."edge_cases" from "authenticated";

grant insert ("description"), update ("description") on table "public"."edge_cases" to "authenticated";

revoke all ("edge_case_type") on table "public"."edge_cases" from "authenticated";

grant insert ("edge_case_type"), update ("edge_case_type") on table "public"."edge_cases" to "authenticated";

revoke all ("expected_behavior") on table "public"."edge_cases" from "authenticated";

grant insert ("expected_behavior"), update ("expected_behavior") on table "public"."edge_cases" to "authenticated";

revoke all ("id") on table "public"."edge_cases" from "authenticated";

grant insert ("id") on table "public"."edge_cases" to "authenticated";

revoke all ("is_active") on table "public"."edge_cases" from "authenticated";

grant insert ("is_active"), update ("is_active") on table "public"."edge_cases" to "authenticated";

revoke all ("name") on table "public"."edge_cases" from "authenticated";

grant insert ("name"), update ("name") on table "public"."edge_cases" to "authenticated";

revoke all ("parent_template_id") on table "public"."edge_cases" from "authenticated";

grant insert ("parent_template_id"), update ("parent_template_id") on table "public"."edge_cases" to "authenticated";

revoke all ("risk_level") on table "public"."edge_cases" from "authenticated";

grant insert ("risk_level"), update ("risk_level") on table "public"."edge_cases" to "authenticated";

revoke all ("test_status") on table "public"."edge_cases" from "authenticated";

grant insert ("test_status"), update ("test_status") on table "public"."edge_cases" to "authenticated";

revoke all ("trigger_condition") on table "public"."edge_cases" from "authenticated";

grant insert ("trigger_condition"), update ("trigger_condition") on table "public"."edge_cases" to "authenticated";

revoke all ("validation_criteria") on table "public"."edge_cases" from "authenticated";

grant insert ("validation_criteria"), update ("validation_criteria") on table "public"."edge_cases" to "authenticated";

revoke all ("created_by") on table "public"."edge_cases" from "authenticated";

grant insert ("created_by") on table "public"."edge_cases" to "authenticated";

-- public.scenarios
alter table "public"."scenarios"
  enable row level security;

revoke all on table "public"."scenarios" from "anon", "authenticated", "service_role";

revoke all on table "public"."scenarios" from "authenticated";

grant delete, select on table "public"."scenarios" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."scenarios" to "postgres", "service_role";

create policy "scenarios_delete_own" on "public"."scenarios"
  for delete
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)));

create policy "scenarios_insert_own" on "public"."scenarios"
  for insert
  to "authenticated"
  with check ((created_by = ( SELECT auth.uid() AS uid)));

create policy "scenarios_select" on "public"."scenarios"
  for select
  to "authenticated"
  using (((created_by is null) or (created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

create policy "scenarios_update_own" on "public"."scenarios"
  for update
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)))
  with check ((created_by = ( SELECT auth.uid() AS uid)));

revoke all ("context") on table "public"."scenarios" from "authenticated";

grant insert ("context"), update ("context") on table "public"."scenarios" to "authenticated";

revoke all ("description") on table "public"."scenarios" from "authenticated";

grant insert ("description"), update ("description") on table "public"."scenarios" to "authenticated";

revoke all ("emotional_arc") on table "public"."scenarios" from "authenticated";

grant insert ("emotional_arc"), update ("emotional_arc") on table "public"."scenarios" to "authenticated";

revoke all ("id") on table "public"."scenarios" from "authenticated";

grant insert ("id") on table "public"."scenarios" to "authenticated";

revoke all ("name") on table "public"."scenarios" from "authenticated";

grant insert ("name"), update ("name") on table "public"."scenarios" to "authenticated";

revoke all ("parameter_values") on table "public"."scenarios" from "authenticated";

grant insert ("parameter_values"), update ("parameter_values") on table "public"."scenarios" to "authenticated";

revoke all ("parent_template_id") on table "public"."scenarios" from "authenticated";

grant insert ("parent_template_id"), update ("parent_template_id") on table "public"."scenarios" to "authenticated";

revoke all ("persona") on table "public"."scenarios" from "authenticated";

grant insert ("persona"), update ("persona") on table "public"."scenarios" to "authenticated";

revoke all ("status") on table "public"."scenarios" from "authenticated";

grant insert ("status"), update ("status") on table "public"."scenarios" to "authenticated";

revoke all ("topic") on table "public"."scenarios" from "authenticated";

grant insert ("topic"), update ("topic") on table "public"."scenarios" to "authenticated";

revoke all ("created_by") on table "public"."scenarios" from "authenticated";

grant insert ("created_by") on table "public"."scenarios" to "authenticated";

-- public.conversations
alter table "public"."conversations"
  enable row level security;

revoke all on table "public"."conversations" from "anon", "authenticated", "service_role";

revoke all on table "public"."conversations" from "authenticated";

grant delete, select on table "public"."conversations" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."conversations" to "postgres", "service_role";

create policy "conversations_delete_own" on "public"."conversations"
  for delete
  to "authenticated"
  using ((created_by = ( select auth.uid() as uid)));

create policy "conversations_insert_own" on "public"."conversations"
  for insert
  to "authenticated"
  with check ((created_by = ( SELECT auth.uid() AS uid)));

create policy "conversations_select" on "public"."conversations"
  for select
  to "authenticated"
  using (((created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)));

create policy "conversations_update" on "public"."conversations"
  for update
  to "authenticated"
  using (((created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer)))
  with check (((created_by = ( SELECT auth.uid() AS uid)) OR ( SELECT private.is_reviewer() AS is_reviewer)));

revoke all ("actual_cost_usd") on table "public"."conversations" from "authenticated";

grant insert ("actual_cost_usd"), update ("actual_cost_usd") on table "public"."conversations" to "authenticated";

revoke all ("category") on table "public"."conversations" from "authenticated";

grant insert ("category"), update ("category") on table "public"."conversations" to "authenticated";

revoke all ("chunk_id") on table "public"."conversations" from "authenticated";

grant insert ("chunk_id") on table "public"."conversations" to "authenticated";

revoke all ("conversation_id") on table "public"."conversations" from "authenticated";

grant insert ("conversation_id") on table "public"."conversations" to "authenticated";

revoke all ("document_id") on table "public"."conversations" from "authenticated";

grant insert ("document_id") on table "public"."conversations" to "authenticated";

revoke all ("edge_case_id") on table "public"."conversations" from "authenticated";

grant insert ("edge_case_id") on table "public"."conversations" to "authenticated";

revoke all ("emotion") on table "public"."conversations" from "authenticated";

grant insert ("emotion"), update ("emotion") on table "public"."conversations" to "authenticated";

revoke all ("estimated_cost_usd") on table "public"."conversations" from "authenticated";

grant insert ("estimated_cost_usd"), update ("estimated_cost_usd") on table "public"."conversations" to "authenticated";

revoke all ("generation_duration_ms") on table "public"."conversations" from "authenticated";

grant insert ("generation_duration_ms"), update ("generation_duration_ms") on table "public"."conversations" to "authenticated";

revoke all ("generation_model") on table "public"."conversations" from "authenticated";

grant insert ("generation_model"), update ("generation_model") on table "public"."conversations" to "authenticated";

revoke all ("id") on table "public"."conversations" from "authenticated";

grant insert ("id") on table "public"."conversations" to "authenticated";

revoke all ("intent") on table "public"."conversations" from "authenticated";

grant insert ("intent"), update ("intent") on table "public"."conversations" to "authenticated";

revoke all ("metadata") on table "public"."conversations" from "authenticated";

grant insert ("metadata"), update ("metadata") on table "public"."conversations" to "authenticated";

revoke all ("parameters") on table "public"."conversations" from "authenticated";

grant insert ("parameters"), update ("parameters") on table "public"."conversations" to "authenticated";

revoke all ("parent_id") on table "public"."conversations" from "authenticated";

grant insert ("parent_id") on table "public"."conversations" to "authenticated";

revoke all ("parent_type") on table "public"."conversations" from "authenticated";

grant insert ("parent_type") on table "public"."conversations" to "authenticated";

revoke all ("persona") on table "public"."conversations" from "authenticated";

grant insert ("persona"), update ("persona") on table "public"."conversations" to "authenticated";

revoke all ("quality_metrics") on table "public"."conversations" from "authenticated";

grant insert ("quality_metrics"), update ("quality_metrics") on table "public"."conversations" to "authenticated";

revoke all ("reviewer_notes") on table "public"."conversations" from "authenticated";

grant update ("reviewer_notes") on table "public"."conversations" to "authenticated";

revoke all ("scenario_id") on table "public"."conversations" from "authenticated";

grant insert ("scenario_id") on table "public"."conversations" to "authenticated";

revoke all ("status") on table "public"."conversations" from "authenticated";

grant insert ("status"), update ("status") on table "public"."conversations" to "authenticated";

revoke all ("template_id") on table "public"."conversations" from "authenticated";

grant insert ("template_id") on table "public"."conversations" to "authenticated";

revoke all ("tier") on table "public"."conversations" from "authenticated";

grant insert ("tier"), update ("tier") on table "public"."conversations" to "authenticated";

revoke all ("title") on table "public"."conversations" from "authenticated";

grant insert ("title"), update ("title") on table "public"."conversations" to "authenticated";

revoke all ("tone") on table "public"."conversations" from "authenticated";

grant insert ("tone"), update ("tone") on table "public"."conversations" to "authenticated";

revoke all ("topic") on table "public"."conversations" from "authenticated";

grant insert ("topic"), update ("topic") on table "public"."conversations" to "authenticated";

revoke all ("created_by") on table "public"."conversations" from "authenticated";

grant insert ("created_by") on table "public"."conversations" to "authenticated";

-- public.conversation_turns
alter table "public"."conversation_turns"
  enable row level security;

revoke all on table "public"."conversation_turns" from "anon", "authenticated", "service_role";

revoke all on table "public"."conversation_turns" from "authenticated";

grant delete, select on table "public"."conversation_turns" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."conversation_turns" to "postgres", "service_role";

create policy "conversation_turns_delete_own" on "public"."conversation_turns"
  for delete
  to "authenticated"
  using ((exists ( select 1
   from public.conversations c
  where ((c.id = conversation_turns.conversation_id) AND (c.created_by = ( select auth.uid() as uid))))));

create policy "conversation_turns_insert_own" on "public"."conversation_turns"
  for insert
  to "authenticated"
  with check ((EXISTS ( SELECT 1
   FROM public.conversations c
  WHERE ((c.id = conversation_turns.conversation_id) AND (c.created_by = ( SELECT auth.uid() AS uid))))));

create policy "conversation_turns_select" on "public"."conversation_turns"
  for select
  to "authenticated"
  using ((exists ( select 1
   from public.conversations c
  where ((c.id = conversation_turns.conversation_id) AND ((c.created_by = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer))))));

create policy "conversation_turns_update_own" on "public"."conversation_turns"
  for update
  to "authenticated"
  using ((exists ( select 1
   from public.conversations c
  where ((c.id = conversation_turns.conversation_id) AND (c.created_by = ( select auth.uid() as uid))))))
  with check ((EXISTS ( SELECT 1
   FROM public.conversations c
  WHERE ((c.id = conversation_turns.conversation_id) AND (c.created_by = ( SELECT auth.uid() AS uid))))));

revoke all ("content") on table "public"."conversation_turns" from "authenticated";

grant insert ("content"), update ("content") on table "public"."conversation_turns" to "authenticated";

revoke all ("conversation_id") on table "public"."conversation_turns" from "authenticated";

grant insert ("conversation_id") on table "public"."conversation_turns" to "authenticated";

revoke all ("id") on table "public"."conversation_turns" from "authenticated";

grant insert ("id") on table "public"."conversation_turns" to "authenticated";

revoke all ("role") on table "public"."conversation_turns" from "authenticated";

grant insert ("role"), update ("role") on table "public"."conversation_turns" to "authenticated";

revoke all ("token_count") on table "public"."conversation_turns" from "authenticated";

grant insert ("token_count"), update ("token_count") on table "public"."conversation_turns" to "authenticated";

revoke all ("turn_number") on table "public"."conversation_turns" from "authenticated";

grant insert ("turn_number") on table "public"."conversation_turns" to "authenticated";

-- public.export_log_items
alter table "public"."export_log_items"
  enable row level security;

revoke all on table "public"."export_log_items" from "anon", "authenticated", "service_role";

revoke all on table "public"."export_log_items" from "authenticated";

grant select on table "public"."export_log_items" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."export_log_items" to "postgres", "service_role";

create policy "export_log_items_select" on "public"."export_log_items"
  for select
  to "authenticated"
  using ((exists ( select 1
   from public.export_logs l
  where ((l.id = export_log_items.export_id) AND ((l.user_id = ( select auth.uid() as uid)) or ( select private.is_reviewer() as is_reviewer))))));

-- public.generation_logs
alter table "public"."generation_logs"
  enable row level security;

revoke all on table "public"."generation_logs" from "anon", "authenticated", "service_role";

revoke all on table "public"."generation_logs" from "authenticated";

grant select on table "public"."generation_logs" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."generation_logs" to "postgres", "service_role";

create policy "generation_logs_select" on "public"."generation_logs"
  for select
  to "authenticated"
  using ((( select private.is_reviewer() as is_reviewer) or (created_by = ( select auth.uid() as uid)) or (exists ( select 1
   from public.conversations c
  where ((c.id = generation_logs.conversation_id) AND (c.created_by = ( select auth.uid() as uid)))))));

-- public.quality_rubric
alter table "public"."quality_rubric"
  enable row level security;

create policy "quality_rubric_select" on "public"."quality_rubric"
  for select
  to "authenticated"
  using (true);

comment on policy "quality_rubric_select" on "public"."quality_rubric" is 'Reason: the scoring rubric is shared reference data; it explains every score.';

revoke all on table "public"."quality_rubric" from "anon", "authenticated", "service_role";

revoke all on table "public"."quality_rubric" from "authenticated";

grant select on table "public"."quality_rubric" to "authenticated";

grant delete, insert, references, select, trigger, truncate, update on table "public"."quality_rubric" to "postgres", "service_role";
