// The conversations function end to end through the local gateway, once per
// database adapter: create with turns, scoring and flagging, lists, review,
// rescore, exports, generation logs.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';
import { createReviewer } from '../support/reviewer.ts';

const turns = (n = 4, content = (i: number) => (i % 2 === 0 ? `question ${i}` : `answer ${i}`)) =>
  Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: content(i), token_count: 10 }));
const good = { relevance: 9, accuracy: 8, naturalness: 8, coherence: 9, confidence: 7 };
const weak = { relevance: 4, accuracy: 5, naturalness: 6, coherence: 5, confidence: 5 };

/** RFC 4180 parser, written independently of the exporter. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; } else field += ch;
  }
  return rows;
}

describe.each(ADAPTERS)('conversations through the %s adapter', (adapter) => {
  let h: Harness;
  let reviewer: { id: string; token: string };
  let template: { id: string; system_prompt: string };
  beforeAll(async () => {
    h = await createHarness(adapter, { bodyLimitBytes: 256 * 1024 });
    reviewer = await createReviewer(h.database);
    template = (await h.database.client.query<{ id: string; system_prompt: string }>(
      `select id, system_prompt from public.conversation_templates where template_name = 'financial_planning_consultation'`))[0]!;
  });
  afterAll(() => h.close());

  const create = (body: Record<string, unknown>, token?: string) => h.request('/conversations', { method: 'POST', json: body, token });
  const created = async (body: Record<string, unknown>, token?: string) => {
    const res = await create(body, token);
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    return await json(res);
  };
  const review = (id: string, body: unknown, token = reviewer.token) =>
    h.request(`/conversations/${id}/review`, { method: 'POST', json: body, token });
  const problem = async (res: Response, status: number, detail?: RegExp) => {
    expect(res.status).toBe(status);
    const body = await json(res);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    if (detail) expect(body.detail).toMatch(detail);
    return body;
  };

  describe('create and read', () => {
    it('stores a conversation with its turns; the database counts, scores and indexes it', async () => {
      const c = await created({ conversation_id: `conv_${adapter}_good`, title: 'Retirement at 60', persona: 'pre_retiree',
        emotion: 'anxious', topic: 'retirement', template_id: template.id, quality_metrics: good, turns: turns(4) });
      expect(c).toMatchObject({
        conversation_id: `conv_${adapter}_good`, status: 'generated', turn_count: 4, total_tokens: 40, is_flagged: false,
        created_by: h.users.alice, quality_score: 8.5,
      });
      expect(c.turns.map((t: { turn_number: number; char_count: number }) => [t.turn_number, t.char_count]))
        .toEqual([[1, 10], [2, 8], [3, 10], [4, 8]]);
      expect(c).not.toHaveProperty('search_vector');
      expect(await json(await h.request(`/conversations/${c.id}`))).toEqual(c);
      expect(await json(await h.request(`/conversations/conv_${adapter}_good`))).toEqual(c);
      await problem(await h.request(`/conversations/${c.id}`, { token: h.tokens.bob }), 404);
      expect((await h.request(`/conversations/${c.id}`, { token: reviewer.token })).status).toBe(200);
    });

    it('flags a low score: needs_revision, the weak components named, a history entry', async () => {
      const c = await created({ title: 'weak one', quality_metrics: weak, turns: turns(4) });
      expect(c).toMatchObject({ quality_score: 5.4, is_flagged: true, status: 'needs_revision' });
      expect(c.flag_reason).toBe('quality 5.4 below 6.0: weak accuracy, coherence, confidence, relevance');
      expect(c.review_history).toEqual([expect.objectContaining({
        action: 'auto_flag', from_status: 'generated', to_status: 'needs_revision', score: 5.4, threshold: 6 })]);
      const unscored = await created({ title: 'no metrics yet', turns: turns(2) });
      expect(unscored).toMatchObject({ quality_score: null, is_flagged: false, status: 'generated' });
    });

    it('refuses bad input with field-named problems and stores nothing', async () => {
      await problem(await h.request('/conversations', { method: 'POST', body: '{"turns": [', headers: { 'content-type': 'application/json' } }), 400);
      const none = await problem(await create({ title: 'x', turns: [] }), 400, /at least one turn/);
      expect(none.errors.map((e: { path: string }) => e.path)).toContain('turns');
      await problem(await create({ title: 'x' }), 400);
      await problem(await create({ turns: [{ role: 'robot', content: 'hi' }] }), 400);
      await problem(await create({ turns: [{ role: 'user', content: 42 }] }), 400);
      await problem(await create({ quality_metrics: { relevance: 11 }, turns: turns(2) }), 400);
      await problem(await create({ quality_metrics: { Relevance: 5 }, turns: turns(2) }), 400);
      await problem(await create({ turns: turns(2), owner: 'me' }), 400);
      await problem(await create({ status: 'launched', turns: turns(2) }), 400);
      // an unknown template is not found, as a private one is (nothing revealed)
      await problem(await create({ template_id: '00000000-0000-4000-8000-000000000000', turns: turns(2) }), 404, /template .* not found/);
      await problem(await create({ turns: [{ role: 'user', content: 'a', turn_number: 1 }, { role: 'assistant', content: 'b', turn_number: 1 }] }), 409);
      await problem(await create({ turns: [{ role: 'user', content: 'x'.repeat(300 * 1024) }] }), 413);
      await problem(await h.request('/conversations', { method: 'POST', body: 'turns', headers: { 'content-type': 'text/plain' } }), 415);
      await problem(await create({ turns: turns(2) }, h.tokens.anon), 401);
      await problem(await h.request('/conversations/nope'), 404);
      // A reviewer-only status on create by a plain user
      await problem(await create({ status: 'approved', turns: turns(2) }), 403);
      const dup = `conv_${adapter}_dup`;
      await created({ conversation_id: dup, turns: turns(2) });
      await problem(await create({ conversation_id: dup, turns: turns(2) }), 409);
      expect((await json(await h.request(`/conversations?persona=never`))).items).toEqual([]);
    });
  });

  describe('lists', () => {
    it('filters by status, tier, persona, emotion, topic, flag, quality, text and time; pages without repeats', async () => {
      const tag = `${adapter}${Date.now()}`;
      const made = [];
      for (let i = 0; i < 6; i++) {
        made.push(await created({
          title: `${tag} budgeting talk ${i}`, persona: `persona_${tag}`, emotion: i % 2 ? 'anxious' : 'hopeful', topic: 'budgeting',
          tier: i < 3 ? 'template' : 'scenario', quality_metrics: i === 5 ? weak : good,
          turns: turns(2, (k) => (k === 0 ? `How do I save for a ${i === 4 ? 'sailboat' : 'house'}?` : 'Start with a budget.')),
        }));
      }
      const list = async (query: string, token?: string) =>
        (await json(await h.request(`/conversations?persona=persona_${tag}&${query}`, { token }))).items.map((c: { title: string }) => c.title);
      expect(await list('')).toHaveLength(6);
      expect(await list('tier=scenario')).toEqual([5, 4, 3].map((i) => `${tag} budgeting talk ${i}`));
      expect(await list('emotion=hopeful&tier=template')).toEqual([2, 0].map((i) => `${tag} budgeting talk ${i}`));
      expect(await list('flagged=true')).toEqual([`${tag} budgeting talk 5`]);
      expect(await list('status=needs_revision')).toEqual([`${tag} budgeting talk 5`]);
      expect(await list('min_quality=8&max_quality=9')).toHaveLength(5);
      expect(await list(`q=${encodeURIComponent('sailboat')}`)).toEqual([`${tag} budgeting talk 4`]);
      expect(await list(`q=${encodeURIComponent('"budgeting talk" -sailboat')}`)).toHaveLength(5);
      expect(await list(`created_after=${encodeURIComponent(made[3].created_at)}`)).toHaveLength(3);
      expect(await list('', h.tokens.bob)).toEqual([]);
      expect(await list('', reviewer.token)).toHaveLength(6);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const body: any = await json(await h.request(`/conversations?persona=persona_${tag}&limit=4${cursor ? `&cursor=${cursor}` : ''}`));
        seen.push(...body.items.map((c: { id: string }) => c.id));
        cursor = body.next_cursor;
      } while (cursor);
      expect(seen).toEqual(made.map((c) => c.id).reverse());
      await problem(await h.request('/conversations?flagged=maybe'), 400);
      await problem(await h.request('/conversations?min_quality=11'), 400);
      await problem(await h.request('/conversations?cursor=xyz'), 400);
    });
  });

  describe('review', () => {
    it('reviewers approve, reject and request changes; every move is recorded; illegal ones are 409', async () => {
      const c = await created({ quality_metrics: good, turns: turns(4) });
      await problem(await review(c.id, { action: 'approve' }, h.tokens.alice), 403, /reviewers/);
      await problem(await review(c.id, { action: 'approve' }, h.tokens.bob), 404);
      await problem(await review(c.id, { action: 'publish' }), 400);
      const approved = await json(await review(c.id, { action: 'approve', note: 'clean and accurate' }));
      expect(approved).toMatchObject({ status: 'approved', approved_by: reviewer.id, reviewed_by: reviewer.id, reviewer_notes: 'clean and accurate' });
      expect(approved.review_history.at(-1)).toMatchObject({
        action: 'approve', from_status: 'generated', to_status: 'approved', by: reviewer.id, note: 'clean and accurate' });
      await problem(await review(c.id, { action: 'approve' }), 409, /approved/);
      await problem(await review(c.id, { action: 'reject' }), 409);
      const reopened = await json(await review(c.id, { action: 'request_changes', note: 'persona drifts in turn 3' }));
      expect(reopened).toMatchObject({ status: 'needs_revision', approved_by: null, approved_at: null });
      expect(await json(await review(c.id, { action: 'reject' }))).toMatchObject({ status: 'rejected' });
      await problem(await review('conv_missing', { action: 'approve' }), 404);
    });

    it('the review queue: pending conversations oldest first, everyone\'s for reviewers, paged', async () => {
      const mine: string[] = [];
      for (let i = 0; i < 3; i++) mine.push((await created({ status: 'pending_review', quality_metrics: good, turns: turns(2) })).id);
      const bobs = (await created({ status: 'pending_review', quality_metrics: good, turns: turns(2) }, h.tokens.bob)).id;
      const queue = async (token?: string) => {
        const ids: string[] = [];
        let cursor: string | null = null;
        do {
          const body: any = await json(await h.request(`/conversations/review-queue?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token }));
          expect(body.items.every((c: { status: string }) => c.status === 'pending_review')).toBe(true);
          ids.push(...body.items.map((c: { id: string }) => c.id));
          cursor = body.next_cursor;
        } while (cursor);
        return ids;
      };
      expect((await queue(reviewer.token)).filter((id) => [...mine, bobs].includes(id))).toEqual([...mine, bobs]);
      expect(await queue()).toEqual(expect.arrayContaining(mine));
      expect(await queue()).not.toContain(bobs);
      await review(mine[0]!, { action: 'approve' });
      expect(await queue(reviewer.token)).not.toContain(mine[0]);
    });

    it('two reviewers approving at once: one 200, one 409', async () => {
      const c = await created({ quality_metrics: good, turns: turns(2) });
      const second = await createReviewer(h.database);
      const statuses = (await Promise.all([review(c.id, { action: 'approve' }), review(c.id, { action: 'approve' }, second.token)]))
        .map((r) => r.status).sort();
      expect(statuses).toEqual([200, 409]);
    });
  });

  describe('scores', () => {
    it('recomputes one score and answers the breakdown (the README example)', async () => {
      const c = await created({ quality_metrics: { relevance: 8, accuracy: 4, naturalness: 7, sentiment: 3 },
        turns: [...turns(3), { role: 'assistant', content: '   ' }] });
      const res = await h.request(`/conversations/${c.conversation_id}/score`, { method: 'POST' });
      expect(res.status).toBe(200);
      const score = await json(res);
      expect(score).toMatchObject({ quality_score: 6.3, is_flagged: false, status: 'generated' });
      expect(score.breakdown).toEqual({
        score: 6.3, threshold: 6, flagged: false,
        components: [
          { component: 'accuracy', weight: 0.25, value: 4 }, { component: 'naturalness', weight: 0.15, value: 7 },
          { component: 'relevance', weight: 0.25, value: 8 }, { component: 'structure', weight: 0.1, value: 6.67 }],
        weak_components: ['accuracy'],
        structure_checks: { roles_alternate: true, no_empty_turn: false, turn_count_in_bounds: true, turn_count: 4, min_turns: 2, max_turns: 50 },
        ignored_metrics: ['sentiment'],
      });
      await problem(await h.request(`/conversations/${c.id}/score`, { method: 'POST', token: h.tokens.bob }), 404);
    });

    it('rescore in bulk with a new threshold: counts flagged, unflagged, unchanged; tracked as a batch job', async () => {
      const tag = `rescore_${adapter}_${Date.now()}`;
      const scores = [5.4, 8.5, 6.9];
      const metrics = [weak, good, { relevance: 7, accuracy: 7, naturalness: 6, coherence: 6, confidence: 6 }];
      for (const m of metrics) await created({ persona: tag, quality_metrics: m, turns: turns(2) });
      const mine = async () => (await json(await h.request(`/conversations?persona=${tag}`))).items
        .map((c: { quality_score: number; is_flagged: boolean }) => [c.quality_score, c.is_flagged]).reverse();
      expect(await mine()).toEqual([[scores[0], true], [scores[1], false], [scores[2], false]]);
      await problem(await h.request('/conversations/rescore', { method: 'POST', json: { threshold: 7 } }), 403);
      await problem(await h.request('/conversations/rescore', { method: 'POST', json: { threshold: 7.25 }, token: reviewer.token }), 400);
      const res = await h.request('/conversations/rescore', { method: 'POST', json: { threshold: 7, filter: { persona: tag } }, token: reviewer.token });
      expect(res.status).toBe(200);
      const job = await json(res);
      expect(job).toMatchObject({ job_type: 'validation', name: 'rescore', status: 'completed', total_items: 3, processed_items: 3,
        results: { flagged: 1, unflagged: 0, unchanged: 2 } });
      expect(await mine()).toEqual([[scores[0], true], [scores[1], false], [scores[2], true]]);
      expect(await json(await h.request(`/conversations/batch-jobs/${job.id}`, { token: reviewer.token }))).toMatchObject({ status: 'completed' });
      await problem(await h.request(`/conversations/batch-jobs/${job.id}`, { token: h.tokens.bob }), 404);
      const back = await json(await h.request('/conversations/rescore', { method: 'POST', json: { threshold: 6, filter: { persona: tag } }, token: reviewer.token }));
      expect(back.results).toEqual({ flagged: 0, unflagged: 1, unchanged: 2 });
      // No filter: every conversation the caller may change (the service role: all of them).
      const all = await json(await h.request('/conversations/rescore', { method: 'POST', json: {}, token: h.tokens.service }));
      const [{ n }] = await h.database.client.query<{ n: number }>('select count(*)::int as n from public.conversations') as [{ n: number }];
      expect(all).toMatchObject({ status: 'completed', total_items: n, processed_items: n });
      expect(await mine()).toEqual([[scores[0], true], [scores[1], false], [scores[2], false]]);
    });
  });

  describe('exports', () => {
    let tag: string;
    beforeAll(async () => {
      tag = `export_${adapter}_${Date.now()}`;
      const bodies = [
        { title: 'Plain', template_id: template.id, turns: turns(2) },
        { title: 'Tricky "quotes", commas\nand newlines', turns: [{ role: 'system', content: 'Own system prompt' },
          { role: 'user', content: 'He said "hi",\r\nthen left' }, { role: 'assistant', content: 'Ünïcödé ✓, "ok"' }] },
        { title: 'Not approved', turns: turns(2) },
      ];
      for (const [i, b] of bodies.entries()) {
        const c = await created({ ...b, persona: tag, quality_metrics: good });
        if (i < 2) expect((await review(c.id, { action: 'approve' })).status).toBe(200);
      }
    });
    const exportFile = async (body: Record<string, unknown>) => {
      const res = await h.request('/conversations/exports', { method: 'POST', json: { filter: { persona: tag, status: 'approved' }, ...body } });
      expect(res.status).toBe(200);
      const text = await res.text();
      return { res, text };
    };

    it('jsonl + openai: one {"messages"} per conversation, the template\'s system prompt first; logged with its sha256', async () => {
      const { res, text } = await exportFile({ format: 'jsonl' });
      expect(res.headers.get('content-type')).toMatch(/^application\/jsonl/);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="conversations-\d{8}T\d{6}Z-openai\.jsonl"$/);
      const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(lines).toEqual([
        { messages: [{ role: 'system', content: template.system_prompt }, { role: 'user', content: 'question 0' }, { role: 'assistant', content: 'answer 1' }] },
        { messages: [{ role: 'system', content: 'Own system prompt' }, { role: 'user', content: 'He said "hi",\r\nthen left' },
          { role: 'assistant', content: 'Ünïcödé ✓, "ok"' }] },
      ]);
      const logs = await json(await h.request('/conversations/exports'));
      const log = logs.items.find((l: { id: string }) => l.id === res.headers.get('x-export-id'));
      expect(log).toMatchObject({ status: 'completed', format: 'jsonl', shape: 'openai', conversation_count: 2,
        file_size_bytes: Buffer.byteLength(text), checksum_sha256: createHash('sha256').update(text).digest('hex'),
        filters: { persona: tag, status: 'approved' } });
      expect((await json(await h.request('/conversations/exports', { token: h.tokens.bob }))).items).toEqual([]);
      // The log keeps which conversations went into the file, in file order.
      const [kept] = await h.database.client.query<{ ids: string[]; items: number }>(
        `select conversation_ids::text[] as ids, (select count(*)::int from public.export_log_items where export_id = $1) as items
           from public.export_logs where id = $1`, [log.id]);
      const titles = await h.database.client.query<{ title: string }>(
        'select title from public.conversations where id = any($1::uuid[]) order by array_position($1::uuid[], id)', [kept!.ids]);
      expect(titles.map((t) => t.title)).toEqual(['Plain', 'Tricky "quotes", commas\nand newlines']);
      expect(kept!.items).toBe(0);
    });

    it('jsonl + sharegpt, json + raw, with metadata', async () => {
      const share = (await exportFile({ format: 'jsonl', shape: 'sharegpt', include_metadata: true })).text.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(share[1].conversations.map((m: { from: string }) => m.from)).toEqual(['system', 'human', 'gpt']);
      expect(share[0].metadata).toMatchObject({ title: 'Plain', persona: tag, status: 'approved' });
      const raw = JSON.parse((await exportFile({ format: 'json' })).text);
      expect(raw).toHaveLength(2);
      expect(raw[1]).toMatchObject({ title: 'Tricky "quotes", commas\nand newlines', turn_count: 3 });
      expect(raw[1].turns[1].content).toBe('He said "hi",\r\nthen left');
      const empty = await h.request('/conversations/exports', { method: 'POST', json: { format: 'json', filter: { persona: 'nobody' } } });
      expect(JSON.parse(await empty.text())).toEqual([]);
    });

    it('csv survives a round trip (quotes, commas, CR LF, unicode); markdown reads like a transcript', async () => {
      const rows = parseCsv((await exportFile({ format: 'csv' })).text);
      expect(rows[0]).toEqual(['conversation_id', 'title', 'persona', 'emotion', 'topic', 'tier', 'status', 'quality_score',
        'turn_number', 'role', 'content', 'token_count']);
      expect(rows).toHaveLength(1 + 2 + 3);
      expect(rows.slice(3).map((r) => [r[1], r[9], r[10]])).toEqual([
        ['Tricky "quotes", commas\nand newlines', 'system', 'Own system prompt'],
        ['Tricky "quotes", commas\nand newlines', 'user', 'He said "hi",\r\nthen left'],
        ['Tricky "quotes", commas\nand newlines', 'assistant', 'Ünïcödé ✓, "ok"'],
      ]);
      const md = (await exportFile({ format: 'markdown' })).text;
      expect(md).toContain('## Plain');
      expect(md).toContain('**User:** question 0');
      expect(md).toContain(`> **System:** ${template.system_prompt}`);
    });

    it('the default filter exports approved conversations only; bad requests are 400', async () => {
      const res = await h.request('/conversations/exports', { method: 'POST', json: { format: 'jsonl', shape: 'raw' } });
      const all = (await res.text()).trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(all.every((c: { status: string }) => c.status === 'approved')).toBe(true);
      await problem(await h.request('/conversations/exports', { method: 'POST', json: { format: 'xml' } }), 400);
      await problem(await h.request('/conversations/exports', { method: 'POST', json: { format: 'csv', filter: { colour: 'red' } } }), 400);
    });
  });

  describe('generation logs', () => {
    it('the service role records calls; users cannot; stats by day, model and template', async () => {
      const log = (body: Record<string, unknown>, token = h.tokens.service) =>
        h.request('/conversations/generation-logs', { method: 'POST', json: body, token });
      const model = `claude-test-${adapter}-${Date.now()}`;
      for (const [input, output, cost, status] of [[1000, 400, 0.012, 'success'], [1200, 0, 0.004, 'failed']] as const) {
        const res = await log({ model_used: model, template_id: template.id, input_tokens: input, output_tokens: output,
          cost_usd: cost, duration_ms: 900, status, request_payload: { prompt: 'x' } });
        expect(res.status).toBe(201);
      }
      await problem(await log({ model_used: model }, h.tokens.alice), 403);
      await problem(await log({ input_tokens: 3 }), 400);
      const stats = await json(await h.request('/conversations/generation-logs/stats', { token: reviewer.token }));
      const row = stats.items.find((s: { model: string }) => s.model === model);
      expect(row).toMatchObject({ template_id: template.id, template_name: 'financial_planning_consultation', calls: 2, failed_calls: 1,
        input_tokens: 2200, output_tokens: 400, total_tokens: 2600, cost_usd: 0.016, avg_duration_ms: 900 });
      expect(row.day).toBe(new Date().toISOString().slice(0, 10));
      const mine = await json(await h.request('/conversations/generation-logs/stats'));
      expect(mine.items.find((s: { model: string }) => s.model === model)).toBeUndefined();
    });
  });
});
