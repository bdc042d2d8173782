// Unknown query parameters are a 400 naming them, on every route of every
// function: the routes are read from each function's own OpenAPI document, so
// a route added later is covered without touching this file.
import { createRoute, z } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFunctionApp } from '../../functions/_shared/http/app.ts';
import { FUNCTIONS } from '../../scripts/lib/functions.ts';
import { createHarness, type Harness, json, WEBHOOK_TOKEN } from '../support/harness.ts';

describe('unknown query parameters', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  it('?stauts=completed is a 400 naming it and the parameters GET /runs takes, not every run', async () => {
    const res = await h.request('/runs?stauts=completed');
    expect(res.status).toBe(400);
    const problem = await json(res);
    expect(problem.detail).toMatch(/^unknown query parameter: stauts \(this route takes: status, host, .*cursor, select\)$/);
    expect(problem.errors).toEqual([{ path: 'stauts', message: 'unknown query parameter' }]);
    const two = await json(await h.request('/runs/stats?a=1&b=2&a=3'));
    expect(two.detail).toBe('unknown query parameters: a, b (this route takes: none)');
    expect((await h.request('/runs?status=completed&limit=5')).status).toBe(200);
  });

  it.each(Object.keys(FUNCTIONS))('every route of %s refuses one', async (name) => {
    const doc = await json(await h.request(`/${name}/openapi.json`, { token: null }));
    const token = name === 'wandb-webhook' ? WEBHOOK_TOKEN : h.tokens.service;
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => [method.toUpperCase(), path] as const));
    expect(operations.length).toBeGreaterThan(0);
    for (const [method, path] of [...operations, ['GET', `/${name}/openapi.json`] as const, ['GET', `/${name}/docs`] as const]) {
      const url = `${path.replace(/^\/functions\/v1/, '').replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000')}?not_a_parameter=1`;
      const res = await h.request(url, { method, token, ...(method === 'GET' || method === 'DELETE' ? {} : { json: {} }) });
      expect(res.status, `${method} ${url}`).toBe(400);
      expect((await json(res)).detail, `${method} ${url}`).toMatch(/^unknown query parameter: not_a_parameter \(this route takes: /);
    }
  });

  it('a route whose query schema is open-ended (z.looseObject) takes any parameter', async () => {
    const db = { rpc: async <T>() => ({}) as T, rpcText: async () => '{}', close: async () => {} };
    const app = createFunctionApp('probe', { db, log: () => {} }, { auth: 'none', title: 'probe' });
    const query = z.looseObject({ known: z.string().optional() });
    app.openapi(createRoute({
      method: 'get', path: '/open', description: 'takes any query parameter, e.g. metric filters', request: { query },
      responses: { 200: { description: 'the parameters given', content: { 'application/json': { schema: z.record(z.string(), z.string()) } } } },
    }), (c) => c.json(c.req.valid('query') as Record<string, string>, 200));
    app.openapi(createRoute({
      method: 'get', path: '/closed', request: { query: z.object({ known: z.string().optional() }) },
      responses: { 200: { description: 'ok' } },
    }), (c) => c.body(null, 200));
    const open = await app.request('/probe/open?known=1&metric.loss=0.5');
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ known: '1', 'metric.loss': '0.5' });
    expect((await app.request('/probe/closed?known=1&metric.loss=0.5')).status).toBe(400);
  });
});
