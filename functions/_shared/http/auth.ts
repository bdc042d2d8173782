// Bearer-token authentication. Locally (and wherever SUPABASE_JWT_SECRET is
// known) tokens are verified as HS256; with AUTH_MODE=platform the Supabase
// gateway has verified them already (verify_jwt = true) and we only decode.
import type { MiddlewareHandler } from 'hono';
import { decode, verify } from 'hono/jwt';
import { type Caller, type Claims, ROLES } from '../db/port.ts';
import { Problem } from './problem.ts';

export interface AuthOptions {
  secret: string;
  mode: 'verify' | 'platform';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function callerFromHeader(header: string | undefined, options: AuthOptions): Promise<Caller> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new Problem(401, 'missing bearer token: send Authorization: Bearer <JWT>');
  const token = match[1]!;
  let payload: Record<string, unknown>;
  try {
    payload = options.mode === 'platform'
      ? decode(token).payload as Record<string, unknown>
      : await verify(token, options.secret, 'HS256') as Record<string, unknown>;
  } catch {
    throw new Problem(401, 'invalid or expired token');
  }
  const role = payload.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new Problem(401, 'token role must be anon, authenticated or service_role');
  }
  if (role === 'authenticated' && (typeof payload.sub !== 'string' || !UUID.test(payload.sub))) {
    throw new Problem(401, 'an authenticated token needs a uuid sub claim');
  }
  return { claims: payload as Claims, token };
}

export function requireCaller(options: AuthOptions): MiddlewareHandler {
  return async (c, next) => {
    c.set('caller', await callerFromHeader(c.req.header('authorization'), options));
    await next();
  };
}
