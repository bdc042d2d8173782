// Resident memory of `npm start` on embedded PGlite (issue 16): ready on a
// fresh data folder (migrations and demo seed applied), ready again on the
// same folder (a restart), then under a mixed load over a real socket
// (autocannon, 8 connections: GET /runs?limit=50, POST /runs, GET /runs/<the
// run just created>, in turn) with VmRSS read from /proc every few seconds.
//   npm run bench:memory                      (5 minutes of load)
//   npm run bench -- --suites memory --memory-seconds 300 --memory-clients 8 --memory-sample 5 --server-runs 0
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { rssMb, startChild, startCommand } from './server.ts';

export interface MemoryReport {
  /** How npm start runs the server (package.json): environment settings and node flags. */
  start_command: { env: Record<string, string>; flags: string[] };
  ready_fresh_mb: number;
  ready_fresh_ms: number;
  /** VmHWM: the highest resident size of the fresh start (initdb, migrations, seed). */
  peak_during_fresh_start_mb: number;
  ready_restart_mb: number;
  ready_restart_ms: number;
  load: { seconds: number; clients: number; requests: number; rps: number; non2xx: number };
  /** [seconds since the load began, VmRSS MB] */
  samples: [number, number][];
  peak_under_load_mb: number;
  /** After the first fifth of the load (warm-up) to the end: last sample minus the sample at warm-up's end, and the highest after it. */
  after_warmup: { at_s: number; rss_mb: number; final_mb: number; max_mb: number; growth_mb: number };
}

const hwmMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export async function benchMemory(options: { seconds: number; clients: number; sampleSeconds: number }): Promise<MemoryReport> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-memory-'));
  const env = { DATABASE_URL: '' };
  const settle = () => new Promise((r) => setTimeout(r, 3000));
  try {
    let server = await startChild('scripts/start.ts', { cwd: dir, env });
    await settle();
    const ready_fresh_mb = rssMb(server.pid);
    const peak_during_fresh_start_mb = hwmMb(server.pid);
    const ready_fresh_ms = server.ready_ms;
    await server.stop();
    server = await startChild('scripts/start.ts', { cwd: dir, env });
    await settle();
    const ready_restart_mb = rssMb(server.pid);
    const ready_restart_ms = server.ready_ms;
    console.log(`memory: npm start ready fresh ${ready_fresh_mb.toFixed(0)} MB (peak while starting ${peak_during_fresh_start_mb.toFixed(0)} MB), ` +
      `restart ${ready_restart_mb.toFixed(0)} MB; now ${options.seconds} s of mixed load at ${options.clients} connections`);
    try {
      const token = /DEMO_USER_TOKEN=(\S+)/.exec(server.output())![1]!;
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const tag = Date.now().toString(36);
      let n = 0;
      const samples: [number, number][] = [[0, rssMb(server.pid)]];
      const started = performance.now();
      const timer = setInterval(() => samples.push([(performance.now() - started) / 1000, rssMb(server.pid)]), options.sampleSeconds * 1000);
      let ok = 0;
      let non2xx = 0;
      const instance = autocannon({
        url: `http://127.0.0.1:${server.port}/functions/v1`, connections: options.clients, duration: options.seconds, timeout: 30, skipAggregateResult: true,
        requests: [
          { method: 'GET', path: '/functions/v1/runs?limit=50', headers },
          { method: 'POST', path: '/functions/v1/runs', headers, setupRequest: (r, context) => {
            const run_id = `mem_${tag}_${n++}`;
            context.run_id = run_id;
            return { ...r, body: JSON.stringify({ run_id, host: 'ec2', config: { training: { batch_size: 64, gradient_method: 'mgda', seed: n }, notes: 'x'.repeat(2500) } }) };
          } },
          { method: 'GET', headers, setupRequest: (r, context) => ({ ...r, path: `/functions/v1/runs/${context.run_id as string}` }) },
        ],
      });
      instance.on('response', (_c: unknown, status: number) => {
        if (status >= 200 && status < 300) ok++;
        else if (non2xx++ === 0) console.error(`  first non-2xx answer: ${status}`);
      });
      await instance;
      clearInterval(timer);
      const seconds = (performance.now() - started) / 1000;
      samples.push([seconds, rssMb(server.pid)]);
      const warm = samples.find(([t]) => t >= seconds / 5) ?? samples[0]!;
      const after = samples.filter(([t]) => t >= warm[0]).map(([, mb]) => mb);
      const final = samples.at(-1)![1];
      const report: MemoryReport = {
        start_command: startCommand(), ready_fresh_mb, ready_fresh_ms, peak_during_fresh_start_mb, ready_restart_mb, ready_restart_ms,
        load: { seconds, clients: options.clients, requests: ok, rps: ok / seconds, non2xx },
        samples, peak_under_load_mb: Math.max(...samples.map(([, mb]) => mb)),
        after_warmup: { at_s: warm[0], rss_mb: warm[1], final_mb: final, max_mb: Math.max(...after), growth_mb: final - warm[1] },
      };
      console.log(`memory: under load ${report.load.rps.toFixed(0)} req/s; RSS every ${options.sampleSeconds} s: ${samples.map(([, mb]) => mb.toFixed(0)).join(' ')}`);
      console.log(`memory: ready fresh ${ready_fresh_mb.toFixed(0)} MB, restart ${ready_restart_mb.toFixed(0)} MB, peak under load ${report.peak_under_load_mb.toFixed(0)} MB, ` +
        `after warm-up (${warm[0].toFixed(0)} s) ${warm[1].toFixed(0)} MB -> ${final.toFixed(0)} MB at the end (max ${report.after_warmup.max_mb.toFixed(0)} MB)`);
      return report;
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
