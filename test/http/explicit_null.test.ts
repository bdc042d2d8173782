// Explicit null for an optional field is "not given" on every create and
// set route (functions/_shared/http/fields.ts optionalField): what a client
// serialising Python's None or JavaScript's null sends. PATCH routes keep null
// as "clear" where a field can be cleared (packages.http.test.ts). Launch,
// status and crash are covered in runs.http.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, json } from '../support/harness.ts';

describe('explicit null is "not given"', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  const post = (path: string, body: unknown, method = 'POST', token?: string) => h.request(path, { method, json: body, token });

  it('runs: query by objectives, bounds included', async () => {
    const res = await post('/runs/query-by-objectives', {
      objectives: { COMT_activity: { min: 0.5, max: null } }, metric: null, gradient_method: null, status: null, filter: null, limit: null, cursor: null,
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ items: [], next_cursor: null });
  });

  it('packages: create, versions, fork, deployment', async () => {
    const pkg = await post('/packages', { name: 'nulls', template_type: null, config: null });
    expect(pkg.status).toBe(201);
    const { id } = await json(pkg);
    const version = await post(`/packages/${id}/versions`, { name: null, config_snapshot: null, change_summary: null, estimated_cost: null, budget_limit: null });
    expect(version.status).toBe(201);
    const v = await json(version);
    expect(v).toMatchObject({ name: 'nulls v1', config_snapshot: {}, change_summary: null });
    expect((await post(`/packages/versions/${v.id}/fork`, { name: null, change_summary: null })).status).toBe(201);
    const deployed = await post(`/packages/versions/${v.id}/deployment`, { is_deployed: false, deployment_target: null, deployment_url: null, deployment_id: null }, 'PUT');
    expect(deployed.status).toBe(200);
  });

  it('conversations: create (turn fields too), rescore, export, generation logs', async () => {
    const created = await post('/conversations', {
      conversation_id: null, title: null, persona: 'nulls', tier: null, status: null, template_id: null, metadata: null,
      quality_metrics: { relevance: 8 }, turns: [{ role: 'user', content: 'hi', turn_number: null, token_count: null }, { role: 'assistant', content: 'hello' }],
    });
    expect(created.status).toBe(201);
    expect(await json(created)).toMatchObject({ status: 'generated', tier: 'template', persona: 'nulls', turn_count: 2 });
    expect((await post('/conversations/rescore', { threshold: null, filter: { persona: 'nulls', tier: null } })).status).toBe(200);
    const exported = await post('/conversations/exports', { format: 'jsonl', shape: null, filter: null, include_metadata: null });
    expect(exported.status).toBe(200);
    await exported.text();
    const log = await post('/conversations/generation-logs', { model_used: 'm', conversation_id: null, cost_usd: null, status: null }, 'POST', h.tokens.service);
    expect(log.status).toBe(201);
  });

  it('training examples: log events and annotations', async () => {
    const ingested = await post('/training-examples/logs', { items: [{
      id: 'null-ev-1', trace_id: 'null-tr-1', parent_id: null, session_id: null, cascade_id: 'nulls', model: null, created_at: null,
      prompt_tokens: null, metadata: null, request: { prompt: 'q' }, response: 'a',
    }] }, 'POST', h.tokens.service);
    expect(ingested.status).toBe(200);
    expect(await json(ingested)).toMatchObject({ inserted: 1 });
    const annotated = await post('/training-examples/null-tr-1/annotation', { trainable: true, verified: null, confidence: null, notes: null, tags: null }, 'PUT');
    expect(annotated.status).toBe(200);
    expect(await json(annotated)).toMatchObject({ trainable: true, verified: false, tags: [] });
  });
});
