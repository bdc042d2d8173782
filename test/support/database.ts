// A fresh database per test file: in-memory PGlite by default, or with
// DATABASE_URL set, a throwaway database on that server (dropped afterwards),
// so files can run in parallel and roll migrations back without interfering.
import { postgresClient, type SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { pgliteClient } from '../../scripts/lib/pglite_client.ts';
import { createScratchDatabase } from '../../scripts/lib/scratch_db.ts';
import { applyLocalShim, migrateUp } from '../../scripts/lib/migrator.ts';

export interface TestDatabase {
  client: SqlClient;
  kind: 'pglite' | 'postgres';
  /** The throwaway database's URL (real server only), for a server process of its own. */
  url?: string;
  /** A second, independent connection pool (real server) of `max` connections for true concurrency; same client on PGlite. */
  connect(max?: number): SqlClient;
  close(): Promise<void>;
}

export const usingRealServer = Boolean(process.env.DATABASE_URL);

export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  if (!usingRealServer) {
    const client = await pgliteClient();
    if (migrate) {
      await applyLocalShim(client);
      await migrateUp(client);
    }
    return { client, kind: 'pglite', connect: () => client, close: () => client.close() };
  }
  const scratch = await createScratchDatabase('registry_test', { adminUrl: process.env.DATABASE_URL!, max: 4 });
  const { client, url } = scratch;
  const extra: SqlClient[] = [];
  if (migrate) {
    await applyLocalShim(client);
    await migrateUp(client);
  }
  return {
    client,
    kind: 'postgres',
    url,
    connect(max = 4) {
      const c = postgresClient(url, { max });
      extra.push(c);
      return c;
    },
    async close() {
      await Promise.all(extra.map((c) => c.close()));
      await scratch.drop();
    },
  };
}
