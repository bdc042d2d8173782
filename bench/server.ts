// `npm start` measured as a user meets it: time from launch to the ready line,
// and the server's resident memory after start and after loading runs over HTTP.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerFigures { ready_ms: number; rss_after_start_mb: number; rss_after_load_mb: number; loaded_runs: number; load_runs_per_s: number }

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export async function benchServer(runs: number, port = 54399): Promise<ServerFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-bench-'));
  const started = performance.now();
  const env = { ...process.env, PORT: String(port), DATABASE_URL: '' };
  // Start the server exactly as `npm start` does, with its data folder in a temp dir.
  const child = spawn(process.execPath, [join(process.cwd(), 'scripts/start.ts')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
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
