// Run by npm start (scripts/start.ts) as a child process on a fresh embedded
// data folder: initdb, the migrations and the seed. PGlite's initdb and the
// migrations (and the WebAssembly compilation they cause) leave hundreds of MB
// resident in the process that ran them (WebAssembly memory only grows); a
// child gives them back when it exits, and the server then opens a prepared
// folder (bench/README.md, "Embedded server memory"). A restart opens the
// folder directly: there is nothing to give back.
import { DataDirInUse } from './lib/data_dir_lock.ts';
import { openDatabase } from './lib/database.ts';
import { applySeed, prepareDatabase } from './lib/migrator.ts';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: node scripts/prepare_embedded.ts <data folder>');
const { client } = await openDatabase({ dataDir }).catch((err: Error) => {
  if (!(err instanceof DataDirInUse)) throw err;
  console.error(err.message);
  process.exit(1);
});
await prepareDatabase(client);
await applySeed(client);
await client.close();
