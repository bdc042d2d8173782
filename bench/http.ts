// The HTTP path over a real socket (issue 16): `npm start` (scripts/start.ts)
// spawned as a child on a free port, loaded by autocannon at 1, 8 and 32
// connections, against, at the same concurrency and interleaved (A, B, C, A,
// B, C), the same SQL function called directly from this process:
//   envelope: the sql adapter's one message (set_config of role, claims,
//             timeouts and read-only, then the call: one round trip for a
//             read, two for a write), on a pool of the server's size (10:
//             openDatabase's postgresClient default);
//   bare:     the call alone as the superuser, no transaction, no role switch;
// and a trivial Hono route served the same way (bench/http_floor.ts), the floor
// of the stack. With several table sizes (--http-sizes) every size is loaded
// and served at once and each round measures them in turn, so cost growth is
// read from the same minutes as the rest. On PGlite the direct side is the product's PGlite client on a
// copy of the server's data folder, in this process: PGlite has one
// connection, so its calls are serialised whatever the number of loops.
//   npm run bench -- --suites http --db pglite,postgres --http-sizes 20000 --http-clients 1,8,32 --duration 6
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { decode } from 'hono/jwt';
import { quoteLiteral, sqlAdapter } from '../functions/_shared/db/sql_adapter.ts';
import { postgresClient, type SqlClient } from '../functions/_shared/db/sql_client.ts';
import type { FilterNode, Order } from '../functions/runs/filter/ast.ts';
import { parseFilter } from '../functions/runs/filter/parse.ts';
import { createGateway } from '../scripts/lib/gateway.ts';
import { prepareDatabase } from '../scripts/lib/migrator.ts';
import { pgliteClient } from '../scripts/lib/pglite_client.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { inLoops, type Load, type LoadFigures, loadFigures } from './measure.ts';
import { loadRuns } from './runs.ts';
import { type Child, rssMb, startChild } from './server.ts';

export interface HttpOptions {
  kinds: string[];
  sizes: number[];
  clients: number[];
  /** Seconds per side per cell, split over `rounds` interleaved rounds. */
  duration: number;
  rounds: number;
  /** The table size the writes and the floor are measured at (the first size when it is not among them; 0: none). */
  writeSize: number;
  adminUrl: string;
}

export interface HttpCell {
  db: string;
  runs: number;
  name: string;
  clients: number;
  http: LoadFigures;
  envelope: LoadFigures;
  bare?: LoadFigures;
  /** The old benchmark's path: gateway.fetch in this process, no socket (1 client, list and get only). */
  in_process?: LoadFigures;
  /** http ÷ envelope: throughput (below 1: HTTP serves fewer), p50 and p99 (above 1: HTTP is slower). */
  ratio: { rps: number; p50: number; p99: number };
  /** envelope ÷ bare: what BEGIN, set_config, COMMIT cost. */
  envelope_ratio?: { rps: number; p50: number; p99: number; p50_added_ms: number };
}

export interface HttpReport {
  cells: HttpCell[];
  floor: { db: string; clients: number; figures: LoadFigures }[];
  /** p50 and throughput at the largest size ÷ at the smallest, per read cell. */
  growth: { db: string; name: string; clients: number; side: string; from: number; to: number; p50: number; rps: number }[];
  server_rss_mb: { db: string; runs: number; ready: number; after: number }[];
}

const POOL = 10;
const ORDER: Order = { field: { kind: 'column', name: 'created_at' }, dir: 'desc' };
const OR_FILTER = "status = 'completed' AND (gradient_method = 'mgda' OR gradient_method = 'pcgrad')";

export interface Read { name: string; path: (size: number) => string; fn: string; args: (size: number) => [string, string, unknown][] }

/** A read's name as the tables print it (the filters elided). */
export const readLabel = (name: string) => name
  .replace(/^GET \/runs\?status=[^&]+&gradient_method=[^&]+&limit=50$/, 'GET /runs?status=…&gradient_method=…')
  .replace(/^GET \/runs\?filter=.*$/, 'GET /runs?filter=… OR …');

