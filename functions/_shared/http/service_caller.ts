// The service role, for the steps a function vouches for itself rather than
// for its caller: a webhook delivery it has authenticated, an export whose
// size and checksum it computed. Supabase's service key when deployed (the
// edge runtime sets SUPABASE_SERVICE_ROLE_KEY), else a short-lived token
// signed with the JWT secret the local server verifies.
// On Supabase's runtime the public local secret is never used to sign one.
import { sign } from 'hono/jwt';
import type { Caller } from '../db/port.ts';
import { LOCAL_JWT_SECRET, onSupabaseRuntime, readEnv } from '../env.ts';
import { configuredJwtSecret } from './auth.ts';
import { Problem } from './problem.ts';

export async function serviceCaller(jwtSecret?: string): Promise<Caller> {
  const key = readEnv('SUPABASE_SERVICE_ROLE_KEY');
  if (key) return { claims: { role: 'service_role' }, token: key };
  const configured = jwtSecret ?? configuredJwtSecret();
  if (configured === undefined && onSupabaseRuntime()) {
    throw new Problem(500, 'no service-role credentials: SUPABASE_SERVICE_ROLE_KEY is unset, and on Supabase the public local ' +
      'secret is never used to sign; set JWT_SECRET to the project\'s JWT secret');
  }
  const now = Math.floor(Date.now() / 1000);
  return {
    claims: { role: 'service_role' },
    token: await sign({ role: 'service_role', iat: now, exp: now + 300 }, configured ?? LOCAL_JWT_SECRET, 'HS256'),
  };
}
