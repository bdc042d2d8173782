// Bearer-token verification and the error table, independent of any route;
// how a function on Supabase's runtime refuses to run with the public local secret.
import { execFileSync, spawnSync } from 'node:child_process';
import { decode, sign } from 'hono/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../functions/_shared/db/port.ts';
import { httpStatusForDbCode } from '../../functions/_shared/db/status.ts';
import { type AuthOptions, authFromEnv, callerFromHeader, UNCONFIGURED_ON_SUPABASE, VerifiedTokens } from '../../functions/_shared/http/auth.ts';
import { createFunctionApp, type LogLine } from '../../functions/_shared/http/app.ts';
import { Problem } from '../../functions/_shared/http/problem.ts';
import { LOCAL_JWT_SECRET } from '../../functions/_shared/env.ts';
import { createWandbWebhookApp } from '../../functions/wandb-webhook/app.ts';
import { mintToken } from '../../scripts/lib/tokens.ts';

const verifyOpts: AuthOptions = { secret: LOCAL_JWT_SECRET, mode: 'verify' };
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown>, secret = LOCAL_JWT_SECRET) => sign({ exp: now() + 60, ...claims }, secret, 'HS256');
const rejects401 = async (header: string | undefined, options: AuthOptions = verifyOpts) => {
  const err = await callerFromHeader(header, options).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(Problem);
  expect((err as Problem).status).toBe(401);
  return (err as Problem).message;
};

describe('bearer tokens', () => {
  const sub = crypto.randomUUID();

  describe('tokens already verified (VerifiedTokens)', () => {
    afterEach(() => vi.useRealTimers());
    const rejectsWith = (header: string, verified: VerifiedTokens) =>
      callerFromHeader(header, verifyOpts, verified).then(() => 'accepted', (e: unknown) => (e as Problem).message);

    it('skip the signature check the second time but still check the validity window', async () => {
      const verified = new VerifiedTokens();
      const header = `Bearer ${await token({ role: 'authenticated', sub, exp: now() + 5 })}`;
      const first = await callerFromHeader(header, verifyOpts, verified);
      expect(verified.size).toBe(1);
      const subtle = vi.spyOn(crypto.subtle, 'verify');
      const again = await callerFromHeader(header, verifyOpts, verified);
      expect(subtle).not.toHaveBeenCalled();
      subtle.mockRestore();
      expect(again.claims).toEqual(first.claims);
      expect(Object.isFrozen(again.claims)).toBe(true);
      vi.useFakeTimers({ now: Date.now() + 10_000, toFake: ['Date'] });
      expect(await rejectsWith(header, verified)).toBe('token expired');
    });

    it('keep no token that failed, and no other text for the same claims', async () => {
      const verified = new VerifiedTokens();
      const wrongRole = `Bearer ${await token({ role: 'postgres', sub })}`;
      expect(await rejectsWith(wrongRole, verified)).toBe('token role must be anon, authenticated or service_role');
      expect(await rejectsWith(wrongRole, verified)).toBe('token role must be anon, authenticated or service_role');
      const good = await token({ role: 'authenticated', sub });
      await callerFromHeader(`Bearer ${good}`, verifyOpts, verified);
      const [h, p] = good.split('.');
      expect(await rejectsWith(`Bearer ${h}.${p}.${'A'.repeat(43)}`, verified)).toBe('invalid token signature');
      expect(verified.size).toBe(1);
    });

    it('hold at most their capacity, dropping the oldest', async () => {
      const verified = new VerifiedTokens(2);
      const tokens = await Promise.all([1, 2, 3].map((i) => token({ role: 'authenticated', sub, n: i })));
      for (const t of tokens) await callerFromHeader(`Bearer ${t}`, verifyOpts, verified);
      expect(verified.size).toBe(2);
      expect(verified.get(tokens[0]!)).toBeUndefined();
      expect(verified.get(tokens[2]!)).toMatchObject({ n: 3 });
    });
  });

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

  it('refuses a token without exp, and one whose nbf is in the future, in both modes (as Supabase\'s gateway does)', async () => {
    const noExp = await sign({ role: 'authenticated', sub }, LOCAL_JWT_SECRET, 'HS256');
    const notYet = await token({ role: 'authenticated', sub, nbf: now() + 600 });
    for (const options of [verifyOpts, { ...verifyOpts, mode: 'platform' as const }] satisfies AuthOptions[]) {
      expect(await rejects401(`Bearer ${noExp}`, options)).toBe('token has no expiry: an exp claim is required');
      expect(await rejects401(`Bearer ${notYet}`, options)).toBe('token not valid yet: its nbf (not before) is in the future');
    }
    const started = await callerFromHeader(`Bearer ${await token({ role: 'authenticated', sub, nbf: now() - 5 })}`, verifyOpts);
    expect(started.claims.sub).toBe(sub);
  });

  it('says which check failed, without repeating the token', async () => {
    const expired = await token({ role: 'authenticated', sub, exp: now() - 10 });
    const foreign = await token({ role: 'authenticated', sub }, 'another-secret-another-secret-another-secret');
    const es256 = `${btoa(JSON.stringify({ alg: 'ES256', typ: 'JWT' }))}.${expired.split('.')[1]}.c2ln`;
    const cases: [string, string | RegExp][] = [
      [expired, 'token expired'],
      [foreign, 'invalid token signature'],
      [es256.replace(/=/g, ''), /^invalid token signature: signed with ES256, but this function verifies HS256/],
      ['not.a.jwt', /^malformed token/],
      ['abc', /^malformed token/],
      [`${expired.split('.')[0]}.${btoa('null')}.${expired.split('.')[2]}`, /^(malformed token|invalid token signature)/],
      [await sign({ role: 'authenticated', sub, exp: 'tomorrow' as never }, LOCAL_JWT_SECRET, 'HS256'), 'malformed token: exp is not a number'],
    ];
    for (const [bad, expected] of cases) {
      const detail = await rejects401(`Bearer ${bad}`);
      expect(detail).toMatch(expected);
      for (const part of [bad, ...bad.split('.')].filter((p) => p.length > 8)) expect(detail).not.toContain(part);
    }
    // A forged token learns nothing about its claims: the signature is checked before the times.
    const forgedExpired = await token({ role: 'authenticated', sub, exp: now() - 10 }, 'another-secret-another-secret-another-secret');
    expect(await rejects401(`Bearer ${forgedExpired}`)).toBe('invalid token signature');
  });
});

