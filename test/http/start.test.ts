// npm start (scripts/start.ts) as a new user meets it: one server per
// embedded data folder (a second one on the same folder would lose what the
// first writes), a port in use said at once, before any data folder is made,
// and a folder whose server was killed taken over by the next start.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'registry-start-'));
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  /** Resolves with the port once ready, or with the exit code and output if it exits first. */
  outcome: Promise<{ port?: number; code?: number | null; output: string }>;
}

/** `onReady` runs as soon as the first ready line arrives, before the rest of the ready output. */
function start(dataDir: string, port = 0, onReady?: (child: ChildProcess) => void): Started {
  const child = spawn(process.execPath, ['scripts/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const outcome = new Promise<{ port?: number; code?: number | null; output: string }>((done) => {
    const read = (d: Buffer) => {
      output += d.toString();
      const ready = /ready in \d+ ms at http:\/\/[^:]+:(\d+)\//.exec(output);
      if (ready && onReady) {
        onReady(child);
        onReady = undefined;
      }
      if (ready && output.includes('DEMO_PACKAGE_ID=')) done({ port: Number(ready[1]), output });
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.on('exit', (code) => done({ code, output }));
  });
  return { child, outcome };
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('npm start', () => {
  it('refuses a second server on the same data folder, says a busy port before making a folder, and takes over a killed server\'s folder', async () => {
    const folder = join(work, 'pglite');
    const first = start(folder);
    const { port } = await first.outcome;
    expect(port).toBeGreaterThan(0);

    const second = await start(folder).outcome;
    expect(second.code).toBe(1);
    expect(second.output).toMatch(/is in use by another process \(pid \d+, another npm start\?\).*DATA_DIR=/);

    const other = join(work, 'other');
    const busy = await start(other, port).outcome;
    expect(busy.code).toBe(1);
    expect(busy.output).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use.*PORT=${port! + 1} npm start`));
    expect(existsSync(other)).toBe(false);

    // killed without a chance to clean up: its lock names a process that is gone
    first.child.kill('SIGKILL');
    await new Promise((done) => first.child.once('exit', done));
    expect(existsSync(`${folder}.lock`)).toBe(true);
    // stopped the moment it says it is ready: it still shuts down cleanly and releases the folder
    const next = start(folder, 0, (child) => child.kill('SIGTERM'));
    const [code, signal] = await new Promise<[number | null, string | null]>((done) => next.child.once('exit', (...end) => done(end)));
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(existsSync(`${folder}.lock`)).toBe(false);
  }, 180_000);
});
