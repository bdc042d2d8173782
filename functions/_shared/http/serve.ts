// How an entry point serves its function under Deno. Supabase's runtime hands
// a function the path below /functions/v1 (starting /<name>) and ignores
// ports. Locally (npm run serve:deno, CI) PORT is set: the function listens on
// HOST:PORT (127.0.0.1 by default) under /functions/v1/<name>, as npm start serves it.
import { getPath } from 'hono/utils/url';
import { onSupabaseRuntime, readEnv } from '../env.ts';

export const FUNCTIONS_PREFIX = '/functions/v1';

type Fetch = (request: Request) => Response | Promise<Response>;
type ServeOptions = { port: number; hostname: string; onListen(address: { hostname: string; port: number }): void };
type DenoServe = { serve(handler: Fetch): unknown; serve(options: ServeOptions, handler: Fetch): unknown };

/** `/functions/v1/<name>/rest` -> `<name>`; null for anything else. */
export function functionName(pathname: string): string | null {
  return /^\/functions\/v1\/([^/]+)/.exec(pathname)?.[1] ?? null;
}

/**
 * The path a function's routes match (its Hono getPath): the request's path,
 * less /functions/v1 when it starts so. A function answers /<name>/... (as on
 * Supabase) and /functions/v1/<name>/... (npm start, serve:deno) alike, with
 * no copy of the request to rewrite its URL: on Node a copy builds a whole
 * fetch Request, headers, body stream and signal, for every call.
 */
export function functionPath(request: Request): string {
  const path = getPath(request);
  return path.startsWith(`${FUNCTIONS_PREFIX}/`) ? path.slice(FUNCTIONS_PREFIX.length) : path;
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
  // The app's routes match below /functions/v1 too (functionPath).
  deno.serve({ port: Number(port), hostname: readEnv('HOST') ?? '127.0.0.1', onListen }, app.fetch);
}
