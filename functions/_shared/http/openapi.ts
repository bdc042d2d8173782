// Shared OpenAPI pieces: the problem+json schema and JSON request/response helpers.
import { z } from '@hono/zod-openapi';

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
}).openapi('Problem');

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});

/** The error answers every authenticated JSON route can give. */
export const errorResponses = {
  400: problem('invalid input'),
  401: problem('no or bad token'),
  403: problem('not allowed'),
  404: problem('not found'),
  409: problem('conflict: illegal transition, duplicate, or immutable'),
  413: problem('body too large'),
  415: problem('body is not JSON'),
} as const;

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A downloaded file, streamed: the media types it may have and the header that names it. */
export const fileResponse = (description: string, contentTypes: readonly string[], headers: Record<string, { description: string }> = {}) => ({
  description,
  headers: Object.fromEntries(Object.entries({
    'Content-Disposition': { description: 'attachment; filename="<name>": the name to save the file under (exposed to browsers by CORS)' },
    ...headers,
  }).map(([name, header]) => [name, { ...header, schema: { type: 'string' as const } }])),
  content: Object.fromEntries([...new Set(contentTypes.map((t) => t.split(';')[0]!.trim()))]
    .map((type) => [type, { schema: z.string().openapi({ format: 'binary' }) }])),
});
