// Chooses the database adapter for a deployed function from its environment.
//   DB_ADAPTER=sql|supabase forces one.
//   Otherwise: DATABASE_URL -> sql over postgres.js; SUPABASE_URL + SUPABASE_ANON_KEY
//   (set by the Supabase edge runtime) -> supabase-js; SUPABASE_DB_URL -> sql.
import { readEnv } from '../env.ts';
import type { Db } from './port.ts';
import { sqlAdapter } from './sql_adapter.ts';
import { postgresClient } from './sql_client.ts';
import { supabaseAdapter } from './supabase_adapter.ts';

export function dbFromEnv(): Db {
  const forced = readEnv('DB_ADAPTER');
  const databaseUrl = readEnv('DATABASE_URL');
  const supabaseUrl = readEnv('SUPABASE_URL');
  const anonKey = readEnv('SUPABASE_ANON_KEY');
  const prepare = readEnv('DATABASE_PREPARE') !== 'false';

  if (forced === 'supabase' || (!forced && !databaseUrl && supabaseUrl && anonKey)) {
    if (!supabaseUrl || !anonKey) throw new Error('DB_ADAPTER=supabase needs SUPABASE_URL and SUPABASE_ANON_KEY');
    return supabaseAdapter({ url: supabaseUrl, anonKey });
  }
  const url = databaseUrl ?? readEnv('SUPABASE_DB_URL');
  if (!url) throw new Error('no database configured: set DATABASE_URL, or SUPABASE_URL and SUPABASE_ANON_KEY');
  return sqlAdapter(postgresClient(url, {
    prepare,
    max: Number(readEnv('DATABASE_POOL_SIZE') ?? 5),
    connectTimeoutMs: connectTimeoutFromEnv(),
    onError: (err) => console.error(JSON.stringify({ level: 'warn', message: `database connection: ${err.message}` })),
  }));
}

/** DATABASE_CONNECT_TIMEOUT_MS: how long a request waits for a connection (5 s unless set). */
export function connectTimeoutFromEnv(): number | undefined {
  const ms = readEnv('DATABASE_CONNECT_TIMEOUT_MS');
  return ms === undefined ? undefined : Number(ms);
}
