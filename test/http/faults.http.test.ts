// What a client meets when the database is slow, locked, or left behind:
// deadlines answered 503 with Retry-After and never committed afterwards, a
// client that goes away cancels its database work, Idempotency-Key makes
// retries safe, and numbers are never silently changed. (The outage itself,
// backends killed and servers stopped, is scripts/faults/.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { usingRealServer } from '../support/database.ts';
import { ADAPTERS, createHarness, type Harness, json, WEBHOOK_TOKEN } from '../support/harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds the run's row lock (real server) or the embedded database itself (PGlite: one connection) until release(). */
async function holdRun(h: Harness, runId: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let held!: () => void;
  const holding = new Promise<void>((r) => { held = r; });
  const client = h.database.connect(1);
  const done = client.transaction(async (tx) => {
    await tx.query('select 1 from public.training_runs where run_id = $1 for update', [runId]);
    held();
    await gate;
  });
  await holding;
  return { release: async () => { release(); await done; } };
}

describe('deadlines and cancellation', () => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness('sql', { requestTimeoutMs: 1500 }); });
  afterAll(() => h.close());

  const create = async (id: string) => expect((await h.request('/runs', { method: 'POST', json: { run_id: id, config: {} } })).status).toBe(201);
  const status = async (id: string) => (await json(await h.request(`/runs/${id}`))).status;

  it('a request that cannot finish by its deadline answers 503 with Retry-After, and never commits afterwards', async () => {
    await create('deadline-1');
    const lock = await holdRun(h, 'deadline-1');
    // the lock goes after the deadline (1.5 s), whatever happens
    const released = sleep(3000).then(lock.release);
    const res = await h.request('/runs/deadline-1/status', { method: 'PATCH', json: { status: 'running' } });
    await released;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect((await json(res)).detail).toMatch(/did not finish within its deadline/);
    await sleep(200);
    expect(await status('deadline-1')).toBe('launched');
    // and the next request, with the database free again, goes through
    expect((await h.request('/runs/deadline-1/status', { method: 'PATCH', json: { status: 'running' } })).status).toBe(200);
  });

  it.runIf(usingRealServer)('a client that goes away cancels its database work', async () => {
    const slow = await createHarness('sql', { requestTimeoutMs: 60_000 });
    try {
      expect((await slow.request('/runs', { method: 'POST', json: { run_id: 'gone-1', config: {} } })).status).toBe(201);
      const lock = await holdRun(slow, 'gone-1');
      const waiting = () => slow.database.client.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      const client = new AbortController();
      const answer = slow.request('/runs/gone-1/status', { method: 'PATCH', json: { status: 'running' }, signal: client.signal });
      for (let i = 0; i < 100 && (await waiting())[0]!.n === 0; i++) await sleep(50);
      expect((await waiting())[0]!.n).toBe(1);
      client.abort();
      expect((await answer).status).toBe(503);
      // the backend that was waiting for the lock is gone (its connection closed), long before any deadline
      for (let i = 0; i < 100 && (await waiting())[0]!.n > 0; i++) await sleep(50);
      expect((await waiting())[0]!.n).toBe(0);
      await lock.release();
      expect((await json(await slow.request('/runs/gone-1'))).status).toBe('launched');
    } finally {
      await slow.close();
    }
  });
});

