// Throwaway databases on the local PostgreSQL server, for the schema tools
// (db:diff, schema seeding): created with a unique name, dropped afterwards.
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

export async function createScratchDatabase(label: string, adminUrl = scratchAdminUrl()): Promise<ScratchDatabase> {
  const name = `scratch_${label}_${randomBytes(4).toString('hex')}`;
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
  const client = postgresClient(url.toString(), { max: 1 });
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
