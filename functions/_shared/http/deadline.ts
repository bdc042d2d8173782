// Every request has a deadline (REQUEST_TIMEOUT_MS). Its signal aborts when
// the deadline passes or the client goes away; the database call of the
// request is then abandoned (never commits) and the answer is a 503 with
// Retry-After. The database enforces the same deadline on its side
// (statement_timeout and lock_timeout local to the request's transaction),
// so work never outlives the request that asked for it.
import { DbError } from '../db/port.ts';
import { readEnv } from '../env.ts';

/**
 * Well under the edge runtime's limits (Supabase: 150 s request idle timeout,
 * 150-400 s wall clock), and above the slowest normal request (a 16 MiB log
 * batch on the embedded database takes a few seconds).
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

export interface Deadline {
  /** Aborts with a DbError (57014) when the deadline passes or the client goes away. */
  signal: AbortSignal;
  /** Epoch milliseconds. */
  at: number;
  ms: number;
}

export function requestTimeoutMs(configured?: number): number {
  const ms = configured ?? Number(readEnv('REQUEST_TIMEOUT_MS') ?? DEFAULT_REQUEST_TIMEOUT_MS);
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`REQUEST_TIMEOUT_MS must be a positive number of milliseconds, not ${ms}`);
  return ms;
}

export function deadlineExceeded(ms: number): DbError {
  return new DbError('57014', `the request did not finish within its deadline of ${ms} ms`);
}

export function clientGone(): DbError {
  return new DbError('57014', 'the client closed the connection');
}

/** A deadline `ms` from now, also aborted when `client` (the request's own signal) aborts. Call clear() when the work is over. */
export function startDeadline(ms: number, client?: AbortSignal): Deadline & { clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(deadlineExceeded(ms)), ms);
  (timer as { unref?: () => void }).unref?.();
  const onClient = () => controller.abort(clientGone());
  if (client?.aborted) onClient();
  else client?.addEventListener('abort', onClient, { once: true });
  return {
    signal: controller.signal,
    at: Date.now() + ms,
    ms,
    clear() {
      clearTimeout(timer);
      client?.removeEventListener('abort', onClient);
    },
  };
}
