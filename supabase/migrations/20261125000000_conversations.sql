-- Conversation training data: conversations and their turns, templates,
-- scenarios, edge cases, batch jobs, generation and export logs; quality
-- scoring and auto-flagging in the database; reviewers in user_profiles.

-- ---------------------------------------------------------------------------
-- Referenced tables, created only if a project does not have them already
-- (what was there is recorded first: the rollback keeps it). A table found in
-- place gets the columns the rules below read, if it lacks them.

select private.adoption_begin('20261125000000', t)
  from unnest(array['public.user_profiles', 'public.documents', 'public.chunks']) t;

create table if not exists public.user_profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  display_name text,
  created_at timestamptz not null default now()
);
alter table public.user_profiles add column if not exists display_name text;
alter table public.user_profiles add column if not exists is_reviewer boolean not null default false;

create table if not exists public.documents (
  id uuid primary key default gen_random_uuid(),
  title text not null,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now()
);

create table if not exists public.chunks (
  id uuid primary key default gen_random_uuid(),
  document_id uuid not null references public.documents (id) on delete cascade,
  chunk_index integer not null default 0,
  content text not null default '',
  created_at timestamptz not null default now()
);
alter table public.documents add column if not exists created_by uuid default auth.uid();
create index if not exists chunks_document_id_idx on public.chunks (document_id);
create index if not exists documents_created_by_idx on public.documents (created_by);

-- Reviewers see and review everything. Security definer so that policies on
-- user_profiles itself can ask without recursing through them.
create or replace function private.is_reviewer() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select coalesce((select p.is_reviewer from public.user_profiles p where p.id = auth.uid()), false)
$$;

-- Who may approve, reject and see every conversation: reviewers and the service role.
create or replace function private.can_review() returns boolean
language sql stable
set search_path = ''
as $$ select auth.role() is not distinct from 'service_role' or private.is_reviewer() $$;

-- ---------------------------------------------------------------------------
-- Reference data: the scoring rubric and the settings.

create table if not exists public.quality_rubric (
  component text primary key constraint quality_rubric_component_format check (component ~ '^[a-z][a-z0-9_]{0,62}$'),
  weight numeric(6, 3) not null constraint quality_rubric_weight_positive check (weight > 0),
  description text not null default ''
);

insert into public.quality_rubric (component, weight, description) values
  ('relevance', 0.25, 'answers the user''s actual question'),
  ('accuracy', 0.25, 'facts and figures are right'),
  ('naturalness', 0.15, 'sounds like a person, matches the persona and emotion'),
  ('coherence', 0.15, 'each turn follows from the last'),
  ('confidence', 0.10, 'the generator''s own confidence in the sample'),
  ('structure', 0.10, 'computed from the turns: roles alternate, no empty turn, turn count within the template''s bounds')
on conflict (component) do nothing;

-- One row: the flagging threshold (and room for more settings).
create table if not exists public.conversation_settings (
  id boolean primary key default true constraint conversation_settings_single_row check (id),
  quality_threshold numeric(3, 1) not null default 6.0
    constraint conversation_settings_threshold_range check (quality_threshold between 0 and 10),
  updated_at timestamptz not null default now()
);
insert into public.conversation_settings (id) values (true) on conflict (id) do nothing;

-- ---------------------------------------------------------------------------
-- Templates, scenarios, edge cases.

create table if not exists public.conversation_templates (
  id uuid primary key default gen_random_uuid(),
  template_name text not null constraint conversation_templates_name_key unique
    constraint conversation_templates_name_length check (length(template_name) between 1 and 200),
  description text,
  category text,
  tier text not null default 'template' constraint conversation_templates_tier_valid check (tier in ('template', 'scenario', 'edge_case')),
  template_text text not null default '',
  system_prompt text,
  structure text,
  variables jsonb not null default '{}'::jsonb constraint conversation_templates_variables_is_object check (jsonb_typeof(variables) = 'object'),
  applicable_personas text[] not null default '{}',
  applicable_emotions text[] not null default '{}',
  applicable_topics text[] not null default '{}',
  min_turns integer not null default 2 constraint conversation_templates_min_turns_positive check (min_turns >= 1),
  max_turns integer not null default 50,
  usage_count integer not null default 0 constraint conversation_templates_usage_not_negative check (usage_count >= 0),
  rating numeric(3, 2) constraint conversation_templates_rating_range check (rating between 0 and 5),
  success_rate numeric(5, 4) constraint conversation_templates_success_rate_range check (success_rate between 0 and 1),
  version integer not null default 1 constraint conversation_templates_version_positive check (version >= 1),
  is_active boolean not null default true,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint conversation_templates_turn_bounds check (max_turns >= min_turns)
);
create index if not exists conversation_templates_category_idx on public.conversation_templates (category);
create index if not exists conversation_templates_tier_active_idx on public.conversation_templates (tier, is_active);
create index if not exists conversation_templates_created_by_idx on public.conversation_templates (created_by);
create index if not exists conversation_templates_personas_idx on public.conversation_templates using gin (applicable_personas);
create index if not exists conversation_templates_emotions_idx on public.conversation_templates using gin (applicable_emotions);
create index if not exists conversation_templates_topics_idx on public.conversation_templates using gin (applicable_topics);
create index if not exists conversation_templates_variables_idx on public.conversation_templates using gin (variables);

insert into public.conversation_templates
  (template_name, description, category, tier, template_text, system_prompt, structure, variables,
   applicable_personas, applicable_emotions, applicable_topics, min_turns, max_turns, created_by)
values
  ('financial_planning_consultation', 'A client asks an advisor for help with a money decision', 'financial_planning', 'template',
   'The {{persona}} feels {{emotion}} about {{topic}} and asks for advice. The advisor acknowledges the feeling, asks one clarifying question, then gives concrete next steps.',
   'You are a patient, precise financial advisor. Acknowledge feelings, ask before assuming, give concrete next steps, never promise returns.',
   'user question -> assistant acknowledgement and clarifying question -> user detail -> assistant plan',
   '{"persona": "string", "emotion": "string", "topic": "string"}',
   '{anxious_first_time_investor,pre_retiree,young_professional}', '{anxious,confused,hopeful}', '{retirement,budgeting,investing}', 4, 12, null),
  ('difficult_customer_deescalation', 'An upset customer; the agent de-escalates and solves', 'customer_support', 'scenario',
   'A {{persona}} is {{emotion}} because {{problem}}. The agent stays calm, names the problem, and resolves it or escalates.',
   'You are a calm support agent. Name the customer''s problem in their words, apologise once, then fix it or say who will.',
   'complaint -> acknowledgement -> facts -> resolution',
   '{"persona": "string", "emotion": "string", "problem": "string"}',
   '{frustrated_customer,long_time_client}', '{angry,frustrated,disappointed}', '{billing,outage,refund}', 4, 10, null),
  ('ambiguous_request_clarification', 'The user''s request is ambiguous; the assistant must ask before acting', 'edge_cases', 'edge_case',
   'The user asks for {{request}} without the detail needed. The assistant asks one precise question before answering.',
   'You never guess at an ambiguous request: ask the one question that resolves it, then answer.',
   'ambiguous request -> clarifying question -> answer',
   '{"request": "string"}',
   '{busy_executive,new_user}', '{impatient,neutral}', '{scheduling,reporting}', 2, 6, null)
