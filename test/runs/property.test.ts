// Property: whatever JSON arrives at the write routes, the answer is a
// problem (4xx) or a success, never a 5xx, and a rejected write changes nothing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, json } from '../support/harness.ts';

describe('arbitrary input to the runs function', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
    await h.request('/runs', { method: 'POST', json: { run_id: 'prop_target', config: { training: { batch_size: 8 } } } });
  });
  afterAll(() => h.close());

  const anyValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
  const body = fc.record({
    run_id: fc.oneof(fc.string({ maxLength: 30 }), anyValue), config: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }), anyValue),
    status: fc.oneof(fc.constantFrom('launched', 'running', 'completed', 'failed', 'crashed'), anyValue),
    host: anyValue, started_at: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), anyValue),
    duration_seconds: anyValue, error_log_s3_key: fc.oneof(fc.string(), anyValue), url: fc.oneof(fc.webUrl(), anyValue),
    metadata: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }), anyValue),
  }, { requiredKeys: [] });

  it('never answers 5xx', async () => {
    const before = await json(await h.request('/runs/prop_target'));
    await fc.assert(fc.asyncProperty(fc.constantFrom(
      ['POST', '/runs'], ['PATCH', '/runs/prop_target/status'], ['POST', '/runs/prop_target/crash'],
      ['PUT', '/runs/prop_target/blog-post'], ['PUT', '/runs/prop_target/conversation'], ['PATCH', '/runs/prop_target'],
    ), body, async ([method, path], b) => {
      const res = await h.request(path!, { method, json: b });
      expect(res.status, `${method} ${path} ${JSON.stringify(b)}`).toBeLessThan(500);
      if (res.status >= 400) expect(res.headers.get('content-type')).toContain('application/problem+json');
    }), { numRuns: 150 });
    // illegal moves may have been refused, legal ones taken; the config is never touched by these routes
    expect((await json(await h.request('/runs/prop_target'))).config_json).toEqual(before.config_json);
  });
});
