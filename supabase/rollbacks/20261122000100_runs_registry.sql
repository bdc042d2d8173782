-- Inverse of 20261122000100_runs_registry.sql
drop function if exists public.runs_set_conversation(text, text);
drop function if exists public.runs_set_blog_post(text, text);
drop function if exists public.runs_attach_crash(text, text, text, text, text);
drop function if exists public.runs_update_status(text, text, timestamptz, timestamptz, double precision, text, text, jsonb);
drop function if exists public.runs_stats();
drop function if exists public.runs_list(text, text, text, integer, double precision, timestamptz, timestamptz, boolean, boolean, text, integer, text);
drop function if exists public.runs_get(text);
drop function if exists public.runs_create(text, jsonb, text, text, text, text, text, text);
drop function if exists private.run_for_update(text);
drop function if exists private.run_json(public.training_runs);
drop table if exists public.training_runs;
drop function if exists private.training_runs_check_transition();