on conflict (template_name) do nothing;

create table if not exists public.scenarios (
  id uuid primary key default gen_random_uuid(),
  parent_template_id uuid references public.conversation_templates (id) on delete cascade,
  name text not null constraint scenarios_name_length check (length(name) between 1 and 200),
  description text,
  context text,
  persona text,
  topic text,
  emotional_arc text,
  parameter_values jsonb not null default '{}'::jsonb constraint scenarios_parameter_values_is_object check (jsonb_typeof(parameter_values) = 'object'),
  status text not null default 'active' constraint scenarios_status_valid check (status in ('draft', 'active', 'archived')),
  usage_count integer not null default 0,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists scenarios_parent_template_idx on public.scenarios (parent_template_id);
create index if not exists scenarios_created_by_idx on public.scenarios (created_by);
create index if not exists scenarios_persona_idx on public.scenarios (persona);
create index if not exists scenarios_topic_idx on public.scenarios (topic);
create index if not exists scenarios_parameter_values_idx on public.scenarios using gin (parameter_values);

create table if not exists public.edge_cases (
  id uuid primary key default gen_random_uuid(),
  parent_template_id uuid references public.conversation_templates (id) on delete cascade,
  name text not null constraint edge_cases_name_length check (length(name) between 1 and 200),
  description text,
  edge_case_type text,
  trigger_condition text not null,
  expected_behavior text not null,
  risk_level text not null default 'medium' constraint edge_cases_risk_level_valid check (risk_level in ('low', 'medium', 'high', 'critical')),
  validation_criteria text[] not null default '{}',
  test_status text not null default 'not_tested' constraint edge_cases_test_status_valid check (test_status in ('not_tested', 'passed', 'failed')),
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists edge_cases_parent_template_idx on public.edge_cases (parent_template_id);
create index if not exists edge_cases_created_by_idx on public.edge_cases (created_by);
create index if not exists edge_cases_risk_level_idx on public.edge_cases (risk_level);
create index if not exists edge_cases_validation_criteria_idx on public.edge_cases using gin (validation_criteria);

-- ---------------------------------------------------------------------------
-- Conversations and turns.

create table if not exists public.conversations (
  id uuid primary key default gen_random_uuid(),
  conversation_id text not null default ('conv_' || replace(gen_random_uuid()::text, '-', ''))
    constraint conversations_conversation_id_key unique
    constraint conversations_conversation_id_format check (conversation_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$'),
  document_id uuid references public.documents (id) on delete set null,
  chunk_id uuid references public.chunks (id) on delete set null,
  template_id uuid references public.conversation_templates (id) on delete set null,
  scenario_id uuid references public.scenarios (id) on delete set null,
  edge_case_id uuid references public.edge_cases (id) on delete set null,
  parent_id uuid references public.conversations (id) on delete set null,
  parent_type text constraint conversations_parent_type_valid check (parent_type in ('conversation', 'template', 'scenario', 'edge_case')),
  title text constraint conversations_title_length check (length(title) <= 500),
  persona text constraint conversations_persona_length check (length(persona) <= 200),
  emotion text constraint conversations_emotion_length check (length(emotion) <= 200),
  topic text constraint conversations_topic_length check (length(topic) <= 200),
  intent text constraint conversations_intent_length check (length(intent) <= 200),
  tone text constraint conversations_tone_length check (length(tone) <= 200),
  tier text not null default 'template' constraint conversations_tier_valid check (tier in ('template', 'scenario', 'edge_case')),
  category text,
  status text not null default 'generated' constraint conversations_status_valid
    check (status in ('draft', 'generated', 'pending_review', 'approved', 'rejected', 'needs_revision', 'archived')),
  quality_score numeric(3, 1) constraint conversations_quality_score_range check (quality_score between 0 and 10),
  quality_metrics jsonb not null default '{}'::jsonb,
  is_flagged boolean not null default false,
  flag_reason text,
  turn_count integer not null default 0,
  total_tokens integer not null default 0,
  turns_updated_at timestamptz,
  estimated_cost_usd numeric(10, 4) constraint conversations_estimated_cost_not_negative check (estimated_cost_usd >= 0),
  actual_cost_usd numeric(10, 4) constraint conversations_actual_cost_not_negative check (actual_cost_usd >= 0),
  generation_duration_ms integer constraint conversations_generation_duration_not_negative check (generation_duration_ms >= 0),
  generation_model text,
  approved_by uuid references public.user_profiles (id) on delete set null,
  approved_at timestamptz,
  reviewed_by uuid references public.user_profiles (id) on delete set null,
  reviewed_at timestamptz,
  reviewer_notes text constraint conversations_reviewer_notes_length check (length(reviewer_notes) <= 10000),
  parameters jsonb not null default '{}'::jsonb constraint conversations_parameters_is_object check (jsonb_typeof(parameters) = 'object'),
  metadata jsonb not null default '{}'::jsonb constraint conversations_metadata_is_object check (jsonb_typeof(metadata) = 'object'),
  review_history jsonb not null default '[]'::jsonb constraint conversations_review_history_is_array check (jsonb_typeof(review_history) = 'array'),
  search_vector tsvector,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- quality_metrics: an object of rubric components, each a number 0-10.
create or replace function private.is_quality_metrics(j jsonb) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select jsonb_typeof(j) = 'object' and not exists (
    select 1 from jsonb_each(j) e
     where jsonb_typeof(e.value) <> 'number' or (e.value)::numeric not between 0 and 10 or e.key !~ '^[a-z][a-z0-9_]{0,62}$')
$$;

alter table public.conversations drop constraint if exists conversations_quality_metrics_valid;
alter table public.conversations add constraint conversations_quality_metrics_valid check (private.is_quality_metrics(quality_metrics));

-- Indexes for every list filter (keyset: created_at desc, id desc), the
-- review queue, full text, jsonb.
create index if not exists conversations_created_idx on public.conversations (created_at desc, id desc);
create index if not exists conversations_status_created_idx on public.conversations (status, created_at desc, id desc);
create index if not exists conversations_tier_status_created_idx on public.conversations (tier, status, created_at desc, id desc);
create index if not exists conversations_persona_idx on public.conversations (persona);
create index if not exists conversations_emotion_idx on public.conversations (emotion);
create index if not exists conversations_topic_idx on public.conversations (topic);
create index if not exists conversations_quality_idx on public.conversations (quality_score);
create index if not exists conversations_flagged_idx on public.conversations (created_at desc, id desc) where is_flagged;
-- The review queue: pending conversations, oldest first (conversations_review_queue).
create index if not exists conversations_review_queue_idx on public.conversations (created_at, id) where status = 'pending_review';
create index if not exists conversations_created_by_idx on public.conversations (created_by, created_at desc, id desc);
create index if not exists conversations_template_idx on public.conversations (template_id);
create index if not exists conversations_scenario_idx on public.conversations (scenario_id);
create index if not exists conversations_edge_case_idx on public.conversations (edge_case_id);
create index if not exists conversations_document_idx on public.conversations (document_id);
create index if not exists conversations_chunk_idx on public.conversations (chunk_id);
create index if not exists conversations_parent_idx on public.conversations (parent_id);
create index if not exists conversations_approved_by_idx on public.conversations (approved_by);
create index if not exists conversations_reviewed_by_idx on public.conversations (reviewed_by);
create index if not exists conversations_search_idx on public.conversations using gin (search_vector);
create index if not exists conversations_quality_metrics_idx on public.conversations using gin (quality_metrics);
create index if not exists conversations_parameters_idx on public.conversations using gin (parameters);
create index if not exists conversations_metadata_idx on public.conversations using gin (metadata);

create table if not exists public.conversation_turns (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  turn_number integer not null constraint conversation_turns_number_positive check (turn_number >= 1),
  role text not null constraint conversation_turns_role_valid check (role in ('user', 'assistant', 'system')),
  content text not null constraint conversation_turns_content_length check (length(content) <= 100000),
  token_count integer constraint conversation_turns_token_count_not_negative check (token_count >= 0),
  char_count integer generated always as (length(content)) stored,
  created_at timestamptz not null default now(),
  constraint conversation_turns_number_key unique (conversation_id, turn_number)
);

-- ---------------------------------------------------------------------------
-- Jobs and logs.

create table if not exists public.batch_jobs (
  id uuid primary key default gen_random_uuid(),
  job_type text not null constraint batch_jobs_type_valid check (job_type in ('generation', 'export', 'validation', 'cleanup')),
  name text,
  status text not null default 'queued' constraint batch_jobs_status_valid
    check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
  total_items integer not null default 0 constraint batch_jobs_total_not_negative check (total_items >= 0),
  processed_items integer not null default 0 constraint batch_jobs_processed_not_negative check (processed_items >= 0),
  successful_items integer not null default 0,
  failed_items integer not null default 0,
  parameters jsonb not null default '{}'::jsonb,
  results jsonb not null default '{}'::jsonb,
  error_message text,
  started_at timestamptz,
  completed_at timestamptz,
  created_by uuid default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists batch_jobs_created_by_idx on public.batch_jobs (created_by, created_at desc);
create index if not exists batch_jobs_status_idx on public.batch_jobs (status);
create index if not exists batch_jobs_type_idx on public.batch_jobs (job_type);

create table if not exists public.generation_logs (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid references public.conversations (id) on delete set null,
  template_id uuid references public.conversation_templates (id) on delete set null,
  batch_job_id uuid references public.batch_jobs (id) on delete set null,
  request_payload jsonb not null default '{}'::jsonb,
  response_payload jsonb,
  model_used text not null constraint generation_logs_model_length check (length(model_used) between 1 and 200),
  temperature numeric(4, 3),
  max_tokens integer,
  input_tokens integer not null default 0 constraint generation_logs_input_tokens_not_negative check (input_tokens >= 0),
  output_tokens integer not null default 0 constraint generation_logs_output_tokens_not_negative check (output_tokens >= 0),
  cost_usd numeric(12, 6) not null default 0 constraint generation_logs_cost_not_negative check (cost_usd >= 0),
  duration_ms integer constraint generation_logs_duration_not_negative check (duration_ms >= 0),
  status text not null default 'success' constraint generation_logs_status_valid check (status in ('success', 'failed', 'rate_limited', 'timeout')),
  error_message text,
  error_code text,
  retry_attempt integer not null default 0,
  created_at timestamptz not null default now(),
  created_by uuid default auth.uid()
);
create index if not exists generation_logs_created_idx on public.generation_logs (created_at desc);
create index if not exists generation_logs_conversation_idx on public.generation_logs (conversation_id);
create index if not exists generation_logs_template_idx on public.generation_logs (template_id);
create index if not exists generation_logs_batch_job_idx on public.generation_logs (batch_job_id);
create index if not exists generation_logs_model_idx on public.generation_logs (model_used, created_at desc);
create index if not exists generation_logs_status_idx on public.generation_logs (status);

create table if not exists public.export_logs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid default auth.uid(),
  format text not null constraint export_logs_format_valid check (format in ('jsonl', 'json', 'csv', 'markdown')),
  shape text not null default 'raw' constraint export_logs_shape_valid check (shape in ('openai', 'sharegpt', 'raw')),
  include_metadata boolean not null default false,
  filters jsonb not null default '{}'::jsonb,
  conversation_ids uuid[] not null default '{}',
  conversation_count integer not null default 0,
  file_name text,
  file_size_bytes bigint not null default 0,
  checksum_sha256 text constraint export_logs_checksum_hex check (checksum_sha256 ~ '^[0-9a-f]{64}$'),
  status text not null default 'running' constraint export_logs_status_valid check (status in ('running', 'completed', 'failed')),
  error_message text,
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  created_at timestamptz not null default now()
);
create index if not exists export_logs_user_idx on public.export_logs (user_id, created_at desc, id desc);
create index if not exists export_logs_status_idx on public.export_logs (status);
-- "Which training files included this conversation?"
create index if not exists export_logs_conversation_ids_idx on public.export_logs using gin (conversation_ids);

-- The ids of a running export, one row per conversation as its page goes out:
-- appending to export_logs.conversation_ids page by page would rewrite the
-- whole array each time (quadratic). At the end they move into that column.
create table if not exists public.export_log_items (
  export_id uuid not null references public.export_logs (id) on delete cascade,
  position integer not null,
  conversation_id uuid not null,
  primary key (export_id, position)
);

-- ---------------------------------------------------------------------------
-- Quality. The breakdown is a pure function of the metrics, the turns, the
-- template's bounds, the rubric and the threshold: deterministic.
--
--   structure = 10 x (checks passed / 3), checks: roles alternate (user,
--     assistant, user ...; a system turn only first), no empty turn, turn
--     count within the template's min_turns..max_turns (2..50 without one);
--   score = sum(weight x value) / sum(weight) over the rubric components
--     present in quality_metrics plus structure, rounded to one decimal;
--     no metric component at all: no score yet (null), nothing flagged.
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
  select t.min_turns, t.max_turns into v_min, v_max from public.conversation_templates t where t.id = p_template_id;
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

-- The score of one conversation as the database computes it, with its parts.
create or replace function public.calculate_quality_score(p_conversation public.conversations) returns jsonb
language sql stable
set search_path = ''
as $$ select private.quality_breakdown(p_conversation.id, p_conversation.quality_metrics, p_conversation.template_id) $$;

-- Applies a breakdown to the row being written: score, flag, reason, status,
-- and one history entry when the flag changes.
create or replace function private.apply_quality(c public.conversations, breakdown jsonb) returns public.conversations
language plpgsql stable
set search_path = ''
as $$
declare
  v_flagged boolean := (breakdown ->> 'flagged')::boolean;
  v_from text := c.status;
begin
  c.quality_score := (breakdown ->> 'score')::numeric;
  if v_flagged and not c.is_flagged then
    c.is_flagged := true;
    c.flag_reason := format('quality %s below %s: weak %s', breakdown ->> 'score', breakdown ->> 'threshold',
      (select string_agg(w, ', ') from jsonb_array_elements_text(breakdown -> 'weak_components') w));
    if c.status in ('generated', 'pending_review') then
      c.status := 'needs_revision';
    end if;
    c.review_history := c.review_history || jsonb_build_array(jsonb_build_object(
      'action', 'auto_flag', 'at', now(), 'by', auth.uid(), 'from_status', v_from, 'to_status', c.status,
      'score', c.quality_score, 'threshold', breakdown -> 'threshold', 'reason', c.flag_reason));
  elsif v_flagged then
    c.flag_reason := format('quality %s below %s: weak %s', breakdown ->> 'score', breakdown ->> 'threshold',
      (select string_agg(w, ', ') from jsonb_array_elements_text(breakdown -> 'weak_components') w));
  elsif c.is_flagged then
    c.is_flagged := false;
    c.flag_reason := null;
    c.review_history := c.review_history || jsonb_build_array(jsonb_build_object(
      'action', 'auto_unflag', 'at', now(), 'by', auth.uid(), 'from_status', v_from, 'to_status', c.status,
      'score', c.quality_score, 'threshold', breakdown -> 'threshold'));
  end if;
  return c;
end
$$;

-- Status moves, for every role:
--   draft -> generated; generated -> pending_review | needs_revision;
--   pending_review -> needs_revision; needs_revision -> generated | pending_review;
--   generated | pending_review | needs_revision -> approved | rejected (reviewers only);
--   approved | rejected -> needs_revision (a reviewer reopens); anything -> archived.
create or replace function private.conversation_status_allowed(p_from text, p_to text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select p_from = p_to or p_to = 'archived' and p_from <> 'archived' or (p_from, p_to) in (
    ('draft', 'generated'), ('generated', 'pending_review'), ('generated', 'needs_revision'),
    ('pending_review', 'needs_revision'), ('needs_revision', 'generated'), ('needs_revision', 'pending_review'),
    ('generated', 'approved'), ('pending_review', 'approved'), ('needs_revision', 'approved'),
    ('generated', 'rejected'), ('pending_review', 'rejected'), ('needs_revision', 'rejected'),
    ('approved', 'needs_revision'), ('rejected', 'needs_revision'))
$$;

create or replace function private.conversations_before_write() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_reviewer boolean;
begin
  if tg_op = 'INSERT' then
    if new.status in ('approved', 'rejected') and not private.can_review() then
      raise exception using errcode = '42501', message = 'only reviewers approve or reject conversations';
    end if;
    new.approved_at := case when new.status = 'approved' then now() end;
    new.approved_by := case when new.status = 'approved' then auth.uid() end;
  elsif new.status is distinct from old.status and new.status in
        ('draft', 'generated', 'pending_review', 'approved', 'rejected', 'needs_revision', 'archived') then
    if not private.conversation_status_allowed(old.status, new.status) then
      raise exception using errcode = 'PT409',
        message = format('illegal status change: conversation %s is %s and cannot become %s', old.conversation_id, old.status, new.status),
        detail = format('current status: %s', old.status);
    end if;
    v_reviewer := private.can_review();
    if new.status in ('approved', 'rejected') and not v_reviewer then
      raise exception using errcode = '42501', message = 'only reviewers approve or reject conversations';
    end if;
    new.approved_at := case when new.status = 'approved' then now() end;
    new.approved_by := case when new.status = 'approved' then auth.uid() end;
    if v_reviewer and new.status in ('approved', 'rejected', 'needs_revision') then
      new.reviewed_at := now();
      new.reviewed_by := auth.uid();
    end if;
    -- The history is the database's record: every status change, who, when, the note.
    new.review_history := old.review_history || jsonb_build_array(jsonb_build_object(
      'action', case new.status when 'approved' then 'approve' when 'rejected' then 'reject'
                                when 'needs_revision' then 'request_changes' else 'status_change' end,
      'at', now(), 'by', auth.uid(), 'from_status', old.status, 'to_status', new.status,
      'note', case when new.reviewer_notes is distinct from old.reviewer_notes then new.reviewer_notes end));
  end if;
  if tg_op = 'UPDATE' then
    new.updated_at := now();
  end if;
  -- Scored only once it has turns (they arrive right after the row, in the
  -- same transaction), and again whenever the metrics, template or turns
  -- change, or a rescore asks (registry.rescore: at worst a client makes the
  -- database recompute the same deterministic score).
  if new.turn_count > 0 and (tg_op = 'INSERT'
      or new.quality_metrics is distinct from old.quality_metrics or new.template_id is distinct from old.template_id
      or new.turns_updated_at is distinct from old.turns_updated_at
      or current_setting('registry.rescore', true) = 'on') then
    new := private.apply_quality(new, private.quality_breakdown(new.id, new.quality_metrics, new.template_id));
  end if;
  return new;
end
$$;

create or replace trigger conversations_before_write
  before insert or update on public.conversations
  for each row execute function private.conversations_before_write();

-- The full-text vector of a conversation: title first, then persona,
-- emotion and topic, then the turns' text. One definition for both triggers
-- that keep it.
create or replace function private.conversation_search_vector(
  p_title text, p_persona text, p_emotion text, p_topic text, p_turns_text text
) returns tsvector
language sql immutable parallel safe
set search_path = ''
as $$
  select setweight(to_tsvector('english', coalesce(p_title, '')), 'A')
    || setweight(to_tsvector('english', concat_ws(' ', p_persona, p_emotion, p_topic)), 'B')
    || setweight(to_tsvector('english', coalesce(p_turns_text, '')), 'C')
$$;

-- Turn changes, once per statement: counts, tokens, the search text and the
-- score of every conversation they touched. Security definer: those columns
-- are the database's, not writable by clients.
create or replace function private.conversation_turns_sync() returns trigger
language plpgsql security definer
set search_path = ''
set jit = off
as $$
declare
  v_ids uuid[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct conversation_id) into v_ids from new_turns;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct conversation_id) into v_ids from old_turns;
  else
    select array_agg(distinct conversation_id) into v_ids
      from (select conversation_id from new_turns union select conversation_id from old_turns) t;
  end if;
  update public.conversations c set
    turn_count = s.turns, total_tokens = s.tokens, turns_updated_at = clock_timestamp(),
    search_vector = private.conversation_search_vector(c.title, c.persona, c.emotion, c.topic, s.text)
  from (select c2.id,
               count(t.id)::int as turns,
               coalesce(sum(t.token_count), 0)::int as tokens,
               coalesce(string_agg(t.content, ' ' order by t.turn_number), '') as text
          from public.conversations c2 left join public.conversation_turns t on t.conversation_id = c2.id
         where c2.id = any (v_ids)
         group by c2.id) s
  where c.id = s.id;
  return null;
end
$$;

create or replace trigger conversation_turns_sync_insert
  after insert on public.conversation_turns referencing new table as new_turns
  for each statement execute function private.conversation_turns_sync();
create or replace trigger conversation_turns_sync_update
  after update on public.conversation_turns referencing new table as new_turns old table as old_turns
  for each statement execute function private.conversation_turns_sync();
create or replace trigger conversation_turns_sync_delete
  after delete on public.conversation_turns referencing old table as old_turns
  for each statement execute function private.conversation_turns_sync();

-- The search text also follows title, persona, emotion and topic.
create or replace function private.conversations_search_text() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.search_vector := private.conversation_search_vector(new.title, new.persona, new.emotion, new.topic,
    (select string_agg(t.content, ' ' order by t.turn_number) from public.conversation_turns t where t.conversation_id = new.id));
  return new;
end
$$;

create or replace trigger conversations_search_text
  before update of title, persona, emotion, topic on public.conversations
  for each row execute function private.conversations_search_text();

-- A conversation never exists without its turns: checked at commit, so the
-- turns may follow the row within the transaction.
create or replace function private.conversation_has_turns() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  -- Two branches, not one CASE: the row types differ (conversations.conversation_id is the text business id).
  if tg_table_name = 'conversations' then
    v_id := new.id;
  else
    v_id := old.conversation_id;
  end if;
  if exists (select 1 from public.conversations where id = v_id)
     and not exists (select 1 from public.conversation_turns where conversation_id = v_id) then
    raise exception using errcode = '23514',
      message = format('conversation %s has no turns: a conversation is stored with its turns', v_id);
  end if;
  return null;
end
$$;

drop trigger if exists conversations_have_turns on public.conversations;
create constraint trigger conversations_have_turns
  after insert on public.conversations deferrable initially deferred
  for each row execute function private.conversation_has_turns();
drop trigger if exists conversation_turns_keep_one on public.conversation_turns;
create constraint trigger conversation_turns_keep_one
  after delete on public.conversation_turns deferrable initially deferred
  for each row execute function private.conversation_has_turns();

create or replace trigger conversation_templates_set_updated_at
  before update on public.conversation_templates for each row execute function private.set_updated_at_column();
create or replace trigger scenarios_set_updated_at
  before update on public.scenarios for each row execute function private.set_updated_at_column();
create or replace trigger edge_cases_set_updated_at
  before update on public.edge_cases for each row execute function private.set_updated_at_column();
create or replace trigger conversation_settings_set_updated_at
  before update on public.conversation_settings for each row execute function private.set_updated_at_column();
create or replace trigger batch_jobs_set_updated_at
  before update on public.batch_jobs for each row execute function private.set_updated_at_column();

-- ---------------------------------------------------------------------------
-- RLS: users see and change their own rows; reviewers see everything and
-- review (update) conversations; shared reference rows (no owner) are read by all.

alter table public.user_profiles enable row level security;
alter table public.documents enable row level security;
alter table public.chunks enable row level security;
alter table public.quality_rubric enable row level security;
alter table public.conversation_settings enable row level security;
alter table public.conversation_templates enable row level security;
alter table public.scenarios enable row level security;
alter table public.edge_cases enable row level security;
alter table public.conversations enable row level security;
alter table public.conversation_turns enable row level security;
alter table public.batch_jobs enable row level security;
alter table public.generation_logs enable row level security;
alter table public.export_logs enable row level security;

drop policy if exists user_profiles_select on public.user_profiles;
create policy user_profiles_select on public.user_profiles for select to authenticated
  using (id = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists user_profiles_insert_own on public.user_profiles;
create policy user_profiles_insert_own on public.user_profiles for insert to authenticated
  with check (id = (select auth.uid()));
drop policy if exists user_profiles_update_own on public.user_profiles;
create policy user_profiles_update_own on public.user_profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

drop policy if exists documents_select on public.documents;
create policy documents_select on public.documents for select to authenticated using (true);
drop policy if exists documents_write_own on public.documents;
create policy documents_write_own on public.documents for all to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));
drop policy if exists chunks_select on public.chunks;
create policy chunks_select on public.chunks for select to authenticated using (true);
drop policy if exists chunks_write_own on public.chunks;
create policy chunks_write_own on public.chunks for all to authenticated
  using (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())))
  with check (exists (select 1 from public.documents d where d.id = chunks.document_id and d.created_by = (select auth.uid())));

drop policy if exists quality_rubric_select on public.quality_rubric;
create policy quality_rubric_select on public.quality_rubric for select to authenticated using (true);
drop policy if exists conversation_settings_select on public.conversation_settings;
create policy conversation_settings_select on public.conversation_settings for select to authenticated using (true);
drop policy if exists conversation_settings_update_reviewers on public.conversation_settings;
create policy conversation_settings_update_reviewers on public.conversation_settings for update to authenticated
  using ((select private.is_reviewer())) with check ((select private.is_reviewer()));

-- Templates, scenarios, edge cases: shared (no owner) or own, reviewers all.
drop policy if exists conversation_templates_select on public.conversation_templates;
create policy conversation_templates_select on public.conversation_templates for select to authenticated
  using (created_by is null or created_by = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists conversation_templates_write_own on public.conversation_templates;
create policy conversation_templates_write_own on public.conversation_templates for all to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));
drop policy if exists scenarios_select on public.scenarios;
create policy scenarios_select on public.scenarios for select to authenticated
  using (created_by is null or created_by = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists scenarios_write_own on public.scenarios;
create policy scenarios_write_own on public.scenarios for all to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));
drop policy if exists edge_cases_select on public.edge_cases;
create policy edge_cases_select on public.edge_cases for select to authenticated
  using (created_by is null or created_by = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists edge_cases_write_own on public.edge_cases;
create policy edge_cases_write_own on public.edge_cases for all to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));

