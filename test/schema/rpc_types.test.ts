// functions/_shared/db/rpc.gen.ts is what pg_proc of the migrated schema
// generates: a migration that renames, adds or retypes an argument of a
// public function fails here until `npm run generate:rpc` (and then the
// handlers that call it fail `npm run typecheck`).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RPC_TYPES_FILE, rpcTypes } from '../../scripts/lib/rpc_types.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('typed calls to SQL (rpc.gen.ts)', () => {
  let database: TestDatabase;
  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(() => database?.close());

  it('matches the migrated schema', async () => {
    expect(readFileSync(RPC_TYPES_FILE, 'utf8'), 'rpc.gen.ts drifted from the schema: run npm run generate:rpc')
      .toBe(await rpcTypes(database.client));
  });

  it('names every argument p_<name>, one signature per function', async () => {
    // rpcTypes refuses anything else; a function added without the convention throws here
    await database.client.exec(`create function public.zz_convention_probe(x int) returns int language sql as 'select x'`);
    try {
      await expect(rpcTypes(database.client)).rejects.toThrow(/zz_convention_probe: argument 1 is "x"/);
    } finally {
      await database.client.exec('drop function public.zz_convention_probe(int)');
    }
  });
});
