-- conversations: tables, their columns, checks and keys
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

create table "public"."export_logs" (
  "id"                 uuid                     not null default gen_random_uuid(),
  "user_id" uuid default auth.uid(),
  "format"             text                     not null,
  "shape"              text                     not null default 'raw'::text,
  "include_metadata"   boolean                  not null default false,
  "filters"            jsonb                    not null default '{}'::jsonb,
  "conversation_ids"   uuid[]                   not null default '{}'::uuid[],
  "conversation_count" integer                  not null default 0,
  "file_name"          text,
  "file_size_bytes"    bigint                   not null default 0,
  "checksum_sha256"    text,
  "status"             text                     not null default 'running'::text,
  "error_message"      text,
  "started_at"         timestamp with time zone not null default now(),
  "completed_at"       timestamp with time zone,
  "created_at"         timestamp with time zone not null default now(),
  constraint "export_logs_checksum_hex" check ((checksum_sha256 ~ '^[0-9a-f]{64}$'::text)),
  constraint "export_logs_format_valid" check ((format = ANY (ARRAY['jsonl'::text, 'json'::text, 'csv'::text, 'markdown'::text]))),
  constraint "export_logs_pkey" primary key (id),
  constraint "export_logs_shape_valid" check ((shape = ANY (ARRAY['openai'::text, 'sharegpt'::text, 'raw'::text]))),
  constraint "export_logs_status_valid" check ((status = ANY (ARRAY['running'::text, 'completed'::text, 'failed'::text])))
);

create table "private"."export_positions" (
  "export_id" uuid  not null,
  "position"  jsonb,
  constraint "export_positions_pkey" primary key (export_id),
  constraint "export_positions_export_id_fkey" foreign key (export_id) references public.export_logs(id) on delete cascade
);

create table "public"."batch_jobs" (
  "id"               uuid                     not null default gen_random_uuid(),
  "job_type"         text                     not null,
  "name"             text,
  "status"           text                     not null default 'queued'::text,
  "total_items"      integer                  not null default 0,
  "processed_items"  integer                  not null default 0,
  "successful_items" integer                  not null default 0,
  "failed_items"     integer                  not null default 0,
  "parameters"       jsonb                    not null default '{}'::jsonb,
  "results"          jsonb                    not null default '{}'::jsonb,
  "error_message"    text,
  "started_at"       timestamp with time zone,
  "completed_at"     timestamp with time zone,
  "created_by" uuid default auth.uid(),
  "created_at"       timestamp with time zone not null default now(),
  "updated_at"       timestamp with time zone not null default now(),
  constraint "batch_jobs_pkey" primary key (id),
  constraint "batch_jobs_processed_not_negative" check ((processed_items >= 0)),
  constraint "batch_jobs_status_valid" check ((status = ANY (ARRAY['queued'::text, 'running'::text, 'completed'::text, 'failed'::text, 'cancelled'::text]))),
  constraint "batch_jobs_total_not_negative" check ((total_items >= 0)),
  constraint "batch_jobs_type_valid" check ((job_type = ANY (ARRAY['generation'::text, 'export'::text, 'validation'::text, 'cleanup'::text])))
);

create table "private"."job_positions" (
  "job_id"    uuid    not null,
  "after_id"  uuid,
  "exhausted" boolean not null default false,
  constraint "job_positions_pkey" primary key (job_id),
  constraint "job_positions_job_id_fkey" foreign key (job_id) references public.batch_jobs(id) on delete cascade
);

create table "public"."documents" (
  "id"         uuid                     not null default gen_random_uuid(),
  "title"      text                     not null,
  "created_by" uuid default auth.uid(),
  "created_at" timestamp with time zone not null default now(),
  constraint "documents_pkey" primary key (id)
);

create table "public"."chunks" (
  "id"          uuid                     not null default gen_random_uuid(),
  "document_id" uuid                     not null,
  "chunk_index" integer                  not null default 0,
  "content"     text                     not null default ''::text,
  "created_at"  timestamp with time zone not null default now(),
  constraint "chunks_pkey" primary key (id),
  constraint "chunks_document_id_fkey" foreign key (document_id) references public.documents(id) on delete cascade
);

-- One row: the flagging threshold (and room for more settings).
create table "public"."conversation_settings" (
  "id"                boolean                  not null default true,
  "quality_threshold" numeric(3,1)             not null default 6.0,
  "updated_at"        timestamp with time zone not null default now(),
  constraint "conversation_settings_pkey" primary key (id),
  constraint "conversation_settings_single_row" check (id),
  constraint "conversation_settings_threshold_range" check (((quality_threshold >= (0)::numeric) AND (quality_threshold <= (10)::numeric)))
);

