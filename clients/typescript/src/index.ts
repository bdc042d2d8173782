// The training registry's typed client for front ends: one openapi-fetch
// client per function, typed by the functions' own OpenAPI documents
// (src/generated, from `npm run generate:client`). Every call carries a
// bearer token (a fixed one, or the supabase-js session's, read per call),
// an x-request-id, and on POST/PATCH an Idempotency-Key kept across retries;
// connection failures and 502/503/504 are retried with backoff. `ok()` turns
// a result into its data or a typed error built from the problem+json body.
//
//   const registry = createRegistryClient({ url: 'http://127.0.0.1:54321', token: supabaseSession(supabase) });
//   const run = await ok(registry.runs.GET('/runs/{run_id}', { params: { path: { run_id: 'mgda_i-0abc' } } }));
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components as ConversationsSchemas, paths as ConversationsPaths } from './generated/conversations.ts';
import type { components as PackagesSchemas, paths as PackagesPaths } from './generated/packages.ts';
import type { components as RunsSchemas, paths as RunsPaths } from './generated/runs.ts';
import type { components as TrainingExamplesSchemas, paths as TrainingExamplesPaths } from './generated/training-examples.ts';
import type { components as WandbWebhookSchemas, paths as WandbWebhookPaths } from './generated/wandb-webhook.ts';

export type { ConversationsPaths, PackagesPaths, RunsPaths, TrainingExamplesPaths, WandbWebhookPaths };
export type Run = RunsSchemas['schemas']['Run'];
export type PackageVersion = PackagesSchemas['schemas']['PackageVersion'];
export type Package = PackagesSchemas['schemas']['Package'];
export type Conversation = ConversationsSchemas['schemas']['ConversationWithTurns'];
export type TrainingExample = TrainingExamplesSchemas['schemas']['TrainingExample'];
export type WandbDelivery = WandbWebhookSchemas['schemas']['WandbDelivery'];
export type Problem = RunsSchemas['schemas']['Problem'];

/** A token, or a function answering the current one (read on every call, so a refreshed session is used). */
export type TokenSource = string | (() => string | null | undefined | Promise<string | null | undefined>);

export interface RegistryClientOptions {
  /** A Supabase project URL (https://<ref>.supabase.co), the local server (http://127.0.0.1:54321), or the functions' base itself. */
  url: string;
  /** A user's or the service role's JWT; see supabaseSession() for a signed-in supabase-js client. */
  token?: TokenSource;
  /** wandb-webhook's own bearer token (WANDB_WEBHOOK_TOKEN), for `wandbWebhook` only. */
  webhookToken?: string;
  /** The project's anon (publishable) key, sent as `apikey` when given. */
  apiKey?: string;
  /** More attempts after a connection failure or a 502/503/504 (default 3). */
  retries?: number;
  /** First pause between attempts, doubling each time (default 500 ms); a Retry-After answer wins. */
  backoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof globalThis.fetch;
}

const RETRY_STATUSES = new Set([502, 503, 504]);
const NON_IDEMPOTENT = new Set(['POST', 'PATCH']);

export function createRegistryClient(options: RegistryClientOptions) {
  const baseUrl = functionsBase(options.url);
  const fetch = retryingFetch(options.fetch ?? globalThis.fetch.bind(globalThis), options);
  const make = <Paths extends {}>(token: TokenSource | undefined): Client<Paths> => {
    const client = createClient<Paths>({ baseUrl, fetch });
    client.use(callHeaders(token, options.apiKey));
    return client;
  };
  return {
    runs: make<RunsPaths>(options.token),
    packages: make<PackagesPaths>(options.token),
    conversations: make<ConversationsPaths>(options.token),
    trainingExamples: make<TrainingExamplesPaths>(options.token),
    wandbWebhook: make<WandbWebhookPaths>(options.webhookToken),
  };
}
export type RegistryClient = ReturnType<typeof createRegistryClient>;

/**
 * The access token of a supabase-js client's signed-in session, read on each
 * call (supabase-js refreshes it). Structurally typed: no supabase-js import.
 */
export function supabaseSession(supabase: {
  auth: { getSession(): Promise<{ data: { session: { access_token: string } | null } }> };
}): () => Promise<string | undefined> {
  return async () => (await supabase.auth.getSession()).data.session?.access_token;
}

/** `https://x.supabase.co` and `http://127.0.0.1:54321` mean their `/functions/v1`. */
function functionsBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return new URL(trimmed).pathname === '/' ? `${trimmed}/functions/v1` : trimmed;
}

function callHeaders(token: TokenSource | undefined, apiKey: string | undefined): Middleware {
  return {
    async onRequest({ request }) {
      const bearer = typeof token === 'function' ? await token() : token;
      if (bearer) request.headers.set('authorization', `Bearer ${bearer}`);
      if (apiKey) request.headers.set('apikey', apiKey);
      if (!request.headers.has('x-request-id')) request.headers.set('x-request-id', crypto.randomUUID());
      // One key per call, the same on each retry (IETF draft "The Idempotency-Key HTTP Header Field").
      if (NON_IDEMPOTENT.has(request.method) && !request.headers.has('idempotency-key')) {
        request.headers.set('idempotency-key', crypto.randomUUID());
      }
      return request;
    },
  };
}

