// What `supabase functions deploy <name>` uploads for a function: the files
// of its entry point's import graph (its own modules and functions/_shared;
// npm: packages are the platform's to fetch) and the import map that
// supabase/config.toml names. CI copies exactly these into an empty folder,
// type-checks them there and serves them from there, as the platform would.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DENO, REPO_ROOT } from './deno.ts';

export interface FunctionConfig {
  name: string;
  verifyJwt: boolean;
  /** Both relative to the repository root. */
  entrypoint: string;
  importMap: string;
}

/** The [functions.<name>] sections of supabase/config.toml (paths there are relative to the supabase/ folder). */
export function functionConfigs(toml = readFileSync(join(REPO_ROOT, 'supabase/config.toml'), 'utf8')): FunctionConfig[] {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of toml.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean)) {
    const header = /^\[functions\.([\w-]+)\]$/.exec(line);
    if (header) sections.set(header[1]!, current = {});
    else if (line.startsWith('[')) current = undefined;
    else if (current) {
      const [key, value] = line.split(/\s*=\s*/, 2) as [string, string];
      current[key] = value.replace(/^"(.*)"$/, '$1');
    }
  }
  const fromSupabaseDir = (path: string) => relative(REPO_ROOT, resolve(REPO_ROOT, 'supabase', path));
  return [...sections].map(([name, s]) => ({
    name,
    verifyJwt: s.verify_jwt !== 'false',
    entrypoint: fromSupabaseDir(s.entrypoint ?? `functions/${name}/index.ts`),
    importMap: fromSupabaseDir(s.import_map ?? `functions/${name}/deno.json`),
  }));
}

/** The uploaded files, relative to the repository root: the local modules `deno info` finds from the entry point, and the import map. */
export function uploadedFiles(config: FunctionConfig): string[] {
  const info = JSON.parse(execFileSync(DENO, ['info', '--json', config.entrypoint], { cwd: REPO_ROOT, encoding: 'utf8' })) as {
    modules: { specifier: string }[];
  };
  const local = info.modules.map((m) => m.specifier).filter((s) => s.startsWith('file://'))
    .map((s) => relative(REPO_ROOT, fileURLToPath(s)))
    .filter((path) => !path.startsWith('..') && !path.split('/').includes('node_modules'));
  return [...new Set([...local, config.importMap])].sort();
}

/** Copies the uploaded files into `dir`, keeping their paths. */
export function copyBundle(config: FunctionConfig, dir: string): string[] {
  const files = uploadedFiles(config);
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(REPO_ROOT, file), join(dir, file));
  }
  return files;
}
