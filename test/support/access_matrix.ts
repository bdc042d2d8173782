// Who may do what through the table API, object by object: the contract the
// "Who may do what" sections of docs/access.md describe, checked by
// test/table_api/matrix.test.ts (behaviour, as PostgREST runs each request)
// and test/table_api/catalog.test.ts (grants, policies, functions).
//
// Outcomes are one letter per actor, in ACTORS order:
//   owner     the user who owns the fixture row (or its parent)
//   other     another signed-in user, acting on the owner's row
//   reviewer  a user with user_profiles.is_reviewer, acting on the owner's row
//   anon      the anon key, no user
//   service   the service role
// Y: allowed (the row is read, written, or the function answers);
// N: refused (permission denied, RLS hides or rejects the row, or the
//    function refuses with 42501 / 404).
// Placeholders (:owner, :run, ...) are the fixture's ids (FIXTURE below);
// :actor is the acting user (the owner, for anon and the service role, who
// have no user of their own). An insert writes a row of the actor's own,
// attached where the table has a parent to the owner's parent: so "other"
// inserting into runs is anyone registering a run, and into versions is a
// user adding a version to someone else's package.

export const ACTORS = ['owner', 'other', 'reviewer', 'anon', 'service'] as const;
export type Actor = (typeof ACTORS)[number];

export interface Op {
  /** One statement, or several separated by ";\n" (the last one's rows count). */
  sql: string;
  expect: string;
  /** Run as the database owner in the same transaction, before the actor acts (rolled back with it). */
  prepare?: string;
}

export interface TableEntry {
  kind: 'table' | 'view';
  /** What `authenticated` holds (anon holds nothing; service_role everything). Column lists are exact. */
  grants: { select?: true; insert?: 'all' | readonly string[]; update?: 'all' | readonly string[]; delete?: true };
  /** The owner's fixture row, as a WHERE condition. */
  row: string;
  /** A harmless change for the update check. */
  set?: string;
  select: string;
  insert?: Op;
  update?: string;
  delete?: string;
}

const RUN_UPDATE = ['config_json', 'wandb_run_id', 'wandb_url', 'run_name', 'chain_of_custody_id', 'config_file_path', 'host',
  'instance_id', 'status', 'started_at', 'ended_at', 'duration_seconds', 'final_metrics_json', 'blog_post_url',
  'conversation_s3_key', 'crash_report_s3_key', 'error_log_s3_key', 'crash_analysis_s3_key', 'error_message', 'metadata'] as const;
const TEMPLATE_UPDATE = ['template_name', 'description', 'category', 'tier', 'template_text', 'system_prompt', 'structure',
  'variables', 'applicable_personas', 'applicable_emotions', 'applicable_topics', 'min_turns', 'max_turns', 'version',
  'is_active'] as const;
const SCENARIO_UPDATE = ['parent_template_id', 'name', 'description', 'context', 'persona', 'topic', 'emotional_arc',
  'parameter_values', 'status'] as const;
const EDGE_CASE_UPDATE = ['parent_template_id', 'name', 'description', 'edge_case_type', 'trigger_condition',
  'expected_behavior', 'risk_level', 'validation_criteria', 'test_status', 'is_active'] as const;
export const CONVERSATION_UPDATE = ['title', 'persona', 'emotion', 'topic', 'intent', 'tone', 'tier', 'category', 'status',
  'quality_metrics', 'reviewer_notes', 'estimated_cost_usd', 'actual_cost_usd', 'generation_duration_ms', 'generation_model',
  'parameters', 'metadata'] as const;
const VERSION_UPDATE = ['name', 'status', 'published_at', 'published_by', 'config_snapshot', 'model_snapshot',
  'dataset_snapshot', 'change_summary', 'parent_version_id', 'is_deployed', 'deployment_target', 'deployment_url',
  'deployment_id', 'training_status', 'training_started_at', 'training_completed_at', 'training_metrics', 'estimated_cost',
  'actual_cost', 'budget_limit'] as const;

