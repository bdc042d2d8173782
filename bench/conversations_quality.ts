// Issue 18: the seed's dashboard query (status, then quality best first)
// through the API and through the SQL list function, against the direct SQL
// on the same database, at 100,000 conversations. First pages and a page
// deep in the keyset (the cursor of row ~5,000), each a page of 50.
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { loadConversations } from './conversations.ts';
import { type Comparison, compareReads } from './measure.ts';

export async function benchConversationsQuality(client: SqlClient, options: { conversations: number; iterations: number }): Promise<Comparison[]> {
  const t0 = performance.now();
  await loadConversations(client, options.conversations);
  console.log(`loaded ${options.conversations} conversations x 8 turns in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const service = await mintToken({ role: 'service_role' });
  const gateway = createGateway({ db: sqlAdapter(client), log: () => {} });
  const get = (path: string) => async () => {
    const res = await gateway.fetch(new Request(`http://bench/functions/v1${path}`, { headers: { authorization: `Bearer ${service}` } }));
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ items: { id: string; quality_score: number | null }[]; next_cursor: string | null }>;
  };
  const asService = (sql: string, params: unknown[] = []) => () => client.transaction(async (tx) => {
    await tx.query(`select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true)`);
    return tx.query(sql, params);
  });
  // What a hand-written dashboard query returns: the rows as JSON, in the same order, the same keyset.
  const direct = (where: string, params: unknown[] = []) => asService(
    `select coalesce(jsonb_agg(to_jsonb(p) - 'search_vector' order by coalesce(p.quality_score, -1) desc, p.id desc), '[]')
       from (select c.* from public.conversations c where ${where}
              order by coalesce(c.quality_score, -1) desc, c.id desc limit 50) p`, params);

  const plan = await client.query<{ 'QUERY PLAN': string }>(`explain (format text)
    select * from public.conversations c where c.status = 'pending_review' order by coalesce(c.quality_score, -1) desc, c.id desc limit 50`);
  console.log(`dashboard query plan:\n${plan.map((r) => `  ${r['QUERY PLAN']}`).join('\n')}`);

  // A cursor about 5,000 rows in, and the same position for the direct SQL.
  let cursor: string | null = null;
  let last: { id: string; quality_score: number | null } | undefined;
  for (let i = 0; i < 5; i++) {
    const page = await get(`/conversations?order=quality_score.desc&limit=1000${cursor ? `&cursor=${cursor}` : ''}`)();
    cursor = page.next_cursor;
    last = page.items.at(-1);
  }
  const deepKey = [last!.quality_score ?? -1, last!.id];

  return [
    await compareReads('GET /conversations?status=pending_review&order=quality_score.desc (50)',
      get('/conversations?status=pending_review&order=quality_score.desc'), direct(`c.status = 'pending_review'`), options.iterations),
    await compareReads('conversations_list({status}, 50, null, quality_score.desc) in SQL',
      asService(`select public.conversations_list('{"status": "pending_review"}', 50, null, 'quality_score.desc')`),
      direct(`c.status = 'pending_review'`), options.iterations),
    await compareReads('GET /conversations?order=quality_score.desc, page after row 5,000 (50)',
      get(`/conversations?order=quality_score.desc&cursor=${cursor}`),
      direct('(coalesce(c.quality_score, -1), c.id) < ($1::numeric, $2::uuid)', deepKey), options.iterations),
    await compareReads('GET /conversations (created_at.desc, for comparison) (50)', get('/conversations'),
      asService(`select coalesce(jsonb_agg(to_jsonb(p) - 'search_vector' order by p.created_at desc, p.id desc), '[]')
                   from (select c.* from public.conversations c order by c.created_at desc, c.id desc limit 50) p`), options.iterations),
  ];
}
