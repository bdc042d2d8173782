// Request and response schemas of the packages function. The database holds
// the same rules (constraints, column grants, triggers); these give early,
// field-named errors.
import { z } from '@hono/zod-openapi';
import { HttpUrl, JsonObject, optionalField, shortText } from '../_shared/http/fields.ts';

export const VERSION_STATUSES = ['draft', 'published', 'archived'] as const;
export const TRAINING_STATUSES = ['not_started', 'queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export const DEPLOYMENT_TARGETS = ['local', 'hf_space'] as const;

export const Uuid = z.uuid({ message: 'must be a uuid' });

/** numeric(10,2): not negative, at most two decimals, below 10^8. */
export const Cost = z.number().finite().min(0, 'must not be negative').max(99_999_999.99)
  .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-6, 'at most two decimal places (a money amount)');

const Snapshots = {
  config_snapshot: JsonObject.openapi({ description: 'the training config; default: the package config' }),
  model_snapshot: JsonObject.openapi({ description: 'the base model, e.g. {"id": "meta-llama/Llama-3.1-8B"}' }),
  dataset_snapshot: z.union([z.array(z.unknown()), JsonObject])
    .openapi({ description: 'the datasets: an array (or an object)' }),
};

export const CreatePackageBody = z.strictObject({
  name: shortText(200),
  template_type: optionalField(shortText(100)),
  config: optionalField(JsonObject).openapi({ description: 'the package config; new drafts start from it' }),
}).openapi('CreatePackage');

export const CreateVersionBody = z.strictObject({
  name: optionalField(shortText(200)).openapi({ description: 'default: "<package name> v<number>"' }),
  config_snapshot: optionalField(Snapshots.config_snapshot),
  model_snapshot: optionalField(Snapshots.model_snapshot),
  dataset_snapshot: optionalField(Snapshots.dataset_snapshot),
  change_summary: optionalField(z.string().max(10000)),
  estimated_cost: optionalField(Cost),
  budget_limit: optionalField(Cost),
}).openapi('CreateVersion');

export const UpdateVersionBody = z.strictObject({
  name: shortText(200).optional(),
  config_snapshot: Snapshots.config_snapshot.optional(),
  model_snapshot: Snapshots.model_snapshot.optional(),
  dataset_snapshot: Snapshots.dataset_snapshot.optional(),
  change_summary: z.string().max(10000).nullable().optional(),
  estimated_cost: Cost.nullable().optional(),
  budget_limit: Cost.nullable().optional(),
}).refine((b) => Object.keys(b).length > 0, 'give at least one field to change').openapi('UpdateVersion');

export const ForkVersionBody = z.strictObject({
  name: optionalField(shortText(200)),
  change_summary: optionalField(z.string().max(10000)),
}).openapi('ForkVersion');

export const DeploymentBody = z.strictObject({
  is_deployed: z.boolean(),
  deployment_target: optionalField(z.enum(DEPLOYMENT_TARGETS)),
  deployment_url: optionalField(HttpUrl),
  deployment_id: optionalField(shortText(200)),
}).refine((b) => !b.is_deployed || b.deployment_target !== undefined,
  { message: 'a deployed version needs its deployment_target', path: ['deployment_target'] })
  .openapi('SetDeployment');

export const TrainingBody = z.strictObject({
  training_status: z.enum(TRAINING_STATUSES).optional(),
  training_metrics: JsonObject.optional(),
  estimated_cost: Cost.nullable().optional(),
  actual_cost: Cost.nullable().optional(),
  budget_limit: Cost.nullable().optional(),
}).refine((b) => Object.keys(b).length > 0, 'give at least one field to change').openapi('SetTraining');

const ts = z.string().nullable();

export const Package = z.object({
  id: z.string(),
  name: z.string(),
  template_type: z.string().nullable(),
  config_json: JsonObject,
  user_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  current_version_id: z.string().nullable(),
  version_count: z.number().int(),
  latest_published_version: z.number().int(),
  last_version_number: z.number().int(),
}).openapi('Package');
export type Package = z.infer<typeof Package>;

export const Version = z.object({
  id: z.string(),
  package_id: z.string(),
  version_number: z.number().int(),
  name: z.string(),
  status: z.enum(VERSION_STATUSES),
  created_at: z.string(),
  created_by: z.string().nullable(),
  published_at: ts,
  published_by: z.string().nullable(),
  updated_at: z.string(),
  config_snapshot: JsonObject,
  model_snapshot: JsonObject,
  dataset_snapshot: z.union([z.array(z.unknown()), JsonObject]),
  change_summary: z.string().nullable(),
  parent_version_id: z.string().nullable(),
  is_deployed: z.boolean(),
  deployment_target: z.enum(DEPLOYMENT_TARGETS).nullable(),
  deployment_url: z.string().nullable(),
  deployment_id: z.string().nullable(),
  training_status: z.enum(TRAINING_STATUSES),
  training_started_at: ts,
  training_completed_at: ts,
  training_metrics: JsonObject.nullable(),
  estimated_cost: z.number().nullable(),
  actual_cost: z.number().nullable(),
  budget_limit: z.number().nullable(),
  cost_alerts_sent: z.array(z.object({
    threshold: z.number(), actual_cost: z.number(), budget_limit: z.number(), sent_at: z.string(),
  }).loose()).openapi({
    description: 'budget alerts the database recorded, once per threshold (0.8 and 1.0 of budget_limit) when actual_cost reached it; not writable',
  }),
  snapshot_sha256: z.string().nullable()
    .openapi({ description: 'sha256 of the canonical JSON of the three snapshots, set at publish' }),
}).openapi('PackageVersion');
export type Version = z.infer<typeof Version>;

export const NextVersionNumber = z.object({ package_id: z.string(), next_version_number: z.number().int() })
  .openapi('NextVersionNumber');
export type NextVersionNumber = z.infer<typeof NextVersionNumber>;

export const DeletedVersion = z.object({
  id: z.string(), package_id: z.string(), version_number: z.number().int(), deleted: z.literal(true),
}).openapi('DeletedVersion');
export type DeletedVersion = z.infer<typeof DeletedVersion>;

const VersionRef = z.object({ id: z.string(), package_id: z.string(), version_number: z.number().int() });
export const VersionDiff = z.object({
  version: VersionRef,
  against: VersionRef,
  identical: z.boolean(),
  changes: z.array(z.object({
    op: z.enum(['add', 'remove', 'replace']),
    path: z.string().openapi({ description: 'JSON pointer (RFC 6901) into the version, e.g. /config_snapshot/training/lr' }),
    old: z.unknown().optional(),
    new: z.unknown().optional(),
  })),
}).openapi('VersionDiff');
export type VersionDiff = z.infer<typeof VersionDiff>;
