// Request and response schemas of the conversations function. The database
// holds the same rules (constraints, triggers, RLS); these give early,
// field-named errors.
import { z } from '@hono/zod-openapi';
import { JsonObject, optionalField, shortText } from '../_shared/http/fields.ts';
import { boolParam, cursorParam, limitParam, numberParam, timestampParam } from '../_shared/http/params.ts';
import { EXPORT_FORMATS, EXPORT_SHAPES } from '../_shared/export/chat_formats.ts';

export const CONVERSATION_STATUSES = ['draft', 'generated', 'pending_review', 'approved', 'rejected', 'needs_revision', 'archived'] as const;
export const TIERS = ['template', 'scenario', 'edge_case'] as const;
export const TURN_ROLES = ['user', 'assistant', 'system'] as const;
export const REVIEW_ACTIONS = ['approve', 'reject', 'request_changes'] as const;

const Uuid = z.uuid({ message: 'must be a uuid' });
const Score = z.number().min(0).max(10);
const Money = z.number().finite().min(0).max(999_999.9999);

export const ConversationKey = z.string().min(1).max(200)
  .openapi({ param: { name: 'id', in: 'path' }, description: 'the uuid or the conversation_id', example: 'conv_retirement_001' });

export const Turn = z.strictObject({
  role: z.enum(TURN_ROLES),
  content: z.string().max(100_000),
  turn_number: optionalField(z.number().int().min(1)).openapi({ description: 'default: the position in the list, from 1' }),
  token_count: optionalField(z.number().int().min(0)),
});

export const QualityMetrics = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a lower-case component name'), Score)
  .openapi({ description: 'rubric components, each 0-10', example: { relevance: 8.5, accuracy: 9, naturalness: 7 } });

export const CreateConversationBody = z.strictObject({
  conversation_id: optionalField(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'conversation_id: 1-200 of A-Z a-z 0-9 . _ : -')),
  title: optionalField(z.string().max(500)),
  persona: optionalField(shortText(200)),
  emotion: optionalField(shortText(200)),
  topic: optionalField(shortText(200)),
  intent: optionalField(shortText(200)),
  tone: optionalField(shortText(200)),
  tier: optionalField(z.enum(TIERS)),
  category: optionalField(shortText(200)),
  status: optionalField(z.enum(CONVERSATION_STATUSES)).openapi({ description: 'default generated' }),
  quality_metrics: optionalField(QualityMetrics),
  template_id: optionalField(Uuid),
  scenario_id: optionalField(Uuid),
  edge_case_id: optionalField(Uuid),
  document_id: optionalField(Uuid),
  chunk_id: optionalField(Uuid),
  parent_id: optionalField(Uuid),
  parent_type: optionalField(z.enum(['conversation', 'template', 'scenario', 'edge_case'])),
  parameters: optionalField(JsonObject),
  metadata: optionalField(JsonObject),
  estimated_cost_usd: optionalField(Money),
  actual_cost_usd: optionalField(Money),
  generation_duration_ms: optionalField(z.number().int().min(0).max(2_147_483_647)),
  generation_model: optionalField(shortText(200)),
  turns: z.array(Turn).min(1, 'a conversation is stored with at least one turn').max(500),
}).openapi('CreateConversation');

/** The list/export/rescore filter, typed (request bodies). */
export const ConversationFilter = z.strictObject({
  status: optionalField(z.enum(CONVERSATION_STATUSES)),
  tier: optionalField(z.enum(TIERS)),
  persona: optionalField(shortText(200)),
  emotion: optionalField(shortText(200)),
  topic: optionalField(shortText(200)),
  flagged: optionalField(z.boolean()),
  min_quality: optionalField(Score),
  max_quality: optionalField(Score),
  q: optionalField(z.string().min(1).max(500)).openapi({ description: 'full text over title, persona, emotion, topic and turns (web-search syntax)' }),
  created_after: optionalField(z.iso.datetime({ offset: true })),
  created_before: optionalField(z.iso.datetime({ offset: true })),
  template_id: optionalField(Uuid),
}).openapi('ConversationFilter');
export type ConversationFilter = z.infer<typeof ConversationFilter>;

/** The same filter as query-string parameters (GET /conversations). */
export const ListQuery = z.object({
  status: z.enum(CONVERSATION_STATUSES).optional(),
  tier: z.enum(TIERS).optional(),
  persona: shortText(200).optional(),
  emotion: shortText(200).optional(),
  topic: shortText(200).optional(),
  flagged: boolParam().optional(),
  min_quality: numberParam(0).pipe(z.number().max(10)).optional(),
  max_quality: numberParam(0).pipe(z.number().max(10)).optional(),
  q: z.string().min(1).max(500).optional(),
  created_after: timestampParam().optional(),
  created_before: timestampParam().optional(),
  template_id: Uuid.optional(),
  order: z.enum(['created_at.desc', 'quality_score.desc', 'quality_score.asc']).optional()
    .openapi({ description: 'created_at.desc (default) or quality_score.desc / .asc (unscored last when descending); the cursor belongs to its order' }),
  limit: limitParam(),
  cursor: cursorParam(),
});

