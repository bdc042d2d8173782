-- Every rule holds through the table API. On Supabase, PostgREST exposes
-- every table, view and function in public to anon and authenticated with
-- the caller's JWT, so whatever the functions refuse, a direct
-- supabase.from(...) write or rpc(...) call must refuse as well. The rules
-- chosen here (README: "Who may do what, through every door";
-- test/support/access_matrix.ts lists them object by object):
--   1. Reviewed conversations are frozen: once approved or rejected, no role
--      but the service role changes their content or turns; a reviewer
--      reopens them (request_changes) first. Reviewer notes and reopening are
--      the reviewers'. A conversation is created unreviewed.
--   2. documents and chunks are their owner's (reviewers read them all).
--      Policies are one per command (no overlapping FOR ALL), and the
--      always-true ones carry their reason as a comment.
--   3. What the database computes or audits, only the database (or the
--      service role) writes: run objectives, W&B report times, export logs
--      and their items, batch jobs, template and scenario counters, and the
--      registry's own timestamps. Exports are completed by the service role
--      (the function that streamed the file vouches for its size and hash).
--   4. Every public function bounds its own inputs: the filter AST of
--      runs_list is checked for size, depth and count before anything is
--      compiled, and compiles to SQL linear in its size; turns, full-text
--      queries, declared objectives and snapshot nesting are bounded as the
--      HTTP layer bounds them.
--   5. Security definer functions check that the caller may see what they read.
--   6. The API roles hold no sequence privileges, now or by default.
--   7. A package with published (or archived) versions is never deleted by a
--      user: published versions are immutable, and their package stays.
-- Plus what seed 004's front end and seed 000's readers expect
-- (get_next_version_number, publishing by a direct update,
-- training_examples_mv), and an owner for training_configs rows inserted
-- without one.

-- ---------------------------------------------------------------------------
-- Who is acting.

-- The service role, or a database session that never switched role and
-- carries no request claims (migrations, the seed, an administrator in
-- psql). PostgREST and the functions always set a role, so no API caller is
-- ever the latter, even one whose token has no role claim.
create or replace function private.acting_as_service() returns boolean
language sql stable
set search_path = ''
as $$ select coalesce(auth.role() = 'service_role', pg_catalog.current_setting('role') = 'none') $$;

-- ---------------------------------------------------------------------------
-- 1. Reviewed conversations.

-- Before a conversation is written: created unreviewed; reviewer notes and
-- reopening by reviewers; an approved or rejected conversation's content
-- frozen. Every client-writable column but status and reviewer_notes is
-- content (test/table_api.rules.test.ts checks this list against the grants),
-- and so are its turns and its template.
create or replace function private.conversations_guard_review() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_changed text[];
begin
  if private.acting_as_service() then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.status in ('approved', 'rejected') then
      raise exception using errcode = 'PT409',
        message = format('a conversation is stored unreviewed: create it, then %s it', case new.status when 'approved' then 'approve' else 'reject' end);
    end if;
    return new;
  end if;
  if new.reviewer_notes is distinct from old.reviewer_notes and not private.can_review() then
    raise exception using errcode = '42501',
      message = format('reviewer_notes of conversation %s are written by reviewers', old.conversation_id);
  end if;
  if old.status in ('approved', 'rejected') then
    if new.status = 'needs_revision' and not private.can_review() then
      raise exception using errcode = '42501',
        message = format('conversation %s is %s: only a reviewer reopens it', old.conversation_id, old.status);
    end if;
    select array_agg(f) into v_changed from unnest(array[
      case when new.title is distinct from old.title then 'title' end,
      case when new.persona is distinct from old.persona then 'persona' end,
      case when new.emotion is distinct from old.emotion then 'emotion' end,
      case when new.topic is distinct from old.topic then 'topic' end,
      case when new.intent is distinct from old.intent then 'intent' end,
      case when new.tone is distinct from old.tone then 'tone' end,
      case when new.tier is distinct from old.tier then 'tier' end,
      case when new.category is distinct from old.category then 'category' end,
      case when new.quality_metrics is distinct from old.quality_metrics then 'quality_metrics' end,
      case when new.estimated_cost_usd is distinct from old.estimated_cost_usd then 'estimated_cost_usd' end,
      case when new.actual_cost_usd is distinct from old.actual_cost_usd then 'actual_cost_usd' end,
      case when new.generation_duration_ms is distinct from old.generation_duration_ms then 'generation_duration_ms' end,
      case when new.generation_model is distinct from old.generation_model then 'generation_model' end,
      case when new.parameters is distinct from old.parameters then 'parameters' end,
      case when new.metadata is distinct from old.metadata then 'metadata' end,
      -- the database's own columns that follow content: a turn change that
      -- raced the review (its statement saw the conversation unreviewed), a
      -- template removed from under it
      case when new.turns_updated_at is distinct from old.turns_updated_at then 'turns' end,
      case when new.template_id is distinct from old.template_id then 'template_id' end
    ]) f where f is not null;
    if v_changed is not null then
      raise exception using errcode = 'PT409',
        message = format('conversation %s is %s and its content is frozen: %s cannot change', old.conversation_id, old.status,
                         array_to_string(v_changed, ', ')),
        detail = 'a reviewer reopens it (request_changes) to allow edits';
    end if;
  end if;
  return new;
end
$$;

-- Fires only where a rule can apply, so bulk rescoring of unreviewed rows pays nothing.
create or replace trigger conversations_guard_review_insert
  before insert on public.conversations
  for each row when (new.status in ('approved', 'rejected'))
  execute function private.conversations_guard_review();
create or replace trigger conversations_guard_review_update
  before update on public.conversations
  for each row when (old.status in ('approved', 'rejected') or new.reviewer_notes is distinct from old.reviewer_notes)
  execute function private.conversations_guard_review();

-- Turns of an approved or rejected conversation are frozen with it (once per
-- statement, over the conversations the statement touched).
create or replace function private.conversation_turns_guard_review() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_frozen public.conversations;
begin
  if private.acting_as_service() then
    return null;
  end if;
  if tg_op = 'INSERT' then
    select c.* into v_frozen from public.conversations c
     where c.id in (select conversation_id from new_turns) and c.status in ('approved', 'rejected') limit 1;
  elsif tg_op = 'UPDATE' then
    select c.* into v_frozen from public.conversations c
     where c.id in (select conversation_id from new_turns union select conversation_id from old_turns)
       and c.status in ('approved', 'rejected') limit 1;
  else
    select c.* into v_frozen from public.conversations c
     where c.id in (select conversation_id from old_turns) and c.status in ('approved', 'rejected') limit 1;
  end if;
  if v_frozen.id is not null then
    raise exception using errcode = 'PT409',
      message = format('conversation %s is %s and its turns are frozen', v_frozen.conversation_id, v_frozen.status),
      detail = 'a reviewer reopens it (request_changes) to allow edits';
  end if;
  return null;
end
$$;

create or replace trigger conversation_turns_guard_review_insert
  after insert on public.conversation_turns referencing new table as new_turns
  for each statement execute function private.conversation_turns_guard_review();
create or replace trigger conversation_turns_guard_review_update
  after update on public.conversation_turns referencing new table as new_turns old table as old_turns
  for each statement execute function private.conversation_turns_guard_review();
create or replace trigger conversation_turns_guard_review_delete
  after delete on public.conversation_turns referencing old table as old_turns
  for each statement execute function private.conversation_turns_guard_review();

-- A reviewed conversation's template lends it its system prompt (exports
-- put it first) and its turn bounds (the score): while any approved or
-- rejected conversation uses a template, those stay as they were reviewed,
-- and the template is not deleted (deactivate it, or make a new one).
create or replace function private.conversation_templates_guard_review() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_reviewed bigint;
begin
  if private.acting_as_service() then
    return case when tg_op = 'DELETE' then old else new end;
  end if;
  select count(*) into v_reviewed from public.conversations c
   where c.template_id = old.id and c.status in ('approved', 'rejected');
  if v_reviewed > 0 then
    raise exception using errcode = 'PT409',
      message = format('template %s is part of %s reviewed conversation(s): %s', old.template_name, v_reviewed,
        case when tg_op = 'DELETE' then 'it cannot be deleted (deactivate it instead)'
             else 'its system prompt and turn bounds cannot change (create a new template)' end);
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

create or replace trigger conversation_templates_guard_review_update
  before update of system_prompt, min_turns, max_turns on public.conversation_templates
  for each row when ((old.system_prompt, old.min_turns, old.max_turns) is distinct from (new.system_prompt, new.min_turns, new.max_turns))
  execute function private.conversation_templates_guard_review();
create or replace trigger conversation_templates_guard_review_delete
  before delete on public.conversation_templates
  for each row execute function private.conversation_templates_guard_review();

-- What a conversation refers to (template, scenario, edge case, document,
-- chunk, parent) must be something its writer may see: a foreign key alone
-- would let a user attach another user's private rows (and count their use).
-- Not found, whether absent or private, so nothing is revealed.
create or replace function private.conversations_check_references() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_reviewer boolean;
  v_missing text;
begin
  if private.acting_as_service() then
    return new;
  end if;
  v_reviewer := private.is_reviewer();
  v_missing := case
    when new.template_id is not null and not exists (select 1 from public.conversation_templates t where t.id = new.template_id
           and (t.created_by is null or t.created_by = v_uid or v_reviewer)) then format('template %s', new.template_id)
    when new.scenario_id is not null and not exists (select 1 from public.scenarios s where s.id = new.scenario_id
           and (s.created_by is null or s.created_by = v_uid or v_reviewer)) then format('scenario %s', new.scenario_id)
    when new.edge_case_id is not null and not exists (select 1 from public.edge_cases e where e.id = new.edge_case_id
           and (e.created_by is null or e.created_by = v_uid or v_reviewer)) then format('edge case %s', new.edge_case_id)
    when new.document_id is not null and not exists (select 1 from public.documents d where d.id = new.document_id
           and (d.created_by = v_uid or v_reviewer)) then format('document %s', new.document_id)
    when new.chunk_id is not null and not exists (select 1 from public.chunks k join public.documents d on d.id = k.document_id
           where k.id = new.chunk_id and (d.created_by = v_uid or v_reviewer)) then format('chunk %s', new.chunk_id)
    when new.parent_id is not null and not exists (select 1 from public.conversations p where p.id = new.parent_id
           and (p.created_by = v_uid or v_reviewer)) then format('conversation %s', new.parent_id)
  end;
  if v_missing is not null then
    raise exception using errcode = 'PT404', message = format('%s not found', v_missing);
  end if;
  return new;
