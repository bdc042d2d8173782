// Running a function under Deno (as Supabase's edge runtime would), from the
// repository or from a folder holding only what `supabase functions deploy`
// uploads (scripts/lib/deploy_bundle.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DENO = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What a function needs from Deno: the network (HTTP, the database), its environment, and reading its files. */
export const DENO_PERMISSIONS = ['--allow-net', '--allow-env', '--allow-read'];

export interface DenoFunction {
  /** http://127.0.0.1:<port>/functions/v1/<name> */
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Serves functions/<name>/index.ts under Deno on 127.0.0.1:`port` (0: any free
 * port) and resolves once it listens. `cwd` is the folder the function's
 * files are in; `config` the Deno config (import map) to resolve them with.
 */
export function serveUnderDeno(name: string, options: { cwd?: string; config?: string; port?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DenoFunction> {
  const args = ['run', ...DENO_PERMISSIONS, ...(options.config ? ['--config', options.config] : []), `functions/${name}/index.ts`];
  const child = spawn(DENO, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env, PORT: String(options.port ?? 0) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      process.stdout.write(chunk);
      pending += chunk;
      const url = /under Deno at (http:\/\/\S+)/.exec(pending)?.[1];
      if (url) resolve({ url, process: child, stop });
    });
    child.once('exit', (code) => reject(new Error(`deno exited with ${code} before functions/${name} listened`)));
  });
}
