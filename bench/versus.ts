// This checkout's `npm start` against the same server at another commit, on
// the same machine in the same minutes (issue 16's "list throughput at 8
// clients ≥ 2× today's": today's is the code before the issue's work, and a
// figure from another day on this noisy machine would say nothing).
//
// Each side is its own checkout (the other one a `git worktree` of --ref,
// sharing this node_modules: the lockfile must not differ), with its own
// database loaded with the same 20,000 runs by that side's own migrations and
// loader (bench/runs.ts), served by its own start command (package.json).
// autocannon loads one side then the other, round after round, on the same
// requests; the figures are the rounds' totals.
//   npm run bench:versus -- --ref 1486328 --db postgres,pglite --clients 8 --rounds 5 --duration 6
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { postgresClient } from '../functions/_shared/db/sql_client.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { overSocket } from './http.ts';
import { type Load, loadFigures } from './measure.ts';
import { type Child, startChild } from './server.ts';

const { values } = parseArgs({
  options: {
    ref: { type: 'string', default: '1486328' },
    db: { type: 'string', default: 'postgres,pglite' },
    runs: { type: 'string', default: '20000' },
    clients: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '6' },
    'admin-url': { type: 'string', default: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});

const OR_FILTER = "status = 'completed' AND (gradient_method = 'mgda' OR gradient_method = 'pcgrad')";
const READS = [
  ['GET /runs?limit=50', '/runs?limit=50'],
  ['GET /runs?status=…&gradient_method=…', '/runs?status=completed&gradient_method=mgda&limit=50'],
  ['GET /runs?filter=… OR …', `/runs?filter=${encodeURIComponent(OR_FILTER)}&limit=50`],
] as const;

// Runs in a child with a side's own code: its migrations, then the runs.
const LOADER = `
const [root, kind, target, count] = process.argv.slice(2);
const at = (p) => import(new URL(p, 'file://' + root + '/').href);
const { postgresClient } = await at('functions/_shared/db/sql_client.ts');
const { pgliteClient } = await at('scripts/lib/pglite_client.ts');
const { prepareDatabase } = await at('scripts/lib/migrator.ts');
const { loadRuns } = await at('bench/runs.ts');
const client = kind === 'postgres' ? postgresClient(target, { max: 4 }) : await pgliteClient(target);
await prepareDatabase(client);
await client.exec('truncate public.training_runs cascade');
await loadRuns(client, Number(count));
await client.exec(kind === 'postgres' ? 'vacuum analyze public.training_runs' : 'checkpoint');
await client.close();
`;

const here = resolve('.');
const dir = mkdtempSync(join(tmpdir(), 'registry-versus-'));
const refRoot = join(dir, 'ref');
const lockDiffers = spawnSync('git', ['diff', '--quiet', values.ref!, 'HEAD', '--', 'package-lock.json']).status !== 0;
if (lockDiffers) throw new Error(`package-lock.json differs between ${values.ref} and HEAD: the worktree cannot share node_modules`);
execFileSync('git', ['worktree', 'add', '--detach', '--quiet', refRoot, values.ref!]);
symlinkSync(join(here, 'node_modules'), join(refRoot, 'node_modules'));
const loader = join(dir, 'load.mjs');
writeFileSync(loader, LOADER);
const sides = [{ name: values.ref!, root: refRoot }, { name: 'HEAD', root: here }];
const token = await mintToken({ role: 'authenticated', sub: crypto.randomUUID() });
const admin = postgresClient(values['admin-url']!, { max: 1 });
const databases: string[] = [];

try {
  for (const kind of values.db!.split(',')) {
    const servers: Child[] = [];
    try {
      for (const side of sides) {
        const cwd = join(dir, `${kind}-${side.name}`);
        mkdirSync(cwd, { recursive: true });
        let env: Record<string, string>;
        let target: string;
        if (kind === 'postgres') {
          const name = `registry_versus_${side.name.replace(/\W/g, '_').toLowerCase()}_${Date.now()}`;
          await admin.exec(`create database ${name}`);
          databases.push(name);
          const url = new URL(values['admin-url']!);
          url.pathname = `/${name}`;
          target = url.toString();
          env = { DATABASE_URL: target };
        } else {
          target = join(cwd, '.data', 'pglite');
          mkdirSync(target, { recursive: true });
          env = { DATABASE_URL: '', DATA_DIR: target };
        }
        const t = performance.now();
        execFileSync(process.execPath, [loader, side.root, kind, target, values.runs!], { stdio: 'inherit' });
        console.log(`versus ${kind} ${side.name}: ${values.runs} runs loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        servers.push(await startChild('scripts/start.ts', { cwd, env, root: side.root }));
      }
      const headers = { authorization: `Bearer ${token}` };
      for (const clients of values.clients!.split(',').map(Number)) {
        for (const [name, path] of READS) {
          const loads: Load[][] = servers.map(() => []);
          const url = (s: Child) => `http://127.0.0.1:${s.port}/functions/v1${path}`;
          for (const s of servers) await overSocket(url(s), clients, 1, { headers }); // warm-up
          for (let round = 0; round < Number(values.rounds); round++) {
            for (const [i, s] of servers.entries()) loads[i]!.push(await overSocket(url(s), clients, Number(values.duration), { headers }));
          }
          const [ref, head] = loads.map(loadFigures) as [ReturnType<typeof loadFigures>, ReturnType<typeof loadFigures>];
          console.log(`| ${kind} | \`${name}\` | ${clients} | ${ref.rps.toFixed(0)} | ${head.rps.toFixed(0)} | **${(head.rps / ref.rps).toFixed(2)}** | ` +
            `${ref.p50_ms.toFixed(1)} / ${head.p50_ms.toFixed(1)} | ${ref.errors + head.errors} |`);
        }
      }
    } finally {
      for (const s of servers) await s.stop();
    }
  }
} finally {
  for (const name of databases) await admin.exec(`drop database if exists ${name} with (force)`).catch(() => {});
  await admin.close();
  spawnSync('git', ['worktree', 'remove', '--force', refRoot]);
  rmSync(dir, { recursive: true, force: true });
}
console.log(`(columns: db, request, clients, ${values.ref} req/s, HEAD req/s, HEAD ÷ ${values.ref}, p50 ms ${values.ref} / HEAD, errors)`);
