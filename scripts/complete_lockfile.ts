// npm run lockfile:complete — after any `npm install`.
// npm leaves other platforms' optional packages (deno's and the supabase
// CLI's per-platform binaries) out of package-lock.json, and then its own
// `npm ci` refuses that lock file ("Missing: @deno/darwin-arm64 from lock
// file", npm/cli#4828). This adds each missing entry from the registry's
// metadata, marked optional with its os/cpu, so npm ci skips it elsewhere.
// The registry a build machine reaches may not carry other platforms'
// binaries at all; then os/cpu/libc come from the package's name
// (`@scope/darwin-arm64`, `<name>-darwin-arm64`, `-linux-x64-musl`, `-win32-x64`, `-windows-arm64`).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

type Entry = Record<string, unknown> & { optionalDependencies?: Record<string, string>; dev?: boolean };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, Entry> };
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const meta = registryMeta(name, version) ?? platformFromName(name, version);
    if (!meta) throw new Error(`cannot describe ${name}@${version}: not in the registry and no platform in its name`);
    lock.packages[key] = {
      version: meta.version,
      ...(meta.dist?.integrity ? { integrity: meta.dist.integrity } : {}),
      ...(meta.cpu ? { cpu: asList(meta.cpu) } : {}),
      ...(entry.dev ? { dev: true } : {}),
      ...(meta.libc ? { libc: asList(meta.libc) } : {}),
      ...(meta.license ? { license: meta.license } : {}),
      optional: true,
      ...(meta.os ? { os: asList(meta.os) } : {}),
    };
    added++;
    console.log(`added ${key}@${meta.version} (needed by ${path})`);
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(added ? `package-lock.json: ${added} optional entries added` : 'package-lock.json is complete');

interface Meta { version: string; dist?: { integrity?: string }; os?: string | string[]; cpu?: string | string[]; libc?: string | string[]; license?: string }

function registryMeta(name: string, version: string): Meta | null {
  try {
    return JSON.parse(execFileSync('npm', ['view', `${name}@${version}`, '--json', 'version', 'dist', 'os', 'cpu', 'libc', 'license'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Meta;
  } catch {
    return null;
  }
}

function platformFromName(name: string, version: string): Meta | null {
  const m = /[-/](darwin|linux|win32|windows)-(x64|arm64|ia32|arm)(?:-(glibc|musl|gnu))?$/.exec(name);
  if (!m) return null;
  const os = m[1] === 'windows' ? 'win32' : m[1]!;
  const libc = m[3] === 'gnu' ? 'glibc' : m[3];
  return { version, os, cpu: m[2]!, ...(libc ? { libc } : {}) };
}

function asList(v: string | string[]): string[] {
  return Array.isArray(v) ? v : [v];
}
