// CORS for every function, with hono/cors: a browser's preflight is answered
// before authentication and body checks, and every answer (errors included)
// carries Access-Control-Allow-Origin and -Expose-Headers, so a page on
// another origin can read a problem body and a download's file name.
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { corsHeaders } from '@supabase/supabase-js/cors';

/**
 * Every header supabase-js sends (the SDK's own list, kept in step with it:
 * x-retry-count ...), our request id, and the Idempotency-Key the clients
 * (clients/) send with every POST and PATCH they may retry.
 */
export const CORS_ALLOW_HEADERS = [...new Set([
  'authorization', 'apikey', 'content-type', 'x-client-info',
  ...(corsHeaders['Access-Control-Allow-Headers'] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== ''),
  'x-request-id', 'idempotency-key',
])];
/** What a page may read: the request id, a download's file name, an export's log id. */
export const CORS_EXPOSE_HEADERS = ['x-request-id', 'content-disposition', 'x-export-id'];
/** How long a browser may reuse a preflight answer (Chromium caps it at two hours). */
export const CORS_MAX_AGE_SECONDS = 7200;

/**
 * CORS_ALLOWED_ORIGINS: unset or containing `*` allows any origin (local
 * development); otherwise a comma-separated list of origins
 * (`https://app.example.com`), each answered with its own origin and
 * `Vary: Origin`. A trailing slash is forgiven: an origin never has one.
 */
export function allowedOrigins(setting: string | undefined): '*' | string[] {
  const list = (setting ?? '*').split(',').map((o) => o.trim().replace(/\/+$/, '')).filter((o) => o !== '');
  return list.includes('*') ? '*' : list;
}

/**
 * The CORS middleware; `methods` are read on each preflight (a function's
 * routes are added after it is created). A preflight is hono/cors's. Other
 * requests get the same headers as hono/cors gives them, set on the answer
 * once it exists: hono/cors sets them on c.res before the handler runs, and
 * Hono then builds every answer twice to merge them in (~5 % of a small POST).
 */
export function corsMiddleware(origins: '*' | string[], methods: () => string[]): MiddlewareHandler {
  const preflight = cors({
    origin: origins,
    allowMethods: () => methods(),
    allowHeaders: CORS_ALLOW_HEADERS,
    exposeHeaders: CORS_EXPOSE_HEADERS,
    maxAge: CORS_MAX_AGE_SECONDS,
  });
  const expose = CORS_EXPOSE_HEADERS.join(',');
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    await next();
    const origin = c.req.header('origin') ?? '';
    const allowed = origins === '*' ? '*' : origins.includes(origin) ? origin : undefined;
    if (allowed) c.res.headers.set('Access-Control-Allow-Origin', allowed);
    c.res.headers.set('Access-Control-Expose-Headers', expose);
    if (origins !== '*') c.res.headers.append('Vary', 'Origin');
  };
}
