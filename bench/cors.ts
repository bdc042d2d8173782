// What CORS costs GET /runs: the same request through functions built with
// the CORS middleware (an allowed-origins list, so the origin is matched and
// echoed with Vary) and without it, interleaved in the same run; and a
// browser's preflight (OPTIONS, answered before auth) against the GET itself.
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { type Comparison, compareReads } from './measure.ts';

const ORIGIN = 'https://app.example.com';
const QUERY = 'status=completed&gradient_method=mgda';

export async function benchCors(client: SqlClient, options: { iterations: number }): Promise<Comparison[]> {
  const db = sqlAdapter(client);
  const withCors = createGateway({ db, log: () => {}, corsAllowedOrigins: `http://localhost:5173, ${ORIGIN}` });
  const without = createGateway({ db, log: () => {}, corsAllowedOrigins: false });
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
  return [
    await compareReads(`GET /runs ${QUERY} (50 rows): with CORS headers / without CORS`,
      () => call(withCors, 'GET', 200, ORIGIN), () => call(without, 'GET', 200, null), options.iterations),
    await compareReads('preflight OPTIONS /runs / the GET it precedes (both with CORS)',
      () => call(withCors, 'OPTIONS', 204, ORIGIN), () => call(withCors, 'GET', 200, ORIGIN), options.iterations),
  ];
}
