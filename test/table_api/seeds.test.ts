// The seed systems are already deployed somewhere: their tables, rows and
// client code keep working when this project is applied, and rolling the
// project back leaves exactly what was there. Client calls run as the seeds
// make them: supabase-js rpc through PostgREST (the test double), and table
// writes as the SQL PostgREST runs for supabase.from(...) (role and claims in
// a transaction, the body through json_populate_record).
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlAdapter } from '../../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../../scripts/lib/gateway.ts';
import { applyLocalShim, migrateDown, migrateUp } from '../../scripts/lib/migrator.ts';
import { mintToken } from '../../scripts/lib/tokens.ts';
import { asRole } from '../support/as_role.ts';
import { catalogSnapshot } from '../../scripts/lib/catalog.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createHarness, type Harness, json, SUPABASE_URL } from '../support/harness.ts';

type Row = Record<string, any>;

describe("seed 004's front end, unchanged", () => {
  let h: Harness;
  let pkg: string;
  const asAlice = (sql: string, params: unknown[] = []) => asRole<Row>(h.database.client, 'authenticated', h.users.alice, sql, params);
  // supabase.from('training_package_versions').insert({...}).select().single()
  const insertVersion = (body: Row) => asAlice(
    `insert into public.training_package_versions (${Object.keys(body).join(', ')})
     select ${Object.keys(body).join(', ')} from json_populate_record(null::public.training_package_versions, $1::text::json)
     returning *`, [JSON.stringify(body)]);
  // supabase.from('training_package_versions').update({...}).eq('id', id).eq('status', 'draft').select().single()
  const updateDraft = (id: string, body: Row) => asAlice(
    `update public.training_package_versions t set ${Object.keys(body).map((k) => `${k} = b.${k}`).join(', ')}
       from json_populate_record(null::public.training_package_versions, $1::text::json) b
      where t.id = $2 and t.status = 'draft' returning t.*`, [JSON.stringify(body), id]);

  beforeAll(async () => {
    h = await createHarness('supabase');
    pkg = (await json(await h.request('/packages', { method: 'POST', json: { name: 'wizard' } }))).id;
  });
  afterAll(() => h.close());

  it('rpc get_next_version_number answers the next number as an integer, through supabase-js', async () => {
    const supabase = createClient(SUPABASE_URL, await mintToken({ role: 'anon' }), {
      auth: { persistSession: false, autoRefreshToken: false },
      global: { headers: { Authorization: `Bearer ${h.tokens.alice}` } },
    });
    const { data, error } = await supabase.rpc('get_next_version_number', { p_package_id: pkg });
    expect(error).toBeNull();
    expect(data).toBe(1);
    const other = createClient(SUPABASE_URL, await mintToken({ role: 'anon' }), {
      auth: { persistSession: false, autoRefreshToken: false }, global: { headers: { Authorization: `Bearer ${h.tokens.bob}` } },
    });
    expect((await other.rpc('get_next_version_number', { p_package_id: pkg })).error).toMatchObject({ code: 'PT404' });
  });

  it('its draft insert succeeds with the values the database would choose, and is refused clearly otherwise', async () => {
    const draft = { package_id: pkg, version_number: 1, name: 'wizard-v1-draft-20250131', status: 'draft', created_by: h.users.alice,
      config_snapshot: { lr: 0.0003 }, model_snapshot: { id: 'meta-llama/Llama-2-7b-hf' }, dataset_snapshot: [{ datasetId: '123' }] };
    const [v1] = await insertVersion(draft);
    expect(v1).toMatchObject({ version_number: 1, status: 'draft', created_by: h.users.alice, published_at: null });
    await expect(insertVersion({ ...draft, version_number: 5 }))
      .rejects.toThrow('version numbers are assigned by the database: the next one for this package is 2, not 5');
    await expect(insertVersion({ ...draft, version_number: 2, created_by: h.users.bob })).rejects.toMatchObject({ code: '42501' });
    await expect(insertVersion({ ...draft, version_number: 2, status: 'published' })).rejects.toMatchObject({ code: 'PT409' });
  });

  it('its publish stamps the database\'s own time, publisher and hash, and refuses a publisher who is not the caller', async () => {
    const [draft] = await insertVersion({ package_id: pkg, name: 'to publish', status: 'draft', created_by: h.users.alice,
      config_snapshot: { a: 1 }, model_snapshot: {}, dataset_snapshot: [] });
    await expect(updateDraft(draft!.id, { status: 'published', published_at: new Date().toISOString(), published_by: h.users.bob, name: 'v' }))
      .rejects.toMatchObject({ code: '42501', message: expect.stringContaining('published_by must be the publishing user') });
    const [published] = await updateDraft(draft!.id, {
      status: 'published', published_at: '2020-01-01T00:00:00Z', published_by: h.users.alice, name: 'wizard-v2' });
    expect(published).toMatchObject({ status: 'published', published_by: h.users.alice, name: 'wizard-v2', snapshot_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(new Date(published!.published_at).getFullYear()).toBeGreaterThan(2020);
    // the front end's own safety check: a second publish updates nothing
    expect(await updateDraft(draft!.id, { status: 'published', published_at: '2020-01-01T00:00:00Z', published_by: h.users.alice, name: 'again' }))
      .toEqual([]);
    const list = await asAlice('select version_number, status from public.training_package_versions where package_id = $1 order by version_number desc', [pkg]);
    expect(list).toEqual([{ version_number: 2, status: 'published' }, { version_number: 1, status: 'draft' }]);
  });
});

describe("seed 000's readers", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  it('training_examples_mv gives the extracted examples under the old name', async () => {
    const res = await h.request('/training-examples/logs', { method: 'POST', token: h.tokens.service, json: { items: [
      { id: 'mv-1', trace_id: 'mv-trace', cascade_id: 'c', request: { prompt: 'q' }, response: 'a' }] } });
    expect(res.status).toBe(200);
    expect(await asRole(h.database.client, 'authenticated', h.users.alice,
      `select trace_id, cascade_id, user_input, assistant_output from public.training_examples_mv`))
      .toEqual([{ trace_id: 'mv-trace', cascade_id: 'c', user_input: 'q', assistant_output: 'a' }]);
  });
});

// What a project with the seeds deployed has before this one is applied:
// seed 004's training_configs (user_id without a default, its own RLS
// policy) and seed 001's referenced tables, with rows.
const SEED_TABLES = `
insert into auth.users (id, email) values ('00000000-0000-4000-8000-00000000000a', 'seed-user@example.com');
create table public.training_configs (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  template_type text,
  config_json jsonb,
  user_id uuid references auth.users (id),
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
alter table public.training_configs enable row level security;
create policy "Users manage their own configs" on public.training_configs for all to authenticated
  using (user_id = auth.uid()) with check (user_id = auth.uid());
insert into public.training_configs (id, name, template_type, config_json, user_id) values
  ('00000000-0000-4000-8000-0000000000c1', 'Seed Config', 'lora_finetuning', '{"lr": 0.001}', '00000000-0000-4000-8000-00000000000a');
create table public.user_profiles (
  id uuid primary key references auth.users (id),
  email text,
  full_name text,
  created_at timestamptz default now()
);
insert into public.user_profiles (id, email, full_name) values ('00000000-0000-4000-8000-00000000000a', 'seed-user@example.com', 'Seed User');
create table public.documents (
  id uuid primary key default gen_random_uuid(),
  title text not null,
  content text,
  created_at timestamptz default now()
);
insert into public.documents (id, title, content) values ('00000000-0000-4000-8000-0000000000d1', 'Handbook', 'Chapter one');
-- a policy of its own under a name this project also uses: replaced while applied, restored on rollback
create policy documents_select on public.documents for select to authenticated using (created_at > '2000-01-01');
create table public.chunks (
  id uuid primary key default gen_random_uuid(),
  document_id uuid not null references public.documents (id) on delete cascade,
  chunk_index integer not null default 0,
  content text not null default ''
);
insert into public.chunks (id, document_id, chunk_index, content) values ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000d1', 0, 'Chapter one');
`;

const SEED_USER = '00000000-0000-4000-8000-00000000000a';

describe('an existing installation of the seeds', () => {
  let database: TestDatabase;
  const rows = async () => Object.fromEntries(await Promise.all(['training_configs', 'user_profiles', 'documents', 'chunks'].map(async (t) =>
    [t, await database.client.query(`select to_jsonb(x) as row from public.${t} x order by id`)] as const)));

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    await applyLocalShim(database.client);
    await database.client.exec(SEED_TABLES);
  });
  afterAll(() => database.close());

  it('keeps its tables, rows and policies when migrated; rolled all the way back, it is exactly as it was', async () => {
    const before = { catalog: await catalogSnapshot(database.client), rows: await rows() };
    await migrateUp(database.client);
    // rows kept; the columns the rules read are added; documents from before have no owner,
    // so only reviewers and the service role see them
    expect(await database.client.query(`select is_reviewer, full_name from public.user_profiles`)).toEqual([{ is_reviewer: false, full_name: 'Seed User' }]);
    expect(await asRole(database.client, 'authenticated', SEED_USER, 'select id from public.documents')).toEqual([]);
    expect(await asRole(database.client, 'service_role', null, 'select title, created_by from public.documents')).toEqual([{ title: 'Handbook', created_by: null }]);
    // the seed's policy is still there beside the project's
    expect(await database.client.query(`select policyname from pg_policies where tablename = 'training_configs' order by 1`))
      .toContainEqual({ policyname: 'Users manage their own configs' });

    await migrateDown(database.client, Infinity);
    expect(await catalogSnapshot(database.client)).toEqual(before.catalog);
    expect(await rows()).toEqual(before.rows);
  });

  it("packages work on the seed's training_configs: its own package, and new ones owned by the caller without a default", async () => {
    await migrateUp(database.client);
    const gateway = createGateway({ db: sqlAdapter(database.client), log: () => {} });
    const token = await mintToken({ role: 'authenticated', sub: SEED_USER });
    const call = (path: string, init: RequestInit = {}) => Promise.resolve(gateway.fetch(new Request(`http://127.0.0.1/functions/v1${path}`,
      { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })));
    expect((await json(await call('/packages'))).items.map((p: Row) => p.name)).toEqual(['Seed Config']);
    const created = await call('/packages', { method: 'POST', body: JSON.stringify({ name: 'after adoption' }) });
    expect(created.status).toBe(201);
    expect((await json(created)).user_id).toBe(SEED_USER);
    const version = await call('/packages/00000000-0000-4000-8000-0000000000c1/versions', { method: 'POST', body: '{}' });
    expect(version.status).toBe(201);
    expect(await json(version)).toMatchObject({ version_number: 1, name: 'Seed Config v1' });
    // the seed's own client: an insert that names its owner, as seed 004's guide does
    expect(await asRole(database.client, 'authenticated', SEED_USER,
      `insert into public.training_configs (id, name, template_type, config_json, user_id)
       values (gen_random_uuid(), 'Test Config', 'lora_finetuning', '{}', $1) returning name`, [SEED_USER])).toEqual([{ name: 'Test Config' }]);
  });

  it("a project that ran seed 004's own versions migration is told to rename its versions table, not half-adopted", async () => {
    const other = await createTestDatabase({ migrate: false });
    try {
      await applyLocalShim(other.client);
      await other.client.exec(`create table public.training_configs (id uuid primary key default gen_random_uuid(), name text not null, user_id uuid);
        create table public.training_package_versions (id uuid primary key default gen_random_uuid(),
          package_id uuid not null references public.training_configs (id), version_number integer not null, name text not null);`);
      await expect(migrateUp(other.client)).rejects.toThrow('public.training_package_versions exists already, from another system');
      expect(await other.client.query(`select count(*)::int as n from information_schema.columns where table_name = 'training_package_versions'`))
        .toEqual([{ n: 4 }]);
    } finally {
      await other.close();
    }
  });

  it('a database that applied the migrations before the adoption ledger existed is not rolled back by guesswork', async () => {
    const count = () => database.client.query(`select count(*)::int as n from public.training_configs`);
    const kept = await count();
    await database.client.exec('delete from private.adopted_tables');
    await expect(migrateDown(database.client, Infinity)).rejects.toThrow(/applied before the adoption ledger existed/);
    expect(await count()).toEqual(kept);
  });
});
