// Throwaway databases on a PostgreSQL server, for the schema tools (db:diff,
// schema seeding) and the test harness (a database per test file): created
// with a unique name, dropped afterwards.
import { randomBytes } from 'node:crypto';
import { postgresClient, type SqlClient } from '../../functions/_shared/db/sql_client.ts';

/** The server to make scratch databases on: SCRATCH_DATABASE_URL, else DATABASE_URL, else the local server. */
export function scratchAdminUrl(): string {
  return process.env.SCRATCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export interface ScratchDatabase {
  url: string;
  client: SqlClient;
  drop(): Promise<void>;
}

export interface ScratchOptions {
  /** The server (default scratchAdminUrl()). */
  adminUrl?: string;
  /** The scratch database's pool size (default 1). */
  max?: number;
}

/** A database named `<prefix>_<random>`: the prefix says who made it, should one be left behind. */
export async function createScratchDatabase(prefix: string, options: ScratchOptions = {}): Promise<ScratchDatabase> {
  const adminUrl = options.adminUrl ?? scratchAdminUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgresClient(adminUrl, { max: 1 });
  try {
    await admin.exec(`create database ${name}`);
  } catch (err) {
    await admin.close();
    throw new Error(`cannot create a scratch database on ${adminUrl.replace(/:[^:@/]*@/, ':***@')}: ${(err as Error).message}` +
      ' (start the local PostgreSQL, or set SCRATCH_DATABASE_URL)');
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const client = postgresClient(url.toString(), { max: options.max ?? 1 });
  return {
    url: url.toString(),
    client,
    async drop() {
      await client.close();
      await admin.exec(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}
