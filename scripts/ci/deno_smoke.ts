// CI: each function as `supabase functions deploy` would upload it. The
// files it uploads (the entry point's import graph and the import map named
// in supabase/config.toml) are copied into an empty folder, `deno check`ed
// there, and served by Deno from there (no node_modules, no package.json)
// against the real Postgres in DATABASE_URL, answering real requests:
// functions/runs, wandb-webhook, packages, conversations, training-examples.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresClient } from '../../functions/_shared/db/sql_client.ts';
import { copyBundle, functionConfigs } from '../lib/deploy_bundle.ts';
import { DENO, type DenoFunction, serveUnderDeno } from '../lib/deno.ts';
import { applySeed, prepareDatabase } from '../lib/migrator.ts';
import { DEMO_REVIEWER_ID, DEMO_USER_ID, mintToken } from '../lib/tokens.ts';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must point at a throwaway database');

const client = postgresClient(url, { max: 1 });
await prepareDatabase(client);
await applySeed(client);
await client.close();

const WEBHOOK_TOKEN = 'deno-smoke-webhook-token';
const configs = functionConfigs();
const folders: string[] = [];
let deno: DenoFunction | undefined;
const fail = (message: string) => {
  void deno?.stop();
  console.error(`deno smoke: FAILED: ${message}`);
  process.exit(1);
};

/** Copies what the CLI uploads for `name` into an empty folder, type-checks it there and serves it from there. */
async function serveAsUploaded(name: string): Promise<string> {
  await deno?.stop();
  const config = configs.find((c) => c.name === name) ?? fail(`supabase/config.toml has no [functions.${name}]`) as never;
  const dir = mkdtempSync(join(tmpdir(), `deploy-${name}-`));
  folders.push(dir);
  const files = copyBundle(config, dir);
  for (const absent of ['node_modules', 'package.json', 'deno.json']) if (existsSync(join(dir, absent))) fail(`${absent} in the upload folder`);
  execFileSync(DENO, ['check', '--config', config.importMap, config.entrypoint], { cwd: dir, stdio: 'inherit' });
  deno = await serveUnderDeno(name, { cwd: dir, config: config.importMap, env: { DB_ADAPTER: 'sql', WANDB_WEBHOOK_TOKEN: WEBHOOK_TOKEN } })
    .catch((err: Error) => fail(`functions/${name} did not start from its upload folder: ${err.message}`) as never);
  console.log(`deno smoke: functions/${name}: the ${files.length} uploaded files (${config.importMap} and ${files.length - 1} modules) type-check and serve from an empty folder`);
  return deno.url;
}

