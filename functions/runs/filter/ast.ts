// The filter language's AST: what the parser produces, what query-by-objectives
// builds, and what the SQL compiler (private.run_filter_sql) accepts. The zod
// schema is the contract between the two sides; the SQL side checks it again.
import { z } from '@hono/zod-openapi';

/** Columns a filter or order_by may name, with their SQL types (== private.run_filter_columns()). */
export const RUN_COLUMNS = {
  run_id: 'text', wandb_run_id: 'text', wandb_url: 'text', run_name: 'text', chain_of_custody_id: 'text',
  config_file_path: 'text', host: 'text', instance_id: 'text', status: 'text',
  created_at: 'timestamptz', started_at: 'timestamptz', ended_at: 'timestamptz',
  duration_seconds: 'double precision', batch_size: 'integer', learning_rate: 'double precision',
  beta: 'double precision', gradient_method: 'text', num_gpus: 'integer', num_objectives: 'integer',
  num_scaffolds: 'integer', gradient_accumulation_steps: 'integer', num_epochs: 'integer', max_steps: 'integer',
  warmup_steps: 'integer', weight_decay: 'double precision', max_grad_norm: 'double precision',
  optimizer: 'text', lr_scheduler_type: 'text', model_name: 'text', seed: 'integer', max_seq_length: 'integer',
  lora_rank: 'integer', num_generations: 'integer', final_loss: 'double precision',
  final_reward: 'double precision', total_training_steps: 'integer', wandb_runtime_seconds: 'double precision',
  blog_post_url: 'text', conversation_s3_key: 'text', crash_report_s3_key: 'text', error_log_s3_key: 'text',
  crash_analysis_s3_key: 'text', error_message: 'text', created_by: 'uuid', created_at_db: 'timestamptz',
  updated_at_db: 'timestamptz',
} as const;
export type RunColumn = keyof typeof RUN_COLUMNS;
export type ColumnType = (typeof RUN_COLUMNS)[RunColumn];
export const COLUMN_NAMES = Object.keys(RUN_COLUMNS) as [RunColumn, ...RunColumn[]];

export const OBJECTIVE_METRICS = ['raw_mean', 'normalized_mean', 'raw_std', 'normalized_std', 'weight'] as const;
export const COMPARISONS = ['=', '!=', '<', '<=', '>', '>='] as const;

export const MAX_IN_VALUES = 1000;
export const MAX_DEPTH = 32;
export const MAX_PREDICATES = 200;

export const Literal = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);
export type Literal = z.infer<typeof Literal>;

export const Field = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('column'), name: z.enum(COLUMN_NAMES) }),
  z.strictObject({ kind: z.literal('config'), path: z.array(z.string().min(1).max(200)).min(1).max(32) }),
  z.strictObject({ kind: z.literal('metadata'), path: z.array(z.string().min(1).max(200)).min(1).max(32) }),
  z.strictObject({ kind: z.literal('metric'), key: z.string().min(1).max(500) }),
  z.strictObject({ kind: z.literal('objective'), name: z.string().min(1).max(200), metric: z.enum(OBJECTIVE_METRICS) }),
]);
export type Field = z.infer<typeof Field>;

const Cmp = z.strictObject({ op: z.literal('cmp'), field: Field, cmp: z.enum(COMPARISONS), value: Literal });
const In = z.strictObject({
  op: z.literal('in'), field: Field, values: z.array(Literal).min(1).max(MAX_IN_VALUES), negated: z.boolean(),
});
const Null = z.strictObject({ op: z.literal('null'), field: Field, negated: z.boolean() });
const Like = z.strictObject({
  op: z.literal('like'), field: Field, pattern: z.string().max(1000), negated: z.boolean(), case_insensitive: z.boolean(),
});
export const Predicate = z.discriminatedUnion('op', [Cmp, In, Null, Like]);
export type Predicate = z.infer<typeof Predicate>;

export type FilterNode = Predicate | { op: 'and' | 'or'; args: FilterNode[] };
export const FilterNode: z.ZodType<FilterNode> = z.lazy(() =>
  z.union([Predicate, z.strictObject({ op: z.enum(['and', 'or']), args: z.array(FilterNode).min(2) })]));

/** Structure and size limits: zod for the shape, a walk for depth and count. */
export function validateFilter(node: unknown): FilterNode {
  const parsed = FilterNode.parse(node);
  let predicates = 0;
  const walk = (n: FilterNode, depth: number) => {
    if (depth > MAX_DEPTH) throw new Error(`filter nests deeper than ${MAX_DEPTH} levels`);
    if (n.op === 'and' || n.op === 'or') n.args.forEach((a) => walk(a, depth + 1));
    else if (++predicates > MAX_PREDICATES) throw new Error(`filter has more than ${MAX_PREDICATES} conditions`);
  };
  walk(parsed, 1);
  return parsed;
}

export const Order = z.strictObject({ field: Field, dir: z.enum(['asc', 'desc']) });
export type Order = z.infer<typeof Order>;
