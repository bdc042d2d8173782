// Objectives, the filter language and objective analytics through HTTP, on
// both adapters, checked against an oracle computed in JavaScript.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';

const METHODS = ['mgda', 'pcgrad', 'imtlg', null] as const;
const STATUSES = ['completed', 'completed', 'crashed', 'failed', 'running', 'completed'] as const;

interface Row {
  run_id: string; status: string; method: string | null; gas: number | null; day: number;
  comt: number | null; drd5: number | null; comtNorm: number | null; loss: number | null; name: string;
}
// Deterministic, spread-out values; some missing on purpose.
const ROWS: Row[] = Array.from({ length: 48 }, (_, i) => ({
  run_id: `o${String(i).padStart(3, '0')}`,
  status: STATUSES[i % STATUSES.length]!,
  method: METHODS[i % METHODS.length]!,
  gas: i % 5 === 0 ? null : (i % 8) + 1,
  day: i,
  comt: i % 7 === 3 ? null : ((i * 37) % 100) / 100,
  drd5: ((i * 53) % 100) / 100,
  comtNorm: i % 7 === 3 ? null : ((i * 17) % 100) / 100,
  loss: i % 3 === 0 ? null : ((i * 29) % 50) / 10,
  name: i % 4 === 0 ? `MGDA sweep ${i}` : `run ${i}`,
}));

function config(r: Row) {
  return {
    training: { gradient_method: r.method, gradient_accumulation_steps: r.gas, optimizer: 'adamw', seed: r.day },
    objectives: [
      { name: 'COMT_activity', alias: 'COMT_activity_maximize', weight: 1, params: { uniprot: 'P21964' } },
      { name: 'DRD5_activity', weight: 0.5, direction: 'maximize' },
    ],
  };
}
function metrics(r: Row) {
  const m: Record<string, unknown> = {
    'objectives/DRD5_activity_maximize/raw_mean': r.drd5, // no alias declared: suffix stripped
    'objectives/Unknown_thing/raw_mean': 0.5, // undeclared: kept in final_metrics_json only
    _step: 1000 + r.day,
  };
  if (r.comt !== null) m['objectives/COMT_activity_maximize/raw_mean'] = r.comt;
  if (r.comtNorm !== null) m['objectives/COMT_activity_maximize/normalized_mean'] = r.comtNorm;
  if (r.loss !== null) m['train/loss'] = r.loss;
  return m;
}