export const ReviewBody = z.strictObject({
  action: z.enum(REVIEW_ACTIONS),
  note: optionalField(z.string().min(1).max(10_000)),
}).openapi('Review');

export const RescoreBody = z.strictObject({
  threshold: optionalField(Score.refine((n) => Math.round(n * 10) === n * 10, 'one decimal at most'))
    .openapi({ description: 'becomes the flagging threshold (reviewers only) before the rescore' }),
  filter: optionalField(ConversationFilter),
}).openapi('Rescore');

export const ExportBody = z.strictObject({
  format: z.enum(EXPORT_FORMATS),
  shape: optionalField(z.enum(EXPORT_SHAPES)).openapi({ description: 'jsonl/json: openai (default for jsonl), sharegpt or raw (default for json)' }),
  filter: optionalField(ConversationFilter).openapi({
    description: 'status defaults to approved unless the filter names one: {"persona": "x"} exports approved conversations of persona x',
  }),
  include_metadata: optionalField(z.boolean()),
}).openapi('Export');
export type ExportBody = z.infer<typeof ExportBody>;

export const GenerationLogBody = z.strictObject({
  conversation_id: optionalField(Uuid),
  template_id: optionalField(Uuid),
  batch_job_id: optionalField(Uuid),
  model_used: shortText(200),
  request_payload: optionalField(JsonObject),
  response_payload: optionalField(JsonObject),
  temperature: optionalField(z.number().min(0).max(9.999)),
  max_tokens: optionalField(z.number().int().min(1).max(2_147_483_647)),
  input_tokens: optionalField(z.number().int().min(0).max(2_147_483_647)),
  output_tokens: optionalField(z.number().int().min(0).max(2_147_483_647)),
  cost_usd: optionalField(z.number().min(0).max(999_999)),
  duration_ms: optionalField(z.number().int().min(0).max(2_147_483_647)),
  status: optionalField(z.enum(['success', 'failed', 'rate_limited', 'timeout'])),
  error_message: optionalField(z.string().max(10_000)),
  error_code: optionalField(shortText(200)),
  retry_attempt: optionalField(z.number().int().min(0).max(100)),
}).openapi('GenerationLog');

export const StatsQuery = z.object({ from: timestampParam().optional(), to: timestampParam().optional() });

// Responses: the stored rows (documented by their main fields).
export const TurnOut = z.object({
  turn_number: z.number().int(), role: z.enum(TURN_ROLES), content: z.string(),
  token_count: z.number().int().nullable(), char_count: z.number().int(),
});
export const Conversation = z.looseObject({
  id: z.string(), conversation_id: z.string(), title: z.string().nullable(), persona: z.string().nullable(),
  emotion: z.string().nullable(), topic: z.string().nullable(), tier: z.enum(TIERS), status: z.enum(CONVERSATION_STATUSES),
  quality_score: z.number().nullable(), quality_metrics: z.record(z.string(), z.number()), is_flagged: z.boolean(),
  flag_reason: z.string().nullable(), turn_count: z.number().int(), total_tokens: z.number().int(),
  review_history: z.array(JsonObject), created_by: z.string().nullable(), created_at: z.string(), updated_at: z.string(),
}).openapi('Conversation');
export type Conversation = z.infer<typeof Conversation>;
export const ConversationWithTurns = Conversation.extend({ turns: z.array(TurnOut) }).openapi('ConversationWithTurns');
export type ConversationWithTurns = z.infer<typeof ConversationWithTurns>;
export type TurnOut = z.infer<typeof TurnOut>;

export const ScoreResult = z.object({
  id: z.string(), conversation_id: z.string(), quality_score: z.number().nullable(), is_flagged: z.boolean(),
  flag_reason: z.string().nullable(), status: z.enum(CONVERSATION_STATUSES),
  breakdown: z.looseObject({
    score: z.number().nullable(), threshold: z.number(), flagged: z.boolean(),
    components: z.array(z.object({ component: z.string(), weight: z.number(), value: z.number() })),
    weak_components: z.array(z.string()), structure_checks: JsonObject, ignored_metrics: z.array(z.string()),
  }),
}).openapi('QualityScore');
export type ScoreResult = z.infer<typeof ScoreResult>;

export const BatchJob = z.looseObject({
  id: z.string(), job_type: z.string(), name: z.string().nullable(), status: z.string(),
  total_items: z.number().int(), processed_items: z.number().int(), results: JsonObject, error_message: z.string().nullable(),
}).openapi('BatchJob');
export type BatchJob = z.infer<typeof BatchJob>;

