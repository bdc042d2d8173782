// supabase/config.toml against the code: every function declared, verify_jwt
// paired with how the function authenticates, and an import map that works
// without node_modules (CI's deno smoke then type-checks and serves exactly
// the uploaded files from an empty folder).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBundle, functionConfigs, uploadedFiles } from '../../scripts/lib/deploy_bundle.ts';
import { REPO_ROOT } from '../../scripts/lib/deno.ts';
import { FUNCTIONS } from '../../scripts/lib/functions.ts';
import { createHarness, type Harness, json } from '../support/harness.ts';

const configs = functionConfigs();
const readJson = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8'));

describe('supabase/config.toml', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  it('declares every function, at its entry point, with functions/deno.json as import map', () => {
    expect(configs.map((c) => c.name).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    for (const c of configs) {
      expect(c.entrypoint).toBe(`functions/${c.name}/index.ts`);
      expect(c.importMap).toBe('functions/deno.json');
    }
  });

  it('verify_jwt = true exactly where the function expects a Supabase JWT (AUTH_MODE=platform relies on it)', async () => {
    for (const c of configs) {
      const doc = await json(await h.request(`/${c.name}/openapi.json`, { token: null }));
      const takesJwt = JSON.stringify(doc.security ?? []).includes('bearerAuth');
      expect(c.verifyJwt, c.name).toBe(takesJwt);
    }
    expect(configs.find((c) => c.name === 'wandb-webhook')!.verifyJwt).toBe(false);
  });

  it('the uploaded import map needs no node_modules; the root config keeps it for local checks', () => {
    const uploaded = readJson('functions/deno.json');
    expect(uploaded).not.toHaveProperty('nodeModulesDir');
    expect(readJson('deno.json')).toEqual({ nodeModulesDir: 'manual', workspace: ['./functions'] });
    for (const target of Object.values(uploaded.imports as Record<string, string>)) expect(target).toMatch(/^npm:/);
  });

  it.each(configs.map((c) => c.name))('%s: the uploaded files are its own modules, functions/_shared and the import map, and every bare import is mapped', (name) => {
    const config = configs.find((c) => c.name === name)!;
    const files = uploadedFiles(config);
    expect(files).toContain(config.entrypoint);
    expect(files).toContain('functions/deno.json');
    expect(files).toContain('functions/_shared/http/app.ts');
    for (const file of files) expect(file).toMatch(new RegExp(`^functions/(${name}|_shared)/|^functions/deno\\.json$|^functions/runs/`));
    const imports = readJson('functions/deno.json').imports as Record<string, string>;
    for (const file of files.filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(REPO_ROOT, file), 'utf8');
      for (const [, specifier] of source.matchAll(/^import[^'"]*['"]([^'"./][^'"]*)['"]/gm)) {
        if (specifier!.startsWith('node:')) continue;
        const mapped = specifier! in imports || Object.keys(imports).some((k) => k.endsWith('/') && specifier!.startsWith(k));
        expect(mapped, `${file}: ${specifier}`).toBe(true);
      }
    }
  });

  it('copyBundle copies exactly those files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-test-'));
    try {
      const files = copyBundle(configs.find((c) => c.name === 'wandb-webhook')!, dir);
      const copied = (readdirSync(dir, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
      expect(copied).toEqual(files);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