drop policy if exists conversations_select on public.conversations;
create policy conversations_select on public.conversations for select to authenticated
  using (created_by = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists conversations_insert_own on public.conversations;
create policy conversations_insert_own on public.conversations for insert to authenticated
  with check (created_by = (select auth.uid()));
drop policy if exists conversations_update on public.conversations;
create policy conversations_update on public.conversations for update to authenticated
  using (created_by = (select auth.uid()) or (select private.is_reviewer()))
  with check (created_by = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists conversations_delete_own on public.conversations;
create policy conversations_delete_own on public.conversations for delete to authenticated
  using (created_by = (select auth.uid()));

drop policy if exists conversation_turns_select on public.conversation_turns;
create policy conversation_turns_select on public.conversation_turns for select to authenticated
  using (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id
                 and (c.created_by = (select auth.uid()) or (select private.is_reviewer()))));
drop policy if exists conversation_turns_write_own on public.conversation_turns;
create policy conversation_turns_write_own on public.conversation_turns for all to authenticated
  using (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())))
  with check (exists (select 1 from public.conversations c where c.id = conversation_turns.conversation_id and c.created_by = (select auth.uid())));

drop policy if exists batch_jobs_select on public.batch_jobs;
create policy batch_jobs_select on public.batch_jobs for select to authenticated
  using (created_by = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists batch_jobs_write_own on public.batch_jobs;
create policy batch_jobs_write_own on public.batch_jobs for all to authenticated
  using (created_by = (select auth.uid())) with check (created_by = (select auth.uid()));

-- Generation logs are written by the generator (service role); users read
-- the logs of their own conversations, reviewers all.
drop policy if exists generation_logs_select on public.generation_logs;
create policy generation_logs_select on public.generation_logs for select to authenticated
  using ((select private.is_reviewer()) or created_by = (select auth.uid())
         or exists (select 1 from public.conversations c where c.id = generation_logs.conversation_id and c.created_by = (select auth.uid())));

alter table public.export_log_items enable row level security;
drop policy if exists export_log_items_own on public.export_log_items;
create policy export_log_items_own on public.export_log_items for all to authenticated
  using (exists (select 1 from public.export_logs l where l.id = export_log_items.export_id and l.user_id = (select auth.uid())))
  with check (exists (select 1 from public.export_logs l where l.id = export_log_items.export_id and l.user_id = (select auth.uid())));

drop policy if exists export_logs_select on public.export_logs;
create policy export_logs_select on public.export_logs for select to authenticated
  using (user_id = (select auth.uid()) or (select private.is_reviewer()));
drop policy if exists export_logs_write_own on public.export_logs;
create policy export_logs_write_own on public.export_logs for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

revoke all on table public.user_profiles, public.documents, public.chunks, public.quality_rubric, public.conversation_settings,
  public.conversation_templates, public.scenarios, public.edge_cases, public.conversations, public.conversation_turns,
  public.batch_jobs, public.generation_logs, public.export_logs, public.export_log_items from anon, authenticated;
grant select on table public.user_profiles, public.documents, public.chunks, public.quality_rubric, public.conversation_settings,
  public.conversation_templates, public.scenarios, public.edge_cases, public.conversations, public.conversation_turns,
  public.batch_jobs, public.generation_logs, public.export_logs, public.export_log_items to authenticated;
grant insert (id, display_name) , update (display_name) on table public.user_profiles to authenticated;
grant insert, update, delete on table public.documents, public.chunks, public.conversation_templates, public.scenarios,
  public.edge_cases, public.batch_jobs, public.export_logs, public.export_log_items to authenticated;
grant update (quality_threshold) on table public.conversation_settings to authenticated;
-- Scores, flags, counts, approvals and the search text are the database's.
grant insert (id, conversation_id, document_id, chunk_id, template_id, scenario_id, edge_case_id, parent_id, parent_type, title,
              persona, emotion, topic, intent, tone, tier, category, status, quality_metrics, estimated_cost_usd, actual_cost_usd,
              generation_duration_ms, generation_model, parameters, metadata, created_by)
  on table public.conversations to authenticated;
grant update (title, persona, emotion, topic, intent, tone, tier, category, status, quality_metrics, reviewer_notes,
              estimated_cost_usd, actual_cost_usd, generation_duration_ms, generation_model, parameters, metadata)
  on table public.conversations to authenticated;
grant delete on table public.conversations to authenticated;
grant insert (id, conversation_id, turn_number, role, content, token_count), update (role, content, token_count), delete
  on table public.conversation_turns to authenticated;
grant all on table public.user_profiles, public.documents, public.chunks, public.quality_rubric, public.conversation_settings,
  public.conversation_templates, public.scenarios, public.edge_cases, public.conversations, public.conversation_turns,
  public.batch_jobs, public.generation_logs, public.export_logs, public.export_log_items to service_role;

-- ---------------------------------------------------------------------------
-- Operations. Security invoker: RLS applies as the caller (own rows, reviewers all).

create or replace function private.conversation_json(c public.conversations) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$ select to_jsonb(c) - 'search_vector' $$;

create or replace function private.conversation_turns_json(p_id uuid) returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$
  select coalesce(jsonb_agg(jsonb_build_object('turn_number', t.turn_number, 'role', t.role, 'content', t.content,
                                               'token_count', t.token_count, 'char_count', t.char_count)
                            order by t.turn_number), '[]'::jsonb)
    from public.conversation_turns t where t.conversation_id = p_id
$$;

-- A conversation by its uuid or its business id; 404 when the caller cannot see it.
create or replace function private.conversation_visible(p_key text) returns public.conversations
language plpgsql stable
set search_path = ''
as $$
declare
  c public.conversations;
begin
  if p_key ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select * into c from public.conversations where id = p_key::uuid;
  end if;
  if c.id is null then
    select * into c from public.conversations where conversation_id = p_key;
  end if;
  if c.id is null then
    raise exception using errcode = 'PT404', message = format('conversation %s not found', p_key);
  end if;
  return c;
end
$$;

-- A conversation and its turns in one transaction (the constraint trigger
-- refuses a conversation left without turns at commit).
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
  if c.template_id is not null then
    update public.conversation_templates set usage_count = usage_count + 1 where id = c.template_id;
  end if;
  select * into c from public.conversations where id = c.id;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;

create or replace function public.conversations_get(p_key text) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
  c public.conversations := private.conversation_visible(p_key);
begin
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;

-- The list filter as SQL over alias c, reading every value from the filter
-- object bound as $1: no caller text becomes SQL. Shared by the list, the
-- export and the bulk rescore.
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

-- Newest first, keyset paged on (created_at, id); list items without turns.
create or replace function public.conversations_list(p_filter jsonb default null, p_limit integer default 50, p_cursor text default null)
returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
set jit = off
as $$
declare
  v_cursor jsonb;
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  execute format(
    'select coalesce(jsonb_agg(private.conversation_json(p) order by p.created_at desc, p.id desc), ''[]''::jsonb), count(*),
            (array_agg(jsonb_build_object(''t'', p.created_at, ''i'', p.id) order by p.created_at, p.id))[1]
       from (select c.* from public.conversations c
              where %s %s
              order by c.created_at desc, c.id desc limit $4) p',
    private.conversation_filter_sql(p_filter),
    case when v_cursor is null then '' else 'and (c.created_at, c.id) < ($2, $3)' end)
  into v_items, v_count, v_last
  using p_filter, (v_cursor ->> 't')::timestamptz, (v_cursor ->> 'i')::uuid, p_limit;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

-- What waits for review, oldest first (first in, first reviewed): reviewers
-- see every pending conversation, users their own. Served by the partial index.
create or replace function public.conversations_review_queue(p_limit integer default 50, p_cursor text default null) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_cursor jsonb;
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  select coalesce(jsonb_agg(private.conversation_json(p) order by p.created_at, p.id), '[]'::jsonb), count(*),
         (array_agg(jsonb_build_object('t', p.created_at, 'i', p.id) order by p.created_at desc, p.id desc))[1]
    into v_items, v_count, v_last
    from (select c.* from public.conversations c
           where c.status = 'pending_review'
             and (c.created_at, c.id) > (coalesce((v_cursor ->> 't')::timestamptz, '-infinity'),
                                         coalesce((v_cursor ->> 'i')::uuid, '00000000-0000-0000-0000-000000000000'))
           order by c.created_at, c.id limit p_limit) p;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

-- approve | reject | request_changes, by reviewers (and the service role).
-- The row is locked, so of two reviewers acting at once the second sees the
-- first one's result: a repeated or illegal move is 409.
create or replace function public.conversations_review(p_key text, p_action text, p_note text default null) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c public.conversations := private.conversation_visible(p_key);
  v_to text := case p_action when 'approve' then 'approved' when 'reject' then 'rejected' when 'request_changes' then 'needs_revision' end;
begin
  if v_to is null then
    raise exception using errcode = '22023', message = 'action must be approve, reject or request_changes';
  end if;
  if not private.can_review() then
    raise exception using errcode = '42501', message = 'only reviewers review conversations';
  end if;
  select * into c from public.conversations where id = c.id for no key update;
  if c.status = v_to or not private.conversation_status_allowed(c.status, v_to) then
    raise exception using errcode = 'PT409',
      message = format('cannot %s conversation %s: it is %s', replace(p_action, '_', ' '), c.conversation_id, c.status),
      detail = format('current status: %s', c.status);
  end if;
  update public.conversations set status = v_to, reviewer_notes = coalesce(p_note, reviewer_notes)
   where id = c.id returning * into c;
  return private.conversation_json(c) || jsonb_build_object('turns', private.conversation_turns_json(c.id));
end
$$;

-- Recompute one conversation's score now and answer the breakdown.
create or replace function public.conversations_score(p_key text) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  c public.conversations := private.conversation_visible(p_key);
begin
  perform set_config('registry.rescore', 'on', true);
  update public.conversations set quality_metrics = quality_metrics where id = c.id returning * into c;
  perform set_config('registry.rescore', '', true);
  if c.id is null then
    raise exception using errcode = '42501', message = 'only the owner or a reviewer rescores a conversation';
  end if;
  return jsonb_build_object('conversation_id', c.conversation_id, 'id', c.id, 'quality_score', c.quality_score,
    'is_flagged', c.is_flagged, 'flag_reason', c.flag_reason, 'status', c.status)
    || jsonb_build_object('breakdown', public.calculate_quality_score(c));
end
$$;

-- Bulk rescore, in chunks the caller drives (each its own transaction, so the
-- batch job's progress is visible while it runs). A threshold, when given,
-- becomes the setting first (reviewers and the service role only).
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
  insert into public.batch_jobs (job_type, name, status, total_items, parameters, started_at)
  values ('validation', 'rescore', 'running', v_total,
          jsonb_build_object('threshold', (select quality_threshold from public.conversation_settings where id), 'filter', p_filter), now())
  returning * into j;
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
    into v_counts using j.parameters -> 'filter', p_after, p_limit;
  perform set_config('registry.rescore', '', true);
  update public.batch_jobs set
    processed_items = processed_items + (v_counts ->> 'processed')::int,
    successful_items = successful_items + (v_counts ->> 'processed')::int,
    results = jsonb_build_object(
      'flagged', coalesce((results ->> 'flagged')::int, 0) + (v_counts ->> 'flagged')::int,
      'unflagged', coalesce((results ->> 'unflagged')::int, 0) + (v_counts ->> 'unflagged')::int,
      'unchanged', coalesce((results ->> 'unchanged')::int, 0) + (v_counts ->> 'unchanged')::int)
  where id = p_job_id;
  return jsonb_build_object('processed', (v_counts ->> 'processed')::int,
    'next_after', case when (v_counts ->> 'processed')::int = p_limit then v_counts ->> 'last' end);
end
$$;

create or replace function public.conversations_finish_job(p_job_id uuid, p_error text default null) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  j public.batch_jobs;
begin
  update public.batch_jobs set status = case when p_error is null then 'completed' else 'failed' end,
         error_message = p_error, completed_at = now()
   where id = p_job_id and status = 'running'
  returning * into j;
  if not found then
    raise exception using errcode = 'PT404', message = format('running job %s not found', p_job_id);
  end if;
  return to_jsonb(j);
end
$$;

create or replace function public.conversations_get_batch_job(p_job_id uuid) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  j public.batch_jobs;
begin
  select * into j from public.batch_jobs where id = p_job_id;
  if not found then
    raise exception using errcode = 'PT404', message = format('batch job %s not found', p_job_id);
  end if;
  return to_jsonb(j);
end
$$;

-- Exports: the log row first (running), then pages in (created_at, id)
-- order, then the outcome. The caller streams; the database keeps the record.
create or replace function public.conversations_export_start(
  p_format text, p_shape text, p_filter jsonb, p_include_metadata boolean, p_file_name text
) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  e public.export_logs;
begin
  perform private.conversation_filter_sql(p_filter);
  insert into public.export_logs (format, shape, filters, include_metadata, file_name)
  values (p_format, p_shape, coalesce(p_filter, '{}'::jsonb), coalesce(p_include_metadata, false), p_file_name)
  returning * into e;
  return to_jsonb(e);
end
$$;

-- One page of an export, with only what the file needs: raw files carry
-- the stored conversation and turns; csv, markdown and metadata the summary
-- fields; openai and sharegpt records without metadata just the messages.
-- Built as json text, not jsonb: nothing reads it back in SQL, and jsonb's
-- binary form costs twice the time to build. Each conversation's turns come
-- from the (conversation_id, turn_number) index, already in order. The page's
-- ids go to export_log_items.
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
begin
  perform private.check_page_limit(p_limit, 5000);
  select * into e from public.export_logs where id = p_export_id and status = 'running';
  if not found then
    raise exception using errcode = 'PT404', message = format('running export %s not found', p_export_id);
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
    'with page as (select c.* from public.conversations c where %s %s order by c.created_at, c.id limit $4),
          items as (insert into public.export_log_items (export_id, position, conversation_id)
                     select $5, $6 + row_number() over (order by page.created_at, page.id), page.id from page returning 1),
          logged as (update public.export_logs l set conversation_count = l.conversation_count + (select count(*) from items)
                      where l.id = $5 returning 1)
     select coalesce(json_agg(json_build_object(''conversation'', %s, ''turns'', coalesce(tt.turns, ''[]''::json),
                                                ''system_prompt'', tpl.system_prompt)
                              order by p.created_at, p.id), ''[]''::json)
       from page p
            left join lateral (select json_agg(%s order by t.turn_number) as turns
                                 from public.conversation_turns t where t.conversation_id = p.id) tt on true
            left join public.conversation_templates tpl on tpl.id = p.template_id
      where (select count(*) from logged) >= 0',
    private.conversation_filter_sql(e.filters),
    case when p_cursor is null then '' else 'and (c.created_at, c.id) > ($2, $3)' end,
    v_conversation, v_turn)
  into v_rows using e.filters, (p_cursor ->> 't')::timestamptz, (p_cursor ->> 'i')::uuid, p_limit, p_export_id, e.conversation_count;
  return v_rows;
end
$$;

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

create or replace function public.conversations_list_exports(p_limit integer default 50, p_cursor text default null) returns jsonb
language plpgsql stable
set search_path = ''
set timezone = 'UTC'
as $$
declare
  v_cursor jsonb;
  v_items jsonb;
  v_count integer;
  v_last jsonb;
begin
  perform private.check_page_limit(p_limit);
  v_cursor := private.time_cursor_decode(p_cursor);
  select coalesce(jsonb_agg(to_jsonb(p) - 'conversation_ids' order by p.created_at desc, p.id desc), '[]'::jsonb), count(*),
         (array_agg(jsonb_build_object('t', p.created_at, 'i', p.id) order by p.created_at, p.id))[1]
    into v_items, v_count, v_last
    from (select e.* from public.export_logs e
           where e.user_id = auth.uid()
             and (e.created_at, e.id) < (coalesce((v_cursor ->> 't')::timestamptz, 'infinity'),
                                         coalesce((v_cursor ->> 'i')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
           order by e.created_at desc, e.id desc limit p_limit) p;
  return jsonb_build_object('items', v_items,
    'next_cursor', case when v_count = p_limit then private.cursor_encode(v_last) end);
end
$$;

-- The generator's audit trail: written by the service role only.
create or replace function public.conversations_log_generation(p_log jsonb) returns jsonb
language plpgsql
set search_path = ''
set timezone = 'UTC'
as $$
declare
  r public.generation_logs := jsonb_populate_record(null::public.generation_logs, p_log);
  g public.generation_logs;
begin
  if auth.role() is distinct from 'service_role' then
    raise exception using errcode = '42501', message = 'generation logs are written by the service role';
  end if;
  insert into public.generation_logs
    (conversation_id, template_id, batch_job_id, request_payload, response_payload, model_used, temperature, max_tokens,
     input_tokens, output_tokens, cost_usd, duration_ms, status, error_message, error_code, retry_attempt)
  values
    (r.conversation_id, r.template_id, r.batch_job_id, coalesce(r.request_payload, '{}'::jsonb), r.response_payload, r.model_used,
     r.temperature, r.max_tokens, coalesce(r.input_tokens, 0), coalesce(r.output_tokens, 0), coalesce(r.cost_usd, 0),
     r.duration_ms, coalesce(r.status, 'success'), r.error_message, r.error_code, coalesce(r.retry_attempt, 0))
  returning * into g;
  return to_jsonb(g);
end
$$;

-- Tokens and cost by day, model and template, over the logs the caller may read.
create or replace function public.conversations_generation_stats(p_from timestamptz default null, p_to timestamptz default null)
returns jsonb
language sql stable
set search_path = ''
set timezone = 'UTC'
as $$
  select jsonb_build_object('from', p_from, 'to', p_to, 'items', coalesce(jsonb_agg(to_jsonb(s) order by s.day desc, s.model, s.template_name), '[]'::jsonb))
    from (select date_trunc('day', g.created_at)::date as day, g.model_used as model, g.template_id, t.template_name,
                 count(*) as calls, count(*) filter (where g.status <> 'success') as failed_calls,
                 sum(g.input_tokens) as input_tokens, sum(g.output_tokens) as output_tokens,
                 sum(g.input_tokens + g.output_tokens) as total_tokens, sum(g.cost_usd) as cost_usd,
                 round(avg(g.duration_ms)) as avg_duration_ms
            from public.generation_logs g left join public.conversation_templates t on t.id = g.template_id
           where (p_from is null or g.created_at >= p_from) and (p_to is null or g.created_at < p_to)
           group by 1, 2, 3, 4) s
$$;

do $$
declare
  fns text := 'private.is_reviewer(), private.can_review(), private.is_quality_metrics(jsonb),
    private.quality_breakdown(uuid, jsonb, uuid), public.calculate_quality_score(public.conversations),
    private.apply_quality(public.conversations, jsonb), private.conversation_status_allowed(text, text),
    private.conversation_json(public.conversations), private.conversation_turns_json(uuid), private.conversation_visible(text),
    private.conversation_filter_sql(jsonb), public.conversations_create(jsonb, jsonb), public.conversations_get(text),
    public.conversations_list(jsonb, integer, text), public.conversations_review_queue(integer, text), public.conversations_review(text, text, text), public.conversations_score(text),
    public.conversations_rescore_start(numeric, jsonb), public.conversations_rescore_chunk(uuid, uuid, integer),
    public.conversations_finish_job(uuid, text), public.conversations_get_batch_job(uuid),
    public.conversations_export_start(text, text, jsonb, boolean, text), public.conversations_export_page(uuid, jsonb, integer),
    public.conversations_export_finish(uuid, bigint, text, text), public.conversations_list_exports(integer, text),
    public.conversations_log_generation(jsonb), public.conversations_generation_stats(timestamptz, timestamptz)';
begin
  execute format('revoke all on function %s from public, anon', fns);
  execute format('grant execute on function %s to authenticated, service_role', fns);
  execute 'revoke all on function private.conversation_search_vector(text, text, text, text, text) from public, anon';
  execute 'grant execute on function private.conversation_search_vector(text, text, text, text, text) to authenticated, service_role';
  execute 'revoke all on function private.conversations_before_write(), private.conversation_turns_sync(),
    private.conversations_search_text(), private.conversation_has_turns() from public, anon, authenticated';
end
$$;
