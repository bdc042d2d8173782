// A minimal SQL connection interface, implemented over node-postgres (`pg`)
// here and over embedded PGlite by the local server and tests
// (scripts/lib/pglite_client.ts).
//
// Why pg and not postgres.js (docs/failure.md, bench/README.md
// "Driver"): postgres.js 3.4.x throws from a socket callback when a busy
// connection drops (`nextWrite` on a null socket, porsager/postgres #1154,
// #1208; fixes unreleased), and nothing can catch that but the process's
// uncaught-exception handler. pg reports a dropped connection as an error of
// the query on it, and as an 'error' event of the client or the pool, which
// this module always listens to: a failed backend costs the requests on it.
// pg ships no types of its own: Deno, resolving npm:pg without node_modules
// (the files supabase functions deploy uploads), takes them from @types/pg.
// @ts-types="npm:@types/pg@^8.23.1"
import pg from 'pg';

export interface TransactionOptions {
  /**
   * When it aborts, the transaction is abandoned: its connection is closed (so
   * it never commits, and PostgreSQL stops its work) and the call rejects with
   * the signal's reason.
   */
  signal?: AbortSignal;
  /** Only reads: the embedded database lets these through when its disk is nearly full. */
  readOnly?: boolean;
}

export interface SqlClient {
  /** One statement with bound parameters; rows as objects. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (simple protocol). */
  exec(text: string): Promise<void>;
  /** Runs fn inside one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * One call as one simple-protocol message of several statements (no
   * parameters: values are inlined as literals, see quoteLiteral in
   * sql_adapter.ts); resolves to the rows of its last statement. The message
   * must not contain BEGIN or COMMIT: the client owns the transaction.
   * - readOnly: the message is its own implicit transaction (an error anywhere
   *   rolls all of it back): one round trip.
   * - otherwise: the message is sent after BEGIN in the same message, and
   *   COMMIT follows only if the signal has not aborted: two round trips. A
   *   write's commit stays the client's decision, so an abandoned call (its
   *   connection closed) can never commit later (docs/failure.md).
   */
  call<T = Record<string, unknown>>(text: string, options?: TransactionOptions): Promise<T[]>;
  close(): Promise<void>;
}