/** fetch with retries: connection failures and 502/503/504 only (anything else is an answer worth keeping). */
function retryingFetch(fetch: typeof globalThis.fetch, options: RegistryClientOptions) {
  const retries = options.retries ?? 3;
  const backoff = options.backoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  return async (request: Request): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        // A clone per attempt: the original's body stays unread for the next one.
        response = await fetch(request.clone());
      } catch (error) {
        if (attempt >= retries) {
          throw new ConnectionFailed(`no answer from ${new URL(request.url).origin} after ${attempt + 1} attempts: ${String(error)}`, {
            requestId: request.headers.get('x-request-id'), cause: error,
          });
        }
        await pause(attempt, null);
        continue;
      }
      if (!RETRY_STATUSES.has(response.status) || attempt >= retries) return response;
      await response.body?.cancel();
      await pause(attempt, response.headers.get('retry-after'));
    }
  };

  function pause(attempt: number, retryAfter: string | null): Promise<void> {
    let ms = backoff * 2 ** attempt * (0.5 + Math.random());
    if (retryAfter && /^\d+$/.test(retryAfter.trim())) ms = Number(retryAfter) * 1000;
    return new Promise((resolve) => setTimeout(resolve, Math.min(ms, maxBackoff)));
  }
}

// -- errors -----------------------------------------------------------------

export interface FieldError { path: string; message: string }

/** An answer the registry refused (or none at all): `message` is the problem's detail. */
export class RegistryError extends Error {
  readonly status: number | null;
  readonly code: string | null;
  readonly errors: FieldError[];
  /** The x-request-id of the call, as the server logged it. */
  readonly requestId: string | null;
  readonly problem: Partial<Problem>;
  constructor(detail: string, init: { status?: number | null; problem?: Partial<Problem>; requestId?: string | null; cause?: unknown } = {}) {
    super(detail, { cause: init.cause });
    this.name = new.target.name;
    this.status = init.status ?? null;
    this.problem = init.problem ?? {};
    this.code = this.problem.code ?? null;
    this.errors = this.problem.errors ?? [];
    this.requestId = init.requestId ?? null;
  }
}
/** 400 (also 413, 415, 422): `errors` names each invalid field's path. */
export class BadRequest extends RegistryError {}
export class Unauthorized extends RegistryError {}
export class Forbidden extends RegistryError {}
export class NotFound extends RegistryError {}
export class Conflict extends RegistryError {}
export class ServerError extends RegistryError {}
/** 502, 503, 504: retried before raised. */
export class ServiceUnavailable extends ServerError {}
/** No answer at all (refused, reset, blocked by CORS), after the retries. */
export class ConnectionFailed extends ServiceUnavailable {}

const ERRORS: Record<number, typeof RegistryError> = {
  400: BadRequest, 413: BadRequest, 415: BadRequest, 422: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
  409: Conflict, 502: ServiceUnavailable, 503: ServiceUnavailable, 504: ServiceUnavailable,
};

/** The error for a non-2xx answer, from its problem body (or what there was of one). */
export function errorFor(response: Response, body: unknown): RegistryError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Partial<Problem>;
  const Class = ERRORS[response.status] ?? (response.status >= 500 ? ServerError : RegistryError);
  const detail = problem.detail ?? (typeof body === 'string' && body ? body.slice(0, 300) : `HTTP ${response.status}`);
  return new Class(detail, { status: response.status, problem, requestId: response.headers.get('x-request-id') });
}

/** What an openapi-fetch call resolves to: its data, or its error body, and the Response. */
type Result = { data?: unknown; error?: unknown; response: Response };
/** The data of the success branch of an openapi-fetch result. */
type Data<R> = R extends { data: infer D; error?: never } ? D : never;

/** The data of a successful call; otherwise throws its RegistryError (BadRequest, NotFound, ...). */
export async function ok<R extends Result>(result: R | Promise<R>): Promise<Data<R>> {
  const { data, error, response } = await result;
  if (!response.ok) throw errorFor(response, error);
  return data as Data<R>;
}

/** A streamed export, called with `parseAs: 'blob'`: the file and the name the server gave it. */
export async function download(result: Result | Promise<Result>): Promise<{
  blob: Blob; fileName: string | null; exportId: string | null; requestId: string | null;
}> {
  const { data: blob, error, response } = await result;
  if (!response.ok) throw errorFor(response, error);
  if (!(blob instanceof Blob)) throw new TypeError("download(): call the route with parseAs: 'blob'");
  const disposition = response.headers.get('content-disposition') ?? '';
  return {
    blob,
    fileName: /filename="([^"]+)"/.exec(disposition)?.[1] ?? null,
    exportId: response.headers.get('x-export-id'),
    requestId: response.headers.get('x-request-id'),
  };
}
