// The declarative schema (supabase/schemas) and the migrations describe the
// same database: applied to two empty databases, they leave the same catalog.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLocalShim, ensureHistoryTable, SUPABASE_DIR } from '../../scripts/lib/migrator.ts';
import { applySchemaFiles, schemaFiles } from '../../scripts/lib/schema_files.ts';
import { DOMAINS, LAYERS, layerFile } from '../../scripts/lib/schema_layout.ts';
import { catalogSnapshot } from '../../scripts/lib/catalog.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('declarative schema', () => {
  let migrated: TestDatabase;
  let declared: TestDatabase;
  beforeAll(async () => {
    [migrated, declared] = await Promise.all([createTestDatabase(), createTestDatabase({ migrate: false })]);
    await applyLocalShim(declared.client);
    await ensureHistoryTable(declared.client);
  });
  afterAll(async () => {
    await Promise.all([migrated?.close(), declared?.close()]);
  });

  it('config.toml lists every schema file, layer by layer', () => {
    const listed = schemaFiles();
    const expected = LAYERS.flatMap((layer) => DOMAINS.map((domain) => join(SUPABASE_DIR, layerFile(domain, layer))))
      .filter((f) => existsSync(f));
    expect(listed).toEqual(expected);
  });

  it('builds the same catalog as the migrations', async () => {
    await applySchemaFiles(declared.client);
    const [fromMigrations, fromSchema] = await Promise.all([catalogSnapshot(migrated.client), catalogSnapshot(declared.client)]);
    // Compared kind by kind, so a failure names what differs.
    for (const kind of new Set([...Object.keys(fromMigrations), ...Object.keys(fromSchema)])) {
      expect(fromSchema[kind] ?? [], kind).toEqual(fromMigrations[kind] ?? []);
    }
  });

  it('gives every table its columns in the deployed order (select * and row types depend on it)', async () => {
    const order = (db: TestDatabase) => db.client.query<{ tbl: string; cols: string }>(`
      select format('%s.%s', table_schema, table_name) as tbl, string_agg(column_name, ', ' order by ordinal_position) as cols
        from information_schema.columns where table_schema in ('public', 'private') group by 1 order by 1`);
    expect(await order(declared)).toEqual(await order(migrated));
  });

  it('keeps benchmark figures out of SQL (they live in bench/README.md)', () => {
    for (const file of schemaFiles()) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/\b\d+(\.\d+)?\s*(µs|ms)\b/);
    }
  });
});
