// Applies supabase/migrations in order, each in its own transaction, and
// records them in supabase_migrations.schema_migrations exactly as the
// Supabase CLI does, so `supabase db push` sees them as applied. Rolls back
// with the inverse files in supabase/rollbacks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { splitStatements } from './sql_split.ts';

export const SUPABASE_DIR = fileURLToPath(new URL('../../supabase/', import.meta.url));
const MIGRATION_FILE = /^(\d{14})_(.+)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  path: string;
}

export function listMigrations(dir = join(SUPABASE_DIR, 'migrations')): Migration[] {
  return readdirSync(dir)
    .map((file) => ({ file, match: MIGRATION_FILE.exec(file) }))
    .filter((f) => f.match)
    .map(({ file, match }) => ({ version: match![1]!, name: match![2]!, path: join(dir, file) }))
    .sort((a, b) => a.version.localeCompare(b.version));
}

export function rollbackPath(m: Migration): string {
  return join(SUPABASE_DIR, 'rollbacks', `${m.version}_${m.name}.sql`);
}

/** The same statements the CLI runs before reading or writing its history. */
export async function ensureHistoryTable(client: SqlClient): Promise<void> {
  await client.exec(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
    alter table supabase_migrations.schema_migrations add column if not exists statements text[];
    alter table supabase_migrations.schema_migrations add column if not exists name text;
  `);
}

export async function appliedVersions(client: SqlClient): Promise<string[]> {
  await ensureHistoryTable(client);
  const rows = await client.query<{ version: string }>(
    'select version from supabase_migrations.schema_migrations order by version');
  return rows.map((r) => r.version);
}

/**
 * Applies the local shim (roles, auth schema) unless the database already has
 * Supabase's own auth.uid(), i.e. unless it is a real Supabase project.
 */
export async function applyLocalShim(client: SqlClient): Promise<boolean> {
  const [row] = await client.query<{ present: boolean }>(
    `select to_regprocedure('auth.uid()') is not null as present`);
  const isSupabase = row?.present && (await client.query(`select 1 from pg_roles where rolname = 'supabase_admin'`)).length > 0;
  if (isSupabase) return false;
  await client.exec(readFileSync(join(SUPABASE_DIR, 'local', 'supabase_shim.sql'), 'utf8'));
  return true;
}

export async function migrateUp(client: SqlClient, migrations = listMigrations()): Promise<Migration[]> {
  const applied = new Set(await appliedVersions(client));
  const done: Migration[] = [];
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    const sql = readFileSync(m.path, 'utf8');
    await client.transaction(async (tx) => {
      await tx.exec(sql);
      await tx.query(
        `insert into supabase_migrations.schema_migrations(version, name, statements)
         values ($1, $2, array(select jsonb_array_elements_text($3::jsonb)))`,
        [m.version, m.name, JSON.stringify(splitStatements(sql))],
      );
    });
    done.push(m);
  }
  return done;
}

/** Rolls back the newest `steps` applied migrations (all of them with Infinity). */
export async function migrateDown(client: SqlClient, steps = 1, migrations = listMigrations()): Promise<Migration[]> {
  const applied = (await appliedVersions(client)).reverse().slice(0, steps);
  const done: Migration[] = [];
  for (const version of applied) {
    const m = migrations.find((x) => x.version === version);
    if (!m) throw new Error(`migration ${version} is applied but has no file in supabase/migrations`);
    const sql = readFileSync(rollbackPath(m), 'utf8');
    await client.transaction(async (tx) => {
      await tx.exec(sql);
      await tx.query('delete from supabase_migrations.schema_migrations where version = $1', [version]);
    });
    done.push(m);
  }
  return done;
}

export async function applySeed(client: SqlClient): Promise<void> {
  await client.exec(readFileSync(join(SUPABASE_DIR, 'seed.sql'), 'utf8'));
}

/** Shim (when not on Supabase) and every pending migration: what a fresh database needs. */
export async function prepareDatabase(client: SqlClient): Promise<Migration[]> {
  await applyLocalShim(client);
  return migrateUp(client);
}
