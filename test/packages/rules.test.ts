// Rules of training_configs and training_package_versions from the outside:
// direct table access as each role, as a front end using supabase.from(...)
// would, bypassing the packages function entirely.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asRole } from '../support/as_role.ts';
import { snapshotSha256 } from '../support/canonical_json.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const alice = crypto.randomUUID();
const bob = crypto.randomUUID();
type Role = 'anon' | 'authenticated' | 'service_role';
type Row = Record<string, any>;

describe('package versions: rules in the database', () => {
  let database: TestDatabase;
  let alicePackage: string;
  let bobPackage: string;
  const as = <T = Row>(role: Role, sub: string | null, sql: string, params: unknown[] = []) =>
    asRole<T>(database.client, role, sub, sql, params);
  const asAlice = <T = Row>(sql: string, params: unknown[] = []) => as<T>('authenticated', alice, sql, params);
  const asService = <T = Row>(sql: string, params: unknown[] = []) => as<T>('service_role', null, sql, params);
  const packageRow = async (id: string) =>
    (await asService(`select version_count, last_version_number, latest_published_version, current_version_id
                        from public.training_configs where id = $1`, [id]))[0]!;
  const newDraft = async (pkg = alicePackage, extra = '') =>
    (await asAlice(`insert into public.training_package_versions (package_id, config_snapshot${extra ? ', dataset_snapshot' : ''})
                    values ($1, '{"lr": 0.0003}'${extra ? `, '${extra}'` : ''}) returning *`, [pkg]))[0]!;

  const newPackage = async (name: string, owner = alice) => (await as<{ id: string }>('authenticated', owner,
    `insert into public.training_configs (name, template_type, config_json) values ($1, 'lora_finetuning', '{"lr": 0.0003}') returning id`,
    [name]))[0]!.id;

  beforeAll(async () => {
    database = await createTestDatabase();
    alicePackage = await newPackage('sft-llama');
    bobPackage = await newPackage('bob-pkg', bob);
  });
  afterAll(() => database.close());

  it('anon can neither read nor write packages or versions, nor call the functions', async () => {
    await expect(as('anon', null, 'select * from public.training_configs')).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, 'select * from public.training_package_versions')).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, `insert into public.training_configs (name) values ('x')`)).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, 'select public.packages_list()')).rejects.toMatchObject({ code: '42501' });
    await expect(as('anon', null, `select private.canonical_json('{}')`)).rejects.toMatchObject({ code: '42501' });
  });

  it("another user's package and versions are invisible and unchangeable", async () => {
    const draft = await newDraft();
    expect(await as('authenticated', bob, 'select id from public.training_configs where id = $1', [alicePackage])).toEqual([]);
    expect(await as('authenticated', bob, 'select id from public.training_package_versions where id = $1', [draft.id])).toEqual([]);
    expect(await as('authenticated', bob, `update public.training_configs set name = 'mine' where id = $1 returning id`, [alicePackage])).toEqual([]);
    expect(await as('authenticated', bob, `update public.training_package_versions set name = 'mine' where id = $1 returning id`, [draft.id])).toEqual([]);
    expect(await as('authenticated', bob, 'delete from public.training_package_versions where id = $1 returning id', [draft.id])).toEqual([]);
    expect(await as('authenticated', bob, 'delete from public.training_configs where id = $1 returning id', [alicePackage])).toEqual([]);
    // Creating a version in someone else's package: as if the package did not exist.
    await expect(as('authenticated', bob, `insert into public.training_package_versions (package_id) values ($1)`, [alicePackage]))
      .rejects.toMatchObject({ code: 'PT404' });
    await expect(as('authenticated', bob, 'select public.packages_get($1)', [alicePackage])).rejects.toMatchObject({ code: 'PT404' });
    const [still] = await asService<{ name: string }>('select name from public.training_package_versions where id = $1', [draft.id]);
    expect(still!.name).toBe('sft-llama v' + draft.version_number);
  });

  it('no one creates a package or a version in another name', async () => {
    await expect(asAlice(`insert into public.training_configs (name, user_id) values ('forged', $1)`, [bob]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`insert into public.training_package_versions (package_id, created_by) values ($1, $2)`, [alicePackage, bob]))
      .rejects.toMatchObject({ code: '42501' });
    await expect(asAlice(`update public.training_configs set user_id = $1 where id = $2`, [bob, alicePackage]))
      .rejects.toMatchObject({ code: '42501' });
  });

  it('counters, numbers and publish stamps are out of clients\' hands', async () => {
    const draft = await newDraft();
    const denied = [
      [`update public.training_configs set version_count = 99 where id = $1`, alicePackage],
      [`update public.training_configs set last_version_number = 0 where id = $1`, alicePackage],
      [`update public.training_configs set current_version_id = null where id = $1`, alicePackage],
      [`update public.training_package_versions set version_number = 99 where id = $1`, draft.id],
      [`update public.training_package_versions set snapshot_sha256 = repeat('0', 64) where id = $1`, draft.id],
    ] as const;
    for (const [sql, id] of denied) await expect(asAlice(sql, [id]), sql).rejects.toMatchObject({ code: '42501' });
    // seed 004's front end sends status and publish stamps: a draft stays unstamped, a version is born a draft
    expect(await asAlice(`update public.training_package_versions set published_at = now() where id = $1 returning published_at`, [draft.id]))
      .toEqual([{ published_at: null }]);
    await expect(asAlice(`insert into public.training_package_versions (package_id, status) values ($1, 'published')`, [alicePackage]))
      .rejects.toMatchObject({ code: 'PT409' });
  });

  it('numbers versions 1, 2, 3 ... per package, never reusing a deleted draft\'s number', async () => {
    const pkg = await newPackage('numbering');
    const first = await newDraft(pkg);
    const second = await newDraft(pkg);
    expect([first.version_number, second.version_number]).toEqual([1, 2]);
    expect(await asAlice('delete from public.training_package_versions where id = $1 returning version_number', [second.id]))
      .toEqual([{ version_number: 2 }]);
    const third = await newDraft(pkg);
    expect(third.version_number).toBe(3);
    expect(await packageRow(pkg)).toMatchObject({ version_count: 2, last_version_number: 3 });
    // A writer may name the number only if it is the one the counter hands out.
    await expect(asAlice(`insert into public.training_package_versions (package_id, version_number) values ($1, 2)`, [pkg]))
      .rejects.toMatchObject({ code: 'PT409' });
    const [fourth] = await asAlice(`insert into public.training_package_versions (package_id, version_number) values ($1, 4) returning version_number`, [pkg]);
    expect(fourth!.version_number).toBe(4);
    // The service role gets numbers too, and the version is the package owner's.
    const [fifth] = await asService(`insert into public.training_package_versions (package_id) values ($1) returning version_number, created_by`, [pkg]);
    expect(fifth).toEqual({ version_number: 5, created_by: alice });
  });

  it('publishing a draft by a direct update stamps it, hashes it and moves the package', async () => {
    const draft = await newDraft(alicePackage, '[{"datasetId": "d1", "é": 1, "z": [1.50, {"b": true, "a": null}]}]');
    const [published] = await asAlice(`update public.training_package_versions set status = 'published' where id = $1 returning *`, [draft.id]);
    expect(published).toMatchObject({ status: 'published', published_by: alice });
    expect(published!.published_at).toBeInstanceOf(Date);
    expect(published!.snapshot_sha256).toBe(snapshotSha256(published as never));
    expect(await packageRow(alicePackage)).toMatchObject({ current_version_id: draft.id, latest_published_version: draft.version_number });
  });

  it('a published version is immutable for every role; only its lifecycle fields move', async () => {
    const draft = await newDraft();
    await asAlice(`update public.training_package_versions set status = 'published' where id = $1`, [draft.id]);
    // The owner's direct updates and deletes no longer reach it (drafts only).
    expect(await asAlice(`update public.training_package_versions set name = 'x' where id = $1 returning id`, [draft.id])).toEqual([]);
    expect(await asAlice('delete from public.training_package_versions where id = $1 returning id', [draft.id])).toEqual([]);
    // The service role bypasses RLS, not the trigger.
    for (const change of [
      `config_snapshot = '{"lr": 1}'`, `model_snapshot = '{"id": "other"}'`, `dataset_snapshot = '[{"id": 1}]'`, `name = 'renamed'`,
      `change_summary = 'rewritten'`, `status = 'draft'`, `version_number = 42`, `package_id = '${bobPackage}'`,
      `snapshot_sha256 = repeat('a', 64)`, `published_at = now()`,
    ]) {
      await expect(asService(`update public.training_package_versions set ${change} where id = $1`, [draft.id]), change)
        .rejects.toMatchObject({ code: 'PT409' });
    }
    await expect(asService('delete from public.training_package_versions where id = $1', [draft.id])).rejects.toMatchObject({ code: 'PT409' });
    const [moved] = await asService(`update public.training_package_versions
        set is_deployed = true, deployment_target = 'hf_space', deployment_url = 'https://hf.co/spaces/a/b',
            training_status = 'queued', actual_cost = 12.5
      where id = $1 returning is_deployed, training_status, actual_cost`, [draft.id]);
    expect(moved).toEqual({ is_deployed: true, training_status: 'queued', actual_cost: '12.50' });
    // published -> archived is the only status change left, then nothing.
    await asService(`update public.training_package_versions set status = 'archived' where id = $1`, [draft.id]);
    await expect(asService(`update public.training_package_versions set status = 'published' where id = $1`, [draft.id]))
      .rejects.toMatchObject({ code: 'PT409' });
    await expect(asService(`update public.training_package_versions set status = 'draft' where id = $1`, [draft.id]))
      .rejects.toMatchObject({ code: 'PT409' });
  });

  it('archiving the current version moves the package to the highest published one left', async () => {
    const pkg = await newPackage('current');
    const v1 = await newDraft(pkg);
    const v2 = await newDraft(pkg);
    await asAlice(`update public.training_package_versions set status = 'published' where id = $1`, [v2.id]);
    await asAlice(`update public.training_package_versions set status = 'published' where id = $1`, [v1.id]);
    expect(await packageRow(pkg)).toMatchObject({ current_version_id: v2.id, latest_published_version: 2 });
    await asService(`update public.training_package_versions set status = 'archived' where id = $1`, [v2.id]);
    expect(await packageRow(pkg)).toMatchObject({ current_version_id: v1.id, latest_published_version: 1 });
    await asService(`update public.training_package_versions set status = 'archived' where id = $1`, [v1.id]);
    expect(await packageRow(pkg)).toMatchObject({ current_version_id: null, latest_published_version: 0 });
  });

  it('a package with published versions is kept; one with drafts only goes with them', async () => {
    const pkg = await newPackage('kept');
    const v1 = await newDraft(pkg);
    await newDraft(pkg);
    await asAlice(`update public.training_package_versions set status = 'published' where id = $1`, [v1.id]);
    await expect(asAlice('delete from public.training_configs where id = $1', [pkg])).rejects.toMatchObject({ code: 'PT409' });
    await asAlice(`update public.training_package_versions set status = 'archived' where id = $1`, [v1.id]);
    await expect(asAlice('delete from public.training_configs where id = $1', [pkg])).rejects.toMatchObject({ code: 'PT409' });
    expect(await asService('select count(*)::int as n from public.training_package_versions where package_id = $1', [pkg])).toEqual([{ n: 2 }]);
    // the service role (an administrator's cleanup) may
    expect(await asService('delete from public.training_configs where id = $1 returning id', [pkg])).toEqual([{ id: pkg }]);
    expect(await asService('select id from public.training_package_versions where package_id = $1', [pkg])).toEqual([]);

    const drafts = await newPackage('drafts only');
    await newDraft(drafts);
    expect(await asAlice('delete from public.training_configs where id = $1 returning id', [drafts])).toEqual([{ id: drafts }]);
    expect(await asService('select id from public.training_package_versions where package_id = $1', [drafts])).toEqual([]);
  });

  it('constraints: snapshot shapes, costs, deployment, parents within the package, training lifecycle', async () => {
    const draft = await newDraft();
    const [otherPackageVersion] = await as('authenticated', bob,
      `insert into public.training_package_versions (package_id) values ($1) returning id`, [bobPackage]);
    const bad: [string, string][] = [
      [`update public.training_package_versions set config_snapshot = '[]' where id = $1`, '23514'],
      [`update public.training_package_versions set model_snapshot = '"llama"' where id = $1`, '23514'],
      [`update public.training_package_versions set dataset_snapshot = '3' where id = $1`, '23514'],
      [`update public.training_package_versions set estimated_cost = -1 where id = $1`, '23514'],
      [`update public.training_package_versions set budget_limit = 100000000 where id = $1`, '22003'],
      [`update public.training_package_versions set is_deployed = true where id = $1`, '23514'],
      [`update public.training_package_versions set deployment_target = 'aws' where id = $1`, '23514'],
      [`update public.training_package_versions set deployment_url = 'ftp://x' where id = $1`, '23514'],
      [`update public.training_package_versions set parent_version_id = '${otherPackageVersion!.id}' where id = $1`, '23503'],
      [`update public.training_package_versions set parent_version_id = id where id = $1`, '23514'],
      [`update public.training_package_versions set training_status = 'running' where id = $1`, 'PT409'],
      [`update public.training_package_versions set training_status = 'paused' where id = $1`, '23514'],
    ];
    for (const [sql, code] of bad) await expect(asService(sql, [draft.id]), sql).rejects.toMatchObject({ code });
    const step = async (status: string) => (await asService(
      `update public.training_package_versions set training_status = $2 where id = $1
       returning training_status, training_started_at, training_completed_at`, [draft.id, status]))[0]!;
    await step('queued');
    const running = await step('running');
    expect(running.training_started_at).toBeInstanceOf(Date);
    const failed = await step('failed');
    expect(failed.training_completed_at.getTime()).toBeGreaterThanOrEqual(running.training_started_at.getTime());
    expect(await step('queued')).toMatchObject({ training_started_at: null, training_completed_at: null });
    await step('running');
    await step('completed');
    await expect(step('queued')).rejects.toMatchObject({ code: 'PT409' });
  });

  it('a draft with forks cannot be deleted out from under them', async () => {
    const parent = await newDraft();
    await asAlice(`insert into public.training_package_versions (package_id, parent_version_id) values ($1, $2)`, [alicePackage, parent.id]);
    await expect(asAlice('delete from public.training_package_versions where id = $1', [parent.id])).rejects.toMatchObject({ code: '23503' });
  });
});
