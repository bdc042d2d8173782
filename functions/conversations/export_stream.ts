// An export as a streamed file: pages of conversations are fetched as the
// client reads (a pull stream, one page prefetched), so memory stays flat
// however large the export. The bytes and their sha256 are counted on
// the way out, and the export log row records the outcome: completed, or
// failed with the reason (the client went away, the database failed).
import { createHash } from 'node:crypto';
import type { Caller, Db } from '../_shared/db/port.ts';
import { type ExportRow, fileWriter, type Format, type Shape } from './export_formats.ts';

export const EXPORT_PAGE_SIZE = 1000;

export interface ExportStart {
  id: string;
  format: Format;
  shape: Shape;
  include_metadata: boolean;
  file_name: string;
}

export function exportResponse(db: Db, caller: Caller, log: ExportStart, pageSize = EXPORT_PAGE_SIZE): Response {
  const writer = fileWriter(log.format, log.shape, log.include_metadata);
  const encoder = new TextEncoder();
  const hash = createHash('sha256');
  let bytes = 0;
  let cursor: { t: string; i: string } | null = null;
  let first = true;
  let finished = false;

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    if (text.length === 0) return;
    const chunk = encoder.encode(text);
    hash.update(chunk);
    bytes += chunk.byteLength;
    controller.enqueue(chunk);
  };
  const finish = async (error?: string) => {
    if (finished) return;
    finished = true;
    await db.rpc('conversations_export_finish', {
      p_export_id: log.id, p_bytes: bytes, p_sha256: error ? undefined : hash.digest('hex'), p_error: error,
    }, caller);
  };

  // One page ahead: while the client reads and we format page N, the database
  // builds page N+1. At most two pages are held, so memory stays flat.
  const fetchPage = (after: typeof cursor) => {
    const page = db.rpc<ExportRow[]>('conversations_export_page', {
      p_export_id: log.id, p_cursor: after ?? undefined, p_limit: pageSize,
    }, caller);
    page.catch(() => {}); // awaited later; this only keeps an early failure from being "unhandled"
    return page;
  };
  let next: Promise<ExportRow[]> | null = null;

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      emit(controller, writer.header);
    },
    async pull(controller) {
      try {
        const rows = await (next ?? fetchPage(cursor));
        next = null;
        if (rows.length === pageSize) {
          const last = rows[rows.length - 1]!.conversation;
          cursor = { t: last.created_at, i: last.id };
          next = fetchPage(cursor);
        }
        if (rows.length > 0) {
          emit(controller, writer.page(rows, first));
          first = false;
        }
        if (rows.length < pageSize) {
          emit(controller, writer.footer);
          await finish();
          controller.close();
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await next?.catch(() => {});
        await finish(`export stopped: ${reason}`).catch(() => {});
        controller.error(err);
      }
    },
    async cancel(reason) {
      await next?.catch(() => {});
      await finish(`the client closed the connection${reason ? `: ${String(reason)}` : ''}`).catch(() => {});
    },
  }, { highWaterMark: 0 });

  return new Response(stream, {
    status: 200,
    headers: {
      'content-type': writer.contentType,
      'content-disposition': `attachment; filename="${log.file_name}"`,
      'x-export-id': log.id,
      'cache-control': 'no-store',
    },
  });
}
