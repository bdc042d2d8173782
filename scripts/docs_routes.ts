// npm run docs:routes: writes each function's route map (scripts/lib/route_map.ts)
// into functions/<name>/README.md between its markers; a test fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { servedOpenApiDocuments } from './lib/client_types.ts';
import { writeBlock } from './lib/doc_blocks.ts';
import { renderRouteMap } from './lib/route_map.ts';

const documents = await servedOpenApiDocuments();
for (const [name, document] of documents) {
  const path = new URL(`../functions/${name}/README.md`, import.meta.url);
  writeFileSync(path, writeBlock(readFileSync(path, 'utf8'), 'routes', renderRouteMap(name, document as never), `functions/${name}/README.md`));
  console.log(`functions/${name}/README.md: route map updated`);
}
