-- packages: tables, their columns, checks and keys
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

create table "public"."training_configs" (
  "id"                       uuid                     not null default gen_random_uuid(),
  "name"                     text                     not null,
  "template_type"            text,
  "config_json"              jsonb                    not null default '{}'::jsonb,
  "created_at"               timestamp with time zone not null default now(),
  "updated_at"               timestamp with time zone not null default now(),
  "current_version_id"       uuid,
  "version_count"            integer                  not null default 0,
  "latest_published_version" integer                  not null default 0,
  "last_version_number"      integer                  not null default 0,
  constraint "training_configs_config_is_object" check ((jsonb_typeof(config_json) = 'object'::text)),
  constraint "training_configs_counters_valid"
    check (((version_count >= 0) AND (version_count <= last_version_number) AND ((latest_published_version >= 0) AND (latest_published_version <= last_version_number)))),
  constraint "training_configs_name_length" check (((length(name) >= 1) AND (length(name) <= 200))),
  constraint "training_configs_pkey" primary key (id),
  constraint "training_configs_template_type_length" check (((length(template_type) >= 1) AND (length(template_type) <= 100)))
);

create table "public"."training_package_versions" (
  "id"                    uuid                     not null default gen_random_uuid(),
  "package_id"            uuid                     not null,
  "version_number"        integer                  not null,
  "name"                  text                     not null,
  "status"                text                     not null default 'draft'::text,
  "created_at"            timestamp with time zone not null default now(),
  "published_at"          timestamp with time zone,
  "published_by"          uuid,
  "updated_at"            timestamp with time zone not null default now(),
  "config_snapshot"       jsonb                    not null default '{}'::jsonb,
  "model_snapshot"        jsonb                    not null default '{}'::jsonb,
  "dataset_snapshot"      jsonb                    not null default '[]'::jsonb,
  "change_summary"        text,
  "parent_version_id"     uuid,
  "is_deployed"           boolean                  not null default false,
  "deployment_target"     text,
  "deployment_url"        text,
  "deployment_id"         text,
  "training_status"       text                     not null default 'not_started'::text,
  "training_started_at"   timestamp with time zone,
  "training_completed_at" timestamp with time zone,
  "training_metrics"      jsonb,
  "estimated_cost"        numeric(10,2),
  "actual_cost"           numeric(10,2),
  "budget_limit"          numeric(10,2),
  "cost_alerts_sent"      jsonb                    not null default '[]'::jsonb,
  "snapshot_sha256"       text,
  constraint "training_package_versions_actual_cost_not_negative" check ((actual_cost >= (0)::numeric)),
  constraint "training_package_versions_budget_limit_not_negative" check ((budget_limit >= (0)::numeric)),
  constraint "training_package_versions_change_summary_length" check ((length(change_summary) <= 10000)),
  constraint "training_package_versions_config_is_object" check ((jsonb_typeof(config_snapshot) = 'object'::text)),
  constraint "training_package_versions_cost_alerts_is_array" check ((jsonb_typeof(cost_alerts_sent) = 'array'::text)),
  constraint "training_package_versions_dataset_is_array_or_object" check ((jsonb_typeof(dataset_snapshot) = ANY (ARRAY['array'::text, 'object'::text]))),
  constraint "training_package_versions_deployed_has_target" check (((NOT is_deployed) OR (deployment_target IS NOT NULL))),
  constraint "training_package_versions_deployment_id_length" check (((length(deployment_id) >= 1) AND (length(deployment_id) <= 200))),
  constraint "training_package_versions_deployment_target_valid" check ((deployment_target = ANY (ARRAY['local'::text, 'hf_space'::text]))),
  constraint "training_package_versions_estimated_cost_not_negative" check ((estimated_cost >= (0)::numeric)),
  constraint "training_package_versions_model_is_object" check ((jsonb_typeof(model_snapshot) = 'object'::text)),
  constraint "training_package_versions_name_length" check (((length(name) >= 1) AND (length(name) <= 200))),
  constraint "training_package_versions_not_own_parent" check ((parent_version_id <> id)),
  constraint "training_package_versions_number_positive" check ((version_number > 0)),
  constraint "training_package_versions_package_id_id_key" unique (package_id, id),
  constraint "training_package_versions_package_number_key" unique (package_id, version_number),
  constraint "training_package_versions_parent_same_package" foreign key (package_id, parent_version_id) references public.training_package_versions(package_id, id),
  constraint "training_package_versions_pkey" primary key (id),
  constraint "training_package_versions_published_fields" check ((((status = 'draft'::text) = (published_at IS NULL)) AND ((status = 'draft'::text) = (snapshot_sha256 IS NULL)))),
  constraint "training_package_versions_sha256_hex" check ((snapshot_sha256 ~ '^[0-9a-f]{64}$'::text)),
  constraint "training_package_versions_snapshots_bounded"
    check
    (((pg_column_size(config_snapshot) <= 1048576) AND (pg_column_size(model_snapshot) <= 1048576) AND (pg_column_size(dataset_snapshot) <= 1048576) AND (NOT
    jsonb_path_exists(config_snapshot, 'strict $.**{33}'::jsonpath)) AND (NOT jsonb_path_exists(model_snapshot, 'strict $.**{33}'::jsonpath)) AND
    (NOT jsonb_path_exists(dataset_snapshot, 'strict $.**{33}'::jsonpath)))),
  constraint "training_package_versions_status_valid" check ((status = ANY (ARRAY['draft'::text, 'published'::text, 'archived'::text]))),
  constraint "training_package_versions_training_metrics_is_object" check ((jsonb_typeof(training_metrics) = 'object'::text)),
  constraint "training_package_versions_training_status_valid"
    check ((training_status = ANY (ARRAY['not_started'::text, 'queued'::text, 'running'::text, 'completed'::text, 'failed'::text, 'cancelled'::text]))),
  constraint "training_package_versions_training_times" check ((training_completed_at >= training_started_at)),
  constraint "training_package_versions_deployment_url_http" check (private.is_http_url(deployment_url))
);
