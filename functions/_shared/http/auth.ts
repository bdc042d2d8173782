// Bearer-token authentication. Locally (and wherever a JWT secret is
// configured) tokens are verified as HS256; with AUTH_MODE=platform the
// Supabase gateway has verified them already (verify_jwt = true) and we only
// decode. Either way a token must carry `exp` and be inside its validity
// window, as Supabase's own gateway requires.
import type { MiddlewareHandler } from 'hono';
import { decode, verify } from 'hono/jwt';
import { type Caller, type Claims, ROLES } from '../db/port.ts';
import { LOCAL_JWT_SECRET, onSupabaseRuntime, readEnv } from '../env.ts';
import { Problem } from './problem.ts';

export interface AuthOptions {
  secret: string;
  mode: 'verify' | 'platform';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The configured HS256 secret: SUPABASE_JWT_SECRET locally, JWT_SECRET on a
 * deployed function (`supabase secrets set` refuses names starting with SUPABASE_).
 */
export function configuredJwtSecret(): string | undefined {
  return readEnv('SUPABASE_JWT_SECRET') ?? readEnv('JWT_SECRET');
}

export const UNCONFIGURED_ON_SUPABASE = 'authentication is not configured: on Supabase this function never trusts the public local ' +
  'development secret. Set AUTH_MODE=platform (and keep verify_jwt = true for it in supabase/config.toml), or set JWT_SECRET ' +
  "to the project's JWT secret: npx supabase secrets set AUTH_MODE=platform";

/**
 * How this deployment verifies tokens (explicit options win over the
 * environment), or the problem to answer when it cannot: an unknown
 * AUTH_MODE, or Supabase's runtime with neither AUTH_MODE=platform nor a secret.
 */
export function authFromEnv(given: Partial<AuthOptions> = {}): AuthOptions | Problem {
  const modeSetting = readEnv('AUTH_MODE');
  if (!given.mode && modeSetting !== undefined && modeSetting !== 'verify' && modeSetting !== 'platform') {
    return new Problem(500, `AUTH_MODE must be verify or platform, not ${JSON.stringify(modeSetting.slice(0, 40))}`);
  }
  const mode = given.mode ?? (modeSetting === 'platform' ? 'platform' : 'verify');
  const secret = given.secret ?? configuredJwtSecret();
  if (mode === 'verify' && secret === undefined && onSupabaseRuntime()) return new Problem(500, UNCONFIGURED_ON_SUPABASE);
  return { mode, secret: secret ?? LOCAL_JWT_SECRET };
}

/**
 * Payloads of tokens that passed tokenPayload, by the whole token. A token
 * that verified once verifies again (same text, same secret), so a client
 * reusing its token skips the HMAC (WebCrypto imports the key on every
 * verify: ~100 us). The validity window is still checked on every request.
 * Bounded: the oldest entry goes first.
 */
export class VerifiedTokens {
  readonly #payloads = new Map<string, Record<string, unknown>>();
  readonly capacity: number;
  constructor(capacity = 1000) {
    this.capacity = capacity;
  }
  get(token: string): Record<string, unknown> | undefined {
    return this.#payloads.get(token);
  }
  add(token: string, payload: Record<string, unknown>): void {
    if (this.#payloads.size >= this.capacity) this.#payloads.delete(this.#payloads.keys().next().value!);
    this.#payloads.set(token, payload);
  }
  get size(): number {
    return this.#payloads.size;
  }
}

export async function callerFromHeader(header: string | undefined, options: AuthOptions, verified?: VerifiedTokens): Promise<Caller> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new Problem(401, 'missing bearer token: send Authorization: Bearer <JWT>');
  const token = match[1]!;
  const known = verified?.get(token);
  const payload = known ?? Object.freeze(await tokenPayload(token, options));
  checkValidityWindow(payload);
  if (!known) {
    checkClaims(payload);
    verified?.add(token, payload);
  }
  return { claims: payload as Claims, token };
}

/** What a token must claim, whatever the time: a known role, and a uuid sub for a user. */
function checkClaims(payload: Record<string, unknown>): void {
  const role = payload.role;
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new Problem(401, 'token role must be anon, authenticated or service_role');
  }
  if (role === 'authenticated' && (typeof payload.sub !== 'string' || !UUID.test(payload.sub))) {
    throw new Problem(401, 'an authenticated token needs a uuid sub claim');
  }
}

export function requireCaller(options: AuthOptions): MiddlewareHandler {
  const verified = new VerifiedTokens();
  return async (c, next) => {
    c.set('caller', await callerFromHeader(c.req.header('authorization'), options, verified));
    await next();
  };
}

/** The token's claims: signature checked first (verify mode), times checked after, so a forged token learns nothing about them. */
async function tokenPayload(token: string, options: AuthOptions): Promise<Record<string, unknown>> {
  let payload: unknown;
  try {
    payload = options.mode === 'platform'
      ? decode(token).payload
      : await verify(token, options.secret, { alg: 'HS256', exp: false, nbf: false, iat: false });
  } catch (err) {
    throw new Problem(401, verificationFailure(err, token));
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new Problem(401, 'malformed token: its payload is not a JSON object');
  return payload as Record<string, unknown>;
}

/** What went wrong, in words that never repeat the token (hono's own messages do). */
function verificationFailure(err: unknown, token: string): string {
  const name = err instanceof Error ? err.name : '';
  if (name === 'JwtTokenSignatureMismatched') return 'invalid token signature';
  if (name === 'JwtAlgorithmMismatch') {
    // The header was checked to name a known algorithm before this error.
    const alg = String(decode(token).header.alg);
    return `invalid token signature: signed with ${alg}, but this function verifies HS256 with its JWT secret ` +
      '(with asymmetric signing keys, deploy with AUTH_MODE=platform)';
  }
  return 'malformed token: not a JWT (three base64url parts with a JSON header and payload)';
}

function checkValidityWindow(payload: Record<string, unknown>): void {
  const now = Math.floor(Date.now() / 1000);
  const { exp, nbf } = payload;
  if (exp === undefined) throw new Problem(401, 'token has no expiry: an exp claim is required');
  if (typeof exp !== 'number') throw new Problem(401, 'malformed token: exp is not a number');
  if (exp <= now) throw new Problem(401, 'token expired');
  if (nbf === undefined) return;
  if (typeof nbf !== 'number') throw new Problem(401, 'malformed token: nbf is not a number');
  if (nbf > now) throw new Problem(401, 'token not valid yet: its nbf (not before) is in the future');
}
