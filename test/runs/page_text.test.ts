// List pages as JSON text (issue 16): runs_list builds its page as json in
// SQL, and GET /runs and POST /runs/query-by-objectives send that text as the
// response body untouched. The values are the ones the jsonb builders give
// (each item equals GET /runs/<id>, built by private.run_json), the body is
// byte for byte the text the database wrote, and the handlers never ask for a
// parsed page (the other list routes: test/http/list_pages.test.ts). And
// select= on GET /runs: only the named top-level fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createGateway } from '../../scripts/lib/gateway.ts';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';

const ORDER = { field: { kind: 'column', name: 'created_at' }, dir: 'desc' };

describe.each(ADAPTERS)('run pages as JSON text through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter);
    for (let i = 0; i < 7; i++) {
      const run_id = `page_${i}`;
      const config = {
        training: { batch_size: 32 * (i + 1), learning_rate: 1e-4 * (i + 1), gradient_method: i % 2 ? 'mgda' : 'pcgrad', beta: 0.1 },
        objectives: [
          { name: 'COMT_activity', alias: 'COMT_activity_maximize', weight: 1.5, direction: 'maximize', params: { uniprot: 'P21964' } },
          { name: 'QED', alias: 'QED_maximize', weight: 0.25, direction: 'maximize' },
        ],
        notes: `quotes ' " \\ $$ \u2028 ñ 😀 ${'x'.repeat(i * 300)}`,
        exact: [1.0, 0.1, 1e21, -0, 123456789012345],
      };
      const created = await h.request('/runs', { method: 'POST', json: { run_id, config, host: 'ec2', metadata: { i, tag: `t'${i}` } } });
      expect(created.status).toBe(201);
      if (i % 3 !== 0) continue;
      for (const status of ['running', 'completed']) {
        const res = await h.request(`/runs/${run_id}/status`, {
          method: 'PATCH',
          json: status === 'completed'
            ? { status, final_metrics: { 'objectives/COMT_activity_maximize/raw_mean': 0.25 * i, 'train/loss': 1 / (i + 1) } }
            : { status },
        });
        expect(res.status).toBe(200);
      }
    }
  });
  afterAll(() => h.close());

  const caller = () => ({ claims: { role: 'authenticated' as const, sub: h.users.alice }, token: h.tokens.alice });

  it('answers the page the database wrote, byte for byte, as application/json', async () => {
    const res = await h.request('/runs?limit=3');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.text();
    const text = await h.db.rpcText('runs_list', { p_limit: 3, p_order: ORDER }, caller());
    expect(body).toBe(text);
    // The same value as the parsed path gives.
    expect(JSON.parse(body)).toEqual(await h.db.rpc('runs_list', { p_limit: 3, p_order: ORDER }, caller()));
  });

  it('gives every item the value GET /runs/<id> gives (the jsonb builder), across pages, with the same cursors', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await h.request(`/runs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const page = await json<{ items: { run_id: string }[]; next_cursor: string | null }>(res);
      expect(Object.keys(page).sort()).toEqual(['items', 'next_cursor']);
      for (const item of page.items) {
        seen.push(item.run_id);
        expect(item).toEqual(await json(await h.request(`/runs/${item.run_id}`)));
      }
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['page_6', 'page_5', 'page_4', 'page_3', 'page_2', 'page_1', 'page_0']);
    // An empty page.
    expect(await json(await h.request('/runs?status=failed'))).toEqual({ items: [], next_cursor: null });
    // query-by-objectives: the same items.
    const res = await h.request('/runs/query-by-objectives', { method: 'POST', json: { objectives: { COMT_activity: { min: 0.5 } } } });
    expect(res.status).toBe(200);
    const page = await json<{ items: { run_id: string }[]; next_cursor: string | null }>(res);
    expect(page.items.map((r) => r.run_id)).toEqual(['page_6', 'page_3']);
    for (const item of page.items) expect(item).toEqual(await json(await h.request(`/runs/${item.run_id}`)));
  });

  it('answers the same page under an Idempotency-Key (public.idempotent_call), first and replayed', async () => {
    const body = { objectives: { COMT_activity: { min: 0 } }, limit: 1 };
    const plain = await h.request('/runs/query-by-objectives', { method: 'POST', json: body });
    expect(plain.status).toBe(200);
    const expected = await json(plain);
    for (const replayed of [false, true]) {
      const res = await h.request('/runs/query-by-objectives', { method: 'POST', json: body, headers: { 'idempotency-key': 'page-text-1' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await json(res), `replayed: ${replayed}`).toEqual(expected);
    }
  });

  it('never asks the database port for a parsed page', async () => {
    const noParsedLists: Db = {
      rpc: (fn, ...rest) => fn === 'runs_list' ? Promise.reject(new Error('a parsed page was asked for')) : h.db.rpc(fn, ...rest),
      rpcText: (...args) => h.db.rpcText(...args),
      close: async () => {},
    };
    const gateway = createGateway({ db: noParsedLists, log: () => {} });
    const get = (path: string, init: RequestInit = {}) => gateway.fetch(new Request(`http://localhost/functions/v1${path}`, {
      ...init, headers: { authorization: `Bearer ${h.tokens.alice}`, 'content-type': 'application/json' },
    }));
    expect((await get('/runs?limit=2')).status).toBe(200);
    expect((await get('/runs/query-by-objectives', { method: 'POST', body: '{"objectives":{"COMT_activity":{"min":0}}}' })).status).toBe(200);
  });

  it('select= answers only the named fields, in that order, with the values of the full item, across pages', async () => {
    const full = await json<{ items: Record<string, unknown>[] }>(await h.request('/runs?limit=10'));
    const byId = new Map(full.items.map((r) => [r.run_id, r]));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await h.request(`/runs?limit=3&order_by=run_id.asc&select=run_id,status,final_metrics_json,objectives${
        cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const page = await json<{ items: Record<string, unknown>[]; next_cursor: string | null }>(res);
      for (const item of page.items) {
        expect(Object.keys(item)).toEqual(['run_id', 'status', 'final_metrics_json', 'objectives']);
        const whole = byId.get(item.run_id)!;
        expect(item).toEqual({ run_id: whole.run_id, status: whole.status, final_metrics_json: whole.final_metrics_json, objectives: whole.objectives });
        seen.push(String(item.run_id));
      }
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...byId.keys()].sort());
    const bare = await json<{ items: Record<string, unknown>[] }>(await h.request('/runs?select=%20config_file_path%20,run_id'));
    expect(bare.items).toHaveLength(7);
    for (const item of bare.items) {
      expect(Object.keys(item)).toEqual(['config_file_path', 'run_id']);
      expect(item).not.toHaveProperty('config_json');
    }
    // Without select=, every field (config_json among them).
    expect(full.items[0]).toHaveProperty('config_json');
    expect(full.items[0]).toHaveProperty('objectives');
  });

  it('select= refuses an unknown, empty or repeated field with a 400 naming it, whatever the text', async () => {
    const refused = async (select: string, detail: RegExp) => {
      const res = await h.request(`/runs?select=${encodeURIComponent(select)}`);
      expect(res.status, select).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = await json<{ detail: string }>(res);
      expect(problem.detail, select).toMatch(detail);
    };
    await refused('run_id,final_metrics', /unknown field final_metrics; a run has run_id, .*final_metrics_json.*objectives/);
    await refused('run_id,,status', /empty field/);
    await refused('run_id,status,run_id', /names run_id twice/);
    await refused('Run_ID', /unknown field Run_ID/);
    await refused('run_id) s; drop table public.training_runs; --', /unknown field run_id\) s; drop table/);
    await refused("run_id', (select 1) as \"x", /unknown field/);
    await refused('r.*', /unknown field r\.\*/);
    await refused('*', /unknown field \*/);
    expect((await h.request('/runs?select=')).status).toBe(400);
    expect((await h.request('/runs?select=' + 'a'.repeat(2001))).status).toBe(400);
    // Nothing was dropped.
    expect((await json<{ items: unknown[] }>(await h.request('/runs'))).items).toHaveLength(7);
  });
});
