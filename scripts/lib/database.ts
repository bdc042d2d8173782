// Opens the local database: DATABASE_URL (a real Postgres) when set,
// otherwise embedded PGlite persisted under .data/ (or in memory).
import { mkdirSync } from 'node:fs';
import { connectTimeoutFromEnv } from '../../functions/_shared/db/from_env.ts';
import { postgresClient, type SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { lockDataDir } from './data_dir_lock.ts';
import { pgliteClient } from './pglite_client.ts';

export interface OpenDatabase {
  client: SqlClient;
  description: string;
}

/** Where npm start and db:migrate keep the embedded database unless told otherwise. */
export const DEFAULT_DATA_DIR = '.data/pglite';

export async function openDatabase(options: { dataDir?: string | null } = {}): Promise<OpenDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const client = postgresClient(url, {
      connectTimeoutMs: connectTimeoutFromEnv(),
      onError: (err) => console.error(`database connection: ${err.message}`),
    });
    return { client, description: `Postgres ${redact(url)}` };
  }
  const dataDir = options.dataDir === undefined ? DEFAULT_DATA_DIR : options.dataDir;
  if (!dataDir) return { client: await pgliteClient(), description: 'embedded PGlite in memory' };
  mkdirSync(dataDir, { recursive: true });
  const release = lockDataDir(dataDir);
  try {
    const client = await pgliteClient(dataDir);
    return {
      client: { ...client, close: () => client.close().finally(release) },
      description: `embedded PGlite in ${dataDir}`,
    };
  } catch (err) {
    release();
    throw err;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
