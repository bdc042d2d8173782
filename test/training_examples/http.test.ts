// The training-examples function end to end (both adapters), the parsers
// behind extraction, and the rules of the tables from the outside.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';
import type { SqlClient, TransactionOptions } from '../../functions/_shared/db/sql_client.ts';
import { INDEX_BATCH, startSearchIndexer } from '../../scripts/lib/search_indexer.ts';

const openai = (user: string, answer: string, system = 'You are terse.') => ({
  request: { model: 'gpt-4o', messages: [{ role: 'system', content: system }, { role: 'user', content: 'earlier' },
    { role: 'assistant', content: 'earlier answer' }, { role: 'user', content: user }] },
  response: { choices: [{ index: 0, message: { role: 'assistant', content: answer } }] },
});

describe('extraction parsers', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());
  const parse = async (request: unknown, response: unknown) => (await database.client.query<Record<string, string | null>>(
    `select private.request_user_input($1::text::jsonb) as user_input, private.request_system_prompt($1::text::jsonb) as system_prompt,
            private.response_output($2::text::jsonb) as output`, [JSON.stringify(request), JSON.stringify(response)]))[0];

  it('reads OpenAI, Anthropic, prompt and plain-string shapes', async () => {
    expect(await parse(openai('the last question', 'the answer').request, openai('', 'the answer').response))
      .toEqual({ user_input: 'the last question', system_prompt: 'You are terse.', output: 'the answer' });
    expect(await parse(
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'part one' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'part two' }] }] },
      { choices: [{ message: { content: [{ type: 'text', text: 'parts answer' }] } }] }))
      .toEqual({ user_input: 'part one\npart two', system_prompt: null, output: 'parts answer' });
    expect(await parse(
      { system: [{ type: 'text', text: 'Anthropic system' }], messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      { content: [{ type: 'text', text: 'hello' }, { type: 'tool_use', id: 't', name: 'x', input: {} }, { type: 'text', text: 'there' }] }))
      .toEqual({ user_input: 'hi', system_prompt: 'Anthropic system', output: 'hello\nthere' });
    expect(await parse({ prompt: 'complete this' }, 'a plain string answer'))
      .toEqual({ user_input: 'complete this', system_prompt: null, output: 'a plain string answer' });
    expect(await parse('just a string', { choices: [{ text: 'legacy completion' }] }))
      .toEqual({ user_input: 'just a string', system_prompt: null, output: 'legacy completion' });
  });

  it('answers null for what it cannot read, and never raises', async () => {
    for (const [request, response] of [
      [{ foo: 1 }, { choices: 'x' }], [null, null], [{ messages: 'not a list' }, { content: 42 }], [{ messages: [1, 'x', null] }, { choices: [] }],
      [{ messages: [{ role: 'user', content: 7 }] }, { choices: [{ message: null }] }], [[], []], [42, true],
      [{ messages: [{ role: 'user', content: '' }] }, ''],
    ]) {
      const r = await parse(request, response);
      expect(r!.user_input === null || r!.output === null, JSON.stringify([request, response])).toBe(true);
    }
  });

  it('rules: logs are written by the service role only; users read and annotate; anon nothing', async () => {
    const user = crypto.randomUUID();
    await expect(asRole(database.client, 'anon', null, 'select * from public.training_examples')).rejects.toMatchObject({ code: '42501' });
    await expect(asRole(database.client, 'anon', null, 'select * from public.unified_logs')).rejects.toMatchObject({ code: '42501' });
    await expect(asRole(database.client, 'authenticated', user, `insert into public.unified_logs (id, trace_id) values ('x', 'x')`))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asRole(database.client, 'authenticated', user, `select public.training_logs_ingest('[]')`)).rejects.toMatchObject({ code: '42501' });
    await asRole(database.client, 'service_role', null, `select public.training_logs_ingest($1::text::jsonb)`,
      [JSON.stringify([{ id: 'rule-1', trace_id: 'rule-trace', ...openai('q', 'a') }])]);
    await expect(asRole(database.client, 'authenticated', user, `insert into public.training_examples (trace_id, log_id, user_input, assistant_output, created_at)
      values ('forged', 'x', 'q', 'a', now())`)).rejects.toMatchObject({ code: '42501' });
    await expect(asRole(database.client, 'authenticated', user, `update public.training_examples set user_input = 'x'`)).rejects.toMatchObject({ code: '42501' });
    await expect(asRole(database.client, 'authenticated', user,
      `insert into public.training_annotations (trace_id, trainable, annotated_by) values ('rule-trace', true, gen_random_uuid())`))
      .rejects.toMatchObject({ code: '42501' });
    await asRole(database.client, 'authenticated', user, `insert into public.training_annotations (trace_id, trainable) values ('rule-trace', true)`);
    const [row] = await asRole(database.client, 'authenticated', user, `select annotated_by from public.training_annotations where trace_id = 'rule-trace'`);
    expect(row!.annotated_by).toBe(user);
    await expect(asRole(database.client, 'authenticated', user, `update public.training_annotations set cascade_id = 'forged'`))
      .rejects.toMatchObject({ code: '42501' });
    const [pool] = await asRole(database.client, 'authenticated', user, `select cascade_id from public.training_annotations where trace_id = 'rule-trace'`);
    expect(pool!.cascade_id).toBe(null);
    await expect(asRole(database.client, 'authenticated', user, `insert into public.training_annotation_history (trace_id, action) values ('x', 'insert')`))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asRole(database.client, 'authenticated', user, `delete from public.training_annotation_history`)).rejects.toMatchObject({ code: '42501' });
    await expect(asRole(database.client, 'authenticated', user, `insert into public.training_annotations (trace_id, trainable) values ('no-such-trace', true)`))
      .rejects.toMatchObject({ code: '23503' });
  });
});

