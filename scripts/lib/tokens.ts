// Local JWTs, signed HS256 with the configured (or local) secret, shaped like
// Supabase's. Every token has an exp: the functions refuse one without.
import { sign } from 'hono/jwt';
import { LOCAL_JWT_SECRET } from '../../functions/_shared/env.ts';
import { configuredJwtSecret } from '../../functions/_shared/http/auth.ts';
import type { Role } from '../../functions/_shared/db/port.ts';

export const DEMO_USER_ID = '00000000-0000-4000-8000-000000000001';
/** The demo reviewer (supabase/seed.sql): another user than the demo user, who owns the demo conversations. */
export const DEMO_REVIEWER_ID = '00000000-0000-4000-8000-000000000002';
/** The demo package (supabase/seed.sql), owned by the demo user. */
export const DEMO_PACKAGE_ID = '00000000-0000-4000-8000-0000000000a1';

export function jwtSecret(): string {
  return configuredJwtSecret() ?? LOCAL_JWT_SECRET;
}

export async function mintToken(options: { role: Role; sub?: string; ttlSeconds?: number; email?: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({
    iss: 'training-registry-local',
    aud: options.role === 'service_role' ? undefined : 'authenticated',
    role: options.role,
    ...(options.sub ? { sub: options.sub } : {}),
    ...(options.email ? { email: options.email } : {}),
    iat: now,
    exp: now + (options.ttlSeconds ?? 30 * 24 * 3600),
  }, jwtSecret(), 'HS256');
}
