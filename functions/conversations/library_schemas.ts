// Request and response schemas of templates, scenarios and edge cases (the
// generator's library). The database holds the same rules (constraints,
// column grants, RLS); these give early, field-named errors. PATCH bodies
// take null to clear an optional field.
import { z } from '@hono/zod-openapi';
import { JsonObject, shortText } from '../_shared/http/fields.ts';
import { boolParam, cursorParam, limitParam } from '../_shared/http/params.ts';
import { TIERS } from './schemas.ts';

const Uuid = z.uuid({ message: 'must be a uuid' });
const Labels = z.array(shortText(200)).max(200);
const text = (max: number) => z.string().max(max).nullable().optional();

export const LibraryId = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) });

const templateFields = {
  template_name: shortText(200),
  description: text(10_000),
  category: shortText(200).nullable().optional(),
  tier: z.enum(TIERS).optional(),
  template_text: z.string().max(100_000).optional(),
  system_prompt: text(100_000),
  structure: text(10_000),
  variables: JsonObject.optional(),
  applicable_personas: Labels.optional(),
  applicable_emotions: Labels.optional(),
  applicable_topics: Labels.optional(),
  min_turns: z.number().int().min(1).max(500).optional(),
  max_turns: z.number().int().min(1).max(500).optional(),
  version: z.number().int().min(1).max(1_000_000).optional(),
  is_active: z.boolean().optional(),
};
export const CreateTemplateBody = z.strictObject(templateFields).openapi('CreateTemplate');
export const UpdateTemplateBody = z.strictObject({ ...templateFields, template_name: shortText(200).optional() })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change').openapi('UpdateTemplate');

const scenarioFields = {
  name: shortText(200),
  parent_template_id: Uuid.nullable().optional(),
  description: text(10_000),
  context: text(100_000),
  persona: shortText(200).nullable().optional(),
  topic: shortText(200).nullable().optional(),
  emotional_arc: text(10_000),
  parameter_values: JsonObject.optional(),
  status: z.enum(['draft', 'active', 'archived']).optional(),
};
export const CreateScenarioBody = z.strictObject(scenarioFields).openapi('CreateScenario');
export const UpdateScenarioBody = z.strictObject({ ...scenarioFields, name: shortText(200).optional() })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change').openapi('UpdateScenario');

const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
const TEST_STATUSES = ['not_tested', 'passed', 'failed'] as const;
const edgeCaseFields = {
  name: shortText(200),
  parent_template_id: Uuid.nullable().optional(),
  description: text(10_000),
  edge_case_type: shortText(200).nullable().optional(),
  trigger_condition: z.string().min(1).max(10_000),
  expected_behavior: z.string().min(1).max(10_000),
  risk_level: z.enum(RISK_LEVELS).optional(),
  validation_criteria: z.array(z.string().min(1).max(1000)).max(200).optional(),
  test_status: z.enum(TEST_STATUSES).optional(),
  is_active: z.boolean().optional(),
};
export const CreateEdgeCaseBody = z.strictObject(edgeCaseFields).openapi('CreateEdgeCase');
export const UpdateEdgeCaseBody = z.strictObject({
  ...edgeCaseFields, name: shortText(200).optional(),
  trigger_condition: z.string().min(1).max(10_000).optional(), expected_behavior: z.string().min(1).max(10_000).optional(),
}).refine((b) => Object.keys(b).length > 0, 'nothing to change').openapi('UpdateEdgeCase');

const page = { limit: limitParam(), cursor: cursorParam(), created_by: Uuid.optional() };
const active = boolParam().optional().openapi({ description: 'true: only active ones (scenarios: status active); false: only inactive' });
export const TemplateQuery = z.object({
  ...page, active, tier: z.enum(TIERS).optional(), category: shortText(200).optional(),
  persona: shortText(200).optional().openapi({ description: 'templates that apply to this persona (applicable_personas)' }),
  emotion: shortText(200).optional().openapi({ description: 'templates that apply to this emotion (applicable_emotions)' }),
  topic: shortText(200).optional().openapi({ description: 'templates that apply to this topic (applicable_topics)' }),
});
export const ScenarioQuery = z.object({
  ...page, active, status: z.enum(['draft', 'active', 'archived']).optional(), persona: shortText(200).optional(),
  topic: shortText(200).optional(), parent_template_id: Uuid.optional(),
});
export const EdgeCaseQuery = z.object({
  ...page, active, risk_level: z.enum(RISK_LEVELS).optional(), edge_case_type: shortText(200).optional(),
  test_status: z.enum(TEST_STATUSES).optional(), parent_template_id: Uuid.optional(),
});

const owned = { id: z.string(), created_by: z.string().nullable(), created_at: z.string(), updated_at: z.string() };
export const Template = z.looseObject({
  ...owned, template_name: z.string(), tier: z.enum(TIERS), category: z.string().nullable(), is_active: z.boolean(),
  applicable_personas: z.array(z.string()), applicable_emotions: z.array(z.string()), applicable_topics: z.array(z.string()),
  min_turns: z.number().int(), max_turns: z.number().int(),
  usage_count: z.number().int().openapi({ description: 'conversations made from it (kept by the database)' }),
  rating: z.number().nullable().openapi({ description: 'mean quality of its approved conversations, 0-5 (kept by the database)' }),
  success_rate: z.number().nullable().openapi({ description: 'approved / reviewed of its conversations (kept by the database)' }),
}).openapi('Template');
export const Scenario = z.looseObject({
  ...owned, name: z.string(), parent_template_id: z.string().nullable(), status: z.enum(['draft', 'active', 'archived']),
  usage_count: z.number().int(),
}).openapi('Scenario');
export const EdgeCase = z.looseObject({
  ...owned, name: z.string(), parent_template_id: z.string().nullable(), risk_level: z.enum(RISK_LEVELS),
  test_status: z.enum(TEST_STATUSES), is_active: z.boolean(),
}).openapi('EdgeCase');
