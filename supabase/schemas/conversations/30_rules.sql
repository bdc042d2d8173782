-- conversations: generated columns, cross-table keys, indexes, triggers and views
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.export_logs
-- "Which training files included this conversation?"
create index export_logs_conversation_ids_idx on public.export_logs using gin (conversation_ids);

create index export_logs_status_idx on public.export_logs using btree (status);

create index export_logs_user_idx on public.export_logs using btree (user_id, created_at desc, id desc);

-- public.batch_jobs
create index batch_jobs_status_idx on public.batch_jobs using btree (status);

create index batch_jobs_type_idx on public.batch_jobs using btree (job_type);

create trigger batch_jobs_set_updated_at
  before update on public.batch_jobs for each row execute function private.set_updated_at_column();

create index batch_jobs_created_by_idx on public.batch_jobs using btree (created_by, created_at desc);

-- public.documents
create index documents_created_by_idx on public.documents using btree (created_by);

-- public.chunks
create index chunks_document_id_idx on public.chunks using btree (document_id);

-- public.conversation_settings
create trigger conversation_settings_set_updated_at
  before update on public.conversation_settings for each row execute function private.set_updated_at_column();

-- public.conversation_templates
create index conversation_templates_category_idx on public.conversation_templates using btree (category);

create index conversation_templates_created_idx on public.conversation_templates using btree (created_at desc, id desc);

create index conversation_templates_emotions_idx on public.conversation_templates using gin (applicable_emotions);

create index conversation_templates_personas_idx on public.conversation_templates using gin (applicable_personas);

create index conversation_templates_tier_active_idx on public.conversation_templates using btree (tier, is_active);

create index conversation_templates_topics_idx on public.conversation_templates using gin (applicable_topics);

create index conversation_templates_variables_idx on public.conversation_templates using gin (variables);

create trigger conversation_templates_guard_review_delete
  before delete on public.conversation_templates
  for each row execute function private.conversation_templates_guard_review();

create trigger conversation_templates_guard_review_update
  before update of system_prompt, min_turns, max_turns on public.conversation_templates
  for each row when ((old.system_prompt, old.min_turns, old.max_turns) is distinct from (new.system_prompt, new.min_turns, new.max_turns))
  execute function private.conversation_templates_guard_review();

create trigger conversation_templates_set_updated_at
  before update on public.conversation_templates for each row execute function private.set_updated_at_column();

create index conversation_templates_created_by_idx on public.conversation_templates using btree (created_by);

-- public.edge_cases
create index edge_cases_active_idx on public.edge_cases using btree (is_active, created_at desc, id desc);

create index edge_cases_parent_template_idx on public.edge_cases using btree (parent_template_id);

create index edge_cases_risk_level_idx on public.edge_cases using btree (risk_level);

create index edge_cases_validation_criteria_idx on public.edge_cases using gin (validation_criteria);

create trigger edge_cases_check_parent_template
  before insert or update of parent_template_id on public.edge_cases
  for each row execute function private.check_parent_template();

create trigger edge_cases_set_updated_at
  before update on public.edge_cases for each row execute function private.set_updated_at_column();

create index edge_cases_created_by_idx on public.edge_cases using btree (created_by);

-- public.scenarios
create index scenarios_created_idx on public.scenarios using btree (created_at desc, id desc);

create index scenarios_parameter_values_idx on public.scenarios using gin (parameter_values);

create index scenarios_parent_template_idx on public.scenarios using btree (parent_template_id);

create index scenarios_persona_idx on public.scenarios using btree (persona);

create index scenarios_topic_idx on public.scenarios using btree (topic);

create trigger scenarios_check_parent_template
  before insert or update of parent_template_id on public.scenarios
  for each row execute function private.check_parent_template();

create trigger scenarios_set_updated_at
  before update on public.scenarios for each row execute function private.set_updated_at_column();

create index scenarios_created_by_idx on public.scenarios using btree (created_by);

-- public.conversations
create index conversations_approved_by_idx on public.conversations using btree (approved_by);

create index conversations_chunk_idx on public.conversations using btree (chunk_id);

-- Indexes for every list filter (keyset: created_at desc, id desc), the
-- review queue, full text, jsonb.
create index conversations_created_idx on public.conversations using btree (created_at desc, id desc);

create index conversations_document_idx on public.conversations using btree (document_id);

create index conversations_edge_case_idx on public.conversations using btree (edge_case_id);

create index conversations_emotion_idx on public.conversations using btree (emotion);

create index conversations_flagged_idx on public.conversations using btree (created_at desc, id desc)
  where is_flagged;

create index conversations_metadata_idx on public.conversations using gin (metadata);

create index conversations_parameters_idx on public.conversations using gin (parameters);

create index conversations_parent_idx on public.conversations using btree (parent_id);

create index conversations_persona_idx on public.conversations using btree (persona);

create index conversations_quality_idx on public.conversations using btree (quality_score);