describe.each(ADAPTERS)('Idempotency-Key through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness(adapter); });
  afterAll(() => h.close());

  const createPackage = (name: string, key?: string, token?: string) => h.request('/packages', {
    method: 'POST', json: { name }, token, headers: key ? { 'idempotency-key': key } : {},
  });
  const count = async (name: string) => (await h.database.client.query<{ n: number }>(
    'select count(*)::int as n from public.training_configs where name = $1', [name]))[0]!.n;

  it('the same key and body answers the stored answer once more, without a second effect', async () => {
    const first = await createPackage(`idem-${adapter}`, `"key-${adapter}-1"`);
    expect(first.status).toBe(201);
    const again = await createPackage(`idem-${adapter}`, `"key-${adapter}-1"`);
    expect(again.status).toBe(201);
    expect(await json(again)).toEqual(await json(first));
    expect(await count(`idem-${adapter}`)).toBe(1);
    // without a key, the same body is a new package
    expect((await createPackage(`idem-${adapter}`)).status).toBe(201);
    expect(await count(`idem-${adapter}`)).toBe(2);
  });

  it('the same key with another body is 422; keys are per caller', async () => {
    await createPackage(`idem-a-${adapter}`, `key-${adapter}-2`);
    const other = await createPackage(`idem-b-${adapter}`, `key-${adapter}-2`);
    expect(other.status).toBe(422);
    expect((await json(other)).detail).toMatch(/different request/);
    expect(await count(`idem-b-${adapter}`)).toBe(0);
    // bob's key of the same name is his own
    expect((await createPackage(`idem-b-${adapter}`, `key-${adapter}-2`, h.tokens.bob)).status).toBe(201);
  });

  it('a failed request stores nothing: its retry runs again', async () => {
    const bad = await h.request('/runs/nope-never/status', { method: 'PATCH', json: { status: 'running' }, headers: { 'idempotency-key': `key-${adapter}-3` } });
    expect(bad.status).toBe(404);
    expect((await h.request('/runs', { method: 'POST', json: { run_id: `idem-run-${adapter}`, config: {} } })).status).toBe(201);
    // the same key, for a request that succeeds this time
    const moved = await h.request(`/runs/idem-run-${adapter}/status`, { method: 'PATCH', json: { status: 'running' }, headers: { 'idempotency-key': `key-${adapter}-3` } });
    expect(moved.status).toBe(200);
  });

  it('refuses a malformed key with 400', async () => {
    const res = await createPackage('idem-bad', 'x'.repeat(300));
    expect(res.status).toBe(400);
    expect((await json(res)).errors[0].path).toBe('Idempotency-Key');
  });

  it.runIf(usingRealServer)('a request whose key is still being processed answers 409', async () => {
    const other = h.database.connect(1);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let claimed!: () => void;
    const claiming = new Promise<void>((r) => { claimed = r; });
    // alice's first request, still in its transaction
    const first = other.transaction(async (tx) => {
      await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`,
        [JSON.stringify({ role: 'authenticated', sub: h.users.alice })]);
      await tx.query(`select public.idempotent_call($1, repeat('a', 64), 'packages_create', '{"p_name": "idem-busy"}')`, [`key-${adapter}-4`]);
      claimed();
      await gate;
    });
    await claiming;
    const res = await createPackage('idem-busy', `key-${adapter}-4`);
    release();
    await first;
    expect(res.status).toBe(409);
    expect((await json(res)).detail).toMatch(/still being processed/);
  });
});

describe('numbers are kept exactly or refused', () => {
  let h: Harness;
  beforeAll(async () => { h = await createHarness('sql'); });
  afterAll(() => h.close());

  const post = (raw: string) => h.request('/runs', { method: 'POST', body: raw, headers: { 'content-type': 'application/json' } });

  it('refuses non-finite and inexact numbers with a 400 naming the field, and stores nothing', async () => {
    const cases: [string, string][] = [
      ['{"run_id": "num-1", "config": {"lr": 1e400}}', 'config.lr'],
      ['{"run_id": "num-1", "config": {"training": {"steps": [1, 2, 9007199254740993]}}}', 'config.training.steps.2'],
      ['{"run_id": "num-1", "config": {"tiny": -1e-400}}', 'config.tiny'],
      ['{"run_id": "num-1", "config": {"x": 0.30000000000000000001}}', 'config.x'],
      ['{"run_id": "num-1", "config": {"a\\"b": 123456789012345678901234567890}}', 'config.a"b'],
    ];
    for (const [raw, path] of cases) {
      const res = await post(raw);
      expect(res.status, raw).toBe(400);
      const problem = await json(res);
      expect(problem.errors, raw).toEqual([{ path, message: expect.stringMatching(/out of range|cannot be stored exactly/) }]);
      expect(problem.detail, raw).toContain(path);
    }
    expect((await h.request('/runs/num-1')).status).toBe(404);
  });

  it('keeps every number a double holds exactly, as sent', async () => {
    const raw = '{"run_id": "num-2", "config": {"lr": 3e-4, "big": 9007199254740992, "neg": -2.5E+3, "pi": 3.141592653589793, "huge": 1e300, "zero": 0.0}}';
    expect((await post(raw)).status).toBe(201);
    const [row] = await h.database.client.query<{ config: string }>(`select config_json::text as config from public.training_runs where run_id = 'num-2'`);
    expect(JSON.parse(row!.config)).toEqual({ lr: 0.0003, big: 9007199254740992, neg: -2500, pi: 3.141592653589793, huge: 1e300, zero: 0 });
    expect(row!.config).toContain('9007199254740992');
  });

  it('the webhook refuses them too, and keeps the delivery as rejected', async () => {
    const raw = '{"run_id": "num-3", "state": "RUNNING", "summary": {"lr": 1e400}}';
    const res = await h.request('/wandb-webhook', { method: 'POST', token: null, body: raw,
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((await json(res)).errors[0].path).toBe('summary.lr');
    const rows = await asRole<{ outcome: string; error: string }>(h.database.client, 'service_role', null,
      `select outcome, error from public.webhook_deliveries where payload #>> '{}' like '%num-3%'`);
    expect(rows).toEqual([{ outcome: 'rejected', error: expect.stringMatching(/summary\.lr/) }]);
  });
});
