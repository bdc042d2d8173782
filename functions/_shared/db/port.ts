// The database port: handlers call SQL functions by name, never build SQL.
// Two adapters implement it (sql_adapter.ts, supabase_adapter.ts) and must behave the same.

import type { RpcName } from './rpc.gen.ts';

export type Role = 'anon' | 'authenticated' | 'service_role';
export const ROLES: readonly Role[] = ['anon', 'authenticated', 'service_role'];

/** JWT claims as PostgREST hands them to SQL in `request.jwt.claims`. */
export interface Claims {
  role: Role;
  sub?: string;
  [claim: string]: unknown;
}

/** Who is calling: the verified claims and the raw token they came from. */
export interface Caller {
  claims: Claims;
  token: string;
}

/** A retried request's key (the Idempotency-Key header) and what it must match (method, path and body). */
export interface IdempotencyKey {
  key: string;
  fingerprint: string;
  /** Set by the adapter: true when the answer is the one stored for an earlier request with this key. */
  replayed?: boolean;
}

/** How one call may run: until when, abandoned on what, under which idempotency key. */
export interface RpcOptions {
  /** When it aborts (the client went away, the deadline passed), the call is abandoned and never commits. */
  signal?: AbortSignal;
  /** Epoch milliseconds by which the call must be over: the database enforces it too (statement and lock timeouts). */
  deadline?: number;
  /** Store the answer under this key, or answer the stored one (public.idempotent_call). */
  idempotency?: IdempotencyKey;
}

export interface Db {
  /** Calls `public.<fn>` with named arguments as the caller; resolves to its JSON result. */
  rpc<T = unknown>(fn: RpcName, args: Record<string, unknown>, caller: Caller, options?: RpcOptions): Promise<T>;
  /**
   * The same call; resolves to its JSON result as text, for a handler to send
   * as the response body untouched (list pages: no parse, no stringify). The
   * sql adapter hands over the text PostgreSQL wrote; the supabase adapter
   * serialises what supabase-js parsed. Same JSON value either way.
   */
  rpcText(fn: RpcName, args: Record<string, unknown>, caller: Caller, options?: RpcOptions): Promise<string>;
  close(): Promise<void>;
}

/** An error raised by the database, in PostgREST's shape (SQLSTATE or PGRST code). */
export class DbError extends Error {
  readonly code: string;
  readonly details: string | null;
  readonly hint: string | null;
  constructor(code: string, message: string, details?: string | null, hint?: string | null) {
    super(message);
    this.name = 'DbError';
    this.code = code;
    this.details = details ?? null;
    this.hint = hint ?? null;
  }
}

/** Normalises an error thrown by postgres.js or PGlite into a DbError. */
export function toDbError(err: unknown): DbError {
  if (err instanceof DbError) return err;
  const e = err as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown };
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new DbError(e.code, String(e.message ?? 'database error'),
      typeof e.detail === 'string' ? e.detail : null, typeof e.hint === 'string' ? e.hint : null);
  }
  // Driver-level connection failures (pg: "Connection terminated unexpectedly",
  // "timeout exceeded when trying to connect", ECONNREFUSED, ...; PGlite:
  // "PGlite is closed") mean the database is unavailable; anything else is a bug.
  const message = err instanceof Error ? err.message : String(err);
  const connection = (typeof e?.code === 'string' && /^(CONNECT|CONNECTION_|E[A-Z]+)/.test(e.code))
    || /closed|connect|terminat|timeout exceeded|after calling end/i.test(message);
  return new DbError(connection ? '08000' : 'XX000', message);
}

/**
 * The connection failed under the call (not the call itself): class 08, or the
 * server shutting down or starting (57P01, 57P02, 57P03). A read may be retried
 * once on a fresh connection.
 */
export function isConnectionFailure(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}
