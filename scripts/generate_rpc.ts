// npm run generate:rpc: functions/_shared/db/rpc.gen.ts from the migrated
// schema (an in-memory PGlite with every migration applied; no server needed).
import { writeFileSync } from 'node:fs';
import { pgliteClient } from './lib/pglite_client.ts';
import { applyLocalShim, migrateUp } from './lib/migrator.ts';
import { RPC_TYPES_FILE, rpcTypes } from './lib/rpc_types.ts';

const client = await pgliteClient();
try {
  await applyLocalShim(client);
  await migrateUp(client);
  writeFileSync(RPC_TYPES_FILE, await rpcTypes(client));
  console.log(`wrote ${RPC_TYPES_FILE}`);
} finally {
  await client.close();
}
