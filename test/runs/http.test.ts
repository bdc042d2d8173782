// The runs function end to end through the local gateway, once per database
// adapter: sql (direct) and supabase (real supabase-js against a PostgREST double).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';

const config = (over: Record<string, unknown> = {}) => ({
  training: { batch_size: 64, learning_rate: 0.001, beta: 0.04, gradient_method: 'mgda', num_gpus: 4, ...over },
  objectives: [{ name: 'COMT_activity', alias: 'COMT_activity_maximize' }, { name: 'QED' }],
});
let seq = 0;
const newId = (prefix = 'run') => `${prefix}_${Date.now().toString(36)}_${seq++}`;

describe.each(ADAPTERS)('runs through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter, { bodyLimitBytes: 64 * 1024 });
  });
  afterAll(() => h.close());

  const create = (body: Record<string, unknown>, token?: string) =>
    h.request('/runs', { method: 'POST', json: body, token });

  describe('POST /runs', () => {
    it('creates a run with its config kept whole and hyperparameters extracted', async () => {
      const run_id = newId();
      const res = await create({ run_id, config: config(), run_name: 'mgda test', host: 'ec2', instance_id: 'i-1', chain_of_custody_id: 'XYZ789' });
      expect(res.status).toBe(201);
      const run = await json(res);
      expect(run).toMatchObject({
        run_id, status: 'launched', run_name: 'mgda test', host: 'ec2', instance_id: 'i-1', chain_of_custody_id: 'XYZ789',
        batch_size: 64, learning_rate: 0.001, beta: 0.04, gradient_method: 'mgda', num_gpus: 4, num_objectives: 2,
        created_by: h.users.alice, final_metrics_json: null,
      });
      expect(run.config_json).toEqual(config());
      expect(run.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$/);
      const got = await h.request(`/runs/${run_id}`);
      expect(got.status).toBe(200);
      expect(await json(got)).toEqual(run);
    });

    it('reads hyperparameters at the top level too, and numeric strings as numbers', async () => {
      const run_id = newId();
      const res = await create({ run_id, config: { batch_size: '32', learning_rate: '3e-4', gradient_method: 'pcgrad', num_gpus: 2.5, num_objectives: 3 } });
      expect(await json(res)).toMatchObject({ batch_size: 32, learning_rate: 0.0003, gradient_method: 'pcgrad', num_gpus: null, num_objectives: 3 });
    });

    it('answers a retry of the same launch with 200 and the stored run; different content is 409', async () => {
      const run_id = newId();
      const body = { run_id, config: config(), host: 'ec2' };
      const first = await json(await create(body));
      const again = await create(body);
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual(first);
      const different = await create({ ...body, config: config({ batch_size: 8 }) });
      expect(different.status).toBe(409);
      expect((await json(different)).detail).toContain('already exists');
      expect(await json(await h.request(`/runs/${run_id}`))).toEqual(first);
    });

    it('races two identical launches: one 201, one 200, one row', async () => {
      const run_id = newId();
      const body = { run_id, config: config() };
      const statuses = (await Promise.all([create(body), create(body)])).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 201]);
    });

    it('refuses reserved route words and malformed ids as run_id', async () => {
      for (const run_id of ['stats', 'objectives', 'a/b', '', ' x', 'x'.repeat(201)]) {
        const res = await create({ run_id, config: {} });
        expect(res.status, run_id).toBe(400);
        expect((await json(res)).errors[0].path).toBe('run_id');
      }
    });

    it('names every invalid field', async () => {
      const res = await create({ run_id: 5, config: [], host: '', extra: true });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = await json(res);
      expect(problem).toMatchObject({ status: 400, title: 'Bad Request', code: 'invalid_request' });
      expect(problem.errors.map((e: { path: string }) => e.path).sort()).toEqual(['', 'config', 'host', 'run_id']);
    });

    it('reports missing fields', async () => {
      const problem = await json(await create({}));
      expect(problem.errors.map((e: { path: string }) => e.path).sort()).toEqual(['config', 'run_id']);
    });

    it('rejects malformed JSON (400), non-JSON (415) and oversized bodies (413)', async () => {
      const malformed = await h.request('/runs', { method: 'POST', body: '{"run_id":', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      const text = await h.request('/runs', { method: 'POST', body: 'run_id=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(text.status).toBe(415);
      const big = await create({ run_id: newId(), config: { blob: 'x'.repeat(70 * 1024) } });
      expect(big.status).toBe(413);
      expect((await json(big)).code).toBe('payload_too_large');
    });

    it('lets the service role create runs (launch scripts) with no owner', async () => {
      const res = await create({ run_id: newId('svc'), config: config() }, h.tokens.service);
      expect(res.status).toBe(201);
      expect((await json(res)).created_by).toBeNull();
    });
  });

  describe('auth', () => {
    it('405 naming the methods a path answers (Allow), 404 for a path nothing answers', async () => {
      const wrong = await h.request(`/runs/${newId()}`, { method: 'DELETE' });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('GET, PATCH');
      expect(await wrong.json()).toMatchObject({ status: 405, code: 'method_not_allowed', detail: expect.stringMatching(/answers GET, PATCH, not DELETE$/) });
      const none = await h.request(`/runs/a/b/c/d`);
      expect(none.status).toBe(404);
      expect(none.headers.get('allow')).toBeNull();
    });

    it('401 without a token, with a bad token, and for anon', async () => {
      expect((await h.request('/runs', { token: null })).status).toBe(401);
      expect((await h.request('/runs', { token: 'not.a.jwt' })).status).toBe(401);
      const anon = await h.request('/runs', { token: h.tokens.anon });
      expect(anon.status).toBe(401);
      // what to send, not which SQL function refused
      expect((await anon.json()).detail).toBe("sign in: this needs a user's token (Authorization: Bearer <JWT>), not the anon key");
      expect((await create({ run_id: newId(), config: {} }, h.tokens.anon)).status).toBe(401);
    });

    it('serves its OpenAPI document without a token', async () => {
      const res = await h.request('/runs/openapi.json', { token: null });
      expect(res.status).toBe(200);
      const doc = await json(res);
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/runs', '/runs/{run_id}', '/runs/{run_id}/status']));
    });

    it('carries x-request-id on every response and logs one line per request', async () => {
      const before = h.logs.length;
      const res = await h.request('/runs/does-not-exist', { headers: { 'x-request-id': 'req-123' } });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBe('req-123');
      const fresh = await h.request('/runs', { token: null });
      expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(h.logs.slice(before)).toEqual([
        expect.objectContaining({ request_id: 'req-123', status: 404, method: 'GET', function: 'runs', role: 'authenticated' }),
        expect.objectContaining({ status: 401 }),
      ]);
    });
  });

  describe('lifecycle', () => {
    it('launched -> running -> completed, with clock defaults and merged metrics', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      const running = await json(await h.request(`/runs/${run_id}/status`, {
        method: 'PATCH', json: { status: 'running', wandb_run_id: `wb_${run_id}`, wandb_url: 'https://wandb.ai/t/p/runs/x' },
      }));
      expect(running).toMatchObject({ status: 'running', wandb_run_id: `wb_${run_id}` });
      expect(running.started_at).not.toBeNull();
      const done = await h.request(`/runs/${run_id}/status`, {
        method: 'PATCH', json: { status: 'completed', final_metrics: { 'train/loss': 0.4, 'objectives/COMT_activity_maximize/raw_mean': 0.86 } },
      });
      expect(done.status).toBe(200);
      const completed = await json(done);
      expect(completed.ended_at).not.toBeNull();
      expect(completed.duration_seconds).toBeGreaterThanOrEqual(0);
      expect(completed.final_metrics_json).toEqual({ 'train/loss': 0.4, 'objectives/COMT_activity_maximize/raw_mean': 0.86 });

      // the same status again is a no-op
      const again = await json(await h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status: 'completed' } }));
      expect(again).toEqual(completed);
    });

    it('refuses illegal moves with 409 naming the current status', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      await h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status: 'failed' } });
      for (const status of ['running', 'launched', 'completed', 'crashed']) {
        const res = await h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status } });
        expect(res.status, status).toBe(409);
        expect((await json(res)).detail).toContain('is failed');
      }
    });

    it('takes explicit timestamps and rejects an end before the start', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      const ok = await json(await h.request(`/runs/${run_id}/status`, {
        method: 'PATCH', json: { status: 'completed', started_at: '2026-01-01T00:00:00Z', ended_at: '2026-01-01T02:00:00Z' },
      }));
      expect(ok).toMatchObject({ duration_seconds: 7200 });
      expect(ok.started_at).toMatch(/^2026-01-01T00:00:00/);
      const other = newId();
      await create({ run_id: other, config: config() });
      const bad = await h.request(`/runs/${other}/status`, {
        method: 'PATCH', json: { status: 'completed', started_at: '2026-01-02T00:00:00Z', ended_at: '2026-01-01T00:00:00Z' },
      });
      expect(bad.status).toBe(400);
    });

    it('takes explicit nulls as "not given", as the seeds pass None (launch, status, crash)', async () => {
      const run_id = newId();
      const launched = await create({ run_id, config: config(), wandb_run_id: null, chain_of_custody_id: null, run_name: null, host: null });
      expect(launched.status).toBe(201);
      expect(await json(launched)).toMatchObject({ wandb_run_id: null, run_name: null, host: null, status: 'launched' });
      const running = await h.request(`/runs/${run_id}/status`, {
        method: 'PATCH', json: { status: 'running', started_at: null, wandb_run_id: null, wandb_url: null, final_metrics: null, final_loss: null },
      });
      expect(running.status).toBe(200);
      expect((await json(running)).started_at).not.toBeNull();
      const crashed = await h.request(`/runs/${run_id}/crash`, { method: 'POST', json: { error_log_s3_key: 'logs/e.log', crash_report_s3_key: null, error_message: null } });
      expect(await json(crashed)).toMatchObject({ status: 'crashed', error_log_s3_key: 'logs/e.log', crash_report_s3_key: null });
    });

    it('stores the metric columns a status update names under their W&B summary keys', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      const res = await h.request(`/runs/${run_id}/status`, {
        method: 'PATCH',
        json: { status: 'completed', final_metrics: { 'train/loss': 0.31, lr: 0.001 }, final_loss: 0.31, final_reward: 1.5, total_training_steps: 1200, wandb_runtime_seconds: 3605.5 },
      });
      expect(res.status).toBe(200);
      const run = await json(res);
      // The columns are generated from final_metrics_json: reading them back proves the keys are the database's.
      expect(run).toMatchObject({ final_loss: 0.31, final_reward: 1.5, total_training_steps: 1200, wandb_runtime_seconds: 3605.5 });
      expect(run.final_metrics_json).toEqual({ 'train/loss': 0.31, lr: 0.001, 'train/reward': 1.5, _step: 1200, _runtime: 3605.5 });

      const other = newId();
      await create({ run_id: other, config: config() });
      const disagree = await h.request(`/runs/${other}/status`, {
        method: 'PATCH', json: { status: 'completed', final_metrics: { 'train/loss': 0.5 }, final_loss: 0.4, total_training_steps: -1 },
      });
      expect(disagree.status).toBe(400);
      expect((await json(disagree)).errors.map((e: { path: string }) => e.path)).toEqual(['total_training_steps']);
      const conflicting = await h.request(`/runs/${other}/status`, {
        method: 'PATCH', json: { status: 'completed', final_metrics: { 'train/loss': 0.5 }, final_loss: 0.4 },
      });
      expect(conflicting.status).toBe(400);
      expect(await json(conflicting)).toMatchObject({ errors: [{ path: 'final_loss' }] });
      expect((await json(await h.request(`/runs/${other}`))).status).toBe('launched');
    });

    it('validates the status body', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      const res = await h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status: 'done', duration_seconds: -1, final_metrics: 3 } });
      expect(res.status).toBe(400);
      expect((await json(res)).errors.map((e: { path: string }) => e.path).sort()).toEqual(['duration_seconds', 'final_metrics', 'status']);
    });

    it('404 for an unknown run on every route', async () => {
      const id = newId('missing');
      const calls: [string, string, unknown?][] = [
        ['GET', `/runs/${id}`], ['PATCH', `/runs/${id}/status`, { status: 'running' }],
        ['POST', `/runs/${id}/crash`, {}], ['PUT', `/runs/${id}/blog-post`, { url: 'https://x.dev/p' }],
        ['PUT', `/runs/${id}/conversation`, { s3_key: 'c/k.json' }],
      ];
      for (const [method, path, body] of calls) {
        const res = await h.request(path, { method, json: body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect((await json(res)).detail).toContain('not found');
      }
    });

    it("lets a user read another user's run but not change it (403)", async () => {
      const run_id = newId();
      await create({ run_id, config: config() }, h.tokens.bob);
      expect((await h.request(`/runs/${run_id}`)).status).toBe(200);
      const calls: [string, string, unknown][] = [
        ['PATCH', `/runs/${run_id}/status`, { status: 'running' }], ['POST', `/runs/${run_id}/crash`, {}],
        ['PUT', `/runs/${run_id}/blog-post`, { url: 'https://x.dev/p' }], ['PUT', `/runs/${run_id}/conversation`, { s3_key: 'c/k.json' }],
      ];
      for (const [method, path, body] of calls) {
        expect((await h.request(path, { method, json: body })).status, `${method} ${path}`).toBe(403);
      }
      expect((await json(await h.request(`/runs/${run_id}`))).status).toBe('launched');
      // the service role may
      expect((await h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status: 'running' }, token: h.tokens.service })).status).toBe(200);
    });

    it('races two status changes: the loser sees the winner and gets a clear answer', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      await h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status: 'running' } });
      const [a, b] = await Promise.all([
        h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status: 'completed' } }),
        h.request(`/runs/${run_id}/status`, { method: 'PATCH', json: { status: 'failed' } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const final = await json(await h.request(`/runs/${run_id}`));
      expect(['completed', 'failed']).toContain(final.status);
    });
  });

  describe('attachments', () => {
    it('crash data: status crashed and keys attached in one go; failed stays failed; completed is 409', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      const keys = { error_log_s3_key: `crash-reports/${run_id}/error.log`, crash_report_s3_key: `crash-reports/${run_id}/report.md`,
        crash_analysis_s3_key: `crash-reports/${run_id}/analysis.md`, error_message: 'CUDA OOM' };
      const crashed = await json(await h.request(`/runs/${run_id}/crash`, { method: 'POST', json: keys }));
      expect(crashed).toMatchObject({ status: 'crashed', ...keys });
      expect(crashed.ended_at).not.toBeNull();

      const failedId = newId();
      await create({ run_id: failedId, config: config() });
      await h.request(`/runs/${failedId}/status`, { method: 'PATCH', json: { status: 'failed' } });
      expect(await json(await h.request(`/runs/${failedId}/crash`, { method: 'POST', json: { error_message: 'x' } })))
        .toMatchObject({ status: 'failed', error_message: 'x' });

      const doneId = newId();
      await create({ run_id: doneId, config: config() });
      await h.request(`/runs/${doneId}/status`, { method: 'PATCH', json: { status: 'completed' } });
      const res = await h.request(`/runs/${doneId}/crash`, { method: 'POST', json: keys });
      expect(res.status).toBe(409);
      expect((await json(await h.request(`/runs/${doneId}`))).error_log_s3_key).toBeNull();
    });

    it('validates S3 keys and blog URLs', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      for (const key of ['s3://bucket/key', 'a/../b', '', '/abs/key', 'x'.repeat(1025), 'é'.repeat(513), 'a\nb']) {
        const res = await h.request(`/runs/${run_id}/crash`, { method: 'POST', json: { error_log_s3_key: key } });
        expect(res.status, JSON.stringify(key)).toBe(400);
      }
      for (const url of ['ftp://x.dev/a', 'javascript:alert(1)', 'not a url']) {
        expect((await h.request(`/runs/${run_id}/blog-post`, { method: 'PUT', json: { url } })).status, url).toBe(400);
      }
      expect((await json(await h.request(`/runs/${run_id}`))).status).toBe('launched');
    });

    it('attaches a blog post and a conversation', async () => {
      const run_id = newId();
      await create({ run_id, config: config() });
      expect(await json(await h.request(`/runs/${run_id}/blog-post`, { method: 'PUT', json: { url: 'https://blog.example.com/p/1' } })))
        .toMatchObject({ blog_post_url: 'https://blog.example.com/p/1' });
      expect(await json(await h.request(`/runs/${run_id}/conversation`, { method: 'PUT', json: { s3_key: `conversations/${run_id}.json` } })))
        .toMatchObject({ conversation_s3_key: `conversations/${run_id}.json` });
    });
  });
});

describe('the local gateway', () => {
  it('answers an unknown function with a 404 problem naming the functions it has', async () => {
    const h = await createHarness('sql');
    const res = await h.request('/nope/x');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await json(res)).detail).toContain('runs');
    await h.close();
  });
});