end
$$;

create or replace trigger conversations_check_references
  before insert on public.conversations
  for each row execute function private.conversations_check_references();

-- The same for the template a scenario or an edge case hangs under.
create or replace function private.check_parent_template() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if new.parent_template_id is not null and not private.acting_as_service()
     and not exists (select 1 from public.conversation_templates t where t.id = new.parent_template_id
                       and (t.created_by is null or t.created_by = auth.uid() or private.is_reviewer())) then
    raise exception using errcode = 'PT404', message = format('template %s not found', new.parent_template_id);
  end if;
  return new;
end
$$;

create or replace trigger scenarios_check_parent_template
  before insert or update of parent_template_id on public.scenarios
  for each row execute function private.check_parent_template();
create or replace trigger edge_cases_check_parent_template
  before insert or update of parent_template_id on public.edge_cases
  for each row execute function private.check_parent_template();

-- ---------------------------------------------------------------------------
-- 2. Policies: private documents, one policy per command.

-- Source documents and their chunks are their owner's; reviewers read them
-- all (they review what was generated from them). A row without an owner (a
-- table adopted with rows from before) is seen by reviewers and the service
-- role only.
drop policy if exists documents_select on public.documents;
create policy documents_select on public.documents for select to authenticated
  using (created_by = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists documents_write_own on public.documents;
drop policy if exists documents_insert_own on public.documents;
create policy documents_insert_own on public.documents for insert to authenticated
  with check (created_by = (select auth.uid()));
drop policy if exists documents_update_own on public.documents;
create policy documents_update_own on public.documents for update to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));
drop policy if exists documents_delete_own on public.documents;
create policy documents_delete_own on public.documents for delete to authenticated
  using (created_by = (select auth.uid()));

drop policy if exists chunks_select on public.chunks;
create policy chunks_select on public.chunks for select to authenticated
  using ((select private.is_reviewer())
         or exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())));
drop policy if exists chunks_write_own on public.chunks;
drop policy if exists chunks_insert_own on public.chunks;
create policy chunks_insert_own on public.chunks for insert to authenticated
  with check (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())));
drop policy if exists chunks_update_own on public.chunks;
create policy chunks_update_own on public.chunks for update to authenticated
  using (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())))
  with check (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())));
drop policy if exists chunks_delete_own on public.chunks;
create policy chunks_delete_own on public.chunks for delete to authenticated
  using (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())));

-- Templates, scenarios, edge cases and turns: the FOR ALL write policies
-- overlapped the select policies (two policies evaluated per row read); one
-- policy per command instead, same rules.
do $$
declare
  t text;
begin
  foreach t in array array['conversation_templates', 'scenarios', 'edge_cases'] loop
    execute format('drop policy if exists %1$I on public.%2$I', t || '_write_own', t);
    execute format('drop policy if exists %1$I on public.%2$I', t || '_insert_own', t);
    execute format('create policy %1$I on public.%2$I for insert to authenticated with check (created_by = (select auth.uid()))',
                   t || '_insert_own', t);
    execute format('drop policy if exists %1$I on public.%2$I', t || '_update_own', t);
    execute format('create policy %1$I on public.%2$I for update to authenticated
                      using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()))', t || '_update_own', t);
    execute format('drop policy if exists %1$I on public.%2$I', t || '_delete_own', t);
    execute format('create policy %1$I on public.%2$I for delete to authenticated using (created_by = (select auth.uid()))',
                   t || '_delete_own', t);
  end loop;
end
$$;

drop policy if exists conversation_turns_write_own on public.conversation_turns;
drop policy if exists conversation_turns_insert_own on public.conversation_turns;
create policy conversation_turns_insert_own on public.conversation_turns for insert to authenticated
  with check (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())));
drop policy if exists conversation_turns_update_own on public.conversation_turns;
create policy conversation_turns_update_own on public.conversation_turns for update to authenticated
  using (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())))
  with check (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())));
drop policy if exists conversation_turns_delete_own on public.conversation_turns;
create policy conversation_turns_delete_own on public.conversation_turns for delete to authenticated
  using (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())));

-- Batch jobs, export logs and export items are written by the database only
-- (section 3): their write policies go; reading stays as it was.
drop policy if exists batch_jobs_write_own on public.batch_jobs;
drop policy if exists export_logs_write_own on public.export_logs;
drop policy if exists export_log_items_own on public.export_log_items;
drop policy if exists export_log_items_select on public.export_log_items;
create policy export_log_items_select on public.export_log_items for select to authenticated
  using (exists (select 1 from public.export_logs l where l.id = export_log_items.export_id
                 and (l.user_id = (select auth.uid()) or (select private.is_reviewer()))));

-- Annotations are the team's judgement of shared examples: any signed-in
-- annotator writes or revises any of them (the latest wins, as in seed 000),
-- and the history keeps every version with who wrote it. One policy per command.
drop policy if exists training_annotations_write on public.training_annotations;
drop policy if exists training_annotations_insert on public.training_annotations;
create policy training_annotations_insert on public.training_annotations for insert to authenticated
  with check ((select auth.uid()) is not null);
drop policy if exists training_annotations_update on public.training_annotations;
create policy training_annotations_update on public.training_annotations for update to authenticated
  using ((select auth.uid()) is not null) with check ((select auth.uid()) is not null);
drop policy if exists training_annotations_delete on public.training_annotations;
create policy training_annotations_delete on public.training_annotations for delete to authenticated
  using ((select auth.uid()) is not null);
comment on policy training_annotations_insert on public.training_annotations is
  'Reason: annotations are the team''s shared judgement; any signed-in annotator writes one, and the history records who.';
comment on policy training_annotations_update on public.training_annotations is
  'Reason: the latest annotation wins, whoever wrote it (seed 000); the history keeps every version with who wrote it.';
comment on policy training_annotations_delete on public.training_annotations is
  'Reason: clearing an annotation is an annotation change like any other; the history keeps it.';

-- The read policies that are true for every signed-in user, each with its reason.
comment on policy training_runs_select_authenticated on public.training_runs is
  'Reason: the runs registry is the team''s shared record; every signed-in user reads every run, and changes only their own.';
comment on policy run_objectives_select_authenticated on public.run_objectives is
  'Reason: objective results are part of a run, which every signed-in user reads.';
comment on policy quality_rubric_select on public.quality_rubric is
  'Reason: the scoring rubric is shared reference data; it explains every score.';
comment on policy conversation_settings_select on public.conversation_settings is
  'Reason: the flagging threshold is shared reference data; it explains every flag.';
comment on policy unified_logs_select on public.unified_logs is
  'Reason: trace logs are the team''s shared source of training examples; service role writes, every signed-in user reads.';
comment on policy training_examples_select on public.training_examples is
  'Reason: examples are extracted from shared trace logs; every signed-in annotator reads them.';
comment on policy training_annotations_select on public.training_annotations is
  'Reason: annotations are the team''s shared judgement of shared examples.';
comment on policy training_annotation_history_select on public.training_annotation_history is
  'Reason: the audit trail of shared annotations, readable by every annotator.';

-- ---------------------------------------------------------------------------
-- 3. What the database computes or audits, only the database writes.

-- Runs: owners write what their scripts report; the registry's own stamps
-- (created_at, the W&B report time, the row's db timestamps) and the run's
-- identity and owner after insert are the database's.
revoke insert, update on table public.training_runs from authenticated;
grant insert (run_id, config_json, wandb_run_id, wandb_url, run_name, chain_of_custody_id, config_file_path, host, instance_id,
              status, started_at, ended_at, duration_seconds, final_metrics_json, blog_post_url, conversation_s3_key,
              crash_report_s3_key, error_log_s3_key, crash_analysis_s3_key, error_message, created_by)
  on table public.training_runs to authenticated;
grant update (config_json, wandb_run_id, wandb_url, run_name, chain_of_custody_id, config_file_path, host, instance_id,
              status, started_at, ended_at, duration_seconds, final_metrics_json, blog_post_url, conversation_s3_key,
              crash_report_s3_key, error_log_s3_key, crash_analysis_s3_key, error_message)
  on table public.training_runs to authenticated;

-- Objectives are derived from the run's config and final metrics: the sync
-- triggers write them as the table owner, for the row being written only.
-- Owners may still delete their run's rows (DELETE /runs/:id/objectives).
alter function private.sync_run_objectives() security definer;
alter function private.sync_inserted_run_objectives() security definer;
revoke execute on function private.sync_run_objectives_for(text, jsonb, jsonb, boolean) from authenticated;
revoke insert, update on table public.run_objectives from authenticated;
drop policy if exists run_objectives_insert_own on public.run_objectives;
drop policy if exists run_objectives_update_own on public.run_objectives;

-- Templates and scenarios: how often they were used, and how well, is the
-- database's to count (usage by the trigger below; rating and success_rate
-- by the service role).
revoke insert, update on table public.conversation_templates, public.scenarios, public.edge_cases from authenticated;
grant insert (id, template_name, description, category, tier, template_text, system_prompt, structure, variables,
              applicable_personas, applicable_emotions, applicable_topics, min_turns, max_turns, version, is_active, created_by),
      update (template_name, description, category, tier, template_text, system_prompt, structure, variables,
              applicable_personas, applicable_emotions, applicable_topics, min_turns, max_turns, version, is_active)
  on table public.conversation_templates to authenticated;