export const ExportLog = z.looseObject({
  id: z.string(), format: z.enum(EXPORT_FORMATS), shape: z.enum(EXPORT_SHAPES), filters: JsonObject,
  conversation_count: z.number().int(), file_name: z.string().nullable(), file_size_bytes: z.number().int(),
  checksum_sha256: z.string().nullable(), status: z.enum(['running', 'completed', 'failed']), error_message: z.string().nullable(),
}).openapi('ExportLog');
export type ExportLog = z.infer<typeof ExportLog>;

export const GenerationLog = z.looseObject({ id: z.string(), model_used: z.string(), created_at: z.string() }).openapi('GenerationLogRow');
export type GenerationLog = z.infer<typeof GenerationLog>;
export const GenerationStats = z.object({
  from: z.string().nullable(), to: z.string().nullable(),
  items: z.array(z.looseObject({
    day: z.string(), model: z.string(), template_id: z.string().nullable(), template_name: z.string().nullable(),
    calls: z.number().int(), failed_calls: z.number().int(), input_tokens: z.number(), output_tokens: z.number(),
    total_tokens: z.number(), cost_usd: z.number(), avg_duration_ms: z.number().nullable(),
  })),
}).openapi('GenerationStats');
export type GenerationStats = z.infer<typeof GenerationStats>;

// ---------------------------------------------------------------------------
// Authoring (issue 18).

export const LIST_ORDERS = ['created_at.desc', 'quality_score.desc', 'quality_score.asc'] as const;

/** PATCH: null clears a text field; turns, when given, replace the stored ones (one transaction, rescored). */
export const UpdateConversationBody = z.strictObject({
  title: z.string().max(500).nullable().optional(),
  persona: shortText(200).nullable().optional(),
  emotion: shortText(200).nullable().optional(),
  topic: shortText(200).nullable().optional(),
  intent: shortText(200).nullable().optional(),
  tone: shortText(200).nullable().optional(),
  category: shortText(200).nullable().optional(),
  quality_metrics: QualityMetrics.optional(),
  parameters: JsonObject.optional(),
  metadata: JsonObject.optional().openapi({ description: 'replaces the stored metadata object' }),
  turns: z.array(Turn).min(1, 'a conversation keeps at least one turn').max(500).optional()
    .openapi({ description: 'replace every turn (one transaction; the conversation is rescored)' }),
}).refine((b) => Object.keys(b).length > 0, 'nothing to change: give fields or turns').openapi('UpdateConversation');

export const DeletedConversation = z.object({ id: z.string(), conversation_id: z.string(), deleted: z.literal(true) })
  .openapi('DeletedConversation');
export type DeletedConversation = z.infer<typeof DeletedConversation>;

// ---------------------------------------------------------------------------
// Reviewers.

export const ReviewerParams = z.object({
  user_id: Uuid.openapi({ param: { name: 'user_id', in: 'path' }, description: 'the user (auth.users id)' }),
});
export const Reviewer = z.object({
  user_id: z.string(), display_name: z.string().nullable(), is_reviewer: z.boolean(), created_at: z.string(),
}).openapi('Reviewer');
export type Reviewer = z.infer<typeof Reviewer>;

// ---------------------------------------------------------------------------
// Batch jobs.

export const CreateBatchJobBody = z.discriminatedUnion('job_type', [
  z.strictObject({
    job_type: z.literal('validation').openapi({ description: 'rescore and check the structure of every conversation the filter selects' }),
    filter: optionalField(ConversationFilter),
  }),
  z.strictObject({
    job_type: z.literal('cleanup').openapi({ description: 'archive flagged conversations (not approved ones) older than older_than_days' }),
    older_than_days: z.number().int().min(0).max(36_500),
    filter: optionalField(ConversationFilter),
  }),
  z.strictObject({
    job_type: z.literal('generation').openapi({ description: 'a record the external generator\'s worker reports progress to' }),
    total_items: z.number().int().min(1).max(10_000_000),
    name: optionalField(shortText(200)),
    filter: optionalField(ConversationFilter),
  }),
]).openapi('CreateBatchJob');
export type CreateBatchJobBody = z.infer<typeof CreateBatchJobBody>;

export const BatchJobReportBody = z.strictObject({
  processed_before: z.number().int().min(0).openapi({ description: 'processed_items as the worker last saw it (a replayed report is a 409)' }),
  succeeded: z.number().int().min(0).max(10_000_000),
  failed: optionalField(z.number().int().min(0).max(10_000_000)),
  results: optionalField(z.record(z.string().max(100), z.number().finite())).openapi({ description: 'counts, summed into the job\'s results' }),
}).openapi('BatchJobReport');

export const FinishBatchJobBody = z.strictObject({
  error: optionalField(z.string().min(1).max(2000)).openapi({ description: 'fail the job with this reason; without it the job completes (once its items ran out)' }),
}).openapi('FinishBatchJob');
