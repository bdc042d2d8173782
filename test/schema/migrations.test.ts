import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLocalShim, appliedVersions, listMigrations, migrateDown, migrateUp, rollbackPath } from '../../scripts/lib/migrator.ts';
import { splitStatements } from '../../scripts/lib/sql_split.ts';
import { catalogSnapshot } from '../../scripts/lib/catalog.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('migrations', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    await applyLocalShim(database.client);
  });
  afterAll(() => database.close());

  it('every migration has its rollback and a CLI-style name', () => {
    const migrations = listMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    for (const m of migrations) {
      expect(m.version).toMatch(/^\d{14}$/);
      expect(() => readFileSync(rollbackPath(m))).not.toThrow();
    }
  });

  it('applies each migration twice without error or change', async () => {
    const { client } = database;
    for (const m of listMigrations()) {
      const sql = readFileSync(m.path, 'utf8');
      await client.exec(sql);
      const once = await catalogSnapshot(client);
      await client.exec(sql);
      expect(await catalogSnapshot(client)).toEqual(once);
    }
    // back to empty for the runner tests below
    for (const m of listMigrations().reverse()) await client.exec(readFileSync(rollbackPath(m), 'utf8'));
  });

  it('records applied migrations as the Supabase CLI does', async () => {
    const { client } = database;
    const before = await catalogSnapshot(client);
    const applied = await migrateUp(client);
    expect(applied.map((m) => m.version)).toEqual(listMigrations().map((m) => m.version));
    const rows = await client.query<{ version: string; name: string; statements: string[] }>(
      'select version, name, statements from supabase_migrations.schema_migrations order by version');
    expect(rows.map((r) => r.version)).toEqual(applied.map((m) => m.version));
    for (const [i, row] of rows.entries()) {
      expect(row.name).toBe(applied[i]!.name);
      expect(row.statements).toEqual(splitStatements(readFileSync(applied[i]!.path, 'utf8')));
    }
    // a second run applies nothing
    expect(await migrateUp(client)).toEqual([]);

    // up -> down -> up leaves the same catalog, whichever migration is rolled back
    // (down 1, down 2, ...); all the way down leaves what was there before
    const up = await catalogSnapshot(client);
    for (let steps = 1; steps < applied.length; steps++) {
      await migrateDown(client, steps);
      expect(await appliedVersions(client)).toHaveLength(applied.length - steps);
      await migrateUp(client);
      expect(await catalogSnapshot(client), `down ${steps}, up`).toEqual(up);
    }
    await migrateDown(client, Infinity);
    expect(await appliedVersions(client)).toEqual([]);
    expect(await catalogSnapshot(client)).toEqual(before);
    await migrateUp(client);
    expect(await catalogSnapshot(client)).toEqual(up);
  });

  it('rolling back the newest k migrations leaves exactly what the other n - k left (each rollback is the exact inverse)', async () => {
    const { client } = database;
    const migrations = listMigrations();
    await migrateDown(client, Infinity);
    const after: Awaited<ReturnType<typeof catalogSnapshot>>[] = [await catalogSnapshot(client)];
    for (const m of migrations) {
      await migrateUp(client, [m]);
      after.push(await catalogSnapshot(client));
    }
    for (let left = migrations.length - 1; left >= 0; left--) {
      await migrateDown(client, 1);
      expect(await catalogSnapshot(client), `after rolling back ${migrations[left]!.name}`).toEqual(after[left]);
    }
    await migrateUp(client);
  });

  it('rolls back a failing migration completely and records nothing', async () => {
    const { client } = database;
    const before = await catalogSnapshot(client);
    const versions = await appliedVersions(client);
    const bad = { version: '99999999999999', name: 'broken', path: new URL('../fixtures/broken_migration.sql', import.meta.url).pathname };
    await expect(migrateUp(client, [bad])).rejects.toThrow();
    expect(await appliedVersions(client)).toEqual(versions);
    expect(await catalogSnapshot(client)).toEqual(before);
  });
});

describe('splitStatements', () => {
  it('splits on top-level semicolons only', () => {
    const sql = `create table a (x text default 'a;b'); -- c;d
      create function f() returns int language sql as $$ select 1; $$;
      /* e; */ select $tag$ ; $tag$, "we;ird", E'it\\'s;';`;
    expect(splitStatements(sql)).toEqual([
      `create table a (x text default 'a;b');`,
      `-- c;d\n      create function f() returns int language sql as $$ select 1; $$;`,
      `/* e; */ select $tag$ ; $tag$, "we;ird", E'it\\'s;';`,
    ]);
  });
});
