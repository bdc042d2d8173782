// A reviewer: a user with a profile whose is_reviewer flag is set (written as
// the database owner, as an admin would), and a token for them.
import { mintToken } from '../../scripts/lib/tokens.ts';
import type { TestDatabase } from './database.ts';

export async function createReviewer(database: TestDatabase): Promise<{ id: string; token: string }> {
  const id = crypto.randomUUID();
  await database.client.query('insert into auth.users (id, email) values ($1, $2)', [id, `reviewer-${id}@example.com`]);
  await database.client.query('insert into public.user_profiles (id, display_name, is_reviewer) values ($1, $2, true)', [id, 'Reviewer']);
  return { id, token: await mintToken({ role: 'authenticated', sub: id }) };
}
