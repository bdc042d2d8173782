// Query-string parameters arrive as strings: these parse them strictly
// ("12abc" is an error, not 12) and document them in the OpenAPI output.
import { z } from '@hono/zod-openapi';

export const intParam = (min: number, max: number) =>
  z.string().regex(/^-?\d+$/, 'must be an integer').transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const numberParam = (min: number) =>
  z.string().regex(/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, 'must be a number').transform(Number)
    .pipe(z.number().min(min));

export const boolParam = () =>
  z.enum(['true', 'false'], { message: 'must be true or false' }).transform((v) => v === 'true');

export const timestampParam = () =>
  z.iso.datetime({ offset: true, message: 'must be an ISO 8601 timestamp, e.g. 2026-01-31T00:00:00Z' });

export const limitParam = () => intParam(1, 1000).optional().openapi({ description: 'page size, 1-1000 (default 50)' });
export const cursorParam = () => z.string().max(2000).optional().openapi({ description: 'next_cursor of the previous page' });

/** The contract's list shape. */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });
