-- Demo data for `npm start` (and `supabase db reset` locally). Idempotent:
-- the local server applies it on every start.
insert into auth.users (id, email)
values ('00000000-0000-4000-8000-000000000001', 'demo@example.com'),
       ('00000000-0000-4000-8000-000000000002', 'reviewer@example.com')
on conflict (id) do nothing;

insert into public.training_runs
  (run_id, run_name, host, instance_id, chain_of_custody_id, status, created_at, started_at, ended_at,
   duration_seconds, wandb_run_id, wandb_url, config_json, final_metrics_json, blog_post_url,
   crash_report_s3_key, error_log_s3_key, crash_analysis_s3_key, error_message, created_by)
values
  ('demo_mgda_i-0a1b2c', 'mgda 4gpu COMT+DRD5', 'ec2', 'i-0a1b2c', 'ABC123', 'completed',
   now() - interval '3 days', now() - interval '3 days' + interval '2 minutes', now() - interval '2 days 20 hours',
   4 * 3600 - 120, 'wb-demo-001', 'https://wandb.ai/demo-team/molecules/runs/wb-demo-001',
   '{"training": {"batch_size": 64, "learning_rate": 0.001, "beta": 0.04, "gradient_method": "mgda", "num_gpus": 4, "num_scaffolds": 12, "gradient_accumulation_steps": 4},
     "objectives": [{"name": "COMT_activity", "alias": "COMT_activity_maximize", "weight": 1.0, "direction": "maximize", "params": {"uniprot": "P21964"}},
                    {"name": "DRD5_activity", "alias": "DRD5_activity_maximize", "weight": 0.5, "direction": "maximize", "params": {"uniprot": "P21918"}}]}',
   '{"objectives/COMT_activity_maximize/raw_mean": 0.856, "objectives/DRD5_activity_maximize/raw_mean": 0.743, "train/loss": 0.412, "_step": 12000}',
   'https://blog.example.com/posts/mgda-analysis', null, null, null, null,
   '00000000-0000-4000-8000-000000000001'),
  ('demo_pcgrad_i-0d4e5f', 'pcgrad 8gpu', 'ec2', 'i-0d4e5f', 'DEF456', 'crashed',
   now() - interval '2 days', now() - interval '2 days' + interval '3 minutes', now() - interval '1 day 22 hours',
   7020, 'wb-demo-002', 'https://wandb.ai/demo-team/molecules/runs/wb-demo-002',
   '{"training": {"batch_size": 128, "learning_rate": "3e-4", "beta": 0.1, "gradient_method": "pcgrad", "num_gpus": 8},
     "objectives": [{"name": "QED", "alias": "QED_maximize", "weight": 1.0, "direction": "maximize"}]}',
   null, null, 'crash-reports/demo_pcgrad_i-0d4e5f/report.md', 'crash-reports/demo_pcgrad_i-0d4e5f/error.log',
   'crash-reports/demo_pcgrad_i-0d4e5f/analysis.md', 'CUDA out of memory at step 5120',
   '00000000-0000-4000-8000-000000000001'),
  ('demo_imtlg_expanse-4411', 'imtlg expanse', 'expanse', '4411', 'GHI789', 'running',
   now() - interval '5 hours', now() - interval '4 hours 50 minutes', null, null,
   'wb-demo-003', 'https://wandb.ai/demo-team/molecules/runs/wb-demo-003',
   '{"batch_size": 32, "learning_rate": 0.0005, "gradient_method": "imtlg", "num_gpus": 2}',
   null, null, null, null, null, null, '00000000-0000-4000-8000-000000000001'),
  ('demo_aligned_i-0f9e8d', 'aligned_mtl queued', 'ec2', 'i-0f9e8d', 'JKL012', 'launched',
   now() - interval '10 minutes', null, null, null, null, null,
   '{"training": {"batch_size": 64, "learning_rate": 0.001, "gradient_method": "aligned_mtl", "num_gpus": 4}}',
   null, null, null, null, null, null, '00000000-0000-4000-8000-000000000001')
on conflict (run_id) do nothing;

-- A demo package: version 1 published, version 2 a draft forked from it.
insert into public.training_configs (id, name, template_type, config_json, user_id)
values ('00000000-0000-4000-8000-0000000000a1', 'sft-llama-support', 'lora_finetuning',
        '{"training": {"learning_rate": 0.0003, "num_epochs": 3, "batch_size": 16, "lora_rank": 16}}',
        '00000000-0000-4000-8000-000000000001')
on conflict (id) do nothing;

insert into public.training_package_versions (id, package_id, config_snapshot, model_snapshot, dataset_snapshot, change_summary, estimated_cost, budget_limit)
select '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000a1',
       '{"training": {"learning_rate": 0.0003, "num_epochs": 3, "batch_size": 16, "lora_rank": 16}}',
       '{"id": "meta-llama/Llama-3.1-8B-Instruct", "revision": "main"}',
       '[{"datasetId": "support-chats-2026-10", "rows": 12000}]', 'first cut', 40, 60
where not exists (select 1 from public.training_package_versions where package_id = '00000000-0000-4000-8000-0000000000a1');

update public.training_package_versions set status = 'published'
 where id = '00000000-0000-4000-8000-0000000000b1' and status = 'draft';

insert into public.training_package_versions (package_id, config_snapshot, model_snapshot, dataset_snapshot, change_summary, parent_version_id)
select package_id, jsonb_set(config_snapshot, '{training,num_epochs}', '4'), model_snapshot,
       dataset_snapshot || '[{"datasetId": "edge-cases-2026-11", "rows": 800}]', 'one more epoch, edge cases added', id
  from public.training_package_versions
 where id = '00000000-0000-4000-8000-0000000000b1'
   and not exists (select 1 from public.training_package_versions
                    where parent_version_id = '00000000-0000-4000-8000-0000000000b1');

