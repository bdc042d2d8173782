// Row-level security and database rules of training_runs from the outside:
// direct table access as each role, bypassing the functions entirely.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const alice = crypto.randomUUID();
const bob = crypto.randomUUID();

describe('training_runs rules in the database', () => {
  let database: TestDatabase;
  const as = <T = Record<string, unknown>>(role: 'anon' | 'authenticated' | 'service_role', sub: string | null, sql: string, params: unknown[] = []) =>
    asRole<T>(database.client, role, sub, sql, params);

  beforeAll(async () => {
    database = await createTestDatabase();
    await as('authenticated', alice, `insert into public.training_runs (run_id, config_json) values ('alice_run', '{"batch_size": 8}')`);
    await as('authenticated', bob, `insert into public.training_runs (run_id, config_json) values ('bob_run', '{}')`);
  });
  afterAll(() => database.close());

  it('anon can neither read nor write nor call the functions', async () => {
    await expect(as('anon', null, 'select * from public.training_runs')).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, `insert into public.training_runs (run_id, config_json) values ('x', '{}')`)).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, 'select public.runs_stats()')).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, `select private.jsonb_num('1')`)).rejects.toMatchObject({ code: '42501' });
  });

  it('authenticated users read every run (a team registry)', async () => {
    const rows = await as<{ run_id: string }>('authenticated', alice, 'select run_id from public.training_runs order by run_id');
    expect(rows.map((r) => r.run_id)).toEqual(['alice_run', 'bob_run']);
  });

  it("another user's run is unchangeable: updates and deletes touch nothing", async () => {
    const updated = await as('authenticated', alice, `update public.training_runs set run_name = 'mine now' where run_id = 'bob_run' returning run_id`);
    expect(updated).toEqual([]);
    const deleted = await as('authenticated', alice, `delete from public.training_runs where run_id = 'bob_run' returning run_id`);
    expect(deleted).toEqual([]);
    const [row] = await as<{ run_name: string | null }>('service_role', null, `select run_name from public.training_runs where run_id = 'bob_run'`);
    expect(row!.run_name).toBeNull();
  });

  it('a user cannot create a run in someone else\'s name, nor give theirs away', async () => {
    await expect(as('authenticated', alice, `insert into public.training_runs (run_id, config_json, created_by) values ('forged', '{}', $1)`, [bob]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(as('authenticated', alice, `update public.training_runs set created_by = $1 where run_id = 'alice_run'`, [bob]))
      .rejects.toMatchObject({ code: '42501' });
  });

  it('the owner changes their own run; extracted columns cannot be written', async () => {
    const rows = await as('authenticated', alice, `update public.training_runs set run_name = 'renamed' where run_id = 'alice_run' returning run_name, batch_size`);
    expect(rows).toEqual([{ run_name: 'renamed', batch_size: 8 }]);
    await expect(as('service_role', null, `update public.training_runs set batch_size = 99 where run_id = 'alice_run'`))
      .rejects.toMatchObject({ code: '428C9' });
    const [after] = await as<{ batch_size: number }>('service_role', null, `update public.training_runs set config_json = '{"training": {"batch_size": 16}}' where run_id = 'alice_run' returning batch_size`);
    expect(after!.batch_size).toBe(16);
  });

  it('the lifecycle holds for every role, the service role included', async () => {
    await as('service_role', null, `update public.training_runs set status = 'completed' where run_id = 'bob_run'`);
    await expect(as('service_role', null, `update public.training_runs set status = 'running' where run_id = 'bob_run'`))
      .rejects.toMatchObject({ code: 'PT409' });
    await expect(as('service_role', null, `update public.training_runs set status = 'paused' where run_id = 'alice_run'`))
      .rejects.toMatchObject({ code: '23514' });
  });

  it('constraints hold for direct writes: S3 keys, URLs, reserved ids', async () => {
    const bad = [
      `update public.training_runs set crash_report_s3_key = 's3://b/k' where run_id = 'alice_run'`,
      `update public.training_runs set error_log_s3_key = 'a/../b' where run_id = 'alice_run'`,
      `update public.training_runs set blog_post_url = 'javascript:alert(1)' where run_id = 'alice_run'`,
      `insert into public.training_runs (run_id, config_json) values ('stats', '{}')`,
      `insert into public.training_runs (run_id, config_json) values ('ok_id', '[]')`,
    ];
    for (const sql of bad) await expect(as('service_role', null, sql), sql).rejects.toMatchObject({ code: '23514' });
  });

  it('updated_at_db moves on every change', async () => {
    const [before] = await as<{ updated_at_db: Date }>('service_role', null, `select updated_at_db from public.training_runs where run_id = 'alice_run'`);
    const [after] = await as<{ updated_at_db: Date }>('service_role', null, `update public.training_runs set host = 'ec2' where run_id = 'alice_run' returning updated_at_db`);
    expect(new Date(after!.updated_at_db).getTime()).toBeGreaterThan(new Date(before!.updated_at_db).getTime());
  });
});