describe('auth mode and the runtime', () => {
  afterEach(() => vi.unstubAllEnvs());
  const db: Db = { rpc: async <T>() => ({ ok: true }) as T, rpcText: async () => '{"ok":true}', close: async () => {} };
  const app = (logs: LogLine[]) => {
    const created = createFunctionApp('probe', { db, log: (l) => logs.push(l) }, { auth: 'jwt', title: 'probe' });
    created.get('/', (c) => c.json({ role: c.get('caller').claims.role }));
    return created;
  };
  const get = async (a: ReturnType<typeof app>, token?: string) =>
    a.request('/probe', token ? { headers: { authorization: `Bearer ${token}` } } : {});

  it('locally: the local secret, as before', async () => {
    const res = await get(app([]), await mintToken({ role: 'service_role' }));
    expect(res.status).toBe(200);
  });

  it.each([
    ['SB_EXECUTION_ID', '6f1b6a3c-4a51-4c1e-9d0f-6b2f2f8a9e11'],
    ['SUPABASE_URL', 'https://abcdefghijklmnopqrst.supabase.co'],
  ])('on Supabase (%s set) with neither AUTH_MODE=platform nor a secret: 500 saying what to set, logged once', async (name, value) => {
    vi.stubEnv(name, value);
    vi.stubEnv('SUPABASE_JWT_SECRET', '');
    vi.stubEnv('JWT_SECRET', '');
    vi.stubEnv('AUTH_MODE', '');
    const logs: LogLine[] = [];
    const probe = app(logs);
    const localToken = await mintToken({ role: 'service_role' });
    for (const token of [localToken, localToken, undefined]) {
      const res = await get(probe, token);
      expect(res.status).toBe(500);
      const problem = await res.json() as { detail: string };
      expect(problem.detail).toBe(UNCONFIGURED_ON_SUPABASE);
      expect(problem.detail).toContain('AUTH_MODE=platform');
      expect(problem.detail).toContain('JWT_SECRET');
    }
    expect(logs.filter((l) => l.error === UNCONFIGURED_ON_SUPABASE && l.request_id === undefined)).toHaveLength(1);
    // The OpenAPI document and the API reference stay readable.
    expect((await probe.request('/probe/openapi.json')).status).toBe(200);
    // The webhook does not sign with the local secret there either.
    const hook = createWandbWebhookApp({ db, wandb: { token: 't' } });
    const delivery = await hook.request('/wandb-webhook', { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{}' });
    expect(delivery.status).toBe(500);
  });

  it('on Supabase, AUTH_MODE=platform decodes and JWT_SECRET verifies (and then the local secret is refused)', async () => {
    vi.stubEnv('SB_EXECUTION_ID', 'e1');
    vi.stubEnv('AUTH_MODE', 'platform');
    expect(authFromEnv()).toEqual({ mode: 'platform', secret: LOCAL_JWT_SECRET });
    expect((await get(app([]), await mintToken({ role: 'service_role' }))).status).toBe(200);

    vi.stubEnv('AUTH_MODE', '');
    const projectSecret = 'the-projects-own-secret-with-at-least-32-characters';
    vi.stubEnv('JWT_SECRET', projectSecret);
    const probe = app([]);
    const local = await get(probe, await sign({ role: 'service_role', exp: now() + 60 }, LOCAL_JWT_SECRET, 'HS256'));
    expect(local.status).toBe(401);
    expect((await local.json() as { detail: string }).detail).toBe('invalid token signature');
    expect((await get(probe, await sign({ role: 'service_role', exp: now() + 60 }, projectSecret, 'HS256'))).status).toBe(200);
  });

  it('an unknown AUTH_MODE is a configuration error, not a silent fallback', async () => {
    vi.stubEnv('AUTH_MODE', 'platfrom');
    const res = await get(app([]), await mintToken({ role: 'service_role' }));
    expect(res.status).toBe(500);
    expect((await res.json() as { detail: string }).detail).toBe('AUTH_MODE must be verify or platform, not "platfrom"');
  });
});

describe('npm run token', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['scripts/token.ts', ...args], { encoding: 'utf8' });

  it('mints tokens with an exp (the functions refuse tokens without one)', () => {
    const minted = execFileSync(process.execPath, ['scripts/token.ts', '--role', 'service_role', '--ttl', '120'], { encoding: 'utf8' }).trim();
    const { payload } = decode(minted);
    expect(payload.role).toBe('service_role');
    expect(Number(payload.exp) - now()).toBeGreaterThan(100);
    expect(Number(payload.exp) - now()).toBeLessThanOrEqual(120);
  });

  it('refuses a lifetime that would leave exp out or in the past', () => {
    for (const ttl of ['0', '-5', 'soon']) {
      const result = run('--role', 'service_role', `--ttl=${ttl}`);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('--ttl must be a positive number of seconds');
    }
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
    const { isConnectionFailure } = await import('../../functions/_shared/db/port.ts');
    expect(['08000', '08006', '57P01', '57P02', '57P03'].filter(isConnectionFailure)).toHaveLength(5);
    expect(['57014', '40P01', '23505', 'XX000', 'PT409'].filter(isConnectionFailure)).toEqual([]);
  });
});

describe('driver errors without a SQLSTATE', () => {
  it('are unavailable (08000) only when the connection is the problem', async () => {
    const { toDbError } = await import('../../functions/_shared/db/port.ts');
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
