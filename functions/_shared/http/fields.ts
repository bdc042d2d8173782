// Field schemas more than one function uses: same rule, same message everywhere.
import { z } from '@hono/zod-openapi';

export const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).max(2048);
export const shortText = (max: number) => z.string().min(1).max(max);
export const JsonObject = z.record(z.string(), z.unknown());
