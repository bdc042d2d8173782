// What `supabase functions serve` does locally: /functions/v1/<name>/... is
// handed to function <name> with the path starting at /<name>.
import { Problem, problemBody } from '../../functions/_shared/http/problem.ts';
import { FUNCTIONS, type GatewayDeps } from './functions.ts';

export function createGateway(deps: GatewayDeps) {
  const apps = Object.fromEntries(Object.entries(FUNCTIONS).map(([name, create]) => [name, create(deps)]));
  return {
    names: Object.keys(apps),
    /** `env` is what the server hands the app (@hono/node-server: { incoming, outgoing }), passed on. */
    fetch(request: Request, env?: unknown): Response | Promise<Response> {
      const url = new URL(request.url);
      const match = /^\/functions\/v1(\/([^/]+).*)$/.exec(url.pathname);
      const app = match ? apps[match[2]!] : undefined;
      if (!match || !app) {
        const problem = new Problem(404, `no function at ${url.pathname}; functions: ${Object.keys(apps).join(', ')}`);
        return new Response(JSON.stringify(problemBody(problem)), { status: 404, headers: { 'content-type': 'application/problem+json' } });
      }
      url.pathname = match[1]!;
      return app.fetch(new Request(url, request), env);
    },
  };
}
