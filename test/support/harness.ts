// Everything a handler test needs: a migrated database, the product's
// functions behind the local gateway, tokens, and the chosen database adapter.
// The supabase adapter talks to a PostgREST double (msw) that runs the call on
// the same real database with the token's claims: real supabase-js, real RLS.
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { verify } from 'hono/jwt';
import { type Claims, type Db, DbError } from '../../functions/_shared/db/port.ts';
import { sqlAdapter } from '../../functions/_shared/db/sql_adapter.ts';
import { httpStatusForDbCode } from '../../functions/_shared/db/status.ts';
import { supabaseAdapter } from '../../functions/_shared/db/supabase_adapter.ts';
import type { LogLine } from '../../functions/_shared/http/app.ts';
import { createGateway } from '../../scripts/lib/gateway.ts';
import type { TrainingExamplesOptions } from '../../functions/training-examples/app.ts';
import { jwtSecret, mintToken } from '../../scripts/lib/tokens.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import type { RpcName } from '../../functions/_shared/db/rpc.gen.ts';

export type AdapterKind = 'sql' | 'supabase';
export const ADAPTERS: AdapterKind[] = ['sql', 'supabase'];
export const SUPABASE_URL = 'http://supabase.test';

export interface Harness {
  database: TestDatabase;
  db: Db;
  logs: LogLine[];
  request(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<Response>;
  /** The local gateway itself, e.g. to serve it on a real socket (scripts/lib/http_server.ts). */
  fetch(request: Request): Response | Promise<Response>;
  tokens: { alice: string; bob: string; service: string; anon: string };
  users: { alice: string; bob: string };
  close(): Promise<void>;
}

/** The bearer token the wandb-webhook function expects in tests (unless a test sets its own). */
export const WEBHOOK_TOKEN = 'test-wandb-webhook-token';

export async function createHarness(
  adapter: AdapterKind,
  options: {
    bodyLimitBytes?: number; requestTimeoutMs?: number; wandb?: { token?: string; secret?: string }; corsAllowedOrigins?: string;
    trainingExamples?: TrainingExamplesOptions;
  } = {},
): Promise<Harness> {
  const database = await createTestDatabase();
  const direct = sqlAdapter(database.client);
  let mock: ReturnType<typeof setupServer> | undefined;
  let db: Db = direct;
  if (adapter === 'supabase') {
    mock = setupServer(postgrestDouble(direct));
    mock.listen({ onUnhandledRequest: 'error' });
    db = supabaseAdapter({ url: SUPABASE_URL, anonKey: await mintToken({ role: 'anon' }) });
  }
  const logs: LogLine[] = [];
  const gateway = createGateway({
    db, log: (l) => logs.push(l), bodyLimitBytes: options.bodyLimitBytes, requestTimeoutMs: options.requestTimeoutMs,
    wandb: options.wandb ?? { token: WEBHOOK_TOKEN }, corsAllowedOrigins: options.corsAllowedOrigins,
    trainingExamples: options.trainingExamples,
  });
  const users = { alice: crypto.randomUUID(), bob: crypto.randomUUID() };
  const tokens = {
    alice: await mintToken({ role: 'authenticated', sub: users.alice }),
    bob: await mintToken({ role: 'authenticated', sub: users.bob }),
    service: await mintToken({ role: 'service_role' }),
    anon: await mintToken({ role: 'anon' }),
  };
  return {
    database, db, logs, tokens, users,
    fetch: (request) => gateway.fetch(request),
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      const token = init.token === undefined ? tokens.alice : init.token;
      if (token) headers.set('authorization', `Bearer ${token}`);
      let body = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      return Promise.resolve(gateway.fetch(new Request(`http://127.0.0.1:54321/functions/v1${path}`, { ...init, headers, body })));
    },
    async close() {
      mock?.close();
      await database.close();
    },
  };
}

/** POST /rest/v1/rpc/:fn as PostgREST answers it: verified JWT, role and claims, its error shape and status table. */
function postgrestDouble(direct: Db) {
  return http.post(`${SUPABASE_URL}/rest/v1/rpc/:fn`, async ({ request, params }) => {
    const token = (request.headers.get('authorization') ?? '').replace(/^Bearer /, '');
    let claims: Claims;
    try {
      claims = await verify(token, jwtSecret(), 'HS256') as unknown as Claims;
    } catch {
      return HttpResponse.json({ code: 'PGRST301', message: 'JWT invalid', details: null, hint: null }, { status: 401 });
    }
    const args = await request.json() as Record<string, unknown>;
    try {
      const result = await direct.rpc(String(params.fn) as RpcName, args, { claims, token });
      return HttpResponse.json(result as never);
    } catch (err) {
      const e = err instanceof DbError ? err : new DbError('XX000', String(err));
      return HttpResponse.json({ code: e.code, message: e.message, details: e.details, hint: e.hint },
        { status: httpStatusForDbCode(e.code, claims.role === 'anon') });
    }
  });
}

export async function json<T = any>(response: Response): Promise<T> {
  return await response.json() as T;
}
