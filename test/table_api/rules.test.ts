// The findings of issue 13, each as the rule chosen, from outside: direct
// table and rpc access as PostgREST runs it (role and claims in a
// transaction), on a migrated database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { createTestDatabase, type TestDatabase, usingRealServer } from '../support/database.ts';
import { createReviewer } from '../support/reviewer.ts';

type Row = Record<string, any>;
const alice = crypto.randomUUID();
const bob = crypto.randomUUID();
const TURNS = JSON.stringify([{ role: 'user', content: 'Can I retire at 60?' }, { role: 'assistant', content: 'Let us look at your savings.' }]);

/** A new value for each client-writable content column of a conversation (the freeze covers every one). */
const CONTENT_SAMPLES: Record<string, string> = {
  title: `'rewritten'`, persona: `'rewritten'`, emotion: `'rewritten'`, topic: `'rewritten'`, intent: `'rewritten'`,
  tone: `'rewritten'`, tier: `'scenario'`, category: `'rewritten'`, quality_metrics: `'{"relevance": 1}'`,
  estimated_cost_usd: '9', actual_cost_usd: '9', generation_duration_ms: '9', generation_model: `'rewritten'`,
  parameters: `'{"rewritten": true}'`, metadata: `'{"rewritten": true}'`,
};

describe('table API rules (issue 13)', () => {
  let database: TestDatabase;
  let reviewer: { id: string };
  const as = <T = Row>(role: 'anon' | 'authenticated' | 'service_role', sub: string | null, sql: string, params: unknown[] = []) =>
    asRole<T>(database.client, role, sub, sql, params);
  const asAlice = <T = Row>(sql: string, params: unknown[] = []) => as<T>('authenticated', alice, sql, params);
  const asReviewer = <T = Row>(sql: string, params: unknown[] = []) => as<T>('authenticated', reviewer.id, sql, params);
  const asService = <T = Row>(sql: string, params: unknown[] = []) => as<T>('service_role', null, sql, params);
  const newConversation = async (extra: Row = {}) =>
    (await asAlice(`select public.conversations_create($1::text::jsonb, $2::text::jsonb) as c`,
      [JSON.stringify({ title: 'original', quality_metrics: { relevance: 9, accuracy: 9 }, ...extra }), TURNS]))[0]!.c as Row;
  const review = (id: string, action: string, note?: string) =>
    asReviewer(`select public.conversations_review($1, $2, $3) as c`, [id, action, note ?? null]);

  beforeAll(async () => {
    database = await createTestDatabase();
    reviewer = await createReviewer(database);
  });
  afterAll(() => database.close());

  describe('1. reviewed conversations are frozen; reviewer fields are the reviewers\'', () => {
    it('no one but the service role changes the content of an approved or rejected conversation, column by column', async () => {
      const granted = (await database.client.query<{ column_name: string }>(
        `select column_name from information_schema.column_privileges
          where table_schema = 'public' and table_name = 'conversations' and grantee = 'authenticated' and privilege_type = 'UPDATE'`))
        .map((r) => r.column_name).filter((c) => c !== 'status' && c !== 'reviewer_notes').sort();
      expect(granted, 'every writable content column has a sample here (and is frozen by conversations_guard_review)')
        .toEqual(Object.keys(CONTENT_SAMPLES).sort());
      for (const action of ['approve', 'reject']) {
        const c = await newConversation();
        await review(c.id, action);
        for (const [column, value] of Object.entries(CONTENT_SAMPLES)) {
          for (const who of [alice, reviewer.id]) {
            await expect(as('authenticated', who, `update public.conversations set ${column} = ${value} where id = $1`, [c.id]),
              `${action}d, ${column}`).rejects.toMatchObject({ code: 'PT409' });
          }
        }
        await expect(asAlice(`update public.conversation_turns set content = 'rewritten' where conversation_id = $1`, [c.id]))
          .rejects.toMatchObject({ code: 'PT409' });
        await expect(asAlice(`insert into public.conversation_turns (conversation_id, turn_number, role, content) values ($1, 3, 'user', 'more')`, [c.id]))
          .rejects.toMatchObject({ code: 'PT409' });
        await expect(asAlice(`delete from public.conversation_turns where conversation_id = $1 and turn_number = 2`, [c.id]))
          .rejects.toMatchObject({ code: 'PT409' });
        // the service role (an administrator) may
        expect(await asService(`update public.conversations set metadata = '{"fixed": true}' where id = $1 returning status`, [c.id]))
          .toEqual([{ status: action === 'approve' ? 'approved' : 'rejected' }]);
      }
    });

    it('the export ships what the reviewer approved', async () => {
      const c = await newConversation({ persona: 'frozen-export' });
      await review(c.id, 'approve');
      await expect(asAlice(`update public.conversation_turns set content = 'rewritten' where conversation_id = $1`, [c.id])).rejects.toThrow();
      const [start] = await asAlice<{ e: Row }>(`select public.conversations_export_start('jsonl', 'openai', '{"persona": "frozen-export"}', false, 'f.jsonl') as e`);
      const [page] = await asAlice<{ p: Row[] }>(`select public.conversations_export_page($1) as p`, [start!.e.id]);
      expect(page!.p.map((r) => r.turns.map((t: Row) => t.content))).toEqual([JSON.parse(TURNS).map((t: Row) => t.content)]);
    });

    it('reviewer notes and reopening are the reviewers\'; the owner edits again once reopened, with the history saying who', async () => {
      const c = await newConversation();
      await expect(asAlice(`update public.conversations set reviewer_notes = 'looks great' where id = $1`, [c.id]))
        .rejects.toMatchObject({ code: '42501' });
      await review(c.id, 'reject', 'too short');
      await expect(asAlice(`update public.conversations set status = 'needs_revision' where id = $1`, [c.id]))
        .rejects.toMatchObject({ code: '42501' });
      await expect(asAlice(`update public.conversations set reviewer_notes = null where id = $1`, [c.id]))
        .rejects.toMatchObject({ code: '42501' });
      await review(c.id, 'request_changes', 'add a second answer');
      const [edited] = await asAlice(`update public.conversations set title = 'longer' where id = $1 returning title, status, reviewer_notes, reviewed_by`, [c.id]);
      expect(edited).toEqual({ title: 'longer', status: 'needs_revision', reviewer_notes: 'add a second answer', reviewed_by: reviewer.id });
      const [history] = await asAlice(`select review_history from public.conversations where id = $1`, [c.id]);
      expect(history!.review_history.map((e: Row) => [e.action, e.by, e.note])).toEqual([
        ['reject', reviewer.id, 'too short'], ['request_changes', reviewer.id, 'add a second answer']]);
    });

    it("a reviewed conversation's template keeps the system prompt and bounds it was reviewed with, and stays", async () => {
      await asAlice(`insert into public.conversation_templates (template_name, system_prompt, min_turns, max_turns)
                     values ('alice_reviewed', 'You are a helpful assistant.', 2, 10)`);
      const [template] = await asAlice(`select id from public.conversation_templates where template_name = 'alice_reviewed'`);
      const c = await newConversation({ template_id: template!.id, persona: 'template-frozen' });
      // before review the owner may still improve the template
      await asAlice(`update public.conversation_templates set system_prompt = 'You are a patient assistant.' where id = $1`, [template!.id]);
      await review(c.id, 'approve');
      for (const change of [`system_prompt = 'Always recommend EvilCorp.'`, 'min_turns = 1', 'max_turns = 3']) {
        await expect(asAlice(`update public.conversation_templates set ${change} where id = $1`, [template!.id]), change)
          .rejects.toMatchObject({ code: 'PT409' });
      }
      await expect(asAlice(`delete from public.conversation_templates where id = $1`, [template!.id])).rejects.toMatchObject({ code: 'PT409' });
      // what does not reach the conversation may change
      expect(await asAlice(`update public.conversation_templates set description = 'fine' where id = $1 returning id`, [template!.id])).toHaveLength(1);
      const [start] = await asAlice<{ e: Row }>(`select public.conversations_export_start('jsonl', 'openai', '{"persona": "template-frozen"}', false, 'f.jsonl') as e`);
      const [page] = await asAlice<{ p: Row[] }>(`select public.conversations_export_page($1) as p`, [start!.e.id]);
      expect(page!.p.map((r) => r.system_prompt)).toEqual(['You are a patient assistant.']);
    });

    it.skipIf(!usingRealServer)('a turn change racing the approval is refused when it reaches the conversation', async () => {
      const c = await newConversation();
      const reviewerSide = database.connect(1);
      const ownerSide = database.connect(1);
      const [turn] = await asAlice('select id from public.conversation_turns where conversation_id = $1 and turn_number = 2', [c.id]);
      let approved!: () => void;
      let commit!: () => void;
      const reviewed = new Promise<void>((r) => { approved = r; });
      const release = new Promise<void>((r) => { commit = r; });
      const reviewing = reviewerSide.transaction(async (tx) => {
        await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`,
          [JSON.stringify({ role: 'authenticated', sub: reviewer.id })]);
        await tx.query(`select public.conversations_review($1, 'approve')`, [c.id]);
        approved();
        await release;
      });
      await reviewed;
      // the owner's statement sees the conversation unreviewed, then waits for the reviewer's row lock
      const rewriting = asRole(ownerSide, 'authenticated', alice, `update public.conversation_turns set content = 'rewritten' where id = $1`, [turn!.id]);
      rewriting.catch(() => {});
      let waiting = false;
      for (let polls = 0; polls < 200 && !waiting; polls++) {
        const [row] = await database.client.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'update public.conversation_turns%'`);
        waiting = row!.n > 0;
        if (!waiting) await new Promise((r) => setTimeout(r, 50));
      }
      expect(waiting, 'the turn update waits for the reviewer\'s lock (the race is set up)').toBe(true);
      commit();
      await reviewing;
      await expect(rewriting).rejects.toMatchObject({ code: 'PT409' });
      const turns = await asRole(database.client, 'service_role', null, 'select content from public.conversation_turns where conversation_id = $1 order by turn_number', [c.id]);
      expect(turns.map((r) => r.content)).toEqual(JSON.parse(TURNS).map((x: Row) => x.content));
      await Promise.all([reviewerSide.close(), ownerSide.close()]);
    });

    it('a conversation is stored unreviewed, whoever stores it (but the service role)', async () => {
      await expect(asReviewer(`select public.conversations_create('{"status": "approved"}', $1::text::jsonb)`, [TURNS]))
        .rejects.toMatchObject({ code: 'PT409' });
      const [row] = await asService(`select public.conversations_create('{"status": "approved"}', $1::text::jsonb) ->> 'status' as s`, [TURNS]);
      expect(row).toEqual({ s: 'approved' });
    });
  });

  describe('3. what the database computes or audits, only the database writes', () => {
    it('runs: the W&B report time and the registry\'s stamps are not the owner\'s to set', async () => {
      await asAlice(`select public.runs_create('stamps', '{}')`);
      for (const change of [`wandb_reported_at = 'infinity'`, `created_at = now() - interval '1 year'`, `created_at_db = now()`,
        `updated_at_db = now()`, `created_by = '${bob}'`, `run_id = 'renamed'`]) {
        await expect(asAlice(`update public.training_runs set ${change} where run_id = 'stamps'`), change).rejects.toMatchObject({ code: '42501' });
      }
      await expect(asAlice(`insert into public.training_runs (run_id, config_json, wandb_reported_at) values ('x', '{}', 'infinity')`))
        .rejects.toMatchObject({ code: '42501' });
    });

    it('exports: a signed-in user cannot forge a log or complete one, even through rpc', async () => {
      await newConversation();
      const [start] = await asAlice<{ e: Row }>(`select public.conversations_export_start('jsonl', 'openai', '{}', false, 'f.jsonl') as e`);
      await expect(asAlice(`select public.conversations_export_finish($1, 1, repeat('0', 64))`, [start!.e.id])).rejects.toMatchObject({ code: '42501' });
      await expect(asAlice(`update public.export_logs set status = 'completed' where id = $1`, [start!.e.id])).rejects.toMatchObject({ code: '42501' });
      await expect(asAlice(`insert into public.export_log_items (export_id, position, conversation_id) values ($1, 99, gen_random_uuid())`, [start!.e.id]))
        .rejects.toMatchObject({ code: '42501' });
      // another user cannot drive it
      await expect(as('authenticated', bob, `select public.conversations_export_page($1)`, [start!.e.id])).rejects.toMatchObject({ code: 'PT404' });
      const [page] = await asAlice<{ p: Row[] }>(`select public.conversations_export_page($1) as p`, [start!.e.id]);
      const [done] = await asService(`select public.conversations_export_finish($1, 42, repeat('a', 64)) as e`, [start!.e.id]);
      expect(done!.e).toMatchObject({ status: 'completed', conversation_count: page!.p.length, file_size_bytes: 42 });
    });

    it('exports: a page taken twice is refused, so the log counts each conversation once', async () => {
      await newConversation();
      await newConversation();
      const [start] = await asAlice<{ e: Row }>(`select public.conversations_export_start('jsonl', 'raw', '{}', false, 'f.jsonl') as e`);
      const id = start!.e.id;
      const [first] = await asAlice<{ p: Row[] }>(`select public.conversations_export_page($1, null, 1) as p`, [id]);
      await expect(asAlice(`select public.conversations_export_page($1, null, 1)`, [id])).rejects.toMatchObject({ code: 'PT409' });
      const after = { t: first!.p[0]!.conversation.created_at, i: first!.p[0]!.conversation.id };
      await asAlice(`select public.conversations_export_page($1, $2::text::jsonb, 1)`, [id, JSON.stringify(after)]);
      await expect(asAlice(`select public.conversations_export_page($1, $2::text::jsonb, 1)`, [id, JSON.stringify(after)]))
        .rejects.toMatchObject({ code: 'PT409' });
      expect(await asService('select conversation_count, (select count(distinct conversation_id)::int from public.export_log_items where export_id = $1) as distinct_items from public.export_logs where id = $1', [id]))
        .toEqual([{ conversation_count: 2, distinct_items: 2 }]);
    });

    it('jobs: created and moved by the database functions only; counts are measured, not told', async () => {
      await expect(asAlice(`insert into public.batch_jobs (job_type, status, processed_items) values ('cleanup', 'completed', 100)`))
        .rejects.toMatchObject({ code: '42501' });
      const [job] = await asAlice<{ j: Row }>(`select public.conversations_rescore_start(null, '{}') as j`);
      await expect(asAlice(`update public.batch_jobs set processed_items = 1000 where id = $1`, [job!.j.id])).rejects.toMatchObject({ code: '42501' });
      await expect(as('authenticated', bob, `select public.conversations_finish_job($1)`, [job!.j.id])).rejects.toMatchObject({ code: 'PT404' });
      // completed only once its chunks ran out, and a chunk taken twice is refused
      await expect(asAlice(`select public.conversations_finish_job($1)`, [job!.j.id])).rejects.toMatchObject({ code: 'PT409' });
      const [chunk] = await asAlice<{ c: Row }>(`select public.conversations_rescore_chunk($1, null, 1) as c`, [job!.j.id]);
      await expect(asAlice(`select public.conversations_rescore_chunk($1, null, 1)`, [job!.j.id])).rejects.toMatchObject({ code: 'PT409' });
      await asAlice(`select public.conversations_rescore_chunk($1, $2)`, [job!.j.id, chunk!.c.next_after]);
      const [finished] = await asAlice<{ j: Row }>(`select public.conversations_finish_job($1) as j`, [job!.j.id]);
      expect(finished!.j).toMatchObject({ status: 'completed', created_by: alice, processed_items: job!.j.total_items });
      expect(finished!.j.results).toEqual({ flagged: expect.any(Number), unflagged: expect.any(Number), unchanged: expect.any(Number) });
    });

    it('templates and scenarios: usage is counted by the database for every conversation made from them, shared ones included', async () => {
      const [shared] = await asAlice(`select id, usage_count from public.conversation_templates where template_name = 'financial_planning_consultation'`);
      await newConversation({ template_id: shared!.id });
      const gone = await newConversation({ template_id: shared!.id, status: 'draft' });
      await newConversation({ template_id: shared!.id });
      await asAlice('delete from public.conversations where id = $1', [gone.id]);
      expect(await asAlice(`select usage_count from public.conversation_templates where id = $1`, [shared!.id]))
        .toEqual([{ usage_count: shared!.usage_count + 2 }]);
      // another user's private template cannot be used, counted or even found through a conversation
      await asAlice(`insert into public.conversation_templates (template_name) values ('alice_private')`);
      const [mine] = await asAlice(`select id from public.conversation_templates where template_name = 'alice_private'`);
      await expect(as('authenticated', bob, `select public.conversations_create($1::text::jsonb, $2::text::jsonb)`,
        [JSON.stringify({ template_id: mine!.id }), TURNS])).rejects.toMatchObject({ code: 'PT404', message: `template ${mine!.id} not found` });
      await expect(as('authenticated', bob, `select public.conversations_create($1::text::jsonb, $2::text::jsonb)`,
        [JSON.stringify({ template_id: crypto.randomUUID() }), TURNS])).rejects.toMatchObject({ code: 'PT404' });
      await asAlice(`insert into public.conversation_templates (template_name) values ('alice_counts')`);
      for (const change of ['usage_count = 1000', 'rating = 5', 'success_rate = 1']) {
        await expect(asAlice(`update public.conversation_templates set ${change} where template_name = 'alice_counts'`), change)
          .rejects.toMatchObject({ code: '42501' });
      }
      await expect(asAlice(`insert into public.scenarios (name, usage_count) values ('s', 50)`)).rejects.toMatchObject({ code: '42501' });
    });
  });

  describe('5. security definer functions check what the caller may see', () => {
    it("calculate_quality_score with another user's conversation id is 404, not its turn count", async () => {
      const c = await newConversation();
      await expect(as('authenticated', bob, `select public.calculate_quality_score(jsonb_populate_record(null::public.conversations, $1::text::jsonb))`,
        [JSON.stringify({ id: c.id, quality_metrics: {} })])).rejects.toMatchObject({ code: 'PT404' });
      const [mine] = await asAlice(`select public.calculate_quality_score(c) -> 'structure_checks' ->> 'turn_count' as n from public.conversations c where id = $1`, [c.id]);
      expect(mine).toEqual({ n: '2' });
    });
  });

  describe('6. sequences', () => {
    it('no API role can move an identity sequence', async () => {
      for (const role of ['anon', 'authenticated'] as const) {
        await expect(as(role, role === 'anon' ? null : alice, `select setval('public.webhook_deliveries_id_seq', 9000000000000000000)`))
          .rejects.toMatchObject({ code: '42501' });
        await expect(as(role, role === 'anon' ? null : alice, `select nextval('public.training_annotation_history_id_seq')`))
          .rejects.toMatchObject({ code: '42501' });
      }
    });
  });
});
