// Request and response schemas of the runs function. The database holds the
// same rules (constraints, trigger); these give early, field-named errors.
import { z } from '@hono/zod-openapi';
import { HttpUrl, JsonObject, optionalField, shortText } from '../_shared/http/fields.ts';

export const RUN_STATUSES = ['launched', 'running', 'completed', 'failed', 'crashed'] as const;
const RESERVED_RUN_IDS = ['stats', 'objectives', 'query-by-objectives', 'openapi.json'];
// (`analytics` is not reserved: /runs/analytics/gradient-methods has three
// segments, and no run route does, so a run may be called analytics.)

export const RunId = z.string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@=+-]{0,199}$/, 'run_id: 1-200 of A-Z a-z 0-9 . _ : @ = + -, starting with a letter or digit')
  .refine((id) => !RESERVED_RUN_IDS.includes(id), 'run_id is a reserved route word')
  .openapi({ example: 'mgda_i-0abc123' });

export const S3Key = z.string().min(1)
  .refine((k) => new TextEncoder().encode(k).length <= 1024, 'S3 key is longer than 1024 bytes')
  .refine((k) => !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(k), 'S3 key must not have a scheme (give the key, not s3://...)')
  .refine((k) => !k.includes('..'), 'S3 key must not contain ..')
  .refine((k) => !k.startsWith('/'), 'S3 key must not start with /')
  // deno-lint-ignore no-control-regex
  .refine((k) => !/[\u0000-\u001f\u007f]/.test(k), 'S3 key must not contain control characters')
  .openapi({ example: 'crash-reports/mgda_i-0abc123/report.md' });


/**
 * A run's free-form metadata ("manual actions", seed 002): a JSON object of at
 * most 64 kB nesting at most 32 levels. The database holds the same bound
 * (training_runs_metadata_valid, on its stored size); this one answers early.
 */
export const RunMetadata = JsonObject
  .refine((m) => new TextEncoder().encode(JSON.stringify(m)).length <= 65536, 'metadata is larger than 64 kB')
  .refine((m) => jsonDepth(m) <= 32, 'metadata nests deeper than 32 levels')
  .openapi({ example: { ticket: 'ML-123', notes: 'rerun with seed 7', tags: ['sweep-11'] } });

function jsonDepth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((max, c) => Math.max(max, jsonDepth(c)), 0);
}

export const CreateRunBody = z.strictObject({
  run_id: RunId,
  config: JsonObject.openapi({ description: 'the whole training config; kept as is in config_json' }),
  wandb_run_id: optionalField(shortText(200)),
  chain_of_custody_id: optionalField(shortText(200)),
  run_name: optionalField(shortText(500)),
  config_file_path: optionalField(shortText(2048)),
  host: optionalField(shortText(200)),
  instance_id: optionalField(shortText(200)),
  metadata: optionalField(RunMetadata).openapi({ description: 'free-form object for manual actions (at most 64 kB)' }),
}).openapi('CreateRun');

/** PATCH /runs/:run_id. metadata: merged over the stored object as an RFC 7396 merge patch (a null value removes its key); null clears it. */
export const PatchRunBody = z.strictObject({
  metadata: RunMetadata.nullable().openapi({
    description: 'RFC 7396 merge patch over the stored metadata (a key set to null is removed); null clears all metadata',
  }),
}).openapi('PatchRun');

export const UpdateStatusBody = z.strictObject({
  status: z.enum(RUN_STATUSES),
  started_at: optionalField(z.iso.datetime({ offset: true })),
  ended_at: optionalField(z.iso.datetime({ offset: true })),
  duration_seconds: optionalField(z.number().min(0)),
  wandb_run_id: optionalField(shortText(200)),
  wandb_url: optionalField(HttpUrl),
  final_metrics: optionalField(JsonObject).openapi({ description: 'W&B summary; merged over the stored metrics' }),
  // The extracted metric columns by name, as seed 003's update_run_status passes them (final_loss=summary.get('train/loss')).
  final_loss: optionalField(z.number()).openapi({ description: "stored as final_metrics['train/loss']" }),
  final_reward: optionalField(z.number()).openapi({ description: "stored as final_metrics['train/reward']" }),
  total_training_steps: optionalField(z.number().int().min(0)).openapi({ description: "stored as final_metrics['_step']" }),
  wandb_runtime_seconds: optionalField(z.number().min(0)).openapi({ description: "stored as final_metrics['_runtime']" }),
}).openapi('UpdateRunStatus');

