// Issue 3 benchmarks on the dataset of loadRuns (3 objectives per run):
// query-by-objectives and a filter expression through the whole HTTP stack
// against the hand-written SQL a person would write for the same page, and
// W&B run reports through POST /wandb-webhook against raw upserts.
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads, compareWrites } from './measure.ts';

const WEBHOOK_TOKEN = 'bench-webhook-token';

export async function benchAnalytics(client: SqlClient, options: { iterations: number; reports: number }): Promise<Comparison[]> {
  const gateway = createGateway({ db: sqlAdapter(client), log: () => {}, wandb: { token: WEBHOOK_TOKEN } });
  const sub = crypto.randomUUID();
  const token = await mintToken({ role: 'authenticated', sub });
  const claims = JSON.stringify({ role: 'authenticated', sub });
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await gateway.fetch(new Request(`http://bench/functions/v1${path}`, {
      ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers as Record<string, string> },
    }));
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  // Hand-written SQL for the same page (50 runs as the API answers them, newest first), as the same role.
  const handWritten = (where: string) => () => client.transaction(async (tx) => {
    await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [claims]);
    return tx.query(`select coalesce(jsonb_agg(private.run_json(p) order by p.created_at desc, p.run_id desc), '[]') as items
      from (select r.* from public.training_runs r where ${where} order by r.created_at desc, r.run_id desc limit 51) p`);
  });

  const results: Comparison[] = [];
  results.push(await compareReads('POST /runs/query-by-objectives, 2 objectives, 3 bounds (50 rows)',
    () => call('/runs/query-by-objectives', { method: 'POST', body: JSON.stringify({
      objectives: { COMT_activity: { min: 0.8 }, DRD5_activity: { min: 0.7, max: 0.95 } } }) }),
    handWritten(`exists (select 1 from public.run_objectives o where o.run_id = r.run_id and o.objective_name = 'COMT_activity' and o.raw_mean >= 0.8)
      and exists (select 1 from public.run_objectives o where o.run_id = r.run_id and o.objective_name = 'DRD5_activity' and o.raw_mean between 0.7 and 0.95)`),
    options.iterations));

  const filter = "status = 'completed' AND (gradient_method = 'mgda' OR gradient_method = 'pcgrad') AND config.training.gradient_accumulation_steps > 4";
  results.push(await compareReads('GET /runs?filter= with OR and a config. path (50 rows)',
    () => call(`/runs?filter=${encodeURIComponent(filter)}`),
    handWritten(`r.status = 'completed' and (r.gradient_method = 'mgda' or r.gradient_method = 'pcgrad')
      and (r.config_json #>> '{training,gradient_accumulation_steps}')::int > 4`),
    options.iterations));

  // Run reports: launched/running runs finish with a W&B summary. Each side gets its own runs.
  const open = (await client.query<{ run_id: string }>(
    `select run_id from public.training_runs where status in ('launched', 'running') order by run_id limit $1`, [options.reports * 2]))
    .map((r) => r.run_id);
  const n = Math.floor(open.length / 2);
  const summary = (i: number) => {
    const s: Record<string, number> = {
      _timestamp: 1_790_000_000 + i, _step: 12_000 + i, _runtime: 10_800 + i, 'train/loss': 0.3 + (i % 10) / 100,
      'objectives/COMT_activity_maximize/raw_mean': (i % 100) / 100, 'objectives/DRD5_activity_maximize/raw_mean': (i % 77) / 77,
      'objectives/QED_maximize/raw_mean': (i % 50) / 50,
    };
    for (let k = 0; k < 25; k++) s[`eval/metric_${k}`] = k * 0.01 + i * 1e-6; // a realistic summary has dozens of keys
    return s;
  };
  results.push(await compareWrites(`POST /wandb-webhook, ${n} run reports (FINISHED + 32-key summary)`,
    async (i) => {
      const res = await gateway.fetch(new Request('http://bench/functions/v1/wandb-webhook', {
        method: 'POST', headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ run_id: open[i], wandb_run_id: `wb_${open[i]}`, state: 'FINISHED', summary: summary(i) }),
      }));
      const body = await res.json() as { outcome?: string };
      if (res.status !== 200 || body.outcome !== 'applied') throw new Error(`webhook: ${res.status} ${JSON.stringify(body)}`);
    },
    (i) => client.query(
      `insert into public.training_runs as t (run_id, config_json, status, wandb_run_id, final_metrics_json, wandb_reported_at)
       values ($1, '{}', 'completed', $2, $3, to_timestamp($4))
       on conflict (run_id) do update set status = excluded.status, wandb_run_id = coalesce(t.wandb_run_id, excluded.wandb_run_id),
         final_metrics_json = coalesce(t.final_metrics_json, '{}') || excluded.final_metrics_json,
         ended_at = coalesce(t.ended_at, now()), wandb_reported_at = excluded.wandb_reported_at`,
      [open[n + i], `wb_${open[n + i]}`, summary(i), summary(i)._timestamp]),
    n));
  const last = results.at(-1)!;
  last.name += ` = ${(1000 / last.product_ms).toFixed(0)} vs ${(1000 / last.baseline_ms).toFixed(0)} per s`;
  return results;
}
