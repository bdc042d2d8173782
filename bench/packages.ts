// Issue 4 benchmarks, on the real server: create + publish throughput through
// the whole HTTP stack with 1, 8 and 32 concurrent clients, on one package
// (every create waits for the package row's numbering lock) and on one package
// per client, against the same writes as raw SQL (an INSERT and an UPDATE, each
// in its own transaction as the same role, what supabase.from(...) sends
// through PostgREST; the table's triggers fire on both sides); and a page of
// the version list of a package with 10,000 versions against hand-written SQL.
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads, timed } from './measure.ts';

const CONFIG = { training: { learning_rate: 0.0003, epochs: 3, batch_size: 16, lora: { r: 16, alpha: 32 } } };
const MODEL = { id: 'meta-llama/Llama-3.1-8B', revision: 'main' };
const DATASETS = [{ datasetId: 'chat-2026-11', rows: 12000 }, { datasetId: 'edge-cases', rows: 800 }];

export async function benchPackages(
  connect: (max: number) => SqlClient,
  options: { iterations: number; operations: number; versions: number },
): Promise<Comparison[]> {
  const sub = crypto.randomUUID();
  const token = await mintToken({ role: 'authenticated', sub });
  const claims = JSON.stringify({ role: 'authenticated', sub });
  const results: Comparison[] = [];
  const setup = connect(2);
  const newPackage = async (name: string) => (await asUser(setup, claims,
    `insert into public.training_configs (name, config_json) values ($1, $2) returning id`, [name, CONFIG]))[0]!.id as string;

  for (const clients of [1, 8, 32]) {
    const pool = connect(clients);
    const raw = connect(clients);
    const gateway = createGateway({ db: sqlAdapter(pool), log: () => {} });
    const call = async (path: string, body?: unknown) => {
      const res = await gateway.fetch(new Request(`http://bench/functions/v1/packages${path}`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }));
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return await res.json() as { id: string };
    };
    const viaApi = async (pkg: string) => {
      const draft = await call(`/${pkg}/versions`, { config_snapshot: CONFIG, model_snapshot: MODEL, dataset_snapshot: DATASETS });
      await call(`/versions/${draft.id}/publish`);
    };
    const viaSql = async (pkg: string) => {
      const [draft] = await asUser(raw, claims,
        `insert into public.training_package_versions (package_id, config_snapshot, model_snapshot, dataset_snapshot)
         values ($1, $2, $3, $4) returning id`, [pkg, CONFIG, MODEL, DATASETS]);
      await asUser(raw, claims, `update public.training_package_versions set status = 'published' where id = $1`, [draft!.id]);
    };
    for (const shared of [true, false]) {
      const packages = async () => shared
        ? Array(clients).fill(await newPackage(`bench-shared-${clients}`)) as string[]
        : Promise.all(Array.from({ length: clients }, (_, i) => newPackage(`bench-own-${clients}-${i}`)));
      const apiPackages = await packages();
      const sqlPackages = await packages();
      // Alternate the sides in rounds so the machine's noise lands on both.
      const perRound = Math.max(clients * 5, 20);
      let apiMs = 0;
      let sqlMs = 0;
      let done = 0;
      await run(clients, 10, (w) => viaApi(apiPackages[w]!));
      await run(clients, 10, (w) => viaSql(sqlPackages[w]!));
      while (done < options.operations) {
        const n = Math.min(perRound, options.operations - done);
        apiMs += await timed(() => run(clients, n, (w) => viaApi(apiPackages[w]!)));
        sqlMs += await timed(() => run(clients, n, (w) => viaSql(sqlPackages[w]!)));
        done += n;
      }
      const apiRate = done / apiMs * 1000;
      const sqlRate = done / sqlMs * 1000;
      results.push({
        name: `create + publish, ${clients} client${clients > 1 ? 's' : ''}, ${shared ? 'one package' : 'a package each'} = ${apiRate.toFixed(0)} vs ${sqlRate.toFixed(0)} per s`,
        product_ms: apiMs / done, baseline_ms: sqlMs / done, ratio: apiMs / sqlMs, unit: 'ms per version, wall clock / operations',
      });
    }
    await Promise.all([pool.close(), raw.close()]);
  }

  // A package with 10,000 versions, every other one published.
  const big = await newPackage('bench-10k');
  await setup.query(
    `insert into public.training_package_versions (package_id, config_snapshot, model_snapshot, dataset_snapshot, change_summary)
     select $1, jsonb_set($2::jsonb, '{training,seed}', to_jsonb(i)), $3, $4, 'bench version ' || i from generate_series(1, $5::int) i`,
    [big, CONFIG, MODEL, DATASETS, options.versions]);
  await setup.query(`update public.training_package_versions set status = 'published' where package_id = $1 and version_number % 2 = 0`, [big]);
  await setup.query('analyze public.training_package_versions');
  const listGateway = createGateway({ db: sqlAdapter(setup), log: () => {} });
  const list = (query: string) => async () => {
    const res = await listGateway.fetch(new Request(`http://bench/functions/v1/packages/${big}/versions${query}`, {
      headers: { authorization: `Bearer ${token}` },
    }));
    if (res.status !== 200) throw new Error(`list: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const handWritten = (where: string) => () => asUser(setup, claims,
    `select coalesce(jsonb_agg(to_jsonb(v) order by v.version_number desc), '[]') as items
       from (select * from public.training_package_versions v where v.package_id = $1 ${where}
             order by v.version_number desc limit 50) v`, [big]);
  const deep = Math.floor(options.versions / 2);
  results.push(await compareReads(`GET /packages/:id/versions, first page of ${options.versions} (50 rows)`,
    list(''), handWritten(''), options.iterations));
  results.push(await compareReads(`GET /packages/:id/versions?status=published (50 rows)`,
    list('?status=published'), handWritten(`and v.status = 'published'`), options.iterations));
  const cursor = Buffer.from(JSON.stringify({ n: deep })).toString('base64url');
  results.push(await compareReads(`GET /packages/:id/versions, a page from the middle (cursor, 50 rows)`,
    list(`?cursor=${cursor}`), handWritten(`and v.version_number < ${deep}`), options.iterations));
  await setup.close();
  return results;
}

/** `count` calls of fn spread over `workers` concurrent loops; fn gets its worker's index. */
async function run(workers: number, count: number, fn: (worker: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async (_, w) => {
    while (next < count) {
      next++;
      await fn(w);
    }
  }));
}

async function asUser(client: SqlClient, claims: string, sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  return await client.transaction(async (tx) => {
    await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [claims]);
    return await tx.query(sql, params);
  });
}
