// Budget alerts for versions that were already over a threshold before the
// database kept alerts (migration 20261130100 added the trigger; the
// budget_alerts_rearm migration backfills them): applying the migrations to a
// database holding such versions records their alerts once, leaves versions
// under every threshold alone, and a rollback keeps what was recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, migrateDown, migrateUp, applyLocalShim } from '../../scripts/lib/migrator.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const owner = crypto.randomUUID();
type Alert = { threshold: number; actual_cost: number; budget_limit: number };

describe('budget alerts: the backfill of versions already over budget', () => {
  let database: TestDatabase;
  const all = listMigrations();
  const before = all.filter((m) => m.version < '20261130000100');
  const alerts = async (id: string) =>
    (await database.client.query<{ a: Alert[] }>('select cost_alerts_sent as a from public.training_package_versions where id = $1', [id]))[0]!.a;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    await applyLocalShim(database.client);
    await migrateUp(database.client, before);
  });
  afterAll(() => database.close());

  it('records the thresholds already reached, once, and nothing for the others', async () => {
    const c = database.client;
    await c.query('insert into auth.users (id, email) values ($1, $2)', [owner, 'budget@x.test']);
    const [pkg] = await c.query<{ id: string }>(
      `insert into public.training_configs (name, template_type, config_json, user_id) values ('legacy', 'lora_finetuning', '{}', $1) returning id`, [owner]);
    const version = async (budget: number | null, cost: number | null) => (await c.query<{ id: string }>(
      `insert into public.training_package_versions (package_id, created_by, budget_limit, actual_cost) values ($1, $2, $3, $4) returning id`,
      [pkg!.id, owner, budget, cost]))[0]!.id;
    const over = await version(100, 120);
    const near = await version(100, 85);
    const under = await version(100, 10);
    const unbudgeted = await version(null, 500);
    const [published] = await c.query<{ id: string }>(
      `update public.training_package_versions set status = 'published' where id = $1 returning id`, [near]);
    expect(published).toBeDefined();

    await migrateUp(c, all);
    expect((await alerts(over)).map((a) => a.threshold)).toEqual([0.8, 1]);
    expect(await alerts(over)).toEqual([
      expect.objectContaining({ threshold: 0.8, actual_cost: 120, budget_limit: 100 }),
      expect.objectContaining({ threshold: 1, actual_cost: 120, budget_limit: 100 }),
    ]);
    expect(await alerts(near)).toEqual([expect.objectContaining({ threshold: 0.8, actual_cost: 85, budget_limit: 100 })]);
    expect(await alerts(under)).toEqual([]);
    expect(await alerts(unbudgeted)).toEqual([]);

    // the rollback removes the re-arming, not what was recorded as sent
    const recorded = await alerts(over);
    await migrateDown(c, 1, all);
    expect(await alerts(over)).toEqual(recorded);
    await migrateUp(c, all);
    expect(await alerts(over)).toEqual(recorded);
  });
});