/** Written by the database owner before the checks (with service-role claims, as the seed does). */
export const FIXTURE = `
insert into auth.users (id, email) values (:owner, 'owner@matrix.test'), (:other, 'other@matrix.test'), (:reviewer, 'reviewer@matrix.test');
insert into public.user_profiles (id, display_name, is_reviewer) values (:owner, 'Owner', false), (:reviewer, 'Reviewer', true);
insert into public.training_runs (run_id, config_json, created_by) values (:run, '{"objectives": ["COMT"]}', :owner);
insert into public.webhook_deliveries (id, payload, payload_sha256, outcome, run_id)
  overriding system value values (9001, '{}', repeat('0', 64), 'recorded', :run);
insert into public.training_configs (id, name, user_id) values (:package, 'matrix', :owner), (:published_package, 'matrix published', :owner);
insert into public.training_package_versions (id, package_id, created_by) values (:published, :published_package, :owner);
update public.training_package_versions set status = 'published' where id = :published;
insert into public.training_package_versions (id, package_id, created_by) values (:version, :package, :owner);
insert into public.documents (id, title, created_by) values (:document, 'matrix', :owner);
insert into public.chunks (id, document_id, content) values (:chunk, :document, 'text');
insert into public.conversation_templates (id, template_name, created_by) values (:template, 'matrix_template', :owner);
insert into public.scenarios (id, name, created_by) values (:scenario, 'matrix scenario', :owner);
insert into public.edge_cases (id, name, trigger_condition, expected_behavior, created_by) values (:edge_case, 'matrix', 'when', 'then', :owner);
insert into public.conversations (id, title, status, created_by) values (:conversation, 'matrix', 'draft', :owner);
insert into public.conversation_turns (id, conversation_id, turn_number, role, content)
  values (:turn, :conversation, 1, 'user', 'hello'), (gen_random_uuid(), :conversation, 2, 'assistant', 'hi');
insert into public.batch_jobs (id, job_type, name, status, created_by) values (:job, 'validation', 'rescore', 'running', :owner);
insert into public.generation_logs (id, conversation_id, model_used) values (:generation_log, :conversation, 'matrix-model');
insert into public.export_logs (id, user_id, format, conversation_count) values (:export, :owner, 'jsonl', 1);
insert into public.export_log_items (export_id, position, conversation_id) values (:export, 1, :conversation);
insert into public.unified_logs (id, trace_id, request, response) values
  ('matrix-log-1', 'matrix-trace-1', '{"prompt": "q1"}', '"a1"'), ('matrix-log-2', 'matrix-trace-2', '{"prompt": "q2"}', '"a2"');
insert into public.training_annotations (trace_id, trainable) values ('matrix-trace-1', true);
`;