describe.each(ADAPTERS)('objectives and the filter language through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter);
    await h.database.client.query(
      `insert into public.training_runs (run_id, run_name, status, config_json, final_metrics_json, created_at, created_by)
       select r->>'run_id', r->>'name', r->>'status', r->'config', r->'metrics',
              timestamptz '2026-01-01' + ((r->>'day')::int * interval '1 hour'), $2::uuid
         from jsonb_array_elements($1::jsonb) r`,
      [ROWS.map((r) => ({ ...r, config: config(r), metrics: metrics(r) })), h.users.alice]);
  });
  afterAll(() => h.close());

  const page = async (path: string, init?: Parameters<Harness['request']>[1]) => {
    const res = await h.request(path, init);
    expect(res.status, `${path} ${res.status === 200 ? '' : await res.clone().text()}`).toBe(200);
    return json<{ items: any[]; next_cursor: string | null }>(res);
  };
  const allIds = async (query: string) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const p = await page(`/runs?${query}&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      ids.push(...p.items.map((r) => r.run_id));
      cursor = p.next_cursor;
    } while (cursor);
    return ids;
  };
  const newestFirst = (keep: (r: Row) => boolean) => ROWS.filter(keep).sort((a, b) => b.day - a.day).map((r) => r.run_id);
  const filter = (expr: string) => allIds(`filter=${encodeURIComponent(expr)}`);

  describe('objective rows', () => {
    it('come from config.objectives at POST /runs, and num_objectives agrees', async () => {
      const res = await h.request('/runs', { method: 'POST', json: { run_id: `launch_${adapter}`, config: config(ROWS[1]!) } });
      expect(res.status).toBe(201);
      const run = await json(res);
      expect(run.num_objectives).toBe(2);
      expect(run.objectives).toEqual([
        expect.objectContaining({ objective_name: 'COMT_activity', objective_alias: 'COMT_activity_maximize', uniprot: 'P21964', weight: 1, direction: 'maximize', raw_mean: null }),
        expect.objectContaining({ objective_name: 'DRD5_activity', objective_alias: null, uniprot: null, weight: 0.5, direction: 'maximize' }),
      ]);
    });

    it('take final values from summary keys objectives/<alias>/<metric>; unknown keys stay in final_metrics_json', async () => {
      const id = `launch_${adapter}`;
      const res = await h.request(`/runs/${id}/status`, { method: 'PATCH', json: { status: 'completed', final_metrics: {
        'objectives/COMT_activity_maximize/raw_mean': 0.91, 'objectives/COMT_activity_maximize/raw_std': 0.02,
        'objectives/DRD5_activity_maximize/normalized_mean': '0.5', 'objectives/DRD5_activity/bogus_metric': 3,
        'train/loss': 0.25, _step: 4200, _runtime: 3600.5,
      } } });
      const run = await json(res);
      expect(res.status).toBe(200);
      expect(run.objectives[0]).toMatchObject({ raw_mean: 0.91, raw_std: 0.02, normalized_mean: null });
      expect(run.objectives[1]).toMatchObject({ normalized_mean: 0.5, raw_mean: null });
      expect(run.final_metrics_json['objectives/DRD5_activity/bogus_metric']).toBe(3);
      expect(run).toMatchObject({ final_loss: 0.25, total_training_steps: 4200, wandb_runtime_seconds: 3600.5 });
      // a later summary merges: earlier values stay, new ones land
      const later = await json(await h.request(`/runs/${id}/status`, { method: 'PATCH', json: { status: 'completed', final_metrics: {
        'objectives/COMT_activity_maximize/raw_mean': 0.93 } } }));
      expect(later.objectives[0]).toMatchObject({ raw_mean: 0.93, raw_std: 0.02 });
    });

    it('extract the hyperparameter columns from the config paths the README lists', async () => {
      const res = await h.request('/runs', { method: 'POST', json: { run_id: `hp_${adapter}`, config: {
        training: { gradient_accumulation_steps: 8, num_train_epochs: 3, max_steps: '1000', warmup_steps: 50, weight_decay: 0.01,
          max_grad_norm: 1.0, optim: 'adamw_torch', lr_scheduler_type: 'cosine', seed: 7, max_length: 2048, num_generations: 4 },
        model: { name: 'Qwen/Qwen2.5-7B' }, lora: { r: 16 },
      } } });
      expect(await json(res)).toMatchObject({
        gradient_accumulation_steps: 8, num_epochs: 3, max_steps: 1000, warmup_steps: 50, weight_decay: 0.01,
        max_grad_norm: 1, optimizer: 'adamw_torch', lr_scheduler_type: 'cosine', seed: 7, max_seq_length: 2048,
        num_generations: 4, model_name: 'Qwen/Qwen2.5-7B', lora_rank: 16, num_objectives: null, objectives: [],
      });
    });

    it('refuse objectives that cannot become rows, storing nothing', async () => {
      for (const objectives of [[{ alias: 'x' }], ['a', 'a'], [{ name: 'a', direction: 'sideways' }], [{ name: 'a', weight: 'heavy' }], [3]]) {
        const run_id = `bad_obj_${adapter}_${Math.random().toString(36).slice(2, 8)}`;
        const res = await h.request('/runs', { method: 'POST', json: { run_id, config: { objectives } } });
        expect(res.status, JSON.stringify(objectives)).toBe(400);
        expect((await json(res)).detail).toMatch(/config\.objectives\[\d\]/);
        expect((await h.request(`/runs/${run_id}`)).status).toBe(404);
      }
    });

    it('are deleted by the run owner only', async () => {
      const id = `hp_${adapter}`;
      await h.request('/runs', { method: 'POST', json: { run_id: `del_${adapter}`, config: config(ROWS[0]!) } });
      expect((await h.request(`/runs/del_${adapter}/objectives`, { method: 'DELETE', token: h.tokens.bob })).status).toBe(403);
      expect((await h.request(`/runs/del_${adapter}/objectives`, { method: 'DELETE', token: null })).status).toBe(401);
      expect((await h.request('/runs/nope/objectives', { method: 'DELETE' })).status).toBe(404);
      expect(await json(await h.request(`/runs/del_${adapter}/objectives`, { method: 'DELETE' }))).toEqual({ run_id: `del_${adapter}`, deleted: 2 });
      expect((await json(await h.request(`/runs/del_${adapter}`))).objectives).toEqual([]);
      expect(await json(await h.request(`/runs/${id}/objectives`, { method: 'DELETE' }))).toEqual({ run_id: id, deleted: 0 });
    });
  });

  describe('GET /runs?filter=', () => {
    const seeded = (r: Row) => r; // the 48 seeded runs; tests below restrict to them with run_id like 'o%'
    it('answers AND/OR with parentheses, config paths, metric keys and objectives', async () => {
      expect(await filter("run_id like 'o%' and status = 'completed' and gradient_method = 'mgda' and objective.COMT_activity.raw_mean > 0.3"))
        .toEqual(newestFirst((r) => r.status === 'completed' && r.method === 'mgda' && r.comt !== null && r.comt > 0.3));
      expect(await filter("run_id like 'o%' and (gradient_method = 'pcgrad' or config.training.gradient_accumulation_steps > 4)"))
        .toEqual(newestFirst((r) => r.method === 'pcgrad' || (r.gas !== null && r.gas > 4)));
      expect(await filter('metrics.`train/loss` <= 2 AND objective.DRD5_activity.raw_mean >= 0.5'))
        .toEqual(newestFirst((r) => seeded(r).loss !== null && r.loss! <= 2 && r.drd5! >= 0.5));
      expect(await filter("run_id like 'o%' and metrics.`train/loss` is null"))
        .toEqual(newestFirst((r) => r.loss === null));
      expect(await filter("run_id like 'o%' and objective.COMT_activity.raw_mean is null"))
        .toEqual(newestFirst((r) => r.comt === null));
      expect(await filter("run_id like 'o%' and gradient_method is null"))
        .toEqual(newestFirst((r) => r.method === null));
      expect(await filter("gradient_method in ('imtlg', 'pcgrad') and run_name ilike 'mgda%'"))
        .toEqual(newestFirst((r) => (r.method === 'imtlg' || r.method === 'pcgrad') && r.name.startsWith('MGDA')));
      expect(await filter("run_id like 'o%' and config.training.gradient_method not in ('mgda') and status != 'running'"))
        .toEqual(newestFirst((r) => r.method !== null && r.method !== 'mgda' && r.status !== 'running'));
      expect(await filter("run_id like 'o%' and total_training_steps between 1 and 2".replace('between 1 and 2', '>= 1040')))
        .toEqual(newestFirst((r) => 1000 + r.day >= 1040));
      expect(await filter("created_at >= '2026-01-02T00:00:00Z' and run_id like 'o%'"))
        .toEqual(newestFirst((r) => r.day >= 24));
    });

    it('orders by the same fields, stable across pages', async () => {
      const byComt = [...ROWS].sort((a, b) => {
        if (a.comt === b.comt) return b.run_id.localeCompare(a.run_id);
        if (a.comt === null) return 1;
        if (b.comt === null) return -1;
        return b.comt - a.comt;
      }).map((r) => r.run_id);
      expect(await allIds(`filter=${encodeURIComponent("run_id like 'o%'")}&order_by=${encodeURIComponent('objective.COMT_activity.raw_mean DESC')}`)).toEqual(byComt);
      const byGas = [...ROWS].sort((a, b) => {
        if (a.gas === b.gas) return a.run_id.localeCompare(b.run_id);
        if (a.gas === null) return 1;
        if (b.gas === null) return -1;
        return a.gas - b.gas;
      }).map((r) => r.run_id);
      expect(await allIds(`filter=${encodeURIComponent("run_id like 'o%'")}&order_by=config.training.gradient_accumulation_steps`)).toEqual(byGas);
      const byLoss = await allIds(`filter=${encodeURIComponent("run_id like 'o%'")}&order_by=${encodeURIComponent('metrics.`train/loss` desc')}`);
      expect(byLoss).toHaveLength(ROWS.length);
      expect(byLoss.slice(0, 3)).toEqual([...ROWS].filter((r) => r.loss !== null)
        .sort((a, b) => b.loss! - a.loss! || b.run_id.localeCompare(a.run_id)).slice(0, 3).map((r) => r.run_id));
    });

    it('answers a parse error with 400 naming the column, and treats hostile text as values', async () => {
      const res = await h.request(`/runs?filter=${encodeURIComponent("status = 'completed' AND batch_size >")}`);
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.errors).toEqual([{ path: 'filter', message: expect.stringMatching(/^column 38: expected a value/) }]);
      expect(body.detail).toMatch(/^invalid filter: column 38/);
      const order = await h.request('/runs?order_by=nonsense');
      expect(order.status).toBe(400);
      expect((await json(order)).errors[0].path).toBe('order_by');
      for (const hostile of ["run_name = 'x''; drop table public.training_runs; --'", 'metrics.`a\'); drop table x; --` = 1',
        "config.`'; select 1; --`.x = 'y'", 'objective.`x"y`.raw_mean > 0']) {
        const r = await h.request(`/runs?filter=${encodeURIComponent(hostile)}`);
        expect(r.status, hostile).toBe(200);
        expect((await json(r)).items).toEqual([]);
      }
      expect((await page('/runs?limit=1')).items).toHaveLength(1);
      const long = await h.request(`/runs?filter=${'x'.repeat(4001)}`);
      expect(long.status).toBe(400);
    });
  });

  describe('POST /runs/query-by-objectives', () => {
    const query = (body: unknown) => page('/runs/query-by-objectives', { method: 'POST', json: body });
    it('answers the runs meeting every bound, with paging', async () => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const p = await query({ objectives: { COMT_activity: { min: 0.3 }, DRD5_activity: { min: 0.2, max: 0.8 } }, limit: 4, cursor });
        ids.push(...p.items.map((r) => r.run_id));
        cursor = p.next_cursor ?? undefined;
      } while (cursor);
      expect(ids).toEqual(newestFirst((r) => r.comt !== null && r.comt >= 0.3 && r.drd5! >= 0.2 && r.drd5! <= 0.8));
    });

    it('takes metric, gradient_method, status and an extra filter', async () => {
      const p = await query({ objectives: { COMT_activity: { min: 0.5 } }, metric: 'normalized_mean', status: 'completed', gradient_method: 'pcgrad', limit: 100 });
      expect(p.items.length).toBeGreaterThan(0);
      expect(p.items.map((r) => r.run_id)).toEqual(newestFirst((r) => r.comtNorm !== null && r.comtNorm >= 0.5 && r.status === 'completed' && r.method === 'pcgrad'));
      expect(p.items[0]?.objectives).toHaveLength(2);
      const f = await query({ objectives: { DRD5_activity: { max: 0.5 } }, filter: 'config.training.gradient_accumulation_steps >= 3', limit: 100 });
      expect(f.items.map((r) => r.run_id)).toEqual(newestFirst((r) => r.drd5! <= 0.5 && r.gas !== null && r.gas >= 3));
    });

    it('rejects bad bodies with 400', async () => {
      for (const body of [{}, { objectives: {} }, { objectives: { X: {} } }, { objectives: { X: { min: 2, max: 1 } } },
        { objectives: { X: { min: '0.8' } } }, { objectives: { X: { min: 1 } }, metric: 'raw_std' },
        { objectives: { X: { min: 1 } }, limit: 0 }, { objectives: { X: { min: 1 } }, extra: true },
        { objectives: { X: { min: 1 } }, filter: 'status =' }, { objectives: { '': { min: 1 } } }]) {
        const res = await h.request('/runs/query-by-objectives', { method: 'POST', json: body });
        expect(res.status, JSON.stringify(body)).toBe(400);
      }
      const malformed = await h.request('/runs/query-by-objectives', { method: 'POST', body: '{"objectives":', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect((await h.request('/runs/query-by-objectives', { method: 'POST', json: { objectives: { X: { min: 1 } } }, token: null })).status).toBe(401);
    });
  });

  describe('objective analytics', () => {
    const completed = (method?: string | null) => ROWS.filter((r) => r.status === 'completed' && r.comt !== null && (method === undefined || r.method === method));
    const quantile = (xs: number[], q: number) => {
      const s = [...xs].sort((a, b) => a - b);
      const pos = (s.length - 1) * q;
      const lo = Math.floor(pos);
      return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const stddev = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1));

    it('GET /runs/objectives/:name/stats summarises completed runs', async () => {
      // the runs added by the tests above are completed too: count them in through the database
      const extra = await h.database.client.query<{ v: number }>(
        `select o.raw_mean as v from public.run_objectives o join public.training_runs r using (run_id)
         where o.objective_name = 'COMT_activity' and r.status = 'completed' and o.raw_mean is not null and r.run_id not like 'o%'`);
      const xs = [...completed().map((r) => r.comt!), ...extra.map((e) => e.v)];
      const stats = await json(await h.request('/runs/objectives/COMT_activity/stats'));
      expect(stats.count).toBe(xs.length);
      expect(stats.mean).toBeCloseTo(mean(xs), 10);
      expect(stats.min).toBe(Math.min(...xs));
      expect(stats.max).toBe(Math.max(...xs));
      expect(stats.stddev).toBeCloseTo(stddev(xs), 10);
      expect(stats.p50).toBeCloseTo(quantile(xs, 0.5), 10);
      expect(stats.p90).toBeCloseTo(quantile(xs, 0.9), 10);
      const imtlg = await json(await h.request('/runs/objectives/COMT_activity/stats?gradient_method=imtlg'));
      expect(imtlg.count).toBe(completed('imtlg').length);
      expect(imtlg.mean).toBeCloseTo(mean(completed('imtlg').map((r) => r.comt!)), 10);
      const none = await json(await h.request('/runs/objectives/COMT_activity/stats?gradient_method=nobody'));
      expect(none).toMatchObject({ count: 0, mean: null, p50: null });
    });

    it('GET /runs/objectives/:name/compare-gradient-methods ranks methods', async () => {
      const cmp = await json(await h.request('/runs/objectives/DRD5_activity/compare-gradient-methods'));
      expect(cmp).toMatchObject({ objective_name: 'DRD5_activity', metric: 'raw_mean', direction: 'maximize' });
      const imtlg = cmp.methods.find((m: any) => m.gradient_method === 'imtlg');
      const rows = ROWS.filter((r) => r.method === 'imtlg');
      const done = rows.filter((r) => r.status === 'completed');
      const finished = rows.filter((r) => ['completed', 'failed', 'crashed'].includes(r.status));
      expect(imtlg).toMatchObject({
        runs: rows.length, completed: done.length, crashed: rows.filter((r) => r.status === 'crashed').length,
        runs_with_value: done.length, best: Math.max(...done.map((r) => r.drd5!)),
      });
      expect(imtlg.crash_rate).toBeCloseTo(rows.filter((r) => r.status === 'crashed').length / finished.length, 4);
      expect(imtlg.mean).toBeCloseTo(mean(done.map((r) => r.drd5!)), 10);
      const means = cmp.methods.map((m: any) => m.mean).filter((m: number | null) => m !== null);
      expect(means).toEqual([...means].sort((a: number, b: number) => b - a));
    });

    it('answers 404 for an objective no run has and 400 for a bad metric', async () => {
      expect((await h.request('/runs/objectives/Nope/stats')).status).toBe(404);
      expect((await h.request('/runs/objectives/Nope/compare-gradient-methods')).status).toBe(404);
      expect((await h.request('/runs/objectives/COMT_activity/stats?metric=best')).status).toBe(400);
      expect((await h.request('/runs/objectives/COMT_activity/stats', { token: null })).status).toBe(401);
    });
  });
});

