// W&B deliveries converge: whatever order they arrive in, late, replayed or
// at the same time, a run ends in the state of its newest report, with one
// audit row per delivery and exactly one `created`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, json, WEBHOOK_TOKEN } from '../support/harness.ts';

const T0 = 1_790_000_000; // epoch seconds
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', '+00:00');

/** A run's reports as a training wrapper sends them: cumulative summaries, each newer than the last. */
const reports = (runId: string) => [
  { run_id: runId, state: 'RUNNING', config: { seed: 1 }, summary: { _timestamp: T0 + 10, _runtime: 10, _step: 1 } },
  { run_id: runId, state: 'RUNNING', config: { seed: 1 }, summary: { _timestamp: T0 + 100, _runtime: 100, _step: 50, 'train/loss': 1.0 } },
  { run_id: runId, state: 'FINISHED', config: { seed: 1 }, summary: { _timestamp: T0 + 200, _runtime: 200, _step: 99, 'train/loss': 0.5, 'eval/acc': 0.9 } },
];

const permutations = <T>(xs: T[]): T[][] =>
  xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

describe('W&B deliveries converge', () => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness('sql'); });
  afterAll(() => h.close());

  const deliver = (body: unknown) => h.request('/wandb-webhook', {
    method: 'POST', token: null, json: body, headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
  });
  const run = async (id: string) => json(await h.request(`/runs/${id}`, { token: h.tokens.service }));
  const outcomes = async (id: string) => (await h.database.client.query<{ outcome: string }>(
    'select outcome from public.webhook_deliveries where run_id = $1 order by id', [id])).map((r) => r.outcome);

  const expectNewest = async (id: string) => {
    expect(await run(id)).toMatchObject({
      status: 'completed', final_loss: 0.5, total_training_steps: 99, started_at: iso(T0), ended_at: iso(T0 + 200),
      duration_seconds: 200, wandb_reported_at: iso(T0 + 200),
      final_metrics_json: { _timestamp: T0 + 200, _runtime: 200, _step: 99, 'train/loss': 0.5, 'eval/acc': 0.9 },
    });
  };

  it('in every order, each delivered twice: the newest report wins, one audit row per delivery, one created', async () => {
    for (const [n, order] of permutations([0, 1, 2]).entries()) {
      const id = `conv_order_${n}`;
      const all = reports(id);
      const sent = [...order, ...order].map((i) => all[i]!);
      for (const body of sent) {
        const res = await deliver(body);
        expect(res.status, `${id}: ${JSON.stringify(body.summary)}`).toBeLessThan(300);
      }
      await expectNewest(id);
      const rows = await outcomes(id);
      expect(rows, id).toHaveLength(sent.length);
      expect(rows.filter((o) => o === 'created'), id).toHaveLength(1);
      expect(rows.slice(3), id).toEqual(['duplicate', 'duplicate', 'duplicate']);
    }
  });

  it('accepts a final report whose time is before the RUNNING delivery arrived', async () => {
    const id = 'conv_late_final';
    const now = Math.floor(Date.now() / 1000);
    // RUNNING without a report time: the run starts at its arrival...
    expect((await deliver({ event_type: 'RUN_STATE', run_id: id, state: 'RUNNING', config: {} })).status).toBe(201);
    // ...and its final report was made an hour earlier (a backlog of deliveries)
    const res = await deliver({ run_id: id, state: 'FINISHED', summary: { _timestamp: now - 3600, _runtime: 600, 'train/loss': 0.2 } });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ outcome: 'applied' });
    expect(await run(id)).toMatchObject({
      status: 'completed', started_at: iso(now - 4200), ended_at: iso(now - 3600), duration_seconds: 600, final_loss: 0.2,
    });
  });

  it('a late final report still finishes the run, without overwriting newer values', async () => {
    const id = 'conv_late_metrics';
    await deliver({ run_id: id, state: 'RUNNING', config: {}, summary: { _timestamp: T0, _runtime: 0 } });
    // a metrics event newer than the final report arrives first
    await deliver({ event_type: 'RUN_METRIC', run_id: id, metrics: { _timestamp: T0 + 300, 'eval/acc': 0.95 } });
    const late = await deliver({ run_id: id, state: 'FINISHED', summary: { _timestamp: T0 + 200, _runtime: 200, 'eval/acc': 0.9, 'train/loss': 0.4 } });
    expect(await json(late)).toMatchObject({ outcome: 'applied' });
    expect(await run(id)).toMatchObject({
      status: 'completed', ended_at: iso(T0 + 200), wandb_reported_at: iso(T0 + 300),
      final_metrics_json: { _timestamp: T0 + 300, 'eval/acc': 0.95, 'train/loss': 0.4, _runtime: 0 },
    });
    // and a late RUNNING after that is history
    const history = await deliver({ run_id: id, state: 'RUNNING', summary: { _timestamp: T0 + 50, _runtime: 50 } });
    expect(await json(history)).toMatchObject({ outcome: 'stale' });
    expect((await run(id)).status).toBe('completed');
  });

  it('concurrent first deliveries for a new run: no 5xx, one created, every delivery kept, the newest report wins', async () => {
    for (let round = 0; round < 5; round++) {
      const id = `conv_race_${round}`;
      const all = reports(id);
      // three distinct reports and a replay of each, all at once
      const results = await Promise.all([...all, ...all].map((body) => deliver(body)));
      const bodies = await Promise.all(results.map((r) => json(r)));
      expect(results.map((r) => r.status).filter((s) => s >= 500), JSON.stringify(bodies)).toEqual([]);
      expect(bodies.filter((b) => b.outcome === 'created')).toHaveLength(1);
      expect(await outcomes(id)).toHaveLength(6);
      await expectNewest(id);
    }
  });

  it('a delivery kept as failed is applied when retried after its cause is gone', async () => {
    // W&B's run id is already another run's: the delivery fails (409) and is kept
    await deliver({ run_id: 'conv_owner', state: 'RUNNING', config: {}, wandb_run_id: 'wb-shared', summary: { _timestamp: T0 } });
    const body = { run_id: 'conv_retry', state: 'RUNNING', config: {}, wandb_run_id: 'wb-shared', summary: { _timestamp: T0 } };
    const first = await deliver(body);
    expect(first.status).toBe(409);
    expect(await outcomes('conv_retry')).toEqual(['failed']);
    // the other run lets go of the id; the sender retries the same payload
    await h.database.client.query(`update public.training_runs set wandb_run_id = null where run_id = 'conv_owner'`);
    const retry = await deliver(body);
    expect(retry.status).toBe(201);
    expect(await outcomes('conv_retry')).toEqual(['failed', 'created']);
    expect(await run('conv_retry')).toMatchObject({ status: 'running', wandb_run_id: 'wb-shared' });
  });
});
