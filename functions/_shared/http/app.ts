// The app factory every function uses: request id, one JSON log line per
// request, CORS, a deadline, auth, strict query parameters, body guards
// (413/415, exact numbers, Idempotency-Key), zod validation errors and every
// other failure as RFC 9457 problems, and the function's OpenAPI document
// with a rendered API reference.
import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { Context, MiddlewareHandler, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { readEnv } from '../env.ts';
import { type Caller, type Db, DbError, type IdempotencyKey, type RpcOptions } from '../db/port.ts';
import { httpStatusForDbCode } from '../db/status.ts';
import type { RpcCall } from '../db/rpc.gen.ts';
import { allowedMethods } from './allowed_methods.ts';
import { type AuthOptions, authFromEnv, requireCaller } from './auth.ts';
import { bodyLimit, declaresBody, drainUnreadBody, readBodyText } from './body.ts';
import { allowedOrigins, corsMiddleware } from './cors.ts';
import { type Deadline, requestTimeoutMs, startDeadline } from './deadline.ts';
import { IDEMPOTENCY_HEADER, idempotencyFromRequest } from './idempotency.ts';
import { jsonDeeperThan, MAX_JSON_DEPTH } from './json_depth.ts';
import { firstInexactNumber } from './json_numbers.ts';
import { type FieldError, Problem, problemResponse } from './problem.ts';
import { strictQuery } from './query.ts';
import { functionPath } from './serve.ts';

export type AppEnv = {
  Variables: { caller: Caller; requestId: string; deadline: Deadline; idempotency: IdempotencyKey | undefined };
};
export type LogLine = Record<string, unknown>;

export interface FunctionDeps {
  db: Db;
  /** Where log lines go; defaults to one JSON line on stdout. */
  log?: (line: LogLine) => void;
  auth?: Partial<AuthOptions>;
  /** Largest accepted request body; 1 MiB unless set (or BODY_LIMIT_BYTES). */
  bodyLimitBytes?: number;
  /** Each request's deadline; REQUEST_TIMEOUT_MS, 20 s unless set. */
  requestTimeoutMs?: number;
  /** Browser origins allowed, as in CORS_ALLOWED_ORIGINS (read when this is unset); false leaves CORS out (the bench measures its cost). */
  corsAllowedOrigins?: string | false;
}

export interface FunctionOptions {
  /** 'jwt' for user-facing functions; 'none' for webhooks that check their own secret. */
  auth: 'jwt' | 'none';
  title: string;
  /** This function's default body limit, when larger bodies are its normal traffic (deps and BODY_LIMIT_BYTES still win). */
  bodyLimitBytes?: number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
const JSON_TYPE = /^application\/([\w.+-]*\+)?json\s*(;|$)/i;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createFunctionApp(name: string, deps: FunctionDeps, options: FunctionOptions) {
  const log = deps.log ?? ((line: LogLine) => console.log(JSON.stringify(line)));
  const maxSize = deps.bodyLimitBytes ?? Number(readEnv('BODY_LIMIT_BYTES') ?? options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT);
  const timeoutMs = requestTimeoutMs(deps.requestTimeoutMs);
  const basePath = `/${name}`;
  // Readable without a token: the OpenAPI document and its rendered reference.
  const publicPaths = new Set([`${basePath}/openapi.json`, `${basePath}/docs`]);

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook, getPath: functionPath }).basePath(basePath);

  app.use('*', async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set('requestId', requestId);
    await next();
    c.res.headers.set('x-request-id', requestId);
    const status = c.res.status;
    const line: LogLine = {
      time: new Date().toISOString(),
      level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
      function: name,
      request_id: requestId,
      method: c.req.method,
      path: c.req.path,
      status,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
    };
    const caller = c.get('caller');
    if (caller) {
      line.role = caller.claims.role;
      if (caller.claims.sub) line.sub = caller.claims.sub;
    }
    if (status >= 500 && c.error) line.error = errorText(c.error);
    log(line);
  });

  app.use('*', drainUnreadBody);

  const origins = deps.corsAllowedOrigins ?? readEnv('CORS_ALLOWED_ORIGINS');
  if (origins !== false) {
    // Preflight is answered here, before authentication and body checks.
    let methods: string[] | undefined;
    app.use('*', corsMiddleware(allowedOrigins(origins), () =>
      methods ??= [...new Set(app.routes.map((r) => r.method).filter((m) => m !== 'ALL'))]));
  }

  // The request's deadline, also aborted when the client goes away (the database work with it).
  app.use('*', async (c, next) => {
    const deadline = startDeadline(timeoutMs, c.req.raw.signal);
    c.set('deadline', deadline);
    try {
      await next();
    } finally {
      deadline.clear();
    }
  });

  if (options.auth === 'jwt') {
    const authenticate = authMiddleware(name, authFromEnv(deps.auth), log);
    app.use('*', (c, next) => (publicPaths.has(c.req.path) ? next() : authenticate(c, next)));
  }

  app.use('*', strictQuery(app, basePath));

  app.use('*', bodyLimit(maxSize, (c) => problemResponse(c, new Problem(413, `request body is larger than ${maxSize} bytes`))));

  app.use('*', async (c, next) => {
    if (c.req.method === 'GET') return next(); // a GET's body, if any, is never read (and drained after)
    if (declaresBody(c.req.raw) && !JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      throw new Problem(415, 'request body must be JSON: send Content-Type: application/json');
    }
    const body = await readBodyText(c);
    if (jsonDeeperThan(body, MAX_JSON_DEPTH)) {
      throw new Problem(400, `request body nests JSON more than ${MAX_JSON_DEPTH} levels deep`);
    }
    // A webhook keeps every authenticated delivery, refused ones too: it checks numbers itself, after its own auth.
    if (options.auth === 'jwt') {
      assertExactNumbers(body);
      c.set('idempotency', await idempotencyFromRequest(c.req.method, c.req.path, c.req.url, c.req.header(IDEMPOTENCY_HEADER), body));
    }
    await next();
  });

  app.onError((err, c) => problemResponse(c, toProblem(err, c.get('caller')?.claims.role === 'anon')));
  app.notFound((c) => {
    const path = c.req.path;
    const allowed = allowedMethods(app, path);
    if (allowed.length === 0) return problemResponse(c, new Problem(404, `no route for ${c.req.method} ${path}`));
    const response = problemResponse(c, new Problem(405, `${path} answers ${allowed.join(', ')}, not ${c.req.method}`));
    response.headers.set('allow', allowed.join(', '));
    return response;
  });

  if (options.auth === 'jwt') {
    app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
      type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a Supabase user or service-role JWT (HS256 locally)',
    });
  }
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: options.title, version: '1.0.0' },
    servers: [{ url: '/functions/v1' }],
    security: options.auth === 'jwt' ? [{ bearerAuth: [] }] : [],
  });
  // Swagger UI loads its script and styles from a CDN (jsDelivr); the document is this function's own.
  app.get('/docs', swaggerUI({ url: 'openapi.json', version: '5', title: `${options.title}: API reference` }));

  return app;
}