grant insert (id, parent_template_id, name, description, context, persona, topic, emotional_arc, parameter_values, status, created_by),
      update (parent_template_id, name, description, context, persona, topic, emotional_arc, parameter_values, status)
  on table public.scenarios to authenticated;
grant insert (id, parent_template_id, name, description, edge_case_type, trigger_condition, expected_behavior, risk_level,
              validation_criteria, test_status, created_by),
      update (parent_template_id, name, description, edge_case_type, trigger_condition, expected_behavior, risk_level,
              validation_criteria, test_status)
  on table public.edge_cases to authenticated;

-- Usage: the conversations made from a template or scenario, whoever wrote
-- them and however (once per statement, on insert and on delete; never
-- below zero for rows older than this count).
create or replace function private.conversations_count_usage() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_sign integer;
  v_templates uuid[];
  v_scenarios uuid[];
begin
  -- Two branches, not one query: each trigger has only its own transition table.
  if tg_op = 'INSERT' then
    select 1, array_agg(template_id), array_agg(scenario_id) into v_sign, v_templates, v_scenarios from new_conversations;
  else
    select -1, array_agg(template_id), array_agg(scenario_id) into v_sign, v_templates, v_scenarios from old_conversations;
  end if;
  update public.conversation_templates t set usage_count = greatest(0, t.usage_count + v_sign * u.n)
    from (select id, count(*)::int as n from unnest(v_templates) id where id is not null group by id) u
   where t.id = u.id;
  update public.scenarios s set usage_count = greatest(0, s.usage_count + v_sign * u.n)
    from (select id, count(*)::int as n from unnest(v_scenarios) id where id is not null group by id) u
   where s.id = u.id;
  return null;
end
$$;

create or replace trigger conversations_count_usage
  after insert on public.conversations referencing new table as new_conversations
  for each statement execute function private.conversations_count_usage();
create or replace trigger conversations_count_usage_delete
  after delete on public.conversations referencing old table as old_conversations
  for each statement execute function private.conversations_count_usage();

-- Batch jobs, export logs and their items: written through these functions
-- only, which stamp the caller as owner and let only the owner (or the
-- service role) move a job or an export forward. Where a job or an export
-- stands is the database's too (the side tables below, never exposed): a
-- chunk or page is taken from there, so a replayed call cannot count rows
-- twice, and a job is completed only once its chunks ran out.
revoke insert, update, delete on table public.batch_jobs, public.export_logs, public.export_log_items from authenticated;

create table if not exists private.job_positions (
  job_id uuid primary key references public.batch_jobs (id) on delete cascade,
  after_id uuid,
  exhausted boolean not null default false
);
create table if not exists private.export_positions (
  export_id uuid primary key references public.export_logs (id) on delete cascade,
  position jsonb
);
revoke all on table private.job_positions, private.export_positions from public, anon, authenticated, service_role;

create or replace function private.batch_job_open(p_job_type text, p_name text, p_total integer, p_parameters jsonb)
returns public.batch_jobs
language plpgsql security definer
set search_path = ''
as $$
declare
  j public.batch_jobs;
begin
  if auth.uid() is null and not private.acting_as_service() then
    raise exception using errcode = '42501', message = 'batch jobs are started by a signed-in user or the service role';
  end if;
  insert into public.batch_jobs (job_type, name, status, total_items, parameters, started_at, created_by)
  values (p_job_type, p_name, 'running', p_total, coalesce(p_parameters, '{}'::jsonb), now(), auth.uid())
  returning * into j;
  insert into private.job_positions (job_id) values (j.id);
  return j;
end
$$;

-- A running job of the caller's, locked for its next move, with where it
-- stands; 404 otherwise.
create or replace function private.batch_job_position(p_job_id uuid) returns private.job_positions
language plpgsql security definer
set search_path = ''
as $$
declare
  p private.job_positions;
begin
  perform 1 from public.batch_jobs
   where id = p_job_id and status = 'running' and (created_by = auth.uid() or private.acting_as_service())
     for no key update;
  if not found then
    raise exception using errcode = 'PT404', message = format('running job %s not found', p_job_id);
  end if;
  select * into p from private.job_positions where job_id = p_job_id;
  return coalesce(p, row(p_job_id, null, false)::private.job_positions);
end
$$;

-- Progress: counts the database itself measured (results keys are summed),
-- and where the next chunk starts.
create or replace function private.batch_job_progress(
  p_job_id uuid, p_processed integer, p_results jsonb, p_after uuid, p_exhausted boolean
) returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.batch_job_position(p_job_id);
  update public.batch_jobs j set
    processed_items = j.processed_items + p_processed,
    successful_items = j.successful_items + p_processed,
    results = j.results || coalesce((select jsonb_object_agg(k, coalesce((j.results ->> k)::numeric, 0) + (p_results ->> k)::numeric)
                                       from jsonb_object_keys(p_results) k), '{}'::jsonb)
  where j.id = p_job_id;
  insert into private.job_positions as p (job_id, after_id, exhausted) values (p_job_id, p_after, p_exhausted)
  on conflict (job_id) do update set after_id = coalesce(excluded.after_id, p.after_id), exhausted = excluded.exhausted;
end
$$;

-- Completed only once its chunks ran out; failed with a reason at any time.
create or replace function private.batch_job_finish(p_job_id uuid, p_error text) returns public.batch_jobs
language plpgsql security definer
set search_path = ''
as $$
declare
  j public.batch_jobs;
begin
  if p_error is null and not (private.batch_job_position(p_job_id)).exhausted then
    raise exception using errcode = 'PT409',
      message = format('job %s has items left: run its remaining chunks, or finish it with an error', p_job_id);
  end if;
  perform private.batch_job_position(p_job_id);
  update public.batch_jobs set status = case when p_error is null then 'completed' else 'failed' end,
         error_message = left(p_error, 2000), completed_at = now()
   where id = p_job_id
  returning * into j;
  return j;
end
$$;

create or replace function private.export_log_open(
  p_format text, p_shape text, p_filters jsonb, p_include_metadata boolean, p_file_name text
) returns public.export_logs
language plpgsql security definer
set search_path = ''
as $$
declare
  e public.export_logs;
begin
  if auth.uid() is null and not private.acting_as_service() then
    raise exception using errcode = '42501', message = 'exports are made by a signed-in user or the service role';
  end if;
  insert into public.export_logs (user_id, format, shape, filters, include_metadata, file_name)
  values (auth.uid(), p_format, p_shape, coalesce(p_filters, '{}'::jsonb), coalesce(p_include_metadata, false), p_file_name)
  returning * into e;
  insert into private.export_positions (export_id) values (e.id);
  return e;
end
$$;

-- Where a running export of the caller's stands (the last conversation it
-- took, as {t, i}; null before the first page), the export locked for its
-- next page; 404 otherwise.
create or replace function private.export_log_position(p_export_id uuid) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
begin
  perform 1 from public.export_logs
   where id = p_export_id and status = 'running' and (user_id = auth.uid() or private.acting_as_service())
     for no key update;
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
  end if;
  return (select p.position from private.export_positions p where p.export_id = p_export_id);
end
$$;

-- The page the database just built for the export: its ids (conversations
-- the caller may see) and where the next page starts.
create or replace function private.export_log_record_page(p_export_id uuid, p_ids uuid[], p_position jsonb) returns void
language plpgsql security definer
set search_path = ''
as $$
declare
  v_before integer;
begin
  perform private.export_log_position(p_export_id);
  if exists (select 1 from unnest(p_ids) u(id)
              where not exists (select 1 from public.conversations c where c.id = u.id
                                  and (c.created_by = auth.uid() or private.is_reviewer() or private.acting_as_service()))) then
    raise exception using errcode = '22023', message = 'an export records only conversations its maker may see';
  end if;
  update public.export_logs set conversation_count = conversation_count + coalesce(cardinality(p_ids), 0)
   where id = p_export_id
  returning conversation_count - coalesce(cardinality(p_ids), 0) into v_before;
  insert into public.export_log_items (export_id, position, conversation_id)
  select p_export_id, v_before + u.i, u.id from unnest(p_ids) with ordinality u(id, i);
  insert into private.export_positions as p (export_id, position) values (p_export_id, p_position)
  on conflict (export_id) do update set position = coalesce(excluded.position, p.position);
end
$$;

