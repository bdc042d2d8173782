// Property: whatever JSON arrives at the conversations write routes, the
// answer is a problem (4xx) or a success, never a 5xx; nothing half-stored.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, json } from '../support/harness.ts';

describe('arbitrary input to the conversations function', () => {
  let h: Harness;
  let target: string;
  beforeAll(async () => {
    h = await createHarness('sql');
    target = (await json(await h.request('/conversations', { method: 'POST', json: {
      turns: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] } }))).id;
  });
  afterAll(() => h.close());

  const anyValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(fc.jsonValue(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }));
  const turn = fc.record({
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system'), anyValue), content: fc.oneof(fc.string(), anyValue),
    turn_number: fc.oneof(fc.integer({ min: -2, max: 5 }), anyValue), token_count: anyValue,
  }, { requiredKeys: [] });
  const body = fc.record({
    turns: fc.oneof(fc.array(turn, { maxLength: 4 }), anyValue), title: anyValue, persona: anyValue, status: anyValue,
    tier: anyValue, quality_metrics: fc.oneof(fc.dictionary(fc.constantFrom('relevance', 'accuracy', 'x', 'Bad Key'), fc.double()), anyValue),
    template_id: fc.oneof(fc.uuid(), anyValue), conversation_id: anyValue, action: fc.oneof(fc.constantFrom('approve', 'reject', 'request_changes'), anyValue),
    note: anyValue, threshold: fc.oneof(fc.double({ min: -1, max: 11 }), anyValue), format: fc.oneof(fc.constantFrom('jsonl', 'csv'), anyValue),
    shape: anyValue, filter: fc.oneof(fc.record({ status: anyValue, q: fc.string(), min_quality: anyValue }, { requiredKeys: [] }), anyValue),
    model_used: anyValue, input_tokens: anyValue,
  }, { requiredKeys: [] });

  it('never answers 5xx', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(
      ['POST', '/conversations'], ['POST', '/conversations/{id}/review'], ['POST', '/conversations/rescore'],
      ['POST', '/conversations/exports'], ['POST', '/conversations/generation-logs'],
    ), fc.boolean(), body, async ([method, template], service, b) => {
      const path = template!.replace('{id}', target);
      const res = await h.request(path, { method, json: b, token: service ? h.tokens.service : h.tokens.alice });
      expect(res.status, `${method} ${path} ${JSON.stringify(b)}`).toBeLessThan(500);
      if (res.status >= 400) expect(res.headers.get('content-type')).toContain('application/problem+json');
      else await res.arrayBuffer();
    }), { numRuns: 200 });
    const [row] = await h.database.client.query<{ orphans: number }>(
      'select count(*)::int as orphans from public.conversations c where not exists (select 1 from public.conversation_turns t where t.conversation_id = c.id)');
    expect(row!.orphans).toBe(0);
  });
});
