// A file streamed page by page: pages are fetched as the client reads (a
// pull stream, one page prefetched so the database works while the previous
// page is written), so memory stays flat however large the file. Bytes and
// their sha256 are counted on the way out and reported once, truthfully:
//   - completed only when the whole file was handed off: the reader took the
//     last chunk and, where the server says so (Node: the response's
//     'finish'), the response was flushed to the socket;
//   - otherwise failed with the bytes handed to the server so far and why
//     ("the client closed the connection after N bytes", "export stopped: ...").
import { createHash } from 'node:crypto';
import type { RpcOptions } from '../db/port.ts';
import { requestTimeoutMs, startDeadline } from '../http/deadline.ts';

export type Cursor = { t: string; i: string };

export interface PagedFile<Row> {
  /** Rows after the cursor (null: from the start), at most pageSize; abandoned when the signal aborts (the client left). */
  fetchPage(after: Cursor | null, pageSize: number, signal: AbortSignal): Promise<Row[]>;
  /** Where the next page starts after this row. */
  cursorAfter(row: Row): Cursor;
  header: string;
  renderPage(rows: Row[], first: boolean): string;
  footer: string;
  /** Called once: with the sha256 when the file is complete, with the reason when it is not. */
  onEnd(outcome: { bytes: number; sha256?: string; error?: string }): Promise<unknown>;
  pageSize: number;
  /**
   * After the last chunk was taken: resolves null once the server has handed
   * the whole response to the socket, or the reason it could not (see
   * responseDelivery). Without it, taking the last chunk counts as delivered.
   */
  delivered?: () => Promise<string | null>;
}

export function pagedFileStream<Row>(file: PagedFile<Row>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const hash = createHash('sha256');
  const stop = new AbortController();
  let pending: Uint8Array[] = [];
  let enqueued = 0; // bytes given to the stream
  let handedOff = 0; // bytes the reader has taken (every pull: all enqueued so far)
  let first = true;
  let last = false; // the footer is enqueued
  let ended = false;
  let next: Promise<Row[]> | null = null;

  const add = (text: string) => {
    if (text.length === 0) return;
    const chunk = encoder.encode(text);
    hash.update(chunk);
    pending.push(chunk);
  };
  const flush = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (pending.length === 0) return;
    const chunk = pending.length === 1 ? pending[0]! : concat(pending);
    pending = [];
    enqueued += chunk.byteLength;
    controller.enqueue(chunk);
  };
  const end = async (error?: string) => {
    if (ended) return;
    ended = true;
    stop.abort();
    await file.onEnd(error ? { bytes: handedOff, error } : { bytes: handedOff, sha256: hash.digest('hex') });
  };
  const fetchPage = (after: Cursor | null) => {
    const page = file.fetchPage(after, file.pageSize, stop.signal);
    page.catch(() => {}); // awaited later; this only keeps an early failure from being "unhandled"
    return page;
  };

  return new ReadableStream<Uint8Array>({
    start() {
      add(file.header);
    },
    async pull(controller) {
      handedOff = enqueued;
      // The reader took the last chunk (or the file ended with nothing left to
      // send). Where the server tells (Node), the file is out once the
      // response left after the stream's end; elsewhere, now (logged before
      // the reader sees the end).
      const close = async () => {
        if (!file.delivered) {
          await end();
          controller.close();
          return;
        }
        controller.close();
        const failed = await file.delivered();
        await end(failed ? `${failed} after ${handedOff} bytes had been handed to the server` : undefined);
      };
      try {
        if (last && pending.length === 0) return await close();
        while (!last && (pending.length === 0 || first)) {
          const rows = await (next ?? fetchPage(null));
          if (ended) return; // the client left while the page was read
          next = rows.length === file.pageSize ? fetchPage(file.cursorAfter(rows[rows.length - 1]!)) : null;
          if (rows.length > 0) add(file.renderPage(rows, first));
          first = false;
          if (rows.length < file.pageSize) {
            add(file.footer);
            last = true;
          }
        }
        // An empty last page with no footer (JSONL) leaves nothing to send:
        // close now, as no further pull would come without a chunk.
        if (last && pending.length === 0) return await close();
        flush(controller);
      } catch (err) {
        if (ended) return;
        const reason = err instanceof Error ? err.message : String(err);
        await next?.catch(() => {});
        await end(`export stopped after ${handedOff} bytes: ${reason}`).catch(() => {});
        try {
          controller.error(err);
        } catch {
          // already closed by the reader
        }
      }
    },
    async cancel(reason) {
      handedOff = Math.min(handedOff, enqueued);
      await end(`the client closed the connection after ${handedOff} bytes${reason ? `: ${String(reason)}` : ''}`).catch(() => {});
      await next?.catch(() => {});
    },
  }, { highWaterMark: 0 });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** One page's database call: within a request's deadline of its own, abandoned when the client leaves. */
export async function pageCall<T>(signal: AbortSignal, call: (options: RpcOptions) => Promise<T>): Promise<T> {
  const deadline = startDeadline(requestTimeoutMs(), signal);
  try {
    return await call({ signal: deadline.signal, deadline: deadline.at });
  } finally {
    deadline.clear();
  }
}

/** Node's response (what @hono/node-server passes as env.outgoing), as far as delivery goes. */
interface NodeResponse {
  once(event: 'finish' | 'close', listener: () => void): unknown;
  readonly writableFinished: boolean;
}

/**
 * When the server is Node (@hono/node-server hands the app `{ outgoing }` as
 * its env), whether the whole response reached the socket: 'finish' (every
 * byte handed to the operating system) or 'close' before it (the client went
 * away). Listens from the start, so neither event is missed. Elsewhere
 * (Deno, tests calling app.fetch) undefined: the stream's own end counts.
 */
export function responseDelivery(env: unknown): (() => Promise<string | null>) | undefined {
  const outgoing = (env as { outgoing?: Partial<NodeResponse> } | undefined)?.outgoing;
  if (!outgoing || typeof outgoing.once !== 'function') return undefined;
  const node = outgoing as NodeResponse;
  const done = new Promise<string | null>((resolve) => {
    node.once('finish', () => resolve(null));
    node.once('close', () => resolve(node.writableFinished ? null : 'the client closed the connection'));
  });
  return () => done;
}

/** A download's file name: `<prefix>-<UTC time, e.g. 20261123T101500Z>-<shape>.<extension>`. */
export function exportFileName(prefix: string, shape: string, extension: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  return `${prefix}-${stamp}-${shape}.${extension}`;
}

/** The response headers of a downloadable file. */
export function fileHeaders(contentType: string, fileName: string): Record<string, string> {
  return { 'content-type': contentType, 'content-disposition': `attachment; filename="${fileName}"`, 'cache-control': 'no-store' };
}