describe('the indexer endpoint with a chunk size (npm start on the embedded database)', () => {
  it('indexes up to limit, each chunk its own write', async () => {
    // The sql adapter only: the chunks are the handler's, and a second harness through the supabase adapter would
    // start a second msw server beside the one of the suite above.
    const chunked = await createHarness('sql', { trainingExamples: { searchIndexChunk: 3 } });
    try {
      const traces = Array.from({ length: 10 }, (_, i) => `chunk-${i}`);
      const items = traces.map((trace_id, i) => ({ id: `chunk-ev-${i}`, trace_id, cascade_id: 'chunked', cell_name: 'cell_1', model: 'gpt-4o',
        node_type: 'llm_call', created_at: new Date(Date.UTC(2026, 10, 2, 0, 0, i)).toISOString(), ...openai(`question ${i}`, `answer ${i}`) }));
      expect((await chunked.request('/training-examples/logs', { method: 'POST', json: { items }, token: chunked.tokens.service })).status).toBe(200);
      const run = async (limit: number) => json(await chunked.request(`/training-examples/search-index?limit=${limit}`,
        { method: 'POST', token: chunked.tokens.service }));
      expect(await run(8)).toEqual({ indexed: 8, pending: 2 });
      // three writes for eight examples: 3, 3 and 2, each its own transaction
      const [row] = await chunked.database.client.query<{ writes: number }>(
        `select count(distinct xmin::text)::int as writes from public.training_examples
          where trace_id = any($1) and search_vector is not null`, [traces]);
      expect(row?.writes).toBe(3);
      expect(await run(5)).toEqual({ indexed: 2, pending: 0 });
      expect(await run(5)).toEqual({ indexed: 0, pending: 0 });
    } finally {
      await chunked.close();
    }
  });
});

