// The Python client (clients/python) against the real server: its own
// unittest suite, one module per test here, run with `python3 -m unittest`
// on the server test/support/server.ts starts (embedded PGlite, or a
// throwaway database on PostgreSQL when DATABASE_URL is set).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../support/server.ts';

const PYTHON_DIR = fileURLToPath(new URL('../../clients/python/', import.meta.url));
const MODULES = readdirSync(`${PYTHON_DIR}tests`).filter((f) => /^test_\w+\.py$/.test(f)).map((f) => `tests.${f.slice(0, -3)}`);

function unittest(module: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-m', 'unittest', '-v', module], {
      cwd: PYTHON_DIR, env: { ...process.env, ...env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('the Python client, python3 -m unittest against the real server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it('has test modules', () => {
    expect(MODULES.length).toBeGreaterThan(3);
  });

  it.each(MODULES)('%s', async (module) => {
    const { code, output } = await unittest(module, {
      TRAINING_REGISTRY_URL: server.url, TRAINING_REGISTRY_WEBHOOK_TOKEN: server.webhookToken,
    });
    // unittest's own summary ("Ran 12 tests ... OK") in the log, whatever the outcome.
    console.log(`${module}: ${output.trim().split('\n').slice(-3).join(' ').replace(/-{10,}/g, '').trim()}`);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^OK/m);
  }, 300_000);
});
