// npm run generate:client: the TypeScript client's types from every
// function's OpenAPI document. The documents are the functions' own (no
// database is needed to serve openapi.json), written to
// clients/typescript/src/generated/<function>.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientTypes, GENERATED_DIR, servedOpenApiDocuments } from './lib/client_types.ts';

const documents = await servedOpenApiDocuments();
mkdirSync(GENERATED_DIR, { recursive: true });
for (const [name, document] of documents) {
  const file = join(GENERATED_DIR, `${name}.ts`);
  writeFileSync(file, await clientTypes(name, document));
  console.log(`wrote ${file}`);
}
