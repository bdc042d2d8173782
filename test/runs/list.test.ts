// GET /runs filters, ordering and keyset paging, and GET /runs/stats, on a
// dataset written straight into the table (the service role, as a backfill would).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';

interface Row { run_id: string; status: string; host: string; method: string; batch: number; hours: number | null; day: number; blog: boolean; analysis: boolean }

const METHODS = ['mgda', 'pcgrad', 'imtlg'];
const STATUSES = ['launched', 'running', 'completed', 'failed', 'crashed'];
const ROWS: Row[] = Array.from({ length: 60 }, (_, i) => ({
  run_id: `r${String(i).padStart(3, '0')}`,
  status: STATUSES[i % 5]!,
  host: i % 2 ? 'ec2' : 'expanse',
  method: METHODS[i % 3]!,
  batch: [32, 64][i % 2]!,
  hours: i % 4 === 0 ? null : (i % 7) + 0.5,
  day: i % 20, // created_at ties on purpose: 3 runs per day
  blog: i % 6 === 0,
  analysis: i % 10 === 0,
}));

describe.each(ADAPTERS)('listing runs through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter);
    await h.database.client.query(
      `insert into public.training_runs (run_id, status, host, config_json, duration_seconds, created_at, blog_post_url, crash_analysis_s3_key)
       select r->>'run_id', r->>'status', r->>'host',
              jsonb_build_object('training', jsonb_build_object('gradient_method', r->>'method', 'batch_size', (r->>'batch')::int)),
              (r->>'hours')::float8 * 3600, timestamptz '2026-01-01' + ((r->>'day')::int * interval '1 day'),
              case when (r->>'blog')::boolean then 'https://blog.example.com/' || (r->>'run_id') end,
              case when (r->>'analysis')::boolean then 'crash/' || (r->>'run_id') || '/analysis.md' end
         from jsonb_array_elements($1::jsonb) r`, [ROWS]);
  });
  afterAll(() => h.close());

  const list = async (query: string) => {
    const res = await h.request(`/runs?${query}`);
    expect(res.status, `${query} ${res.status === 200 ? "" : await res.clone().text()}`).toBe(200);
    return json<{ items: { run_id: string }[]; next_cursor: string | null }>(res);
  };
  const all = async (query: string) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`${query}&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(7);
      ids.push(...page.items.map((r) => r.run_id));
      cursor = page.next_cursor;
    } while (cursor);
    return ids;
  };
  const expected = (keep: (r: Row) => boolean, key: (r: Row) => number | string | null = (r) => r.day, dir: 1 | -1 = -1) =>
    ROWS.filter(keep).sort((a, b) => {
      const ka = key(a), kb = key(b);
      if (ka === kb) return dir * a.run_id.localeCompare(b.run_id);
      if (ka === null) return 1;
      if (kb === null) return -1;
      return dir * (ka < kb ? -1 : 1);
    }).map((r) => r.run_id);

  it('filters by status and gradient method, newest first, across pages', async () => {
    expect(await all('status=completed&gradient_method=mgda')).toEqual(expected((r) => r.status === 'completed' && r.method === 'mgda'));
  });

  it('filters by host, batch size, duration, created range, attachments', async () => {
    expect(await all('host=ec2&batch_size=32')).toEqual(expected((r) => r.host === 'ec2' && r.batch === 32));
    expect(await all('min_duration_hours=4')).toEqual(expected((r) => r.hours !== null && r.hours >= 4));
    expect(await all('created_after=2026-01-05T00:00:00Z&created_before=2026-01-10T00:00:00Z'))
      .toEqual(expected((r) => r.day >= 4 && r.day < 9));
    expect(await all('has_blog_post=true')).toEqual(expected((r) => r.blog));
    expect(await all('has_crash_analysis=false&status=crashed')).toEqual(expected((r) => !r.analysis && r.status === 'crashed'));
  });

  it('orders by a nullable column with nulls last, stable across pages', async () => {
    expect(await all('order_by=duration_seconds.desc')).toEqual(expected(() => true, (r) => r.hours, -1));
    expect(await all('order_by=duration_seconds.asc')).toEqual(expected(() => true, (r) => r.hours, 1));
    expect(await all('order_by=run_id.asc')).toEqual(ROWS.map((r) => r.run_id));
  });

  it('keeps paging stable when runs are inserted between pages', async () => {
    const first = await list('order_by=created_at.desc&limit=10');
    await h.request('/runs', { method: 'POST', json: { run_id: `late_${adapter}`, config: {} } });
    const second = await list(`order_by=created_at.desc&limit=10&cursor=${encodeURIComponent(first.next_cursor!)}`);
    const seen = [...first.items, ...second.items].map((r) => r.run_id);
    expect(seen).toEqual(expected(() => true).slice(0, 20));
  });

  it('rejects bad parameters with 400', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=ten', 'batch_size=12abc', 'status=done', 'has_blog_post=yes',
      'created_after=yesterday', 'order_by=config_json.asc', 'order_by=created_at.sideways', 'cursor=%%%', 'min_duration_hours=-1']) {
      const res = await h.request(`/runs?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const page = await list('order_by=run_id.asc&limit=5');
    const mismatch = await h.request(`/runs?order_by=created_at.desc&cursor=${encodeURIComponent(page.next_cursor!)}`);
    expect(mismatch.status).toBe(400);
  });

  it('counts runs by status and attachment', async () => {
    const stats = await json(await h.request('/runs/stats'));
    const count = (f: (r: Row) => boolean) => ROWS.filter(f).length;
    const [{ n } = { n: -1 }] = await h.database.client.query<{ n: number }>('select count(*)::int as n from public.training_runs');
    expect(stats.total_runs).toBe(n);
    expect(n).toBe(ROWS.length + 1); // the run added by the paging test
    expect(stats.by_status.completed).toBe(count((r) => r.status === 'completed'));
    expect(stats.by_status.crashed).toBe(count((r) => r.status === 'crashed'));
    expect(stats.with_blog_posts).toBe(count((r) => r.blog));
    expect(stats.with_crash_analysis).toBe(count((r) => r.analysis));
  });
});
