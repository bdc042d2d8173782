// Issue 18, runs: per-gradient-method analytics (GET /runs/analytics/gradient-methods)
// and a run's free-form metadata (POST /runs, PATCH /runs/:run_id, the filter
// language's metadata.<path>), through both adapters; then the same rules from
// outside, as each role directly on the table and the SQL functions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';

let seq = 0;
const newId = (prefix = 'ana') => `${prefix}_${Date.now().toString(36)}_${seq++}`;

/** percentile_cont: linear interpolation between the two nearest ranks (an independent oracle). */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

type Spec = { method: string | null; status: string; duration?: number };

describe.each(ADAPTERS)('runs analytics and metadata through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter);
  });
  afterAll(() => h.close());

  const create = (body: Record<string, unknown>, token?: string) => h.request('/runs', { method: 'POST', json: body, token });
  const patch = (run_id: string, body: unknown, token?: string) =>
    h.request(`/runs/${run_id}`, { method: 'PATCH', json: body, token });
  const stats = (query: Record<string, string> = {}, token?: string) =>
    h.request(`/runs/analytics/gradient-methods?${new URLSearchParams(query)}`, { token });

  /** Creates runs from specs (status reached through the lifecycle), each tagged with `tag` in its metadata. */
  async function seed(tag: string, specs: Spec[]) {
    for (const s of specs) {
      const run_id = newId();
      const config = s.method === null ? { training: {} } : { training: { gradient_method: s.method } };
      expect((await create({ run_id, config, metadata: { tag } })).status).toBe(201);
      if (s.status !== 'launched') {
        const res = await h.request(`/runs/${run_id}/status`, {
          method: 'PATCH', json: { status: s.status, ...(s.duration === undefined ? {} : { duration_seconds: s.duration }) },
        });
        expect(res.status).toBe(200);
      }
    }
  }

  /** What the route must answer for these specs, computed here. */
  function expected(specs: Spec[]) {
    const byMethod = new Map<string | null, Spec[]>();
    for (const s of specs) byMethod.set(s.method, [...(byMethod.get(s.method) ?? []), s]);
    return [...byMethod.entries()]
      .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0))
      .map(([method, runs]) => {
        const count = (st: string) => runs.filter((r) => r.status === st).length;
        const finished = count('completed') + count('failed') + count('crashed');
        const durations = runs.filter((r) => r.status === 'completed' && r.duration !== undefined).map((r) => r.duration!);
        return {
          gradient_method: method, runs: runs.length, completed: count('completed'), failed: count('failed'),
          crashed: count('crashed'), active: count('launched') + count('running'),
          success_rate: finished === 0 ? null : Math.round((count('completed') / finished) * 10000) / 10000,
          mean_duration_seconds: durations.length === 0 ? null : durations.reduce((a, b) => a + b, 0) / durations.length,
          p50_duration_seconds: percentile(durations, 0.5), p90_duration_seconds: percentile(durations, 0.9),
        };
      });
  }

  const close = (actual: any[], wanted: any[]) => {
    expect(actual.map((m) => m.gradient_method)).toEqual(wanted.map((m) => m.gradient_method));
    for (const [i, w] of wanted.entries()) {
      const a = actual[i];
      for (const [k, v] of Object.entries(w)) {
        if (typeof v === 'number' && !Number.isInteger(v)) expect(a[k], `${w.gradient_method}.${k}`).toBeCloseTo(v, 9);
        else expect(a[k], `${w.gradient_method}.${k}`).toEqual(v);
      }
    }
  };

  describe('GET /runs/analytics/gradient-methods', () => {
    const tag = `cmp-${adapter}`;
    const specs: Spec[] = [
      { method: 'mgda', status: 'completed', duration: 3600 }, { method: 'mgda', status: 'completed', duration: 7200 },
      { method: 'mgda', status: 'completed', duration: 5400 }, { method: 'mgda', status: 'crashed' },
      { method: 'mgda', status: 'running' },
      { method: 'pcgrad', status: 'completed', duration: 1000 }, { method: 'pcgrad', status: 'failed' },
      { method: 'imtlg', status: 'crashed' }, { method: 'imtlg', status: 'launched' },
      { method: 'aligned_mtl', status: 'launched' },
      { method: null, status: 'completed', duration: 60 },
    ];
    beforeAll(async () => {
      await seed(tag, specs);
    });

    it('answers per method what the runs say, computed independently', async () => {
      const res = await stats({ filter: `metadata.tag = '${tag}'` });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({ created_after: null, created_before: null });
      close(body.methods, expected(specs));
      // the seed's own numbers: 3 of 4 finished mgda runs completed, mean 1.5 h
      expect(body.methods.find((m: any) => m.gradient_method === 'mgda')).toMatchObject({
        runs: 5, completed: 3, crashed: 1, success_rate: 0.75, mean_duration_seconds: 5400, p50_duration_seconds: 5400,
      });
    });

    it('is honest on empty sets: no finished run, no completed duration, no runs at all', async () => {
      const body = await json(await stats({ filter: `metadata.tag = '${tag}' AND gradient_method IN ('aligned_mtl', 'imtlg')` }));
      expect(body.methods).toEqual([
        { gradient_method: 'aligned_mtl', runs: 1, completed: 0, failed: 0, crashed: 0, active: 1, success_rate: null,
          mean_duration_seconds: null, p50_duration_seconds: null, p90_duration_seconds: null },
        { gradient_method: 'imtlg', runs: 2, completed: 0, failed: 0, crashed: 1, active: 1, success_rate: 0,
          mean_duration_seconds: null, p50_duration_seconds: null, p90_duration_seconds: null },
      ]);
      expect((await json(await stats({ filter: `metadata.tag = 'nothing-has-this'` }))).methods).toEqual([]);
    });

    it('narrows by the filter language and by the time range', async () => {
      const completedOnly = await json(await stats({ filter: `metadata.tag = '${tag}' AND status = 'completed'` }));
      close(completedOnly.methods, expected(specs.filter((s) => s.status === 'completed')));
      const future = new Date(Date.now() + 3600_000).toISOString();
      const past = '2000-01-01T00:00:00Z';
      const later = await json(await stats({ filter: `metadata.tag = '${tag}'`, created_after: future }));
      expect(later).toMatchObject({ methods: [] });
      expect(Date.parse(later.created_after)).toBe(Date.parse(future));
      expect((await json(await stats({ filter: `metadata.tag = '${tag}'`, created_before: past }))).methods).toEqual([]);
      close((await json(await stats({ filter: `metadata.tag = '${tag}'`, created_after: past, created_before: future }))).methods,
        expected(specs));
    });

    it('counts what the caller may read, and nothing for anon', async () => {
      // Runs are the team's shared record: bob's view equals alice's; the service role sees the same.
      const alice = await json(await stats({ filter: `metadata.tag = '${tag}'` }));
      expect(await json(await stats({ filter: `metadata.tag = '${tag}'` }, h.tokens.bob))).toEqual(alice);
      expect(await json(await stats({ filter: `metadata.tag = '${tag}'` }, h.tokens.service))).toEqual(alice);
      expect((await stats({}, h.tokens.anon)).status).toBe(401);
      expect((await stats({}, null as unknown as string)).status).toBe(401);
    });

    it('refuses bad input with the parameter named', async () => {
      const bad = await stats({ filter: "status = 'completed' AND" });
      expect(bad.status).toBe(400);
      expect((await json(bad)).errors[0]).toMatchObject({ path: 'filter' });
      const badTime = await stats({ created_after: 'yesterday' });
      expect(badTime.status).toBe(400);
      expect((await json(badTime)).errors[0].path).toBe('created_after');
      const unknown = await stats({ gradient_method: 'mgda' });
      expect(unknown.status).toBe(400);
      expect((await json(unknown)).detail).toContain('gradient_method');
      const typed = await stats({ filter: 'batch_size = \'big\'' });
      expect(typed.status).toBe(400);
    });

    it('is not taken for a run: a run called analytics is still GET /runs/analytics', async () => {
      expect((await h.request('/runs/analytics')).status).toBe(404);
      expect((await create({ run_id: 'analytics', config: {} })).status).toBe(201);
      expect((await json(await h.request('/runs/analytics'))).run_id).toBe('analytics');
      expect((await stats({ filter: "run_id = 'analytics'" })).status).toBe(200);
      expect((await json(await stats({ filter: "run_id = 'analytics'" }))).methods).toEqual([
        expect.objectContaining({ gradient_method: null, runs: 1, active: 1 }),
      ]);
    });
  });

  describe('metadata', () => {
    it('is stored at launch and answered with the run; null or absent is none', async () => {
      const run_id = newId('meta');
      const created = await json(await create({ run_id, config: {}, metadata: { ticket: 'ML-1', owner: { team: 'rl' } } }));
      expect(created.metadata).toEqual({ ticket: 'ML-1', owner: { team: 'rl' } });
      expect((await json(await h.request(`/runs/${run_id}`))).metadata).toEqual(created.metadata);
      const none = newId('meta');
      expect((await json(await create({ run_id: none, config: {}, metadata: null }))).metadata).toBeNull();
      expect((await json(await create({ run_id: newId('meta'), config: {} }))).metadata).toBeNull();
    });

    it('takes part in the retry check: the same metadata is the same launch, other metadata a conflict', async () => {
      const run_id = newId('meta');
      const body = { run_id, config: {}, metadata: { a: 1 } };
      expect((await create(body)).status).toBe(201);
      expect((await create(body)).status).toBe(200);
      expect((await create({ run_id, config: {} })).status).toBe(200);
      expect((await create({ ...body, metadata: { a: 2 } })).status).toBe(409);
    });

    it('must be an object of at most 64 kB and 32 levels', async () => {
      for (const metadata of [[1], 'text', 5, true]) {
        const res = await create({ run_id: newId('meta'), config: {}, metadata });
        expect(res.status, JSON.stringify(metadata)).toBe(400);
        expect((await json(res)).errors[0].path).toBe('metadata');
      }
      const big = await create({ run_id: newId('meta'), config: {}, metadata: { blob: 'x'.repeat(70_000) } });
      expect(big.status).toBe(400);
      expect((await json(big)).errors[0]).toMatchObject({ path: 'metadata', message: expect.stringContaining('64 kB') });
      let deep: unknown = 1;
      for (let i = 0; i < 40; i++) deep = { d: deep };
      const tooDeep = await create({ run_id: newId('meta'), config: {}, metadata: deep });
      expect(tooDeep.status).toBe(400);
    });

    it('PATCH merges (RFC 7396), removes keys set to null, and clears with null', async () => {
      const run_id = newId('meta');
      await create({ run_id, config: {}, metadata: { ticket: 'ML-1', notes: { a: 1, b: 2 }, tags: ['x'] } });
      const merged = await patch(run_id, { metadata: { notes: { b: null, c: 3 }, tags: ['y'], reviewed: true, ticket: null } });
      expect(merged.status).toBe(200);
      const run = await json(merged);
      expect(run.metadata).toEqual({ notes: { a: 1, c: 3 }, tags: ['y'], reviewed: true });
      expect(run.updated_at_db >= run.created_at_db).toBe(true);
      const again = await json(await patch(run_id, { metadata: { reviewed: true } }));
      expect(again.metadata).toEqual(run.metadata);
      expect(again.updated_at_db).toBe(run.updated_at_db); // nothing changed, nothing written
      const cleared = await json(await patch(run_id, { metadata: null }));
      expect(cleared.metadata).toBeNull();
      expect((await json(await patch(run_id, { metadata: { fresh: 1 } }))).metadata).toEqual({ fresh: 1 });
    });

    it('PATCH refuses bad bodies, unknown runs and other users\' runs, changing nothing', async () => {
      const run_id = newId('meta');
      await create({ run_id, config: {}, metadata: { keep: 1 } });
      const cases: [unknown, number][] = [
        [{}, 400], [{ metadata: [1] }, 400], [{ metadata: 'x' }, 400], [{ metadata: {}, status: 'running' }, 400],
        [{ metadata: { blob: 'x'.repeat(70_000) } }, 400],
      ];
      for (const [body, status] of cases) {
        const res = await patch(run_id, body);
        expect(res.status, JSON.stringify(body).slice(0, 50)).toBe(status);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
      }
      const malformed = await h.request(`/runs/${run_id}`, { method: 'PATCH', body: '{"metadata":', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect((await patch(newId('missing'), { metadata: { a: 1 } })).status).toBe(404);
      expect((await patch(run_id, { metadata: { a: 1 } }, h.tokens.bob)).status).toBe(403);
      expect((await patch(run_id, { metadata: { a: 1 } }, h.tokens.anon)).status).toBe(401);
      expect((await json(await h.request(`/runs/${run_id}`))).metadata).toEqual({ keep: 1 });
      // the service role may (launch scripts and tools act for the team)
      expect((await json(await patch(run_id, { metadata: { by: 'service' } }, h.tokens.service))).metadata)
        .toEqual({ keep: 1, by: 'service' });
    });

    it('two PATCHes racing on one run both land (merged under the row lock)', async () => {
      const run_id = newId('meta');
      await create({ run_id, config: {} });
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => patch(run_id, { metadata: { [`k${i}`]: i } })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect((await json(await h.request(`/runs/${run_id}`))).metadata).toEqual({ k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
    });

    it('is searchable and orderable with metadata.<path>', async () => {
      const tag = `search-${adapter}`;
      const ids = [newId('meta'), newId('meta'), newId('meta')];
      await create({ run_id: ids[0]!, config: {}, metadata: { tag, score: 3, tags: ['a', 'b'], 'odd/key': 'yes' } });
      await create({ run_id: ids[1]!, config: {}, metadata: { tag, score: 7, reviewed: true } });
      await create({ run_id: ids[2]!, config: {}, metadata: { tag, score: null } });
      const list = async (filter: string, order_by?: string) => {
        const res = await h.request(`/runs?${new URLSearchParams({ filter: `metadata.tag = '${tag}' AND (${filter})`, ...(order_by ? { order_by } : {}) })}`);
        expect(res.status, filter).toBe(200);
        return (await json(res)).items.map((r: { run_id: string }) => r.run_id);
      };
      expect(await list('metadata.score > 5')).toEqual([ids[1]]);
      expect(await list("metadata.tags.0 = 'a'")).toEqual([ids[0]]);
      expect(await list('metadata.reviewed = true')).toEqual([ids[1]]);
      expect(await list('metadata.score IS NULL')).toEqual([ids[2]]);
      expect(await list("metadata.`odd/key` = 'yes'")).toEqual([ids[0]]);
      expect(await list("metadata.tag LIKE 'search-%'", 'metadata.score DESC')).toEqual([ids[1], ids[0], ids[2]]);
      const bad = await h.request(`/runs?${new URLSearchParams({ filter: 'metadata = 1' })}`);
      expect(bad.status).toBe(400);
      expect((await json(bad)).detail).toContain('metadata.<path>');
      const longPath = `metadata.${Array.from({ length: 33 }, (_, i) => `k${i}`).join('.')} = 1`;
      expect((await h.request(`/runs?${new URLSearchParams({ filter: longPath })}`)).status).toBe(400);
    });
  });
});

describe('runs metadata and analytics: the rules from outside, as each role', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());
  const as = <T = Record<string, any>>(role: 'anon' | 'authenticated' | 'service_role', sub: string | null, sql: string, params: unknown[] = []) =>
    asRole<T>(h.database.client, role, sub, sql, params);

  it('the owner writes metadata through the table API; another user and anon cannot', async () => {
    const run_id = newId('tbl');
    await as('authenticated', h.users.alice, `insert into public.training_runs (run_id, config_json, metadata) values ($1, '{}', '{"a": 1}')`, [run_id]);
    expect(await as('authenticated', h.users.alice, `update public.training_runs set metadata = '{"b": 2}' where run_id = $1 returning metadata`, [run_id]))
      .toEqual([{ metadata: { b: 2 } }]);
    expect(await as('authenticated', h.users.bob, `update public.training_runs set metadata = '{"x": 1}' where run_id = $1 returning run_id`, [run_id]))
      .toEqual([]);
    await expect(as('anon', null, `update public.training_runs set metadata = '{}' where run_id = $1`, [run_id])).rejects.toMatchObject({ code: '42501' });
    await expect(as('authenticated', h.users.bob, 'select public.runs_set_metadata($1, $2)', [run_id, { x: 1 }])).rejects.toMatchObject({ code: '42501' });
    expect(await as('service_role', null, 'select metadata from public.training_runs where run_id = $1', [run_id])).toEqual([{ metadata: { b: 2 } }]);
  });

  it('the database holds the shape and size for every role, the service role included', async () => {
    const run_id = newId('tbl');
    await as('authenticated', h.users.alice, `insert into public.training_runs (run_id, config_json) values ($1, '{}')`, [run_id]);
    const deep = `${'{"d": '.repeat(40)}1${'}'.repeat(40)}`;
    for (const role of ['authenticated', 'service_role'] as const) {
      const sub = role === 'authenticated' ? h.users.alice : null;
      for (const value of ['[1]', '"text"', '5', deep, JSON.stringify({ blob: 'x'.repeat(70_000) })]) {
        await expect(as(role, sub, `update public.training_runs set metadata = $2::jsonb where run_id = $1`, [run_id, value]),
          `${role} ${value.slice(0, 20)}`).rejects.toMatchObject({ code: '23514' });
      }
      await expect(as(role, sub, `insert into public.training_runs (run_id, config_json, metadata, created_by) values ($1, '{}', '[]', $2)`,
        [newId('tbl'), sub])).rejects.toMatchObject({ code: '23514' });
    }
    // and runs_set_metadata refuses what is not an object before merging
    for (const value of ['[1]', '"x"', deep]) {
      await expect(as('authenticated', h.users.alice, 'select public.runs_set_metadata($1, $2::jsonb)', [run_id, value]))
        .rejects.toMatchObject({ code: expect.stringMatching(/^(22023|23514)$/) });
    }
  });

  it('runs_gradient_method_stats is safe with any filter and callable by signed-in users only', async () => {
    await expect(as('anon', null, 'select public.runs_gradient_method_stats()')).rejects.toMatchObject({ code: '42501' });
    const ok = await as<{ s: any }>('authenticated', h.users.bob, 'select public.runs_gradient_method_stats() as s');
    expect(ok[0]!.s).toMatchObject({ methods: expect.any(Array) });
    for (const filter of [
      '"x"', '[]', '{"op": "cmp"}', '{"op": "cmp", "field": {"kind": "column", "name": "x; drop table t"}, "cmp": "=", "value": 1}',
      '{"op": "cmp", "field": {"kind": "metadata", "path": ["a"]}, "cmp": "; select", "value": 1}',
      JSON.stringify({ op: 'cmp', field: { kind: 'metadata', path: Array.from({ length: 33 }, () => 'k') }, cmp: '=', value: 1 }),
    ]) {
      await expect(as('authenticated', h.users.bob, 'select public.runs_gradient_method_stats($1::jsonb)', [filter]), filter)
        .rejects.toMatchObject({ code: '22023' });
    }
    // hostile text as a value is a value
    const value = await as<{ s: any }>('authenticated', h.users.bob, 'select public.runs_gradient_method_stats($1::jsonb) as s',
      [JSON.stringify({ op: 'cmp', field: { kind: 'metadata', path: ["'); drop table x; --"] }, cmp: '=', value: "'; drop" })]);
    expect(value[0]!.s.methods).toEqual([]);
  });
});
