// The two delivery shapes the wandb-webhook function accepts (README: "W&B
// automation"). Extra fields are allowed and kept with the delivery: W&B
// templates and wrappers add their own.
import { z } from '@hono/zod-openapi';
import { HttpUrl, JsonObject } from '../_shared/http/fields.ts';
import { RunId } from '../runs/schemas.ts';

export const WANDB_EVENT_TYPES = [
  'RUN_STATE', 'RUN_METRIC', 'RUN_METRIC_CHANGE', 'RUN_METRIC_ZSCORE', 'CREATE_ARTIFACT',
  'ADD_ARTIFACT_ALIAS', 'UPDATE_ARTIFACT_ALIAS', 'ADD_ARTIFACT_TAG', 'LINK_MODEL',
] as const;
export const WANDB_STATES = ['PENDING', 'RUNNING', 'FINISHED', 'FAILED', 'CRASHED', 'KILLED', 'PREEMPTING', 'PREEMPTED'] as const;

const upper = <T extends readonly [string, ...string[]]>(values: T) =>
  z.string().transform((s) => s.trim().toUpperCase()).pipe(z.enum(values));
const text = (max: number) => z.string().max(max);
const ReportTime = z.union([z.number().finite().nonnegative(), z.iso.datetime({ offset: true })])
  .openapi({ description: 'when the report was made: epoch seconds or ISO 8601 (default: summary._timestamp)' });

/** What a training wrapper posts at the end (or during) a run. */
export const RunReport = z.looseObject({
  run_id: RunId,
  wandb_run_id: text(200).min(1).optional(),
  wandb_url: HttpUrl.optional(),
  run_name: text(500).min(1).optional(),
  state: upper(WANDB_STATES).openapi({ description: 'W&B run state; RUNNING, FINISHED, FAILED, CRASHED, KILLED, ...' }),
  summary: JsonObject.openapi({ description: 'wandb.run.summary._json_dict; merged into final_metrics_json' }),
  config: JsonObject.optional().openapi({ description: 'the run config, used when the report creates the run' }),
  timestamp: ReportTime.optional(),
}).openapi('WandbRunReport');

/** A W&B automation's payload, built from its template variables plus the run fields the author adds. */
export const AutomationPayload = z.looseObject({
  event_type: upper(WANDB_EVENT_TYPES),
  event_author: text(200).optional(),
  entity_name: text(200).optional(),
  project_name: text(200).optional(),
  artifact_version: text(2000).optional(),
  artifact_version_string: text(2000).optional(),
  artifact_collection_name: text(500).optional(),
  alias: text(500).optional(),
  tag: text(500).optional(),
  run_id: RunId.optional(),
  wandb_run_id: text(200).min(1).optional(),
  run_name: text(500).min(1).optional(),
  wandb_url: HttpUrl.optional(),
  state: upper(WANDB_STATES).optional(),
  metrics: JsonObject.optional().openapi({ description: 'summary values to merge (RUN_METRIC events)' }),
  config: JsonObject.optional().openapi({ description: 'lets the event create a run that is not registered yet' }),
  timestamp: ReportTime.optional(),
}).openapi('WandbAutomationPayload');

export const DELIVERY_OUTCOMES = ['applied', 'created', 'duplicate', 'stale', 'recorded', 'unmatched', 'rejected', 'failed'] as const;
export const DeliveryResult = z.object({
  delivery_id: z.number().int(),
  outcome: z.enum(DELIVERY_OUTCOMES),
  run_id: z.string().nullable(),
}).openapi('WandbDelivery');
export type DeliveryResult = z.infer<typeof DeliveryResult> & { error: string | null; code: string | null };