create or replace function public.conversations_export_start(
  p_format text, p_shape text, p_filter jsonb, p_include_metadata boolean, p_file_name text
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
begin
  perform private.conversation_filter_sql(p_filter);
  return to_jsonb(private.export_log_open(p_format, p_shape, p_filter, p_include_metadata, p_file_name));
end
$$;

-- As in 20261125000000, with the page taken from where the export stands
-- and its ids recorded through private.export_log_record_page instead of
-- written by the caller.
create or replace function public.conversations_export_page(p_export_id uuid, p_cursor jsonb default null, p_limit integer default 500)
returns json
language plpgsql
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  e public.export_logs;
  v_detail text;
  v_conversation text;
  v_turn text;
  v_rows json;
  v_ids uuid[];
  v_position jsonb;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit, 5000);
  select * into e from public.export_logs where id = p_export_id and status = 'running';
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
  end if;
  -- The next page starts where the export stands; a caller that thinks otherwise took a page twice.
  v_position := private.export_log_position(p_export_id);
  if (p_cursor is null) <> (v_position is null)
     or ((p_cursor ->> 't')::timestamptz, (p_cursor ->> 'i')::uuid) is distinct from ((v_position ->> 't')::timestamptz, (v_position ->> 'i')::uuid) then
    raise exception using errcode = 'PT409',
      message = format('export %s has moved on: its next page starts after %s, not after %s', p_export_id,
                       coalesce(v_position::text, 'the beginning'), coalesce(p_cursor::text, 'the beginning'));
  end if;
  v_detail := case when e.shape = 'raw' then 'full'
                   when e.format in ('csv', 'markdown') or e.include_metadata then 'summary'
                   else 'messages' end;
  v_conversation := case v_detail
    when 'full' then 'private.conversation_json(p)::json'
    when 'summary' then 'json_build_object(''id'', p.id, ''conversation_id'', p.conversation_id, ''title'', p.title,
      ''persona'', p.persona, ''emotion'', p.emotion, ''topic'', p.topic, ''intent'', p.intent, ''tone'', p.tone, ''tier'', p.tier,
      ''category'', p.category, ''status'', p.status, ''quality_score'', p.quality_score, ''is_flagged'', p.is_flagged,
      ''flag_reason'', p.flag_reason, ''template_id'', p.template_id, ''created_at'', p.created_at, ''parameters'', p.parameters,
      ''quality_metrics'', p.quality_metrics)'
    else 'json_build_object(''id'', p.id, ''created_at'', p.created_at)' end;
  v_turn := case v_detail
    when 'full' then 'json_build_object(''turn_number'', t.turn_number, ''role'', t.role, ''content'', t.content,
      ''token_count'', t.token_count, ''char_count'', t.char_count)'
    when 'summary' then 'json_build_object(''turn_number'', t.turn_number, ''role'', t.role, ''content'', t.content, ''token_count'', t.token_count)'
    else 'json_build_object(''role'', t.role, ''content'', t.content)' end;
  execute format(
    'with page as (select c.* from public.conversations c where %s %s order by c.created_at, c.id limit $4)
     select coalesce(json_agg(json_build_object(''conversation'', %s, ''turns'', coalesce(tt.turns, ''[]''::json),
                                                ''system_prompt'', tpl.system_prompt)
                              order by p.created_at, p.id), ''[]''::json),
            array_agg(p.id order by p.created_at, p.id),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.id) order by p.created_at desc, p.id desc))[1]
       from page p
            left join lateral (select json_agg(%s order by t.turn_number) as turns
                                 from public.conversation_turns t where t.conversation_id = p.id) tt on true
            left join public.conversation_templates tpl on tpl.id = p.template_id',
    private.conversation_filter_sql(e.filters),
    case when v_position is null then '' else 'and (c.created_at, c.id) > ($2, $3)' end,
    v_conversation, v_turn)
  into v_rows, v_ids, v_last using e.filters, (v_position ->> 't')::timestamptz, (v_position ->> 'i')::uuid, p_limit;
  perform private.export_log_record_page(p_export_id, v_ids, v_last);
  return v_rows;
end
$$;