create table "public"."conversation_templates" (
  "id"                  uuid                     not null default gen_random_uuid(),
  "template_name"       text                     not null,
  "description"         text,
  "category"            text,
  "tier"                text                     not null default 'template'::text,
  "template_text"       text                     not null default ''::text,
  "system_prompt"       text,
  "structure"           text,
  "variables"           jsonb                    not null default '{}'::jsonb,
  "applicable_personas" text[]                   not null default '{}'::text[],
  "applicable_emotions" text[]                   not null default '{}'::text[],
  "applicable_topics"   text[]                   not null default '{}'::text[],
  "min_turns"           integer                  not null default 2,
  "max_turns"           integer                  not null default 50,
  "usage_count"         integer                  not null default 0,
  "rating"              numeric(3,2),
  "success_rate"        numeric(5,4),
  "version"             integer                  not null default 1,
  "is_active"           boolean                  not null default true,
  "created_by" uuid default auth.uid(),
  "created_at"          timestamp with time zone not null default now(),
  "updated_at"          timestamp with time zone not null default now(),
  constraint "conversation_templates_min_turns_positive" check ((min_turns >= 1)),
  constraint "conversation_templates_name_key" unique (template_name),
  constraint "conversation_templates_name_length" check (((length(template_name) >= 1) AND (length(template_name) <= 200))),
  constraint "conversation_templates_pkey" primary key (id),
  constraint "conversation_templates_rating_range" check (((rating >= (0)::numeric) AND (rating <= (5)::numeric))),
  constraint "conversation_templates_success_rate_range" check (((success_rate >= (0)::numeric) AND (success_rate <= (1)::numeric))),
  constraint "conversation_templates_tier_valid" check ((tier = ANY (ARRAY['template'::text, 'scenario'::text, 'edge_case'::text]))),
  constraint "conversation_templates_turn_bounds" check ((max_turns >= min_turns)),
  constraint "conversation_templates_usage_not_negative" check ((usage_count >= 0)),
  constraint "conversation_templates_variables_is_object" check ((jsonb_typeof(variables) = 'object'::text)),
  constraint "conversation_templates_version_positive" check ((version >= 1))
);

create table "public"."edge_cases" (
  "id"                  uuid                     not null default gen_random_uuid(),
  "parent_template_id"  uuid,
  "name"                text                     not null,
  "description"         text,
  "edge_case_type"      text,
  "trigger_condition"   text                     not null,
  "expected_behavior"   text                     not null,
  "risk_level"          text                     not null default 'medium'::text,
  "validation_criteria" text[]                   not null default '{}'::text[],
  "test_status"         text                     not null default 'not_tested'::text,
  "created_by" uuid default auth.uid(),
  "created_at"          timestamp with time zone not null default now(),
  "updated_at"          timestamp with time zone not null default now(),
  "is_active"           boolean                  not null default true,
  constraint "edge_cases_name_length" check (((length(name) >= 1) AND (length(name) <= 200))),
  constraint "edge_cases_parent_template_id_fkey" foreign key (parent_template_id) references public.conversation_templates(id) on delete cascade,
  constraint "edge_cases_pkey" primary key (id),
  constraint "edge_cases_risk_level_valid" check ((risk_level = ANY (ARRAY['low'::text, 'medium'::text, 'high'::text, 'critical'::text]))),
  constraint "edge_cases_test_status_valid" check ((test_status = ANY (ARRAY['not_tested'::text, 'passed'::text, 'failed'::text])))
);

create table "public"."scenarios" (
  "id"                 uuid                     not null default gen_random_uuid(),
  "parent_template_id" uuid,
  "name"               text                     not null,
  "description"        text,
  "context"            text,
  "persona"            text,
  "topic"              text,
  "emotional_arc"      text,
  "parameter_values"   jsonb                    not null default '{}'::jsonb,
  "status"             text                     not null default 'active'::text,
  "usage_count"        integer                  not null default 0,
  "created_by" uuid default auth.uid(),
  "created_at"         timestamp with time zone not null default now(),
  "updated_at"         timestamp with time zone not null default now(),
  constraint "scenarios_name_length" check (((length(name) >= 1) AND (length(name) <= 200))),
  constraint "scenarios_parameter_values_is_object" check ((jsonb_typeof(parameter_values) = 'object'::text)),
  constraint "scenarios_parent_template_id_fkey" foreign key (parent_template_id) references public.conversation_templates(id) on delete cascade,
  constraint "scenarios_pkey" primary key (id),
  constraint "scenarios_status_valid" check ((status = ANY (ARRAY['draft'::text, 'active'::text, 'archived'::text])))
);

