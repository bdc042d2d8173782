// POST /wandb-webhook through both adapters: its own authentication, both
// payload shapes, the delivery log, idempotency, the newest-report guard and
// all-or-nothing application.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSha256 } from '../../functions/wandb-webhook/signature.ts';
import { asRole } from '../support/as_role.ts';
import { ADAPTERS, createHarness, type Harness, json, WEBHOOK_TOKEN } from '../support/harness.ts';

const SECRET = 'whsec-test-secret';
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

const OBJECTIVES = [{ name: 'COMT_activity', alias: 'COMT_activity_maximize', direction: 'maximize' }];

describe.each(ADAPTERS)('wandb-webhook through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(adapter); });
  afterAll(() => h.close());

  const deliver = (body: unknown, init: { token?: string | null; headers?: Record<string, string>; raw?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? WEBHOOK_TOKEN}`);
    headers.set('content-type', 'application/json');
    return h.request('/wandb-webhook', { method: 'POST', token: null, headers, body: init.raw ?? JSON.stringify(body) });
  };
  const deliveries = (runId?: string) => h.database.client.query<{ outcome: string; event_type: string; error: string | null; run_id: string | null }>(
    `select outcome, event_type, error, run_id from public.webhook_deliveries ${runId ? 'where run_id = $1' : ''} order by id`, runId ? [runId] : []);
  const run = async (id: string) => json(await h.request(`/runs/${id}`, { token: h.tokens.service }));
  const report = (run_id: string, state: string, summary: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    ({ run_id, state, summary, ...extra });

  it('serves its OpenAPI document without a token', async () => {
    const res = await h.request('/wandb-webhook/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(Object.keys((await json(res)).paths)).toEqual(['/wandb-webhook']);
  });

  it('refuses a missing or wrong token with 401 and stores nothing', async () => {
    const before = (await deliveries()).length;
    expect((await deliver(report('x1', 'RUNNING', {}), { token: null })).status).toBe(401);
    expect((await deliver(report('x1', 'RUNNING', {}), { token: 'wrong' })).status).toBe(401);
    expect((await deliver(report('x1', 'RUNNING', {}), { token: h.tokens.service })).status).toBe(401); // a JWT is not the webhook token
    expect((await deliver(null, { raw: '{not json' , token: 'wrong' })).status).toBe(401);
    expect(await deliveries()).toHaveLength(before);
  });

  it('creates a run from a wrapper report, fills metrics, columns and objectives in one go', async () => {
    const id = `wb_${adapter}_1`;
    const res = await deliver(report(id, 'FINISHED', {
      'objectives/COMT_activity_maximize/raw_mean': 0.87, 'train/loss': 0.31, _step: 5000, _runtime: 7200, _timestamp: 1_790_000_000,
      'custom/metric': 'kept',
    }, { wandb_run_id: `wbid_${adapter}_1`, wandb_url: 'https://wandb.ai/team/proj/runs/abc', config: { training: { gradient_method: 'mgda' }, objectives: OBJECTIVES } }));
    expect(res.status).toBe(201);
    expect(await json(res)).toMatchObject({ outcome: 'created', run_id: id });
    const r = await run(id);
    expect(r).toMatchObject({
      status: 'completed', gradient_method: 'mgda', final_loss: 0.31, total_training_steps: 5000, duration_seconds: 7200,
      wandb_run_id: `wbid_${adapter}_1`, wandb_url: 'https://wandb.ai/team/proj/runs/abc', wandb_reported_at: '2026-09-21T14:13:20+00:00',
    });
    expect(r.final_metrics_json['custom/metric']).toBe('kept');
    expect(r.objectives[0]).toMatchObject({ objective_name: 'COMT_activity', raw_mean: 0.87 });
  });

  it('changes nothing on re-delivery, and an older report never overwrites a newer one', async () => {
    const id = `wb_${adapter}_1`;
    const before = await run(id);
    const again = await deliver(report(id, 'FINISHED', {
      'objectives/COMT_activity_maximize/raw_mean': 0.87, 'train/loss': 0.31, _step: 5000, _runtime: 7200, _timestamp: 1_790_000_000,
      'custom/metric': 'kept',
    }, { wandb_run_id: `wbid_${adapter}_1`, wandb_url: 'https://wandb.ai/team/proj/runs/abc', config: { training: { gradient_method: 'mgda' }, objectives: OBJECTIVES } }));
    expect(again.status).toBe(200);
    expect((await json(again)).outcome).toBe('duplicate');
    const older = await deliver(report(id, 'FINISHED', { 'train/loss': 9.9, _timestamp: 1_789_999_000 }));
    expect((await json(older)).outcome).toBe('stale');
    expect(await run(id)).toEqual(before);
    expect((await deliveries(id)).map((d) => d.outcome)).toEqual(['created', 'duplicate', 'stale']);
    // a newer one lands
    const newer = await deliver(report(id, 'FINISHED', { 'train/loss': 0.29, _timestamp: 1_790_000_100 }));
    expect((await json(newer)).outcome).toBe('applied');
    expect(await run(id)).toMatchObject({ final_loss: 0.29, wandb_reported_at: '2026-09-21T14:15:00+00:00' });
  });

  it('moves a registered run through W&B automation RUN_STATE events', async () => {
    const id = `wb_${adapter}_2`;
    expect((await h.request('/runs', { method: 'POST', json: { run_id: id, config: {}, wandb_run_id: `wbid_${adapter}_2` } })).status).toBe(201);
    const event = (state: string, extra: Record<string, unknown> = {}) => ({
      event_type: 'RUN_STATE', event_author: 'ana', entity_name: 'team', project_name: 'molecules', wandb_run_id: `wbid_${adapter}_2`, state, ...extra,
    });
    expect(await json(await deliver(event('running')))).toMatchObject({ outcome: 'applied', run_id: id });
    expect((await run(id)).status).toBe('running');
    expect(await json(await deliver(event('KILLED')))).toMatchObject({ outcome: 'applied' });
    expect((await run(id)).status).toBe('failed');
    // a late RUNNING is history, not a move
    expect(await json(await deliver(event('RUNNING', { note: 'late' })))).toMatchObject({ outcome: 'stale' });
    expect((await run(id)).status).toBe('failed');
    // metrics events merge values; artifact events are recorded
    expect(await json(await deliver({ event_type: 'RUN_METRIC', run_id: id, metrics: { 'eval/acc': 0.9 } }))).toMatchObject({ outcome: 'applied' });
    expect((await run(id)).final_metrics_json).toEqual({ 'eval/acc': 0.9 });
    expect(await json(await deliver({ event_type: 'ADD_ARTIFACT_ALIAS', run_id: id, alias: 'production', artifact_version_string: 'team/molecules/model:v3' })))
      .toMatchObject({ outcome: 'recorded' });
    // CRASHED maps to crashed
    const id3 = `wb_${adapter}_3`;
    await h.request('/runs', { method: 'POST', json: { run_id: id3, config: {} } });
    await deliver({ event_type: 'RUN_STATE', run_id: id3, state: 'CRASHED' });
    expect((await run(id3)).status).toBe('crashed');
  });

  it('keeps an event for an unknown run as unmatched (202), and creates runs only with enough to do so', async () => {
    const res = await deliver({ event_type: 'RUN_STATE', wandb_run_id: 'never-registered', state: 'RUNNING' });
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ outcome: 'unmatched' });
    const noConfig = await deliver({ event_type: 'RUN_STATE', run_id: `wb_${adapter}_ghost`, state: 'RUNNING' });
    expect(noConfig.status).toBe(202);
    expect((await h.request(`/runs/wb_${adapter}_ghost`)).status).toBe(404);
    const withConfig = await deliver({ event_type: 'RUN_STATE', run_id: `wb_${adapter}_4`, state: 'RUNNING', config: { seed: 1 } });
    expect(withConfig.status).toBe(201);
    expect(await run(`wb_${adapter}_4`)).toMatchObject({ status: 'running', seed: 1 });
  });

  it('leaves no partial write when a delivery fails mid-way, and keeps it as failed', async () => {
    // an illegal move: failed -> completed
    const id = `wb_${adapter}_2`;
    const before = await run(id);
    const res = await deliver(report(id, 'FINISHED', { 'train/loss': 1.5 }));
    expect(res.status).toBe(409);
    expect((await json(res)).detail).toMatch(/kept as failed: illegal status transition/);
    expect(await run(id)).toEqual(before);
    // creating a run whose config is refused: the run is not left behind
    const bad = await deliver(report(`wb_${adapter}_5`, 'RUNNING', {}, { config: { objectives: [{ alias: 'no-name' }] } }));
    expect(bad.status).toBe(400);
    expect((await h.request(`/runs/wb_${adapter}_5`)).status).toBe(404);
    expect((await deliveries(`wb_${adapter}_5`)).map((d) => d.outcome)).toEqual(['failed']);
  });

  it('rejects bad payloads with 400 and keeps them as rejected', async () => {
    const before = (await deliveries()).length;
    const cases: [unknown, string?][] = [
      [null, '{"run_id": '],
      [{ event_type: 'RUN_EXPLODED', run_id: 'x' }],
      [{ run_id: 'x', state: 'SLEEPING', summary: {} }],
      [{ run_id: 'bad id!', state: 'RUNNING', summary: {} }],
      [{ run_id: 'x', state: 'RUNNING', summary: [1, 2] }],
      [{ run_id: 'x', state: 'RUNNING' }],
      [{ run_id: 'x', state: 'RUNNING', summary: {}, wandb_url: 'ftp://x' }],
      [[1, 2, 3]],
      ['just a string'],
    ];
    for (const [body, raw] of cases) {
      const res = await deliver(body, { raw });
      expect(res.status, raw ?? JSON.stringify(body)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    const rows = (await deliveries()).slice(before);
    expect(rows.map((r) => r.outcome)).toEqual(cases.map(() => 'rejected'));
    expect(rows[0]!.error).toBe('malformed JSON');
    const big = await deliver(null, { raw: JSON.stringify({ run_id: 'x', state: 'RUNNING', summary: { blob: 'x'.repeat(1024 * 1024) } }) });
    expect(big.status).toBe(413);
  });

  it('keeps webhook_deliveries for the service role only', async () => {
    const as = (role: 'anon' | 'authenticated' | 'service_role', sql: string) =>
      asRole(h.database.client, role, role === 'authenticated' ? h.users.alice : null, sql);
    await expect(as('authenticated', 'select * from public.webhook_deliveries')).rejects.toMatchObject({ code: '42501' });
    await expect(as('authenticated', `insert into public.webhook_deliveries (payload, payload_sha256, outcome) values ('{}', repeat('a', 64), 'applied')`))
      .rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', 'select * from public.webhook_deliveries')).rejects.toMatchObject({ code: '42501' });
    await expect(as('authenticated', `select public.wandb_ingest('report', '{}')`)).rejects.toMatchObject({ code: '42501' });
    expect((await as('service_role', 'select count(*)::int as n from public.webhook_deliveries'))[0]).toMatchObject({ n: expect.any(Number) });
  });

  it('applies the same payload once when two deliveries race', async () => {
    const body = report(`wb_${adapter}_race`, 'RUNNING', { _timestamp: 1_790_000_000, 'train/loss': 1 }, { config: {} });
    const results = await Promise.all([deliver(body), deliver(body)]);
    const outcomes = (await Promise.all(results.map((r) => json(r)))).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['created', 'duplicate']);
  });
});

describe('wandb-webhook with a signing secret', () => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness('sql', { wandb: { token: WEBHOOK_TOKEN, secret: SECRET } }); });
  afterAll(() => h.close());
  const post = (body: string, signature?: string) => h.request('/wandb-webhook', {
    method: 'POST', token: null, body,
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json', ...(signature ? { 'x-wandb-signature': signature } : {}) },
  });

  it('requires X-Wandb-Signature, the HMAC-SHA256 of the raw body, in hex or base64', async () => {
    const body = JSON.stringify({ event_type: 'RUN_STATE', wandb_run_id: 'nobody', state: 'RUNNING' });
    const mac = await hmacSha256(SECRET, body);
    expect((await post(body)).status).toBe(401);
    expect((await post(body, hex(await hmacSha256('other', body)))).status).toBe(401);
    expect((await post(`${body} `, hex(mac))).status).toBe(401); // the body changed after signing
    expect((await post(body, 'not-a-signature')).status).toBe(401);
    const [{ n }] = await h.database.client.query<{ n: number }>('select count(*)::int as n from public.webhook_deliveries') as [{ n: number }];
    expect(n).toBe(0);
    expect((await post(body, hex(mac))).status).toBe(202);
    expect((await post(body, `sha256=${hex(mac).toUpperCase()}`)).status).toBe(202);
    expect((await post(body, b64(mac))).status).toBe(202);
  });
});

describe('wandb-webhook without a configured token', () => {
  it('answers 503 and stores nothing', async () => {
    const h = await createHarness('sql', { wandb: {} });
    try {
      const res = await h.request('/wandb-webhook', { method: 'POST', token: null, json: { run_id: 'x', state: 'RUNNING', summary: {} },
        headers: { authorization: 'Bearer anything' } });
      expect(res.status).toBe(503);
      expect((await json(res)).detail).toMatch(/WANDB_WEBHOOK_TOKEN/);
    } finally {
      await h.close();
    }
  });
});
