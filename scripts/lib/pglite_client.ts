// SqlClient over embedded PGlite (in memory, or persisted in a folder).
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';

export async function pgliteClient(dataDir?: string): Promise<SqlClient & { pg: PGlite }> {
  const pg = await PGlite.create(dataDir ? { dataDir } : {});
  const wrap = (run: PGlite | Transaction): SqlClient => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await run.query<T>(text, params)).rows;
    },
    async exec(text: string) {
      await run.exec(text);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (run !== pg) return fn(wrap(run));
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    async close() {
      await pg.close();
    },
  });
  return Object.assign(wrap(pg), { pg });
}
