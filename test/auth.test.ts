// Bearer-token verification and the error table, independent of any route.
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { httpStatusForDbCode } from '../functions/_shared/db/status.ts';
import { callerFromHeader } from '../functions/_shared/http/auth.ts';
import { Problem } from '../functions/_shared/http/problem.ts';
import { LOCAL_JWT_SECRET } from '../functions/_shared/env.ts';

const verifyOpts = { secret: LOCAL_JWT_SECRET, mode: 'verify' as const };
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown>, secret = LOCAL_JWT_SECRET) => sign({ exp: now() + 60, ...claims }, secret, 'HS256');
const rejects401 = async (header: string | undefined) => {
  const err = await callerFromHeader(header, verifyOpts).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(Problem);
  expect((err as Problem).status).toBe(401);
};

describe('bearer tokens', () => {
  const sub = crypto.randomUUID();

  it('accepts a valid user token and exposes its claims', async () => {
    const caller = await callerFromHeader(`Bearer ${await token({ role: 'authenticated', sub })}`, verifyOpts);
    expect(caller.claims).toMatchObject({ role: 'authenticated', sub });
  });

  it('refuses missing, malformed, expired, foreign-signed and wrong-role tokens', async () => {
    await rejects401(undefined);
    await rejects401('Basic abc');
    await rejects401('Bearer');
    await rejects401('Bearer a.b.c');
    await rejects401(`Bearer ${await token({ role: 'authenticated', sub, exp: now() - 10 })}`);
    await rejects401(`Bearer ${await token({ role: 'authenticated', sub }, 'another-secret-another-secret-another-secret')}`);
    await rejects401(`Bearer ${await token({ role: 'postgres', sub })}`);
    await rejects401(`Bearer ${await token({ role: 'authenticated' })}`);
    await rejects401(`Bearer ${await token({ role: 'authenticated', sub: 'not-a-uuid' })}`);
  });

  it('in platform mode only decodes (the gateway verified the signature)', async () => {
    const foreign = await token({ role: 'service_role' }, 'another-secret-another-secret-another-secret');
    const caller = await callerFromHeader(`Bearer ${foreign}`, { secret: LOCAL_JWT_SECRET, mode: 'platform' });
    expect(caller.claims.role).toBe('service_role');
  });
});

describe("PostgREST's SQLSTATE -> HTTP table", () => {
  it.each([
    ['PT404', false, 404], ['PT409', false, 409], ['23505', false, 409], ['23503', false, 409],
    ['42501', false, 403], ['42501', true, 401], ['P0001', false, 400], ['23514', false, 400], ['23502', false, 400],
    ['22P02', false, 400], ['42883', false, 404], ['42P01', false, 404], ['25006', false, 405], ['08006', false, 503],
    ['53300', false, 503], ['53100', false, 503], ['57P01', false, 503], ['57P03', false, 503], ['57014', false, 503],
    ['40P01', false, 500], ['P0002', false, 500], ['XX000', false, 500], ['PGRST202', false, 404], ['PGRST301', false, 401],
  ])('%s (anonymous %s) -> %i', (code, anonymous, status) => {
    expect(httpStatusForDbCode(code as string, anonymous as boolean)).toBe(status);
  });
});

describe('connection failures a read may be retried after', () => {
  it('are class 08 and the server stopping or starting, never a statement error', async () => {
    const { isConnectionFailure } = await import('../functions/_shared/db/port.ts');
    expect(['08000', '08006', '57P01', '57P02', '57P03'].filter(isConnectionFailure)).toHaveLength(5);
    expect(['57014', '40P01', '23505', 'XX000', 'PT409'].filter(isConnectionFailure)).toEqual([]);
  });
});

describe('driver errors without a SQLSTATE', () => {
  it('are unavailable (08000) only when the connection is the problem', async () => {
    const { toDbError } = await import('../functions/_shared/db/port.ts');
    expect(toDbError(Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })).code).toBe('08000');
    expect(toDbError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })).code).toBe('08000');
    expect(toDbError(new Error('PGlite is closed')).code).toBe('08000');
    // pg's own words for a dropped connection, a connect timeout and a closed pool
    expect(toDbError(new Error('Connection terminated unexpectedly')).code).toBe('08000');
    expect(toDbError(new Error('timeout exceeded when trying to connect')).code).toBe('08000');
    expect(toDbError(new Error('Cannot use a pool after calling end on the pool')).code).toBe('08000');
    expect(toDbError(new TypeError("Cannot read properties of undefined (reading 'result')")).code).toBe('XX000');
    expect(toDbError(Object.assign(new Error('dup'), { code: '23505' })).code).toBe('23505');
  });
});
