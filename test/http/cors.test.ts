// CORS on every function and on the gateway's own 404: preflight answered
// before auth and body checks, and every answer (errors included) readable by
// a page on another origin. The real browser's view is test/http/browser.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFunctionApp } from '../../functions/_shared/http/app.ts';
import { CORS_MAX_AGE_SECONDS } from '../../functions/_shared/http/cors.ts';
import { FUNCTIONS } from '../../scripts/lib/functions.ts';
import { createHarness, type Harness, json, WEBHOOK_TOKEN } from '../support/harness.ts';

const PAGE = 'http://127.0.0.1:3000';
const NAMES = Object.keys(FUNCTIONS);

const preflight = (h: Harness, path: string, method: string, origin = PAGE) => h.request(path, {
  method: 'OPTIONS', token: null,
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, apikey, content-type, x-client-info, x-request-id' },
});

/** What a page on another origin needs to read an answer. */
function expectReadable(res: Response, origin = '*') {
  expect(res.headers.get('access-control-allow-origin'), `${res.status} ${res.url}`).toBe(origin);
  const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim());
  expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'content-disposition']));
}

describe('CORS with the default (any origin)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql', { bodyLimitBytes: 64 * 1024 });
  });
  afterAll(() => h.close());

  it.each(NAMES)('%s answers preflight with 204 before auth, naming its methods and the headers supabase-js sends', async (name) => {
    const doc = await json(await h.request(`/${name}/openapi.json`, { token: null }));
    const methods = new Set(Object.values(doc.paths as Record<string, Record<string, unknown>>).flatMap((ops) => Object.keys(ops)).map((m) => m.toUpperCase()));
    // A route with a path parameter, a body and no token: nothing but CORS may answer it.
    const res = await preflight(h, `/${name}/some-id/${'x'.repeat(10)}`, [...methods][0]!);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = res.headers.get('access-control-allow-methods')!.split(',');
    expect(allowed).toEqual(expect.arrayContaining([...methods]));
    expect(res.headers.get('access-control-allow-headers')!.split(',')).toEqual(
      expect.arrayContaining(['authorization', 'apikey', 'content-type', 'x-client-info', 'x-request-id', 'idempotency-key']));
    expect(res.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_SECONDS));
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('every kind of answer is readable: success, 400, 401, 404, 413, 415, the gateway\'s 404', async () => {
    const cases: [Promise<Response>, number][] = [
      [h.request('/runs/stats', { headers: { origin: PAGE } }), 200],
      [h.request('/runs', { method: 'POST', json: { run_id: 5 }, headers: { origin: PAGE } }), 400],
      [h.request('/runs?stauts=completed', { headers: { origin: PAGE } }), 400],
      [h.request('/runs', { token: null, headers: { origin: PAGE } }), 401],
      [h.request('/runs', { token: 'not.a.jwt', headers: { origin: PAGE } }), 401],
      [h.request('/runs/no-such-run', { headers: { origin: PAGE } }), 404],
      [h.request('/packages/nothing/here/at/all', { headers: { origin: PAGE } }), 404],
      [h.request('/runs', { method: 'POST', json: { run_id: 'big', config: { blob: 'x'.repeat(70 * 1024) } }, headers: { origin: PAGE } }), 413],
      [h.request('/runs', { method: 'POST', body: 'run_id=x', headers: { origin: PAGE, 'content-type': 'text/plain' } }), 415],
      [h.request('/wandb-webhook', { method: 'POST', token: 'wrong', json: {}, headers: { origin: PAGE } }), 401],
      [h.request('/wandb-webhook', { method: 'POST', token: WEBHOOK_TOKEN, body: '{', headers: { origin: PAGE, 'content-type': 'application/json' } }), 400],
      [h.request('/no-such-function', { headers: { origin: PAGE } }), 404],
      [h.request('/training-examples/export', { headers: { origin: PAGE } }), 200],
    ];
    for (const [pending, status] of cases) {
      const res = await pending;
      expect(res.status).toBe(status);
      expectReadable(res);
      await res.arrayBuffer();
    }
  });

  it('the gateway\'s own 404 answers preflight too, and lists every function with its API reference', async () => {
    const res = await preflight(h, '/nowhere', 'GET');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const missing = await h.request('/', { token: null });
    const problem = await json(missing);
    expect(problem.functions.map((f: { name: string }) => f.name)).toEqual(NAMES);
    expect(problem.functions[0]).toEqual({
      name: 'runs', url: '/functions/v1/runs', docs: '/functions/v1/runs/docs', openapi: '/functions/v1/runs/openapi.json',
    });
    expect(problem.detail).toContain('/functions/v1/<name>/docs');
  });
});

describe('CORS with a list of allowed origins', () => {
  let h: Harness;
  const APP = 'https://app.example.com';
  beforeAll(async () => {
    h = await createHarness('sql', { corsAllowedOrigins: `${APP}/, https://admin.example.com` });
  });
  afterAll(() => h.close());

  it('echoes a listed origin with Vary: Origin, and gives any other origin nothing to read', async () => {
    const allowed = await preflight(h, '/runs', 'POST', APP);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    expect(allowed.headers.get('vary')).toContain('Origin');
    const answer = await h.request('/runs/stats', { headers: { origin: APP } });
    expectReadable(answer, APP);
    expect(answer.headers.get('vary')).toContain('Origin');
    const refused = await h.request('/runs', { token: null, headers: { origin: 'https://evil.example.net' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const otherPreflight = await preflight(h, '/runs', 'GET', 'https://evil.example.net');
    expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS_ALLOWED_ORIGINS', () => {
  afterEach(() => vi.unstubAllEnvs());
  const db = { rpc: async <T>() => ({}) as T, rpcText: async () => '{}', close: async () => {} };
  const origin = async (allowed: string | undefined, from: string) => {
    vi.stubEnv('CORS_ALLOWED_ORIGINS', allowed ?? '');
    const app = createFunctionApp('probe', { db, log: () => {} }, { auth: 'none', title: 'probe' });
    app.get('/', (c) => c.json({}));
    return (await app.request('/probe', { headers: { origin: from } })).headers.get('access-control-allow-origin');
  };

  it('is read from the environment: unset means any origin, a list means those, * in a list means any', async () => {
    expect(await origin(undefined, 'http://localhost:5173')).toBe('*');
    expect(await origin('http://localhost:5173,https://app.example.com', 'https://app.example.com')).toBe('https://app.example.com');
    expect(await origin('http://localhost:5173,https://app.example.com', 'https://other.example.com')).toBeNull();
    expect(await origin('https://app.example.com, *', 'https://other.example.com')).toBe('*');
  });
});