describe('run_objectives rules in the database', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
    await h.request('/runs', { method: 'POST', json: { run_id: 'alice_run', config: config(ROWS[0]!) } });
  });
  afterAll(() => h.close());
  const as = (role: 'anon' | 'authenticated' | 'service_role', sub: string | null, sql: string) =>
    asRole(h.database.client, role, sub, sql);

  it("everyone reads them; only the database writes them; only the run's owner deletes them", async () => {
    expect(await as('authenticated', h.users.bob, `select objective_name from public.run_objectives where run_id = 'alice_run' order by 1`))
      .toEqual([{ objective_name: 'COMT_activity' }, { objective_name: 'DRD5_activity' }]);
    expect(await as('authenticated', h.users.bob, `delete from public.run_objectives where run_id = 'alice_run' returning 1`)).toEqual([]);
    await expect(as('anon', null, 'select * from public.run_objectives')).rejects.toMatchObject({ code: '42501' });
    // derived from config and final metrics: no user writes them, the owner included (they would feed the statistics)
    for (const user of [h.users.alice, h.users.bob]) {
      await expect(as('authenticated', user, `update public.run_objectives set raw_mean = 1 where run_id = 'alice_run' returning 1`))
        .rejects.toMatchObject({ code: '42501' });
      await expect(as('authenticated', user, `insert into public.run_objectives (run_id, objective_name) values ('alice_run', 'X')`))
        .rejects.toMatchObject({ code: '42501' });
    }
    // the owner deletes them, and rows go with the run
    expect(await as('authenticated', h.users.alice, `delete from public.run_objectives where run_id = 'alice_run' and objective_name = 'COMT_activity' returning 1`))
      .toEqual([{ '?column?': 1 }]);
    await as('authenticated', h.users.alice, `delete from public.training_runs where run_id = 'alice_run'`);
    expect(await as('service_role', null, `select * from public.run_objectives where run_id = 'alice_run'`)).toEqual([]);
  });
});
