// Property: whatever arrives at the training-examples write routes, the
// answer is a problem (4xx) or a success, never a 5xx; and whatever a log's
// request and response hold, ingesting it never fails (a log that cannot be
// parsed is stored and yields no example).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, json } from './support/harness.ts';

describe('arbitrary input to the training-examples function', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
    await h.request('/training-examples/logs', { method: 'POST', token: h.tokens.service, json: { items: [{
      id: 'prop-seed', trace_id: 'prop-trace', request: { prompt: 'q' }, response: 'a' }] } });
  });
  afterAll(() => h.close());

  const anyValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }));
  const message = fc.record({ role: fc.oneof(fc.constantFrom('user', 'assistant', 'system'), anyValue),
    content: fc.oneof(fc.string(), fc.array(fc.record({ type: fc.oneof(fc.constant('text'), fc.string()), text: anyValue }, { requiredKeys: [] }), { maxLength: 3 }), anyValue) },
  { requiredKeys: [] });
  const request = fc.oneof(fc.record({ messages: fc.oneof(fc.array(message, { maxLength: 4 }), anyValue), system: anyValue, prompt: anyValue },
    { requiredKeys: [] }), anyValue);
  const response = fc.oneof(fc.record({ choices: fc.oneof(fc.array(fc.record({ message: fc.record({ content: anyValue }, { requiredKeys: [] }), text: anyValue },
    { requiredKeys: [] }), { maxLength: 2 }), anyValue), content: anyValue, output_text: anyValue }, { requiredKeys: [] }), anyValue);

  it('any request and response shape is stored, and extraction never fails the writer', async () => {
    let n = 0;
    await fc.assert(fc.asyncProperty(fc.array(fc.record({ request, response }), { minLength: 1, maxLength: 5 }), async (events) => {
      const items = events.map((e) => ({ id: `prop-${n++}`, trace_id: `prop-t-${n}`, ...e }));
      const res = await h.request('/training-examples/logs', { method: 'POST', token: h.tokens.service, json: { items } });
      expect(res.status, JSON.stringify(items)).toBe(200);
      expect((await json(res)).inserted).toBe(items.length);
    }), { numRuns: 100 });
  });

  it('never answers 5xx', async () => {
    const body = fc.record({ items: fc.oneof(fc.array(fc.dictionary(fc.constantFrom('id', 'trace_id', 'created_at', 'cost_usd', 'request', 'node_type'), anyValue), { maxLength: 3 }), anyValue),
      trainable: anyValue, verified: anyValue, confidence: fc.oneof(fc.double({ min: -1, max: 2 }), anyValue), notes: anyValue, tags: anyValue },
    { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(fc.constantFrom(
      ['POST', '/training-examples/logs'], ['PUT', '/training-examples/prop-trace/annotation'], ['PUT', '/training-examples/unknown/annotation'],
    ), fc.boolean(), body, async ([method, path], service, b) => {
      const res = await h.request(path!, { method, json: b, token: service ? h.tokens.service : h.tokens.alice });
      expect(res.status, `${method} ${path} ${JSON.stringify(b)}`).toBeLessThan(500);
    }), { numRuns: 150 });
  });
});
