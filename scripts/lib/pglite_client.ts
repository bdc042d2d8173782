// SqlClient over embedded PGlite (in memory, or persisted in a folder).
//
// Faults:
// - PGlite runs inside this process and cannot be interrupted mid-statement:
//   a transaction whose signal aborts is answered at once and rolled back at
//   its next step (before its next statement, and always before COMMIT), so a
//   request that ran out of time never commits after it was answered.
// - A full disk. PGlite 0.5 survives a data file that cannot grow (the
//   statement fails with 53100 and the next one works), but not a WAL segment
//   that cannot be created: it then spins forever inside its WebAssembly,
//   Node's event loop blocked, either in the failing statement itself or in
//   the next one (docs/failure.md, docs/pglite-wal-enospc.md). So
//   with a data folder, writes are refused (53100, a 503) while the folder's
//   filesystem has less free space than the floor (DATA_MIN_FREE_MB, 128 MB),
//   which is more than any one request writes: through this server the WAL
//   never meets a full disk. Reads go on; writes resume once space is back.
// - Transactions are this module's own BEGIN/COMMIT/ROLLBACK on a queue of
//   one (PGlite has one connection), so a transaction can be rolled back at
//   its next step when its signal aborts.
import { existsSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PGlite } from '@electric-sql/pglite';
import { DbError } from '../../functions/_shared/db/port.ts';
import { type SqlClient, type TransactionOptions, untilAborted } from '../../functions/_shared/db/sql_client.ts';

export const DEFAULT_MIN_FREE_MB = 128;

export interface PgliteClientOptions {
  /** Free space (bytes) the data folder's filesystem keeps: writes below it are refused. Default DATA_MIN_FREE_MB or 128 MB. */
  minFreeBytes?: number;
}

export type PgliteSqlClient = SqlClient & { readonly pg: PGlite };

// Memory (bench/README.md "Embedded server memory"). PGlite's PostgreSQL lives
// in one WebAssembly memory, which can grow and never shrink: whatever
// PostgreSQL touches once stays resident. So:
// - shared_buffers 16 MB instead of 128 MB (and maintenance_work_mem 16 MB
//   instead of 64 MB): the data files are read through Node's fs, so the
//   operating system's page cache holds them anyway; 128 MB of buffers filled
//   under load was 128 MB more resident for no measurable speed.
// - V8 compiles the hot part of PostgreSQL's WebAssembly a second time
//   (TurboFan tier-up) on background threads whose freed compiler memory the
//   C allocator keeps (one arena per thread): one compilation thread keeps
//   the speed and leaves about 50 MB less behind.
// - A fresh database is made by initdb in a second WebAssembly instance with
//   its own memories (~250 MB), unreachable once PGlite is open but only
//   returned when the garbage collector next runs, which an idle server may
//   not do for a long time: collected at once.
export const PGLITE_SETTINGS = ['shared_buffers=16MB', 'maintenance_work_mem=16MB'];
let v8Configured = false;

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) return gc();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export async function pgliteClient(dataDir?: string, options: PgliteClientOptions = {}): Promise<PgliteSqlClient> {
  if (!v8Configured) {
    // Before the first WebAssembly compilation; one flag for the whole process.
    setFlagsFromString('--wasm-num-compilation-tasks=1');
    v8Configured = true;
  }
  const fresh = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
  const pg = await PGlite.create({
    ...dataDir ? { dataDir } : {},
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])],
  });
  if (fresh) collectGarbage();
  const minFree = options.minFreeBytes ?? Number(process.env.DATA_MIN_FREE_MB ?? DEFAULT_MIN_FREE_MB) * 2 ** 20;

  const freeBytes = () => {
    const s = statfsSync(dataDir!);
    return s.bavail * s.bsize;
  };
  const mb = (bytes: number) => Math.floor(bytes / 2 ** 20);

  /** Throws when a write must not run now: the disk is below the floor. */
  const admit = (write: boolean) => {
    if (!dataDir || !write) return;
    const free = freeBytes();
    if (free < minFree) {
      throw new DbError('53100', `the embedded database is refusing writes: ${mb(free)} MB free where its data is, ` +
        `below the floor of ${mb(minFree)} MB (DATA_MIN_FREE_MB); reads still work, and writes resume once space is freed`);
    }
  };

  // One statement or transaction at a time (PGlite has one connection).
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => {});
    return run;
  };

  const inTransaction = (signal?: AbortSignal): SqlClient => ({
    async query<T>(text: string, params: unknown[] = []) {
      signal?.throwIfAborted();
      return (await pg.query<T>(text, params)).rows;
    },
    async exec(text: string) {
      signal?.throwIfAborted();
      await pg.exec(text);
    },
    transaction: (fn) => fn(inTransaction(signal)),
    async call<T>(text: string) {
      signal?.throwIfAborted();
      return lastRows<T>(await pg.exec(text));
    },
    close: () => Promise.resolve(),
  });

  return {
    get pg() {
      return pg;
    },
    query<T>(text: string, params: unknown[] = []) {
      return exclusive(async () => {
        admit(false);
        return (await pg.query<T>(text, params)).rows;
      });
    },
    exec(text: string) {
      return exclusive(async () => {
        admit(true); // scripts: migrations, the seed, the search indexer
        await pg.exec(text);
      });
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>, txOptions: TransactionOptions = {}): Promise<T> {
      const { signal, readOnly } = txOptions;
      signal?.throwIfAborted();
      const running = exclusive(async () => {
        signal?.throwIfAborted();
        admit(!readOnly);
        await pg.exec('begin');
        try {
          const result = await fn(inTransaction(signal));
          signal?.throwIfAborted();
          await pg.exec('commit');
          return result;
        } catch (err) {
          await pg.exec('rollback').catch(() => {});
          throw err;
        }
      });
      if (!signal) return running;
      // Answer at the abort; the transaction, queued or running, rolls back at its next step.
      running.catch(() => {});
      return untilAborted(running, signal);
    },
    // One exec of the whole message (PGlite runs a multi-statement string as
    // one simple-protocol Query, so a read is one implicit transaction), the
    // way the pg client sends it; a write is BEGIN + the message, then COMMIT
    // only if its signal has not aborted, as in transaction() above.
    call<T>(text: string, txOptions: TransactionOptions = {}): Promise<T[]> {
      const { signal, readOnly } = txOptions;
      signal?.throwIfAborted();
      const running = exclusive(async () => {
        signal?.throwIfAborted();
        admit(!readOnly);
        if (readOnly) return lastRows<T>(await pg.exec(text));
        try {
          const rows = lastRows<T>(await pg.exec(`begin;\n${text}`));
          signal?.throwIfAborted();
          await pg.exec('commit');
          return rows;
        } catch (err) {
          await pg.exec('rollback').catch(() => {});
          throw err;
        }
      });
      if (!signal) return running;
      running.catch(() => {});
      return untilAborted(running, signal);
    },
    async close() {
      await pg.close();
    },
  };
}

function lastRows<T>(results: { rows: unknown[] }[]): T[] {
  return (results[results.length - 1]?.rows ?? []) as T[];
}