describe.each(ADAPTERS)('training-examples through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter);
  });
  afterAll(() => h.close());

  const ingest = (items: unknown[], token = h.tokens.service) =>
    h.request('/training-examples/logs', { method: 'POST', json: { items }, token });
  const annotate = (trace: string, body: unknown, token?: string) =>
    h.request(`/training-examples/${encodeURIComponent(trace)}/annotation`, { method: 'PUT', json: body, token });
  let seq = 0;
  const event = (over: Record<string, unknown> = {}) => {
    seq++;
    return { id: `${adapter}-ev-${seq}`, trace_id: `${adapter}-tr-${seq}`, cascade_id: 'cascade_a', cell_name: 'cell_1', model: 'gpt-4o',
      node_type: 'llm_call', created_at: new Date(Date.UTC(2026, 10, 1, 0, 0, seq)).toISOString(), ...openai(`question ${seq}`, `answer ${seq}`), ...over };
  };
  const get = async (path: string, token?: string) => json(await h.request(`/training-examples${path}`, { token }));

  it('extracts examples from parseable LLM calls as a batch arrives; keeps every event; ignores replays', async () => {
    const batch = [
      event({ cascade_id: 'ingest', session_id: 's1', span_kind: 'client', metadata: { env: 'test' } }),
      event({ cascade_id: 'ingest', node_type: 'tool_call' }),
      event({ cascade_id: 'ingest', request: { foo: 1 }, response: { bar: 2 } }),
      event({ cascade_id: 'ingest', response: undefined }),
      event({ cascade_id: 'ingest', request: { prompt: 'p' }, response: 'plain' }),
    ];
    const res = await ingest(batch);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ received: 5, inserted: 5, duplicates: 0 });
    const examples = await get('?cascade_id=ingest');
    expect(examples.items.map((e: { trace_id: string }) => e.trace_id).sort()).toEqual([batch[0]!.trace_id, batch[4]!.trace_id].sort());
    expect(examples.items.find((e: { trace_id: string }) => e.trace_id === batch[0]!.trace_id)).toMatchObject({
      user_input: `question ${seq - 4}`, assistant_output: `answer ${seq - 4}`, system_prompt: 'You are terse.', trainable: false,
      annotated: false, verified: false, tags: [] });
    const [stored] = await h.database.client.query<{ metadata: Record<string, unknown>; session_id: string }>(
      'select metadata, session_id from public.unified_logs where id = $1', [batch[0]!.id]);
    expect(stored).toEqual({ metadata: { span_kind: 'client', env: 'test' }, session_id: 's1' });
    expect(await json(await ingest(batch))).toEqual({ received: 5, inserted: 0, duplicates: 5 });
  });

  it('a NUL character (valid JSON, not storable in jsonb) becomes U+FFFD instead of failing the batch', async () => {
    const e = event({ cascade_id: 'nul', ...openai('with a \u0000 inside', 'answer \\u0000 kept as text') });
    const res = await ingest([e]);
    expect(res.status).toBe(200);
    expect(await get(`/${e.trace_id}`)).toMatchObject({ user_input: 'with a \ufffd inside', assistant_output: 'answer \\u0000 kept as text' });
  });

  it('the newest event of a trace wins, whatever order they arrive in', async () => {
    const first = event({ cascade_id: 'latest' });
    const later = { ...event({ cascade_id: 'latest' }), trace_id: first.trace_id, ...openai('new q', 'new a'), created_at: '2026-11-02T00:00:00Z' };
    const older = { ...event({ cascade_id: 'latest' }), trace_id: first.trace_id, ...openai('old q', 'old a'), created_at: '2026-10-01T00:00:00Z' };
    await ingest([first]);
    await ingest([later]);
    await ingest([older]);
    expect(await get(`/${first.trace_id}`)).toMatchObject({ user_input: 'new q', assistant_output: 'new a' });
  });

  it('a bad event rejects the whole batch, naming the index and reason of every bad one', async () => {
    const good = event({ cascade_id: 'rejected' });
    const res = await ingest([good, { ...event(), trace_id: undefined }, event(), { ...event(), created_at: 'yesterday' }, { ...event(), prompt_tokens: -1 }]);
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.errors.map((e: { path: string }) => e.path)).toEqual(['items.1.trace_id', 'items.3.created_at', 'items.4.prompt_tokens']);
    expect((await get('?cascade_id=rejected')).items).toEqual([]);
    expect((await ingest(Array.from({ length: 1001 }, () => event()))).status).toBe(400);
    expect((await ingest([])).status).toBe(400);
    // A batch carries prompts: 1,000 events of 4 KB (4 MB) fit; more than 16 MiB does not.
    const big = Array.from({ length: 1000 }, () => event({ cascade_id: 'big', ...openai('x'.repeat(4000), 'y') }));
    expect((await ingest(big)).status).toBe(200);
    const huge = Array.from({ length: 1000 }, () => event({ cascade_id: 'huge', ...openai('x'.repeat(17_000), 'y') }));
    expect((await ingest(huge)).status).toBe(413);
    expect((await ingest([event()], h.tokens.alice)).status).toBe(403);
    expect((await ingest([event()], h.tokens.anon)).status).toBe(401);
    const malformed = await h.request('/training-examples/logs', { method: 'POST', body: '{"items": [', headers: { 'content-type': 'application/json' }, token: h.tokens.service });
    expect(malformed.status).toBe(400);
  });

  it('annotations: 404 for an unknown trace, the latest wins, clearing works, the history keeps all', async () => {
    const e = event({ cascade_id: 'annotate' });
    await ingest([e]);
    expect((await annotate('no-such-trace', { trainable: true })).status).toBe(404);
    expect((await annotate(e.trace_id, { trainable: true, confidence: 1.5 })).status).toBe(400);
    expect((await annotate(e.trace_id, { verified: true })).status).toBe(400);
    expect((await annotate(e.trace_id, { trainable: true, tags: 'good' })).status).toBe(400);
    const first = await json(await annotate(e.trace_id, { trainable: true, verified: true, confidence: 0.9, notes: 'clean', tags: ['golden'] }));
    expect(first).toMatchObject({ trainable: true, verified: true, confidence: 0.9, notes: 'clean', tags: ['golden'], annotated: true,
      annotated_by: h.users.alice });
    const second = await json(await annotate(e.trace_id, { trainable: false }, h.tokens.bob));
    expect(second).toMatchObject({ trainable: false, verified: false, confidence: null, notes: null, tags: [], annotated_by: h.users.bob });
    const cleared = await json(await h.request(`/training-examples/${e.trace_id}/annotation`, { method: 'DELETE' }));
    expect(cleared).toMatchObject({ cleared: true, annotated: false, trainable: false });
    expect(await json(await h.request(`/training-examples/${e.trace_id}/annotation`, { method: 'DELETE' }))).toMatchObject({ cleared: false });
    expect((await h.request('/training-examples/no-such-trace/annotation', { method: 'DELETE' })).status).toBe(404);
    const history = await h.database.client.query<{ action: string; trainable: boolean | null }>(
      `select action, coalesce(new_annotation, old_annotation) ->> 'trainable' as trainable
         from public.training_annotation_history where trace_id = $1 order by id`, [e.trace_id]);
    expect(history).toEqual([{ action: 'insert', trainable: 'true' }, { action: 'update', trainable: 'false' }, { action: 'delete', trainable: 'false' }]);
  });

  it('lists with every filter and pages without repeats', async () => {
    const events = Array.from({ length: 6 }, (_, i) => event({ cascade_id: 'list', cell_name: i < 3 ? 'plan' : 'answer', model: i % 2 ? 'claude' : 'gpt-4o',
      ...openai(i === 4 ? 'how do refunds work' : `topic ${i}`, i === 4 ? 'refunds take five days' : `reply ${i}`) }));
    await ingest(events);
    await annotate(events[0]!.trace_id, { trainable: true, verified: true, confidence: 0.8, tags: ['golden'] });
    await annotate(events[1]!.trace_id, { trainable: true, confidence: 0.4 });
    await annotate(events[2]!.trace_id, { trainable: false });
    const ids = async (query: string) => (await get(`?cascade_id=list&${query}`)).items.map((e: { trace_id: string }) => events.findIndex((x) => x.trace_id === e.trace_id));
    expect(await ids('')).toEqual([5, 4, 3, 2, 1, 0]);
    expect(await ids('cell_name=plan')).toEqual([2, 1, 0]);
    expect(await ids('trainable=true')).toEqual([1, 0]);
    expect(await ids('trainable=false')).toEqual([5, 4, 3, 2]);
    expect(await ids('verified=true')).toEqual([0]);
    expect(await ids('min_confidence=0.5')).toEqual([0]);
    expect(await ids('model=claude')).toEqual([5, 3, 1]);
    expect(await ids('tag=golden')).toEqual([0]);
    expect(await ids('q=refunds')).toEqual([4]);
    expect(await ids(`created_after=${encodeURIComponent(events[3]!.created_at)}`)).toEqual([5, 4, 3]);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const body: any = await get(`?cascade_id=list&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...body.items.map((e: { trace_id: string }) => events.findIndex((x) => x.trace_id === e.trace_id)));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([5, 4, 3, 2, 1, 0]);
    expect((await h.request('/training-examples?min_confidence=2')).status).toBe(400);
    expect((await h.request('/training-examples', { token: h.tokens.anon })).status).toBe(401);
  });

  it('few-shot: verified, then confidence, then similarity to the query, then the newest; with the total available', async () => {
    const mk = (user: string, answer: string) => event({ cascade_id: 'fewshot', cell_name: 'reply', ...openai(user, answer) });
    const [a, b, c, d, e] = [mk('billing question', 'see the invoice'), mk('shipping question', 'two days'), mk('other', 'thing'),
      mk('never trainable', 'x'), mk('refund for a late parcel', 'refund issued for the parcel')];
    await ingest([a, b, c, d, e]);
    await annotate(a.trace_id, { trainable: true, verified: true, confidence: 0.9 });
    await annotate(b.trace_id, { trainable: true, confidence: 0.95 });
    await annotate(c.trace_id, { trainable: true, verified: true, confidence: 0.5 });
    await annotate(d.trace_id, { trainable: false, verified: true, confidence: 1 });
    await annotate(e.trace_id, { trainable: true, verified: true, confidence: 0.9 });
    const shot = async (query: string) => {
      const body = await get(`/few-shot?cascade_id=fewshot&cell_name=reply${query}`);
      return { total: body.total_available, order: body.items.map((x: { trace_id: string }) => [a, b, c, d, e].findIndex((y) => y.trace_id === x.trace_id)) };
    };
    expect(await shot(`&query=${encodeURIComponent('refund parcel')}`)).toEqual({ total: 4, order: [4, 0, 2, 1] });
    expect(await shot('')).toEqual({ total: 4, order: [4, 0, 2, 1] });
    expect(await shot('&k=2&query=billing')).toEqual({ total: 4, order: [0, 4] });
    const top = await get('/few-shot?cascade_id=fewshot&k=1');
    expect(top.items[0]).toMatchObject({ rank: 1, user_input: 'refund for a late parcel', assistant_output: 'refund issued for the parcel',
      system_prompt: 'You are terse.', verified: true, confidence: 0.9 });
    expect((await h.request('/training-examples/few-shot?k=0')).status).toBe(400);
    expect((await h.request('/training-examples/few-shot?k=51')).status).toBe(400);
  });

  const vectors = (traces: string[]) => h.database.client.query<{ trace_id: string; indexed: boolean; fresh: boolean }>(
    `select trace_id, search_vector is not null as indexed,
            search_vector is not distinct from private.example_search_vector(user_input, assistant_output) as fresh
       from public.training_examples where trace_id = any($1::text[]) order by trace_id`, [traces]);
  const indexAll = async () => {
    let body;
    do {
      const res = await h.request('/training-examples/search-index?limit=3', { method: 'POST', token: h.tokens.service });
      expect(res.status).toBe(200);
      body = await json(res);
      expect(body.indexed).toBeLessThanOrEqual(3);
    } while (body.pending > 0);
    return body;
  };

  it('search is complete before the indexer runs and after; a changed text is indexed again', async () => {
    const events = [event({ cascade_id: 'search', ...openai('where is my parcel', 'it ships tomorrow') }),
      event({ cascade_id: 'search', ...openai('a refund please', 'refund issued') }), event({ cascade_id: 'search' })];
    await ingest(events);
    const traces = events.map((e) => e.trace_id);
    expect((await vectors(traces)).map((r) => r.indexed)).toEqual([false, false, false]);
    const found = async (q: string) => (await get(`?cascade_id=search&q=${encodeURIComponent(q)}`)).items.map((e: { trace_id: string }) => traces.indexOf(e.trace_id));
    // pending: matched by computing the vector
    expect(await found('parcel')).toEqual([0]);
    expect(await found('refunds')).toEqual([1]);
    expect(await indexAll()).toMatchObject({ pending: 0 });
    expect((await vectors(traces)).every((r) => r.indexed && r.fresh)).toBe(true);
    expect(await found('parcel')).toEqual([0]);
    expect(await found('refunds')).toEqual([1]);
    // a newer event of the trace changes the text: the vector is reset, search follows the new text at once
    await ingest([{ ...event({ cascade_id: 'search' }), trace_id: events[0]!.trace_id, ...openai('cancel my subscription', 'cancelled'),
      created_at: '2027-01-01T00:00:00Z' }]);
    expect((await vectors([events[0]!.trace_id]))[0]).toMatchObject({ indexed: false });
    expect(await found('parcel')).toEqual([]);
    expect(await found('subscription')).toEqual([0]);
    await indexAll();
    expect((await vectors([events[0]!.trace_id]))[0]).toMatchObject({ indexed: true, fresh: true });
    expect(await found('subscription')).toEqual([0]);
  });

  it('the indexer: service role only, a bounded batch, clear errors; two at once never index a row twice', async () => {
    const run = (query: string, token = h.tokens.service) => h.request(`/training-examples/search-index${query}`, { method: 'POST', token });
    expect((await run('', h.tokens.alice)).status).toBe(403);
    expect((await run('', h.tokens.anon)).status).toBe(401);
    for (const bad of ['?limit=0', '?limit=50001', '?limit=ten', '?limit=1.5']) expect((await run(bad)).status, bad).toBe(400);
    await indexAll();
    const events = Array.from({ length: 40 }, () => event({ cascade_id: 'indexer' }));
    await ingest(events);
    const [first, second] = await Promise.all([run('?limit=30'), run('?limit=30')]);
    const [a, b] = [await json(first!), await json(second!)];
    expect(a.indexed + b.indexed).toBe(40);
    expect((await vectors(events.map((e) => e.trace_id))).every((r) => r.indexed && r.fresh)).toBe(true);
    expect(await json(await run(''))).toEqual({ indexed: 0, pending: 0 });
    // the job pg_cron runs: batches, each committed, until nothing is pending
    await ingest(Array.from({ length: 7 }, () => event({ cascade_id: 'indexer' })));
    await h.database.client.exec(`call private.training_search_index_run(interval '50 seconds', 2)`);
    expect(await json(await run(''))).toEqual({ indexed: 0, pending: 0 });
  });

  it("npm start's indexer: each batch its own write of at most INDEX_BATCH examples, until nothing is pending", async () => {
    // The real database behind a spy: each write the indexer sends, and how many examples it indexed.
    // On the embedded database each such write is admitted against the disk's free-space floor on its own.
    const client = h.database.client;
    const indexed: number[] = [];
    const spied: SqlClient = {
      ...client,
      call: async <T,>(text: string, options?: TransactionOptions) => {
        const rows = await client.call<T>(text, options);
        indexed.push(Number((rows[0] as { n?: number } | undefined)?.n));
        return rows;
      },
    };
    const events = Array.from({ length: 2 * INDEX_BATCH + 7 }, () => event({ cascade_id: 'npm-start-indexer' }));
    await ingest(events);
    const stop = startSearchIndexer(spied, { everyMs: 10 });
    try {
      for (let i = 0; i < 500 && !(await vectors(events.map((e) => e.trace_id))).every((r) => r.indexed); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await stop();
    }
    expect((await vectors(events.map((e) => e.trace_id))).every((r) => r.indexed && r.fresh)).toBe(true);
    expect(indexed.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...indexed)).toBe(INDEX_BATCH);
    expect(indexed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(events.length);
  });

  it('annotating an example trainable indexes it at once; few-shot ranks a pending one by computing its vector', async () => {
    const [good, plain] = [event({ cascade_id: 'annotated-index', ...openai('broken screen on arrival', 'replacement sent') }),
      event({ cascade_id: 'annotated-index' })];
    await ingest([good, plain]);
    await annotate(good.trace_id, { trainable: true, confidence: 0.5 });
    await annotate(plain.trace_id, { trainable: false });
    expect((await vectors([good.trace_id]))[0]).toMatchObject({ indexed: true, fresh: true });
    expect((await vectors([plain.trace_id]))[0]).toMatchObject({ indexed: false });
    // its text changes after annotation: pending again, and few-shot still sees the new text
    await ingest([{ ...event({ cascade_id: 'annotated-index' }), trace_id: good.trace_id, ...openai('cracked screen again', 'second replacement'),
      created_at: '2027-01-01T00:00:00Z' }]);
    expect((await vectors([good.trace_id]))[0]).toMatchObject({ indexed: false });
    const body = await get(`/few-shot?cascade_id=annotated-index&query=${encodeURIComponent('screen replacement')}`);
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ trace_id: good.trace_id, user_input: 'cracked screen again' });
    expect(body.items[0].similarity).toBeGreaterThan(0);
  });

  it('few-shot follows a trace that a newer event moves to another cascade; the move is not an annotation change', async () => {
    const e = event({ cascade_id: 'moved-from', cell_name: 'c', ...openai('late delivery', 'apologies') });
    await ingest([e]);
    await annotate(e.trace_id, { trainable: true, confidence: 0.7 });
    const total = async (cascade: string) => (await get(`/few-shot?cascade_id=${cascade}&cell_name=c`)).total_available;
    expect([await total('moved-from'), await total('moved-to')]).toEqual([1, 0]);
    const [before] = await h.database.client.query<{ annotated_at: string; history: number }>(
      `select annotated_at::text, (select count(*)::int from public.training_annotation_history where trace_id = $1) as history
         from public.training_annotations where trace_id = $1`, [e.trace_id]);
    await ingest([{ ...event({ cascade_id: 'moved-to', cell_name: 'c' }), trace_id: e.trace_id, created_at: '2027-01-01T00:00:00Z' }]);
    expect([await total('moved-from'), await total('moved-to')]).toEqual([0, 1]);
    const [after] = await h.database.client.query<{ annotated_at: string; history: number; cascade_id: string }>(
      `select annotated_at::text, cascade_id, (select count(*)::int from public.training_annotation_history where trace_id = $1) as history
         from public.training_annotations where trace_id = $1`, [e.trace_id]);
    expect(after).toEqual({ ...before, cascade_id: 'moved-to' });
  });

  it('stats per cascade and cell, and the JSONL export of trainable examples', async () => {
    const stats = await get('/stats?cascade_id=fewshot');
    expect(stats.items).toEqual([expect.objectContaining({ cascade_id: 'fewshot', cell_name: 'reply', examples: 5, trainable: 4, verified: 4, mean_confidence: 0.85 })]);
    const res = await h.request('/training-examples/export?cascade_id=fewshot');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/filename="training-examples-\d{8}T\d{6}Z-openai\.jsonl"/);
    const lines = (await res.text()).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toEqual({ messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'billing question' },
      { role: 'assistant', content: 'see the invoice' }] });
    const share = (await (await h.request('/training-examples/export?format=sharegpt&cascade_id=fewshot')).text()).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(share[0].conversations.map((m: { from: string }) => m.from)).toEqual(['system', 'human', 'gpt']);
    expect((await h.request('/training-examples/export?format=csv')).status).toBe(400);
  });
});
