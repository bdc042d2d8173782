// Issue 18 (conversations): the rules behind the new routes, from outside
// through the table API and rpc as PostgREST runs them (role and claims in a
// transaction): the export default in the SQL function, self-approval,
// the reviewer flag, the database's counters, DB-kept job positions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createReviewer } from '../support/reviewer.ts';

type Row = Record<string, any>;
const alice = crypto.randomUUID();
const bob = crypto.randomUUID(); // made a reviewer half way through
const carol = crypto.randomUUID(); // stays a plain user
const TURNS = JSON.stringify([{ role: 'user', content: 'Can I retire at 60?' }, { role: 'assistant', content: 'Let us look at your savings.' }]);

describe('conversations authoring rules (issue 18), through the table API', () => {
  let database: TestDatabase;
  let reviewer: { id: string };
  let reviewer2: { id: string };
  const as = <T = Row>(role: 'anon' | 'authenticated' | 'service_role', sub: string | null, sql: string, params: unknown[] = []) =>
    asRole<T>(database.client, role, sub, sql, params);
  const asAlice = <T = Row>(sql: string, params: unknown[] = []) => as<T>('authenticated', alice, sql, params);
  const asService = <T = Row>(sql: string, params: unknown[] = []) => as<T>('service_role', null, sql, params);
  const newConversation = async (owner: string = alice, extra: Row = {}) =>
    (await as('authenticated', owner, `select public.conversations_create($1::text::jsonb, $2::text::jsonb) as c`,
      [JSON.stringify({ title: 'rules', quality_metrics: { relevance: 9, accuracy: 9 }, ...extra }), TURNS]))[0]!.c as Row;

  beforeAll(async () => {
    database = await createTestDatabase();
    reviewer = await createReviewer(database);
    reviewer2 = await createReviewer(database);
  });
  afterAll(() => database.close());

  it('the export start function defaults the status to approved unless the filter names one, and logs the effective filter', async () => {
    const start = async (filter: string | null) =>
      (await asAlice<{ e: Row }>(`select public.conversations_export_start('jsonl', 'openai', $1::text::jsonb, false, 'f.jsonl') as e`,
        [filter]))[0]!.e;
    expect((await start('{"persona": "x"}')).filters).toEqual({ persona: 'x', status: 'approved', flagged: false });
    expect((await start(null)).filters).toEqual({ status: 'approved', flagged: false });
    expect((await start('{}')).filters).toEqual({ status: 'approved', flagged: false });
    expect((await start('{"flagged": true}')).filters).toEqual({ status: 'approved', flagged: true });
    expect((await start('{"status": "draft"}')).filters).toEqual({ status: 'draft' });
    await expect(start('{"status": null}')).rejects.toMatchObject({ code: '22023' });
    await expect(start('{"status": ["draft"]}')).rejects.toMatchObject({ code: '22023' });
    await expect(start('{"colour": "red"}')).rejects.toMatchObject({ code: '22023' });
    await expect(start('[]')).rejects.toMatchObject({ code: '22023' });
    // the pages follow the logged filter: a draft of alice's is not exported by default
    const draft = await newConversation(alice, { persona: 'export-default', status: 'draft' });
    const e = await start('{"persona": "export-default"}');
    const [page] = await asAlice<{ p: Row[] }>('select public.conversations_export_page($1) as p', [e.id]);
    expect(page!.p).toEqual([]);
    const explicit = await start('{"persona": "export-default", "status": "draft"}');
    const [drafts] = await asAlice<{ p: Row[] }>('select public.conversations_export_page($1) as p', [explicit.id]);
    expect(drafts!.p.map((r) => r.conversation.id)).toEqual([draft.id]);
  });

  it('a reviewer cannot approve or reject their own conversation, by rpc or by a direct update; another reviewer and the service role can', async () => {
    for (const status of ['approved', 'rejected']) {
      const own = await newConversation(reviewer.id);
      await expect(as('authenticated', reviewer.id, `update public.conversations set status = $2 where id = $1`, [own.id, status]))
        .rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/their own conversation/) });
      await expect(as('authenticated', reviewer.id, `select public.conversations_review($1, $2)`, [own.id, status === 'approved' ? 'approve' : 'reject']))
        .rejects.toMatchObject({ code: '42501' });
      // request_changes on one's own stays allowed
      expect(await as('authenticated', reviewer2.id, `update public.conversations set status = $2 where id = $1 returning approved_by`, [own.id, status]))
        .toEqual([{ approved_by: status === 'approved' ? reviewer2.id : null }]);
    }
    const own = await newConversation(reviewer.id);
    expect(await as('authenticated', reviewer.id, `select public.conversations_review($1, 'request_changes') ->> 'status' as s`, [own.id]))
      .toEqual([{ s: 'needs_revision' }]);
    expect(await asService(`update public.conversations set status = 'approved' where id = $1 returning status`, [own.id]))
      .toEqual([{ status: 'approved' }]);
  });

  it('only a draft is deleted by its owner, through the table API too; anything further along by the service role only', async () => {
    for (const action of ['approve', 'reject']) {
      const c = await newConversation();
      await as('authenticated', reviewer2.id, 'select public.conversations_review($1, $2)', [c.id, action]);
      await expect(asAlice('delete from public.conversations where id = $1', [c.id])).rejects.toMatchObject({ code: 'PT409' });
      await expect(as('authenticated', reviewer2.id, 'delete from public.conversations where id = $1', [c.id])).resolves.toEqual([]);
      expect(await asService('delete from public.conversations where id = $1 returning id', [c.id])).toEqual([{ id: c.id }]);
    }
    // The same rule as DELETE /conversations/:id: generated, pending review, needing revision or archived is
    // archived (or left), not deleted, by its owner.
    for (const status of ['generated', 'pending_review', 'needs_revision', 'archived']) {
      const c = await newConversation(alice, status === 'needs_revision' ? {} : { status });
      if (status === 'needs_revision') {
        await asAlice('select public.conversations_submit($1)', [c.id]);
        await as('authenticated', reviewer2.id, `select public.conversations_review($1, 'request_changes')`, [c.id]);
      }
      await expect(asAlice('delete from public.conversations where id = $1', [c.id]), status)
        .rejects.toMatchObject({ code: 'PT409', message: expect.stringMatching(/only a draft is deleted/) });
      expect(await asService('delete from public.conversations where id = $1 returning id', [c.id])).toEqual([{ id: c.id }]);
    }
    const draft = await newConversation(alice, { status: 'draft' });
    expect(await asAlice('delete from public.conversations where id = $1 returning id', [draft.id])).toEqual([{ id: draft.id }]);
  });

  it('the reviewer flag is the service role\'s to set; users cannot grant it to themselves', async () => {
    await database.client.query('insert into auth.users (id, email) values ($1, $2), ($3, $4)', [alice, 'a@x.test', bob, 'b@x.test']);
    await asAlice(`insert into public.user_profiles (id, display_name) values ($1, 'Alice')`, [alice]);
    await expect(asAlice('update public.user_profiles set is_reviewer = true where id = $1', [alice])).rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`insert into public.user_profiles (id, is_reviewer) values ($1, true)`, [bob])).rejects.toMatchObject({ code: '42501' });
    await expect(asAlice('select public.conversations_set_reviewer($1, true)', [alice])).rejects.toMatchObject({ code: '42501' });
    await expect(as('authenticated', reviewer.id, 'select public.conversations_set_reviewer($1, true)', [alice])).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, 'select public.conversations_set_reviewer($1, true)', [alice])).rejects.toMatchObject({ code: '42501' });
    await expect(asService('select public.conversations_set_reviewer($1, true)', [crypto.randomUUID()])).rejects.toMatchObject({ code: 'PT404' });
    await expect(asService('select public.conversations_set_reviewer($1, null)', [alice])).rejects.toMatchObject({ code: '22023' });
    expect(await asService(`select public.conversations_set_reviewer($1, true) ->> 'is_reviewer' as r`, [bob])).toEqual([{ r: 'true' }]);
    expect(await asService(`select display_name, is_reviewer from public.user_profiles where id = $1`, [alice])).toEqual([{ display_name: 'Alice', is_reviewer: false }]);
    await expect(asAlice('select public.conversations_list_reviewers()')).rejects.toMatchObject({ code: '42501' });
    await expect(as('authenticated', bob, `select public.conversations_list_reviewers(1, 'bogus')`)).rejects.toMatchObject({ code: '22023' });
    await expect(as('authenticated', bob, 'select public.conversations_list_reviewers(0)')).rejects.toMatchObject({ code: '22023' });
  });

  it('usage, rating and success rate are the database\'s: not writable through the table API or the save function', async () => {
    const [t] = await asAlice<{ t: Row }>(`select public.conversation_library_save('conversation_templates', null, '{"template_name": "rules_tpl"}') as t`);
    for (const column of ['usage_count = 9', 'rating = 5', 'success_rate = 1']) {
      await expect(asAlice(`update public.conversation_templates set ${column} where id = $1`, [t!.t.id])).rejects.toMatchObject({ code: '42501' });
    }
    await expect(asAlice(`update public.scenarios set usage_count = 9`)).rejects.toMatchObject({ code: '42501' });
    for (const fields of ['{"usage_count": 9}', '{"rating": 5}', '{"success_rate": 1}', '{"created_by": null}', '{"id": null}']) {
      await expect(asAlice(`select public.conversation_library_save('conversation_templates', $1, $2::text::jsonb)`, [t!.t.id, fields]))
        .rejects.toMatchObject({ code: '22023' });
    }
    await expect(asAlice(`select public.conversation_library_save('users', null, '{}')`)).rejects.toMatchObject({ code: '22023' });
    await expect(asAlice(`select public.conversation_library_save('scenarios', null, '[]')`)).rejects.toMatchObject({ code: '22023' });
    await expect(asAlice(`select public.conversation_library_save('scenarios', null, '{}')`)).rejects.toMatchObject({ code: '22023' });
    await expect(asAlice(`select public.conversation_library_save('edge_cases', null, '{"name": "x", "risk_level": 7}')`)).rejects.toBeTruthy();
    await expect(asAlice(`select public.conversation_library_list('scenarios', '{"risk_level": "high"}')`)).rejects.toMatchObject({ code: '22023' });
    // another user's row: not found; a shared one: refused
    await expect(as('authenticated', carol, `select public.conversation_library_save('conversation_templates', $1, '{"description": "x"}')`, [t!.t.id]))
      .rejects.toMatchObject({ code: 'PT404' });
    const [shared] = await asAlice<{ id: string }>('select id from public.conversation_templates where created_by is null limit 1');
    await expect(asAlice(`select public.conversation_library_deactivate('conversation_templates', $1)`, [shared!.id]))
      .rejects.toMatchObject({ code: '42501' });
  });

  it('batch jobs: started by the service role; a replayed chunk is a 409; progress counters are not client-writable', async () => {
    await expect(asAlice(`select public.conversations_batch_job_start('validation')`)).rejects.toMatchObject({ code: '42501' });
    await expect(asService(`select public.conversations_batch_job_start('cleanup')`)).rejects.toMatchObject({ code: '22023' });
    await expect(asService(`select public.conversations_batch_job_start('cleanup', null, -1)`)).rejects.toMatchObject({ code: '22023' });
    await expect(asService(`select public.conversations_batch_job_start('generation')`)).rejects.toMatchObject({ code: '22023' });
    await expect(asService(`select public.conversations_batch_job_start(null)`)).rejects.toMatchObject({ code: '22023' });
    for (let i = 0; i < 3; i++) await newConversation(alice, { persona: 'chunked' });
    const [job] = await asService<{ j: Row }>(`select public.conversations_batch_job_start('validation', '{"persona": "chunked"}') as j`);
    const chunk = (after: string | null) =>
      asService<{ c: Row }>('select public.conversations_batch_job_chunk($1, $2, 2) as c', [job!.j.id, after]);
    const [first] = await chunk(null);
    expect(first!.c.processed).toBe(2);
    await expect(chunk(null)).rejects.toMatchObject({ code: 'PT409' });
    const [second] = await chunk(first!.c.next_after);
    expect(second!.c).toEqual({ processed: 1, next_after: null });
    const [done] = await asService<{ j: Row }>('select public.conversations_finish_job($1) as j', [job!.j.id]);
    expect(done!.j).toMatchObject({ status: 'completed', total_items: 3, processed_items: 3 });
    await expect(chunk(second!.c.next_after)).rejects.toMatchObject({ code: 'PT409' });
    await expect(asAlice(`select public.conversations_batch_job_chunk($1)`, [job!.j.id])).rejects.toMatchObject({ code: 'PT404' });
    await expect(asService(`select public.conversations_batch_job_chunk($1)`, [crypto.randomUUID()])).rejects.toMatchObject({ code: 'PT404' });
    await expect(asAlice('update public.batch_jobs set processed_items = 0')).rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`insert into public.batch_jobs (job_type) values ('generation')`)).rejects.toMatchObject({ code: '42501' });
    // a rescore job is not a validation job's chunk, nor does a worker report to it
    const [gen] = await asService<{ j: Row }>(`select public.conversations_batch_job_start('generation', null, null, 2) as j`);
    await expect(asService('select public.conversations_batch_job_chunk($1)', [gen!.j.id])).rejects.toMatchObject({ code: 'PT404' });
    await expect(asService(`select public.conversations_batch_job_report($1, 0, 1, 0, '{"x": "y"}')`, [gen!.j.id])).rejects.toMatchObject({ code: '22023' });
  });

  it('authoring functions: only the author moves their conversation; bad input is refused before anything changes', async () => {
    const c = await newConversation();
    await expect(asAlice(`select public.conversations_update($1, '{"status": "approved"}')`, [c.id])).rejects.toMatchObject({ code: '22023' });
    await expect(asAlice(`select public.conversations_update($1, '[]')`, [c.id])).rejects.toMatchObject({ code: '22023' });
    await expect(asAlice(`select public.conversations_update($1, null, '{}')`, [c.id])).rejects.toMatchObject({ code: '22023' });
    await expect(asAlice(`select public.conversations_update($1)`, [c.id])).rejects.toMatchObject({ code: '22023' });
    await expect(asAlice(`select public.conversations_update($1, '{"metadata": null}')`, [c.id])).rejects.toMatchObject({ code: '23502' });
    await expect(asAlice(`select public.conversations_update($1, '{"title": "x"}', $2::text::jsonb)`,
      [c.id, JSON.stringify(Array.from({ length: 501 }, () => ({ role: 'user', content: 'x' })))])).rejects.toMatchObject({ code: '22023' });
    await expect(as('authenticated', carol, `select public.conversations_update($1, '{"title": "x"}')`, [c.id])).rejects.toMatchObject({ code: 'PT404' });
    await expect(as('authenticated', carol, 'select public.conversations_archive($1)', [c.id])).rejects.toMatchObject({ code: 'PT404' });
    await expect(as('anon', null, 'select public.conversations_submit($1)', [c.id])).rejects.toMatchObject({ code: '42501' });
    expect(await asAlice('select title, status from public.conversations where id = $1', [c.id])).toEqual([{ title: 'rules', status: 'generated' }]);
  });
  it('review is someone else\'s: no reopening or annotating one\'s own reviewed conversation, no submitting another user\'s draft', async () => {
    const own = await newConversation(reviewer.id);
    await as('authenticated', reviewer2.id, `select public.conversations_review($1, 'reject')`, [own.id]);
    await expect(as('authenticated', reviewer.id, `select public.conversations_review($1, 'request_changes')`, [own.id]))
      .rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/cannot reopen their own rejected/) });
    await expect(as('authenticated', reviewer.id, `update public.conversations set status = 'needs_revision' where id = $1`, [own.id]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(as('authenticated', reviewer.id, `update public.conversations set reviewer_notes = 'fine by me' where id = $1`, [own.id]))
      .rejects.toMatchObject({ code: '42501' });
    expect(await as('authenticated', reviewer2.id, `select public.conversations_review($1, 'request_changes') ->> 'status' as s`, [own.id]))
      .toEqual([{ s: 'needs_revision' }]);

    const draft = await newConversation(carol, { status: 'draft' });
    await expect(as('authenticated', reviewer.id, `update public.conversations set status = 'pending_review' where id = $1`, [draft.id]))
      .rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/only its author submits it/) });
    expect(await as('authenticated', carol, `select public.conversations_submit($1) ->> 'status' as s`, [draft.id]))
      .toEqual([{ s: 'pending_review' }]);
  });

  it('a template\'s success rate and rating follow review decisions, which archiving does not undo', async () => {
    const [template] = await asService<{ id: string }>(`insert into public.conversation_templates (template_name, tier, template_text)
      values ('record-' || gen_random_uuid(), 'template', 'x') returning id`);
    const approved = await newConversation(alice, { template_id: template!.id });
    const rejected = await newConversation(alice, { template_id: template!.id });
    await as('authenticated', reviewer2.id, `select public.conversations_review($1, 'approve')`, [approved.id]);
    await as('authenticated', reviewer2.id, `select public.conversations_review($1, 'reject')`, [rejected.id]);
    const record = () => asService<{ success_rate: string; rating: string | null }>(
      'select success_rate, rating from public.conversation_templates where id = $1', [template!.id]);
    const before = await record();
    expect(Number(before[0]!.success_rate)).toBe(0.5);
    await asAlice('select public.conversations_archive($1)', [approved.id]);
    await asAlice('select public.conversations_archive($1)', [rejected.id]);
    expect(await record()).toEqual(before);
  });

  it('the default export leaves out approved conversations a later check flagged; naming flagged takes them', async () => {
    const persona = `flag-${crypto.randomUUID()}`;
    const c = await newConversation(alice, { persona });
    await as('authenticated', reviewer2.id, `select public.conversations_review($1, 'approve')`, [c.id]);
    await asService('update public.conversations set is_flagged = true, flag_reason = $2 where id = $1', [c.id, 'validation: roles']);
    const exported = async (filter: Row) => {
      const [e] = await asAlice<{ e: Row }>(`select public.conversations_export_start('jsonl', 'openai', $1::text::jsonb, false, 'f.jsonl') as e`,
        [JSON.stringify(filter)]);
      const [page] = await asAlice<{ p: Row[] }>('select public.conversations_export_page($1) as p', [e!.e.id]);
      return page!.p.map((r) => r.conversation.id);
    };
    expect(await exported({ persona })).toEqual([]);
    expect(await exported({ persona, flagged: true })).toEqual([c.id]);
    expect(await exported({ persona, status: 'approved' })).toEqual([c.id]);
  });
});
