// Unknown query parameters are a 400 naming them, as unknown body fields are:
// `?stauts=completed` must not quietly answer every run. A route takes the
// parameters its OpenAPI declares (request.query), so nothing is listed twice.
// A route whose query schema is z.looseObject takes any others too, and says so
// in its description.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { mergePath } from 'hono/utils/url';
import { Problem } from './problem.ts';

type QuerySchema = { shape?: Record<string, unknown>; def?: { catchall?: { def?: { type?: string } } } };
type Declared = Map<string, Set<string> | 'any'>;
type WithRegistry = { openAPIRegistry: OpenAPIHono['openAPIRegistry'] };

/** `METHOD /base/path/:param` -> the query parameters that route declares. */
function declaredQueries(app: WithRegistry, basePath: string): Declared {
  const declared: Declared = new Map();
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const query = def.route.request?.query as QuerySchema | undefined;
    const path = mergePath(basePath, def.route.path.replace(/\{([^}]+)\}/g, ':$1'));
    const open = query?.def?.catchall !== undefined && query.def.catchall.def?.type !== 'never';
    declared.set(`${def.route.method.toUpperCase()} ${path}`, open ? 'any' : new Set(Object.keys(query?.shape ?? {})));
  }
  return declared;
}

/** Refuses query parameters the matched route does not declare. Read once all routes are registered. */
export function strictQuery(app: WithRegistry, basePath: string): MiddlewareHandler {
  let declared: Declared | undefined;
  return async (c, next) => {
    const given = [...new Set(new URL(c.req.url).searchParams.keys())];
    // Middleware is registered for every method ('ALL'); the route that answers is the first with its own
    // method (`/stats` is registered before `/{trace_id}`, which matches too).
    const route = matchedRoutes(c).find((r) => r.method !== 'ALL');
    if (given.length === 0 || !route) return next();
    declared ??= declaredQueries(app, basePath);
    const allowed = declared.get(`${route.method} ${route.path}`) ?? new Set<string>();
    if (allowed === 'any') return next();
    const unknown = given.filter((name) => !allowed.has(name));
    if (unknown.length === 0) return next();
    const takes = allowed.size === 0 ? 'none' : [...allowed].join(', ');
    throw new Problem(400, `unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (this route takes: ${takes})`, {
      errors: unknown.map((name) => ({ path: name, message: 'unknown query parameter' })),
    });
  };
}