export interface PostgresClientOptions {
  /** Pool size. */
  max?: number;
  /** Named prepared statements; turn off behind a transaction-mode pooler. */
  prepare?: boolean;
  /** How long to wait for a connection (a new one, or a free one of the pool); DATABASE_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Connection errors that no query was waiting for (an idle connection dropped): logged, never thrown. */
  onError?: (err: Error) => void;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

// Timestamps and dates as ISO text the way PostgreSQL prints them would differ
// by driver; every product query returns JSON built in SQL, so only the test
// helpers read typed columns. Keep pg's defaults (Date, int8 as text, numeric as text).

export function postgresClient(url: string, options: PostgresClientOptions = {}): SqlClient {
  const prepare = options.prepare ?? true;
  const onError = options.onError ?? (() => {});
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'training-registry',
  });
  // An idle connection that drops (backend terminated, server restarted) is
  // reported here; pg would otherwise rethrow it as an unhandled 'error'.
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('notice', () => {});
    // For the client's whole life, not only while it is idle in the pool or
    // in a transaction here: a backend terminated while the client is between
    // owners (released after a failure, being closed) still reports a FATAL
    // error, and an 'error' event nobody listens to kills the process.
    client.on('error', onError);
  });
  // A backend whose client went away (a request abandoned at its deadline
  // closes its connection) stops within a second, even inside a long
  // statement or a lock wait, instead of running on for nobody (PostgreSQL 14+;
  // elsewhere the setting is refused and the deadline's statement_timeout bounds it).
  const checked = new WeakSet<pg.PoolClient>();
  const prepareConnection = async (client: pg.PoolClient) => {
    if (checked.has(client)) return;
    checked.add(client);
    await client.query('set client_connection_check_interval = 1000').catch(() => {});
  };

  const statementNames = new Map<string, string>();
  const config = (text: string, raw: unknown[]): pg.QueryConfig => {
    const params = raw.map(param);
    if (!prepare || params.length === 0) return { text, values: params };
    let name = statementNames.get(text);
    if (!name) {
      name = `s${statementNames.size}`;
      statementNames.set(text, name);
    }
    return { name, text, values: params };
  };
  const on = (run: pg.Pool | pg.PoolClient): SqlClient => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await run.query(config(text, params))).rows as T[];
    },
    async exec(text: string) {
      await run.query(text);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>, txOptions?: TransactionOptions): Promise<T> {
      if (run !== pool) return fn(on(run));
      return transaction(fn, txOptions ?? {});
    },
    async call<T>(text: string, callOptions?: TransactionOptions): Promise<T[]> {
      // Inside a transaction already: the message joins it.
      if (run !== pool) return lastRows<T>(await run.query(text));
      return call<T>(text, callOptions ?? {});
    },
    close() {
      ended ??= pool.end();
      return ended;
    },
  });
  let ended: Promise<void> | undefined;

  async function transaction<T>(fn: (tx: SqlClient) => Promise<T>, { signal }: TransactionOptions): Promise<T> {
    return await session(signal, async (client, race) => {
      await race(client.query('begin'));
      const result = await race(fn(on(client)));
      signal?.throwIfAborted();
      await race(client.query('commit'));
      return result;
    }, true);
  }

  // Why one simple-protocol message (Query) and not the extended protocol's
  // Parse/Bind/Execute × 3 before one Sync: both are one round trip, but pg
  // exposes no pipelining of extended-protocol messages (it would mean driving
  // its private Connection directly), whereas a multi-statement Query is its
  // public query(text) with no values. Its price is that values are inlined as
  // quoted literals (quoteLiteral) and the call is planned each time (no
  // prepared statement); a call's plan is a function scan, cheap to plan.
  async function call<T>(text: string, { signal, readOnly }: TransactionOptions): Promise<T[]> {
    if (readOnly) {
      // Implicit transaction: nothing to commit, an error rolls back all of it.
      return await session(signal, async (client, race) => lastRows<T>(await race(client.query(text))), false);
    }
    return await session(signal, async (client, race) => {
      const rows = lastRows<T>(await race(client.query(`begin;\n${text}`)));
      signal?.throwIfAborted();
      await race(client.query('commit'));
      return rows;
    }, true);
  }

  /**
   * A pooled connection for one unit of work: given up (closed, so nothing it
   * began can commit) when the signal aborts; rolled back after a failure when
   * it may be inside a transaction (open).
   */
  async function session<T>(
    signal: AbortSignal | undefined,
    work: (client: pg.PoolClient, race: <R>(p: Promise<R>) => Promise<R>) => Promise<T>,
    open: boolean,
  ): Promise<T> {
    signal?.throwIfAborted();
    const client = await checkout(signal);
    await prepareConnection(client);
    let broken = false;
    // An error of the connection while it is ours: it goes back to the pool only to be closed.
    const onClientError = () => {
      broken = true;
    };
    client.on('error', onClientError);
    let abandon: () => void = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      abandon = () => {
        broken = true;
        // Closing the socket is the one cancellation that works whatever
        // state PostgreSQL is in (even stopped): an open transaction on a
        // closed connection is rolled back, and the backend stops at its next
        // check (client_connection_check_interval) or write.
        destroy(client);
        reject(signal!.reason);
      };
    });
    abandoned.catch(() => {});
    signal?.addEventListener('abort', abandon, { once: true });
    const race = <R>(p: Promise<R>) => (signal ? Promise.race([p, abandoned]) : p);
    try {
      return await work(client, race);
    } catch (err) {
      if (open && !broken) {
        await client.query('rollback').catch(() => { broken = true; });
      }
      // Outside a transaction there is no ROLLBACK to find out with: an error
      // that is not the server's answer to a statement, or a fatal one, means
      // the connection is gone (it must not go back to the pool).
      if (!open && (!(err instanceof pg.DatabaseError) || err.severity === 'FATAL' || err.severity === 'PANIC')) broken = true;
      throw signal?.aborted ? signal.reason : err;
    } finally {
      signal?.removeEventListener('abort', abandon);
      client.off('error', onClientError);
      client.release(broken ? true : undefined);
    }
  }

  // A connection from the pool, given up when the signal aborts first.
  async function checkout(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    const connecting = pool.connect();
    if (!signal) return await connecting;
    let onAbort: () => void = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([connecting, aborted]);
    } catch (err) {
      if (signal.aborted) connecting.then((c) => c.release(), () => {});
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  return on(pool);
}

/** The rows of a query's last statement (pg answers a multi-statement query with one result per statement). */
function lastRows<T>(result: pg.QueryResult | pg.QueryResult[]): T[] {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []) as T[];
}

// pg sends an array as a PostgreSQL array literal (right for `$1::text[]`);
// an array of objects can only mean JSON, which is what it becomes here.
function param(value: unknown): unknown {
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object' && !(v instanceof Date))) {
    return JSON.stringify(value);
  }
  return value;
}

function destroy(client: pg.PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  try {
    stream?.destroy();
  } catch {
    // already gone
  }
}

/** The promise, or the signal's reason as soon as it aborts (the promise goes on, unobserved). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
