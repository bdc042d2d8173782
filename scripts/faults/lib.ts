// The fault suite's tools: the local server as a child process, a load of
// clients that remembers every acknowledged write, throwaway PostgreSQL
// clusters and tmpfs mounts that are always removed again.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function sh(cmd: string, args: string[], options: { allowFail?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    if (options.allowFail) return '';
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

export async function freePort(from: number): Promise<number> {
  for (let port = from; port < from + 100; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port from ${from}`);
}

/** Everything to undo, newest first, run whatever happened. */
export class Cleanup {
  private steps: { what: string; run: () => unknown }[] = [];
  add(what: string, run: () => unknown) {
    this.steps.unshift({ what, run });
  }
  async run() {
    for (const { what, run } of this.steps.splice(0)) {
      try {
        await run();
      } catch (err) {
        console.error(`cleanup: ${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

export function mountTmpfs(dir: string, sizeMb: number, cleanup: Cleanup, owner?: string): void {
  mkdirSync(dir, { recursive: true });
  sh('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  cleanup.add(`umount ${dir}`, () => sh('umount', ['-l', dir]));
  if (owner) sh('chown', [owner, dir]);
}

export function resizeTmpfs(dir: string, sizeMb: number): void {
  sh('mount', ['-o', `remount,size=${sizeMb}m`, dir]);
}

// ---------------------------------------------------------------------------
// A throwaway PostgreSQL cluster (Debian's postgresql-common), never the shared one.

export interface Cluster {
  version: string;
  name: string;
  port: number;
  adminUrl: string;
  stopFast(): void;
  start(): void;
  /** Every process of the cluster: the postmaster and its children. */
  pids(): number[];
  psql(sql: string): string;
}

export async function createCluster(cleanup: Cleanup): Promise<Cluster> {
  const version = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)).at(-1)!;
  const name = `faults_${process.pid}`;
  const port = await freePort(5439);
  sh('pg_createcluster', [version, name, '-p', String(port), '-o', 'max_connections=40', '-o', 'shared_buffers=32MB',
    '--', '--auth=trust']);
  cleanup.add(`pg_dropcluster ${version} ${name}`, () => {
    for (const pid of cluster.pids()) sh('kill', ['-CONT', String(pid)], { allowFail: true });
    sh('pg_dropcluster', [version, name, '--stop'], { allowFail: true });
    sh('pg_dropcluster', [version, name], { allowFail: true });
  });
  const ctl = (...args: string[]) => sh('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, ...args]);
  const cluster: Cluster = {
    version, name, port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stopFast: () => ctl('stop', '-m', 'fast'),
    start: () => {
      try {
        ctl('start');
      } catch (err) {
        const log = sh('tail', ['-n', '15', `/var/log/postgresql/postgresql-${version}-${name}.log`], { allowFail: true });
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${log}`);
      }
    },
    pids() {
      const out = sh('pg_lsclusters', ['-h', version, name], { allowFail: true });
      if (!/online/.test(out)) return [];
      const dataDir = out.trim().split(/\s+/)[5]!;
      const postmaster = Number(sh('head', ['-n1', join(dataDir, 'postmaster.pid')], { allowFail: true }).trim());
      if (!postmaster) return [];
      const children = sh('pgrep', ['-P', String(postmaster)], { allowFail: true }).split('\n').filter(Boolean).map(Number);
      return [postmaster, ...children];
    },
    psql: (sql) => sh('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-Atqc', sql]),
  };
  cluster.start();
  return cluster;
}

// ---------------------------------------------------------------------------
// The local server (scripts/start.ts) as a child process.

export interface Server {
  base: string;
  token: string;
  child: ChildProcess;
  exited: { code: number | null; signal: string | null } | null;
  /** Set when the suite itself kills it: requests in flight then get no answer, as expected. */
  dying: boolean;
  output: string[];
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

export async function startServer(options: { cwd: string; port: number; env: Record<string, string> }): Promise<Server> {
  // FAULTS_SERVER_ROOT: run another checkout's server under the same faults (e.g. an older commit, to compare).
  const serverRoot = process.env.FAULTS_SERVER_ROOT ?? ROOT;
  const child = spawn(join(ROOT, 'node_modules/.bin/node'), [join(serverRoot, 'scripts/start.ts')], {
    cwd: options.cwd,
    env: { ...process.env, PORT: String(options.port), WANDB_WEBHOOK_TOKEN: 'faults-webhook-token', DATABASE_URL: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const server: Server = {
    base: `http://127.0.0.1:${options.port}/functions/v1`, token: '', child, exited: null, dying: false, output,
    async stop() {
      if (server.exited) return;
      server.dying = true;
      child.kill('SIGTERM');
      await exit;
    },
    async kill9() {
      if (server.exited) return;
      server.dying = true;
      child.kill('SIGKILL');
      await exit;
    },
  };
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    server.exited = { code, signal };
    resolve();
  }));
  const remember = (chunk: Buffer) => {
    if (process.env.FAULTS_VERBOSE) process.stderr.write(chunk);
    for (const line of chunk.toString().split('\n')) if (line.trim()) output.push(line.slice(0, 500));
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stderr!.on('data', remember);
  server.token = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      remember(chunk);
      text += chunk.toString();
      const token = /SERVICE_ROLE_TOKEN=(\S+)/.exec(text)?.[1];
      if (token) resolve(token);
    });
    void exit.then(() => reject(new Error(`the server exited before it was ready:\n${output.slice(-20).join('\n')}`)));
  });
  return server;
}

