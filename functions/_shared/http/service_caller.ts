// The service role, for the steps a function vouches for itself rather than
// for its caller: a webhook delivery it has authenticated, an export whose
// size and checksum it computed. Supabase's service key when deployed (the
// edge runtime sets SUPABASE_SERVICE_ROLE_KEY), else a short-lived token
// signed with the JWT secret the local server verifies.
import { sign } from 'hono/jwt';
import type { Caller } from '../db/port.ts';
import { LOCAL_JWT_SECRET, readEnv } from '../env.ts';

export async function serviceCaller(jwtSecret?: string): Promise<Caller> {
  const key = readEnv('SUPABASE_SERVICE_ROLE_KEY');
  if (key) return { claims: { role: 'service_role' }, token: key };
  const now = Math.floor(Date.now() / 1000);
  const secret = jwtSecret ?? readEnv('SUPABASE_JWT_SECRET') ?? LOCAL_JWT_SECRET;
  return { claims: { role: 'service_role' }, token: await sign({ role: 'service_role', iat: now, exp: now + 300 }, secret, 'HS256') };
}