-- The demo reviewer (another user: nobody reviews their own conversations),
-- and three of the demo user's conversations: approved, flagged, waiting for review.
insert into public.user_profiles (id, display_name, is_reviewer)
values ('00000000-0000-4000-8000-000000000001', 'Demo user', false),
       ('00000000-0000-4000-8000-000000000002', 'Demo reviewer', true)
on conflict (id) do nothing;

do $$
declare
  v_template uuid := (select id from public.conversation_templates where template_name = 'financial_planning_consultation');
  v_id uuid;
  demo record;
begin
  -- As the service role, so the approved demo row passes the reviewers-only rule.
  perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
  for demo in
    select * from (values
      ('conv_demo_retire_60', 'Retiring at 60 with 400k', 'pre_retiree', 'anxious', 'retirement', 'approved',
       '{"relevance": 9, "accuracy": 8.5, "naturalness": 8, "coherence": 9, "confidence": 8}'::jsonb,
       array['Can I retire at 60 with 400k saved?', 'It depends on what you spend. What do your yearly expenses look like?',
             'About 45k a year, plus a mortgage that ends in 3 years.', 'Then a 4% withdrawal covers about 16k; with Social Security at 62 the gap is roughly 10k a year for two years. Here is a plan...']),
      ('conv_demo_budget_weak', 'Budgeting for a first home', 'young_professional', 'hopeful', 'budgeting', 'generated',
       '{"relevance": 5, "accuracy": 4, "naturalness": 6, "coherence": 5, "confidence": 5}'::jsonb,
       array['How much should I save for a house?', 'You should save money.', 'How much exactly?', 'A lot.']),
      ('conv_demo_refund', 'Refund after an outage', 'frustrated_customer', 'angry', 'refund', 'pending_review',
       '{"relevance": 8, "accuracy": 8, "naturalness": 7, "coherence": 8, "confidence": 7}'::jsonb,
       array['Your service was down all weekend and I want my money back.', 'You are right to be upset: the outage lasted 41 hours. I have credited this month in full.',
             'Fine. Will it happen again?', 'We moved the database to a second region on Monday; here is the incident report.'])
    ) as d(conversation_id, title, persona, emotion, topic, status, metrics, turns)
  loop
    continue when exists (select 1 from public.conversations where conversation_id = demo.conversation_id);
    insert into public.conversations (conversation_id, title, persona, emotion, topic, tier, status, quality_metrics, template_id, created_by)
    values (demo.conversation_id, demo.title, demo.persona, demo.emotion, demo.topic, 'template', demo.status, demo.metrics,
            v_template, '00000000-0000-4000-8000-000000000001')
    returning id into v_id;
    insert into public.conversation_turns (conversation_id, turn_number, role, content, token_count)
    select v_id, i, case when i % 2 = 1 then 'user' else 'assistant' end, demo.turns[i], length(demo.turns[i]) / 4
      from generate_subscripts(demo.turns, 1) i;
  end loop;
  perform set_config('request.jwt.claims', '', true);
end
$$;

-- Demo trace logs (examples are extracted as they are inserted) and annotations.
insert into public.unified_logs (id, trace_id, session_id, cascade_id, cell_name, node_type, model, request, response,
                                 prompt_tokens, completion_tokens, cost_usd, duration_ms, created_at)
values
  ('demo-ev-1', 'demo-trace-1', 'demo-session', 'support_triage', 'classify', 'llm_call', 'gpt-4o',
   '{"messages": [{"role": "system", "content": "Classify the ticket: billing, shipping or other."}, {"role": "user", "content": "I was charged twice for order 1182."}]}',
   '{"choices": [{"message": {"role": "assistant", "content": "billing"}}]}', 42, 1, 0.0002, 310, now() - interval '2 hours'),
  ('demo-ev-2', 'demo-trace-2', 'demo-session', 'support_triage', 'classify', 'llm_call', 'gpt-4o',
   '{"messages": [{"role": "system", "content": "Classify the ticket: billing, shipping or other."}, {"role": "user", "content": "My parcel has not moved in a week."}]}',
   '{"choices": [{"message": {"role": "assistant", "content": "shipping"}}]}', 40, 1, 0.0002, 290, now() - interval '1 hour'),
  ('demo-ev-3', 'demo-trace-3', 'demo-session', 'support_triage', 'reply', 'llm_call', 'claude-sonnet-4',
   '{"system": "Write a short, kind reply.", "messages": [{"role": "user", "content": [{"type": "text", "text": "I was charged twice for order 1182."}]}]}',
   '{"content": [{"type": "text", "text": "Sorry about that: the duplicate charge for order 1182 is refunded and will show in 3-5 days."}]}',
   60, 28, 0.0011, 1400, now() - interval '50 minutes'),
  ('demo-ev-4', 'demo-trace-4', 'demo-session', 'support_triage', 'lookup', 'tool_call', null,
   '{"tool": "orders.get", "args": {"id": 1182}}', '{"status": "paid"}', null, null, null, 35, now() - interval '49 minutes')
on conflict (id) do nothing;

insert into public.training_annotations (trace_id, trainable, verified, confidence, notes, tags)
values ('demo-trace-1', true, true, 0.95, 'clear billing case', '{golden}'),
       ('demo-trace-3', true, false, 0.8, null, '{tone}')
on conflict (trace_id) do nothing;