// ---------------------------------------------------------------------------
// Load: clients writing runs and log batches and reading, recording what was acknowledged.

export interface Tally {
  statuses: Record<string, number>;
  /** Answers that break the rules: a 5xx other than 503, a 503 without Retry-After or problem JSON, no answer in time. */
  violations: string[];
  ackedRuns: Set<string>;
  ackedBatches: Set<string>;
  /** Batches sent (acknowledged or not): each must be all there or not at all. */
  sentBatches: Set<string>;
  slowest: number;
}

export const BATCH_SIZE = 20;

export function newTally(): Tally {
  return { statuses: {}, violations: [], ackedRuns: new Set(), ackedBatches: new Set(), sentBatches: new Set(), slowest: 0 };
}

export interface RequestLimits {
  /** The server's REQUEST_TIMEOUT_MS. */
  deadlineMs: number;
  /** How much later than the deadline an answer may come (scheduling, the answer's own writing). */
  graceMs: number;
}

let sequence = 0;

/** One request, judged: 2xx, 4xx and 503 (with Retry-After, as a problem) are answers; anything else is a violation. */
export async function call(server: Server, tally: Tally, limits: RequestLimits, path: string, init: RequestInit = {}): Promise<Response | null> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(`${server.base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', ...init.headers },
      signal: AbortSignal.timeout(limits.deadlineMs + limits.graceMs + 10_000),
    });
    await res.clone().arrayBuffer();
  } catch (err) {
    const what = err instanceof Error ? err.message : String(err);
    if (server.exited || server.dying) return null; // judged by the caller (the server must stay up)
    tally.violations.push(`${init.method ?? 'GET'} ${path}: no answer (${what})`);
    return null;
  }
  const ms = performance.now() - started;
  tally.slowest = Math.max(tally.slowest, ms);
  tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
  if (ms > limits.deadlineMs + limits.graceMs) tally.violations.push(`${init.method ?? 'GET'} ${path}: answered ${res.status} after ${Math.round(ms)} ms`);
  if (res.status >= 500 && res.status !== 503) tally.violations.push(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.clone().text()}`);
  if (res.status === 503 && (!res.headers.get('retry-after') || !/problem\+json/.test(res.headers.get('content-type') ?? ''))) {
    tally.violations.push(`${path}: 503 without Retry-After or problem JSON`);
  }
  return res;
}