/**
 * Verifies the bearer token. When this deployment cannot verify tokens (see
 * authFromEnv) it says so once in the log and answers every request with a
 * 500 problem naming what to set, rather than trusting a public secret.
 */
function authMiddleware(name: string, auth: AuthOptions | Problem, log: (line: LogLine) => void): MiddlewareHandler {
  if (!(auth instanceof Problem)) return requireCaller(auth);
  log({ time: new Date().toISOString(), level: 'error', function: name, error: auth.message });
  return () => {
    throw auth;
  };
}

/**
 * Calls a SQL function as the request's caller, within the request's deadline;
 * database errors become problems. The request's Idempotency-Key, if any,
 * applies to its first call (the one write a handler makes).
 */
export async function callRpc<T>(c: Context<AppEnv>, db: Db, ...[fn, args]: RpcCall): Promise<T> {
  return await db.rpc<T>(fn, args, c.get('caller'), requestRpcOptions(c));
}

/**
 * callRpc for a function whose JSON result goes out as the response body
 * as it is (list pages, a run): its text, never parsed here (see jsonText).
 */
export async function callRpcText(c: Context<AppEnv>, db: Db, ...[fn, args]: RpcCall): Promise<string> {
  return await db.rpcText(fn, args, c.get('caller'), requestRpcOptions(c));
}

