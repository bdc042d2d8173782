// An export as a streamed file: one page of conversations is fetched only
// when the client has taken the previous one (a pull stream), so memory stays
// flat however large the export. The bytes and their sha256 are counted on
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

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      emit(controller, writer.header);
    },
    async pull(controller) {
      try {
        const rows = await db.rpc<ExportRow[]>('conversations_export_page', {
          p_export_id: log.id, p_cursor: cursor ?? undefined, p_limit: pageSize,
        }, caller);
        if (rows.length > 0) {
          emit(controller, writer.page(rows, first));
          first = false;
          const last = rows[rows.length - 1]!.conversation;
          cursor = { t: last.created_at, i: last.id };
        }
        if (rows.length < pageSize) {
          emit(controller, writer.footer);
          await finish();
          controller.close();
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await finish(`export stopped: ${reason}`).catch(() => {});
        controller.error(err);
      }
    },
    async cancel(reason) {
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