/** A batch of log events; with `bytesPerEvent`, each carries that much incompressible text. */
export function logBatch(id: string, events = BATCH_SIZE, bytesPerEvent = 0) {
  return {
    items: Array.from({ length: events }, (_, i) => ({
      id: `${id}-${i}`, trace_id: `${id}-trace-${i}`, cascade_id: 'faults', cell_name: 'load',
      request: { messages: [{ role: 'user', content: `question ${i} ${randomBytes(Math.ceil(bytesPerEvent * 3 / 4)).toString('base64')}` }] },
      response: { choices: [{ message: { content: `answer ${i}` } }] },
    })),
  };
}

/** Clients in a loop until stop(): a run, a log batch (every other one heavy), a read, in turn. */
export function startLoad(server: Server, tally: Tally, limits: RequestLimits, clients: number, tag: string) {
  let running = true;
  const loops = Array.from({ length: clients }, async (_, worker) => {
    while (running && !server.exited && !server.dying) {
      const n = sequence++;
      if (n % 3 === 0) {
        const runId = `${tag}-run-${worker}-${n}`;
        const res = await call(server, tally, limits, '/runs', { method: 'POST', body: JSON.stringify({ run_id: runId, config: { n } }) });
        if (res && res.status < 300) tally.ackedRuns.add(runId);
      } else if (n % 3 === 1) {
        // every other batch is heavy (20 events of 16 KB: the backend is busy for a while)
        const batch = `${tag}-batch-${worker}-${n}`;
        tally.sentBatches.add(batch);
        const body = JSON.stringify(logBatch(batch, BATCH_SIZE, n % 2 === 0 ? 16_000 : 0));
        const res = await call(server, tally, limits, '/training-examples/logs', { method: 'POST', body });
        if (res && res.status < 300) tally.ackedBatches.add(batch);
      } else {
        await call(server, tally, limits, '/runs/stats');
      }
      if (!running) break;
      await sleep(20);
    }
  });
  return { stop: async () => { running = false; await Promise.all(loops); } };
}

/** Waits until the server answers a read and a write again (no restart), or fails. */
export async function recovers(server: Server, tally: Tally, limits: RequestLimits, within: number, tag: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < within) {
    const read = await call(server, tally, limits, '/runs/stats');
    const runId = `${tag}-probe-${sequence++}`;
    const write = read?.status === 200
      ? await call(server, tally, limits, '/runs', { method: 'POST', body: JSON.stringify({ run_id: runId, config: {} }) })
      : null;
    if (write && write.status < 300) {
      tally.ackedRuns.add(runId);
      return performance.now() - started;
    }
    await sleep(250);
  }
  throw new Error(`${tag}: the server did not recover within ${within} ms`);
}

/** Every acknowledged run and batch is stored; every batch sent is all there or not at all. */
export async function verifyWrites(tally: Tally, query: (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>): Promise<string[]> {
  const problems: string[] = [];
  const runs = [...tally.ackedRuns];
  const found = new Set((await query('select run_id from public.training_runs where run_id = any($1::text[])', [runs])).map((r) => String(r.run_id)));
  for (const id of runs) if (!found.has(id)) problems.push(`acknowledged run ${id} is missing`);
  const batches = [...tally.sentBatches];
  const counts = new Map((await query(
    `select split_part(id, '-', 1) || '-' || split_part(id, '-', 2) || '-' || split_part(id, '-', 3) || '-' || split_part(id, '-', 4) as batch,
            count(*)::int as n
       from public.unified_logs where cascade_id = 'faults' group by 1`, [])).map((r) => [String(r.batch), Number(r.n)]));
  for (const batch of batches) {
    const n = counts.get(batch) ?? 0;
    if (n !== 0 && n !== BATCH_SIZE) problems.push(`batch ${batch} is half there: ${n} of ${BATCH_SIZE} events`);
    if (tally.ackedBatches.has(batch) && n !== BATCH_SIZE) problems.push(`acknowledged batch ${batch} has ${n} of ${BATCH_SIZE} events`);
  }
  return problems;
}
