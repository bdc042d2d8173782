// CI: functions/runs/index.ts served by Deno (as the Supabase edge runtime
// would), against the real Postgres in DATABASE_URL, answering real requests.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresClient } from '../../functions/_shared/db/sql_client.ts';
import { applySeed, prepareDatabase } from '../lib/migrator.ts';
import { DEMO_USER_ID, mintToken } from '../lib/tokens.ts';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must point at a throwaway database');
const port = Number(process.env.DENO_SMOKE_PORT ?? 8000);

const client = postgresClient(url, { max: 1 });
await prepareDatabase(client);
await applySeed(client);
await client.close();

const deno = spawn('node_modules/.bin/deno', ['run', '--allow-net', '--allow-env', '--allow-read', 'functions/runs/index.ts'], {
  env: { ...process.env, DB_ADAPTER: 'sql' },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const fail = (message: string) => {
  deno.kill();
  console.error(`deno smoke: FAILED: ${message}`);
  process.exit(1);
};

try {
  const base = `http://127.0.0.1:${port}/runs`;
  const user = await mintToken({ role: 'authenticated', sub: DEMO_USER_ID });
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = await fetch(`${base}/openapi.json`).then((r) => r.ok, () => false);
    if (!up) await sleep(200);
  }
  if (!up) fail('the function did not start');

  const auth = { authorization: `Bearer ${user}`, 'content-type': 'application/json' };
  const runId = `deno_smoke_${Date.now()}`;
  const created = await fetch(base, { method: 'POST', headers: auth, body: JSON.stringify({ run_id: runId, config: { training: { batch_size: 16 } } }) });
  const run = await created.json() as { batch_size?: number };
  if (created.status !== 201 || run.batch_size !== 16) fail(`POST /runs answered ${created.status} ${JSON.stringify(run)}`);

  const stats = await fetch(`${base}/stats`, { headers: auth });
  const body = await stats.json() as { total_runs?: number };
  if (stats.status !== 200 || !(Number(body.total_runs) >= 5)) fail(`GET /runs/stats answered ${stats.status} ${JSON.stringify(body)}`);

  const anonymous = await fetch(`${base}/stats`);
  if (anonymous.status !== 401) fail(`GET without a token answered ${anonymous.status}`);
  console.log(`deno smoke: functions/runs/index.ts under Deno served POST /runs (201), GET /runs/stats (${body.total_runs} runs), 401 without token`);
} finally {
  deno.kill();
}