export const READS: Read[] = [
  { name: 'GET /runs?limit=50', path: () => '/runs?limit=50', fn: 'runs_list',
    args: () => [['p_limit', 'integer', 50], ['p_order', 'jsonb', ORDER]] },
  { name: 'GET /runs?status=completed&gradient_method=mgda&limit=50', path: () => '/runs?status=completed&gradient_method=mgda&limit=50',
    fn: 'runs_list', args: () => [['p_status', 'text', 'completed'], ['p_gradient_method', 'text', 'mgda'], ['p_limit', 'integer', 50], ['p_order', 'jsonb', ORDER]] },
  { name: `GET /runs?filter=${OR_FILTER}&limit=50`, path: () => `/runs?filter=${encodeURIComponent(OR_FILTER)}&limit=50`, fn: 'runs_list',
    args: () => [['p_limit', 'integer', 50], ['p_filter', 'jsonb', parseFilter(OR_FILTER) as FilterNode], ['p_order', 'jsonb', ORDER]] },
  { name: 'GET /runs/<id>', path: (size) => `/runs/bench_${Math.ceil(size / 2)}`, fn: 'runs_get',
    args: (size) => [['p_run_id', 'text', `bench_${Math.ceil(size / 2)}`]] },
];

const runConfig = (i: number) => ({ training: { batch_size: 64, learning_rate: 0.001, gradient_method: 'mgda', num_gpus: 4, seed: i },
  objectives: [{ name: 'COMT_activity', alias: 'COMT_activity_maximize', weight: 1, direction: 'maximize' }], notes: 'x'.repeat(2500) });

/** `clients` connections of autocannon for `seconds`; latencies of the 2xx answers. */
export async function overSocket(url: string, clients: number, seconds: number, request: { method?: string; headers?: Record<string, string>; body?: () => string }): Promise<Load> {
  const latencies: number[] = [];
  let errors = 0;
  const instance = autocannon({
    url, connections: clients, duration: seconds, timeout: 30, skipAggregateResult: true,
    requests: [{
      method: request.method ?? 'GET', headers: request.headers,
      ...request.body ? { setupRequest: (r) => ({ ...r, body: request.body!() }) } : {},
    }],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, time: number) => {
    if (status >= 200 && status < 300) latencies.push(time);
    else if (errors++ === 0) console.error(`  first non-2xx answer: ${status} from ${url}`);
  });
  const result = await instance;
  errors += result.errors + result.timeouts;
  // The window, as on the direct side (measure.ts inLoops): requests in flight at its end are not counted.
  return { requests: latencies.length, seconds, errors, latencies };
}

const ratio = (a: LoadFigures, b: LoadFigures) => ({ rps: a.rps / b.rps, p50: a.p50_ms / b.p50_ms, p99: a.p99_ms / b.p99_ms });