export const TABLES: Record<string, TableEntry> = {
  training_runs: {
    kind: 'table',
    grants: {
      select: true, delete: true, update: RUN_UPDATE,
      insert: ['run_id', 'created_by', ...RUN_UPDATE],
    },
    row: 'run_id = :run', set: `run_name = 'renamed'`,
    select: 'YYYNY',
    insert: { sql: `insert into public.training_runs (run_id, config_json, created_by) values ('matrix-new', '{}', :actor)`, expect: 'YYYNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  run_objectives: {
    kind: 'table', grants: { select: true, delete: true },
    row: `run_id = :run and objective_name = 'COMT'`, set: 'raw_mean = 1',
    select: 'YYYNY',
    insert: { sql: `insert into public.run_objectives (run_id, objective_name) values (:run, 'invented')`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'YNNNY',
  },
  webhook_deliveries: {
    kind: 'table', grants: {},
    row: 'id = 9001', set: `error = 'x'`,
    select: 'NNNNY',
    insert: { sql: `insert into public.webhook_deliveries (payload, payload_sha256, outcome) values ('{}', repeat('1', 64), 'recorded')`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  training_configs: {
    kind: 'table',
    grants: { select: true, delete: true, insert: ['id', 'name', 'template_type', 'config_json', 'user_id'], update: ['name', 'template_type', 'config_json'] },
    row: 'id = :package', set: `name = 'renamed'`,
    select: 'YNNNY',
    insert: { sql: `insert into public.training_configs (name, user_id) values ('new', :actor)`, expect: 'YYYNY' },
    // :package has drafts only (a package with published versions is kept: test/table_api/rules.test.ts)
    update: 'YNNNY', delete: 'YNNNY',
  },
  training_package_versions: {
    kind: 'table',
    grants: {
      select: true, delete: true, update: VERSION_UPDATE,
      insert: ['id', 'package_id', 'version_number', 'name', 'status', 'created_by', 'config_snapshot', 'model_snapshot',
        'dataset_snapshot', 'change_summary', 'parent_version_id', 'is_deployed', 'deployment_target', 'deployment_url',
        'deployment_id', 'training_metrics', 'estimated_cost', 'budget_limit'],
    },
    row: 'id = :version', set: `change_summary = 'edited'`,
    select: 'YNNNY',
    insert: { sql: `insert into public.training_package_versions (package_id, created_by) values (:package, :actor)`, expect: 'YNNNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  user_profiles: {
    kind: 'table', grants: { select: true, insert: ['id', 'display_name'], update: ['display_name'] },
    row: 'id = :owner', set: `display_name = 'renamed'`,
    select: 'YNYNY',
    // a profile for the owner's id: only the owner may create it (other and reviewer would be impersonating)
    insert: { sql: `insert into public.user_profiles (id) values (:owner)`, prepare: 'delete from public.user_profiles where id = :owner', expect: 'YNNNY' },
    update: 'YNNNY', delete: 'NNNNY',
  },
  documents: {
    kind: 'table', grants: { select: true, insert: 'all', update: 'all', delete: true },
    row: 'id = :document', set: `title = 'renamed'`,
    select: 'YNYNY',
    insert: { sql: `insert into public.documents (title, created_by) values ('new', :actor)`, expect: 'YYYNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  chunks: {
    kind: 'table', grants: { select: true, insert: 'all', update: 'all', delete: true },
    row: 'id = :chunk', set: `content = 'edited'`,
    select: 'YNYNY',
    insert: { sql: `insert into public.chunks (document_id, content) values (:document, 'more')`, expect: 'YNNNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  quality_rubric: {
    kind: 'table', grants: { select: true },
    row: `component = 'accuracy'`, set: 'weight = 0.3',
    select: 'YYYNY',
    insert: { sql: `insert into public.quality_rubric (component, weight) values ('novelty', 0.1)`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  conversation_settings: {
    kind: 'table', grants: { select: true, update: ['quality_threshold'] },
    row: 'id', set: 'quality_threshold = 5',
    select: 'YYYNY',
    insert: { sql: 'insert into public.conversation_settings (id) values (true)', prepare: 'delete from public.conversation_settings', expect: 'NNNNY' },
    update: 'NNYNY', delete: 'NNNNY',
  },
  conversation_templates: {
    kind: 'table', grants: { select: true, delete: true, update: TEMPLATE_UPDATE, insert: ['id', 'created_by', ...TEMPLATE_UPDATE] },
    row: 'id = :template', set: `description = 'edited'`,
    select: 'YNYNY',
    insert: { sql: `insert into public.conversation_templates (template_name, created_by) values ('matrix_new', :actor)`, expect: 'YYYNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  scenarios: {
    kind: 'table', grants: { select: true, delete: true, update: SCENARIO_UPDATE, insert: ['id', 'created_by', ...SCENARIO_UPDATE] },
    row: 'id = :scenario', set: `description = 'edited'`,
    select: 'YNYNY',
    // under the owner's private template: only who may see it
    insert: { sql: `insert into public.scenarios (name, parent_template_id, created_by) values ('new', :template, :actor)`, expect: 'YNYNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  edge_cases: {
    kind: 'table', grants: { select: true, delete: true, update: EDGE_CASE_UPDATE, insert: ['id', 'created_by', ...EDGE_CASE_UPDATE] },
    row: 'id = :edge_case', set: `description = 'edited'`,
    select: 'YNYNY',
    insert: { sql: `insert into public.edge_cases (name, trigger_condition, expected_behavior, created_by) values ('new', 'when', 'then', :actor)`, expect: 'YYYNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  conversations: {
    kind: 'table',
    grants: {
      select: true, delete: true, update: CONVERSATION_UPDATE,
      insert: ['id', 'conversation_id', 'document_id', 'chunk_id', 'template_id', 'scenario_id', 'edge_case_id', 'parent_id',
        'parent_type', 'title', 'persona', 'emotion', 'topic', 'intent', 'tone', 'tier', 'category', 'status', 'quality_metrics',
        'estimated_cost_usd', 'actual_cost_usd', 'generation_duration_ms', 'generation_model', 'parameters', 'metadata', 'created_by'],
    },
    row: 'id = :conversation', set: `title = 'renamed'`,
    select: 'YNYNY',
    // stored with its turns (a conversation never exists without them: checked at commit), made from the owner's
    // private template and document: what it refers to must be the writer's to see
    insert: {
      sql: `insert into public.conversations (id, title, template_id, document_id, created_by)
            values ('00000000-0000-4000-8000-00000000c0de', 'new', :template, :document, :actor);
            insert into public.conversation_turns (conversation_id, turn_number, role, content)
            values ('00000000-0000-4000-8000-00000000c0de', 1, 'user', 'q')`,
      expect: 'YNYNY',
    },
    update: 'YNYNY', delete: 'YNNNY',
  },
  conversation_turns: {
    kind: 'table', grants: { select: true, delete: true, insert: ['id', 'conversation_id', 'turn_number', 'role', 'content', 'token_count'], update: ['role', 'content', 'token_count'] },
    row: 'id = :turn', set: `content = 'edited'`,
    select: 'YNYNY',
    insert: { sql: `insert into public.conversation_turns (conversation_id, turn_number, role, content) values (:conversation, 3, 'user', 'more')`, expect: 'YNNNY' },
    update: 'YNNNY', delete: 'YNNNY',
  },
  batch_jobs: {
    kind: 'table', grants: { select: true },
    row: 'id = :job', set: `status = 'completed'`,
    select: 'YNYNY',
    insert: { sql: `insert into public.batch_jobs (job_type, status, created_by) values ('export', 'completed', :actor)`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  generation_logs: {
    kind: 'table', grants: { select: true },
    row: 'id = :generation_log', set: 'cost_usd = 0',
    select: 'YNYNY',
    insert: { sql: `insert into public.generation_logs (model_used, created_by) values ('m', :actor)`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  export_logs: {
    kind: 'table', grants: { select: true },
    row: 'id = :export', set: `status = 'completed', checksum_sha256 = repeat('0', 64)`,
    select: 'YNYNY',
    insert: { sql: `insert into public.export_logs (user_id, format, status) values (:actor, 'csv', 'completed')`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  export_log_items: {
    kind: 'table', grants: { select: true },
    row: 'export_id = :export', set: 'position = 7',
    select: 'YNYNY',
    insert: { sql: `insert into public.export_log_items (export_id, position, conversation_id) values (:export, 2, :conversation)`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  unified_logs: {
    kind: 'table', grants: { select: true },
    row: `id = 'matrix-log-1'`, set: `model = 'm'`,
    select: 'YYYNY',
    insert: { sql: `insert into public.unified_logs (id, trace_id) values ('matrix-log-3', 'matrix-trace-3')`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  training_examples: {
    kind: 'table', grants: { select: true },
    row: `trace_id = 'matrix-trace-1'`, set: `model = 'm'`,
    select: 'YYYNY',
    insert: {
      sql: `insert into public.training_examples (trace_id, log_id, user_input, assistant_output, created_at) values ('matrix-trace-9', 'x', 'q', 'a', now())`,
      expect: 'NNNNY',
    },
    update: 'NNNNY', delete: 'NNNNY',
  },
  training_annotations: {
    kind: 'table',
    grants: { select: true, delete: true, insert: ['trace_id', 'trainable', 'verified', 'confidence', 'notes', 'tags'], update: ['trainable', 'verified', 'confidence', 'notes', 'tags'] },
    row: `trace_id = 'matrix-trace-1'`, set: 'verified = true',
    // the team's shared judgement: any signed-in annotator
    select: 'YYYNY',
    insert: { sql: `insert into public.training_annotations (trace_id, trainable) values ('matrix-trace-2', false)`, expect: 'YYYNY' },
    update: 'YYYNY', delete: 'YYYNY',
  },
  training_annotation_history: {
    kind: 'table', grants: { select: true },
    row: `trace_id = 'matrix-trace-1'`, set: `action = 'update'`,
    select: 'YYYNY',
    insert: { sql: `insert into public.training_annotation_history (trace_id, action) values ('matrix-trace-1', 'insert')`, expect: 'NNNNY' },
    update: 'NNNNY', delete: 'NNNNY',
  },
  training_examples_with_annotations: {
    kind: 'view', grants: { select: true }, row: `trace_id = 'matrix-trace-1'`, select: 'YYYNY',
  },
  training_stats_by_cascade: {
    kind: 'view', grants: { select: true }, row: 'examples > 0', select: 'YYYNY',
  },
  training_examples_mv: {
    kind: 'view', grants: { select: true }, row: `trace_id = 'matrix-trace-1'`, select: 'YYYNY',
  },
};

/**
 * Every function in public: a call with the fixture's ids, and who it answers.
 * A call that returns a boolean answers Y only when it is true (a list that shows the owner's row).
 */
export const FUNCTIONS: Record<string, Op> = {
  calculate_quality_score: {
    sql: `select public.calculate_quality_score(jsonb_populate_record(null::public.conversations, jsonb_build_object('id', :conversation)))`,
    expect: 'YNYNY',
  },
  conversations_create: {
    sql: `select public.conversations_create('{"title": "m"}', '[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]')`,
    expect: 'YYYNY',
  },
  conversations_export_start: { sql: `select public.conversations_export_start('jsonl', 'openai', '{}', false, 'f.jsonl')`, expect: 'YYYNY' },
  conversations_export_page: { sql: 'select public.conversations_export_page(:export)', expect: 'YNNNY' },
  conversations_export_finish: { sql: `select public.conversations_export_finish(:export, 10, repeat('0', 64))`, expect: 'NNNNY' },
  conversations_rescore_start: { sql: `select public.conversations_rescore_start(null, '{}')`, expect: 'YYYNY' },
  conversations_rescore_chunk: { sql: 'select public.conversations_rescore_chunk(:job)', expect: 'YNNNY' },
  conversations_finish_job: { sql: 'select public.conversations_finish_job(:job)', expect: 'YNNNY' },
  conversations_get_batch_job: { sql: 'select public.conversations_get_batch_job(:job)', expect: 'YNYNY' },
  conversations_generation_stats: { sql: 'select public.conversations_generation_stats()', expect: 'YYYNY' },
  conversations_get: { sql: 'select public.conversations_get(:conversation::text)', expect: 'YNYNY' },
  // Lists answer true when the caller sees the owner's row in them.
  conversations_list: { sql: `select public.conversations_list()::jsonb -> 'items' @> jsonb_build_array(jsonb_build_object('id', :conversation))`, expect: 'YNYNY' },
  conversations_list_exports: { sql: 'select public.conversations_list_exports()', expect: 'YYYNY' },
  conversations_log_generation: { sql: `select public.conversations_log_generation('{"model_used": "m"}')`, expect: 'NNNNY' },
  // the fixture conversation is a draft (the one status its owner may delete); a review needs it submitted
  conversations_review: {
    sql: `select public.conversations_review(:conversation::text, 'request_changes')`, expect: 'NNYNY',
    prepare: `update public.conversations set status = 'pending_review' where id = :conversation`,
  },
  conversations_review_queue: { sql: 'select public.conversations_review_queue()', expect: 'YYYNY' },
  conversations_update: { sql: `select public.conversations_update(:conversation::text, '{"title": "edited"}')`, expect: 'YNNNY' },
  conversations_submit: { sql: 'select public.conversations_submit(:conversation::text)', expect: 'YNNNY' },
  conversations_archive: { sql: 'select public.conversations_archive(:conversation::text)', expect: 'YNYNY' },
  // a draft of the owner's (only drafts are deleted)
  conversations_delete: {
    prepare: `insert into public.conversations (id, title, status, created_by) values ('00000000-0000-4000-8000-0000000000d1', 'draft', 'draft', :owner);
              insert into public.conversation_turns (conversation_id, turn_number, role, content) values ('00000000-0000-4000-8000-0000000000d1', 1, 'user', 'q')`,
    sql: `select public.conversations_delete('00000000-0000-4000-8000-0000000000d1')`, expect: 'YNNNY',
  },
  conversations_set_reviewer: { sql: 'select public.conversations_set_reviewer(:other, true)', expect: 'NNNNY' },
  conversations_list_reviewers: { sql: `select public.conversations_list_reviewers()::jsonb -> 'items' @> jsonb_build_array(jsonb_build_object('user_id', :reviewer))`, expect: 'NNYNY' },
  conversation_library_list: { sql: `select public.conversation_library_list('conversation_templates')::jsonb -> 'items' @> jsonb_build_array(jsonb_build_object('id', :template))`, expect: 'YNYNY' },
  conversation_library_get: { sql: `select public.conversation_library_get('scenarios', :scenario)`, expect: 'YNYNY' },
  conversation_library_save: { sql: `select public.conversation_library_save('edge_cases', :edge_case, '{"description": "edited"}')`, expect: 'YNNNY' },
  conversation_library_deactivate: { sql: `select public.conversation_library_deactivate('conversation_templates', :template)`, expect: 'YNNNY' },
  conversations_batch_job_start: { sql: `select public.conversations_batch_job_start('validation')`, expect: 'NNNNY' },
  // a cleanup job of the owner's (started by the service role in practice; its chunks run as whoever started it)
  conversations_batch_job_chunk: {
    prepare: `insert into public.batch_jobs (id, job_type, name, status, parameters, created_by)
              values ('00000000-0000-4000-8000-0000000000e1', 'cleanup', 'archive_flagged', 'running', '{"cutoff": "2000-01-01T00:00:00Z"}', :owner)`,
    sql: `select public.conversations_batch_job_chunk('00000000-0000-4000-8000-0000000000e1')`, expect: 'YNNNY',
  },
  conversations_batch_job_report: {
    prepare: `insert into public.batch_jobs (id, job_type, name, status, total_items) values ('00000000-0000-4000-8000-0000000000f2', 'generation', 'g', 'running', 5)`,
    sql: `select public.conversations_batch_job_report('00000000-0000-4000-8000-0000000000f2', 0, 1)`, expect: 'NNNNY',
  },
  conversations_score: { sql: 'select public.conversations_score(:conversation::text)', expect: 'YNYNY' },
  get_next_version_number: { sql: 'select public.get_next_version_number(:package)', expect: 'YNNNY' },
  packages_create: { sql: `select public.packages_create('m')`, expect: 'YYYNY' },
  packages_list: { sql: `select public.packages_list()::jsonb -> 'items' @> jsonb_build_array(jsonb_build_object('id', :package))`, expect: 'YNNNY' },
  packages_get: { sql: 'select public.packages_get(:package)', expect: 'YNNNY' },
  packages_next_version_number: { sql: 'select public.packages_next_version_number(:package)', expect: 'YNNNY' },
  packages_create_version: { sql: 'select public.packages_create_version(:package)', expect: 'YNNNY' },
  packages_list_versions: { sql: 'select public.packages_list_versions(:package)', expect: 'YNNNY' },
  packages_get_version: { sql: 'select public.packages_get_version(:version)', expect: 'YNNNY' },
  packages_get_version_by_number: { sql: 'select public.packages_get_version_by_number(:package, 1)', expect: 'YNNNY' },
  packages_update_version: { sql: `select public.packages_update_version(:version, '{"name": "renamed"}')`, expect: 'YNNNY' },
  packages_publish_version: { sql: 'select public.packages_publish_version(:version)', expect: 'YNNNY' },
  packages_archive_version: { sql: 'select public.packages_archive_version(:published)', expect: 'YNNNY' },
  packages_set_deployment: { sql: 'select public.packages_set_deployment(:published, false)', expect: 'YNNNY' },
  packages_set_training: { sql: `select public.packages_set_training(:version, '{"training_status": "queued"}')`, expect: 'YNNNY' },
  packages_delete_version: { sql: 'select public.packages_delete_version(:version)', expect: 'YNNNY' },
  packages_fork_version: { sql: 'select public.packages_fork_version(:published)', expect: 'YNNNY' },
  packages_diff_versions: { sql: 'select public.packages_diff_versions(:version, :published)', expect: 'YNNNY' },
  runs_create: { sql: `select public.runs_create('matrix-created', '{}')`, expect: 'YYYNY' },
  runs_get: { sql: 'select public.runs_get(:run)', expect: 'YYYNY' },
  runs_list: { sql: `select public.runs_list()::jsonb -> 'items' @> jsonb_build_array(jsonb_build_object('run_id', :run))`, expect: 'YYYNY' },
  runs_stats: { sql: 'select public.runs_stats()', expect: 'YYYNY' },
  runs_update_status: { sql: `select public.runs_update_status(:run, 'running')`, expect: 'YNNNY' },
  runs_attach_crash: { sql: `select public.runs_attach_crash(:run, p_error_message => 'boom')`, expect: 'YNNNY' },
  runs_set_blog_post: { sql: `select public.runs_set_blog_post(:run, 'https://blog.example.com/post')`, expect: 'YNNNY' },
  runs_set_conversation: { sql: `select public.runs_set_conversation(:run, 'conversations/run.json')`, expect: 'YNNNY' },
  runs_delete_objectives: { sql: 'select public.runs_delete_objectives(:run)', expect: 'YNNNY' },
  runs_objective_stats: { sql: `select public.runs_objective_stats('COMT')`, expect: 'YYYNY' },
  runs_objective_compare_gradient_methods: { sql: `select public.runs_objective_compare_gradient_methods('COMT')`, expect: 'YYYNY' },
  runs_gradient_method_stats: {
    sql: `select (public.runs_gradient_method_stats() -> 'methods' -> 0 ->> 'runs')::integer >= 1`, expect: 'YYYNY',
  },
  runs_set_metadata: { sql: `select public.runs_set_metadata(:run, '{"note": "matrix"}')`, expect: 'YNNNY' },
  wandb_ingest: { sql: `select public.wandb_ingest('report', jsonb_build_object('run_id', :run, 'state', 'RUNNING'))`, expect: 'NNNNY' },
  training_logs_ingest: { sql: `select public.training_logs_ingest('[]')`, expect: 'NNNNY' },
  training_search_index: { sql: 'select public.training_search_index()', expect: 'NNNNY' },
  training_example_get: { sql: `select public.training_example_get('matrix-trace-1')`, expect: 'YYYNY' },
  training_annotate: { sql: `select public.training_annotate('matrix-trace-2', true)`, expect: 'YYYNY' },
  training_clear_annotation: { sql: `select public.training_clear_annotation('matrix-trace-1')`, expect: 'YYYNY' },
  training_examples_list: { sql: `select public.training_examples_list()::jsonb -> 'items' @> '[{"trace_id": "matrix-trace-1"}]'`, expect: 'YYYNY' },
  training_few_shot: { sql: 'select public.training_few_shot()', expect: 'YYYNY' },
  training_stats: { sql: 'select public.training_stats()', expect: 'YYYNY' },
  training_export_page: { sql: 'select public.training_export_page()', expect: 'YYYNY' },
  idempotent_call: {
    sql: `select public.idempotent_call('matrix-key', repeat('0', 64), 'runs_stats', '{}')`, expect: 'YYYNY',
  },
};

const WHO: Record<string, string> = {
  YYYNY: 'any signed-in user', YNYNY: 'owner, reviewers', YNNNY: 'owner', NNYNY: 'reviewers', NNNNY: 'service role only',
};

/** An outcome as words, for the README (anon is never allowed and the service role always is: checked by the matrix test). */
function who(outcome: string | undefined): string {
  if (outcome === undefined) return '';
  const words = WHO[outcome];
  if (!words) throw new Error(`no wording for outcome ${outcome}: add it to WHO`);
  return words;
}

/** The "Who may do what through the table API" tables of docs/access.md, rendered from TABLES and FUNCTIONS. */
/** Where the rendered matrix lives (npm run docs:matrix writes it). */
export const ACCESS_DOC = new URL('../../docs/access.md', import.meta.url);

export function renderMatrix(): string {
  const lines = ['| table or view | read | insert | update | delete |', '| --- | --- | --- | --- | --- |'];
  for (const [name, t] of Object.entries(TABLES)) {
    lines.push(`| \`${name}\` | ${who(t.select)} | ${who(t.insert?.expect)} | ${who(t.update)} | ${who(t.delete)} |`);
  }
  lines.push('', '| who may call | functions |', '| --- | --- |');
  const byWho = new Map<string, string[]>();
  for (const [name, f] of Object.entries(FUNCTIONS)) byWho.set(who(f.expect), [...(byWho.get(who(f.expect)) ?? []), name]);
  for (const [words, names] of byWho) lines.push(`| ${words} | ${names.map((n) => `\`${n}\``).join(', ')} |`);
  return lines.join('\n');
}
