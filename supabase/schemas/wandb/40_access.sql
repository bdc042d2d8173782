-- wandb: row-level security, policies and grants
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.webhook_deliveries
alter table "public"."webhook_deliveries"
  enable row level security;

revoke all on table "public"."webhook_deliveries" from "anon", "authenticated", "service_role";

grant delete, insert, references, select, trigger, truncate, update on table "public"."webhook_deliveries" to "postgres", "service_role";
