// Request bodies: the size limit, and bodies nobody read. Answering while the
// client is still sending (a 413, or a 401, 404 or 415 decided from the
// headers) lets Node's server reset the connection under the client
// (undici: UND_ERR_SOCKET instead of the answer) and breaks its keep-alive
// connection. So a body left unread is read and thrown away before the
// answer goes out, up to DRAIN_LIMIT_BYTES; past that the answer carries
// `Connection: close` and the connection ends after it.
import type { Context, MiddlewareHandler } from 'hono';

export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** Whether the request declares a body: Content-Length above 0, or Transfer-Encoding (HTTP/1.1's two ways). */
export function declaresBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  return length !== null ? Number(length) > 0 : request.headers.has('transfer-encoding');
}

/**
 * False when the request can have no body: a GET or HEAD that declares none
 * (any other method may stream one over HTTP/2 without declaring it). Asked
 * before touching request.body, which @hono/node-server answers by building
 * a whole fetch Request from Node's message.
 */
function mayHaveBody(request: Request): boolean {
  return (request.method !== 'GET' && request.method !== 'HEAD') || declaresBody(request);
}

// Requests whose body readBodyText read to the end: nothing to drain, and no
// need to ask for request.body (see mayHaveBody).
const readWhole = new WeakSet<Request>();

/** The request's body as text (Hono caches it for the validators); on Node read straight from the socket. */
export async function readBodyText(c: Context): Promise<string> {
  const text = await c.req.text();
  readWhole.add(c.req.raw);
  return text;
}

/** Reads the unread rest of a request body and discards it; false when more than `limit` bytes are (or are declared to be) left. */
export async function discardUnreadBody(request: Request, limit = DRAIN_LIMIT_BYTES): Promise<boolean> {
  if (!mayHaveBody(request) || readWhole.has(request)) return true;
  const body = request.body;
  if (!body || body.locked) return true; // no body, or being read by its handler
  if (Number(request.headers.get('content-length') ?? 0) > limit) return false;
  const reader = body.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      seen += value.byteLength;
      if (seen > limit) return false;
    }
  } catch {
    return false; // the client went away mid-body
  } finally {
    reader.releaseLock();
  }
}

/** Drains what the request's handlers left unread once the answer is ready (see the file comment). */
export const drainUnreadBody: MiddlewareHandler = async (c, next) => {
  await next();
  if (!await discardUnreadBody(c.req.raw)) c.res.headers.set('connection', 'close');
};

/**
 * Refuses bodies over `maxSize` with `tooLarge`. A declared Content-Length is
 * trusted (the runtime delivers no more than it says); a chunked body is
 * buffered up to the limit. What is left unread is drainUnreadBody's.
 */
export function bodyLimit(maxSize: number, tooLarge: (c: Context) => Response): MiddlewareHandler {
  return async (c, next) => {
    if (!mayHaveBody(c.req.raw)) return next();
    const length = c.req.raw.headers.has('transfer-encoding') ? null : c.req.raw.headers.get('content-length');
    if (length !== null) return Number(length) > maxSize ? tooLarge(c) : next();
    const body = c.req.raw.body;
    if (!body) return next();
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) {
        reader.releaseLock();
        return tooLarge(c);
      }
      chunks.push(value);
    }
    const buffered = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      buffered.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buffered });
    return next();
  };
}
