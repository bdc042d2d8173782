// Rules of the conversation tables from the outside: direct table access as
// each role (what supabase.from(...) can do), and the export stream's log
// when a client goes away or the database fails mid-file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlAdapter } from '../../functions/_shared/db/sql_adapter.ts';
import { exportResponse, type ExportStart } from '../../functions/conversations/export_stream.ts';
import { serviceCaller } from '../../functions/_shared/http/service_caller.ts';
import { mintToken } from '../../scripts/lib/tokens.ts';
import { asRole } from '../support/as_role.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createReviewer } from '../support/reviewer.ts';

const alice = crypto.randomUUID();
const bob = crypto.randomUUID();
type Role = 'anon' | 'authenticated' | 'service_role';
type Row = Record<string, any>;
const TURNS = `[{"role": "user", "content": "Can I retire at 60?"}, {"role": "assistant", "content": "Let us look at your savings."}]`;

describe('conversations: rules in the database', () => {
  let database: TestDatabase;
  let reviewer: { id: string; token: string };
  const as = <T = Row>(role: Role, sub: string | null, sql: string, params: unknown[] = []) =>
    asRole<T>(database.client, role, sub, sql, params);
  const asAlice = <T = Row>(sql: string, params: unknown[] = []) => as<T>('authenticated', alice, sql, params);
  const asService = <T = Row>(sql: string, params: unknown[] = []) => as<T>('service_role', null, sql, params);
  const newConversation = async (metrics = '{"relevance": 9, "accuracy": 9}', owner = alice) =>
    (await as('authenticated', owner, `select public.conversations_create($1::text::jsonb, $2::text::jsonb) as c`,
      [JSON.stringify({ title: 'rules', quality_metrics: JSON.parse(metrics) }), TURNS]))[0]!.c as Row;

  beforeAll(async () => {
    database = await createTestDatabase();
    reviewer = await createReviewer(database);
  });
  afterAll(() => database.close());

  it('anon reads and writes nothing', async () => {
    for (const table of ['conversations', 'conversation_turns', 'conversation_templates', 'export_logs', 'generation_logs', 'quality_rubric']) {
      await expect(as('anon', null, `select * from public.${table}`), table).rejects.toMatchObject({ code: '42501' });
    }
    await expect(as('anon', null, `select public.conversations_list()`)).rejects.toMatchObject({ code: '42501' });
  });

  it("another user's conversation and turns are invisible and unchangeable; reviewers see them", async () => {
    const c = await newConversation();
    expect(await as('authenticated', bob, 'select id from public.conversations where id = $1', [c.id])).toEqual([]);
    expect(await as('authenticated', bob, 'select id from public.conversation_turns where conversation_id = $1', [c.id])).toEqual([]);
    expect(await as('authenticated', bob, `update public.conversations set title = 'mine' where id = $1 returning id`, [c.id])).toEqual([]);
    expect(await as('authenticated', bob, `update public.conversation_turns set content = 'x' where conversation_id = $1 returning id`, [c.id])).toEqual([]);
    expect(await as('authenticated', bob, 'delete from public.conversations where id = $1 returning id', [c.id])).toEqual([]);
    await expect(as('authenticated', bob, `insert into public.conversation_turns (conversation_id, turn_number, role, content) values ($1, 9, 'user', 'x')`, [c.id]))
      .rejects.toMatchObject({ code: '42501' });
    expect(await as('authenticated', reviewer.id, 'select count(*)::int as n from public.conversation_turns where conversation_id = $1', [c.id]))
      .toEqual([{ n: 2 }]);
  });

  it('scores, flags, counts, approvals and history are the database\'s to write', async () => {
    const c = await newConversation();
    for (const change of [`quality_score = 1`, `is_flagged = true`, `flag_reason = 'x'`, `turn_count = 9`, `total_tokens = 9`,
      `review_history = '[]'`, `approved_by = '${alice}'`, `search_vector = null`]) {
      await expect(asAlice(`update public.conversations set ${change} where id = $1`, [c.id]), change).rejects.toMatchObject({ code: '42501' });
    }
    await expect(asAlice(`update public.conversations set status = 'approved' where id = $1`, [c.id])).rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`insert into public.conversations (created_by, title) values ($1, 'x')`, [bob])).rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`update public.quality_rubric set weight = 5 where component = 'accuracy'`)).rejects.toMatchObject({ code: '42501' });
    expect(await asAlice(`update public.conversation_settings set quality_threshold = 1 where id returning id`)).toEqual([]);
    await expect(asAlice(`insert into public.generation_logs (model_used) values ('x')`)).rejects.toMatchObject({ code: '42501' });
  });

  it('a conversation never exists without its turns, for every role', async () => {
    await expect(asAlice(`insert into public.conversations (title) values ('bare')`)).rejects.toMatchObject({ code: '23514' });
    await expect(asService(`insert into public.conversations (title, created_by) values ('bare', $1)`, [alice])).rejects.toMatchObject({ code: '23514' });
    const c = await newConversation();
    await expect(asAlice('delete from public.conversation_turns where conversation_id = $1', [c.id])).rejects.toMatchObject({ code: '23514' });
    expect(await asService('delete from public.conversations where id = $1 returning id', [c.id])).toEqual([{ id: c.id }]);
    expect(await asService('select count(*)::int as n from public.conversation_turns where conversation_id = $1', [c.id])).toEqual([{ n: 0 }]);
  });

  it('changing metrics or turns directly rescores: a low score flags, a better one unflags', async () => {
    const c = await newConversation();
    expect(c).toMatchObject({ is_flagged: false, status: 'generated' });
    const [low] = await asAlice(`update public.conversations set quality_metrics = '{"relevance": 3, "accuracy": 3}'
      where id = $1 returning quality_score, is_flagged, status, flag_reason`, [c.id]);
    expect(low).toEqual({ quality_score: '4.2', is_flagged: true, status: 'needs_revision', flag_reason: 'quality 4.2 below 6.0: weak accuracy, relevance' });
    // Emptying a turn lowers structure: from 10 to 6.67.
    await asAlice(`update public.conversations set quality_metrics = '{"relevance": 9, "accuracy": 9}' where id = $1`, [c.id]);
    await asAlice(`update public.conversation_turns set content = '' where conversation_id = $1 and turn_number = 2`, [c.id]);
    const [after] = await asAlice<Row>(`select quality_score, is_flagged, review_history from public.conversations where id = $1`, [c.id]);
    expect(after!.quality_score).toBe('8.6');
    expect(after!.is_flagged).toBe(false);
    expect(after!.review_history.map((e: Row) => e.action)).toEqual(['auto_flag', 'auto_unflag']);
  });

  it('status moves are checked for every role and recorded', async () => {
    const c = await newConversation();
    await expect(asService(`update public.conversations set status = 'draft' where id = $1`, [c.id])).rejects.toMatchObject({ code: 'PT409' });
    // reviewer notes are the reviewers': the owner submits without one
    await expect(asAlice(`update public.conversations set status = 'pending_review', reviewer_notes = 'ready' where id = $1`, [c.id]))
      .rejects.toMatchObject({ code: '42501' });
    await asAlice(`update public.conversations set status = 'pending_review' where id = $1`, [c.id]);
    await as('authenticated', reviewer.id, `update public.conversations set status = 'needs_revision', reviewer_notes = 'shorter' where id = $1`, [c.id]);
    await asService(`update public.conversations set status = 'archived' where id = $1`, [c.id]);
    await expect(asService(`update public.conversations set status = 'approved' where id = $1`, [c.id])).rejects.toMatchObject({ code: 'PT409' });
    const [row] = await asAlice<Row>('select review_history from public.conversations where id = $1', [c.id]);
    expect(row!.review_history.map((e: Row) => [e.action, e.from_status, e.to_status, e.note ?? null])).toEqual([
      ['status_change', 'generated', 'pending_review', null], ['request_changes', 'pending_review', 'needs_revision', 'shorter'],
      ['status_change', 'needs_revision', 'archived', null]]);
  });

  it('users read the shared templates and write only their own; export logs are private', async () => {
    const shared = await asAlice('select template_name from public.conversation_templates where created_by is null order by template_name');
    expect(shared.map((t) => t.template_name)).toEqual(['ambiguous_request_clarification', 'difficult_customer_deescalation', 'financial_planning_consultation']);
    expect(await asAlice(`update public.conversation_templates set template_text = 'x' where created_by is null returning id`)).toEqual([]);
    await asAlice(`insert into public.conversation_templates (template_name) values ('alice_template')`);
    expect(await as('authenticated', bob, `select id from public.conversation_templates where template_name = 'alice_template'`)).toEqual([]);
    await expect(asAlice(`insert into public.export_logs (format) values ('csv')`)).rejects.toMatchObject({ code: '42501' });
    await asAlice(`select public.conversations_export_start('csv', 'raw', '{}', false, 'f.csv')`);
    expect(await as('authenticated', bob, 'select id from public.export_logs')).toEqual([]);
    expect((await as('authenticated', reviewer.id, 'select id from public.export_logs')).length).toBeGreaterThan(0);
  });

  describe('an export that does not finish is logged as failed', () => {
    const caller = async () => ({ claims: { role: 'authenticated' as const, sub: alice }, token: await mintToken({ role: 'authenticated', sub: alice }) });
    const start = async (): Promise<ExportStart> => {
      for (let i = 0; i < 3; i++) await newConversation();
      const [row] = await asAlice<{ e: ExportStart }>(`select public.conversations_export_start('jsonl', 'openai', '{"status": "generated"}', false, 'f.jsonl') as e`);
      return row!.e;
    };
    const log = async (id: string) => (await asService('select status, error_message, conversation_count from public.export_logs where id = $1', [id]))[0]!;

    it('when the client closes the connection mid-file', async () => {
      const started = await start();
      const res = exportResponse(sqlAdapter(database.client), await caller(), serviceCaller, started, 1);
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel('gone');
      expect(await log(started.id)).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/^the client closed the connection after \d+ bytes: gone$/) });
    });

    it('when the database fails mid-file, and the stream errors instead of ending cleanly', async () => {
      const started = await start();
      const db = sqlAdapter(database.client);
      let pages = 0;
      const failing = { ...db, rpc: async <T>(fn: Parameters<typeof db.rpc>[0], args: Record<string, unknown>, who: Parameters<typeof db.rpc>[2]) => {
        if (fn === 'conversations_export_page' && ++pages === 2) throw new Error('connection reset');
        return db.rpc<T>(fn, args, who);
      } };
      const res = exportResponse(failing, await caller(), serviceCaller, started, 1);
      await expect(res.text()).rejects.toThrow();
      expect(await log(started.id)).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/^export stopped after \d+ bytes: connection reset$/), conversation_count: 1 });
    });
  });
});
