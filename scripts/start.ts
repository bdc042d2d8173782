// npm start: embedded database (or DATABASE_URL), migrations and seed applied,
// every function served at http://127.0.0.1:54321/functions/v1/<name>/...
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { DataDirInUse } from './lib/data_dir_lock.ts';
import { DEFAULT_DATA_DIR, openDatabase } from './lib/database.ts';
import { createGateway } from './lib/gateway.ts';
import { listen } from './lib/http_server.ts';
import { applySeed, prepareDatabase } from './lib/migrator.ts';
import { INDEX_BATCH, startSearchIndexer } from './lib/search_indexer.ts';
import { stdoutLog } from './lib/stdout_log.ts';
import { DEMO_PACKAGE_ID, DEMO_REVIEWER_ID, DEMO_USER_ID, mintToken } from './lib/tokens.ts';

const started = performance.now();
const port = Number(process.env.PORT ?? 54321);
const host = process.env.HOST ?? '127.0.0.1';

// The port first: a port in use is said at once, before the database opens
// (and before a second server could open the same data folder). Until the
// functions are ready a request gets 503.
let handle: (request: Request) => Response | Promise<Response> = () =>
  Response.json({ title: 'Service Unavailable', status: 503, detail: 'starting: the database is being prepared' },
    { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '2' } });
const listening = await listen((request) => handle(request), { port, hostname: host }).catch((err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE') {
    console.error(`port ${port} on ${host} is already in use (another npm start?): stop that, or pick another port, ` +
      `and for a second server its own data folder: DATA_DIR=.data/second PORT=${port + 1} npm start`);
  } else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
    console.error(`cannot listen on ${host}:${port} (${err.code}): pick another with PORT=<port> and HOST=<address> npm start`);
  } else {
    throw err;
  }
  process.exit(1);
});

// DATA_DIR: where the embedded database lives (default .data/pglite; the doc tests use a fresh folder).
const dataDir = process.env.DATA_DIR || DEFAULT_DATA_DIR;
const embedded = !process.env.DATABASE_URL;
if (embedded && !existsSync(join(dataDir, 'PG_VERSION'))) {
  // A fresh folder is prepared by a child, whose memory goes back to the system when it exits (scripts/prepare_embedded.ts).
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('prepare_embedded.ts', import.meta.url)), dataDir],
    { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((done, fail) => child.once('error', fail).once('exit', done));
  if (code !== 0) {
    await listening.close();
    process.exit(code ?? 1);
  }
}
const opened = await openDatabase(embedded ? { dataDir } : {}).catch(async (err: Error) => {
  if (!(err instanceof DataDirInUse)) throw err;
  console.error(err.message);
  await listening.close();
  process.exit(1);
});
const { client, description } = opened;
await prepareDatabase(client);
await applySeed(client);
const db = sqlAdapter(client);
// W&B delivers with this bearer token; a fresh one per start unless configured.
const wandbToken = process.env.WANDB_WEBHOOK_TOKEN || randomBytes(18).toString('base64url');
// Full-text indexing of training examples runs off the ingest path; here in
// place of the pg_cron job a Supabase project has.
const stopIndexer = startSearchIndexer(client, { everyMs: 5_000, log: console.error });
const gateway = createGateway({
  db, log: stdoutLog(), wandb: { token: wandbToken, secret: process.env.WANDB_WEBHOOK_SECRET || undefined },
  // The embedded database admits each write against its disk's free-space floor: the indexer endpoint writes in small batches too.
  trainingExamples: embedded ? { searchIndexChunk: INDEX_BATCH } : {},
});
handle = gateway.fetch;
// Before the ready lines: whoever reads them may stop the server at once, and
// a signal without a handler would end it without releasing its data folder.
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
const userToken = await mintToken({ role: 'authenticated', sub: DEMO_USER_ID, email: 'demo@example.com' });
const reviewerToken = await mintToken({ role: 'authenticated', sub: DEMO_REVIEWER_ID, email: 'reviewer@example.com' });
const serviceToken = await mintToken({ role: 'service_role' });
// The ids the README's examples start from, so nobody digs in seed.sql.
const [template] = await client.query<{ id: string }>(
  `select id from public.conversation_templates where template_name = 'financial_planning_consultation'`);
const ms = Math.round(performance.now() - started);
console.log(`training registry ready in ${ms} ms at http://${host}:${listening.port}/functions/v1/<${gateway.names.join('|')}> on ${description}`);
console.log(`API reference: http://${host}:${listening.port}/functions/v1/<name>/docs`);
console.log(`DEMO_USER_TOKEN=${userToken}`);
console.log(`DEMO_REVIEWER_TOKEN=${reviewerToken}`);
console.log(`SERVICE_ROLE_TOKEN=${serviceToken}`);
console.log(`WANDB_WEBHOOK_TOKEN=${wandbToken}`);
console.log(`DEMO_TEMPLATE_ID=${template?.id ?? ''}`);
console.log(`DEMO_PACKAGE_ID=${DEMO_PACKAGE_ID}`);

let stopping = false;
async function shutdown() {
  if (stopping) return; // a second Ctrl-C while the first one closes
  stopping = true;
  await listening.close();
  await stopIndexer();
  await db.close();
  process.exit(0);
}