create index conversations_quality_metrics_idx on public.conversations using gin (quality_metrics);

create index conversations_quality_order_idx on public.conversations using btree (COALESCE(quality_score, ('-1'::integer)::numeric) desc, id desc);

-- The review queue: pending conversations, oldest first (conversations_review_queue).
create index conversations_review_queue_idx on public.conversations using btree (created_at, id)
  where (status = 'pending_review'::text);

create index conversations_reviewed_by_idx on public.conversations using btree (reviewed_by);

create index conversations_scenario_idx on public.conversations using btree (scenario_id);

create index conversations_search_idx on public.conversations using gin (search_vector);

create index conversations_status_created_idx on public.conversations using btree (status, created_at desc, id desc);

create index conversations_status_quality_order_idx on public.conversations using btree (status, COALESCE(quality_score, ('-1'::integer)::numeric) desc, id desc);

create index conversations_template_idx on public.conversations using btree (template_id);

create index conversations_tier_status_created_idx on public.conversations using btree (tier, status, created_at desc, id desc);

create index conversations_topic_idx on public.conversations using btree (topic);

create trigger conversations_before_write
  before insert or update on public.conversations
  for each row execute function private.conversations_before_write();

create trigger conversations_check_references
  before insert on public.conversations
  for each row execute function private.conversations_check_references();

create trigger conversations_count_usage_delete
  after delete on public.conversations referencing old table as old_conversations
  for each statement execute function private.conversations_count_usage();

create trigger conversations_count_usage
  after insert on public.conversations referencing new table as new_conversations
  for each statement execute function private.conversations_count_usage();

-- Fires only where a rule can apply, so bulk rescoring of unreviewed rows pays nothing.
create trigger conversations_guard_review_insert
  before insert on public.conversations
  for each row when (new.status in ('approved', 'rejected'))
  execute function private.conversations_guard_review();

create trigger conversations_guard_review_update
  before update on public.conversations
  for each row when (old.status in ('approved', 'rejected') or new.reviewer_notes is distinct from old.reviewer_notes)
  execute function private.conversations_guard_review();

create constraint trigger conversations_have_turns
  after insert on public.conversations deferrable initially deferred
  for each row execute function private.conversation_has_turns();

create trigger conversations_keep_reviewed
  before delete on public.conversations
  for each row when (old.status <> 'draft')
  execute function private.conversations_keep_reviewed();

create trigger conversations_no_self_review
  before update of status, reviewer_notes on public.conversations
  for each row when (old.status is distinct from new.status or old.reviewer_notes is distinct from new.reviewer_notes)
  execute function private.conversations_no_self_review();

create trigger conversations_search_text
  before update of title, persona, emotion, topic on public.conversations
  for each row execute function private.conversations_search_text();

-- Archiving keeps a conversation's review decision (the record reads it from
-- the history), so it never changes a record: a cleanup archiving thousands of
-- one template's rejected conversations recomputes nothing.
create trigger conversations_template_record
  after update of status on public.conversations
  for each row when (new.template_id is not null and old.status is distinct from new.status and new.status <> 'archived'
                     and (old.status in ('approved', 'rejected') or new.status in ('approved', 'rejected')))
  execute function private.conversation_templates_record();

create index conversations_created_by_idx on public.conversations using btree (created_by, created_at desc, id desc);

-- public.conversation_turns
create trigger conversation_turns_guard_review_delete
  after delete on public.conversation_turns referencing old table as old_turns
  for each statement execute function private.conversation_turns_guard_review();

create trigger conversation_turns_guard_review_insert
  after insert on public.conversation_turns referencing new table as new_turns
  for each statement execute function private.conversation_turns_guard_review();

create trigger conversation_turns_guard_review_update
  after update on public.conversation_turns referencing new table as new_turns old table as old_turns
  for each statement execute function private.conversation_turns_guard_review();

create constraint trigger conversation_turns_keep_one
  after delete on public.conversation_turns deferrable initially deferred
  for each row execute function private.conversation_has_turns();

create trigger conversation_turns_sync_delete
  after delete on public.conversation_turns referencing old table as old_turns
  for each statement execute function private.conversation_turns_sync();

create trigger conversation_turns_sync_insert
  after insert on public.conversation_turns referencing new table as new_turns
  for each statement execute function private.conversation_turns_sync();

create trigger conversation_turns_sync_update
  after update on public.conversation_turns referencing new table as new_turns old table as old_turns
  for each statement execute function private.conversation_turns_sync();

-- public.generation_logs
create index generation_logs_batch_job_idx on public.generation_logs using btree (batch_job_id);

create index generation_logs_conversation_idx on public.generation_logs using btree (conversation_id);

create index generation_logs_created_idx on public.generation_logs using btree (created_at desc);

create index generation_logs_model_idx on public.generation_logs using btree (model_used, created_at desc);

create index generation_logs_status_idx on public.generation_logs using btree (status);

create index generation_logs_template_idx on public.generation_logs using btree (template_id);
