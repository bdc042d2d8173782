// A fresh database per test file: in-memory PGlite by default, or with
// DATABASE_URL set, a throwaway database on that server (dropped afterwards),
// so files can run in parallel and roll migrations back without interfering.
import { randomBytes } from 'node:crypto';
import { postgresClient, type SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { pgliteClient } from '../../scripts/lib/pglite_client.ts';
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
  const adminUrl = process.env.DATABASE_URL!;
  const name = `registry_test_${randomBytes(6).toString('hex')}`;
  const admin = postgresClient(adminUrl, { max: 1 });
  await admin.exec(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const extra: SqlClient[] = [];
  const client = postgresClient(url.toString(), { max: 4 });
  if (migrate) {
    await applyLocalShim(client);
    await migrateUp(client);
  }
  return {
    client,
    kind: 'postgres',
    url: url.toString(),
    connect(max = 4) {
      const c = postgresClient(url.toString(), { max });
      extra.push(c);
      return c;
    },
    async close() {
      await Promise.all([client, ...extra].map((c) => c.close()));
      await admin.exec(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}