-- An export's outcome is vouched for by whoever streamed the file: the
-- service role (the conversations function finishes its exports as it).
create or replace function public.conversations_export_finish(
  p_export_id uuid, p_bytes bigint, p_sha256 text default null, p_error text default null
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  e public.export_logs;
begin
  if not private.acting_as_service() then
    raise exception using errcode = '42501',
      message = 'an export is completed by the service role: the function that streamed the file records its size and checksum';
  end if;
  update public.export_logs set status = case when p_error is null then 'completed' else 'failed' end,
         file_size_bytes = p_bytes, checksum_sha256 = p_sha256, error_message = left(p_error, 2000), completed_at = now(),
         conversation_ids = (select coalesce(array_agg(i.conversation_id order by i.position), '{}')
                               from public.export_log_items i where i.export_id = p_export_id)
   where id = p_export_id and status = 'running'
  returning * into e;
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
  end if;
  delete from public.export_log_items where export_id = p_export_id;
  return to_jsonb(e) - 'conversation_ids';
end
$$;

-- The conversation functions that wrote those tables as the caller, now
-- through the functions above (bodies otherwise as in 20261125000000).
-- Usage counts come from the trigger, whoever inserts; turns are bounded as
-- the function bounds them.
create or replace function public.conversations_create(p_conversation jsonb, p_turns jsonb) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  r public.conversations := jsonb_populate_record(null::public.conversations, p_conversation);
  c public.conversations;
begin
  if jsonb_typeof(p_turns) is distinct from 'array' or jsonb_array_length(p_turns) = 0 then
    raise exception using errcode = '22023', message = 'turns: give at least one turn';
  end if;
  if jsonb_array_length(p_turns) > 500 then
    raise exception using errcode = '22023', message = 'turns: at most 500 turns per conversation';
  end if;
  insert into public.conversations
    (conversation_id, document_id, chunk_id, template_id, scenario_id, edge_case_id, parent_id, parent_type, title, persona,
     emotion, topic, intent, tone, tier, category, status, quality_metrics, estimated_cost_usd, actual_cost_usd,
     generation_duration_ms, generation_model, parameters, metadata)
  values
    (coalesce(r.conversation_id, 'conv_' || replace(gen_random_uuid()::text, '-', '')), r.document_id, r.chunk_id,
     r.template_id, r.scenario_id, r.edge_case_id, r.parent_id, r.parent_type, r.title, r.persona, r.emotion, r.topic,
     r.intent, r.tone, coalesce(r.tier, 'template'), r.category, coalesce(r.status, 'generated'),
     coalesce(r.quality_metrics, '{}'::jsonb), r.estimated_cost_usd, r.actual_cost_usd, r.generation_duration_ms,
     r.generation_model, coalesce(r.parameters, '{}'::jsonb), coalesce(r.metadata, '{}'::jsonb))
  returning * into c;
  insert into public.conversation_turns (conversation_id, turn_number, role, content, token_count)
  select c.id, coalesce(t.turn_number, e.ord::int), t.role, t.content, t.token_count
    from jsonb_array_elements(p_turns) with ordinality e(turn, ord),
         jsonb_to_record(e.turn) as t(turn_number integer, role text, content text, token_count integer);
  select * into c from public.conversations where id = c.id;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;


create or replace function public.conversations_rescore_start(p_threshold numeric default null, p_filter jsonb default null)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_total integer;
  j public.batch_jobs;
begin
  if p_threshold is not null then
    if not private.can_review() then
      raise exception using errcode = '42501', message = 'only reviewers change the quality threshold';
    end if;
    update public.conversation_settings set quality_threshold = p_threshold where id;
  end if;
  execute format('select count(*) from public.conversations c where %s', private.conversation_filter_sql(p_filter))
    into v_total using p_filter;
  j := private.batch_job_open('validation', 'rescore', v_total,
         jsonb_build_object('threshold', (select quality_threshold from public.conversation_settings where id), 'filter', p_filter));
  return to_jsonb(j);
end
$$;


create or replace function public.conversations_rescore_chunk(p_job_id uuid, p_after uuid default null, p_limit integer default 1000)
returns jsonb
language plpgsql
set search_path = ''
set jit = off
as $$
declare
  j public.batch_jobs;
  v_position private.job_positions;
  v_counts jsonb;
begin
  perform private.check_page_limit(p_limit, 10000);
  select * into j from public.batch_jobs where id = p_job_id and job_type = 'validation' and name = 'rescore';
  if not found then
    raise exception using errcode = 'PT404', message = format('rescore job %s not found', p_job_id);
  end if;
  if j.status <> 'running' then
    raise exception using errcode = 'PT409', message = format('rescore job %s is %s', p_job_id, j.status);
  end if;
  -- The chunk starts where the job stands; a caller that thinks otherwise ran a chunk twice.
  v_position := private.batch_job_position(p_job_id);
  if p_after is distinct from v_position.after_id then
    raise exception using errcode = 'PT409',
      message = format('rescore job %s has moved on: its next chunk starts after %s, not after %s', p_job_id,
                       coalesce(v_position.after_id::text, 'the beginning'), coalesce(p_after::text, 'the beginning'));
  end if;
  if v_position.exhausted then
    return jsonb_build_object('processed', 0, 'next_after', null);
  end if;
  perform set_config('registry.rescore', 'on', true);
  execute format(
    'with chunk as (select c.id, c.is_flagged from public.conversations c where %s and ($2::uuid is null or c.id > $2)
                     order by c.id limit $3),
          done as (update public.conversations u set quality_metrics = u.quality_metrics from chunk
                    where u.id = chunk.id returning u.id, u.is_flagged, chunk.is_flagged as was_flagged)
     select jsonb_build_object(''processed'', count(*), ''flagged'', count(*) filter (where is_flagged and not was_flagged),
              ''unflagged'', count(*) filter (where was_flagged and not is_flagged),
              ''unchanged'', count(*) filter (where is_flagged = was_flagged), ''last'', max(id::text))
       from done', private.conversation_filter_sql(j.parameters -> 'filter'))
    into v_counts using j.parameters -> 'filter', v_position.after_id, p_limit;
  perform set_config('registry.rescore', '', true);
  perform private.batch_job_progress(p_job_id, (v_counts ->> 'processed')::int,
    jsonb_build_object('flagged', (v_counts ->> 'flagged')::int, 'unflagged', (v_counts ->> 'unflagged')::int,
                       'unchanged', (v_counts ->> 'unchanged')::int),
    (v_counts ->> 'last')::uuid, (v_counts ->> 'processed')::int < p_limit);
  return jsonb_build_object('processed', (v_counts ->> 'processed')::int,
    'next_after', case when (v_counts ->> 'processed')::int = p_limit then v_counts ->> 'last' end);
end
$$;


create or replace function public.conversations_finish_job(p_job_id uuid, p_error text default null) returns jsonb
language plpgsql
set search_path = ''
as $$
begin
  return to_jsonb(private.batch_job_finish(p_job_id, p_error));
end
$$;

-- ---------------------------------------------------------------------------
-- 4. Bounded inputs. runs_list takes a filter AST from anyone who may call
-- it (the runs function validates it first; a direct rpc does not). It is
-- checked here before anything is compiled: at most 1 MB, 200 predicates,
-- 32 levels, 1,000 IN values, 32 keys in a config path. It then compiles to
-- SQL in which each predicate reads its own node from a flat array of
-- predicates ($10 -> k), instead of walking the whole AST from its root:
-- the SQL, and what the planner folds from it, grow linearly with the filter.

create or replace function private.run_filter_check_node(p_node jsonb, p_depth integer, p_budget integer) returns integer
language plpgsql immutable
set search_path = ''
as $$
declare
  v_arg jsonb;
begin
  if p_depth > 32 then
    raise exception using errcode = '22023', message = 'filter nests deeper than 32 levels';
  end if;
  if jsonb_typeof(p_node) is distinct from 'object' then
    raise exception using errcode = '22023', message = 'a filter node must be an object';
  end if;
  if p_node ->> 'op' in ('and', 'or') then
    if jsonb_typeof(p_node -> 'args') is distinct from 'array' or jsonb_array_length(p_node -> 'args') = 0 then
      raise exception using errcode = '22023', message = format('%s needs arguments', p_node ->> 'op');
    end if;
    if jsonb_array_length(p_node -> 'args') > p_budget then
      raise exception using errcode = '22023', message = 'filter has more than 200 conditions';
    end if;
    for v_arg in select a from jsonb_array_elements(p_node -> 'args') a loop
      p_budget := private.run_filter_check_node(v_arg, p_depth + 1, p_budget);
    end loop;
    return p_budget;
  end if;
  if p_budget < 1 then
    raise exception using errcode = '22023', message = 'filter has more than 200 conditions';
  end if;
  if jsonb_typeof(p_node -> 'values') = 'array' and jsonb_array_length(p_node -> 'values') > 1000 then
    raise exception using errcode = '22023', message = 'IN takes at most 1000 values';
  end if;
  if jsonb_typeof(p_node #> '{field,path}') = 'array' and jsonb_array_length(p_node #> '{field,path}') > 32 then
    raise exception using errcode = '22023', message = 'a config path has at most 32 keys';
  end if;
  return p_budget - 1;
end
$$;

create or replace function private.run_filter_check(p_filter jsonb, p_order jsonb) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
  if pg_catalog.pg_column_size(p_filter) > 1048576 then
    raise exception using errcode = '22023', message = 'filter is larger than 1 MB';
  end if;
  if pg_catalog.pg_column_size(p_order) > 16384 then
    raise exception using errcode = '22023', message = 'order is larger than 16 kB';
  end if;
  if jsonb_typeof(p_order #> '{field,path}') = 'array' and jsonb_array_length(p_order #> '{field,path}') > 32 then
    raise exception using errcode = '22023', message = 'a config path has at most 32 keys';
  end if;
  if p_filter is not null then
    perform private.run_filter_check_node(p_filter, 1, 200);
  end if;
end
$$;

-- One predicate as SQL, as in 20261123000000 but for IN (below).
create or replace function private.run_filter_sql(node jsonb, ref text) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_op text := node ->> 'op';
  v_field jsonb := node -> 'field';
  v_fref text := format('(%s -> ''field'')', ref);
  v_lit jsonb;
  v_lit_type text;
  v_f text[];
  v_lhs text;
  v_cast text;
  v_cmp text;
  v_sql text;
  v_objective boolean;
begin
  if v_op in ('and', 'or') then
    if jsonb_typeof(node -> 'args') <> 'array' or jsonb_array_length(node -> 'args') = 0 then
      raise exception using errcode = '22023', message = format('%s needs arguments', v_op);
    end if;
    select string_agg(format('(%s)', private.run_filter_sql(a, format('(%s -> ''args'' -> %s)', ref, i - 1))), format(' %s ', v_op))
      into v_sql
    from jsonb_array_elements(node -> 'args') with ordinality x(a, i);
    return v_sql;
  end if;

  if v_op not in ('cmp', 'in', 'null', 'like') or jsonb_typeof(v_field) <> 'object' then
    raise exception using errcode = '22023', message = format('unknown filter node %s', coalesce(v_op, 'null'));
  end if;

  -- The literal that decides how a JSON value is compared.
  v_lit := case v_op when 'cmp' then node -> 'value' when 'in' then node -> 'values' -> 0 end;
  v_lit_type := jsonb_typeof(v_lit);
  v_objective := v_field ->> 'kind' = 'objective';

  if v_objective then
    v_lhs := format('o.%I', private.objective_metric_column(v_field ->> 'metric'));
    v_cast := 'double precision';
  else
    v_f := private.run_field_sql(v_field, v_fref);
    if v_f[2] = 'jsonb' then
      if v_op = 'null' then
        v_lhs := v_f[1];
      elsif v_op = 'like' or v_lit_type = 'string' then
        v_lhs := format('(%s #>> ''{}'')', v_f[1]); v_cast := 'text';
      elsif v_lit_type = 'number' then
        v_lhs := format('private.jsonb_num(%s)', v_f[1]); v_cast := 'numeric';
      elsif v_lit_type = 'boolean' then
        v_lhs := v_f[1]; v_cast := 'jsonb';
      else
        raise exception using errcode = '22023', message = 'a filter value must be a string, number or boolean';
      end if;
    else
      v_lhs := v_f[1]; v_cast := v_f[2];
    end if;
  end if;

  case v_op
    when 'cmp' then
      v_cmp := case node ->> 'cmp' when '=' then '=' when '!=' then '<>' when '<' then '<' when '<=' then '<='
                                   when '>' then '>' when '>=' then '>=' end;
      if v_cmp is null then
        raise exception using errcode = '22023', message = format('unknown comparison %s', node ->> 'cmp');
      end if;
      if v_cast = 'jsonb' and v_cmp not in ('=', '<>') then
        raise exception using errcode = '22023', message = 'true and false compare only with = and !=';
      end if;
      v_sql := format('%s %s %s', v_lhs, v_cmp,
        case when v_cast = 'jsonb' then format('(%s -> ''value'')', ref)
             else format('(%s ->> ''value'')::%s', ref, v_cast) end);
    when 'in' then
      if jsonb_typeof(node -> 'values') <> 'array' or jsonb_array_length(node -> 'values') = 0 then
        raise exception using errcode = '22023', message = 'IN needs at least one value';
      end if;
      -- One reference to the node however many values: referring to each
      -- value by its index made the planner copy the whole node per value.
      v_sql := format('%s %s (array(select %s from jsonb_array_elements%s(%s -> ''values'') x(v)))', v_lhs,
        case when (node ->> 'negated')::boolean then '<> all' else '= any' end,
        case when v_cast = 'jsonb' then 'x.v' else format('x.v::%s', v_cast) end,
        case when v_cast = 'jsonb' then '' else '_text' end, ref);
    when 'null' then
      v_sql := case
        when v_objective then format('%s is not null', v_lhs)
        else format('%s is not null', v_lhs) end;
      if not v_objective and not coalesce((node ->> 'negated')::boolean, false) then
        v_sql := format('not (%s)', v_sql);
      end if;
    when 'like' then
      if v_objective or v_cast <> 'text' then
        raise exception using errcode = '22023', message = 'LIKE applies to text fields only';
      end if;
      v_sql := format('%s %s%s (%s ->> ''pattern'')', v_lhs,
        case when (node ->> 'negated')::boolean then 'not ' else '' end,
        case when (node ->> 'case_insensitive')::boolean then 'ilike' else 'like' end, ref);
  end case;

  if v_objective then
    -- IS NULL on an objective: the run has no value for it (or no such objective).
    return format('%s (select 1 from public.run_objectives o where o.run_id = r.run_id and o.objective_name = (%s ->> ''name'') and %s)',
      case when v_op = 'null' and not coalesce((node ->> 'negated')::boolean, false) then 'not exists' else 'exists' end,
      v_fref, v_sql);
  end if;
  return v_sql;
end
$$;


-- A checked AST as SQL, and its predicates in the order the SQL reads them:
-- predicate k is ($param -> k), compiled by private.run_filter_sql.
create or replace function private.run_filter_compile(p_node jsonb, p_param text, p_base integer, out sql text, out leaves jsonb)
language plpgsql immutable
set search_path = ''
as $$
declare
  v_arg jsonb;
  v_part record;
  v_parts text[] := '{}';
begin
  if p_node ->> 'op' in ('and', 'or') then
    leaves := '[]';
    for v_arg in select a from jsonb_array_elements(p_node -> 'args') a loop
      select * into v_part from private.run_filter_compile(v_arg, p_param, p_base + jsonb_array_length(leaves));
      v_parts := v_parts || format('(%s)', v_part.sql);
      leaves := leaves || v_part.leaves;
    end loop;
    sql := array_to_string(v_parts, format(' %s ', p_node ->> 'op'));
  else
    sql := private.run_filter_sql(p_node, format('(%s -> %s)', p_param, p_base));
    leaves := jsonb_build_array(p_node);
  end if;
end
$$;

-- Version snapshots are at most 1 MB each and nest at most 32 levels:
-- publishing hashes them and a diff compares them recursively, both holding
-- a copy per level, so the product of the two bounds what one call costs.
-- (Request bodies are 1 MB at most; a snapshot stored through the table API
-- is held to the same.)
alter table public.training_package_versions drop constraint if exists training_package_versions_snapshots_bounded;
alter table public.training_package_versions add constraint training_package_versions_snapshots_bounded
  check (pg_catalog.pg_column_size(config_snapshot) <= 1048576 and pg_catalog.pg_column_size(model_snapshot) <= 1048576
         and pg_catalog.pg_column_size(dataset_snapshot) <= 1048576
         and not jsonb_path_exists(config_snapshot, 'strict $.**{33}') and not jsonb_path_exists(model_snapshot, 'strict $.**{33}')
         and not jsonb_path_exists(dataset_snapshot, 'strict $.**{33}'));

-- Turn numbers run from 1 to 500, so no conversation has more turns than
-- conversations_create accepts, however its turns are written.
alter table public.conversation_turns drop constraint if exists conversation_turns_number_bounded;
alter table public.conversation_turns add constraint conversation_turns_number_bounded check (turn_number <= 500);

-- As in 20261123000000, with the checks first and the filter compiled by
-- private.run_filter_compile ($10 is the array of predicates).
create or replace function public.runs_list(
  p_status text default null,
  p_host text default null,
  p_gradient_method text default null,
  p_batch_size integer default null,
  p_min_duration_hours double precision default null,
  p_created_after timestamptz default null,
  p_created_before timestamptz default null,
  p_has_blog_post boolean default null,
  p_has_crash_analysis boolean default null,
  p_order_by text default null,
  p_limit integer default 50,
  p_cursor text default null,
  p_filter jsonb default null,
  p_order jsonb default null
) returns jsonb
language plpgsql stable
set jit = off
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_order jsonb := p_order;
  v_col text;
  v_dir text;
  v_f text[];
  v_expr text;
  v_not_null boolean;
  v_cmp text;
  v_cast text;
  v_where text[] := array['true'];
  v_cursor jsonb;
  v_rec record;
  v_items jsonb[] := '{}';
  v_n integer := 0;
  v_last_v jsonb;
  v_last_k text;
  v_next text;
  v_compiled record;
  v_leaves jsonb;
begin
  -- Sizes first: nothing is compiled or planned from an input over the bounds.
  perform private.run_filter_check(p_filter, p_order);
  if v_order is null then
    v_col := split_part(coalesce(p_order_by, 'created_at.desc'), '.', 1);
    v_dir := coalesce(nullif(split_part(coalesce(p_order_by, 'created_at.desc'), '.', 2), ''), 'asc');
    if coalesce(p_order_by, 'created_at.desc') !~ '^[a-z_]+(\.(asc|desc))?$' or not private.run_filter_columns() ? v_col then
      raise exception using errcode = '22023',
        message = 'order_by must be a column of the run with .asc or .desc, e.g. created_at.desc';
    end if;
    v_order := jsonb_build_object('field', jsonb_build_object('kind', 'column', 'name', v_col), 'dir', v_dir);
  end if;
  v_dir := v_order ->> 'dir';
  if v_dir is null or v_dir not in ('asc', 'desc') then
    raise exception using errcode = '22023', message = 'order direction must be asc or desc';
  end if;
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception using errcode = '22023', message = 'limit must be between 1 and 1000';
  end if;
  v_f := private.run_field_sql(v_order -> 'field', '($11 -> ''field'')');
  v_expr := v_f[1];
  v_not_null := v_f[3]::boolean;
  v_cmp := case v_dir when 'asc' then '>' else '<' end;

  if p_status is not null then v_where := v_where || 'r.status = $1'::text; end if;
  if p_host is not null then v_where := v_where || 'r.host = $2'::text; end if;
  if p_gradient_method is not null then v_where := v_where || 'r.gradient_method = $3'::text; end if;
  if p_batch_size is not null then v_where := v_where || 'r.batch_size = $4'::text; end if;
  if p_min_duration_hours is not null then v_where := v_where || 'r.duration_seconds >= $5 * 3600'::text; end if;
  if p_created_after is not null then v_where := v_where || 'r.created_at >= $6'::text; end if;
  if p_created_before is not null then v_where := v_where || 'r.created_at < $7'::text; end if;
  if p_has_blog_post is not null then
    v_where := v_where || case when p_has_blog_post then 'r.blog_post_url is not null' else 'r.blog_post_url is null' end;
  end if;
  if p_has_crash_analysis is not null then
    v_where := v_where || case when p_has_crash_analysis then 'r.crash_analysis_s3_key is not null' else 'r.crash_analysis_s3_key is null' end;
  end if;
  if p_filter is not null then
    select * into v_compiled from private.run_filter_compile(p_filter, '$10', 0);
    v_where := v_where || v_compiled.sql;
    v_leaves := v_compiled.leaves;
  end if;

  if p_cursor is not null then
    v_cursor := private.cursor_decode(p_cursor);
    if v_cursor -> 'o' is distinct from v_order or v_cursor ->> 'k' is null then
      raise exception using errcode = '22023', message = 'cursor does not belong to this order_by';
    end if;
    v_cast := case when v_f[2] = 'jsonb' then '$8' else format('($8 #>> ''{}'')::%s', v_f[2]) end;
    -- Keyset after (value, run_id) in the sort order; SQL nulls sort last.
    if v_not_null then
      v_where := v_where || format('(%s, r.run_id) %s (%s, $9)', v_expr, v_cmp, v_cast);
    elsif coalesce((v_cursor ->> 'n')::boolean, false) then
      v_where := v_where || format('(%s is null and r.run_id %s $9)', v_expr, v_cmp);
    else
      v_where := v_where || format('(%1$s %2$s %3$s or (%1$s = %3$s and r.run_id %2$s $9) or %1$s is null)', v_expr, v_cmp, v_cast);
    end if;
  end if;

  -- `nulls last` only where nulls can occur: on a not-null column it would
  -- stop the (col desc, run_id desc) indexes from serving the order.
  for v_rec in execute format(
    'select r, to_jsonb(%1$s) as v from public.training_runs r where %2$s order by %1$s %3$s%4$s, r.run_id %3$s limit %5$s',
    v_expr, array_to_string(v_where, ' and '), v_dir, case when v_not_null then '' else ' nulls last' end, p_limit + 1)
  using p_status, p_host, p_gradient_method, p_batch_size, p_min_duration_hours,
        p_created_after, p_created_before, v_cursor -> 'v', v_cursor ->> 'k', v_leaves, v_order
  loop
    v_n := v_n + 1;
    exit when v_n > p_limit;
    v_items := array_append(v_items, private.run_json(v_rec.r));
    v_last_v := v_rec.v;
    v_last_k := (v_rec.r).run_id;
  end loop;

  if v_n > p_limit then
    v_next := private.cursor_encode(jsonb_build_object(
      'o', v_order, 'v', v_last_v, 'n', v_last_v is null, 'k', v_last_k));
  end if;
  return jsonb_build_object('items', to_jsonb(v_items), 'next_cursor', v_next);
end
$$;


-- Full-text queries are bounded as the functions bound them (a query of a
-- megabyte is a hundred thousand terms to look up and rank).
-- As in 20261125000000, with a bound on q.
create or replace function private.conversation_filter_sql(p_filter jsonb) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_where text[] := array['true'];
  v_unknown text[];
begin
  if p_filter is null or jsonb_typeof(p_filter) = 'null' then
    return 'true';
  end if;
  if jsonb_typeof(p_filter) <> 'object' then
    raise exception using errcode = '22023', message = 'filter must be an object';
  end if;
  select array_agg(k order by k) into v_unknown from jsonb_object_keys(p_filter) k
   where k not in ('status', 'tier', 'persona', 'emotion', 'topic', 'flagged', 'min_quality', 'max_quality', 'q',
                   'created_after', 'created_before', 'template_id', 'created_by');
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('unknown filter fields: %s', array_to_string(v_unknown, ', '));
  end if;
  if length(p_filter ->> 'q') > 500 then
    raise exception using errcode = '22023', message = 'q is longer than 500 characters';
  end if;
  if p_filter ? 'status' then v_where := array_append(v_where, 'c.status = ($1 ->> ''status'')'); end if;
  if p_filter ? 'tier' then v_where := array_append(v_where, 'c.tier = ($1 ->> ''tier'')'); end if;
  if p_filter ? 'persona' then v_where := array_append(v_where, 'c.persona = ($1 ->> ''persona'')'); end if;
  if p_filter ? 'emotion' then v_where := array_append(v_where, 'c.emotion = ($1 ->> ''emotion'')'); end if;
  if p_filter ? 'topic' then v_where := array_append(v_where, 'c.topic = ($1 ->> ''topic'')'); end if;
  if p_filter ? 'flagged' then v_where := array_append(v_where, 'c.is_flagged = ($1 ->> ''flagged'')::boolean'); end if;
  if p_filter ? 'min_quality' then v_where := array_append(v_where, 'c.quality_score >= ($1 ->> ''min_quality'')::numeric'); end if;
  if p_filter ? 'max_quality' then v_where := array_append(v_where, 'c.quality_score <= ($1 ->> ''max_quality'')::numeric'); end if;
  if p_filter ? 'q' then v_where := array_append(v_where, 'c.search_vector @@ websearch_to_tsquery(''english'', $1 ->> ''q'')'); end if;
  if p_filter ? 'created_after' then v_where := array_append(v_where, 'c.created_at >= ($1 ->> ''created_after'')::timestamptz'); end if;
  if p_filter ? 'created_before' then v_where := array_append(v_where, 'c.created_at < ($1 ->> ''created_before'')::timestamptz'); end if;
  if p_filter ? 'template_id' then v_where := array_append(v_where, 'c.template_id = ($1 ->> ''template_id'')::uuid'); end if;
  if p_filter ? 'created_by' then v_where := array_append(v_where, 'c.created_by = ($1 ->> ''created_by'')::uuid'); end if;
  return array_to_string(v_where, ' and ');
end
$$;


-- As in 20261127000000, with a bound on q.
create or replace function public.training_examples_list(p_filter jsonb default '{}'::jsonb, p_limit integer default 50, p_cursor text default null)
returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_cursor jsonb;
  v_where text[] := array['true'];
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  if length(p_filter ->> 'q') > 500 then
    raise exception using errcode = '22023', message = 'q is longer than 500 characters';
  end if;
  v_cursor := private.time_cursor_decode(p_cursor);
  p_filter := coalesce(p_filter, '{}'::jsonb);
  if p_filter ? 'cascade_id' then v_where := array_append(v_where, 'v.cascade_id = ($1 ->> ''cascade_id'')'); end if;
  if p_filter ? 'cell_name' then v_where := array_append(v_where, 'v.cell_name = ($1 ->> ''cell_name'')'); end if;
  if p_filter ? 'model' then v_where := array_append(v_where, 'v.model = ($1 ->> ''model'')'); end if;
  if p_filter ? 'trainable' then v_where := array_append(v_where, 'v.trainable = ($1 ->> ''trainable'')::boolean'); end if;
  if p_filter ? 'verified' then v_where := array_append(v_where, 'v.verified = ($1 ->> ''verified'')::boolean'); end if;
  if p_filter ? 'min_confidence' then v_where := array_append(v_where, 'v.confidence >= ($1 ->> ''min_confidence'')::numeric'); end if;
  if p_filter ? 'tag' then v_where := array_append(v_where, 'v.tags @> array[($1 ->> ''tag'')]'); end if;
  if p_filter ? 'q' then v_where := array_append(v_where,
    'exists (select 1 from public.training_examples s
              where s.trace_id = v.trace_id
                and (s.search_vector @@ websearch_to_tsquery(''english'', $1 ->> ''q'')
                     or (s.search_vector is null
                         and private.example_search_vector(s.user_input, s.assistant_output) @@ websearch_to_tsquery(''english'', $1 ->> ''q''))))');
  end if;
  if p_filter ? 'created_after' then v_where := array_append(v_where, 'v.created_at >= ($1 ->> ''created_after'')::timestamptz'); end if;
  if p_filter ? 'created_before' then v_where := array_append(v_where, 'v.created_at < ($1 ->> ''created_before'')::timestamptz'); end if;
  if v_cursor is not null then v_where := array_append(v_where, '(v.created_at, v.trace_id) < (($2 ->> ''t'')::timestamptz, $2 ->> ''i'')'); end if;
  execute format(
    'select coalesce(jsonb_agg(to_jsonb(p) order by p.created_at desc, p.trace_id desc), ''[]''::jsonb), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.trace_id) order by p.created_at, p.trace_id))[1]
       from (select v.* from public.training_examples_with_annotations v where %s
              order by v.created_at desc, v.trace_id desc limit $3) p',
    array_to_string(v_where, ' and '))
  into v_items, v_count, v_last using p_filter, v_cursor, p_limit;
  return jsonb_build_object('items', v_items, 'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;


-- As in 20261127000000, with a bound on the query.
create or replace function public.training_few_shot(
  p_cascade_id text default null, p_cell_name text default null, p_k integer default 5, p_query text default null
) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_filter text;
  v_kth record;
  v_total bigint;
  v_items jsonb;
begin
  perform private.check_page_limit(p_k, 50);
  if length(p_query) > 4000 then
    raise exception using errcode = '22023', message = 'query is longer than 4000 characters';
  end if;
  v_filter := concat(case when p_cascade_id is not null then ' and a.cascade_id = $1' end,
                     case when p_cell_name is not null then ' and a.cell_name = $2' end);
  execute 'select count(*) from public.training_annotations a where a.trainable' || v_filter into v_total using p_cascade_id, p_cell_name;
  execute 'select a.verified, a.confidence from public.training_annotations a where a.trainable' || v_filter
       || ' order by a.verified desc, a.confidence desc nulls last offset $3 - 1 limit 1'
    into v_kth using p_cascade_id, p_cell_name, p_k;
  execute format(
    'select coalesce(jsonb_agg(jsonb_build_object(
         ''rank'', r.rank, ''trace_id'', r.trace_id, ''cascade_id'', r.cascade_id, ''cell_name'', r.cell_name, ''model'', r.model,
         ''system_prompt'', r.system_prompt, ''user_input'', r.user_input, ''assistant_output'', r.assistant_output,
         ''verified'', r.verified, ''confidence'', r.confidence, ''similarity'', round(r.similarity::numeric, 6), ''tags'', r.tags,
         ''created_at'', r.created_at) order by r.rank), ''[]''::jsonb)
       from (select c.*, row_number() over (order by c.verified desc, c.confidence desc nulls last, c.similarity desc,
                                                    c.created_at desc, c.trace_id) as rank
               from (select e.*, a.verified, a.confidence, a.tags, %s as similarity
                       from public.training_annotations a join public.training_examples e on e.trace_id = a.trace_id
                      where a.trainable %s %s) c
              order by rank limit $3) r',
    case when nullif(p_query, '') is null then '0::real'
         else 'ts_rank(coalesce(e.search_vector, private.example_search_vector(e.user_input, e.assistant_output)),
                       websearch_to_tsquery(''english'', $4))' end,
    v_filter,
    -- at least the k-th key (nulls last: a null confidence is the lowest); no k-th row: the pool is the candidates
    case when v_kth is null then ''
         else 'and (a.verified > $5 or (a.verified = $5 and ($6::numeric is null or a.confidence >= $6)))' end)
  into v_items using p_cascade_id, p_cell_name, p_k, p_query, v_kth.verified, v_kth.confidence;
  return jsonb_build_object('total_available', v_total, 'items', v_items);
