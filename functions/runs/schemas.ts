// Request and response schemas of the runs function. The database holds the
// same rules (constraints, trigger); these give early, field-named errors.
import { z } from '@hono/zod-openapi';

export const RUN_STATUSES = ['launched', 'running', 'completed', 'failed', 'crashed'] as const;
const RESERVED_RUN_IDS = ['stats', 'objectives', 'query-by-objectives', 'openapi.json'];

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

export const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048);
const shortText = (max: number) => z.string().min(1).max(max);
const JsonObject = z.record(z.string(), z.unknown());

export const CreateRunBody = z.strictObject({
  run_id: RunId,
  config: JsonObject.openapi({ description: 'the whole training config; kept as is in config_json' }),
  wandb_run_id: shortText(200).optional(),
  chain_of_custody_id: shortText(200).optional(),
  run_name: shortText(500).optional(),
  config_file_path: shortText(2048).optional(),
  host: shortText(200).optional(),
  instance_id: shortText(200).optional(),
}).openapi('CreateRun');

export const UpdateStatusBody = z.strictObject({
  status: z.enum(RUN_STATUSES),
  started_at: z.iso.datetime({ offset: true }).optional(),
  ended_at: z.iso.datetime({ offset: true }).optional(),
  duration_seconds: z.number().min(0).optional(),
  wandb_run_id: shortText(200).optional(),
  wandb_url: HttpUrl.optional(),
  final_metrics: JsonObject.optional().openapi({ description: 'W&B summary; merged over the stored metrics' }),
}).openapi('UpdateRunStatus');

export const CrashBody = z.strictObject({
  error_log_s3_key: S3Key.optional(),
  crash_report_s3_key: S3Key.optional(),
  crash_analysis_s3_key: S3Key.optional(),
  error_message: z.string().max(20000).optional(),
}).openapi('AttachCrash');

export const BlogPostBody = z.strictObject({ url: HttpUrl }).openapi('AttachBlogPost');
export const ConversationBody = z.strictObject({ s3_key: S3Key }).openapi('AttachConversation');

const ts = z.string().nullable();
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
  blog_post_url: z.string().nullable(),
  conversation_s3_key: z.string().nullable(),
  crash_report_s3_key: z.string().nullable(),
  error_log_s3_key: z.string().nullable(),
  crash_analysis_s3_key: z.string().nullable(),
  error_message: z.string().nullable(),
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
