// List pages as JSON text (issue 16): runs_list builds its page as json in
// SQL, and GET /runs and POST /runs/query-by-objectives send that text as the
// response body untouched. The values are the ones the jsonb builders give
// (each item equals GET /runs/<id>, built by private.run_json), the body is
// byte for byte the text the database wrote, and the handlers never ask for a
// parsed page. The other list routes likewise (last describe).
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
});

describe('every list route sends the page as the database wrote it', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  it('answers each list from rpcText, never from a parsed rpc, with the same value', async () => {
    const created = await h.request('/packages', { method: 'POST', json: { name: 'p', template_type: 'lora_finetuning', config: { lr: 0.1 } } });
    expect(created.status).toBe(201);
    const pkg = await json<{ id: string }>(created);
    expect((await h.request(`/packages/${pkg.id}/versions`, { method: 'POST', json: {} })).status).toBe(201);
    const LISTS = new Set(['runs_list', 'packages_list', 'packages_list_versions', 'conversations_list', 'conversations_review_queue',
      'conversations_list_exports', 'conversations_list_reviewers', 'conversation_library_list', 'training_examples_list']);
    const texts: string[] = [];
    const passthrough: Db = {
      rpc: (fn, ...rest) => LISTS.has(fn) ? Promise.reject(new Error(`a parsed page of ${fn} was asked for`)) : h.db.rpc(fn, ...rest),
      rpcText: async (...args) => {
        const text = await h.db.rpcText(...args);
        texts.push(text);
        return text;
      },
      close: async () => {},
    };
    const gateway = createGateway({ db: passthrough, log: () => {} });
    const paths = ['/runs', '/packages', `/packages/${pkg.id}/versions`, '/conversations', '/conversations/review-queue',
      '/conversations/exports', '/conversations/reviewers', '/conversations/templates', '/conversations/scenarios',
      '/conversations/edge-cases', '/training-examples'];
    for (const path of paths) {
      texts.length = 0;
      const res = await gateway.fetch(new Request(`http://localhost/functions/v1${path}`, { headers: { authorization: `Bearer ${h.tokens.service}` } }));
      const body = await res.text();
      expect(res.status, `${path}: ${body}`).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(texts, path).toEqual([body]);
      // The same value the usual path (served by the harness's own gateway) answers.
      expect(JSON.parse(body), path).toEqual(await json(await h.request(path, { token: h.tokens.service })));
      expect(Object.keys(JSON.parse(body)).sort(), path).toEqual(['items', 'next_cursor']);
    }
  });
});
