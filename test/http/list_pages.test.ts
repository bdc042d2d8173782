// Every list route sends its page as the text the database wrote (issue 16):
// the handler asks the port for text (rpcText), never for a parsed page, and
// the body is that text with the content type of any JSON answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createGateway } from '../../scripts/lib/gateway.ts';
import { createHarness, type Harness, json } from '../support/harness.ts';

describe('every list route sends the page as the database wrote it', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  it('answers each list from rpcText, never from a parsed rpc, with the same value', async () => {
    const created = await h.request('/packages', { method: 'POST', json: { name: 'p', template_type: 'lora_finetuning', config: { lr: 0.1 } } });
    expect(created.status).toBe(201);
    const pkg = await json<{ id: string }>(created);
    expect((await h.request(`/packages/${pkg.id}/versions`, { method: 'POST', json: {} })).status).toBe(201);
    const LISTS = new Set(['runs_list', 'packages_list', 'packages_list_versions', 'conversations_list', 'conversations_review_queue',
      'conversations_list_exports', 'conversations_list_reviewers', 'conversation_library_list', 'training_examples_list']);
    const texts: string[] = [];
    const passthrough: Db = {
      rpc: (fn, ...rest) => LISTS.has(fn) ? Promise.reject(new Error(`a parsed page of ${fn} was asked for`)) : h.db.rpc(fn, ...rest),
      rpcText: async (...args) => {
        const text = await h.db.rpcText(...args);
        texts.push(text);
        return text;
      },
      close: async () => {},
    };
    const gateway = createGateway({ db: passthrough, log: () => {} });
    const paths = ['/runs', '/packages', `/packages/${pkg.id}/versions`, '/conversations', '/conversations/review-queue',
      '/conversations/exports', '/conversations/reviewers', '/conversations/templates', '/conversations/scenarios',
      '/conversations/edge-cases', '/training-examples'];
    for (const path of paths) {
      texts.length = 0;
      const res = await gateway.fetch(new Request(`http://localhost/functions/v1${path}`, { headers: { authorization: `Bearer ${h.tokens.service}` } }));
      const body = await res.text();
      expect(res.status, `${path}: ${body}`).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(texts, path).toEqual([body]);
      expect(Object.keys(JSON.parse(body)).sort(), path).toEqual(['items', 'next_cursor']);
    }
  });
});
