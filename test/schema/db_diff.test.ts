// npm run db:diff end to end, on a copy of supabase/: an edited schema file
// becomes a migration and its rollback (proved by the differ itself), after
// which the tree agrees again. Needs the local PostgreSQL (pg-delta diffs real
// databases), so it runs in the PostgreSQL pass (DATABASE_URL set).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SUPABASE_DIR } from '../../scripts/lib/migrator.ts';
import { usingRealServer } from '../support/database.ts';

const run = promisify(execFile);
const NODE = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'node');
const DB_DIFF = join(import.meta.dirname, '..', '..', 'scripts', 'db_diff.ts');

describe.runIf(usingRealServer)('npm run db:diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-diff-test-'));
  cpSync(SUPABASE_DIR, dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const diff = (...args: string[]) => run(NODE, [DB_DIFF, '--dir', dir, ...args], { env: process.env });

  it('writes nothing when the schema files and the migrations agree', async () => {
    const before = readdirSync(join(dir, 'migrations'));
    const { stdout } = await diff('--check');
    expect(stdout).toMatch(/agree: nothing to write/);
    expect(readdirSync(join(dir, 'migrations'))).toEqual(before);
  }, 120_000);

  it('turns an edited schema file into a proved migration and rollback, after which they agree', async () => {
    const api = join(dir, 'schemas', 'runs', '50_api.sql');
    writeFileSync(api, readFileSync(api, 'utf8').replace("format('run %s not found', p_run_id)", "format('no run %s', p_run_id)"));
    const tables = join(dir, 'schemas', 'runs', '10_tables.sql');
    writeFileSync(tables, `${readFileSync(tables, 'utf8')}\ncreate table "public"."diff_probe" ("id" bigint primary key, "note" text);\n`);
    const access = join(dir, 'schemas', 'runs', '40_access.sql');
    writeFileSync(access, `${readFileSync(access, 'utf8')}\nalter table "public"."diff_probe" enable row level security;\n` +
      'revoke all on table "public"."diff_probe" from "anon", "authenticated", "service_role";\n' +
      'grant insert ("note") on table "public"."diff_probe" to "authenticated";\n');

    await expect(diff('--check')).rejects.toMatchObject({ code: 1 });
    const { stdout } = await diff('probe');
    expect(stdout).toMatch(/wrote .*_probe\.sql and its rollback \(proved/);
    const written = readdirSync(join(dir, 'migrations')).find((f) => f.endsWith('_probe.sql'))!;
    const migration = readFileSync(join(dir, 'migrations', written), 'utf8');
    expect(migration).toMatch(/no run %s/);
    // the column grant pg-delta's plan takes away is put back after it
    expect(migration).toMatch(/grant insert \(note\) on table public\.diff_probe to "authenticated";\s*$/);
    expect(readFileSync(join(dir, 'rollbacks', written), 'utf8')).toMatch(/DROP TABLE IF EXISTS "public"\."diff_probe"/);
    expect((await diff('--check')).stdout).toMatch(/agree: nothing to write/);
  }, 240_000);
});
