// Field schemas more than one function uses: same rule, same message everywhere.
import { z } from '@hono/zod-openapi';

export const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048);
export const shortText = (max: number) => z.string().min(1).max(max);
export const JsonObject = z.record(z.string(), z.unknown());

/**
 * An optional field that also takes an explicit null as "not given": clients
 * serialise absent values as null (Python's None in the seeds' own calls,
 * `wandb_run_id=None` at launch), and refusing that surprises every one of
 * them. The null never reaches the database, so SQL defaults still apply.
 * Not for PATCH fields where null means "clear": those stay `.nullable()`.
 */
export const optionalField = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);
