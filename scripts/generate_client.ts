// npm run generate:client: the TypeScript client's types from every
// function's OpenAPI document. The documents are the functions' own (no
// database is needed to serve openapi.json), written to
// clients/typescript/src/generated/<function>.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientTypes, GENERATED_DIR, openApiDocuments } from './lib/client_types.ts';
import { createGateway } from './lib/gateway.ts';

const noDatabase = { rpc: () => Promise.reject(new Error('openapi.json needs no database')), close: async () => {} };
const gateway = createGateway({ db: noDatabase, log: () => {} });
const documents = await openApiDocuments(gateway.names, async (path) => gateway.fetch(new Request(`http://localhost${path}`)));
mkdirSync(GENERATED_DIR, { recursive: true });
for (const [name, document] of documents) {
  const file = join(GENERATED_DIR, `${name}.ts`);
  writeFileSync(file, await clientTypes(name, document));
  console.log(`wrote ${file}`);
}
