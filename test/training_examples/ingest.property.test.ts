// Properties of the analytics and ingestion inputs: whatever filter text,
// query-by-objectives body or webhook payload arrives, the answer is a
// success or a 4xx problem, never a 5xx.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, WEBHOOK_TOKEN } from '../support/harness.ts';

describe('arbitrary filters, objective queries and webhook payloads', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
    await h.request('/runs', { method: 'POST', json: { run_id: 'prop_run', config: { training: { batch_size: 8 }, objectives: ['A'] } } });
  });
  afterAll(() => h.close());

  const expectNo5xx = async (res: Response, what: string) => {
    expect(res.status, `${what} -> ${res.status === 500 ? await res.clone().text() : res.status}`).toBeLessThan(500);
    if (res.status >= 400) expect(res.headers.get('content-type')).toContain('application/problem+json');
  };

  // Token soup: mostly near-valid expressions, which reach the SQL compiler.
  const token = fc.constantFrom('status', 'batch_size', 'learning_rate', 'created_at', 'created_by', 'run_name', 'config.training.batch_size',
    'config.`a b`.c', 'metrics.`train/loss`', 'metrics._step', 'objective.A.raw_mean', 'objective.`B x`.weight', '=', '!=', '<', '>=', '<>',
    'IN', 'NOT', 'IS', 'NULL', 'LIKE', 'ILIKE', 'AND', 'OR', '(', ')', ',', "'completed'", "'2026-01-01T00:00:00Z'", "'%a_'", '1', '-2.5e3',
    '1e400', '99999999999', 'true', 'false', '`', "'", '"x"', ';', '--');
  const filter = fc.oneof(fc.array(token, { minLength: 1, maxLength: 12 }).map((t) => t.join(' ')), fc.string({ maxLength: 60 }));

  it('GET /runs?filter= and order_by never answer 5xx', async () => {
    await fc.assert(fc.asyncProperty(filter, fc.option(fc.array(token, { maxLength: 3 }).map((t) => t.join(' ')), { nil: undefined }),
      async (f, order) => {
        const q = `filter=${encodeURIComponent(f)}${order ? `&order_by=${encodeURIComponent(order)}` : ''}`;
        await expectNo5xx(await h.request(`/runs?${q}`), q);
      }), { numRuns: 300 });
  });

  it('POST /runs/query-by-objectives never answers 5xx', async () => {
    const bound = fc.record({ min: fc.oneof(fc.double(), fc.string(), fc.constant(null)), max: fc.double() }, { requiredKeys: [] });
    const body = fc.record({
      objectives: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), bound, { maxKeys: 3 }), fc.jsonValue()),
      metric: fc.oneof(fc.constantFrom('raw_mean', 'normalized_mean'), fc.string()), limit: fc.oneof(fc.integer(), fc.string()),
      filter: fc.oneof(filter, fc.integer()), cursor: fc.string({ maxLength: 20 }),
    }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(body, async (b) => {
      await expectNo5xx(await h.request('/runs/query-by-objectives', { method: 'POST', json: b }), JSON.stringify(b));
    }), { numRuns: 200 });
  });

  it('POST /wandb-webhook never answers 5xx', async () => {
    const state = fc.oneof(fc.constantFrom('RUNNING', 'finished', 'FAILED', 'CRASHED', 'KILLED', 'PENDING'), fc.string());
    const payload = fc.oneof(
      fc.record({
        run_id: fc.oneof(fc.constantFrom('prop_run', 'prop_new'), fc.string({ maxLength: 12 })), state,
        summary: fc.oneof(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }), fc.jsonValue({ maxDepth: 1 }),
          fc.record({ _timestamp: fc.oneof(fc.double(), fc.string(), fc.integer()) })),
        config: fc.oneof(fc.record({ objectives: fc.jsonValue({ maxDepth: 2 }) }), fc.jsonValue({ maxDepth: 1 })),
        timestamp: fc.oneof(fc.double(), fc.string()), wandb_url: fc.oneof(fc.webUrl(), fc.string()),
      }, { requiredKeys: [] }),
      fc.record({
        event_type: fc.oneof(fc.constantFrom('RUN_STATE', 'run_metric', 'LINK_MODEL'), fc.string()),
        run_id: fc.constantFrom('prop_run', 'prop_other'), wandb_run_id: fc.string({ maxLength: 10 }), state,
        metrics: fc.jsonValue({ maxDepth: 1 }), config: fc.jsonValue({ maxDepth: 1 }),
      }, { requiredKeys: ['event_type'] }),
      fc.jsonValue({ maxDepth: 2 }));
    await fc.assert(fc.asyncProperty(payload, async (p) => {
      const res = await h.request('/wandb-webhook', { method: 'POST', token: WEBHOOK_TOKEN, json: p });
      await expectNo5xx(res, JSON.stringify(p));
    }), { numRuns: 300 });
  });
});