try {
  if (configs.map((c) => c.name).sort().join() !== 'conversations,packages,runs,training-examples,wandb-webhook') {
    fail(`supabase/config.toml declares ${configs.map((c) => c.name).join(', ')}`);
  }
  let base = await serveAsUploaded('runs');
  const user = await mintToken({ role: 'authenticated', sub: DEMO_USER_ID });
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

  const filtered = await fetch(`${base}?filter=${encodeURIComponent(`run_id = '${runId}' or objective.COMT_activity.raw_mean > 0.8`)}`, { headers: auth });
  const page = await filtered.json() as { items?: { run_id: string }[] };
  if (filtered.status !== 200 || !page.items?.some((r) => r.run_id === runId)) fail(`GET /runs?filter= answered ${filtered.status} ${JSON.stringify(page)}`);
  const preflight = await fetch(`${base}/stats`, { method: 'OPTIONS', headers: {
    origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
  if (preflight.status !== 204 || preflight.headers.get('access-control-allow-origin') !== '*') {
    fail(`OPTIONS /runs/stats answered ${preflight.status} with allow-origin ${preflight.headers.get('access-control-allow-origin')}`);
  }
  console.log(`deno smoke: functions/runs under Deno served POST /runs (201), GET /runs/stats (${body.total_runs} runs), a filter, 401 without token, a CORS preflight`);

  base = await serveAsUploaded('wandb-webhook');
  const hook = { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' };
  const report = JSON.stringify({ run_id: runId, state: 'FINISHED', summary: { 'train/loss': 0.5, _timestamp: 1_790_000_000 } });
  const applied = await fetch(base, { method: 'POST', headers: hook, body: report });
  const result = await applied.json() as { outcome?: string };
  if (applied.status !== 200 || result.outcome !== 'applied') fail(`POST /wandb-webhook answered ${applied.status} ${JSON.stringify(result)}`);
  const wrong = await fetch(base, { method: 'POST', headers: { ...hook, authorization: 'Bearer wrong' }, body: report });
  if (wrong.status !== 401) fail(`POST /wandb-webhook with a wrong token answered ${wrong.status}`);
  console.log('deno smoke: functions/wandb-webhook under Deno applied a run report (200) and refused a wrong token (401)');

  base = await serveAsUploaded('packages');
  const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const pkgRes = await post('', { name: 'deno smoke', config: { training: { epochs: 1 } } });
  const pkg = await pkgRes.json() as { id?: string };
  if (pkgRes.status !== 201 || !pkg.id) fail(`POST /packages answered ${pkgRes.status} ${JSON.stringify(pkg)}`);
  const draftRes = await post(`/${pkg.id}/versions`, { model_snapshot: { id: 'base' } });
  const draft = await draftRes.json() as { id?: string; version_number?: number };
  if (draftRes.status !== 201 || draft.version_number !== 1) fail(`POST /packages/:id/versions answered ${draftRes.status} ${JSON.stringify(draft)}`);
  const publishRes = await post(`/versions/${draft.id}/publish`, {});
  const published = await publishRes.json() as { status?: string; snapshot_sha256?: string };
  if (publishRes.status !== 200 || published.status !== 'published' || !published.snapshot_sha256) {
    fail(`POST /packages/versions/:id/publish answered ${publishRes.status} ${JSON.stringify(published)}`);
  }
  const again = await post(`/versions/${draft.id}/publish`, {});
  if (again.status !== 409) fail(`publishing twice answered ${again.status}`);
  console.log('deno smoke: functions/packages under Deno created a package and version 1 (201), published it (200), refused a second publish (409)');

  base = await serveAsUploaded('conversations');
  const conv = await fetch(base, { method: 'POST', headers: auth, body: JSON.stringify({
    title: 'deno smoke', persona: 'deno_smoke', quality_metrics: { relevance: 9, accuracy: 9 },
    turns: [{ role: 'user', content: 'Does the export stream under Deno?' }, { role: 'assistant', content: 'Line by line.' }] }) });
  const convBody = await conv.json() as { id?: string; quality_score?: number };
  if (conv.status !== 201 || convBody.quality_score !== 9.2) fail(`POST /conversations answered ${conv.status} ${JSON.stringify(convBody)}`);
  // the demo reviewer, another user: nobody reviews their own conversation
  const reviewer = { authorization: `Bearer ${await mintToken({ role: 'authenticated', sub: DEMO_REVIEWER_ID })}`, 'content-type': 'application/json' };
  const review = await fetch(`${base}/${convBody.id}/review`, { method: 'POST', headers: reviewer, body: JSON.stringify({ action: 'approve' }) });
  if (review.status !== 200) fail(`POST /conversations/:id/review answered ${review.status} ${await review.text()}`);
  const exported = await fetch(`${base}/exports`, { method: 'POST', headers: auth,
    body: JSON.stringify({ format: 'jsonl', filter: { persona: 'deno_smoke', status: 'approved' } }) });
  const file = await exported.text();
  const line = JSON.parse(file.trim()) as { messages?: { role: string }[] };
  if (exported.status !== 200 || line.messages?.length !== 2) fail(`POST /conversations/exports answered ${exported.status} ${file}`);
  console.log('deno smoke: functions/conversations under Deno stored a conversation (201, scored), approved it, streamed a JSONL export');

  base = await serveAsUploaded('training-examples');
  const service = { authorization: `Bearer ${await mintToken({ role: 'service_role' })}`, 'content-type': 'application/json' };
  const traceId = `deno-smoke-${Date.now()}`;
  const logged = await fetch(`${base}/logs`, { method: 'POST', headers: service, body: JSON.stringify({ items: [{
    id: traceId, trace_id: traceId, cascade_id: 'deno_smoke', node_type: 'llm_call',
    request: { messages: [{ role: 'user', content: 'Is extraction live?' }] },
    response: { choices: [{ message: { role: 'assistant', content: 'As the log arrives.' } }] } }] }) });
  const loggedBody = await logged.json() as { inserted?: number };
  if (logged.status !== 200 || loggedBody.inserted !== 1) fail(`POST /training-examples/logs answered ${logged.status} ${JSON.stringify(loggedBody)}`);
  const annotated = await fetch(`${base}/${traceId}/annotation`, { method: 'PUT', headers: auth, body: JSON.stringify({ trainable: true, verified: true }) });
  if (annotated.status !== 200) fail(`PUT /training-examples/:trace_id/annotation answered ${annotated.status} ${await annotated.text()}`);
  const shots = await fetch(`${base}/few-shot?cascade_id=deno_smoke&k=1`, { headers: auth });
  const shotBody = await shots.json() as { items?: { user_input: string }[] };
  if (shots.status !== 200 || shotBody.items?.[0]?.user_input !== 'Is extraction live?') fail(`GET /training-examples/few-shot answered ${shots.status} ${JSON.stringify(shotBody)}`);
  console.log('deno smoke: functions/training-examples under Deno ingested a log (example extracted), annotated it, served it as a few-shot example');
} finally {
  await deno?.stop();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
}
