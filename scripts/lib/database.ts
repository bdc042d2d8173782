// Opens the local database: DATABASE_URL (a real Postgres) when set,
// otherwise embedded PGlite persisted under .data/ (or in memory).
import { mkdirSync } from 'node:fs';
import { connectTimeoutFromEnv } from '../../functions/_shared/db/from_env.ts';
import { postgresClient, type SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { pgliteClient } from './pglite_client.ts';

export interface OpenDatabase {
  client: SqlClient;
  description: string;
}

export async function openDatabase(options: { dataDir?: string | null } = {}): Promise<OpenDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const client = postgresClient(url, {
      connectTimeoutMs: connectTimeoutFromEnv(),
      onError: (err) => console.error(`database connection: ${err.message}`),
    });
    return { client, description: `Postgres ${redact(url)}` };
  }
  const dataDir = options.dataDir === undefined ? '.data/pglite' : options.dataDir;
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  return {
    client: await pgliteClient(dataDir ?? undefined),
    description: dataDir ? `embedded PGlite in ${dataDir}` : 'embedded PGlite in memory',
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