export async function benchHttp(options: HttpOptions): Promise<HttpReport> {
  const report: HttpReport = { cells: [], floor: [], growth: [], server_rss_mb: [] };
  const sub = crypto.randomUUID();
  const token = await mintToken({ role: 'authenticated', sub });
  // The claims the server sets are the token's payload: the direct side sets the same.
  const claims = JSON.stringify(decode(token).payload);
  const headers = { authorization: `Bearer ${token}` };
  // 0: reads only (a cost-growth run).
  const writeSize = options.writeSize === 0 ? -1 : options.sizes.includes(options.writeSize) ? options.writeSize : options.sizes[0]!;
  const slice = options.duration / options.rounds;
  const tag = Date.now().toString(36);
  let written = 0;

  const floorDir = mkdtempSync(join(tmpdir(), 'registry-floor-'));
  const floor = await startChild('bench/http_floor.ts', { cwd: floorDir, ready: /floor listening on (\d+)/ });
  try {
    for (const kind of options.kinds) {
      // Every size is loaded and served at once, and each round measures them one after the other, so a
      // ratio between sizes (cost growth) is read from the same minutes of the machine, as HTTP ÷ direct is.
      const setups: Setup[] = [];
      try {
        for (const size of options.sizes) setups.push(await setUp(kind, size, options.adminUrl, claims));
        const writer = setups.find((s) => s.size === writeSize);
        if (writer) {
          for (const clients of options.clients) {
            const floorRounds: Load[] = [];
            for (let r = 0; r < options.rounds; r++) floorRounds.push(await overSocket(`http://127.0.0.1:${floor.port}/`, clients, slice, {}));
            report.floor.push({ db: kind, clients, figures: loadFigures(floorRounds) });
          }
        }
        for (const read of READS) {
          // Warm-up: plans, caches, connections, JIT of the JavaScript on both sides.
          for (const s of setups) {
            await overSocket(`${s.base}${read.path(s.size)}`, 8, 1, { headers });
            await inLoops(8, 1, () => s.envelope(read.fn, read.args(s.size)));
          }
          for (const clients of options.clients) {
            const inProcess = clients === 1 && (read.name === 'GET /runs?limit=50' || read.fn === 'runs_get');
            const sides = new Map(setups.map((s) => [s, { http: [], envelope: [], bare: [], in_process: [] } as Record<string, Load[]>]));
            for (let r = 0; r < options.rounds; r++) {
              // A B, then B A: a drift of the machine over a round lands on every size alike.
              for (const s of r % 2 === 0 ? setups : [...setups].reverse()) {
                const side = sides.get(s)!;
                const args = read.args(s.size);
                side.http!.push(await overSocket(`${s.base}${read.path(s.size)}`, clients, slice, { headers }));
                side.envelope!.push(await inLoops(clients, slice, () => s.envelope(read.fn, args)));
                side.bare!.push(await inLoops(clients, slice, () => s.bare(read.fn, args)));
                if (inProcess) {
                  side.in_process!.push(await inLoops(clients, slice, async () => {
                    const res = await s.gateway.fetch(new Request(`http://bench/functions/v1${read.path(s.size)}`, { headers }));
                    if (res.status !== 200) throw new Error(`in-process ${read.name}: ${res.status}`);
                    return res.json();
                  }));
                }
              }
            }
            for (const s of setups) report.cells.push(cell(kind, s.size, read.name, clients, sides.get(s)!));
          }
        }
        if (writer) {
          const body = (side: string) => (i: number) => ({ run_id: `h_${side}_${tag}_${i}`, config: runConfig(i), host: 'ec2' });
          const post = body('http');
          const call = body('direct');
          const write = (i: number) => {
            const b = call(i);
            return writer.envelope('runs_create', [['p_run_id', 'text', b.run_id], ['p_config', 'jsonb', b.config], ['p_host', 'text', b.host]]);
          };
          const request = { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: () => JSON.stringify(post(written++)) };
          await overSocket(`${writer.base}/runs`, 8, 1, request);
          await inLoops(8, 1, (i) => write(1e9 + i));
          let n = 0;
          for (const clients of options.clients) {
            const sides: Record<string, Load[]> = { http: [], envelope: [] };
            for (let r = 0; r < options.rounds; r++) {
              sides.http!.push(await overSocket(`${writer.base}/runs`, clients, slice, request));
              sides.envelope!.push(await inLoops(clients, slice, () => write(n++)));
            }
            report.cells.push(cell(kind, writer.size, 'POST /runs (2.6 KB config)', clients, sides));
          }
        }
      } finally {
        for (const s of setups) {
          report.server_rss_mb.push({ db: kind, runs: s.size, ready: s.rssReady, after: rssMb(s.server.pid) });
          await s.server.stop();
          await s.db.close();
        }
      }
      for (const size of options.sizes) {
        print(report.cells.filter((c) => c.db === kind && c.runs === size), report.floor.filter((f) => f.db === kind && size === writeSize));
      }
    }
  } finally {
    await floor.stop();
    rmSync(floorDir, { recursive: true, force: true });
  }
  report.growth = growth(report.cells);
  if (report.growth.length > 0) {
    console.log('\ncost growth (largest ÷ smallest table, measured in the same rounds), p50 and throughput');
    for (const g of report.growth) {
      console.log(`  ${g.db.padEnd(8)} ${g.name.padEnd(64)} ${String(g.clients).padStart(2)} clients ${g.side.padEnd(8)} ` +
        `${g.to} ÷ ${g.from}: p50 ${g.p50.toFixed(2)}x, req/s ${g.rps.toFixed(2)}x`);
    }
  }
  return report;
}

