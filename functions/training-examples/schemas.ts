// Request and response schemas of the training-examples function.
import { z } from '@hono/zod-openapi';
import { JsonObject, optionalField, shortText } from '../_shared/http/fields.ts';
import { boolParam, cursorParam, intParam, limitParam, numberParam, timestampParam } from '../_shared/http/params.ts';

export const MAX_BATCH = 1000;
const count = z.number().int().min(0).max(2_147_483_647);

/** One logged event of a cascade run. Fields not listed here are kept in its metadata. */
export const LogEvent = z.looseObject({
  id: shortText(200).openapi({ description: 'the event id: a replay of the same id is ignored' }),
  trace_id: shortText(200),
  parent_id: optionalField(shortText(200)),
  session_id: optionalField(shortText(200)),
  cascade_id: optionalField(shortText(200)),
  cell_name: optionalField(shortText(200)),
  node_type: optionalField(shortText(100)).openapi({ description: 'llm_call (default), tool_call, error, ...' }),
  model: optionalField(shortText(200)),
  role: optionalField(shortText(100)),
  request: z.unknown().optional().openapi({ description: 'the request as sent: {"messages": [...]}, {"prompt": ...} or a string' }),
  response: z.unknown().optional().openapi({ description: 'the response: OpenAI choices, Anthropic content blocks, or a string' }),
  prompt_tokens: optionalField(count),
  completion_tokens: optionalField(count),
  total_tokens: optionalField(count),
  cost_usd: optionalField(z.number().min(0).max(999_999)),
  duration_ms: optionalField(count),
  created_at: optionalField(z.iso.datetime({ offset: true })),
  metadata: optionalField(JsonObject),
}).openapi('LogEvent');
export type LogEvent = z.infer<typeof LogEvent>;

export const LogBatch = z.strictObject({
  items: z.array(LogEvent).min(1, 'send at least one event').max(MAX_BATCH, `at most ${MAX_BATCH} events per batch`),
}).openapi('LogBatch');

export const IngestResult = z.object({
  received: z.number().int(), inserted: z.number().int(), duplicates: z.number().int(),
}).openapi('IngestResult');
export type IngestResult = z.infer<typeof IngestResult>;

export const AnnotationBody = z.strictObject({
  trainable: z.boolean(),
  verified: optionalField(z.boolean()),
  confidence: optionalField(z.number().min(0).max(1)),
  notes: optionalField(z.string().max(10_000)),
  tags: optionalField(z.array(shortText(100)).max(50)),
}).openapi('Annotation');

export const TraceId = shortText(200).openapi({ param: { name: 'trace_id', in: 'path' }, example: 'trace-7f3a' });

export const ListQuery = z.object({
  cascade_id: shortText(200).optional(),
  cell_name: shortText(200).optional(),
  model: shortText(200).optional(),
  trainable: boolParam().optional(),
  verified: boolParam().optional(),
  min_confidence: numberParam(0).pipe(z.number().max(1)).optional(),
  tag: shortText(100).optional(),
  q: z.string().min(1).max(500).optional().openapi({ description: 'full text over input and output (web-search syntax)' }),
  created_after: timestampParam().optional(),
  created_before: timestampParam().optional(),
  limit: limitParam(),
  cursor: cursorParam(),
});

export const FewShotQuery = z.object({
  cascade_id: shortText(200).optional(),
  cell_name: shortText(200).optional(),
  k: intParam(1, 50).optional().openapi({ description: 'how many, 1-50 (default 5)' }),
  query: z.string().min(1).max(4000).optional().openapi({ description: 'the prompt to find similar examples for' }),
});

/** As public.training_search_index's p_limit default. */
export const SEARCH_INDEX_DEFAULT_LIMIT = 5000;

export const SearchIndexQuery = z.object({
  limit: intParam(1, 50_000).optional().openapi({ description: 'examples to index, 1-50,000 (default 5,000)' }),
});

export const SearchIndexResult = z.object({
  indexed: z.number().int().openapi({ description: 'examples whose full-text vector this call computed' }),
  pending: z.number().int().openapi({ description: 'examples still without one (their search falls back to computing it)' }),
}).openapi('SearchIndexResult');
export type SearchIndexResult = z.infer<typeof SearchIndexResult>;

export const ExportQuery = z.object({
  format: z.enum(['openai', 'sharegpt']).optional().openapi({ description: 'JSONL record shape (default openai)' }),
  cascade_id: shortText(200).optional(),
});

export const Example = z.looseObject({
  trace_id: z.string(), cascade_id: z.string().nullable(), cell_name: z.string().nullable(), model: z.string().nullable(),
  system_prompt: z.string().nullable(), user_input: z.string(), assistant_output: z.string(), created_at: z.string(),
  trainable: z.boolean(), verified: z.boolean(), confidence: z.number().nullable(), notes: z.string().nullable(),
  tags: z.array(z.string()), annotated: z.boolean(),
}).openapi('TrainingExample');
export type Example = z.infer<typeof Example>;

export const FewShot = z.object({
  total_available: z.number().int(),
  items: z.array(z.looseObject({
    rank: z.number().int(), trace_id: z.string(), user_input: z.string(), assistant_output: z.string(),
    system_prompt: z.string().nullable(), verified: z.boolean(), confidence: z.number().nullable(), similarity: z.number(),
  })),
}).openapi('FewShot');
export type FewShot = z.infer<typeof FewShot>;

export const Stats = z.object({
  items: z.array(z.object({
    cascade_id: z.string().nullable(), cell_name: z.string().nullable(), examples: z.number().int(), trainable: z.number().int(),
    verified: z.number().int(), mean_confidence: z.number().nullable(), latest_example: z.string().nullable(),
  })),
}).openapi('TrainingStats');
export type Stats = z.infer<typeof Stats>;