/**
 * The run columns read from final_metrics_json (generated columns, README
 * "Extracted hyperparameters"), by the W&B summary key each is read from. A
 * status update may name them; they are stored under that key, so the column
 * and the summary can never disagree.
 */
export const METRIC_COLUMNS = {
  final_loss: 'train/loss',
  final_reward: 'train/reward',
  total_training_steps: '_step',
  wandb_runtime_seconds: '_runtime',
} as const;

export const CrashBody = z.strictObject({
  error_log_s3_key: optionalField(S3Key),
  crash_report_s3_key: optionalField(S3Key),
  crash_analysis_s3_key: optionalField(S3Key),
  error_message: optionalField(z.string().max(20000)),
}).openapi('AttachCrash');

export const BlogPostBody = z.strictObject({ url: HttpUrl }).openapi('AttachBlogPost');
export const ConversationBody = z.strictObject({ s3_key: S3Key }).openapi('AttachConversation');

const ts = z.string().nullable();

export const OBJECTIVE_VALUE_METRICS = ['raw_mean', 'normalized_mean', 'raw_std', 'normalized_std'] as const;
export const RunObjective = z.object({
  objective_name: z.string(),
  objective_alias: z.string().nullable(),
  uniprot: z.string().nullable(),
  weight: z.number().nullable(),
  direction: z.enum(['maximize', 'minimize']).nullable(),
  raw_mean: z.number().nullable(),
  normalized_mean: z.number().nullable(),
  raw_std: z.number().nullable(),
  normalized_std: z.number().nullable(),
  updated_at: z.string(),
}).openapi('RunObjective');

export const ObjectiveName = z.string().min(1).max(200).openapi({ example: 'COMT_activity' });

const Bound = z.strictObject({ min: optionalField(z.number().finite()), max: optionalField(z.number().finite()) })
  .refine((b) => b.min !== undefined || b.max !== undefined, 'give min, max or both')
  .refine((b) => b.min === undefined || b.max === undefined || b.min <= b.max, 'min is greater than max');

export const QueryByObjectivesBody = z.strictObject({
  objectives: z.record(ObjectiveName, Bound)
    .refine((o) => Object.keys(o).length >= 1, 'name at least one objective')
    .refine((o) => Object.keys(o).length <= 50, 'at most 50 objectives')
    .openapi({ example: { COMT_activity: { min: 0.8 }, DRD5_activity: { min: 0.7, max: 0.95 } } }),
  metric: optionalField(z.enum(['raw_mean', 'normalized_mean'])),
  gradient_method: optionalField(z.string().min(1).max(200)),
  status: optionalField(z.enum(RUN_STATUSES)),
  filter: optionalField(z.string().min(1).max(4000)).openapi({ description: 'more conditions in the filter language' }),
  order_by: optionalField(z.string().min(1).max(500)),
  limit: optionalField(z.number().int().min(1).max(1000)),
  cursor: optionalField(z.string().max(2000)),
}).openapi('QueryByObjectives');

export const ObjectiveStats = z.object({
  objective_name: z.string(), metric: z.string(), gradient_method: z.string().nullable(),
  count: z.number().int(), mean: z.number().nullable(), min: z.number().nullable(), max: z.number().nullable(),
  stddev: z.number().nullable(), p50: z.number().nullable(), p90: z.number().nullable(),
}).openapi('ObjectiveStats');

export const GradientMethodComparison = z.object({
  objective_name: z.string(), metric: z.string(), direction: z.enum(['maximize', 'minimize']),
  methods: z.array(z.object({
    gradient_method: z.string().nullable(), runs: z.number().int(), completed: z.number().int(),
    failed: z.number().int(), crashed: z.number().int(), crash_rate: z.number().nullable(),
    runs_with_value: z.number().int(), mean: z.number().nullable(), best: z.number().nullable(),
    stddev: z.number().nullable(),
  })),
}).openapi('GradientMethodComparison');

