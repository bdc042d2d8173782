// Runs-registry benchmarks on one database: reads through the whole HTTP stack
// (gateway -> Hono -> zod -> auth -> sql adapter -> SQL function) against the
// same SQL function called directly, and POST /runs against a raw INSERT.
// Iterations of the two sides are interleaved so machine noise hits both alike.
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';

import { type Comparison, compareReads, compareWrites } from './measure.ts';

/** `count` runs with realistic 2-5 KB configs, spread over a year, written in SQL (3 objectives each, filled by the trigger). */
export async function loadRuns(client: SqlClient, count: number): Promise<void> {
  // In batches: one 100,000-row statement makes the insert trigger's transition
  // table (~400 MB) spill, which on PGlite's in-memory file system crawls.
  const batch = 5000;
  for (let first = 1; first <= count; first += batch) await loadBatch(client, count, first, Math.min(first + batch - 1, count));
  await client.exec('analyze public.training_runs; analyze public.run_objectives');
}

async function loadBatch(client: SqlClient, count: number, first: number, last: number): Promise<void> {
  await client.query(
    `insert into public.training_runs (run_id, status, host, created_at, started_at, ended_at, duration_seconds, config_json, final_metrics_json)
     select 'bench_' || i,
            (array['launched','running','completed','completed','completed','failed','crashed'])[1 + i % 7],
            (array['ec2','expanse'])[1 + i % 2],
            timestamptz '2025-11-01' + (i * interval '1 second' * (31536000 / $1::int)),
            timestamptz '2025-11-01' + (i * interval '1 second' * (31536000 / $1::int)) + interval '2 minutes',
            case when i % 7 >= 2 then timestamptz '2025-11-01' + (i * interval '1 second' * (31536000 / $1::int)) + interval '3 hours' end,
            case when i % 7 >= 2 then 10800 + (i % 5000) end,
            jsonb_build_object(
              'training', jsonb_build_object('batch_size', (array[16,32,64,128])[1 + i % 4], 'learning_rate', 0.0001 * (1 + i % 10),
                'beta', 0.01 * (i % 7), 'gradient_method', (array['mgda','pcgrad','imtlg','aligned_mtl','cagrad'])[1 + i % 5],
                'num_gpus', (array[1,2,4,8])[1 + i % 4], 'num_scaffolds', i % 40, 'gradient_accumulation_steps', 1 + i % 8,
                'warmup_steps', 100 * (i % 10), 'seed', i),
              'objectives', jsonb_build_array(
                jsonb_build_object('name', 'COMT_activity', 'alias', 'COMT_activity_maximize', 'weight', 1, 'direction', 'maximize', 'params', jsonb_build_object('uniprot', 'P21964')),
                jsonb_build_object('name', 'DRD5_activity', 'alias', 'DRD5_activity_maximize', 'weight', 0.5, 'direction', 'maximize', 'params', jsonb_build_object('uniprot', 'P21918')),
                jsonb_build_object('name', 'QED', 'alias', 'QED_maximize', 'weight', 0.25, 'direction', 'maximize')),
              'reward', jsonb_build_object('shaping', 'linear', 'clip', 5),
              'notes', repeat(md5(i::text), 50 + i % 90)),
            case when i % 7 >= 2 then jsonb_build_object('train/loss', 1.0 / (1 + i % 100), '_step', 10000 + i % 3000,
              -- three objectives' final values, spread evenly over [0, 1)
              'objectives/COMT_activity_maximize/raw_mean', ((i * 37) % 1000) / 1000.0,
              'objectives/DRD5_activity_maximize/raw_mean', ((i * 53) % 1000) / 1000.0,
              'objectives/QED_maximize/raw_mean', ((i * 71) % 1000) / 1000.0) end
       from generate_series($2::int, $3::int) i`, [count, first, last]);
}

export async function benchRuns(client: SqlClient, options: { iterations: number; writes: number }): Promise<Comparison[]> {
  const db = sqlAdapter(client);
  const gateway = createGateway({ db, log: () => {} });
  const sub = crypto.randomUUID();
  const token = await mintToken({ role: 'authenticated', sub });
  const claims = JSON.stringify({ role: 'authenticated', sub });
  const headers = { authorization: `Bearer ${token}` };

  // The same SQL function, called directly as the same role: what the HTTP path adds is the difference.
  const direct = (args: string, params: unknown[]) => client.transaction(async (tx) => {
    await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [claims]);
    return tx.query(`select public.runs_list(${args}) as r`, params);
  });
  const http = async (query: string) => {
    const res = await gateway.fetch(new Request(`http://bench/functions/v1/runs?${query}`, { headers }));
    if (res.status !== 200) throw new Error(`GET /runs?${query}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const reads: [string, string, string, unknown[]][] = [
    ['GET /runs status=completed&gradient_method=mgda (50 rows)', 'status=completed&gradient_method=mgda',
      'p_status => $1, p_gradient_method => $2', ['completed', 'mgda']],
    ['GET /runs created_after..created_before (50 rows)', 'created_after=2026-03-01T00:00:00Z&created_before=2026-04-01T00:00:00Z',
      'p_created_after => $1, p_created_before => $2', ['2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z']],
  ];
  const results: Comparison[] = [];
  for (const [name, query, args, params] of reads) {
    results.push(await compareReads(name, () => http(query), () => direct(args, params), options.iterations));
  }

  // Writes: POST /runs vs a raw INSERT of the same row.
  const config = (i: number) => ({ training: { batch_size: 64, learning_rate: 0.001, gradient_method: 'mgda', num_gpus: 4, seed: i },
    objectives: [{ name: 'COMT_activity', alias: 'COMT_activity_maximize', weight: 1, direction: 'maximize' }], notes: 'x'.repeat(2500) });
  const tag = Date.now().toString(36);
  results.push(await compareWrites(`POST /runs, ${options.writes} sequential creates (2.6 KB configs)`,
    async (i) => {
      const res = await gateway.fetch(new Request('http://bench/functions/v1/runs', {
        method: 'POST', headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ run_id: `w_http_${tag}_${i}`, config: config(i), host: 'ec2' }),
      }));
      if (res.status !== 201) throw new Error(`POST /runs: ${res.status} ${await res.text()}`);
      await res.json();
    },
    (i) => client.query('insert into public.training_runs (run_id, config_json, host, created_by) values ($1, $2, $3, $4)',
      [`w_raw_${tag}_${i}`, config(i), 'ec2', sub]),
    options.writes));
  return results;
}
