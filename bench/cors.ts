// What CORS costs GET /runs: the same request through functions built with
// the CORS middleware (an allowed-origins list, so the origin is matched and
// echoed with Vary) and without it, interleaved in the same run; the same with
// the database's answer stubbed (the same 50 rows), which leaves only the HTTP
// stack and so shows the middleware's own cost; and a browser's preflight
// (OPTIONS, answered before auth) against the GET itself.
import type { Db } from '../functions/_shared/db/port.ts';
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads } from './measure.ts';

const ORIGIN = 'https://app.example.com';
const QUERY = 'status=completed&gradient_method=mgda';

export async function benchCors(client: SqlClient, options: { iterations: number }): Promise<Comparison[]> {
  const db = sqlAdapter(client);
  const gateways = (database: Db) => [
    createGateway({ db: database, log: () => {}, corsAllowedOrigins: `http://localhost:5173, ${ORIGIN}` }),
    createGateway({ db: database, log: () => {}, corsAllowedOrigins: false }),
  ] as const;
  const [withCors, without] = gateways(db);
  const headers = { authorization: `Bearer ${await mintToken({ role: 'authenticated', sub: crypto.randomUUID() })}`, origin: ORIGIN };
  const call = async (gateway: ReturnType<typeof createGateway>, method: 'GET' | 'OPTIONS', expected: number, allowOrigin: string | null) => {
    const res = await gateway.fetch(new Request(`http://bench/functions/v1/runs?${QUERY}`, {
      method, headers: method === 'GET' ? headers : { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    }));
    if (res.status !== expected || res.headers.get('access-control-allow-origin') !== allowOrigin) {
      throw new Error(`${method} /runs: ${res.status}, allow-origin ${res.headers.get('access-control-allow-origin')}`);
    }
    return res.arrayBuffer();
  };
  // The page the database gives, replayed: a fresh copy per call, as a real answer would be parsed anew.
  const page = await (await withCors.fetch(new Request(`http://bench/functions/v1/runs?${QUERY}`, { headers }))).text();
  const [stubWith, stubWithout] = gateways({ rpc: async <T>() => JSON.parse(page) as T, rpcText: async () => page, close: async () => {} });
  return [
    await compareReads(`GET /runs ${QUERY} (50 rows): with CORS headers / without CORS`,
      () => call(withCors, 'GET', 200, ORIGIN), () => call(without, 'GET', 200, null), options.iterations),
    await compareReads('the same, database answer stubbed (HTTP stack only): with CORS / without',
      () => call(stubWith, 'GET', 200, ORIGIN), () => call(stubWithout, 'GET', 200, null), options.iterations * 10),
    await compareReads('preflight OPTIONS /runs / the GET it precedes (both with CORS)',
      () => call(withCors, 'OPTIONS', 204, ORIGIN), () => call(withCors, 'GET', 200, ORIGIN), options.iterations),
  ];
}
