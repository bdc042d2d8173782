// Roles are cluster-wide: create them once, before files make their own
// databases in parallel (concurrent CREATE ROLE would race).
import { postgresClient } from '../../functions/_shared/db/sql_client.ts';
import { applyLocalShim } from '../../scripts/lib/migrator.ts';

export default async function setup() {
  if (!process.env.DATABASE_URL) return;
  const client = postgresClient(process.env.DATABASE_URL, { max: 1 });
  try {
    await applyLocalShim(client);
  } finally {
    await client.close();
  }
}
