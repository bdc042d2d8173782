// SqlClient over embedded PGlite (in memory, or persisted in a folder).
//
// Faults:
// - PGlite runs inside this process and cannot be interrupted mid-statement:
//   a transaction whose signal aborts is answered at once and rolled back at
//   its next step (before its next statement, and always before COMMIT), so a
//   request that ran out of time never commits after it was answered.
// - A full disk. PGlite 0.5 survives a data file that cannot grow (the
//   statement fails with 53100 and the next one works), but not a WAL segment
//   that cannot be created: the statement fails with 53100 on
//   pg_wal/xlogtemp.*, and the next statement, whatever it is, spins forever
//   inside PGlite's WebAssembly with Node's event loop blocked (README
//   "Failure behaviour", docs/pglite-wal-enospc.md). So with a data folder:
//     1. writes are refused (53100, a 503) while the folder's filesystem has
//        less free space than the floor (DATA_MIN_FREE_MB, 128 MB), which is
//        more than any one request writes, so the WAL never meets a full disk
//        through this server;
//     2. should it anyway (something else filled the disk), the failed
//        statement is the last one this PGlite instance runs: every call is
//        refused (53100) until the floor is free again, and then a fresh
//        PGlite instance opens the same folder (crash recovery from the WAL,
//        as after kill -9). The stuck instance is never called again.
import { statfsSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { DbError } from '../../functions/_shared/db/port.ts';
import { type SqlClient, type TransactionOptions, untilAborted } from '../../functions/_shared/db/sql_client.ts';

export const DEFAULT_MIN_FREE_MB = 128;

export interface PgliteClientOptions {
  /** Free space (bytes) the data folder's filesystem keeps: writes below it are refused. Default DATA_MIN_FREE_MB or 128 MB. */
  minFreeBytes?: number;
  /** Where the guard reports what it does (refusing, reopening). */
  log?: (message: string) => void;
}

export type PgliteSqlClient = SqlClient & { readonly pg: PGlite };

export async function pgliteClient(dataDir?: string, options: PgliteClientOptions = {}): Promise<PgliteSqlClient> {
  const open = () => PGlite.create(dataDir ? { dataDir } : {});
  let pg = await open();
  const log = options.log ?? (() => {});
  const minFree = options.minFreeBytes ?? Number(process.env.DATA_MIN_FREE_MB ?? DEFAULT_MIN_FREE_MB) * 2 ** 20;
  // Set when a WAL write failed: this instance must not run another statement.
  let stuck: DbError | null = null;
  let reopening: Promise<void> | null = null;

  const freeBytes = () => {
    const s = statfsSync(dataDir!);
    return s.bavail * s.bsize;
  };
  const mb = (bytes: number) => Math.floor(bytes / 2 ** 20);

  /** Throws when this instance must not be used now (stuck) or must not write (disk below the floor). */
  const admit = (write: boolean) => {
    if (!dataDir) return;
    if (stuck) {
      reopenWhenFree();
      throw stuck;
    }
    if (write) {
      const free = freeBytes();
      if (free < minFree) {
        throw new DbError('53100', `the embedded database is refusing writes: ${mb(free)} MB free where its data is, ` +
          `below the floor of ${mb(minFree)} MB (DATA_MIN_FREE_MB); reads still work, and writes resume once space is freed`);
      }
    }
  };

  // A 53100 on the WAL: see the header. Everything after it waits for a fresh instance.
  const watch = <T>(p: Promise<T>): Promise<T> => p.catch((err: unknown) => {
    const e = err as { code?: string; message?: string };
    if (dataDir && e?.code === '53100' && /pg_wal|xlog/i.test(e.message ?? '')) {
      stuck = new DbError('53100', 'the embedded database stopped: its write-ahead log could not grow (disk full); ' +
        'it reopens by itself once space is freed');
      log(`embedded database: ${e.message}; no more statements on this instance until space is freed`);
      reopenWhenFree();
    }
    throw err;
  });

  function reopenWhenFree() {
    if (reopening || !stuck) return;
    reopening = (async () => {
      while (freeBytes() < minFree) await new Promise((r) => setTimeout(r, 1000));
      pg = await open();
      stuck = null;
      log('embedded database: space freed, reopened (recovered from its write-ahead log)');
    })().catch((err: unknown) => {
      log(`embedded database: reopening failed: ${err instanceof Error ? err.message : String(err)}`);
    }).finally(() => {
      reopening = null;
    });
  }

  // One statement or transaction at a time (PGlite has one connection). Not
  // PGlite's own transaction(): it runs ROLLBACK itself after an error, and
  // after a failed WAL write that ROLLBACK is the statement that never returns.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  };

  const inTransaction = (signal?: AbortSignal): SqlClient => ({
    async query<T>(text: string, params: unknown[] = []) {
      signal?.throwIfAborted();
      return (await watch(pg.query<T>(text, params))).rows;
    },
    async exec(text: string) {
      signal?.throwIfAborted();
      await watch(pg.exec(text));
    },
    transaction: (fn) => fn(inTransaction(signal)),
    close: () => Promise.resolve(),
  });

  return {
    get pg() {
      return pg;
    },
    query<T>(text: string, params: unknown[] = []) {
      return exclusive(async () => {
        admit(false);
        return (await watch(pg.query<T>(text, params))).rows;
      });
    },
    exec(text: string) {
      return exclusive(async () => {
        admit(true); // scripts: migrations, the seed, the search indexer
        await watch(pg.exec(text));
      });
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>, txOptions: TransactionOptions = {}): Promise<T> {
      const { signal, readOnly } = txOptions;
      signal?.throwIfAborted();
      const running = exclusive(async () => {
        signal?.throwIfAborted();
        admit(!readOnly);
        await watch(pg.exec('begin'));
        try {
          const result = await fn(inTransaction(signal));
          signal?.throwIfAborted();
          await watch(pg.exec('commit'));
          return result;
        } catch (err) {
          if (!stuck) await pg.exec('rollback').catch(() => {});
          throw err;
        }
      });
      if (!signal) return running;
      // Answer at the abort; the transaction, queued or running, rolls back at its next step.
      running.catch(() => {});
      return untilAborted(running, signal);
    },
    async close() {
      if (!stuck) await pg.close();
    },
  };
}
