// Issue 6 benchmarks, on the real server.
//  - Ingestion of N log events (default 1,000,000) in batches of 1,000
//    through POST /training-examples/logs with extraction on, against the same
//    events through the same route with the extraction trigger disabled, and
//    against COPY into unified_logs (trigger disabled: the table's raw load
//    rate). Each run starts from empty tables.
//  - Full-text indexing, which runs off the ingest path: the indexer job
//    (batches of 5,000, each committed) over every extracted example, against
//    one UPDATE computing the same vectors; and ingest plus indexing together
//    against ingest with extraction off.
//  - Few-shot retrieval over a pool of trainable examples (100,000 at the
//    default size) against the same query written directly.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads, timed } from './measure.ts';

const BATCH = 1000;
const SYSTEMS = ['Classify the ticket: billing, shipping or other.', 'Write a short, kind reply to the customer.', 'Extract the order number.'];
const ASKS = ['I was charged twice for', 'My parcel has not moved for', 'Please cancel', 'Where is my refund for', 'I need an invoice for',
  'The item arrived broken in', 'Can I change the address of'];
const ANSWERS = ['billing', 'Sorry about that, the refund is on its way', 'shipping', 'other', 'The order number is'];
const BASE = Date.UTC(2026, 9, 1);
// A production-sized prompt: policy text in the system message and earlier turns in the history.
const POLICY = ' Follow the support policy: refunds within 30 days of delivery go to the original payment method; duplicate charges are '
  + 'refunded at once; parcels without a scan for 5 working days are reported lost and resent; never promise a date the carrier has not '
  + 'given; name the order number; keep answers under 120 words; escalate legal threats, chargebacks and safety issues to a human.';

export type EventSize = 'small' | 'realistic';

/**
 * Event i: an LLM call (9 in 10) or a tool call, 10 cascades x 10 cells.
 * small: about 650 bytes (a one-line system prompt, one user message).
 * realistic: about 3 KB (a policy system prompt, three earlier turns, a longer answer), as LLM calls are logged in production.
 */
export function event(i: number, size: EventSize) {
  const llm = i % 10 !== 9;
  const order = (i * 7919) % 100000;
  const ask = `Ticket ${i}: ${ASKS[i % 7]} order ${order}. Customer since ${2010 + (i % 15)}, plan ${i % 4 ? 'basic' : 'pro'}.`;
  const history = size === 'realistic'
    ? [{ role: 'user', content: `Hello, I have a question about order ${order}.` },
      { role: 'assistant', content: `Of course. I can see order ${order}, placed on day ${i % 28 + 1} of the month with standard shipping. What would you like to know?` },
      { role: 'user', content: `It was supposed to arrive last week and the tracking page still shows the same status as ${i % 9 + 2} days ago.` },
      { role: 'assistant', content: 'Thanks, I am checking the carrier scans for you now; one moment please while I look at the latest events.' }]
    : [];
  const answer = size === 'realistic'
    ? `${ANSWERS[i % 5]} (ticket ${i}). I checked order ${order}: the last carrier scan is from ${i % 9 + 2} days ago, so under our policy it `
      + 'counts as delayed but not yet lost. I have opened a trace with the carrier and will resend the parcel at no cost if there is no new '
      + 'scan within two working days. You will get an email either way, and you do not need to do anything else.'
    : `${ANSWERS[i % 5]} (ticket ${i}).`;
  return {
    id: `ev-${i}`, trace_id: `tr-${i}`, session_id: `s-${Math.floor(i / 20)}`, cascade_id: `cascade_${i % 10}`,
    cell_name: `cell_${Math.floor(i / 10) % 10}`, node_type: llm ? 'llm_call' : 'tool_call', model: i % 3 ? 'gpt-4o' : 'claude-sonnet-4',
    created_at: new Date(BASE + i * 50).toISOString(), prompt_tokens: 40 + (i % 60), completion_tokens: 1 + (i % 90),
    request: llm
      ? { model: 'gpt-4o', temperature: 0.2, messages: [{ role: 'system', content: SYSTEMS[i % 3] + (size === 'realistic' ? POLICY : '') },
        ...history, { role: 'user', content: ask }] }
      : { tool: 'orders.get', args: { id: order } },
    response: llm ? { id: `chatcmpl-${i}`, object: 'chat.completion', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: answer } }],
      usage: { prompt_tokens: 40 + (i % 60), completion_tokens: 1 + (i % 90) } } : { status: 'paid' },
  };
}