type Args = [string, string, unknown][];

/** One size of one database: loaded, served by npm start, and its direct side. */
interface Setup {
  size: number;
  db: BenchDatabase;
  server: Child;
  base: string;
  rssReady: number;
  gateway: ReturnType<typeof createGateway>;
  /** The call as the sql adapter sends it (SqlClient.call) as the token's user. */
  envelope<T>(fn: string, args: Args): Promise<T>;
  /** The call alone as the superuser. */
  bare(fn: string, args: Args): Promise<unknown>;
}

async function setUp(kind: string, size: number, adminUrl: string, claims: string): Promise<Setup> {
  const db = await openBenchDatabase(kind, adminUrl, size);
  try {
    const t = performance.now();
    const direct = await db.load();
    console.log(`http ${kind}: ${size} runs loaded in ${((performance.now() - t) / 1000).toFixed(1)} s; starting npm start`);
    const server = await db.serve();
    // The envelope as the sql adapter sends it (SqlClient.call): one message, the settings PostgREST makes per
    // request and the call, values inlined; a read in an implicit read-only transaction, a write BEGIN + that, then COMMIT.
    const envelope = async <T>(fn: string, args: Args) => {
      const readOnly = fn !== 'runs_create';
      const settings = [`set_config('role', 'authenticated', true)`, `set_config('request.jwt.claims', ${quoteLiteral(claims)}, true)`,
        `set_config('statement_timeout', '20000', true)`, `set_config('lock_timeout', '20000', true)`,
        ...readOnly ? [`set_config('transaction_read_only', 'on', true)`] : []];
      return (await direct.call<{ r: T }>(`select ${settings.join(', ')};\n${inlineCallText(fn, args)}`, { readOnly }))[0]!.r;
    };
    return {
      size, db, server, base: `http://127.0.0.1:${server.port}/functions/v1`, rssReady: rssMb(server.pid),
      gateway: createGateway({ db: sqlAdapter(direct), log: () => {} }),
      envelope,
      bare: (fn, args) => direct.query(callText(fn, args), callParams(args)),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

function cell(db: string, runs: number, name: string, clients: number, sides: Record<string, Load[]>): HttpCell {
  const http = loadFigures(sides.http!);
  const envelope = loadFigures(sides.envelope!);
  const bare = sides.bare?.length ? loadFigures(sides.bare) : undefined;
  const in_process = sides.in_process?.length ? loadFigures(sides.in_process) : undefined;
  return {
    db, runs, name, clients, http, envelope, bare, in_process, ratio: ratio(http, envelope),
    envelope_ratio: bare ? { ...ratio(envelope, bare), p50_added_ms: envelope.p50_ms - bare.p50_ms } : undefined,
  };
}

function growth(cells: HttpCell[]): HttpReport['growth'] {
  const out: HttpReport['growth'] = [];
  for (const c of cells) {
    if (c.name.startsWith('POST')) continue;
    const same = cells.filter((o) => o.db === c.db && o.name === c.name && o.clients === c.clients);
    const from = Math.min(...same.map((o) => o.runs));
    const to = Math.max(...same.map((o) => o.runs));
    if (c.runs !== to || from === to) continue;
    const small = same.find((o) => o.runs === from)!;
    for (const side of ['http', 'envelope'] as const) {
      out.push({ db: c.db, name: c.name, clients: c.clients, side, from, to, p50: c[side].p50_ms / small[side].p50_ms, rps: small[side].rps / c[side].rps });
    }
  }
  return out;
}

function callText(fn: string, args: [string, string, unknown][]): string {
  return `select public.${fn}(${args.map(([name, type], i) => `${name} => $${i + 1}::${type}`).join(', ')}) as r`;
}
/** The call with its arguments as literals, as the sql adapter sends them in its one message. */
function inlineCallText(fn: string, args: [string, string, unknown][]): string {
  const literal = (type: string, value: unknown) =>
    `${quoteLiteral(type === 'jsonb' || typeof value !== 'string' ? JSON.stringify(value) : value)}::${type}`;
  return `select public.${fn}(${args.map(([name, type, value]) => `${name} => ${literal(type, value)}`).join(', ')}) as r`;
}
function callParams(args: [string, string, unknown][]): unknown[] {
  return args.map(([, type, value]) => (type === 'jsonb' ? JSON.stringify(value) : value));
}

interface BenchDatabase {
  /** Loads its runs, and returns the direct side's client. */
  load(): Promise<SqlClient>;
  /** npm start on the loaded data. */
  serve(): Promise<Child>;
  close(): Promise<void>;
}

async function openBenchDatabase(kind: string, adminUrl: string, size: number): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `registry-http-${kind}-${size}-`));
  if (kind === 'pglite') {
    // The server's data folder is loaded here, closed, copied for the direct side, and served by npm start.
    const serverDir = join(dir, 'server');
    const dataDir = join(serverDir, '.data', 'pglite');
    const directDir = join(dir, 'direct');
    mkdirSync(dataDir, { recursive: true });
    let direct: SqlClient | undefined;
    return {
      async load() {
        await direct?.close();
        rmSync(directDir, { recursive: true, force: true });
        const client = await pgliteClient(dataDir);
        await prepareDatabase(client);
        await client.exec('truncate public.training_runs cascade');
        await loadRuns(client, size);
        await client.exec('checkpoint');
        await client.close();
        cpSync(dataDir, directDir, { recursive: true });
        direct = await pgliteClient(directDir);
        return direct;
      },
      serve: () => startChild('scripts/start.ts', { cwd: serverDir, env: { DATABASE_URL: '' } }),
      async close() {
        await direct?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const name = `registry_bench_http_${size}_${Date.now()}`;
  const admin = postgresClient(adminUrl, { max: 1 });
  await admin.exec(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const direct = postgresClient(url.toString(), { max: POOL });
  await prepareDatabase(direct);
  return {
    async load() {
      await direct.exec('truncate public.training_runs cascade');
      await loadRuns(direct, size);
      await direct.exec('vacuum analyze public.training_runs');
      return direct;
    },
    serve: () => startChild('scripts/start.ts', { cwd: dir, env: { DATABASE_URL: url.toString() } }),
    async close() {
      await direct.close();
      await admin.exec(`drop database ${name} with (force)`);
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const f = (n: number, digits = 2) => n.toFixed(digits);

function print(cells: HttpCell[], floor: HttpReport['floor']) {
  if (cells.length === 0) return;
  console.log(`\n${cells[0]!.db}, ${cells[0]!.runs} runs: HTTP over a socket vs the same SQL function called directly (req/s; p50/p99 ms)`);
  console.log(`  ${'request'.padEnd(64)} cl  ${'HTTP'.padEnd(22)} ${'direct+envelope'.padEnd(22)} ${'bare call'.padEnd(22)} HTTP÷env: req/s  p50   p99   env÷bare p50`);
  for (const c of cells) {
    const fig = (x?: LoadFigures) => (x ? `${f(x.rps, 0)} ${f(x.p50_ms)}/${f(x.p99_ms)}` : '-').padEnd(22);
    console.log(`  ${c.name.slice(0, 64).padEnd(64)} ${String(c.clients).padStart(2)}  ${fig(c.http)} ${fig(c.envelope)} ${fig(c.bare)} ` +
      `${f(c.ratio.rps).padStart(14)} ${f(c.ratio.p50).padStart(5)} ${f(c.ratio.p99).padStart(5)}   ${c.envelope_ratio ? `${f(c.envelope_ratio.p50)} (+${f(c.envelope_ratio.p50_added_ms)} ms)` : '-'}` +
      `${c.in_process ? `  in-process gateway.fetch: p50 ${f(c.in_process.p50_ms)} ms = ${f(c.in_process.p50_ms / c.envelope.p50_ms)}x env` : ''}` +
      `${c.http.errors + c.envelope.errors ? `  ERRORS ${c.http.errors}/${c.envelope.errors}` : ''}`);
  }
  for (const fl of floor) {
    console.log(`  floor (trivial Hono route over a socket), ${String(fl.clients).padStart(2)} clients: ${f(fl.figures.rps, 0)} req/s, p50 ${f(fl.figures.p50_ms)} ms, p99 ${f(fl.figures.p99_ms)} ms`);
  }
}
