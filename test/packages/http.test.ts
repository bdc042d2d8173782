// The packages function end to end through the local gateway, once per
// database adapter: sql (direct) and supabase (real supabase-js against a
// PostgREST double running the call on the same real database).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlAdapter } from '../../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../../scripts/lib/gateway.ts';
import { snapshotSha256 } from '../support/canonical_json.ts';
import { ADAPTERS, createHarness, type Harness, json } from '../support/harness.ts';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe.each(ADAPTERS)('packages through the %s adapter', (adapter) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(adapter, { bodyLimitBytes: 64 * 1024 });
  });
  afterAll(() => h.close());

  const post = (path: string, body?: unknown, token?: string | null) =>
    h.request(`/packages${path}`, { method: 'POST', ...(body === undefined ? {} : { json: body }), token });
  const get = (path: string, token?: string | null) => h.request(`/packages${path}`, { token });
  const patch = (path: string, body: unknown, token?: string) => h.request(`/packages${path}`, { method: 'PATCH', json: body, token });
  const newPackage = async (name = 'sft-llama', token?: string) => {
    const res = await post('', { name, template_type: 'lora_finetuning', config: { lr: 0.0003, epochs: 3 } }, token);
    expect(res.status).toBe(201);
    return await json(res);
  };
  const newDraft = async (packageId: string, body: Record<string, unknown> = {}, token?: string) => {
    const res = await post(`/${packageId}/versions`, body, token);
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    return await json(res);
  };
  const expectProblem = async (res: Response, status: number, detail?: RegExp) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = await json(res);
    if (detail) expect(body.detail).toMatch(detail);
    return body;
  };

  describe('packages', () => {
    it('creates a package owned by the caller and lists only the caller\'s', async () => {
      const pkg = await newPackage('mine');
      expect(pkg).toMatchObject({
        name: 'mine', template_type: 'lora_finetuning', config_json: { lr: 0.0003, epochs: 3 }, user_id: h.users.alice,
        version_count: 0, latest_published_version: 0, current_version_id: null,
      });
      const bobs = await newPackage('bobs', h.tokens.bob);
      const list = await json(await get(''));
      expect(list.items.map((p: { id: string }) => p.id)).toContain(pkg.id);
      expect(list.items.map((p: { id: string }) => p.id)).not.toContain(bobs.id);
      expect(await json(await get(`/${pkg.id}`))).toEqual(pkg);
      await expectProblem(await get(`/${pkg.id}`, h.tokens.bob), 404, /not found/);
    });

    it('pages the caller\'s packages with a cursor, newest first, without repeats', async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await newPackage(`paged-${i}`, h.tokens.bob)).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`, h.tokens.bob);
        const body = await json(res);
        expect(body.items.length).toBeLessThanOrEqual(2);
        seen.push(...body.items.map((p: { id: string }) => p.id));
        cursor = body.next_cursor;
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => made.includes(id))).toEqual([...made].reverse());
      await expectProblem(await get('?cursor=garbage'), 400, /cursor/);
      await expectProblem(await get('?limit=0'), 400);
    });

    it('rejects bad input with field-named problems', async () => {
      await expectProblem(await h.request('/packages', { method: 'POST', body: '{"name": ', headers: { 'content-type': 'application/json' } }), 400);
      const missing = await expectProblem(await post('', { template_type: 'x' }), 400);
      expect(missing.errors.map((e: { path: string }) => e.path)).toContain('name');
      await expectProblem(await post('', { name: 42 }), 400);
      await expectProblem(await post('', { name: 'x', config: [1, 2] }), 400);
      await expectProblem(await post('', { name: 'x', owner: 'me' }), 400);
      await expectProblem(await post('', { name: 'x'.repeat(201) }), 400);
      await expectProblem(await post('', { name: 'x', config: { blob: 'y'.repeat(70 * 1024) } }), 413);
      await expectProblem(await h.request('/packages', { method: 'POST', body: 'name=x', headers: { 'content-type': 'text/plain' } }), 415);
      await expectProblem(await get('/not-a-uuid'), 400);
      await expectProblem(await get(`/${UNKNOWN}`), 404);
      await expectProblem(await get('', null), 401);
      await expectProblem(await get('', h.tokens.anon), 401);
    });
  });

  describe('versions', () => {
    it('numbers drafts 1, 2, 3 and says which number comes next, never reusing one', async () => {
      const pkg = await newPackage();
      expect(await json(await get(`/${pkg.id}/next-version-number`))).toEqual({ package_id: pkg.id, next_version_number: 1 });
      const v1 = await newDraft(pkg.id);
      expect(v1).toMatchObject({
        package_id: pkg.id, version_number: 1, name: 'sft-llama v1', status: 'draft', created_by: h.users.alice,
        config_snapshot: { lr: 0.0003, epochs: 3 }, model_snapshot: {}, dataset_snapshot: [], training_status: 'not_started',
        is_deployed: false, published_at: null, snapshot_sha256: null, parent_version_id: null, cost_alerts_sent: [],
      });
      const v2 = await newDraft(pkg.id, { name: 'try bigger lr', config_snapshot: { lr: 0.001 }, estimated_cost: 12.5, budget_limit: 100 });
      expect(v2).toMatchObject({ version_number: 2, name: 'try bigger lr', estimated_cost: 12.5, budget_limit: 100 });
      const gone = await h.request(`/packages/versions/${v2.id}`, { method: 'DELETE' });
      expect(await json(gone)).toEqual({ id: v2.id, package_id: pkg.id, version_number: 2, deleted: true });
      expect(await json(await get(`/${pkg.id}/next-version-number`))).toMatchObject({ next_version_number: 3 });
      expect((await newDraft(pkg.id)).version_number).toBe(3);
      expect(await json(await get(`/${pkg.id}`))).toMatchObject({ version_count: 2 });
    });

    it('lists versions newest first, by status, in pages; finds one by number and by id', async () => {
      const pkg = await newPackage();
      const drafts: any[] = [];
      for (let i = 0; i < 5; i++) drafts.push(await newDraft(pkg.id));
      await post(`/versions/${drafts[1].id}/publish`);
      await post(`/versions/${drafts[3].id}/publish`);
      const numbers: number[] = [];
      let cursor: string | null = null;
      do {
        const body: any = await json(await get(`/${pkg.id}/versions?limit=2${cursor ? `&cursor=${cursor}` : ''}`));
        numbers.push(...body.items.map((v: { version_number: number }) => v.version_number));
        cursor = body.next_cursor;
      } while (cursor);
      expect(numbers).toEqual([5, 4, 3, 2, 1]);
      const published = await json(await get(`/${pkg.id}/versions?status=published`));
      expect(published.items.map((v: { version_number: number }) => v.version_number)).toEqual([4, 2]);
      expect(published.next_cursor).toBeNull();
      expect(await json(await get(`/${pkg.id}/versions/4`))).toMatchObject({ id: drafts[3].id, status: 'published' });
      expect(await json(await get(`/versions/${drafts[0].id}`))).toMatchObject({ version_number: 1 });
      await expectProblem(await get(`/${pkg.id}/versions/9`), 404, /no version 9/);
      await expectProblem(await get(`/${pkg.id}/versions/0`), 400);
      await expectProblem(await get(`/${pkg.id}/versions?status=gone`), 400);
      await expectProblem(await get(`/${pkg.id}/versions`, h.tokens.bob), 404);
      await expectProblem(await get(`/versions/${drafts[0].id}`, h.tokens.bob), 404);
      await expectProblem(await get(`/versions/${UNKNOWN}`), 404);
    });

    it('validates drafts: snapshot shapes, costs, unknown packages and fields', async () => {
      const pkg = await newPackage();
      await expectProblem(await post(`/${pkg.id}/versions`, { config_snapshot: [1] }), 400);
      await expectProblem(await post(`/${pkg.id}/versions`, { dataset_snapshot: 'all of them' }), 400);
      await expectProblem(await post(`/${pkg.id}/versions`, { estimated_cost: -1 }), 400);
      await expectProblem(await post(`/${pkg.id}/versions`, { budget_limit: 1.005 }), 400, /two decimal/);
      await expectProblem(await post(`/${pkg.id}/versions`, { budget_limit: 1e9 }), 400);
      await expectProblem(await post(`/${pkg.id}/versions`, { version_number: 7 }), 400);
      await expectProblem(await post(`/${UNKNOWN}/versions`, {}), 404);
      await expectProblem(await post(`/${pkg.id}/versions`, {}, h.tokens.bob), 404);
      expect(await json(await get(`/${pkg.id}`))).toMatchObject({ version_count: 0, last_version_number: 0 });
    });

    it('edits a draft, field by field; a published version answers 409 and stays as it was', async () => {
      const pkg = await newPackage();
      const draft = await newDraft(pkg.id, { change_summary: 'first try' });
      const edited = await json(await patch(`/versions/${draft.id}`, { model_snapshot: { id: 'meta-llama/Llama-3.1-8B' }, change_summary: null }));
      expect(edited).toMatchObject({ model_snapshot: { id: 'meta-llama/Llama-3.1-8B' }, change_summary: null, name: draft.name });
      await expectProblem(await patch(`/versions/${draft.id}`, {}), 400, /at least one/);
      await expectProblem(await patch(`/versions/${draft.id}`, { status: 'published' }), 400);
      await expectProblem(await patch(`/versions/${draft.id}`, { name: 'x' }, h.tokens.bob), 404);
      await post(`/versions/${draft.id}/publish`);
      await expectProblem(await patch(`/versions/${draft.id}`, { name: 'too late' }), 409, /published/);
      expect(await json(await get(`/versions/${draft.id}`))).toMatchObject({ name: draft.name, status: 'published' });
    });

    it('publishes a draft: stamps, hash of the snapshots, the package\'s current version', async () => {
      const pkg = await newPackage();
      const draft = await newDraft(pkg.id, {
        config_snapshot: { training: { lr: 0.0003, epochs: 3 } }, model_snapshot: { id: 'meta-llama/Llama-3.1-8B' },
        dataset_snapshot: [{ datasetId: 'd-1', rows: 1200 }],
      });
      await expectProblem(await post(`/versions/${draft.id}/publish`, undefined, h.tokens.bob), 404);
      const res = await post(`/versions/${draft.id}/publish`);
      expect(res.status).toBe(200);
      const published = await json(res);
      expect(published).toMatchObject({ status: 'published', published_by: h.users.alice });
      expect(Date.parse(published.published_at)).not.toBeNaN();
      expect(published.snapshot_sha256).toBe(snapshotSha256(published));
      expect(await json(await get(`/${pkg.id}`))).toMatchObject({ current_version_id: draft.id, latest_published_version: 1 });
      await expectProblem(await post(`/versions/${draft.id}/publish`), 409, /published/);
      // The same content in another version hashes the same.
      const twin = await json(await post(`/versions/${draft.id}/fork`));
      expect((await json(await post(`/versions/${twin.id}/publish`))).snapshot_sha256).toBe(published.snapshot_sha256);
    });

    it('publishing twice at once: exactly one 200, the other 409', async () => {
      const pkg = await newPackage();
      const draft = await newDraft(pkg.id);
      const statuses = (await Promise.all([post(`/versions/${draft.id}/publish`), post(`/versions/${draft.id}/publish`)]))
        .map((r) => r.status).sort();
      expect(statuses).toEqual([200, 409]);
    });

    it('archives published versions only; deletes drafts only', async () => {
      const pkg = await newPackage();
      const draft = await newDraft(pkg.id);
      await expectProblem(await post(`/versions/${draft.id}/archive`), 409, /delete a draft instead/);
      await post(`/versions/${draft.id}/publish`);
      await expectProblem(await h.request(`/packages/versions/${draft.id}`, { method: 'DELETE' }), 409, /only drafts/);
      await expectProblem(await post(`/versions/${draft.id}/archive`, undefined, h.tokens.bob), 404);
      expect(await json(await post(`/versions/${draft.id}/archive`))).toMatchObject({ status: 'archived' });
      await expectProblem(await post(`/versions/${draft.id}/archive`), 409, /archived/);
      expect(await json(await get(`/${pkg.id}`))).toMatchObject({ current_version_id: null, latest_published_version: 0 });
      await expectProblem(await h.request(`/packages/versions/${UNKNOWN}`, { method: 'DELETE' }), 404);
    });

    it('forks any version into a new draft that remembers its parent', async () => {
      const pkg = await newPackage();
      const v1 = await newDraft(pkg.id, { model_snapshot: { id: 'base' }, dataset_snapshot: [{ datasetId: 'd' }], budget_limit: 50 });
      await post(`/versions/${v1.id}/publish`);
      const res = await post(`/versions/${v1.id}/fork`, { name: 'v1 with more data' });
      expect(res.status).toBe(201);
      expect(await json(res)).toMatchObject({
        version_number: 2, status: 'draft', parent_version_id: v1.id, name: 'v1 with more data',
        config_snapshot: v1.config_snapshot, model_snapshot: { id: 'base' }, dataset_snapshot: [{ datasetId: 'd' }],
        change_summary: 'forked from version 1', budget_limit: 50, snapshot_sha256: null,
      });
      await expectProblem(await post(`/versions/${v1.id}/fork`, {}, h.tokens.bob), 404);
      await expectProblem(await post(`/versions/${v1.id}/fork`, { name: '' }), 400);
    });

    it('diffs two versions\' snapshots as JSON-pointer changes', async () => {
      const pkg = await newPackage();
      const a = await newDraft(pkg.id, {
        config_snapshot: { training: { lr: 0.001, 'a/b~c': 1, epochs: 3 } }, model_snapshot: { id: 'base' },
        dataset_snapshot: [{ id: 'd1' }, { id: 'd2' }],
      });
      const b = await newDraft(pkg.id, {
        config_snapshot: { training: { lr: 0.0003, 'a/b~c': 1.0, warmup: 10 } }, model_snapshot: { id: 'base' },
        dataset_snapshot: [{ id: 'd1' }],
      });
      const diff = await json(await get(`/versions/${b.id}/diff?against=${a.id}`));
      expect(diff).toMatchObject({ version: { id: b.id, version_number: 2 }, against: { id: a.id, version_number: 1 }, identical: false });
      expect(diff.changes).toEqual([
        { op: 'remove', path: '/config_snapshot/training/epochs', old: 3 },
        { op: 'replace', path: '/config_snapshot/training/lr', old: 0.001, new: 0.0003 },
        { op: 'add', path: '/config_snapshot/training/warmup', new: 10 },
        { op: 'remove', path: '/dataset_snapshot/1', old: { id: 'd2' } },
      ]);
      const same = await json(await get(`/versions/${a.id}/diff?against=${a.id}`));
      expect(same).toMatchObject({ identical: true, changes: [] });
      const escaped = await json(await get(`/versions/${a.id}/diff?against=${(await newDraft(pkg.id, { config_snapshot: {} })).id}`));
      expect(escaped.changes).toContainEqual({ op: 'add', path: '/config_snapshot/training', new: a.config_snapshot.training });
      const other = await newDraft((await newPackage('bob', h.tokens.bob)).id, {}, h.tokens.bob);
      await expectProblem(await get(`/versions/${a.id}/diff?against=${other.id}`), 404);
      await expectProblem(await get(`/versions/${a.id}/diff`), 400);
    });

    it('keys with / and ~ are escaped in diff paths', async () => {
      const pkg = await newPackage();
      const a = await newDraft(pkg.id, { config_snapshot: { 'a/b~c': 1 } });
      const b = await newDraft(pkg.id, { config_snapshot: { 'a/b~c': 2 } });
      const diff = await json(await get(`/versions/${b.id}/diff?against=${a.id}`));
      expect(diff.changes).toEqual([{ op: 'replace', path: '/config_snapshot/a~1b~0c', old: 1, new: 2 }]);
    });

    it('deployment and training move on a published version, owner only, allowed values only', async () => {
      const pkg = await newPackage();
      const v = await json(await post(`/versions/${(await newDraft(pkg.id)).id}/publish`));
      const put = (body: unknown, token?: string) => h.request(`/packages/versions/${v.id}/deployment`, { method: 'PUT', json: body, token });
      await expectProblem(await put({ is_deployed: true }), 400, /deployment_target/);
      await expectProblem(await put({ is_deployed: true, deployment_target: 'aws' }), 400);
      await expectProblem(await put({ is_deployed: true, deployment_target: 'hf_space', deployment_url: 'ftp://x' }), 400);
      await expectProblem(await put({ is_deployed: true, deployment_target: 'local' }, h.tokens.bob), 404);
      const deployed = await json(await put({ is_deployed: true, deployment_target: 'hf_space', deployment_url: 'https://hf.co/spaces/me/x', deployment_id: 'space-1' }));
      expect(deployed).toMatchObject({ is_deployed: true, deployment_target: 'hf_space', deployment_id: 'space-1', status: 'published' });

      const train = (body: unknown, token?: string) => patch(`/versions/${v.id}/training`, body, token);
      await expectProblem(await train({ training_status: 'running' }), 409, /not_started -> running/);
      await expectProblem(await train({ training_status: 'paused' }), 400);
      await expectProblem(await train({ actual_cost: -3 }), 400);
      await expectProblem(await train({ training_status: 'queued' }, h.tokens.bob), 404);
      expect(await json(await train({ training_status: 'queued', estimated_cost: 40 }))).toMatchObject({ training_status: 'queued', estimated_cost: 40 });
      const running = await json(await train({ training_status: 'running' }));
      expect(Date.parse(running.training_started_at)).not.toBeNaN();
      const done = await json(await train({ training_status: 'completed', training_metrics: { loss: 0.41 }, actual_cost: 38.25 }));
      expect(done).toMatchObject({ training_status: 'completed', training_metrics: { loss: 0.41 }, actual_cost: 38.25 });
      expect(Date.parse(done.training_completed_at)).toBeGreaterThanOrEqual(Date.parse(running.training_started_at));
      expect(done.snapshot_sha256).toBe(v.snapshot_sha256); // content untouched
      await expectProblem(await train({}), 400);
    });

    it('the service role acts on any version', async () => {
      const pkg = await newPackage();
      const v = await newDraft(pkg.id);
      expect(await json(await post(`/versions/${v.id}/publish`, undefined, h.tokens.service))).toMatchObject({ status: 'published', published_by: null });
      const all = await json(await get('?limit=1000', h.tokens.service));
      expect(all.items.map((p: { id: string }) => p.id)).toContain(pkg.id);
    });

    it('50 concurrent creates on one package: 50 distinct consecutive numbers, version_count 50', async () => {
      const pkg = await newPackage();
      // On the real server, 50 connections of their own, so the creates truly overlap.
      const connections = h.database.kind === 'postgres' ? h.database.connect(50) : undefined;
      const gateway = connections ? createGateway({ db: sqlAdapter(connections), log: () => {} }) : undefined;
      const create = () => {
        const init = { method: 'POST', headers: { authorization: `Bearer ${h.tokens.alice}`, 'content-type': 'application/json' }, body: '{}' };
        return gateway
          ? Promise.resolve(gateway.fetch(new Request(`http://127.0.0.1:54321/functions/v1/packages/${pkg.id}/versions`, init)))
          : h.request(`/packages/${pkg.id}/versions`, { ...init, token: h.tokens.alice });
      };
      const responses = await Promise.all(Array.from({ length: 50 }, create));
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
      const numbers = (await Promise.all(responses.map((r) => json(r)))).map((v) => v.version_number).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await json(await get(`/${pkg.id}`))).toMatchObject({ version_count: 50, last_version_number: 50 });
      await connections?.close();
    });
  });
});
