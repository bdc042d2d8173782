// Deeply nested JSON is refused with a 400 before anything parses it
// recursively (Postgres' jsonb input and PGlite overflow their stacks at a few
// thousand levels, which used to surface as a 500).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDeeperThan, MAX_JSON_DEPTH } from '../../functions/_shared/http/json_depth.ts';
import { createHarness, type Harness, json, WEBHOOK_TOKEN } from '../support/harness.ts';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonDeeperThan', () => {
  it('counts arrays and objects, not brackets inside strings or escapes', () => {
    expect(jsonDeeperThan('{"a": [1, {"b": []}]}', 4)).toBe(false);
    expect(jsonDeeperThan('{"a": [1, {"b": []}]}', 3)).toBe(true);
    expect(jsonDeeperThan(`{"s": "${'['.repeat(500)}"}`, 1)).toBe(false);
    expect(jsonDeeperThan(`{"s": "\\"${'{'.repeat(500)}"}`, 1)).toBe(false);
    expect(jsonDeeperThan(`[${nested(5)}, ${nested(5)}]`, 6)).toBe(false);
    expect(jsonDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
  });
});

describe('deep JSON bodies through the functions', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  const send = (path: string, body: string, token?: string | null, headers: Record<string, string> = {}) =>
    h.request(path, { method: 'POST', body, token, headers: { 'content-type': 'application/json', ...headers } });

  it('answers 400 naming the limit, and stores nothing', async () => {
    for (const depth of [MAX_JSON_DEPTH, 5000]) {
      const runs = await send('/runs', `{"run_id": "deep_${depth}", "config": {"a": ${nested(depth)}}}`);
      expect(runs.status).toBe(400);
      expect((await json(runs)).detail).toMatch(/more than 100 levels/);
      const packages = await send('/packages', `{"name": "deep", "config": {"a": ${nested(depth)}}}`);
      expect(packages.status).toBe(400);
      const hook = await send('/wandb-webhook', `{"run_id": "deep_${depth}", "state": "FINISHED", "summary": {"a": ${nested(depth)}}}`,
        null, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
      expect(hook.status).toBe(400);
    }
    expect((await h.request('/runs/deep_5000')).status).toBe(404);
    expect((await json(await h.request('/packages'))).items).toEqual([]);
  });

  it('accepts configs nested as deep as real ones get', async () => {
    const res = await send('/runs', `{"run_id": "nested_ok", "config": {"a": ${nested(50)}}}`);
    expect(res.status).toBe(201);
  });
});
