// Serves examples/browser (the front-end example page), supabase-js's browser
// build and the typed client (clients/typescript, its types stripped by the
// TypeScript compiler as a front end's bundler would; openapi-fetch from
// node_modules through the page's import map), on an origin of its own: the
// page then calls the functions cross-origin, as a real front end does.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const EXAMPLE_DIR = fileURLToPath(new URL('../../examples/browser/', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../clients/typescript/src/index.ts', import.meta.url));
const JS = 'text/javascript; charset=utf-8';
const FILES: Record<string, [path: string, type: string]> = {
  '/': [`${EXAMPLE_DIR}index.html`, 'text/html; charset=utf-8'],
  '/index.html': [`${EXAMPLE_DIR}index.html`, 'text/html; charset=utf-8'],
  '/app.js': [`${EXAMPLE_DIR}app.js`, JS],
  '/vendor/supabase.js': [fileURLToPath(import.meta.resolve('@supabase/supabase-js/dist/umd/supabase.js')), JS],
  '/vendor/openapi-fetch.js': [fileURLToPath(import.meta.resolve('openapi-fetch')), JS],
  '/client/index.js': [CLIENT, JS],
};

export async function examplePage(request: Request): Promise<Response> {
  const file = FILES[new URL(request.url).pathname];
  if (!file) return new Response('not found', { status: 404 });
  let body = await readFile(file[0], 'utf8');
  if (file[0] === CLIENT) {
    body = ts.transpileModule(body, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true } }).outputText;
  }
  return new Response(body, { headers: { 'content-type': file[1], 'cache-control': 'no-store' } });
}
