-- Inverse of 20261125000000_conversations.sql: the module's functions and
-- tables; user_profiles, documents and chunks only if it created them.
drop function if exists public.conversations_generation_stats(timestamptz, timestamptz);
drop function if exists public.conversations_log_generation(jsonb);
drop function if exists public.conversations_list_exports(integer, text);
drop function if exists public.conversations_export_finish(uuid, bigint, text, text);
drop function if exists public.conversations_export_page(uuid, jsonb, integer);
drop function if exists public.conversations_export_start(text, text, jsonb, boolean, text);
drop function if exists public.conversations_get_batch_job(uuid);
drop function if exists public.conversations_finish_job(uuid, text);
drop function if exists public.conversations_rescore_chunk(uuid, uuid, integer);
drop function if exists public.conversations_rescore_start(numeric, jsonb);
drop function if exists public.conversations_score(text);
drop function if exists public.conversations_review(text, text, text);
drop function if exists public.conversations_review_queue(integer, text);
drop function if exists public.conversations_list(jsonb, integer, text);
drop function if exists public.conversations_get(text);
drop function if exists public.conversations_create(jsonb, jsonb);
drop function if exists private.conversation_filter_sql(jsonb);
drop function if exists private.conversation_visible(text);
drop function if exists private.conversation_turns_json(uuid);
drop function if exists private.conversation_json(public.conversations);
drop function if exists private.apply_quality(public.conversations, jsonb);
drop function if exists public.calculate_quality_score(public.conversations);
drop table if exists public.export_log_items;
drop table if exists public.export_logs;
drop table if exists public.generation_logs;
drop table if exists public.batch_jobs;
drop table if exists public.conversation_turns;
drop table if exists public.conversations;
drop table if exists public.edge_cases;
drop table if exists public.scenarios;
drop table if exists public.conversation_templates;
drop table if exists public.conversation_settings;
drop table if exists public.quality_rubric;
-- user_profiles, documents and chunks go only if this migration created
-- them; tables it found are stripped back to what they were, rows kept.
do $$
begin
  if pg_catalog.to_regprocedure('private.adoption_undo(text, text)') is null then
    raise exception using errcode = '55000',
      message = 'this database applied 20261125000000 before the adoption ledger existed: its rollback cannot tell whether user_profiles, documents and chunks were created or found, so it will not roll them back';
  end if;
  perform private.adoption_undo('20261125000000', t)
    from unnest(array['public.chunks', 'public.documents', 'public.user_profiles']) t;
end
$$;
drop function if exists private.conversation_has_turns();
drop function if exists private.conversations_search_text();
drop function if exists private.conversation_search_vector(text, text, text, text, text);
drop function if exists private.conversation_turns_sync();
drop function if exists private.conversations_before_write();
drop function if exists private.conversation_status_allowed(text, text);
drop function if exists private.quality_breakdown(uuid, jsonb, uuid);
drop function if exists private.is_quality_metrics(jsonb);
drop function if exists private.can_review();
drop function if exists private.is_reviewer();
