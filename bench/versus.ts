// This checkout's `npm start` against the same server at another commit, on
// the same machine in the same minutes (issue 16's "list throughput at 8
// clients ≥ 2× today's": today's is the code before the issue's work, and a
// figure from another day on this noisy machine would say nothing).
//
// One side is this checkout as it is (uncommitted changes included), the other
// a `git worktree` of --ref sharing this node_modules (so the lockfiles must
// not differ). Each side has its own database, loaded with the same 20,000
// runs by that side's own migrations and loader (bench/runs.ts), and is served
// by its own start command (package.json). autocannon loads one side then the
// other, the order swapped every round, on the list reads of bench/http.ts;
// the figures are the rounds' totals.
//   npm run bench:versus -- --ref 1486328 --db postgres,pglite --clients 8 --rounds 5 --duration 6
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { postgresClient } from '../functions/_shared/db/sql_client.ts';
import { mintToken } from '../scripts/lib/tokens.ts';
import { overSocket, readLabel, READS } from './http.ts';
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
const ref = values.ref!;
const LISTS = READS.filter((r) => r.fn === 'runs_list');

// Runs in a child with a side's own code: its migrations, then the runs.
const LOADER = `
const [root, kind, target, count] = process.argv.slice(2);
const at = async (path) => {
  try {
    return await import(new URL(path, root).href);
  } catch (err) {
    throw new Error(\`\${path} of \${root} cannot be loaded (a ref too old for this benchmark?): \${err.message}\`);
  }
};
const { prepareDatabase } = await at('scripts/lib/migrator.ts');
const { loadRuns } = await at('bench/runs.ts');
const client = kind === 'postgres'
  ? (await at('functions/_shared/db/sql_client.ts')).postgresClient(target, { max: 4 })
  : await (await at('scripts/lib/pglite_client.ts')).pgliteClient(target);
await prepareDatabase(client);
await client.exec('truncate public.training_runs cascade');
await loadRuns(client, Number(count));
await client.exec(kind === 'postgres' ? 'vacuum analyze public.training_runs' : 'checkpoint');
await client.close();
`;

if (spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).status !== 0) {
  throw new Error(`--ref ${ref} is not a commit of this repository`);
}
const lock = spawnSync('git', ['diff', '--quiet', ref, '--', 'package-lock.json']).status;
if (lock !== 0) {
  throw new Error(lock === 1
    ? `package-lock.json differs between ${ref} and this checkout: the worktree cannot share node_modules`
    : `git diff ${ref} -- package-lock.json failed`);
}

const here = resolve('.');
const dir = mkdtempSync(join(tmpdir(), 'registry-versus-'));
const refRoot = join(dir, 'ref');
const admin = postgresClient(values['admin-url']!, { max: 1 });
const databases: string[] = [];
let worktree = false;
let cleaned: Promise<void> | undefined;
const cleanUp = () => cleaned ??= (async () => {
  for (const name of databases) await admin.exec(`drop database if exists ${name} with (force)`).catch(() => {});
  await admin.close();
  if (worktree) spawnSync('git', ['worktree', 'remove', '--force', refRoot]);
  spawnSync('git', ['worktree', 'prune']);
  rmSync(dir, { recursive: true, force: true });
})();
// Ctrl-C reaches the servers too (same process group); the databases and the worktree are this process's to remove.
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

try {
  execFileSync('git', ['worktree', 'add', '--detach', '--quiet', refRoot, ref]);
  worktree = true;
  symlinkSync(join(here, 'node_modules'), join(refRoot, 'node_modules'));
  const loader = join(dir, 'load.mjs');
  writeFileSync(loader, LOADER);
  const sides = [{ name: ref, root: refRoot }, { name: 'this checkout', root: here }];
  const headers = { authorization: `Bearer ${await mintToken({ role: 'authenticated', sub: crypto.randomUUID() })}` };
  const rows: string[] = [];
  for (const kind of values.db!.split(',')) {
    const servers: Child[] = [];
    try {
      for (const side of sides) {
        const cwd = join(dir, `${kind}-${side.name.replace(/\W/g, '_')}`);
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
        execFileSync(process.execPath, [loader, `${pathToFileURL(side.root).href}/`, kind, target, values.runs!], { stdio: 'inherit' });
        console.log(`versus ${kind} ${side.name}: ${values.runs} runs loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        servers.push(await startChild('scripts/start.ts', { cwd, env, root: side.root }));
      }
      for (const clients of values.clients!.split(',').map(Number)) {
        for (const read of LISTS) {
          const loads: Load[][] = servers.map(() => []);
          const url = (s: Child) => `http://127.0.0.1:${s.port}/functions/v1${read.path(Number(values.runs))}`;
          for (const s of servers) await overSocket(url(s), clients, 1, { headers }); // warm-up
          for (let round = 0; round < Number(values.rounds); round++) {
            const order = round % 2 === 0 ? [0, 1] : [1, 0];
            for (const i of order) loads[i]!.push(await overSocket(url(servers[i]!), clients, Number(values.duration), { headers }));
          }
          const [old, now] = loads.map(loadFigures) as [ReturnType<typeof loadFigures>, ReturnType<typeof loadFigures>];
          rows.push(`| ${kind} | \`${readLabel(read.name)}\` | ${clients} | ${old.rps.toFixed(0)} | ${now.rps.toFixed(0)} | **${(now.rps / old.rps).toFixed(2)}** | ` +
            `${old.p50_ms.toFixed(1)} / ${now.p50_ms.toFixed(1)} | ${old.errors} / ${now.errors} |`);
          console.log(rows.at(-1));
        }
      }
    } finally {
      for (const s of servers) await s.stop();
    }
  }
  console.log(`\n| db | request | clients | ${ref} req/s | this checkout req/s | ratio | p50 ms ${ref} / this | errors ${ref} / this |`);
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const row of rows) console.log(row);
} finally {
  await cleanUp();
}
