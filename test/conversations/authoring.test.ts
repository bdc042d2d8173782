// Issue 18 (conversations): seed 001's surface over HTTP, once per database
// adapter. Export defaults that cannot leak unreviewed data, authoring
// (edit, submit, delete a draft, archive), the reviewer role and the
// self-approval rule, templates / scenarios / edge cases, lists by quality,
// validation / cleanup / generation batch jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../scripts/lib/tokens.ts';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';
import { createReviewer } from '../support/reviewer.ts';

type Row = Record<string, any>;
const turns = (n = 4, content = (i: number) => (i % 2 === 0 ? `question ${i}` : `answer ${i}`)) =>
  Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: content(i), token_count: 10 }));
const good = { relevance: 9, accuracy: 8, naturalness: 8, coherence: 9, confidence: 7 };
const weak = { relevance: 4, accuracy: 5, naturalness: 6, coherence: 5, confidence: 5 };
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe.each(ADAPTERS)('conversations authoring through the %s adapter', (adapter) => {
  let h: Harness;
  let reviewer: { id: string; token: string };
  let reviewer2: { id: string; token: string };
  beforeAll(async () => {
    h = await createHarness(adapter);
    reviewer = await createReviewer(h.database);
    reviewer2 = await createReviewer(h.database);
  });
  afterAll(() => h.close());

  const req = (method: string, path: string, body?: unknown, token?: string) =>
    h.request(`/conversations${path}`, { method, json: body, token });
  const ok = async (res: Response, status = 200) => {
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(status);
    return body;
  };
  const problem = async (res: Response, status: number, detail?: RegExp) => {
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    if (detail) expect(body.detail).toMatch(detail);
    return body;
  };
  const create = (body: Row, token?: string) => req('POST', '', { turns: turns(4), ...body }, token).then((r) => ok(r, 201));
  const malformed = (method: string, path: string) =>
    h.request(`/conversations${path}`, { method, body: '{"title": ', headers: { 'content-type': 'application/json' } });

  describe('export defaults', () => {
    it('a filter without a status exports approved conversations only, and the log records the effective filter', async () => {
      const tag = `exp_${adapter}`;
      const approved = await create({ persona: tag, quality_metrics: good });
      await ok(await req('POST', `/${approved.id}/review`, { action: 'approve' }, reviewer.token));
      const draft = await create({ persona: tag, status: 'draft', quality_metrics: good });
      const flagged = await create({ persona: tag, quality_metrics: weak });
      expect(flagged).toMatchObject({ is_flagged: true, status: 'needs_revision' });
      const exported = async (filter: Row | undefined) => {
        const res = await req('POST', '/exports', { format: 'jsonl', shape: 'raw', ...(filter ? { filter } : {}) });
        expect(res.status).toBe(200);
        const ids = (await res.text()).trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l).id);
        const [log] = await h.database.client.query<{ filters: Row }>('select filters from public.export_logs where id = $1',
          [res.headers.get('x-export-id')]);
        return { ids, filters: log!.filters };
      };
      expect(await exported({ persona: tag })).toEqual({ ids: [approved.id], filters: { persona: tag, status: 'approved', flagged: false } });
      expect(await exported({ persona: tag, status: null })).toEqual({ ids: [approved.id], filters: { persona: tag, status: 'approved', flagged: false } });
      expect(await exported({ persona: tag, status: 'draft' })).toEqual({ ids: [draft.id], filters: { persona: tag, status: 'draft' } });
      expect(await exported({ persona: tag, status: 'needs_revision' }))
        .toEqual({ ids: [flagged.id], filters: { persona: tag, status: 'needs_revision' } });
      expect((await exported(undefined)).filters).toEqual({ status: 'approved', flagged: false });
    });
  });

  describe('authoring', () => {
    it('edits fields and replaces the turns in one go, rescored; refuses bad input with nothing changed', async () => {
      const c = await create({ title: 'first', quality_metrics: good, metadata: { v: 1 } });
      expect(c.quality_score).toBe(8.5);
      // two user turns in a row: the structure check fails, the score drops
      const edited = await ok(await req('PATCH', `/${c.id}`, {
        title: 'second', metadata: { v: 2 }, turns: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }],
      }));
      expect(edited).toMatchObject({ title: 'second', metadata: { v: 2 }, turn_count: 2, status: 'generated' });
      expect(edited.turns.map((t: Row) => [t.turn_number, t.role, t.content])).toEqual([[1, 'user', 'a'], [2, 'user', 'b']]);
      expect(edited.quality_score).toBeLessThan(c.quality_score);
      expect(await ok(await req('PATCH', `/${c.conversation_id}`, { title: null }))).toMatchObject({ title: null, turn_count: 2 });

      await problem(await malformed('PATCH', `/${c.id}`), 400);
      await problem(await req('PATCH', `/${c.id}`, {}), 400, /nothing to change/);
      await problem(await req('PATCH', `/${c.id}`, { title: 42 }), 400);
      await problem(await req('PATCH', `/${c.id}`, { status: 'approved' }), 400);
      await problem(await req('PATCH', `/${c.id}`, { quality_score: 10 }), 400);
      await problem(await req('PATCH', `/${c.id}`, { turns: [] }), 400);
      await problem(await req('PATCH', `/${c.id}`, { turns: [{ role: 'robot', content: 'x' }] }), 400);
      // duplicate turn numbers: the whole edit is refused, the stored turns stay
      await problem(await req('PATCH', `/${c.id}`, { title: 'lost', turns: [{ role: 'user', content: 'x', turn_number: 1 },
        { role: 'assistant', content: 'y', turn_number: 1 }] }), 409);
      const kept = await ok(await req('GET', `/${c.id}`));
      expect([kept.title, kept.turns.map((t: Row) => t.content)]).toEqual([null, ['a', 'b']]);
      await problem(await req('PATCH', `/${UNKNOWN}`, { title: 'x' }), 404);
      await problem(await req('PATCH', `/${c.id}`, { title: 'x' }, h.tokens.bob), 404);
      await problem(await req('PATCH', `/${c.id}`, { title: 'x' }, reviewer.token), 403);
      await problem(await req('PATCH', `/${c.id}`, { title: 'x' }, h.tokens.anon), 401);
    });

    it('submit, review, archive: each move once, illegal ones 409', async () => {
      const c = await create({ quality_metrics: good });
      await problem(await req('POST', `/${c.id}/submit`, undefined, h.tokens.bob), 404);
      await problem(await req('POST', `/${c.id}/submit`, undefined, reviewer.token), 403);
      expect(await ok(await req('POST', `/${c.id}/submit`))).toMatchObject({ status: 'pending_review' });
      await problem(await req('POST', `/${c.id}/submit`), 409, /cannot submit .* pending_review/);
      await problem(await req('PATCH', `/${c.id}`, { title: 'x' }), 409, /pending_review/);
      await ok(await req('POST', `/${c.id}/review`, { action: 'approve' }, reviewer.token));
      await problem(await req('PATCH', `/${c.id}`, { title: 'x' }), 409, /approved/);
      await problem(await req('DELETE', `/${c.id}`), 409, /only a draft/);
      await problem(await req('POST', `/${c.id}/archive`, undefined, h.tokens.bob), 404);
      expect(await ok(await req('POST', `/${c.id}/archive`))).toMatchObject({ status: 'archived' });
      await problem(await req('POST', `/${c.id}/archive`), 409, /already archived/);
      await problem(await req('POST', `/${c.id}/submit`), 409);
      await problem(await req('POST', `/${UNKNOWN}/archive`), 404);
      // a reviewer archives someone else's
      const other = await create({});
      expect(await ok(await req('POST', `/${other.id}/archive`, undefined, reviewer.token))).toMatchObject({ status: 'archived' });
    });

    it('a draft is submitted or deleted by its author; deleted is gone', async () => {
      const d = await create({ status: 'draft' });
      expect(await ok(await req('POST', `/${d.id}/submit`))).toMatchObject({ status: 'pending_review' });
      const gone = await create({ status: 'draft', conversation_id: `draft_${adapter}` });
      await problem(await req('DELETE', `/${gone.id}`, undefined, h.tokens.bob), 404);
      await problem(await req('DELETE', `/${gone.id}`, undefined, reviewer.token), 403);
      expect(await ok(await req('DELETE', `/draft_${adapter}`))).toEqual({ id: gone.id, conversation_id: `draft_${adapter}`, deleted: true });
      await problem(await req('GET', `/${gone.id}`), 404);
      await problem(await req('DELETE', `/${gone.id}`), 404);
    });

    it('two edits at once: one after the other, never a mix of their turns; two submits: one wins, the other is 409', async () => {
      const c = await create({});
      const a = turns(2, (i) => `a${i}`);
      const b = turns(6, (i) => `b${i}`);
      const [ra, rb] = await Promise.all([req('PATCH', `/${c.id}`, { turns: a }), req('PATCH', `/${c.id}`, { turns: b })]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      const final = await ok(await req('GET', `/${c.id}`));
      const contents = final.turns.map((t: Row) => t.content);
      expect([a.map((t) => t.content), b.map((t) => t.content)]).toContainEqual(contents);
      expect(final.turn_count).toBe(contents.length);
      const statuses = (await Promise.all([req('POST', `/${c.id}/submit`), req('POST', `/${c.id}/submit`)])).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 409]);
    });
  });

  describe('reviewers', () => {
    it('the service role grants and revokes the role; nobody else does; reviewers and the service role list them', async () => {
      const user = crypto.randomUUID();
      await h.database.client.query('insert into auth.users (id, email) values ($1, $2)', [user, `${user}@example.com`]);
      const token = await mintToken({ role: 'authenticated', sub: user });
      const someone = await create({ title: 'to be reviewed' });
      await problem(await req('GET', `/${someone.id}`, undefined, token), 404);

      await problem(await req('PUT', `/reviewers/${user}`), 403);
      await problem(await req('PUT', `/reviewers/${user}`, undefined, reviewer.token), 403);
      await problem(await req('PUT', `/reviewers/${user}`, undefined, h.tokens.anon), 401);
      await problem(await req('PUT', '/reviewers/not-a-uuid', undefined, h.tokens.service), 400);
      await problem(await req('PUT', `/reviewers/${UNKNOWN}`, undefined, h.tokens.service), 404, /not found/);
      expect(await ok(await req('PUT', `/reviewers/${user}`, undefined, h.tokens.service))).toMatchObject({ user_id: user, is_reviewer: true });
      expect(await ok(await req('PUT', `/reviewers/${user}`, undefined, h.tokens.service))).toMatchObject({ is_reviewer: true });
      expect((await req('GET', `/${someone.id}`, undefined, token)).status).toBe(200);

      const listed = async (t: string) => {
        const ids: string[] = [];
        let cursor: string | null = null;
        do {
          const page: Row = await ok(await req('GET', `/reviewers?limit=1${cursor ? `&cursor=${cursor}` : ''}`, undefined, t));
          ids.push(...page.items.map((r: Row) => r.user_id));
          cursor = page.next_cursor;
        } while (cursor);
        return ids;
      };
      expect((await listed(h.tokens.service)).sort()).toEqual([reviewer.id, reviewer2.id, user].sort());
      expect((await listed(reviewer.token)).sort()).toEqual([reviewer.id, reviewer2.id, user].sort());
      await problem(await req('GET', '/reviewers'), 403);
      await problem(await req('GET', '/reviewers?role=x', undefined, h.tokens.service), 400);

      expect(await ok(await req('DELETE', `/reviewers/${user}`, undefined, h.tokens.service))).toMatchObject({ is_reviewer: false });
      await problem(await req('DELETE', `/reviewers/${user}`, undefined, reviewer.token), 403);
      await problem(await req('GET', `/${someone.id}`, undefined, token), 404);
    });

    it('a reviewer neither approves nor rejects their own conversation; another reviewer does', async () => {
      const own = await create({ quality_metrics: good }, reviewer.token);
      await problem(await req('POST', `/${own.id}/review`, { action: 'approve' }, reviewer.token), 403, /cannot approve their own/);
      await problem(await req('POST', `/${own.id}/review`, { action: 'reject' }, reviewer.token), 403, /cannot reject their own/);
      expect(await ok(await req('GET', `/${own.id}`, undefined, reviewer.token))).toMatchObject({ status: 'generated', review_history: [] });
      expect(await ok(await req('POST', `/${own.id}/review`, { action: 'approve' }, reviewer2.token)))
        .toMatchObject({ status: 'approved', approved_by: reviewer2.id });
    });
  });

  describe('templates, scenarios, edge cases', () => {
    it('lists the shared templates by tier, category and applicability, paged; /templates is not a conversation id', async () => {
      const names = async (query: string) =>
        (await ok(await req('GET', `/templates${query}`))).items.map((t: Row) => t.template_name).sort();
      expect(await names('')).toEqual(['ambiguous_request_clarification', 'difficult_customer_deescalation', 'financial_planning_consultation']);
      expect(await names('?tier=scenario')).toEqual(['difficult_customer_deescalation']);
      expect(await names('?category=financial_planning&active=true')).toEqual(['financial_planning_consultation']);
      expect(await names('?persona=pre_retiree')).toEqual(['financial_planning_consultation']);
      expect(await names('?emotion=angry')).toEqual(['difficult_customer_deescalation']);
      expect(await names('?topic=scheduling')).toEqual(['ambiguous_request_clarification']);
      expect(await names('?active=false')).toEqual([]);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Row = await ok(await req('GET', `/templates?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
        seen.push(...page.items.map((t: Row) => t.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(3);
      await problem(await req('GET', '/templates?colour=red'), 400, /colour/);
      await problem(await req('GET', '/templates?tier=bogus'), 400);
      await problem(await req('GET', '/templates?active=yes'), 400);
      await problem(await req('GET', '/templates?cursor=bogus'), 400);
      await problem(await req('GET', `/templates/${UNKNOWN}`), 404);
      await problem(await req('GET', '/templates/nope'), 400);
    });

    it('a user creates, changes and deactivates their own; counters and ratings are the database\'s', async () => {
      const t = await ok(await req('POST', '/templates', { template_name: `tpl_${adapter}`, tier: 'scenario', category: 'support',
        applicable_personas: ['night_owl'], min_turns: 2, max_turns: 8 }), 201);
      expect(t).toMatchObject({ created_by: h.users.alice, usage_count: 0, rating: null, success_rate: null, is_active: true });
      await problem(await malformed('POST', '/templates'), 400);
      await problem(await req('POST', '/templates', { template_name: 'x', usage_count: 99 }), 400, /usage_count/);
      await problem(await req('POST', '/templates', { template_name: 'x', rating: 5 }), 400);
      await problem(await req('POST', '/templates', { tier: 'template' }), 400, /template_name/);
      await problem(await req('POST', '/templates', { template_name: 'x', min_turns: 'two' }), 400);
      await problem(await req('POST', '/templates', { template_name: 'x', min_turns: 5, max_turns: 2 }), 400);
      await problem(await req('POST', '/templates', { template_name: `tpl_${adapter}` }), 409);
      expect(await ok(await req('PATCH', `/templates/${t.id}`, { description: 'night talks', applicable_personas: ['night_owl', 'early_bird'] })))
        .toMatchObject({ description: 'night talks', applicable_personas: ['night_owl', 'early_bird'] });
      await problem(await req('PATCH', `/templates/${t.id}`, { success_rate: 1 }), 400);
      await problem(await req('PATCH', `/templates/${t.id}`, {}), 400);
      await problem(await req('PATCH', `/templates/${t.id}`, { description: 'mine now' }, h.tokens.bob), 404);
      await problem(await req('PATCH', `/templates/${t.id}`, { description: 'mine now' }, reviewer.token), 403);
      const shared = (await ok(await req('GET', '/templates?tier=edge_case'))).items[0];
      await problem(await req('PATCH', `/templates/${shared.id}`, { description: 'mine now' }), 403);
      await problem(await req('POST', `/templates/${shared.id}/deactivate`), 403);
      await problem(await req('GET', `/templates/${t.id}`, undefined, h.tokens.bob), 404);

      // conversations made from it: usage counted; reviews make its success rate and rating
      const made = [];
      for (const metrics of [good, good, weak]) made.push(await create({ template_id: t.id, quality_metrics: metrics }));
      await ok(await req('POST', `/${made[0].id}/review`, { action: 'approve' }, reviewer.token));
      await ok(await req('POST', `/${made[1].id}/review`, { action: 'approve' }, reviewer.token));
      await ok(await req('POST', `/${made[2].id}/review`, { action: 'reject' }, reviewer.token));
      const rated = await ok(await req('GET', `/templates/${t.id}`));
      expect(rated).toMatchObject({ usage_count: 3, success_rate: 0.6667, rating: Number((made[0].quality_score / 2).toFixed(2)) });

      expect(await ok(await req('POST', `/templates/${t.id}/deactivate`))).toMatchObject({ is_active: false });
      await problem(await req('POST', `/templates/${t.id}/deactivate`), 409, /already inactive/);
      expect((await ok(await req('GET', '/templates?active=false'))).items.map((x: Row) => x.id)).toEqual([t.id]);
      // the service role's templates are shared
      const sharedNew = await ok(await req('POST', '/templates', { template_name: `shared_${adapter}` }, h.tokens.service), 201);
      expect(sharedNew.created_by).toBeNull();
      expect((await req('GET', `/templates/${sharedNew.id}`, undefined, h.tokens.bob)).status).toBe(200);
    });

    it('scenarios and edge cases hang under a template; filtered, deactivated', async () => {
      const tpl = (await ok(await req('GET', '/templates?tier=template'))).items[0];
      const s = await ok(await req('POST', '/scenarios', { name: 'angry refund', parent_template_id: tpl.id, persona: 'p1', topic: 'refund' }), 201);
      expect(s).toMatchObject({ status: 'active', usage_count: 0, created_by: h.users.alice });
      await problem(await req('POST', '/scenarios', { name: 'x', parent_template_id: UNKNOWN }), 404);
      await problem(await req('POST', '/scenarios', { name: 'x', usage_count: 3 }), 400);
      await problem(await req('POST', '/scenarios', {}), 400);
      expect((await ok(await req('GET', `/scenarios?parent_template_id=${tpl.id}&persona=p1`))).items.map((x: Row) => x.id)).toEqual([s.id]);
      expect(await ok(await req('PATCH', `/scenarios/${s.id}`, { topic: 'billing' }))).toMatchObject({ topic: 'billing' });
      expect(await ok(await req('POST', `/scenarios/${s.id}/deactivate`))).toMatchObject({ status: 'archived' });
      expect((await ok(await req('GET', '/scenarios?active=true'))).items).toEqual([]);
      await problem(await req('POST', `/scenarios/${s.id}/deactivate`), 409);

      const e = await ok(await req('POST', '/edge-cases', { name: 'vague', trigger_condition: 'no detail', expected_behavior: 'ask',
        risk_level: 'high', validation_criteria: ['asks once'] }), 201);
      expect(e).toMatchObject({ is_active: true, test_status: 'not_tested', risk_level: 'high' });
      await problem(await req('POST', '/edge-cases', { name: 'x', trigger_condition: 'y' }), 400, /expected_behavior/);
      await problem(await req('POST', '/edge-cases', { name: 'x', trigger_condition: 'y', expected_behavior: 'z', risk_level: 'extreme' }), 400);
      expect((await ok(await req('GET', '/edge-cases?risk_level=high'))).items.map((x: Row) => x.id)).toEqual([e.id]);
      expect(await ok(await req('PATCH', `/edge-cases/${e.id}`, { test_status: 'passed' }))).toMatchObject({ test_status: 'passed' });
      await problem(await req('PATCH', `/edge-cases/${e.id}`, { test_status: 'passed' }, h.tokens.bob), 404);
      expect(await ok(await req('POST', `/edge-cases/${e.id}/deactivate`))).toMatchObject({ is_active: false });
      expect((await ok(await req('GET', '/edge-cases?active=true'))).items).toEqual([]);
    });
  });

  describe('lists by quality', () => {
    it('orders by quality_score (unscored last when descending), keyset paged; a cursor belongs to its order', async () => {
      const tag = `q_${adapter}`;
      const scores: (number | null)[] = [];
      for (const m of [good, weak, { relevance: 7 }, { relevance: 9.5 }, null, { relevance: 7 }]) {
        const c = await create({ persona: tag, ...(m ? { quality_metrics: m } : {}) });
        scores.push(c.quality_score);
      }
      const walk = async (order: string, limit: number) => {
        const out: Row[] = [];
        let cursor: string | null = null;
        do {
          const page: Row = await ok(await req('GET', `?persona=${tag}&order=${order}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`));
          out.push(...page.items);
          cursor = page.next_cursor;
        } while (cursor);
        return out;
      };
      const desc = await walk('quality_score.desc', 2);
      const key = (s: number | null) => s ?? -1;
      expect(desc.map((c) => c.quality_score)).toEqual([...scores].sort((a, b) => key(b) - key(a)));
      expect(desc.at(-1)!.quality_score).toBeNull();
      expect(new Set(desc.map((c) => c.id)).size).toBe(6);
      const asc = await walk('quality_score.asc', 4);
      expect(asc.map((c) => c.id)).toEqual([...desc].reverse().map((c) => c.id));
      const first = await ok(await req('GET', `?persona=${tag}&order=quality_score.desc&limit=2`));
      await problem(await req('GET', `?persona=${tag}&limit=2&cursor=${first.next_cursor}`), 400, /cursor/);
      await problem(await req('GET', `?persona=${tag}&order=quality_score.asc&cursor=${first.next_cursor}`), 400, /cursor/);
      await problem(await req('GET', '?order=title'), 400);
      await problem(await req('GET', '?sort=quality_score'), 400, /sort/);
      expect((await ok(await req('GET', `?persona=${tag}&order=quality_score.desc`, undefined, h.tokens.bob))).items).toEqual([]);
    });
  });

  describe('batch jobs', () => {
    it('validation rescores and checks structure over a filter, chunk by chunk; only the service role starts jobs', async () => {
      const tag = `val_${adapter}`;
      await create({ persona: tag, quality_metrics: good });
      await create({ persona: tag, quality_metrics: good, turns: [{ role: 'user', content: 'a' }, { role: 'user', content: '  ' }] });
      await problem(await req('POST', '/batch-jobs', { job_type: 'validation' }), 403);
      await problem(await req('POST', '/batch-jobs', { job_type: 'validation' }, reviewer.token), 403);
      await problem(await malformed('POST', '/batch-jobs'), 400);
      await problem(await req('POST', '/batch-jobs', { job_type: 'shred' }, h.tokens.service), 400);
      await problem(await req('POST', '/batch-jobs', { job_type: 'validation', filter: { colour: 'red' } }, h.tokens.service), 400);
      const job = await ok(await req('POST', '/batch-jobs', { job_type: 'validation', filter: { persona: tag } }, h.tokens.service), 201);
      expect(job).toMatchObject({ job_type: 'validation', status: 'completed', total_items: 2, processed_items: 2,
        results: { structure_failed: 1, roles_not_alternating: 1, empty_turns: 1, turn_count_out_of_bounds: 0 } });
      expect(await ok(await req('GET', `/batch-jobs/${job.id}`, undefined, h.tokens.service))).toEqual(job);
      await problem(await req('GET', `/batch-jobs/${UNKNOWN}`, undefined, h.tokens.service), 404);
    });

    it('cleanup archives flagged conversations older than N days, approved ones kept', async () => {
      const tag = `clean_${adapter}`;
      const flagged = await create({ persona: tag, quality_metrics: weak });
      const fine = await create({ persona: tag, quality_metrics: good });
      await problem(await req('POST', '/batch-jobs', { job_type: 'cleanup', filter: { persona: tag } }, h.tokens.service), 400, /older_than_days/);
      const none = await ok(await req('POST', '/batch-jobs', { job_type: 'cleanup', older_than_days: 30, filter: { persona: tag } }, h.tokens.service), 201);
      expect(none).toMatchObject({ status: 'completed', total_items: 0, processed_items: 0 });
      const job = await ok(await req('POST', '/batch-jobs', { job_type: 'cleanup', older_than_days: 0, filter: { persona: tag } }, h.tokens.service), 201);
      expect(job).toMatchObject({ job_type: 'cleanup', status: 'completed', total_items: 1, processed_items: 1, results: { archived: 1 } });
      expect((await ok(await req('GET', `/${flagged.id}`))).status).toBe('archived');
      expect((await ok(await req('GET', `/${fine.id}`))).status).toBe('generated');
    });

    it('a generation job is a record its worker reports to: a replayed report is 409, not counted twice', async () => {
      const job = await ok(await req('POST', '/batch-jobs', { job_type: 'generation', total_items: 3, name: 'nightly' }, h.tokens.service), 201);
      expect(job).toMatchObject({ job_type: 'generation', name: 'nightly', status: 'running', total_items: 3, processed_items: 0 });
      const report = (body: Row, token = h.tokens.service) => req('POST', `/batch-jobs/${job.id}/progress`, body, token);
      await problem(await report({ processed_before: 0, succeeded: 1 }, h.tokens.alice), 403);
      await problem(await report({ processed_before: 0, succeeded: -1 }), 400);
      await problem(await report({ processed_before: 0, succeeded: 4 }), 409, /3 items/);
      expect(await ok(await report({ processed_before: 0, succeeded: 1, failed: 1, results: { tokens: 100 } })))
        .toMatchObject({ processed_items: 2, successful_items: 1, failed_items: 1, results: { tokens: 100 } });
      await problem(await report({ processed_before: 0, succeeded: 1, failed: 1, results: { tokens: 100 } }), 409, /replayed/);
      await problem(await req('POST', `/batch-jobs/${job.id}/finish`, {}, h.tokens.service), 409, /items left/);
      expect(await ok(await report({ processed_before: 2, succeeded: 1, results: { tokens: 50 } })))
        .toMatchObject({ processed_items: 3, successful_items: 2, results: { tokens: 150 } });
      expect(await ok(await req('POST', `/batch-jobs/${job.id}/finish`, {}, h.tokens.service))).toMatchObject({ status: 'completed' });
      await problem(await report({ processed_before: 3, succeeded: 0 }), 404);
      await problem(await req('POST', `/batch-jobs/${UNKNOWN}/progress`, { processed_before: 0, succeeded: 1 }, h.tokens.service), 404);
    });
  });
});
