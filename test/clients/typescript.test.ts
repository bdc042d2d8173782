// The TypeScript client (clients/typescript) against the real server started
// as `npm start` runs it (test/support/server.ts): its checked-in types equal
// what the served OpenAPI documents generate, typed calls on every function,
// errors from problem bodies with their request ids, a supabase-js session's
// token, downloads named by the server, and retries through a proxy that
// injects 503s and dropped connections.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadRequest, Conflict, ConnectionFailed, createRegistryClient, download, NotFound, ok, type RegistryClient, ServerError,
  ServiceUnavailable, supabaseSession, Unauthorized,
} from '../../clients/typescript/src/index.ts';
import { clientTypes, GENERATED_DIR, openApiDocuments } from '../../scripts/lib/client_types.ts';
import { FUNCTIONS } from '../../scripts/lib/functions.ts';
import { mintToken } from '../../scripts/lib/tokens.ts';
import { type RunningServer, startServer } from '../support/server.ts';

let seq = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${seq++}`;

describe('the TypeScript client against the real server', () => {
  let server: RunningServer;
  let origin: string;
  let registry: RegistryClient;
  let service: RegistryClient;
  let alice: string;

  beforeAll(async () => {
    server = await startServer();
    origin = server.url.replace(/\/functions\/v1$/, '');
    alice = await mintToken({ role: 'authenticated', sub: crypto.randomUUID() });
    registry = createRegistryClient({ url: origin, token: alice, webhookToken: server.webhookToken });
    service = createRegistryClient({ url: server.url, token: await mintToken({ role: 'service_role' }) });
  });
  afterAll(() => server?.stop());

  it('has checked-in types equal to what the served documents generate (npm run generate:client)', async () => {
    const names = Object.keys(FUNCTIONS);
    const documents = await openApiDocuments(names, (path) => fetch(origin + path));
    expect(readdirSync(GENERATED_DIR).sort()).toEqual(names.map((n) => `${n}.ts`).sort());
    for (const [name, document] of documents) {
      const checkedIn = readFileSync(join(GENERATED_DIR, `${name}.ts`), 'utf8');
      expect(checkedIn === await clientTypes(name, document), `${name}.ts drifted from the served document: run npm run generate:client`)
        .toBe(true);
    }
  });

  it('runs: typed create, read, list, status with metric columns; each error its class with the request id', async () => {
    const run_id = unique('ts');
    const created = await registry.runs.POST('/runs', { body: { run_id, config: { training: { batch_size: 8 } }, wandb_run_id: null, host: 'ts' } });
    expect(created.response.status).toBe(201);
    const run = await ok(created);
    expect(run.batch_size).toBe(8);
    const got = await ok(registry.runs.GET('/runs/{run_id}', { params: { path: { run_id } } }));
    expect(got.run_id).toBe(run_id);
    const listed = await ok(registry.runs.GET('/runs', { params: { query: { host: 'ts', filter: `run_id = '${run_id}'`, limit: '5' } } }));
    expect(listed.items.map((r) => r.run_id)).toEqual([run_id]);
    const done = await ok(registry.runs.PATCH('/runs/{run_id}/status', {
      params: { path: { run_id } }, body: { status: 'completed', final_loss: 0.2, final_metrics: { lr: 0.1 } },
    }));
    expect(done.final_metrics_json).toEqual({ lr: 0.1, 'train/loss': 0.2 });

    const missing = await ok(registry.runs.GET('/runs/{run_id}', { params: { path: { run_id: unique('missing') } } })).catch((e) => e);
    expect(missing).toBeInstanceOf(NotFound);
    expect(missing.status).toBe(404);
    expect(missing.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await ok(registry.runs.POST('/runs', { body: { run_id: 'stats', config: {}, host: '' } })).catch((e) => e);
    expect(bad).toBeInstanceOf(BadRequest);
    expect(bad.errors.map((e: { path: string }) => e.path).sort()).toEqual(['host', 'run_id']);
    expect(bad.message).toBe(bad.problem.detail);
    const conflict = await ok(registry.runs.PATCH('/runs/{run_id}/status', { params: { path: { run_id } }, body: { status: 'running' } })).catch((e) => e);
    expect(conflict).toBeInstanceOf(Conflict);
    expect(conflict.message).toContain('is completed');
  });

  it('takes the token of a supabase-js session, read on each call', async () => {
    const storage = new Map<string, string>();
    const supabase = createClient(origin, await mintToken({ role: 'anon' }), {
      auth: {
        storageKey: 'registry-test', autoRefreshToken: false, persistSession: true, detectSessionInUrl: false,
        storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) },
      },
    });
    const viaSession = createRegistryClient({ url: origin, token: supabaseSession(supabase), retries: 0 });
    const signedOut = await ok(viaSession.runs.GET('/runs/stats')).catch((e) => e);
    expect(signedOut).toBeInstanceOf(Unauthorized);
    // What supabase-js keeps after a sign-in (the local server has no auth endpoint to sign in against).
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    storage.set('registry-test', JSON.stringify({
      access_token: alice, refresh_token: 'r', token_type: 'bearer', expires_in: 3600, expires_at: expiresAt,
      user: { id: 'u', aud: 'authenticated', role: 'authenticated', app_metadata: {}, user_metadata: {}, created_at: new Date().toISOString() },
    }));
    expect((await ok(viaSession.runs.GET('/runs/stats'))).total_runs).toBeGreaterThan(0);
  });

  it('packages, conversations, training examples and the webhook, typed; downloads named by the server', async () => {
    const pkg = await ok(registry.packages.POST('/packages', { body: { name: unique('pkg'), template_type: null } }));
    const version = await ok(registry.packages.POST('/packages/{package_id}/versions', { params: { path: { package_id: pkg.id } }, body: {} }));
    expect((await ok(registry.packages.POST('/packages/versions/{version_id}/publish', { params: { path: { version_id: version.id } } }))).status)
      .toBe('published');

    const persona = unique('persona');
    const conversation = await ok(registry.conversations.POST('/conversations', {
      body: { persona, quality_metrics: { relevance: 9 }, turns: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] },
    }));
    expect(conversation.turn_count).toBe(2);
    const file = await download(registry.conversations.POST('/conversations/exports', {
      body: { format: 'jsonl', filter: { persona, status: 'generated' } }, parseAs: 'blob',
    }));
    expect(file.fileName).toMatch(/^conversations-\d{8}T\d{6}Z-openai\.jsonl$/);
    expect(JSON.parse(await file.blob.text()).messages[1].content).toBe('hello');
    expect(file.exportId).toMatch(/^[0-9a-f-]{36}$/);

    const cascade = unique('cascade');
    const ingested = await ok(service.trainingExamples.POST('/training-examples/logs', { body: { items: [{
      id: `${cascade}-1`, trace_id: `${cascade}-t1`, cascade_id: cascade, request: { prompt: 'q' }, response: 'a',
    }] } }));
    expect(ingested.inserted).toBe(1);
    await ok(registry.trainingExamples.PUT('/training-examples/{trace_id}/annotation', { params: { path: { trace_id: `${cascade}-t1` } }, body: { trainable: true } }));
    const shots = await ok(registry.trainingExamples.GET('/training-examples/few-shot', { params: { query: { cascade_id: cascade, k: '3' } } }));
    expect(shots.items.map((s) => s.trace_id)).toEqual([`${cascade}-t1`]);
    const examples = await download(registry.trainingExamples.GET('/training-examples/export', { params: { query: { cascade_id: cascade } }, parseAs: 'blob' }));
    expect(examples.fileName).toMatch(/^training-examples-.*-openai\.jsonl$/);

    const delivery = await ok(registry.wandbWebhook.POST('/wandb-webhook', {
      body: { run_id: unique('wb'), state: 'RUNNING', summary: { _timestamp: 1_800_000_000 }, config: {} },
    }));
    expect(delivery.outcome).toBe('created');
  });

  describe('retries and headers, through a proxy that injects faults', () => {
    let proxy: Server;
    let faults: (number | 'drop')[] = [];
    const seen: { method: string; headers: Record<string, string | string[] | undefined> }[] = [];
    let through: RegistryClient;

    beforeAll(async () => {
      proxy = createServer(async (req, res) => {
        seen.push({ method: req.method!, headers: req.headers });
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const fault = faults.shift();
        if (fault === 'drop') return req.socket.destroy();
        if (fault !== undefined) {
          res.writeHead(fault, { 'content-type': 'application/problem+json', 'retry-after': '0' });
          return res.end(JSON.stringify({ type: 'about:blank', title: 'Fault', status: fault, detail: `injected ${fault}`, code: 'fault' }));
        }
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
        const answer = await fetch(origin + req.url, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined });
        res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([k]) => !['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k))));
        res.end(Buffer.from(await answer.arrayBuffer()));
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      through = createRegistryClient({ url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, token: alice, backoffMs: 5 });
    });
    afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const fresh = (...f: (number | 'drop')[]) => {
      faults = f;
      seen.length = 0;
    };

    it('retries a write through 503, a dropped connection and 504 with the same Idempotency-Key and request id', async () => {
      fresh(503, 'drop', 504);
      const run_id = unique('retry');
      await ok(through.runs.POST('/runs', { body: { run_id, config: {} } }));
      expect(seen).toHaveLength(4);
      expect(new Set(seen.map((s) => s.headers['idempotency-key'])).size).toBe(1);
      expect(new Set(seen.map((s) => s.headers['x-request-id'])).size).toBe(1);
      expect(seen[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('sends no Idempotency-Key on reads; does not retry a 500; raises the last 503 when retries run out', async () => {
      fresh(503);
      await ok(through.runs.GET('/runs/stats'));
      expect(seen.map((s) => s.headers['idempotency-key'])).toEqual([undefined, undefined]);
      fresh(500);
      const failed = await ok(through.runs.GET('/runs/stats')).catch((e) => e);
      expect(failed).toBeInstanceOf(ServerError);
      expect(failed).not.toBeInstanceOf(ServiceUnavailable);
      expect(seen).toHaveLength(1);
      fresh(503, 503, 503, 503);
      const unavailable = await ok(through.runs.GET('/runs/stats')).catch((e) => e);
      expect(unavailable).toBeInstanceOf(ServiceUnavailable);
      expect(unavailable.message).toBe('injected 503');
      expect(seen).toHaveLength(4);
    });

    it('no server at all: ConnectionFailed with the request id, after the retries', async () => {
      const nowhere = createServer();
      await new Promise<void>((resolve) => nowhere.listen(0, '127.0.0.1', resolve));
      const port = (nowhere.address() as AddressInfo).port;
      await new Promise<void>((resolve) => nowhere.close(() => resolve()));
      const c = createRegistryClient({ url: `http://127.0.0.1:${port}`, token: alice, retries: 2, backoffMs: 5 });
      const failed = await c.runs.GET('/runs/stats').catch((e) => e);
      expect(failed).toBeInstanceOf(ConnectionFailed);
      expect(failed.message).toContain('after 3 attempts');
      expect(failed.requestId).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
