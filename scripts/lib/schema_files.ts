// The declarative schema: supabase/schemas/<domain>/<layer>.sql, applied in
// the order `[db.migrations] schema_paths` in supabase/config.toml lists them
// (the order the Supabase CLI uses for `supabase db diff`).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { SUPABASE_DIR } from './migrator.ts';

/** The schema files in load order, as absolute paths. */
export function schemaFiles(configPath = join(SUPABASE_DIR, 'config.toml')): string[] {
  const config = readFileSync(configPath, 'utf8');
  const section = /^\[db\.migrations\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(config)?.[1];
  const list = section && /^schema_paths\s*=\s*\[([\s\S]*?)\]/m.exec(section)?.[1];
  if (!list) throw new Error(`${configPath}: no [db.migrations] schema_paths`);
  const paths = [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  for (const p of paths) {
    // The CLI accepts globs; this project lists files so the order is explicit.
    if (/[*?[]/.test(p)) throw new Error(`schema_paths: ${p}: list files, not globs`);
  }
  return paths.map((p) => resolve(dirname(configPath), p));
}

/** Applies every schema file in order, in one transaction. */
export async function applySchemaFiles(client: SqlClient, files = schemaFiles()): Promise<void> {
  const script = files.map((f) => `-- ${f}\n${readFileSync(f, 'utf8')}`).join('\n;\n');
  await client.transaction(async (tx) => {
    await tx.exec(script);
  });
}