end
$$;


-- As in 20261123000000, with a bound on the number of objectives.
create or replace function private.objective_definitions(config jsonb)
returns table (objective_name text, objective_alias text, uniprot text, weight double precision, direction text, config_index integer)
language plpgsql immutable
rows 5
set search_path = ''
as $$
declare
  v_defs jsonb := config -> 'objectives';
  v_def jsonb;
  v_i integer := 0;
  v_seen text[] := '{}';
  v_dir text;
begin
  -- Not a list (absent, or another shape): no declared objectives, as
  -- num_objectives then falls back to config's num_objectives key.
  if jsonb_typeof(v_defs) is distinct from 'array' then
    return;
  end if;
  -- Bounded: the duplicate check below is quadratic in the count.
  if jsonb_array_length(v_defs) > 200 then
    raise exception using errcode = '22023', message = 'config.objectives declares more than 200 objectives';
  end if;
  for v_def in select e from jsonb_array_elements(v_defs) e loop
    if jsonb_typeof(v_def) = 'string' then
      objective_name := private.jsonb_str(v_def);
      objective_alias := null; uniprot := null; weight := null; v_dir := null;
    elsif jsonb_typeof(v_def) = 'object' then
      objective_name := private.jsonb_str(v_def -> 'name');
      objective_alias := private.jsonb_str(v_def -> 'alias');
      uniprot := private.jsonb_str(coalesce(v_def #> '{params,uniprot}', v_def -> 'uniprot'));
      weight := private.jsonb_num(v_def -> 'weight')::double precision;
      if v_def ? 'weight' and v_def -> 'weight' <> 'null'::jsonb and weight is null then
        raise exception using errcode = '22023', message = format('config.objectives[%s].weight must be a number', v_i);
      end if;
      v_dir := lower(private.jsonb_str(v_def -> 'direction'));
    else
      objective_name := null;
    end if;
    if objective_name is null then
      raise exception using errcode = '22023',
        message = format('config.objectives[%s] must be a name or an object with a string "name"', v_i);
    end if;
    if objective_name = any(v_seen) then
      raise exception using errcode = '22023',
        message = format('config.objectives[%s]: objective %s is declared twice', v_i, objective_name);
    end if;
    if v_dir is not null and v_dir not in ('maximize', 'minimize') then
      raise exception using errcode = '22023',
        message = format('config.objectives[%s].direction must be maximize or minimize', v_i);
    end if;
    -- No direction given: the alias convention <name>_maximize / _minimize tells it.
    direction := coalesce(v_dir, substring(objective_alias from '_(maximize|minimize)$'));
    config_index := v_i;
    v_seen := v_seen || objective_name;
    v_i := v_i + 1;
    return next;
  end loop;
end
$$;


-- ---------------------------------------------------------------------------
-- 5. Security definer functions check what the caller may see.

-- As in 20261125000000, with the caller checked: calculate_quality_score(row)
-- called with another user's conversation id is 404, and a template the
-- caller cannot see does not lend its bounds.
create or replace function private.quality_breakdown(p_conversation_id uuid, p_metrics jsonb, p_template_id uuid)
returns jsonb
language plpgsql stable security definer
set search_path = ''
set jit = off
as $$
declare
  v_threshold numeric := (select quality_threshold from public.conversation_settings where id);
  v_min integer := 2;
  v_max integer := 50;
  v_count integer;
  v_empty integer;
  v_alternate boolean;
  v_structure numeric;
  v_checks jsonb;
  v_components jsonb;
  v_score numeric;
begin
  -- Security definer (policies on turns must not recurse through it): so it
  -- checks itself that the caller may see the conversation and the template.
  if not private.acting_as_service() and not exists (
       select 1 from public.conversations c
        where c.id = p_conversation_id and (c.created_by = auth.uid() or private.is_reviewer())) then
    raise exception using errcode = 'PT404', message = format('conversation %s not found', p_conversation_id);
  end if;
  select t.min_turns, t.max_turns into v_min, v_max from public.conversation_templates t
   where t.id = p_template_id
     and (t.created_by is null or t.created_by = auth.uid() or private.is_reviewer() or private.acting_as_service());
  v_min := coalesce(v_min, 2);
  v_max := coalesce(v_max, 50);
  select count(*), count(*) filter (where btrim(content) = ''),
         coalesce(bool_and(case
           when role = 'system' then turn_number = first_turn
           else role = case when (position_in_dialogue % 2) = 1 then 'user' else 'assistant' end end), true)
    into v_count, v_empty, v_alternate
    from (select t.role, t.content, t.turn_number,
                 min(t.turn_number) over () as first_turn,
                 count(*) filter (where t.role <> 'system') over (order by t.turn_number) as position_in_dialogue
            from public.conversation_turns t where t.conversation_id = p_conversation_id) turns;
  v_checks := jsonb_build_object(
    'roles_alternate', v_alternate,
    'no_empty_turn', v_empty = 0,
    'turn_count_in_bounds', v_count between v_min and v_max,
    'turn_count', v_count, 'min_turns', v_min, 'max_turns', v_max);
  v_structure := round(10.0 * ((v_alternate)::int + (v_empty = 0)::int + (v_count between v_min and v_max)::int) / 3, 2);

  select coalesce(jsonb_agg(jsonb_build_object(
           'component', r.component, 'weight', r.weight,
           'value', case when r.component = 'structure' then v_structure else (p_metrics ->> r.component)::numeric end)
           order by r.component), '[]'::jsonb)
    into v_components
    from public.quality_rubric r
   where r.component = 'structure' or p_metrics ? r.component;

  if not exists (select 1 from jsonb_array_elements(v_components) c where c ->> 'component' <> 'structure') then
    v_score := null;
  else
    select round(sum((c ->> 'weight')::numeric * (c ->> 'value')::numeric) / sum((c ->> 'weight')::numeric), 1)
      into v_score from jsonb_array_elements(v_components) c;
  end if;

  return jsonb_build_object(
    'score', v_score,
    'threshold', v_threshold,
    'flagged', v_score is not null and v_score < v_threshold,
    'components', v_components,
    'weak_components', coalesce((select jsonb_agg(c ->> 'component' order by c ->> 'component') from jsonb_array_elements(v_components) c
                                 where (c ->> 'value')::numeric < v_threshold), '[]'::jsonb),
    'structure_checks', v_checks,
    'ignored_metrics', coalesce((select jsonb_agg(k order by k) from jsonb_object_keys(p_metrics) k
                                 where not exists (select 1 from public.quality_rubric r where r.component = k)), '[]'::jsonb));
end
$$;



-- ---------------------------------------------------------------------------
-- 6. No sequence privileges for the API roles (setval could move the
-- identity sequences, and ids would come back beyond JSON's exact integers).
-- The tables that use them are written by the database and the service role.
revoke all on all sequences in schema public from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;

-- ---------------------------------------------------------------------------
-- 7. Packages. Published versions are immutable, so a package that has any
-- (or archived ones) is not deleted by a user; drafts go with their package.
create or replace function private.package_keep_published() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if not private.acting_as_service()
     and exists (select 1 from public.training_package_versions v where v.package_id = old.id and v.status <> 'draft') then
    raise exception using errcode = 'PT409',
      message = format('package %s has published versions, which are immutable: it cannot be deleted (archive the versions instead)', old.id);
  end if;
  return old;
end
$$;

create or replace trigger training_configs_keep_published
  before delete on public.training_configs
  for each row execute function private.package_keep_published();

-- A package inserted without an owner (seed 004's table has no default for
-- user_id) belongs to whoever inserts it.
create or replace function private.training_configs_owner() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.user_id := coalesce(new.user_id, auth.uid());
  return new;
end
$$;

create or replace trigger training_configs_owner
  before insert on public.training_configs
  for each row execute function private.training_configs_owner();

-- Seed 004's front end: rpc('get_next_version_number', { p_package_id }) is
-- the next number as an integer; its draft insert names status 'draft'; its
-- publish is a direct update that also sends published_at and published_by,
-- which the trigger replaces with its own (refusing a publisher other than
-- the caller).
create or replace function public.get_next_version_number(p_package_id uuid) returns integer
language sql stable
set search_path = ''
as $$ select p.last_version_number + 1 from private.package_visible(p_package_id) p $$;

grant insert (status) on table public.training_package_versions to authenticated;
grant update (published_at, published_by) on table public.training_package_versions to authenticated;

-- As in 20261124000000, with the publisher checked as above.
create or replace function private.package_version_before_update() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_frozen text[];
begin
  if new.package_id is distinct from old.package_id or new.version_number is distinct from old.version_number
     or new.created_by is distinct from old.created_by or new.created_at is distinct from old.created_at then
    raise exception using errcode = 'PT409',
      message = format('package_id, version_number, created_by and created_at of version %s never change', old.version_number);
  end if;

  if new.status is distinct from old.status and new.status in ('draft', 'published', 'archived') and not (
       (old.status = 'draft' and new.status = 'published') or (old.status = 'published' and new.status = 'archived')) then
    raise exception using errcode = 'PT409',
      message = format('illegal status change: version %s is %s and cannot become %s', old.version_number, old.status, new.status),
      detail = format('current status: %s', old.status);
  end if;

  if old.status = 'draft' then
    if new.status = 'published' then
      -- A client may name the publisher (seed 004's front end sends
      -- published_by) only as itself; the time is always the database's.
      if not private.acting_as_service() and new.published_by is distinct from auth.uid() and new.published_by is not null then
        raise exception using errcode = '42501',
          message = format('published_by must be the publishing user (%s), not %s', auth.uid(), new.published_by);
      end if;
      new.published_at := now();
      new.published_by := case when private.acting_as_service() then coalesce(new.published_by, auth.uid()) else auth.uid() end;
      new.snapshot_sha256 := private.snapshot_sha256(new.config_snapshot, new.model_snapshot, new.dataset_snapshot);
    else
      new.published_at := null;
      new.published_by := null;
      new.snapshot_sha256 := null;
    end if;
  else
    select array_agg(f) into v_frozen from unnest(array[
      case when new.name is distinct from old.name then 'name' end,
      case when new.config_snapshot is distinct from old.config_snapshot then 'config_snapshot' end,
      case when new.model_snapshot is distinct from old.model_snapshot then 'model_snapshot' end,
      case when new.dataset_snapshot is distinct from old.dataset_snapshot then 'dataset_snapshot' end,
      case when new.change_summary is distinct from old.change_summary then 'change_summary' end,
      case when new.parent_version_id is distinct from old.parent_version_id then 'parent_version_id' end,
      case when new.published_at is distinct from old.published_at then 'published_at' end,
      case when new.published_by is distinct from old.published_by then 'published_by' end,
      case when new.snapshot_sha256 is distinct from old.snapshot_sha256 then 'snapshot_sha256' end
    ]) f where f is not null;
    if v_frozen is not null then
      raise exception using errcode = 'PT409',
        message = format('version %s is %s and immutable: %s cannot change', old.version_number, old.status, array_to_string(v_frozen, ', ')),
        detail = 'fork it to make a new draft';
    end if;
  end if;

  if new.training_status is distinct from old.training_status
     and new.training_status in ('not_started', 'queued', 'running', 'completed', 'failed', 'cancelled') then
    if not ((old.training_status = 'not_started' and new.training_status = 'queued')
         or (old.training_status = 'queued' and new.training_status in ('running', 'cancelled'))
         or (old.training_status = 'running' and new.training_status in ('completed', 'failed', 'cancelled'))
         or (old.training_status in ('failed', 'cancelled') and new.training_status = 'queued')) then
      raise exception using errcode = 'PT409',
        message = format('illegal training status change: %s -> %s', old.training_status, new.training_status),
        detail = format('current training status: %s', old.training_status);
    end if;
    if new.training_status = 'queued' then
      new.training_started_at := null;
      new.training_completed_at := null;
    elsif new.training_status = 'running' then
      new.training_started_at := coalesce(new.training_started_at, now());
    elsif new.training_completed_at is null or new.training_completed_at is not distinct from old.training_completed_at then
      new.training_completed_at := greatest(now(), new.training_started_at);
    end if;
  end if;

  new.updated_at := now();
  return new;
end
$$;


-- ---------------------------------------------------------------------------
-- Seed 000's readers: training_examples_mv was its materialized view of the
-- examples extracted from unified_logs; here the examples are a table kept
-- as logs arrive, and this view gives tools written against the old name
-- the same rows (RLS of training_examples applies to the reader).
create or replace view public.training_examples_mv with (security_invoker = on) as
select e.trace_id, e.log_id, e.cascade_id, e.cell_name, e.model, e.system_prompt, e.user_input, e.assistant_output,
       e.created_at, e.extracted_at
  from public.training_examples e;
revoke all on table public.training_examples_mv from anon, authenticated;
grant select on table public.training_examples_mv to authenticated;
grant all on table public.training_examples_mv to service_role;

-- ---------------------------------------------------------------------------
-- Indexes covering the two composite foreign keys of 20261124000000 (the
-- version lineage key is looked up with its package).
create index if not exists training_configs_current_version_idx on public.training_configs (id, current_version_id);
drop index if exists public.training_package_versions_parent_idx;
create index if not exists training_package_versions_package_parent_idx
  on public.training_package_versions (package_id, parent_version_id);

-- ---------------------------------------------------------------------------
-- Functions without a fixed search_path, on purpose. Each is plain SQL run
-- per ingested row, and Postgres inlines a SQL function into its caller only
-- if it has no SET clause; the procedure commits between batches, which a
-- procedure with a SET clause cannot. They name only pg_catalog (always
-- searched first) and schema-qualified private functions, and every caller
-- runs with search_path = '' (test/table_api.catalog.test.ts proves a shadowing
-- schema changes nothing).
comment on function private.content_text(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';
comment on function private.content_parts_text(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';
comment on function private.request_user_input(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';
comment on function private.request_system_prompt(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';
comment on function private.response_output(jsonb) is 'search_path: none, so that it inlines (see 20261128000000)';
comment on function private.example_search_vector(text, text) is 'search_path: none, so that it inlines (see 20261128000000)';
comment on procedure private.training_search_index_run(interval, integer) is
  'search_path: none, so that it may commit between batches (see 20261128000000)';

-- ---------------------------------------------------------------------------
-- Privileges of the functions above.
revoke all on function
  private.acting_as_service(), private.conversations_guard_review(), private.conversation_turns_guard_review(),
  private.conversations_count_usage(), private.batch_job_open(text, text, integer, jsonb), private.batch_job_position(uuid),
  private.batch_job_progress(uuid, integer, jsonb, uuid, boolean), private.batch_job_finish(uuid, text),
  private.export_log_open(text, text, jsonb, boolean, text), private.export_log_position(uuid),
  private.export_log_record_page(uuid, uuid[], jsonb),
  private.conversation_templates_guard_review(), private.conversations_check_references(), private.check_parent_template(),
  private.run_filter_check_node(jsonb, integer, integer), private.run_filter_check(jsonb, jsonb),
  private.run_filter_compile(jsonb, text, integer), private.package_keep_published(), private.training_configs_owner(),
  public.get_next_version_number(uuid)
  from public, anon, authenticated, service_role;
grant execute on function
  private.acting_as_service(), private.batch_job_open(text, text, integer, jsonb),
  private.batch_job_position(uuid), private.batch_job_progress(uuid, integer, jsonb, uuid, boolean),
  private.batch_job_finish(uuid, text), private.export_log_open(text, text, jsonb, boolean, text),
  private.export_log_position(uuid), private.export_log_record_page(uuid, uuid[], jsonb),
  private.run_filter_check_node(jsonb, integer, integer), private.run_filter_check(jsonb, jsonb),
  private.run_filter_compile(jsonb, text, integer), public.get_next_version_number(uuid)
  to authenticated, service_role;
