// Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header): a client
// that retries a POST, PUT, PATCH or DELETE sends the same key each time.
// The first request's answer is stored in the database in the same
// transaction as its effect (public.idempotent_call), so a retry either finds
// it (and gets it again, without a second effect) or finds nothing because
// the first never committed. Same key with another body: 422. Same key while
// the first is still running: 409. Keys are per caller and kept 24 hours.
import { Problem } from './problem.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// The draft's value is a Structured Field string ("..."); a bare token is accepted too.
const KEY = /^"?([\x20-\x21\x23-\x5b\x5d-\x7e]{1,255})"?$/;

/**
 * The request's key and fingerprint (method, the function's path and the
 * query, body), or undefined when it has none or its method ignores it.
 */
export async function idempotencyFromRequest(method: string, path: string, url: string, header: string | undefined, body: string) {
  if (header === undefined || !METHODS.has(method)) return undefined;
  const match = KEY.exec(header.trim());
  if (!match || match[1]!.trim() === '') {
    throw new Problem(400, `${IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters (a UUID is a good key)`,
      { errors: [{ path: IDEMPOTENCY_HEADER, message: 'must be 1-255 visible ASCII characters' }] });
  }
  const { search } = new URL(url);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${method} ${path}${search}\n${body}`));
  const fingerprint = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { key: match[1]!, fingerprint };
}