export const GradientMethodStats = z.object({
  created_after: z.string().nullable(),
  created_before: z.string().nullable(),
  methods: z.array(z.object({
    gradient_method: z.string().nullable().openapi({ description: 'null: runs whose config names no gradient method' }),
    runs: z.number().int(), completed: z.number().int(), failed: z.number().int(), crashed: z.number().int(),
    active: z.number().int().openapi({ description: 'launched or running' }),
    success_rate: z.number().nullable().openapi({ description: 'completed / (completed + failed + crashed), 4 decimals; null when none finished' }),
    mean_duration_seconds: z.number().nullable().openapi({ description: 'over completed runs with a duration; null when there are none' }),
    p50_duration_seconds: z.number().nullable(),
    p90_duration_seconds: z.number().nullable(),
  })),
}).openapi('GradientMethodStats');
export type GradientMethodStats = z.infer<typeof GradientMethodStats>;

export const DeletedObjectives = z.object({ run_id: z.string(), deleted: z.number().int() }).openapi('DeletedObjectives');

export const Run = z.object({
  run_id: z.string(),
  wandb_run_id: z.string().nullable(),
  wandb_url: z.string().nullable(),
  run_name: z.string().nullable(),
  chain_of_custody_id: z.string().nullable(),
  config_file_path: z.string().nullable(),
  host: z.string().nullable(),
  instance_id: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  created_at: z.string(),
  started_at: ts,
  ended_at: ts,
  duration_seconds: z.number().nullable(),
  config_json: JsonObject,
  final_metrics_json: JsonObject.nullable(),
  batch_size: z.number().int().nullable(),
  learning_rate: z.number().nullable(),
  beta: z.number().nullable(),
  gradient_method: z.string().nullable(),
  num_gpus: z.number().int().nullable(),
  num_objectives: z.number().int().nullable(),
  num_scaffolds: z.number().int().nullable(),
  gradient_accumulation_steps: z.number().int().nullable(),
  num_epochs: z.number().int().nullable(),
  max_steps: z.number().int().nullable(),
  warmup_steps: z.number().int().nullable(),
  weight_decay: z.number().nullable(),
  max_grad_norm: z.number().nullable(),
  optimizer: z.string().nullable(),
  lr_scheduler_type: z.string().nullable(),
  model_name: z.string().nullable(),
  seed: z.number().int().nullable(),
  max_seq_length: z.number().int().nullable(),
  lora_rank: z.number().int().nullable(),
  num_generations: z.number().int().nullable(),
  final_loss: z.number().nullable(),
  final_reward: z.number().nullable(),
  total_training_steps: z.number().int().nullable(),
  wandb_runtime_seconds: z.number().nullable(),
  objectives: z.array(RunObjective),
  blog_post_url: z.string().nullable(),
  conversation_s3_key: z.string().nullable(),
  crash_report_s3_key: z.string().nullable(),
  error_log_s3_key: z.string().nullable(),
  crash_analysis_s3_key: z.string().nullable(),
  error_message: z.string().nullable(),
  metadata: JsonObject.nullable(),
  created_by: z.string().nullable(),
  created_at_db: z.string(),
  updated_at_db: z.string(),
}).openapi('Run');
export type Run = z.infer<typeof Run>;

export const RunStats = z.object({
  total_runs: z.number().int(),
  by_status: z.record(z.enum(RUN_STATUSES), z.number().int()),
  with_blog_posts: z.number().int(),
  with_crash_analysis: z.number().int(),
}).openapi('RunStats');
export type RunStats = z.infer<typeof RunStats>;
export type ObjectiveStats = z.infer<typeof ObjectiveStats>;
export type GradientMethodComparison = z.infer<typeof GradientMethodComparison>;
export type DeletedObjectives = z.infer<typeof DeletedObjectives>;
