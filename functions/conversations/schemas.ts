// Request and response schemas of the conversations function. The database
// holds the same rules (constraints, triggers, RLS); these give early,
// field-named errors.
import { z } from '@hono/zod-openapi';
import { JsonObject, shortText } from '../_shared/http/fields.ts';
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
  turn_number: z.number().int().min(1).optional().openapi({ description: 'default: the position in the list, from 1' }),
  token_count: z.number().int().min(0).optional(),
});

export const QualityMetrics = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'a lower-case component name'), Score)
  .openapi({ description: 'rubric components, each 0-10', example: { relevance: 8.5, accuracy: 9, naturalness: 7 } });

export const CreateConversationBody = z.strictObject({
  conversation_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'conversation_id: 1-200 of A-Z a-z 0-9 . _ : -').optional(),
  title: z.string().max(500).optional(),
  persona: shortText(200).optional(),
  emotion: shortText(200).optional(),
  topic: shortText(200).optional(),
  intent: shortText(200).optional(),
  tone: shortText(200).optional(),
  tier: z.enum(TIERS).optional(),
  category: shortText(200).optional(),
  status: z.enum(CONVERSATION_STATUSES).optional().openapi({ description: 'default generated' }),
  quality_metrics: QualityMetrics.optional(),
  template_id: Uuid.optional(),
  scenario_id: Uuid.optional(),
  edge_case_id: Uuid.optional(),
  document_id: Uuid.optional(),
  chunk_id: Uuid.optional(),
  parent_id: Uuid.optional(),
  parent_type: z.enum(['conversation', 'template', 'scenario', 'edge_case']).optional(),
  parameters: JsonObject.optional(),
  metadata: JsonObject.optional(),
  estimated_cost_usd: Money.optional(),
  actual_cost_usd: Money.optional(),
  generation_duration_ms: z.number().int().min(0).max(2_147_483_647).optional(),
  generation_model: shortText(200).optional(),
  turns: z.array(Turn).min(1, 'a conversation is stored with at least one turn').max(500),
}).openapi('CreateConversation');

/** The list/export/rescore filter, typed (request bodies). */
export const ConversationFilter = z.strictObject({
  status: z.enum(CONVERSATION_STATUSES).optional(),
  tier: z.enum(TIERS).optional(),
  persona: shortText(200).optional(),
  emotion: shortText(200).optional(),
  topic: shortText(200).optional(),
  flagged: z.boolean().optional(),
  min_quality: Score.optional(),
  max_quality: Score.optional(),
  q: z.string().min(1).max(500).optional().openapi({ description: 'full text over title, persona, emotion, topic and turns (web-search syntax)' }),
  created_after: z.iso.datetime({ offset: true }).optional(),
  created_before: z.iso.datetime({ offset: true }).optional(),
  template_id: Uuid.optional(),
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
  limit: limitParam(),
  cursor: cursorParam(),
});

export const ReviewBody = z.strictObject({
  action: z.enum(REVIEW_ACTIONS),
  note: z.string().min(1).max(10_000).optional(),
}).openapi('Review');

export const RescoreBody = z.strictObject({
  threshold: Score.refine((n) => Math.round(n * 10) === n * 10, 'one decimal at most').optional()
    .openapi({ description: 'becomes the flagging threshold (reviewers only) before the rescore' }),
  filter: ConversationFilter.optional(),
}).openapi('Rescore');

export const ExportBody = z.strictObject({
  format: z.enum(EXPORT_FORMATS),
  shape: z.enum(EXPORT_SHAPES).optional().openapi({ description: 'jsonl/json: openai (default for jsonl), sharegpt or raw (default for json)' }),
  filter: ConversationFilter.optional().openapi({ description: 'default {"status": "approved"}' }),
  include_metadata: z.boolean().optional(),
}).openapi('Export');
export type ExportBody = z.infer<typeof ExportBody>;

export const GenerationLogBody = z.strictObject({
  conversation_id: Uuid.optional(),
  template_id: Uuid.optional(),
  batch_job_id: Uuid.optional(),
  model_used: shortText(200),
  request_payload: JsonObject.optional(),
  response_payload: JsonObject.optional(),
  temperature: z.number().min(0).max(9.999).optional(),
  max_tokens: z.number().int().min(1).max(2_147_483_647).optional(),
  input_tokens: z.number().int().min(0).max(2_147_483_647).optional(),
  output_tokens: z.number().int().min(0).max(2_147_483_647).optional(),
  cost_usd: z.number().min(0).max(999_999).optional(),
  duration_ms: z.number().int().min(0).max(2_147_483_647).optional(),
  status: z.enum(['success', 'failed', 'rate_limited', 'timeout']).optional(),
  error_message: z.string().max(10_000).optional(),
  error_code: shortText(200).optional(),
  retry_attempt: z.number().int().min(0).max(100).optional(),
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
