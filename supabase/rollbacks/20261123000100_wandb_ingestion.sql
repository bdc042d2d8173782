-- Inverse of 20261123000100_wandb_ingestion.sql
drop function if exists public.wandb_ingest(text, jsonb, text);
drop function if exists private.report_time(jsonb);
drop function if exists private.wandb_state_status(text);
drop table if exists public.webhook_deliveries;
alter table public.training_runs drop column if exists wandb_reported_at;
