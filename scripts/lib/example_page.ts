// Serves examples/browser (the front-end example page) and supabase-js's
// browser build from node_modules, on an origin of its own: the page then
// calls the functions cross-origin, as a real front end does.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/browser/', import.meta.url));
const FILES: Record<string, [path: string, type: string]> = {
  '/': [`${EXAMPLE_DIR}index.html`, 'text/html; charset=utf-8'],
  '/index.html': [`${EXAMPLE_DIR}index.html`, 'text/html; charset=utf-8'],
  '/app.js': [`${EXAMPLE_DIR}app.js`, 'text/javascript; charset=utf-8'],
  '/vendor/supabase.js': [fileURLToPath(import.meta.resolve('@supabase/supabase-js/dist/umd/supabase.js')), 'text/javascript; charset=utf-8'],
};

export async function examplePage(request: Request): Promise<Response> {
  const file = FILES[new URL(request.url).pathname];
  if (!file) return new Response('not found', { status: 404 });
  return new Response(await readFile(file[0]), { headers: { 'content-type': file[1], 'cache-control': 'no-store' } });
}
