// Issue 5 benchmarks, on the real server: 100,000 conversations x 8 turns.
//  - JSONL export (openai shape) through the whole HTTP stack, streamed and
//    read to the end, against COPY (select ...) TO STDOUT of the same lines;
//    MB/s for both, and the process's peak resident memory for an export of
//    a tenth of the rows and of all of them (flat means streaming works).
//  - The review queue and a full-text query against the direct SQL.
//  - Bulk rescore of every row through the API against one UPDATE that
//    makes the same trigger recompute every score.
import postgres from 'postgres';
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads, timed } from './measure.ts';

const TOPICS = ['retirement', 'budgeting', 'investing', 'refund', 'outage'];
const EMOTIONS = ['anxious', 'hopeful', 'frustrated', 'neutral'];

/** `count` conversations of 8 turns (~230 characters each), written in SQL in batches of 5,000. */
export async function loadConversations(client: SqlClient, count: number): Promise<void> {
  const batch = 5000;
  for (let first = 1; first <= count; first += batch) {
    const last = Math.min(first + batch - 1, count);
    await client.transaction(async (tx) => {
      await tx.query(`select set_config('request.jwt.claims', '{"role": "service_role"}', true)`);
      await tx.query(
        `insert into public.conversations (conversation_id, title, persona, emotion, topic, tier, status, quality_metrics,
                                           template_id, created_by, created_at)
         select 'bench_conv_' || i, 'Conversation ' || i || ' about ' || ($3::text[])[1 + i % 5],
                'persona_' || (i % 10), ($4::text[])[1 + i % 4], ($3::text[])[1 + i % 5],
                (array['template', 'scenario', 'edge_case'])[1 + i % 3],
                case when i % 5 < 3 then 'approved' when i % 5 = 3 then 'pending_review' else 'generated' end,
                jsonb_build_object('relevance', 4 + i % 7, 'accuracy', 3 + i % 8, 'naturalness', 5 + i % 6,
                                   'coherence', 4 + i % 7, 'confidence', 5 + i % 5),
                case when i % 2 = 0 then (select id from public.conversation_templates where template_name = 'financial_planning_consultation') end,
                '00000000-0000-4000-8000-00000000be7c', now() - make_interval(secs => $5::int - i)
           from generate_series($1::int, $2::int) i`,
        [first, last, TOPICS, EMOTIONS, count]);
      await tx.query(
        `insert into public.conversation_turns (conversation_id, turn_number, role, content, token_count)
         select c.id, n, case when n % 2 = 1 then 'user' else 'assistant' end,
                case when n % 2 = 1
                  then 'I keep thinking about my ' || c.topic || ' plan, turn ' || n || '. What should I do about ' || md5(c.conversation_id || n) || '?'
                  else 'Good question. For ' || c.topic || ', start with the numbers you know: ' || md5(n || c.conversation_id)
                       || '. Then compare the two options, write down the risks, and decide on one next step this week.' end,
                55
           from public.conversations c cross join generate_series(1, 8) n
          where c.conversation_id in (select 'bench_conv_' || i from generate_series($1::int, $2::int) i)`,
        [first, last]);
    });
  }
  await client.exec('analyze public.conversations; analyze public.conversation_turns');
}

