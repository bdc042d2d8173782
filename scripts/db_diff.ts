// npm run db:diff -- <name>     write the migration that takes the migrated
//                               schema to supabase/schemas, and its rollback
// npm run db:diff -- --check    exit 1 if the schema files and the migrations differ
//
// No Docker: the migrations go into one scratch database on the local
// PostgreSQL (or SCRATCH_DATABASE_URL), the schema files into another, and
// pg-delta (@supabase/pg-delta, the Supabase CLI's own differ) plans the
// change each way. Column-level grants, which pg-delta's plans drop, are
// diffed here and appended; every statement is made re-runnable
// (scripts/lib/rerunnable.ts). Before anything is written, the migration is
// proved: applied twice to the migrated database it must give the schema
// files' catalog, and its rollback, applied twice, the migrated one again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SqlClient } from '../functions/_shared/db/sql_client.ts';
import { catalogSnapshot } from './lib/catalog.ts';
import { columnGrantChanges } from './lib/column_grants.ts';
import { applyLocalShim, ensureHistoryTable, listMigrations, migrateUp, SUPABASE_DIR } from './lib/migrator.ts';
import { rerunnable } from './lib/rerunnable.ts';
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
  const db = await createScratchDatabase(`scratch_${label}`);
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
  const down = rerunnable(await change(declared, migrated));
  const upScript = rerunnable(up);
  const drops = [...upScript.matchAll(/^(?:ALTER TABLE \S+ )?DROP (TABLE|COLUMN)(?: IF EXISTS)? (\S+)/gim)].map((m) => `${m[1]!.toLowerCase()} ${m[2]}`);
  if (drops.length) {
    console.error(`note: the migration drops ${drops.join(', ')}: a rename is seen as drop and add; if that is one, hand-edit it into a rename`);
  }

  // Prove both directions on a fresh copy before writing anything: each script
  // applied twice (a migration must be re-runnable), each leaving exactly the
  // catalog it aims at.
  const prove = await build('diff_prove', async (c) => { await migrateUp(c, migrations); });
  scratch.push(prove);
  const failures: string[] = [];
  for (const [what, script, target] of [['migration', upScript, declared], ['rollback', down, migrated]] as const) {
    for (const attempt of ['applied once', 'applied twice']) {
      try {
        await prove.client.transaction((tx) => tx.exec(script));
      } catch (err) {
        failures.push(`the ${what} ${attempt} fails: ${(err as Error).message}`);
        break;
      }
      failures.push(...(await sameCatalog(prove.client, target.client)).map((l) => `after the ${what} ${attempt} ${l}`));
    }
  }
  if (failures.length) {
    console.error('the generated migration does not prove out; nothing written:');
    for (const line of failures.slice(0, 50)) console.error(`  ${line}`);
    console.error(`\nthe scripts were:\n--- migration\n${upScript}\n--- rollback\n${down}`);
    return 1;
  }

  const latest = migrations.at(-1)?.version ?? '0';
  const now = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  // after every existing migration, even one dated ahead of this clock
  const version = now > latest ? now : String(BigInt(latest) + 1n);
  const header = (what: string) => [
    `-- ${what}, generated by \`npm run db:diff -- ${name}\` from supabase/schemas`,
    '-- (pg-delta, plus the column grants it leaves out). Hand edits are allowed',
    '-- for data moves (backfills, renames): mark each with `-- hand edit:` and why.',
    '',
  ].join('\n');
  const migrationPath = join(dir, 'migrations', `${version}_${name}.sql`);
  const rollbackPath = join(dir, 'rollbacks', `${version}_${name}.sql`);
  writeFileSync(migrationPath, `${header('The migration')}\n${upScript}\n`);
  writeFileSync(rollbackPath, `${header('Its exact inverse')}\n${down}\n`);
  console.log(`wrote ${migrationPath} and its rollback (proved: each applied twice gives the expected catalog)`);
  return 0;
}
