// The driver decision (issue 17): the whole HTTP stack on node-postgres (pg,
// the product's driver) against the same stack on postgres.js 3.4 (the driver
// it replaced), on one database in one run, interleaved. A ratio above 1 means
// pg is slower.
//   npm run bench -- --db postgres --suites driver --runs 20000 --iterations 200 --writes 1000 --server-runs 0
import postgres from 'postgres';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { postgresClient, type SqlClient } from '../functions/_shared/db/sql_client.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads, compareWrites } from './measure.ts';

/** The SqlClient the product had over postgres.js (before issue 17), for comparison only. */
function postgresJsClient(url: string, max: number): SqlClient {
  const sql = postgres(url, { max, prepare: true, onnotice: () => {}, connection: { application_name: 'training-registry' } });
  const wrap = (run: postgres.Sql | postgres.TransactionSql): SqlClient => ({
    async query<T>(text: string, params: unknown[] = []) {
      // The sql adapter now sends JSON arguments as text; postgres.js took (and serialised) the object.
      const values = text.includes('jsonb_to_record($1::jsonb)') ? [JSON.parse(params[0] as string), ...params.slice(1)] : params;
      return await run.unsafe(text, values as postgres.ParameterOrJSON<never>[], { prepare: true }) as unknown as T[];
    },
    async exec(text: string) {
      await run.unsafe(text);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if ('savepoint' in run) return fn(wrap(run));
      return (run as postgres.Sql).begin((tx) => fn(wrap(tx))) as Promise<T>;
    },
    async call<T>(text: string) {
      // A multi-statement simple query answers one result per statement; its last one is the call's.
      const exec = (tx: postgres.Sql | postgres.TransactionSql) => tx.unsafe(text).simple();
      const results = await ('savepoint' in run ? exec(run) : (run as postgres.Sql).begin((tx) => exec(tx))) as unknown as unknown[];
      const last = Array.isArray(results[0]) ? results[results.length - 1] : results;
      return last as T[];
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  });
  return wrap(sql);
}

export async function benchDriver(url: string, options: { iterations: number; writes: number }): Promise<Comparison[]> {
  const pgClient = postgresClient(url, { max: 4 });
  const jsClient = postgresJsClient(url, 4);
  const sub = crypto.randomUUID();
  const headers = { authorization: `Bearer ${await mintToken({ role: 'authenticated', sub })}` };
  const onPg = createGateway({ db: sqlAdapter(pgClient), log: () => {} });
  const onJs = createGateway({ db: sqlAdapter(jsClient), log: () => {} });
  const get = async (gateway: typeof onPg, query: string) => {
    const res = await gateway.fetch(new Request(`http://bench/functions/v1/runs?${query}`, { headers }));
    if (res.status !== 200) throw new Error(`GET /runs?${query}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const tag = Date.now().toString(36);
  const post = async (gateway: typeof onPg, id: string) => {
    const res = await gateway.fetch(new Request('http://bench/functions/v1/runs', {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: id, config: { training: { batch_size: 64, seed: 1 }, notes: 'x'.repeat(2500) }, host: 'ec2' }),
    }));
    if (res.status !== 201) throw new Error(`POST /runs: ${res.status} ${await res.text()}`);
    await res.json();
  };
  try {
    const query = 'status=completed&gradient_method=mgda';
    return [
      await compareReads(`driver: GET /runs?${query} (50 rows), pg vs postgres.js`, () => get(onPg, query), () => get(onJs, query), options.iterations),
      await compareReads('driver: GET /runs/stats, pg vs postgres.js',
        async () => (await onPg.fetch(new Request('http://bench/functions/v1/runs/stats', { headers }))).json(),
        async () => (await onJs.fetch(new Request('http://bench/functions/v1/runs/stats', { headers }))).json(), options.iterations),
      await compareWrites(`driver: POST /runs, ${options.writes} creates, pg vs postgres.js`,
        (i) => post(onPg, `drv_pg_${tag}_${i}`), (i) => post(onJs, `drv_js_${tag}_${i}`), options.writes),
    ];
  } finally {
    await pgClient.close();
    await jsClient.close();
  }
}
