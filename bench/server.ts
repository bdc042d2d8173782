// `npm start` measured as a user meets it: time from launch to the ready line,
// and the server's resident memory after start and after loading runs over HTTP.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerFigures { ready_ms: number; rss_after_start_mb: number; rss_after_load_mb: number; loaded_runs: number; load_runs_per_s: number }

export const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/**
 * How `npm start` runs scripts/start.ts (package.json: `NAME=value ... node
 * <flags> scripts/start.ts`): its environment settings and node flags, so a
 * spawned server is the same.
 */
export function startCommand(root = '.'): { env: Record<string, string>; flags: string[] } {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start!;
  const m = /^((?:\w+=\S*\s+)*)node\s+(.*?)\s*scripts\/start\.ts/.exec(start);
  if (!m) throw new Error(`package.json's start script is not "[NAME=value ...] node [flags] scripts/start.ts": ${start}`);
  const env = Object.fromEntries(m[1]!.split(/\s+/).filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  return { env, flags: m[2] ? m[2].split(/\s+/) : [] };
}

export interface Child { pid: number; port: number; output(): string; ready_ms: number; stop(): Promise<void> }

/**
 * Starts `node <root>/<script>` (root: this checkout unless given; PORT=0: the OS picks a free port) and waits for the
 * line naming its port. Its output goes to a file, not a pipe this process
 * would have to drain while it measures: the per-request log lines are the
 * server's own cost, as in a terminal.
 */
export async function startChild(script: string, options: { cwd: string; env?: Record<string, string>; args?: string[]; ready?: RegExp; root?: string }): Promise<Child> {
  const root = options.root ?? process.cwd();
  const log = join(options.cwd, `${script.replace(/\W/g, '_')}.${Date.now()}.log`);
  const fd = openSync(log, 'w');
  const started = performance.now();
  const start = script === 'scripts/start.ts' ? startCommand(root) : { env: {}, flags: [] };
  const args = options.args ?? start.flags;
  const child = spawn(process.execPath, [...args, join(root, script)], {
    cwd: options.cwd, env: { ...process.env, ...start.env, PORT: '0', HOST: '127.0.0.1', ...options.env }, stdio: ['ignore', fd, 'inherit'],
  });
  closeSync(fd);
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) => child.once('exit', (code) => { exited = code; resolve(); }));
  const output = () => readFileSync(log, 'utf8');
  const ready = options.ready ?? /http:\/\/127\.0\.0\.1:(\d+)\/functions\/v1\/[\s\S]*DEMO_PACKAGE_ID=/;
  let port = 0;
  for (;;) {
    if (exited !== undefined) throw new Error(`${script} exited with ${exited}: ${output()}`);
    const m = ready.exec(output());
    if (m) {
      port = Number(/(?:127\.0\.0\.1:|listening on )(\d+)/.exec(m[0])![1]);
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!, port, output, ready_ms: performance.now() - started,
    async stop() {
      if (exited === undefined) child.kill('SIGTERM');
      await gone;
      rmSync(log, { force: true });
    },
  };
}

export async function benchServer(runs: number, port = 54399): Promise<ServerFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-bench-'));
  const started = performance.now();
  const start = startCommand();
  const env = { ...process.env, ...start.env, PORT: String(port), DATABASE_URL: '' };
  // Start the server exactly as `npm start` does, with its data folder in a temp dir.
  const child = spawn(process.execPath, [...start.flags, join(process.cwd(), 'scripts/start.ts')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const { token, ready_ms } = await new Promise<{ token: string; ready_ms: number }>((resolve, reject) => {
      let out = '';
      let ready = 0;
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (!ready && out.includes('ready in')) ready = performance.now() - started;
        const token = /SERVICE_ROLE_TOKEN=(\S+)/.exec(out)?.[1];
        if (ready && token) resolve({ token, ready_ms: ready });
      });
      child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const rss_after_start_mb = rssMb(child.pid!);
    const base = `http://127.0.0.1:${port}/functions/v1/runs`;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const loadStart = performance.now();
    const concurrency = 8;
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < runs) {
        const i = next++;
        const res = await fetch(base, { method: 'POST', headers, body: JSON.stringify({
          run_id: `load_${i}`, host: 'ec2',
          config: { training: { batch_size: 64, learning_rate: 0.001, gradient_method: 'mgda', seed: i }, notes: 'x'.repeat(2000 + (i % 3000)) },
        }) });
        if (res.status !== 201) throw new Error(`POST /runs answered ${res.status}`);
        await res.arrayBuffer();
      }
    }));
    const loadSeconds = (performance.now() - loadStart) / 1000;
    return { ready_ms, rss_after_start_mb, rss_after_load_mb: rssMb(child.pid!), loaded_runs: runs, load_runs_per_s: runs / loadSeconds };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