create table "public"."conversations" (
  "id"                     uuid                     not null default gen_random_uuid(),
  "conversation_id"        text                     not null default ('conv_'::text || replace((gen_random_uuid())::text, '-'::text, ''::text)),
  "document_id"            uuid,
  "chunk_id"               uuid,
  "template_id"            uuid,
  "scenario_id"            uuid,
  "edge_case_id"           uuid,
  "parent_id"              uuid,
  "parent_type"            text,
  "title"                  text,
  "persona"                text,
  "emotion"                text,
  "topic"                  text,
  "intent"                 text,
  "tone"                   text,
  "tier"                   text                     not null default 'template'::text,
  "category"               text,
  "status"                 text                     not null default 'generated'::text,
  "quality_score"          numeric(3,1),
  "quality_metrics"        jsonb                    not null default '{}'::jsonb,
  "is_flagged"             boolean                  not null default false,
  "flag_reason"            text,
  "turn_count"             integer                  not null default 0,
  "total_tokens"           integer                  not null default 0,
  "turns_updated_at"       timestamp with time zone,
  "estimated_cost_usd"     numeric(10,4),
  "actual_cost_usd"        numeric(10,4),
  "generation_duration_ms" integer,
  "generation_model"       text,
  "approved_by"            uuid,
  "approved_at"            timestamp with time zone,
  "reviewed_by"            uuid,
  "reviewed_at"            timestamp with time zone,
  "reviewer_notes"         text,
  "parameters"             jsonb                    not null default '{}'::jsonb,
  "metadata"               jsonb                    not null default '{}'::jsonb,
  "review_history"         jsonb                    not null default '[]'::jsonb,
  "search_vector"          tsvector,
  "created_by" uuid default auth.uid(),
  "created_at"             timestamp with time zone not null default now(),
  "updated_at"             timestamp with time zone not null default now(),
  constraint "conversations_actual_cost_not_negative" check ((actual_cost_usd >= (0)::numeric)),
  constraint "conversations_chunk_id_fkey" foreign key (chunk_id) references public.chunks(id) on delete set null,
  constraint "conversations_conversation_id_format" check ((conversation_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$'::text)),
  constraint "conversations_conversation_id_key" unique (conversation_id),
  constraint "conversations_emotion_length" check ((length(emotion) <= 200)),
  constraint "conversations_estimated_cost_not_negative" check ((estimated_cost_usd >= (0)::numeric)),
  constraint "conversations_generation_duration_not_negative" check ((generation_duration_ms >= 0)),
  constraint "conversations_intent_length" check ((length(intent) <= 200)),
  constraint "conversations_metadata_is_object" check ((jsonb_typeof(metadata) = 'object'::text)),
  constraint "conversations_parameters_is_object" check ((jsonb_typeof(parameters) = 'object'::text)),
  constraint "conversations_parent_type_valid" check ((parent_type = ANY (ARRAY['conversation'::text, 'template'::text, 'scenario'::text, 'edge_case'::text]))),
  constraint "conversations_persona_length" check ((length(persona) <= 200)),
  constraint "conversations_pkey" primary key (id),
  constraint "conversations_parent_id_fkey" foreign key (parent_id) references public.conversations(id) on delete set null,
  constraint "conversations_quality_score_range" check (((quality_score >= (0)::numeric) AND (quality_score <= (10)::numeric))),
  constraint "conversations_review_history_is_array" check ((jsonb_typeof(review_history) = 'array'::text)),
  constraint "conversations_reviewer_notes_length" check ((length(reviewer_notes) <= 10000)),
  constraint "conversations_status_valid"
    check ((status = ANY (ARRAY['draft'::text, 'generated'::text, 'pending_review'::text, 'approved'::text, 'rejected'::text, 'needs_revision'::text, 'archived'::text]))),
  constraint "conversations_template_id_fkey" foreign key (template_id) references public.conversation_templates(id) on delete set null,
  constraint "conversations_tier_valid" check ((tier = ANY (ARRAY['template'::text, 'scenario'::text, 'edge_case'::text]))),
  constraint "conversations_title_length" check ((length(title) <= 500)),
  constraint "conversations_tone_length" check ((length(tone) <= 200)),
  constraint "conversations_topic_length" check ((length(topic) <= 200)),
  constraint "conversations_document_id_fkey" foreign key (document_id) references public.documents(id) on delete set null,
  constraint "conversations_edge_case_id_fkey" foreign key (edge_case_id) references public.edge_cases(id) on delete set null,
  constraint "conversations_scenario_id_fkey" foreign key (scenario_id) references public.scenarios(id) on delete set null,
  constraint "conversations_approved_by_fkey" foreign key (approved_by) references public.user_profiles(id) on delete set null,
  constraint "conversations_reviewed_by_fkey" foreign key (reviewed_by) references public.user_profiles(id) on delete set null,
  constraint "conversations_quality_metrics_valid" check (private.is_quality_metrics(quality_metrics))
);

create table "public"."conversation_turns" (
  "id"              uuid                     not null default gen_random_uuid(),
  "conversation_id" uuid                     not null,
  "turn_number"     integer                  not null,
  "role"            text                     not null,
  "content"         text                     not null,
  "token_count"     integer,
  "char_count" integer generated always as (length(content)) stored,
  "created_at"      timestamp with time zone not null default now(),
  constraint "conversation_turns_content_length" check ((length(content) <= 100000)),
  constraint "conversation_turns_number_bounded" check ((turn_number <= 500)),
  constraint "conversation_turns_number_key" unique (conversation_id, turn_number),
  constraint "conversation_turns_number_positive" check ((turn_number >= 1)),
  constraint "conversation_turns_pkey" primary key (id),
  constraint "conversation_turns_role_valid" check ((role = ANY (ARRAY['user'::text, 'assistant'::text, 'system'::text]))),
  constraint "conversation_turns_token_count_not_negative" check ((token_count >= 0)),
  constraint "conversation_turns_conversation_id_fkey" foreign key (conversation_id) references public.conversations(id) on delete cascade
);

-- The ids of a running export, one row per conversation as its page goes out:
-- appending to export_logs.conversation_ids page by page would rewrite the
-- whole array each time (quadratic). At the end they move into that column.
create table "public"."export_log_items" (
  "export_id"       uuid    not null,
  "position"        integer not null,
  "conversation_id" uuid    not null,
  constraint "export_log_items_pkey" primary key (export_id, "position"),
  constraint "export_log_items_export_id_fkey" foreign key (export_id) references public.export_logs(id) on delete cascade
);

create table "public"."generation_logs" (
  "id"               uuid                     not null default gen_random_uuid(),
  "conversation_id"  uuid,
  "template_id"      uuid,
  "batch_job_id"     uuid,
  "request_payload"  jsonb                    not null default '{}'::jsonb,
  "response_payload" jsonb,
  "model_used"       text                     not null,
  "temperature"      numeric(4,3),
  "max_tokens"       integer,
  "input_tokens"     integer                  not null default 0,
  "output_tokens"    integer                  not null default 0,
  "cost_usd"         numeric(12,6)            not null default 0,
  "duration_ms"      integer,
  "status"           text                     not null default 'success'::text,
  "error_message"    text,
  "error_code"       text,
  "retry_attempt"    integer                  not null default 0,
  "created_at"       timestamp with time zone not null default now(),
  "created_by" uuid default auth.uid(),
  constraint "generation_logs_batch_job_id_fkey" foreign key (batch_job_id) references public.batch_jobs(id) on delete set null,
  constraint "generation_logs_conversation_id_fkey" foreign key (conversation_id) references public.conversations(id) on delete set null,
  constraint "generation_logs_cost_not_negative" check ((cost_usd >= (0)::numeric)),
  constraint "generation_logs_duration_not_negative" check ((duration_ms >= 0)),
  constraint "generation_logs_input_tokens_not_negative" check ((input_tokens >= 0)),
  constraint "generation_logs_model_length" check (((length(model_used) >= 1) AND (length(model_used) <= 200))),
  constraint "generation_logs_output_tokens_not_negative" check ((output_tokens >= 0)),
  constraint "generation_logs_pkey" primary key (id),
  constraint "generation_logs_status_valid" check ((status = ANY (ARRAY['success'::text, 'failed'::text, 'rate_limited'::text, 'timeout'::text]))),
  constraint "generation_logs_template_id_fkey" foreign key (template_id) references public.conversation_templates(id) on delete set null
);

create table "public"."quality_rubric" (
  "component"   text         not null,
  "weight"      numeric(6,3) not null,
  "description" text         not null default ''::text,
  constraint "quality_rubric_component_format" check ((component ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
  constraint "quality_rubric_pkey" primary key (component),
  constraint "quality_rubric_weight_positive" check ((weight > (0)::numeric))
);
