// npm run db:diff -- <name>     write the migration that takes the migrated
//                               schema to supabase/schemas, and its rollback
// npm run db:diff -- --check    exit 1 if the schema files and the migrations differ
//
// No Docker: the migrations go into one scratch database on the local
// PostgreSQL (or SCRATCH_DATABASE_URL), the schema files into another, and
// pg-delta (@supabase/pg-delta, the Supabase CLI's own differ) plans the
// change each way. Column-level grants, which pg-delta's plans drop, are
// diffed here and appended. Before anything is written, the migration is
// proved: applied to the migrated database it must give the schema files'
// catalog, and its rollback must give back the migrated one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { catalogSnapshot } from './lib/catalog.ts';
import { columnGrantChanges } from './lib/column_grants.ts';
import { applyLocalShim, ensureHistoryTable, listMigrations, migrateUp, SUPABASE_DIR } from './lib/migrator.ts';
import { createScratchDatabase, type ScratchDatabase } from './lib/scratch_db.ts';
import { applySchemaFiles, schemaFiles } from './lib/schema_files.ts';

const PGDELTA = join(import.meta.dirname, '..', 'node_modules', '.bin', 'pgdelta');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  // --dir: another supabase/ folder (its migrations/, rollbacks/, schemas/ and config.toml), for tests
  options: { check: { type: 'boolean', default: false }, dir: { type: 'string', default: SUPABASE_DIR } },
});
const name = positionals[0];
const dir = values.dir;
const migrations = listMigrations(join(dir, 'migrations'));
const schema = schemaFiles(join(dir, 'config.toml'));
if (!values.check && !/^[a-z][a-z0-9_]{0,60}$/.test(name ?? '')) {
  console.error('usage: npm run db:diff -- <name>   (lowercase letters, digits, underscores)\n       npm run db:diff -- --check');
  process.exit(2);
}

/** pg-delta's plan from one database to another, rendered as SQL ('' when nothing differs). */
function plan(from: string, to: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'db-diff-'));
  try {
    const planFile = join(dir, 'plan.json');
    execFileSync(PGDELTA, ['plan', '--source', from, '--desired', to, '--out', planFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let summary: string;
    try {
      summary = execFileSync(PGDELTA, ['render', '--plan', planFile, '--out', join(dir, 'out.sql'), '--allow-drops'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      // exit status 3: the plan has no actions
      if ((err as { status?: number }).status === 3) return '';
      throw err;
    }
    const rendered = JSON.parse(summary.trim().split('\n').pop()!) as { changes: boolean; files: { path: string }[] };
    if (!rendered.changes) return '';
    return rendered.files.map((f) => readFileSync(f.path, 'utf8')).join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The whole change one way: pg-delta's plan, then the column grants it leaves out. */
async function change(from: ScratchDatabase, to: ScratchDatabase): Promise<string> {
  const planned = plan(from.url, to.url);
  const grants = await columnGrantChanges(from.client, to.client, planned);
  return [planned.trim(), grants.join('\n')].filter(Boolean).join('\n\n');
}

async function sameCatalog(a: SqlClient, b: SqlClient): Promise<string[]> {
  const [x, y] = await Promise.all([catalogSnapshot(a), catalogSnapshot(b)]);
  const differing: string[] = [];
  for (const kind of new Set([...Object.keys(x), ...Object.keys(y)])) {
    const xs = new Set(x[kind] ?? []), ys = new Set(y[kind] ?? []);
    for (const item of xs) if (!ys.has(item)) differing.push(`- ${kind}: ${item.slice(0, 200)}`);
    for (const item of ys) if (!xs.has(item)) differing.push(`+ ${kind}: ${item.slice(0, 200)}`);
  }
  return differing;
}

async function build(label: string, fill: (c: SqlClient) => Promise<void>): Promise<ScratchDatabase> {
  const db = await createScratchDatabase(label);
  await applyLocalShim(db.client);
  await ensureHistoryTable(db.client);
  await fill(db.client);
  return db;
}

const scratch: ScratchDatabase[] = [];
try {
  process.exitCode = await run();
} finally {
  for (const db of scratch) await db.drop();
}

async function run(): Promise<number> {
  const migrated = await build('diff_migrated', async (c) => { await migrateUp(c, migrations); });
  scratch.push(migrated);
  const declared = await build('diff_declared', (c) => applySchemaFiles(c, schema));
  scratch.push(declared);

  const up = await change(migrated, declared);
  if (!up) {
    console.log('supabase/schemas and supabase/migrations agree: nothing to write');
    return 0;
  }
  if (values.check) {
    console.error('supabase/schemas differ from the migrations; `npm run db:diff -- <name>` would write:\n');
    console.error(up);
    return 1;
  }
  const down = await change(declared, migrated);

  // Prove both directions on fresh copies before writing anything.
  const proveUp = await build('diff_prove', async (c) => { await migrateUp(c, migrations); });
  scratch.push(proveUp);
  await proveUp.client.transaction((tx) => tx.exec(up));
  const upDiff = await sameCatalog(proveUp.client, declared.client);
  await proveUp.client.transaction((tx) => tx.exec(down));
  const downDiff = await sameCatalog(proveUp.client, migrated.client);
  if (upDiff.length || downDiff.length) {
    console.error('the generated migration does not converge; nothing written. Differences:');
    for (const line of [...upDiff.map((l) => `after the migration ${l}`), ...downDiff.map((l) => `after the rollback ${l}`)].slice(0, 50)) console.error(line);
    return 1;
  }

  const version = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const header = (what: string) => [
    `-- ${what}, generated by \`npm run db:diff -- ${name}\` from supabase/schemas`,
    '-- (pg-delta, plus the column grants it leaves out). Hand edits are allowed',
    '-- for data moves (backfills, renames): mark each with `-- hand edit:` and why.',
    '',
  ].join('\n');
  const migrationPath = join(dir, 'migrations', `${version}_${name}.sql`);
  const rollbackPath = join(dir, 'rollbacks', `${version}_${name}.sql`);
  writeFileSync(migrationPath, `${header('The migration')}\n${up}\n`);
  writeFileSync(rollbackPath, `${header('Its exact inverse')}\n${down}\n`);
  console.log(`wrote ${migrationPath} and its rollback (proved: both directions give the expected catalog)`);
  return 0;
}
