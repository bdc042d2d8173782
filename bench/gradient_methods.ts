// Issue 18: GET /runs/analytics/gradient-methods on the dataset of loadRuns
// (100,000 runs, 5 methods) through the whole HTTP stack, and the SQL function
// it calls, against the hand-written aggregate a person would write for the
// same numbers (one GROUP BY, run as the same role, so RLS costs both alike).
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads } from './measure.ts';

const HAND_WRITTEN = (where: string) => `
  select coalesce(jsonb_agg(to_jsonb(m) order by m.gradient_method nulls last), '[]') as methods from (
    select gradient_method, count(*) as runs,
      count(*) filter (where status = 'completed') as completed,
      count(*) filter (where status = 'failed') as failed,
      count(*) filter (where status = 'crashed') as crashed,
      count(*) filter (where status in ('launched', 'running')) as active,
      round(count(*) filter (where status = 'completed')::numeric
        / nullif(count(*) filter (where status in ('completed', 'failed', 'crashed')), 0), 4) as success_rate,
      avg(duration_seconds) filter (where status = 'completed') as mean_duration_seconds,
      percentile_cont(0.5) within group (order by duration_seconds) filter (where status = 'completed') as p50_duration_seconds,
      percentile_cont(0.9) within group (order by duration_seconds) filter (where status = 'completed') as p90_duration_seconds
    from public.training_runs where ${where} group by gradient_method) m`;

export async function benchGradientMethods(client: SqlClient, options: { iterations: number }): Promise<Comparison[]> {
  const gateway = createGateway({ db: sqlAdapter(client), log: () => {} });
  const sub = crypto.randomUUID();
  const token = await mintToken({ role: 'authenticated', sub });
  const claims = JSON.stringify({ role: 'authenticated', sub });
  const asUser = (sql: string, params: unknown[] = []) => client.transaction(async (tx) => {
    await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [claims]);
    return tx.query(sql, params);
  });
  const http = async (query: string) => {
    const res = await gateway.fetch(new Request(`http://bench/functions/v1/runs/analytics/gradient-methods?${query}`,
      { headers: { authorization: `Bearer ${token}` } }));
    if (res.status !== 200) throw new Error(`analytics: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const cases: { name: string; query: Record<string, string>; ast: unknown; where: string }[] = [
    { name: 'every run', query: {}, ast: null, where: 'true' },
    {
      name: "filter host = 'ec2' AND config.training.num_gpus >= 4, one quarter",
      query: { filter: "host = 'ec2' AND config.training.num_gpus >= 4", created_after: '2026-02-01T00:00:00Z', created_before: '2026-05-01T00:00:00Z' },
      ast: { op: 'and', args: [
        { op: 'cmp', field: { kind: 'column', name: 'host' }, cmp: '=', value: 'ec2' },
        { op: 'cmp', field: { kind: 'config', path: ['training', 'num_gpus'] }, cmp: '>=', value: 4 },
      ] },
      where: `host = 'ec2' and private.jsonb_num(config_json #> '{training,num_gpus}') >= 4
              and created_at >= '2026-02-01T00:00:00Z' and created_at < '2026-05-01T00:00:00Z'`,
    },
  ];

  // Same answers first: a benchmark of different work would mean nothing.
  for (const c of cases) {
    const viaHttp = ((await http(new URLSearchParams(c.query).toString())) as { methods: unknown }).methods;
    const [direct] = await asUser(HAND_WRITTEN(c.where)) as { methods: unknown }[];
    if (JSON.stringify(viaHttp) !== JSON.stringify(direct!.methods)) {
      throw new Error(`gradient-methods ${c.name}: the route and the hand-written SQL disagree`);
    }
  }

  const results: Comparison[] = [];
  for (const c of cases) {
    results.push(await compareReads(`GET /runs/analytics/gradient-methods, ${c.name}`,
      () => http(new URLSearchParams(c.query).toString()), () => asUser(HAND_WRITTEN(c.where)), options.iterations));
    results.push(await compareReads(`  runs_gradient_method_stats() called directly, ${c.name}`,
      () => asUser('select public.runs_gradient_method_stats($1::jsonb, $2, $3)',
        [c.ast === null ? null : JSON.stringify(c.ast), c.query.created_after ?? null, c.query.created_before ?? null]),
      () => asUser(HAND_WRITTEN(c.where)), options.iterations));
  }
  return results;
}
