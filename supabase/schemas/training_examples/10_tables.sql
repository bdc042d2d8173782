-- training_examples: tables, their columns, checks and keys
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

create table "public"."training_annotation_history" (
  "id"             bigint                   generated always as identity not null,
  "trace_id"       text                     not null,
  "action"         text                     not null,
  "old_annotation" jsonb,
  "new_annotation" jsonb,
  "changed_by"     uuid,
  "changed_at"     timestamp with time zone not null default now(),
  constraint "training_annotation_history_action_valid" check ((action = ANY (ARRAY['insert'::text, 'update'::text, 'delete'::text]))),
  constraint "training_annotation_history_pkey" primary key (id)
);

create table "public"."training_examples" (
  "trace_id"         text                     not null,
  "log_id"           text                     not null,
  "cascade_id"       text,
  "cell_name"        text,
  "model"            text,
  "system_prompt"    text,
  "user_input"       text                     not null,
  "assistant_output" text                     not null,
  "created_at"       timestamp with time zone not null,
  "extracted_at"     timestamp with time zone not null default now(),
  "search_vector"    tsvector,
  constraint "training_examples_pkey" primary key (trace_id)
);

create table "public"."training_annotations" (
  "trace_id"     text                     not null,
  "trainable"    boolean                  not null,
  "verified"     boolean                  not null default false,
  "confidence"   numeric(4,3),
  "notes"        text,
  "tags"         text[]                   not null default '{}'::text[],
  "annotated_by" uuid default auth.uid(),
  "annotated_at" timestamp with time zone not null default now(),
  "cascade_id"   text,
  "cell_name"    text,
  constraint "training_annotations_confidence_range" check (((confidence >= (0)::numeric) AND (confidence <= (1)::numeric))),
  constraint "training_annotations_notes_length" check ((length(notes) <= 10000)),
  constraint "training_annotations_pkey" primary key (trace_id),
  constraint "training_annotations_tags_count" check ((cardinality(tags) <= 50)),
  constraint "training_annotations_trace_id_fkey" foreign key (trace_id) references public.training_examples(trace_id) on delete cascade
);

create table "public"."unified_logs" (
  "id"                text                     not null,
  "trace_id"          text                     not null,
  "parent_id"         text,
  "session_id"        text,
  "cascade_id"        text,
  "cell_name"         text,
  "node_type"         text                     not null default 'llm_call'::text,
  "model"             text,
  "role"              text,
  "request"           jsonb,
  "response"          jsonb,
  "prompt_tokens"     integer,
  "completion_tokens" integer,
  "total_tokens"      integer,
  "cost_usd"          numeric(12,6),
  "duration_ms"       integer,
  "metadata"          jsonb                    not null default '{}'::jsonb,
  "created_at"        timestamp with time zone not null default now(),
  "ingested_at"       timestamp with time zone not null default now(),
  constraint "unified_logs_completion_tokens_not_negative" check ((completion_tokens >= 0)),
  constraint "unified_logs_cost_not_negative" check ((cost_usd >= (0)::numeric)),
  constraint "unified_logs_duration_not_negative" check ((duration_ms >= 0)),
  constraint "unified_logs_id_format" check (((length(id) >= 1) AND (length(id) <= 200))),
  constraint "unified_logs_metadata_is_object" check ((jsonb_typeof(metadata) = 'object'::text)),
  constraint "unified_logs_node_type_length" check (((length(node_type) >= 1) AND (length(node_type) <= 100))),
  constraint "unified_logs_pkey" primary key (id),
  constraint "unified_logs_prompt_tokens_not_negative" check ((prompt_tokens >= 0)),
  constraint "unified_logs_total_tokens_not_negative" check ((total_tokens >= 0)),
  constraint "unified_logs_trace_id_length" check (((length(trace_id) >= 1) AND (length(trace_id) <= 200)))
);