const csvField = (v: unknown) => {
  if (v === null || v === undefined) return '';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return `"${text.replaceAll('"', '""')}"`;
};

async function empty(client: SqlClient) {
  await client.exec('truncate public.training_annotation_history, public.training_annotations, public.training_examples, public.unified_logs');
}

export async function benchTrainingExamples(
  client: SqlClient, url: string, options: { events: number; iterations: number; size: EventSize },
): Promise<Comparison[]> {
  const service = await mintToken({ role: 'service_role' });
  const gateway = createGateway({ db: sqlAdapter(client), log: () => {} });
  const results: Comparison[] = [];
  const batches = Math.ceil(options.events / BATCH);
  const viaApi = () => timed(async () => {
    for (let b = 0; b < batches; b++) {
      const items = Array.from({ length: Math.min(BATCH, options.events - b * BATCH) }, (_, k) => event(b * BATCH + k, options.size));
      const res = await gateway.fetch(new Request('http://bench/functions/v1/training-examples/logs', {
        method: 'POST', headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' }, body: JSON.stringify({ items }),
      }));
      if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  });
  const trigger = (on: boolean) => client.exec(`alter table public.unified_logs ${on ? 'enable' : 'disable'} trigger unified_logs_extract_examples`);

  await empty(client);
  await trigger(false);
  const offMs = await viaApi();
  await empty(client);
  const copySql = postgres(url, { max: 1, onnotice: () => {} });
  const copyMs = await timed(async () => {
    const writable = await copySql.unsafe(`copy public.unified_logs (id, trace_id, session_id, cascade_id, cell_name, node_type, model,
      created_at, prompt_tokens, completion_tokens, request, response) from stdin with (format csv)`).writable();
    await pipeline(Readable.from((function* () {
      for (let i = 0; i < options.events; i++) {
        const e = event(i, options.size);
        yield `${[e.id, e.trace_id, e.session_id, e.cascade_id, e.cell_name, e.node_type, e.model, e.created_at, e.prompt_tokens,
          e.completion_tokens, e.request, e.response].map(csvField).join(',')}\n`;
      }
    })()), writable);
  });
  await copySql.end();
  await empty(client);
  await trigger(true);
  const onMs = await viaApi();
  const [{ examples }] = await client.query<{ examples: number }>('select count(*)::int as examples from public.training_examples') as [{ examples: number }];
  const rate = (ms: number, n = options.events) => n / ms * 1000;
  console.log(`postgres: ${options.events} ${options.size} events (~${Buffer.byteLength(JSON.stringify(event(1, options.size)))} bytes): extraction on ${rate(onMs).toFixed(0)}/s (${examples} examples), ` +
    `extraction off ${rate(offMs).toFixed(0)}/s, COPY ${rate(copyMs).toFixed(0)}/s`);
  results.push({
    name: `ingest ${options.events} ${options.size} events, batches of ${BATCH}: extraction on vs off = ${rate(onMs).toFixed(0)} vs ${rate(offMs).toFixed(0)} per s`,
    product_ms: onMs, baseline_ms: offMs, ratio: onMs / offMs, unit: 'ms for all events, extraction on vs off (both through the API)',
  });
  results.push({
    name: `ingest with extraction through the API vs COPY = ${rate(onMs).toFixed(0)} vs ${rate(copyMs).toFixed(0)} per s`,
    product_ms: onMs, baseline_ms: copyMs, ratio: onMs / copyMs, unit: 'ms for all events, API (extraction on) vs COPY (off)',
  });

  // The full-text indexer over the backlog ingest left, then the same vectors in one UPDATE.
  const indexMs = await timed(() => client.exec(`call private.training_search_index_run(interval '1 day', 5000)`));
  const [{ pending }] = await client.query<{ pending: number }>(
    'select count(*)::int as pending from public.training_examples where search_vector is null') as [{ pending: number }];
  if (pending !== 0) throw new Error(`the indexer left ${pending} examples pending`);
  await client.exec('update public.training_examples set search_vector = null');
  await client.exec('vacuum analyze public.training_examples');
  const rawIndexMs = await timed(() => client.exec(
    'update public.training_examples set search_vector = private.example_search_vector(user_input, assistant_output)'));
  console.log(`postgres: search indexer ${rate(indexMs, examples).toFixed(0)} examples/s, one UPDATE ${rate(rawIndexMs, examples).toFixed(0)}/s`);
  results.push({
    name: `full-text indexer over ${examples} examples, batches of 5,000 vs one UPDATE = ${rate(indexMs, examples).toFixed(0)} vs ${rate(rawIndexMs, examples).toFixed(0)} per s`,
    product_ms: indexMs, baseline_ms: rawIndexMs, ratio: indexMs / rawIndexMs, unit: 'ms for all examples, indexer job vs one UPDATE',
  });
  results.push({
    name: `ingest with extraction and then full-text indexing vs ingest with extraction off = ${rate(onMs + indexMs).toFixed(0)} vs ${rate(offMs).toFixed(0)} events per s`,
    product_ms: onMs + indexMs, baseline_ms: offMs, ratio: (onMs + indexMs) / offMs, unit: 'ms for all events: ingest (on) + indexer vs ingest (off)',
  });

  // Few-shot over the trainable examples of one cascade (a tenth of the events).
  await client.exec(`insert into public.training_annotations (trace_id, trainable, verified, confidence)
    select trace_id, true, abs(hashtext(trace_id)) % 5 = 0, round((abs(hashtext(trace_id || 'c')) % 1000) / 1000.0, 3)
      from public.training_examples where cascade_id = 'cascade_0'; analyze public.training_annotations; analyze public.training_examples`);
  const [{ pool }] = await client.query<{ pool: number }>(`select count(*)::int as pool from public.training_annotations`) as [{ pool: number }];
  const query = 'refund for a broken order';
  const user = await mintToken({ role: 'authenticated', sub: crypto.randomUUID() });
  results.push(await compareReads(`GET /training-examples/few-shot?k=5&query=... over ${pool} trainable examples`,
    async () => {
      const res = await gateway.fetch(new Request(`http://bench/functions/v1/training-examples/few-shot?cascade_id=cascade_0&k=5&query=${encodeURIComponent(query)}`,
        { headers: { authorization: `Bearer ${user}` } }));
      if (res.status !== 200) throw new Error(`few-shot: ${res.status} ${await res.text()}`);
      return res.json();
    },
    () => client.transaction(async (tx) => {
      await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role": "authenticated"}', true)`);
      return tx.query(`with pool as (
          select e.trace_id, e.user_input, e.assistant_output, e.system_prompt, e.created_at, a.verified, a.confidence,
                 ts_rank(e.search_vector, websearch_to_tsquery('english', $1)) as similarity
            from public.training_annotations a join public.training_examples e on e.trace_id = a.trace_id
           where a.trainable and e.cascade_id = 'cascade_0')
        select (select count(*) from pool) as total,
               (select jsonb_agg(p) from (select * from pool order by verified desc, confidence desc nulls last, similarity desc,
                                                                  created_at desc limit 5) p) as items`, [query]);
    }),
    options.iterations));
  return results;
}
