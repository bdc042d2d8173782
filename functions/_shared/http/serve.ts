// How an entry point serves its function under Deno. Supabase's runtime hands
// a function the path below /functions/v1 (starting /<name>) and ignores
// ports. Locally (npm run serve:deno, CI) PORT is set: the function listens on
// HOST:PORT (127.0.0.1 by default) under /functions/v1/<name>, as npm start serves it.
import { onSupabaseRuntime, readEnv } from '../env.ts';

export const FUNCTIONS_PREFIX = '/functions/v1';

type Fetch = (request: Request) => Response | Promise<Response>;
type ServeOptions = { port: number; hostname: string; onListen(address: { hostname: string; port: number }): void };
type DenoServe = { serve(handler: Fetch): unknown; serve(options: ServeOptions, handler: Fetch): unknown };

/** `/functions/v1/<name>/rest` -> the function's name and the path it sees (`/<name>/rest`); null for anything else. */
export function functionRoute(pathname: string): { name: string; path: string } | null {
  const match = /^\/functions\/v1(\/([^/]+).*)$/.exec(pathname);
  return match ? { name: match[2]!, path: match[1]! } : null;
}

/** Serves the app when running under Deno; does nothing under Node (tests and npm start import the app instead). */
export function serveOnDeno(name: string, create: () => { fetch: Fetch }): void {
  const deno = (globalThis as { Deno?: DenoServe }).Deno;
  if (!deno) return;
  const app = create();
  const port = readEnv('PORT');
  if (port === undefined || onSupabaseRuntime()) {
    deno.serve(app.fetch);
    return;
  }
  const onListen = (address: { hostname: string; port: number }) =>
    console.log(`functions/${name} under Deno at http://${address.hostname}:${address.port}${FUNCTIONS_PREFIX}/${name}`);
  deno.serve({ port: Number(port), hostname: readEnv('HOST') ?? '127.0.0.1', onListen }, (request) => {
    const url = new URL(request.url);
    const route = functionRoute(url.pathname);
    if (!route) return app.fetch(request);
    url.pathname = route.path;
    // Not new Request(url, request): copying request.signal opts into Deno's legacy abort behaviour (and its warning).
    const { method, headers, body } = request;
    return app.fetch(new Request(url, { method, headers, body, ...(body ? { duplex: 'half' } : {}) } as RequestInit));
  });
}