/** The request's deadline, and its Idempotency-Key for the first call only. */
function requestRpcOptions(c: Context<AppEnv>): RpcOptions {
  const deadline = c.get('deadline');
  const idempotency = c.get('idempotency');
  if (idempotency) c.set('idempotency', undefined);
  return { signal: deadline?.signal, deadline: deadline?.at, idempotency };
}

const utf8 = new TextEncoder();

/**
 * JSON text the database wrote, sent untouched with the content type c.json
 * sets (no JSON.parse, no JSON.stringify in between), typed as the route's
 * JSON response of T. It goes out as its UTF-8 bytes: @hono/node-server
 * writes a string body by measuring it (Buffer.byteLength) and then encoding
 * it inside the socket write, which for a 285 KB list page cost 0.27 ms of the
 * server's CPU a request (node --cpu-prof, GET /runs?limit=50); one
 * TextEncoder pass costs about 0.1 ms (bench/README.md).
 */
export function jsonText<T, S extends ContentfulStatusCode>(c: Context, text: string, status: S) {
  return c.body(utf8.encode(text), status, { 'content-type': 'application/json' }) as unknown as Response & TypedResponse<JSONParsed<T>, S, 'json'>;
}

/** For handlers that make several calls (a streamed export, a bulk rescore): the request's Idempotency-Key does not apply. */
export function ignoreIdempotencyKey(c: Context<AppEnv>): void {
  c.set('idempotency', undefined);
}

/** 400 naming the field of the first number JSON.parse would change (out of range, or more precise than a double). */
export function assertExactNumbers(body: string): void {
  const bad = firstInexactNumber(body);
  if (bad) throw new Problem(400, `invalid body: ${bad.path ? `${bad.path}: ` : ''}${bad.message}`, { errors: [{ path: bad.path, message: bad.message }] });
}

/** Any thrown error as a problem; database errors by PostgREST's table (anonymous: 42501 is 401). */
export function toProblem(err: unknown, anonymous = false): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof DbError) {
    const status = httpStatusForDbCode(err.code, anonymous);
    if (status === 503) return new Problem(503, unavailableDetail(err), { cause: err });
    if (status >= 500) return new Problem(status, 'internal error', { cause: err });
    // The anon key reached a function only users may call: say what to send, not which SQL function refused.
    if (status === 401 && err.code === '42501') {
      return new Problem(401, 'sign in: this needs a user\'s token (Authorization: Bearer <JWT>), not the anon key', { cause: err });
    }
    return new Problem(status, err.message, { cause: err });
  }
  if (err instanceof HTTPException) return new Problem(err.status, err.message || 'bad request', { cause: err });
  return new Problem(500, 'internal error', { cause: err });
}

// What a client is told about a 503: never the database's own words (they may carry SQL), but why and that a retry helps.
function unavailableDetail(err: DbError): string {
  if (err.code === '57014' && /^the (request did not finish|client closed)/.test(err.message)) return err.message;
  if (err.code === '57014') return 'the database canceled the request (its deadline passed)';
  if (err.code === '53100') return err.message.startsWith('the embedded database') ? err.message : 'database unavailable: its disk is full';
  return 'database unavailable';
}

function validationHook(result: { success: boolean; error?: ZodError; target: string }, c: Context) {
  if (result.success || !result.error) return;
  const errors = zodFieldErrors(result.error);
  const where = result.target === 'json' ? 'body' : result.target === 'param' ? 'path' : result.target;
  return problemResponse(c, new Problem(400, `invalid ${where}: ${describeFieldErrors(errors)}`, { errors }));
}

/** zod issues as the problem body's errors[]: a dotted path (items.3.trace_id) and a message. */
export function zodFieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export function describeFieldErrors(errors: FieldError[]): string {
  return errors.map((e) => e.path ? `${e.path}: ${e.message}` : e.message).join('; ');
}

function errorText(err: Error): string {
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
