// Issue 18, packages: budget alerts. When a version's actual_cost reaches 0.8
// and 1.0 of its budget_limit the database records one alert per threshold
// and budget (a higher budget re-arms them) in cost_alerts_sent, which no
// client writes; GET /packages/:id/versions?over_budget= finds the versions
// at or over budget. Through both adapters, then from
// outside as each role directly on the table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';

type Alert = { threshold: number; actual_cost: number; budget_limit: number; sent_at: string };
const thresholds = (alerts: Alert[]) => alerts.map((a) => a.threshold);

describe.each(ADAPTERS)('budget alerts through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter);
  });
  afterAll(() => h.close());

  const post = (path: string, body?: unknown, token?: string) =>
    h.request(`/packages${path}`, { method: 'POST', ...(body === undefined ? {} : { json: body }), token });
  const train = (id: string, body: unknown, token?: string) =>
    h.request(`/packages/versions/${id}/training`, { method: 'PATCH', json: body, token });
  const versions = async (pkg: string, query: Record<string, string>, token?: string) =>
    h.request(`/packages/${pkg}/versions?${new URLSearchParams(query)}`, { token });
  const newPackage = async (token?: string) => (await json(await post('', { name: 'budgeted' }, token))).id as string;
  const newDraft = async (pkg: string, body: Record<string, unknown> = {}, token?: string) => {
    const res = await post(`/${pkg}/versions`, body, token);
    expect(res.status).toBe(201);
    return await json(res);
  };

  it('records 0.8 and 1.0 once each as actual_cost climbs, with the figures of the moment', async () => {
    const pkg = await newPackage();
    const v = await newDraft(pkg, { budget_limit: 100, estimated_cost: 90 });
    expect(v.cost_alerts_sent).toEqual([]);
    const step = async (actual_cost: number) => {
      const res = await train(v.id, { actual_cost });
      expect(res.status).toBe(200);
      return (await json(res)).cost_alerts_sent as Alert[];
    };
    expect(await step(50)).toEqual([]);
    expect(await step(79.99)).toEqual([]);
    const at80 = await step(80);
    expect(at80).toEqual([{ threshold: 0.8, actual_cost: 80, budget_limit: 100, sent_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) }]);
    expect(await step(95)).toEqual(at80);
    const at100 = await step(100);
    expect(thresholds(at100)).toEqual([0.8, 1]);
    expect(at100[0]).toEqual(at80[0]);
    expect(at100[1]).toMatchObject({ threshold: 1, actual_cost: 100, budget_limit: 100 });
    expect(await step(130)).toEqual(at100);
    // an alert was sent: it stays when the cost falls back or the budget grows
    expect(await step(10)).toEqual(at100);
    expect((await json(await train(v.id, { budget_limit: 1000 }))).cost_alerts_sent).toEqual(at100);
    expect((await json(await h.request(`/packages/versions/${v.id}`))).cost_alerts_sent).toEqual(at100);
    // a higher budget re-arms its thresholds: 0.8 of 1000 is a new alert, with the figures of the moment
    expect(await step(799)).toEqual(at100);
    const rearmed = await step(800);
    expect(rearmed.slice(0, 2)).toEqual(at100);
    expect(rearmed.slice(2)).toEqual([expect.objectContaining({ threshold: 0.8, actual_cost: 800, budget_limit: 1000 })]);
    // a lower budget does not repeat what a higher one already alerted
    expect((await json(await train(v.id, { budget_limit: 900 }))).cost_alerts_sent).toEqual(rearmed);
  });

  it('a jump past both thresholds records both; a version without a budget records none', async () => {
    const pkg = await newPackage();
    const v = await newDraft(pkg, { budget_limit: 10 });
    expect(thresholds((await json(await train(v.id, { actual_cost: 12.5 }))).cost_alerts_sent)).toEqual([0.8, 1]);
    const unbudgeted = await newDraft(pkg);
    expect((await json(await train(unbudgeted.id, { actual_cost: 1_000_000 }))).cost_alerts_sent).toEqual([]);
    // setting the budget afterwards under a cost already spent alerts at once
    expect(thresholds((await json(await train(unbudgeted.id, { budget_limit: 1_100_000 }))).cost_alerts_sent)).toEqual([0.8]);
  });

  it('alerts on published versions too (costs keep moving after publish)', async () => {
    const pkg = await newPackage();
    const v = await newDraft(pkg, { budget_limit: 40 });
    expect((await post(`/versions/${v.id}/publish`)).status).toBe(200);
    const after = await json(await train(v.id, { training_status: 'queued', actual_cost: 40 }));
    expect(after).toMatchObject({ status: 'published', training_status: 'queued' });
    expect(thresholds(after.cost_alerts_sent)).toEqual([0.8, 1]);
  });

  it('cost_alerts_sent is not accepted from clients', async () => {
    const pkg = await newPackage();
    const v = await newDraft(pkg, { budget_limit: 100 });
    const forged = await train(v.id, { cost_alerts_sent: [{ threshold: 0.8 }] });
    expect(forged.status).toBe(400);
    expect((await json(forged)).errors.map((e: { path: string }) => e.path)).toContain('');
    const created = await post(`/${pkg}/versions`, { budget_limit: 1, cost_alerts_sent: [] });
    expect(created.status).toBe(400);
    expect((await json(await h.request(`/packages/versions/${v.id}`))).cost_alerts_sent).toEqual([]);
  });

  it('two cost reports racing past 0.8 record it once', async () => {
    const pkg = await newPackage();
    const v = await newDraft(pkg, { budget_limit: 100 });
    const results = await Promise.all([85, 90, 95, 99].map((actual_cost) => train(v.id, { actual_cost })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(thresholds((await json(await h.request(`/packages/versions/${v.id}`))).cost_alerts_sent)).toEqual([0.8]);
  });

  it('GET /packages/:id/versions?over_budget= lists the versions at or over budget, or the others, with status and paging', async () => {
    const pkg = await newPackage();
    const make = async (budget_limit: number | null, actual_cost: number | null) => {
      const v = await newDraft(pkg, budget_limit === null ? {} : { budget_limit });
      if (actual_cost !== null) expect((await train(v.id, { actual_cost })).status).toBe(200);
      return v.version_number as number;
    };
    const over = [await make(100, 100), await make(50, 75), await make(0, 0)];
    const under = [await make(100, 99.99), await make(100, null), await make(null, 500), await make(null, null)];
    const numbers = async (query: Record<string, string>) => {
      const res = await versions(pkg, query);
      expect(res.status, JSON.stringify(query)).toBe(200);
      return (await json(res)).items.map((v: { version_number: number }) => v.version_number);
    };
    const desc = (xs: number[]) => [...xs].sort((a, b) => b - a);
    expect(await numbers({ over_budget: 'true' })).toEqual(desc(over));
    expect(await numbers({ over_budget: 'false' })).toEqual(desc(under));
    expect(await numbers({})).toEqual(desc([...over, ...under]));
    expect(await numbers({ over_budget: 'true', status: 'published' })).toEqual([]);
    expect(await numbers({ over_budget: 'true', status: 'draft' })).toEqual(desc(over));
    // pages of one: every over-budget version once, in order
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await json(await versions(pkg, { over_budget: 'true', limit: '1', ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((v: { version_number: number }) => v.version_number));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(desc(over));
    // bad input, another user's package, unknown package
    const bad = await versions(pkg, { over_budget: 'yes' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).errors[0].path).toBe('over_budget');
    expect((await versions(pkg, { over_budget: 'true' }, h.tokens.bob)).status).toBe(404);
    expect((await versions(crypto.randomUUID(), { over_budget: 'true' })).status).toBe(404);
    expect((await versions(pkg, { over_budget: 'true' }, h.tokens.anon)).status).toBe(401);
  });
});

describe('budget alerts: the rules from outside, as each role', () => {
  let h: Harness;
  let pkg: string;
  beforeAll(async () => {
    h = await createHarness('sql');
    pkg = (await asRole<{ id: string }>(h.database.client, 'authenticated', h.users.alice,
      `insert into public.training_configs (name) values ('direct') returning id`))[0]!.id;
  });
  afterAll(() => h.close());
  const asAlice = <T = Record<string, any>>(sql: string, params: unknown[] = []) =>
    asRole<T>(h.database.client, 'authenticated', h.users.alice, sql, params);
  const asService = <T = Record<string, any>>(sql: string, params: unknown[] = []) =>
    asRole<T>(h.database.client, 'service_role', null, sql, params);
  const draft = async (budget = 100) =>
    (await asAlice<{ id: string }>('insert into public.training_package_versions (package_id, budget_limit) values ($1, $2) returning id', [pkg, budget]))[0]!.id;
  const alerts = async (id: string) =>
    thresholds((await asService<{ a: Alert[] }>('select cost_alerts_sent as a from public.training_package_versions where id = $1', [id]))[0]!.a);

  it('a direct cost update by the owner records the alert; the owner cannot write or clear cost_alerts_sent', async () => {
    const id = await draft();
    expect(await asAlice('update public.training_package_versions set actual_cost = 85 where id = $1 returning id', [id])).toHaveLength(1);
    expect(await alerts(id)).toEqual([0.8]);
    await expect(asAlice(`update public.training_package_versions set cost_alerts_sent = '[]' where id = $1`, [id]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`update public.training_package_versions set cost_alerts_sent = '[{"threshold": 1}]', actual_cost = 1 where id = $1`, [id]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`insert into public.training_package_versions (package_id, cost_alerts_sent) values ($1, '[{"threshold": 1}]')`, [pkg]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`select public.packages_set_training($1, '{"cost_alerts_sent": []}')`, [id]))
      .rejects.toMatchObject({ code: '22023' });
    expect(await alerts(id)).toEqual([0.8]);
  });

  it('a higher budget re-arms the thresholds through the table too; a lower one repeats nothing already covered', async () => {
    const id = await draft(100);
    const set = (change: string) => asAlice(`update public.training_package_versions set ${change} where id = $1 returning id`, [id]);
    await set('actual_cost = 85');
    expect(await alerts(id)).toEqual([0.8]);
    await set('budget_limit = 200');
    expect(await alerts(id)).toEqual([0.8]);
    await set('actual_cost = 170');
    expect(await alerts(id)).toEqual([0.8, 0.8]);
    // 0.8 of 150 is covered by the alert at 200; 1.0 of 150 is reached for the first time
    await set('budget_limit = 150');
    expect(await alerts(id)).toEqual([0.8, 0.8, 1]);
    // the service role cannot suppress a re-armed alert with a forged one either
    await asService(`update public.training_package_versions set cost_alerts_sent = '[{"threshold": 0.8, "budget_limit": 100000}]', budget_limit = 1000 where id = $1`, [id]);
    await asService('update public.training_package_versions set actual_cost = 800 where id = $1', [id]);
    expect(await alerts(id)).toEqual([0.8, 0.8, 1, 0.8]);
  });

  it('not even the service role forges or clears an alert: the trigger keeps what was recorded', async () => {
    const id = await draft();
    await asService(`update public.training_package_versions set cost_alerts_sent = '[{"threshold": 0.8}, {"threshold": 1}]' where id = $1`, [id]);
    expect(await alerts(id)).toEqual([]);
    await asService('update public.training_package_versions set actual_cost = 100 where id = $1', [id]);
    expect(await alerts(id)).toEqual([0.8, 1]);
    await asService(`update public.training_package_versions set cost_alerts_sent = '[]' where id = $1`, [id]);
    expect(await alerts(id)).toEqual([0.8, 1]);
    const [inserted] = await asService<{ a: Alert[] }>(
      `insert into public.training_package_versions (package_id, created_by, budget_limit, actual_cost, cost_alerts_sent)
       values ($1, $2, 10, 9, '[{"threshold": 1, "forged": true}]') returning cost_alerts_sent as a`, [pkg, h.users.alice]);
    expect(thresholds(inserted!.a)).toEqual([0.8]);
  });

  it("another user neither sees nor moves the owner's costs; anon nothing", async () => {
    const id = await draft();
    expect(await asRole(h.database.client, 'authenticated', h.users.bob,
      'update public.training_package_versions set actual_cost = 100 where id = $1 returning id', [id])).toEqual([]);
    await expect(asRole(h.database.client, 'authenticated', h.users.bob, `select public.packages_set_training($1, '{"actual_cost": 100}')`, [id]))
      .rejects.toMatchObject({ code: 'PT404' });
    await expect(asRole(h.database.client, 'anon', null, 'update public.training_package_versions set actual_cost = 100 where id = $1', [id]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asRole(h.database.client, 'authenticated', h.users.bob, 'select public.packages_list_versions($1, p_over_budget => true)', [pkg]))
      .rejects.toMatchObject({ code: 'PT404' });
    expect(await alerts(id)).toEqual([]);
  });
});
