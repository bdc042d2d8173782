// The real local server as `npm start` runs it: scripts/start.ts in a child
// process, listening on a free port. Its database is embedded PGlite in a
// temporary folder, or, when the tests run on PostgreSQL (DATABASE_URL), a
// throwaway database of its own on that server (migrated and seeded by the
// server itself, dropped at the end). The clients' tests call it over real
// sockets, as a training script or a front end would.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase, usingRealServer } from './database.ts';

const START = fileURLToPath(new URL('../../scripts/start.ts', import.meta.url));
const READY = /training registry ready in \d+ ms at (http:\/\/[^/\s]+)\/functions\/v1\//;

export interface RunningServer {
  /** The functions' base URL: http://127.0.0.1:<port>/functions/v1 */
  url: string;
  /** The bearer token wandb-webhook takes. */
  webhookToken: string;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-server-'));
  const database: TestDatabase | undefined = usingRealServer ? await createTestDatabase({ migrate: false }) : undefined;
  const webhookToken = randomBytes(18).toString('base64url');
  // cwd is the temporary folder: the embedded database lives in <cwd>/.data/pglite.
  const child = spawn(process.execPath, [START], {
    cwd: dir,
    env: {
      ...process.env, PORT: '0', HOST: '127.0.0.1', WANDB_WEBHOOK_TOKEN: webhookToken, ...env,
      ...(database ? { DATABASE_URL: database.url! } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const cleanup = async () => {
    await stopChild(child);
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server was not ready within 90 s:\n${output}`)), 90_000);
      const check = () => {
        const match = READY.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited (${code}) before it was ready:\n${output}`));
      });
    });
    return { url: `${origin}/functions/v1`, webhookToken, output: () => output, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** SIGTERM (start.ts closes the listener and the database), SIGKILL if it hangs. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
