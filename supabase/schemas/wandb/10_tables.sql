-- wandb: tables, their columns, checks and keys
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

create table "public"."webhook_deliveries" (
  "id"             bigint                   generated always as identity not null,
  "received_at"    timestamp with time zone not null default now(),
  "source"         text                     not null default 'wandb'::text,
  "event_type"     text,
  "payload"        jsonb                    not null,
  "payload_sha256" text                     not null,
  "run_id"         text,
  "outcome"        text                     not null,
  "error"          text,
  constraint "webhook_deliveries_error_length" check ((length(error) <= 4000)),
  constraint "webhook_deliveries_event_type_length" check ((length(event_type) <= 100)),
  constraint "webhook_deliveries_outcome_valid"
    check ((outcome = ANY (ARRAY['applied'::text, 'created'::text, 'duplicate'::text, 'stale'::text, 'recorded'::text, 'unmatched'::text, 'rejected'::text, 'failed'::text]))),
  constraint "webhook_deliveries_pkey" primary key (id),
  constraint "webhook_deliveries_run_id_length" check ((length(run_id) <= 200)),
  constraint "webhook_deliveries_sha256_format" check ((payload_sha256 ~ '^[0-9a-f]{64}$'::text)),
  constraint "webhook_deliveries_source_valid" check ((source = 'wandb'::text))
);