export async function benchConversations(client: SqlClient, url: string, options: { conversations: number; iterations: number }): Promise<Comparison[]> {
  const t0 = performance.now();
  await loadConversations(client, options.conversations);
  console.log(`postgres: loaded ${options.conversations} conversations x 8 turns in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const service = await mintToken({ role: 'service_role' });
  const gateway = createGateway({ db: sqlAdapter(client), log: () => {} });
  const call = (path: string, init: RequestInit = {}) => Promise.resolve(gateway.fetch(new Request(`http://bench/functions/v1${path}`, {
    ...init, headers: { authorization: `Bearer ${service}`, 'content-type': 'application/json' },
  })));
  const copySql = postgres(url, { max: 1, onnotice: () => {} });
  const results: Comparison[] = [];

  // Exports. Each side reads its file to the end, counting bytes, keeping nothing.
  const viaApi = (filter: Record<string, unknown>) => async () => {
    const res = await call('/conversations/exports', { method: 'POST', body: JSON.stringify({ format: 'jsonl', shape: 'openai', filter }) });
    if (res.status !== 200) throw new Error(`export: ${res.status} ${await res.text()}`);
    let bytes = 0;
    const reader = res.body!.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
    return bytes;
  };
  const viaCopy = (where: string) => async () => {
    const stream = await copySql.unsafe(`copy (
      select jsonb_build_object('messages',
               case when t.system_prompt is null then '[]'::jsonb
                    else jsonb_build_array(jsonb_build_object('role', 'system', 'content', t.system_prompt)) end
               || (select jsonb_agg(jsonb_build_object('role', ct.role, 'content', ct.content) order by ct.turn_number)
                     from public.conversation_turns ct where ct.conversation_id = c.id))
        from public.conversations c left join public.conversation_templates t on t.id = c.template_id
       where ${where} order by c.created_at, c.id) to stdout`).readable();
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).byteLength;
    return bytes;
  };
  // Peak memory while an export runs, above what the process held before it
  // (after a full GC when node runs with --expose-gc, as npm run bench does):
  // resident set, and the JavaScript heap plus buffers.
  const peakMemory = async (fn: () => Promise<number>) => {
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage();
    const js = (m: NodeJS.MemoryUsage) => m.heapUsed + m.external + m.arrayBuffers;
    let peakRss = before.rss;
    let peakJs = js(before);
    const sample = () => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakJs = Math.max(peakJs, js(m));
    };
    const timer = setInterval(sample, 5);
    const started = performance.now();
    const bytes = await fn();
    const ms = performance.now() - started;
    clearInterval(timer);
    sample();
    return { bytes, ms, rssMb: (peakRss - before.rss) / 2 ** 20, jsMb: (peakJs - js(before)) / 2 ** 20 };
  };
  const tenth = { persona: 'persona_0' };
  const small = await peakMemory(viaApi(tenth));
  const smallCopy = await peakMemory(viaCopy(`c.persona = 'persona_0'`));
  const full = await peakMemory(viaApi({}));
  const fullCopy = await peakMemory(viaCopy('true'));
  const full2 = await peakMemory(viaApi({}));
  const fullCopy2 = await peakMemory(viaCopy('true'));
  const mbps = (r: { bytes: number; ms: number }) => r.bytes / 2 ** 20 / (r.ms / 1000);
  const apiRate = (mbps(full) + mbps(full2)) / 2;
  const copyRate = (mbps(fullCopy) + mbps(fullCopy2)) / 2;
  results.push({
    name: `JSONL export of ${options.conversations} x 8 turns (${(full.bytes / 2 ** 20).toFixed(0)} MB) = ${apiRate.toFixed(1)} vs ${copyRate.toFixed(1)} MB/s`,
    product_ms: (full.ms + full2.ms) / 2, baseline_ms: (fullCopy.ms + fullCopy2.ms) / 2,
    ratio: ((full.ms + full2.ms) / 2) / ((fullCopy.ms + fullCopy2.ms) / 2), unit: 'ms per export, API vs COPY',
  });
  const mb = (n: number) => n.toFixed(0);
  console.log(`postgres: export peak memory above the start, a tenth (${mb(small.bytes / 2 ** 20)} MB file) vs all ` +
    `(${mb(full.bytes / 2 ** 20)} MB): API heap+buffers ${mb(small.jsMb)} vs ${mb(Math.max(full.jsMb, full2.jsMb))} MB, ` +
    `RSS ${mb(small.rssMb)} vs ${mb(Math.max(full.rssMb, full2.rssMb))} MB; COPY heap+buffers ${mb(smallCopy.jsMb)} vs ` +
    `${mb(Math.max(fullCopy.jsMb, fullCopy2.jsMb))} MB, RSS ${mb(smallCopy.rssMb)} vs ${mb(Math.max(fullCopy.rssMb, fullCopy2.rssMb))} MB`);

  // The review queue and a full-text query, a page of 50, against the direct SQL as the same role.
  const direct = (sql: string, params: unknown[] = []) => () => client.transaction(async (tx) => {
    await tx.query(`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true)`);
    return tx.query(sql, params);
  });
  const get = (path: string) => async () => {
    const res = await call(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  results.push(await compareReads('GET /conversations/review-queue (50 rows)', get('/conversations/review-queue'),
    direct(`select coalesce(jsonb_agg(to_jsonb(p) - 'search_vector' order by p.created_at, p.id), '[]')
              from (select c.* from public.conversations c where c.status = 'pending_review'
                     order by c.created_at, c.id limit 50) p`),
    options.iterations));
  const q = 'retirement plan';
  results.push(await compareReads(`GET /conversations?q=${q} (full text, 50 rows)`, get(`/conversations?q=${encodeURIComponent(q)}`),
    direct(`select coalesce(jsonb_agg(to_jsonb(p) - 'search_vector' order by p.created_at desc, p.id desc), '[]')
              from (select c.* from public.conversations c where c.search_vector @@ websearch_to_tsquery('english', $1)
                     order by c.created_at desc, c.id desc limit 50) p`, [q]),
    options.iterations));

  // Bulk rescore of every row: the API's batch job in chunks of 1,000 against one UPDATE.
  let job: { processed_items: number } | undefined;
  const apiMs = await timed(async () => {
    const res = await call('/conversations/rescore', { method: 'POST', body: '{}' });
    if (res.status !== 200) throw new Error(`rescore: ${res.status} ${await res.text()}`);
    job = await res.json() as { processed_items: number };
  });
  const sqlMs = await timed(() => client.transaction(async (tx) => {
    await tx.query(`select set_config('registry.rescore', 'on', true), set_config('request.jwt.claims', '{"role": "service_role"}', true)`);
    await tx.query('update public.conversations set quality_metrics = quality_metrics');
  }));
  results.push({
    name: `rescore all ${job!.processed_items} (batch job, chunks of 1000) = ${(job!.processed_items / apiMs * 1000).toFixed(0)} vs ${(options.conversations / sqlMs * 1000).toFixed(0)} rows/s`,
    product_ms: apiMs, baseline_ms: sqlMs, ratio: apiMs / sqlMs, unit: 'ms for all rows, API vs one UPDATE',
  });
  await copySql.end();
  return results;
}
