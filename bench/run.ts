// npm run bench [-- --runs 100000 --iterations 200 --writes 2000 --reports 10000 --versions 10000 --operations 1000
//                  --conversations 100000 --events 1000000 --event-size realistic|small --db pglite,postgres
//                  --suites runs,analytics,gradient-methods,packages,conversations,conversations-quality,training-examples,cors
//                  --server-runs 100000 --aggregate-iterations 30
//                  --suites memory --memory-seconds 300 --memory-clients 8 --memory-sample 5
//                  --suites http --http-sizes 20000 --http-clients 1,8,32 --duration 6 --rounds 2 --http-write-size 20000]
// Each database gets the same dataset and the same measurements; results are
// ratios against raw SQL on that database in the same run, printed and written
// to bench/results/latest.json. The package-version benchmarks (real
// concurrent connections), the conversation and training-example benchmarks
// (COPY) run on PostgreSQL only.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { postgresClient, type SqlClient } from '../functions/_shared/db/sql_client.ts';
import { pgliteClient } from '../scripts/lib/pglite_client.ts';
import { prepareDatabase } from '../scripts/lib/migrator.ts';
import { benchAnalytics } from './analytics.ts';
import { benchConversations } from './conversations.ts';
import { benchConversationsQuality } from './conversations_quality.ts';
import { benchCors } from './cors.ts';
import { benchDriver } from './driver.ts';
import { benchGradientMethods } from './gradient_methods.ts';
import { benchPackages } from './packages.ts';
import type { Comparison } from './measure.ts';
import { benchRuns, loadRuns } from './runs.ts';
import { benchTrainingExamples } from './training_examples.ts';
import { benchServer } from './server.ts';
import { benchHttp } from './http.ts';
import { benchMemory } from './memory.ts';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '100000' },
  iterations: { type: 'string', default: '200' },
  writes: { type: 'string', default: '2000' },
  reports: { type: 'string', default: '10000' },
  versions: { type: 'string', default: '10000' },
  operations: { type: 'string', default: '1000' },
  db: { type: 'string', default: 'pglite,postgres' },
  suites: { type: 'string', default: 'runs,analytics,gradient-methods,packages,conversations,training-examples,cors' },
  // Aggregates over the whole table take 100x a page: fewer rounds give as stable a median.
  'aggregate-iterations': { type: 'string', default: '30' },
  events: { type: 'string', default: '1000000' },
  'event-size': { type: 'string', default: 'realistic' },
  conversations: { type: 'string', default: '100000' },
  'server-runs': { type: 'string', default: '100000' },
  // --suites http (bench/http.ts): over a real socket, seconds per side per cell.
  'http-sizes': { type: 'string', default: '20000' },
  'http-clients': { type: 'string', default: '1,8,32' },
  'http-write-size': { type: 'string', default: '20000' },
  duration: { type: 'string', default: '6' },
  rounds: { type: 'string', default: '2' },
  // --suites memory (bench/memory.ts): npm start's resident memory, ready and under a mixed load.
  'memory-seconds': { type: 'string', default: '300' },
  'memory-clients': { type: 'string', default: '8' },
  'memory-sample': { type: 'string', default: '5' },
} });
const suites = new Set(values.suites.split(','));
const runs = ['runs', 'analytics', 'gradient-methods', 'driver', 'cors'].some((s) => suites.has(s)) ? Number(values.runs) : 0;
const report: Record<string, unknown> = { date: new Date().toISOString(), runs, node: process.version };

// Suites that share the per-database dataset loaded below (the http suite loads its own, per size).
const perDatabase = [...suites].some((s) => s !== 'http' && s !== 'memory');
for (const kind of perDatabase ? values.db.split(',') : []) {
  let client: SqlClient;
  let drop = async () => {};
  let connect: ((max: number) => SqlClient) | undefined;
  let pgUrl: string | undefined;
  if (kind === 'pglite') {
    client = await pgliteClient();
  } else {
    const admin = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `registry_bench_${Date.now()}`;
    const sql = postgresClient(admin, { max: 1 });
    await sql.exec(`create database ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    client = postgresClient(url.toString(), { max: 4 });
    connect = (max) => postgresClient(url.toString(), { max });
    pgUrl = url.toString();
    drop = async () => { await sql.exec(`drop database ${name} with (force)`); await sql.close(); };
  }
  try {
    await prepareDatabase(client);
    if (runs > 0) {
      const t = performance.now();
      await loadRuns(client, runs);
      console.log(`${kind}: loaded ${runs} runs in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    const iterations = Number(values.iterations);
    const results = [
      ...suites.has('runs') ? await benchRuns(client, { iterations, writes: Number(values.writes) }) : [],
      ...suites.has('analytics') ? await benchAnalytics(client, { iterations, reports: Number(values.reports) }) : [],
      ...suites.has('gradient-methods') ? await benchGradientMethods(client, { iterations: Number(values['aggregate-iterations']) }) : [],
      ...suites.has('driver') && pgUrl ? await benchDriver(pgUrl, { iterations, writes: Number(values.writes) }) : [],
      ...suites.has('cors') ? await benchCors(client, { iterations }) : [],
      ...suites.has('packages') && connect
        ? await benchPackages(connect, { iterations, operations: Number(values.operations), versions: Number(values.versions) })
        : [],
      ...suites.has('conversations') && pgUrl
        ? await benchConversations(client, pgUrl, { conversations: Number(values.conversations), iterations })
        : [],
      ...suites.has('conversations-quality')
        ? await benchConversationsQuality(client, { conversations: Number(values.conversations), iterations })
        : [],
      ...suites.has('training-examples') && pgUrl
        ? await benchTrainingExamples(client, pgUrl, {
          events: Number(values.events), iterations, size: values['event-size'] === 'small' ? 'small' : 'realistic',
        })
        : [],
    ];
    report[kind] = results;
    print(kind, results);
  } finally {
    await client.close();
    await drop();
  }
}

if (suites.has('http')) {
  report.http = await benchHttp({
    kinds: values.db.split(','), sizes: values['http-sizes'].split(',').map(Number), clients: values['http-clients'].split(',').map(Number),
    duration: Number(values.duration), rounds: Number(values.rounds), writeSize: Number(values['http-write-size']),
    adminUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  });
}

if (suites.has('memory')) {
  report.memory = await benchMemory({
    seconds: Number(values['memory-seconds']), clients: Number(values['memory-clients']), sampleSeconds: Number(values['memory-sample']),
  });
}

const serverRuns = Number(values['server-runs']);
if (serverRuns > 0) {
  const figures = await benchServer(serverRuns);
  report.server = figures;
  console.log(`\nnpm start (embedded PGlite): ready in ${figures.ready_ms.toFixed(0)} ms; RSS ${figures.rss_after_start_mb.toFixed(0)} MB after start, ` +
    `${figures.rss_after_load_mb.toFixed(0)} MB after ${figures.loaded_runs} runs loaded over HTTP (${figures.load_runs_per_s.toFixed(0)} runs/s, 8 clients)`);
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(report, null, 2)}\n`);

function print(kind: string, results: Comparison[]) {
  console.log(`\n${kind}                                                   product    raw SQL   ratio`);
  for (const r of results) {
    console.log(`  ${r.name.padEnd(72)} ${r.product_ms.toFixed(3).padStart(8)} ${r.baseline_ms.toFixed(3).padStart(9)}   ${r.ratio.toFixed(2)}x  (${r.unit})`);
  }
}
