// 20261130000100 on a deployed database whose training_runs already has a
// metadata column of its own: the migration adopts it (rows kept, the rules
// added), and its rollback removes only what it added, leaving the column,
// its values and the catalog as they were. A metadata column of another type
// is refused with a clear error rather than reinterpreted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrateDown, migrateUp } from '../../scripts/lib/migrator.ts';
import { asRole } from '../support/as_role.ts';
import { catalogSnapshot } from '../../scripts/lib/catalog.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const VERSION = '20261130000100';
/** Rolls back this migration and any after it. */
const stepsToBefore = () => listMigrations().filter((m) => m.version >= VERSION).length;

describe(`${VERSION} adopts what it finds and its rollback keeps it`, () => {
  let database: TestDatabase;
  const alice = crypto.randomUUID();
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  it('a metadata jsonb column of the project survives up and down with its values', async () => {
    const { client } = database;
    await migrateDown(client, stepsToBefore());
    await client.exec(`alter table public.training_runs add column metadata jsonb`);
    await client.query(`insert into public.training_runs (run_id, config_json, metadata, created_by) values ('adopted', '{}', '{"kept": true}', $1)`, [alice]);
    const before = await catalogSnapshot(client);

    await migrateUp(client);
    // the rules apply to the adopted column: owner-writable, objects only
    expect(await asRole(client, 'authenticated', alice,
      `update public.training_runs set metadata = metadata || '{"more": 1}' where run_id = 'adopted' returning metadata`))
      .toEqual([{ metadata: { kept: true, more: 1 } }]);
    await expect(asRole(client, 'authenticated', alice, `update public.training_runs set metadata = '[]' where run_id = 'adopted'`))
      .rejects.toMatchObject({ code: '23514' });

    await migrateDown(client, stepsToBefore());
    expect(await catalogSnapshot(client)).toEqual(before);
    expect(await client.query(`select metadata from public.training_runs where run_id = 'adopted'`))
      .toEqual([{ metadata: { kept: true, more: 1 } }]);
    await client.exec(`alter table public.training_runs drop column metadata`);
    await migrateUp(client);
  });

  it('a metadata column of another type stops the migration with a clear error, changing nothing', async () => {
    const { client } = database;
    await migrateDown(client, stepsToBefore());
    await client.exec(`alter table public.training_runs add column metadata text`);
    const before = await catalogSnapshot(client);
    await expect(migrateUp(client)).rejects.toThrow(/metadata column that is not jsonb/);
    expect(await catalogSnapshot(client)).toEqual(before);
    await client.exec(`alter table public.training_runs drop column metadata`);
    await migrateUp(client);
    expect(await client.query(`select count(*)::int as n from private.adopted_tables where migration = $1`, [VERSION]))
      .toEqual([{ n: 2 }]);
  });
});
