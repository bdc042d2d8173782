// A file streamed page by page: pages are fetched as the client reads (a
// pull stream, one page prefetched so the database works while the previous
// page is written), so memory stays flat however large the file. Bytes and
// their sha256 are counted on the way out and reported when the file ends,
// fails, or the client goes away.
import { createHash } from 'node:crypto';

export type Cursor = { t: string; i: string };

export interface PagedFile<Row> {
  /** Rows after the cursor (null: from the start), at most pageSize. */
  fetchPage(after: Cursor | null, pageSize: number): Promise<Row[]>;
  /** Where the next page starts after this row. */
  cursorAfter(row: Row): Cursor;
  header: string;
  renderPage(rows: Row[], first: boolean): string;
  footer: string;
  /** Called once: with the sha256 when the file is complete, with the reason when it is not. */
  onEnd(outcome: { bytes: number; sha256?: string; error?: string }): Promise<unknown>;
  pageSize: number;
}

export function pagedFileStream<Row>(file: PagedFile<Row>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const hash = createHash('sha256');
  let bytes = 0;
  let first = true;
  let ended = false;
  let next: Promise<Row[]> | null = null;

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    if (text.length === 0) return;
    const chunk = encoder.encode(text);
    hash.update(chunk);
    bytes += chunk.byteLength;
    controller.enqueue(chunk);
  };
  const end = async (error?: string) => {
    if (ended) return;
    ended = true;
    await file.onEnd(error ? { bytes, error } : { bytes, sha256: hash.digest('hex') });
  };
  const fetchPage = (after: Cursor | null) => {
    const page = file.fetchPage(after, file.pageSize);
    page.catch(() => {}); // awaited later; this only keeps an early failure from being "unhandled"
    return page;
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      emit(controller, file.header);
    },
    async pull(controller) {
      try {
        const rows = await (next ?? fetchPage(null));
        next = rows.length === file.pageSize ? fetchPage(file.cursorAfter(rows[rows.length - 1]!)) : null;
        if (rows.length > 0) {
          emit(controller, file.renderPage(rows, first));
          first = false;
        }
        if (rows.length < file.pageSize) {
          emit(controller, file.footer);
          await end();
          controller.close();
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await next?.catch(() => {});
        await end(`export stopped: ${reason}`).catch(() => {});
        controller.error(err);
      }
    },
    async cancel(reason) {
      await next?.catch(() => {});
      await end(`the client closed the connection${reason ? `: ${String(reason)}` : ''}`).catch(() => {});
    },
  }, { highWaterMark: 0 });
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
