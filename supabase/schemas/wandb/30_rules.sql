-- wandb: generated columns, cross-table keys, indexes, triggers and views
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

-- public.webhook_deliveries
create index webhook_deliveries_received_at_idx on public.webhook_deliveries using btree (received_at desc);

create index webhook_deliveries_run_id_idx on public.webhook_deliveries using btree (run_id, received_at desc);

create index webhook_deliveries_sha256_idx on public.webhook_deliveries using btree (payload_sha256);
