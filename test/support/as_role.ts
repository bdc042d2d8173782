// Runs SQL as PostgREST would for a request: role and claims set locally in a
// transaction. What a front end calling supabase.from(...) directly can do.
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';
import type { Role } from '../../functions/_shared/db/port.ts';

export async function asRole<T = Record<string, unknown>>(
  client: SqlClient, role: Role, sub: string | null, sql: string, params: unknown[] = [],
): Promise<T[]> {
  return client.transaction(async (tx) => {
    await tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`,
      [role, JSON.stringify(sub ? { role, sub } : { role })]);
    return tx.query<T>(sql, params);
  });
}
