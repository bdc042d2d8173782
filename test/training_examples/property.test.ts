// Property: whatever arrives at the training-examples write routes, the
// answer is a problem (4xx) or a success, never a 5xx; whatever a log's
// request and response hold, ingesting it never fails (a log that cannot be
// parsed is stored and yields no example); and the parsers' fast paths read
// exactly what the general search they shortcut reads.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, json } from '../support/harness.ts';

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

  it('the parsers read what the general jsonpath search of 20261126000000 reads, for any request and response', async () => {
    // the original definitions, renamed, as the reference
    const original = readFileSync(new URL('../../supabase/migrations/20261126000000_training_examples.sql', import.meta.url), 'utf8');
    const parsers = ['content_text', 'request_user_input', 'request_system_prompt', 'response_output'];
    const reference = parsers.map((name) => original.match(new RegExp(`create or replace function private\\.${name}\\(.*?\\n\\$\\$;`, 's'))![0])
      .join('\n').replace(new RegExp(`private\\.(${parsers.join('|')})\\(`, 'g'), 'private.ref_$1(');
    expect(reference.match(/create or replace function private\.ref_/g)).toHaveLength(4);
    await h.database.client.exec(reference);
    // messages whose first and last roles vary, so that both fast paths and their fallbacks run
    const roleMessage = fc.record({ role: fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool'), content: message.map((m) => m.content) });
    const requests = fc.oneof(request, fc.record({ messages: fc.array(roleMessage, { maxLength: 5 }), system: fc.oneof(anyValue, fc.constant(undefined)) }));
    await fc.assert(fc.asyncProperty(requests, response, async (req, res) => {
      const [row] = await h.database.client.query<Record<string, string | null>>(
        `select private.request_user_input(r) as user_input, private.ref_request_user_input(r) as ref_user_input,
                private.request_system_prompt(r) as system_prompt, private.ref_request_system_prompt(r) as ref_system_prompt,
                private.response_output(o) as output, private.ref_response_output(o) as ref_output
           from (select $1::text::jsonb as r, $2::text::jsonb as o) x`, [JSON.stringify(req ?? null), JSON.stringify(res ?? null)]);
      const context = JSON.stringify([req, res]);
      expect(row!.user_input, context).toBe(row!.ref_user_input);
      expect(row!.system_prompt, context).toBe(row!.ref_system_prompt);
      expect(row!.output, context).toBe(row!.ref_output);
    }), { numRuns: 300 });
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
