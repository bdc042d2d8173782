// What `supabase functions serve` does locally: /functions/v1/<name>/... is
// handed to function <name> with the path starting at /<name>. Anything else
// is a 404 problem listing the functions and their API reference pages, with
// the same CORS headers and body draining as the functions' own answers.
import { Hono } from 'hono';
import { getPath } from 'hono/utils/url';
import { readEnv } from '../../functions/_shared/env.ts';
import { drainUnreadBody } from '../../functions/_shared/http/body.ts';
import { allowedOrigins, corsMiddleware } from '../../functions/_shared/http/cors.ts';
import { Problem, problemBody } from '../../functions/_shared/http/problem.ts';
import { FUNCTIONS_PREFIX, functionName } from '../../functions/_shared/http/serve.ts';
import { FUNCTIONS, type GatewayDeps } from './functions.ts';

export function createGateway(deps: GatewayDeps) {
  const apps = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, create]) => [name, create(deps)]));
  const names = Object.keys(apps);
  const functions = names.map((name) => ({
    name, url: `${FUNCTIONS_PREFIX}/${name}`, docs: `${FUNCTIONS_PREFIX}/${name}/docs`, openapi: `${FUNCTIONS_PREFIX}/${name}/openapi.json`,
  }));

  const notFound = new Hono();
  notFound.use('*', drainUnreadBody);
  const origins = deps.corsAllowedOrigins ?? readEnv('CORS_ALLOWED_ORIGINS');
  if (origins !== false) notFound.use('*', corsMiddleware(allowedOrigins(origins), () => ['GET']));
  notFound.all('*', (c) => {
    const problem = new Problem(404, `no function at ${c.req.path}; functions: ${names.join(', ')} ` +
      `(API reference of each: ${FUNCTIONS_PREFIX}/<name>/docs)`);
    return c.body(JSON.stringify({ ...problemBody(problem), functions }), 404, { 'content-type': 'application/problem+json' });
  });

  return {
    names,
    /** `env` is what the server hands the app (@hono/node-server: { incoming, outgoing }), passed on. */
    fetch(request: Request, env?: unknown): Response | Promise<Response> {
      const name = functionName(getPath(request));
      const app = name ? apps[name] : undefined;
      // The request as it came: the function's routes match below /functions/v1 (functionPath).
      return app ? app.fetch(request, env) : notFound.fetch(request, env);
    },
  };
}
