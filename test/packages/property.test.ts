// Property: whatever JSON arrives at the packages write routes, the answer is
// a problem (4xx) or a success, never a 5xx, and a published version's content
// never moves.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, json } from '../support/harness.ts';

describe('arbitrary input to the packages function', () => {
  let h: Harness;
  let pkg: string;
  let draft: string;
  let published: Record<string, unknown>;
  beforeAll(async () => {
    h = await createHarness('sql');
    pkg = (await json(await h.request('/packages', { method: 'POST', json: { name: 'prop' } }))).id;
    draft = (await json(await h.request(`/packages/${pkg}/versions`, { method: 'POST', json: {} }))).id;
    const v = (await json(await h.request(`/packages/${pkg}/versions`, { method: 'POST', json: {} }))).id;
    published = await json(await h.request(`/packages/versions/${v}/publish`, { method: 'POST' }));
  });
  afterAll(() => h.close());

  const anyValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }));
  const body = fc.record({
    name: fc.oneof(fc.string({ maxLength: 210 }), anyValue), template_type: anyValue, config: anyValue,
    config_snapshot: anyValue, model_snapshot: anyValue, dataset_snapshot: anyValue, change_summary: anyValue,
    estimated_cost: fc.oneof(fc.double(), anyValue), budget_limit: fc.oneof(fc.double({ min: 0, max: 1e9 }), anyValue),
    actual_cost: fc.oneof(fc.double(), anyValue), is_deployed: anyValue,
    deployment_target: fc.oneof(fc.constantFrom('local', 'hf_space'), anyValue), deployment_url: fc.oneof(fc.webUrl(), anyValue),
    training_status: fc.oneof(fc.constantFrom('queued', 'running', 'completed', 'failed', 'cancelled'), anyValue),
    training_metrics: anyValue, cost_alerts_sent: anyValue,
  }, { requiredKeys: [] });

  it('never answers 5xx', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(
      ['POST', '/packages'], ['POST', `/packages/{pkg}/versions`], ['PATCH', '/packages/versions/{draft}'],
      ['PATCH', '/packages/versions/{published}'], ['POST', '/packages/versions/{published}/fork'],
      ['PUT', '/packages/versions/{published}/deployment'], ['PATCH', '/packages/versions/{published}/training'],
    ), body, async ([method, template], b) => {
      const path = template!.replace('{pkg}', pkg).replace('{draft}', draft).replace('{published}', String(published.id));
      const res = await h.request(path, { method, json: b });
      expect(res.status, `${method} ${path} ${JSON.stringify(b)}`).toBeLessThan(500);
      if (res.status >= 400) expect(res.headers.get('content-type')).toContain('application/problem+json');
    }), { numRuns: 200 });
    const after = await json(await h.request(`/packages/versions/${published.id}`));
    for (const field of ['config_snapshot', 'model_snapshot', 'dataset_snapshot', 'name', 'snapshot_sha256', 'status']) {
      expect(after[field], field).toEqual(published[field]);
    }
  });
});
