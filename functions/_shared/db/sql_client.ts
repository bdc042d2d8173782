// A minimal SQL connection interface, implemented over postgres.js here and
// over embedded PGlite by the local server and tests (scripts/lib/pglite_client.ts).
import postgres from 'postgres';

export interface SqlClient {
  /** One statement with bound parameters; rows as objects. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters (simple protocol). */
  exec(text: string): Promise<void>;
  /** Runs fn inside one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PostgresClientOptions {
  /** Pool size. */
  max?: number;
  /** Named prepared statements; turn off behind a transaction-mode pooler. */
  prepare?: boolean;
}

export function postgresClient(url: string, options: PostgresClientOptions = {}): SqlClient {
  const prepare = options.prepare ?? true;
  const sql = postgres(url, {
    max: options.max ?? 10,
    prepare,
    onnotice: () => {},
    connection: { application_name: 'training-registry' },
  });
  const wrap = (run: postgres.Sql | postgres.TransactionSql): SqlClient => ({
    async query<T>(text: string, params: unknown[] = []) {
      const rows = await run.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare });
      return rows as unknown as T[];
    },
    async exec(text: string) {
      await run.unsafe(text);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if ('savepoint' in run) return fn(wrap(run));
      return (run as postgres.Sql).begin((tx) => fn(wrap(tx))) as Promise<T>;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  });
  return wrap(sql);
}
