// SqlClient over embedded PGlite (in memory, or persisted in a folder).
// PGlite runs inside this process and cannot be interrupted mid-statement: a
// transaction whose signal aborts is rolled back at its next step (before its
// next statement, and always before COMMIT), so a request that ran out of
// time never commits after it was answered.
import { PGlite, type PGliteOptions, type Transaction } from '@electric-sql/pglite';
import { type SqlClient, type TransactionOptions, untilAborted } from '../../functions/_shared/db/sql_client.ts';

export interface PgliteClientOptions {
  /** Checked before every transaction that may write; throws (a DbError) to refuse it. */
  beforeWrite?: () => void;
  /** Extra PGlite options (e.g. startParams). */
  pglite?: Partial<PGliteOptions>;
}

export async function pgliteClient(dataDir?: string, options: PgliteClientOptions = {}): Promise<SqlClient & { pg: PGlite }> {
  const pg = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...options.pglite });
  const wrap = (run: PGlite | Transaction, signal?: AbortSignal): SqlClient => ({
    async query<T>(text: string, params: unknown[] = []) {
      signal?.throwIfAborted();
      return (await run.query<T>(text, params)).rows;
    },
    async exec(text: string) {
      signal?.throwIfAborted();
      await run.exec(text);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>, txOptions: TransactionOptions = {}): Promise<T> {
      if (run !== pg) return fn(wrap(run, signal));
      const { signal: txSignal, readOnly } = txOptions;
      txSignal?.throwIfAborted();
      if (!readOnly) options.beforeWrite?.();
      const running = pg.transaction(async (tx) => {
        txSignal?.throwIfAborted();
        const result = await fn(wrap(tx, txSignal));
        txSignal?.throwIfAborted();
        return result;
      });
      if (!txSignal) return running;
      // Answer at the abort; the transaction, queued or running, rolls back at its next step.
      running.catch(() => {});
      return untilAborted(running, txSignal);
    },
    async close() {
      await pg.close();
    },
  });
  return Object.assign(wrap(pg), { pg });
}
