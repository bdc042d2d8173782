// A conversations export as a streamed file (functions/_shared/export), its
// pages from conversations_export_page (as the caller: what they may see)
// and its outcome in export_logs (as the service role: the function vouches
// for the size and checksum it computed).
import type { Caller, Db } from '../_shared/db/port.ts';
import type { RpcArgs } from '../_shared/db/rpc.gen.ts';
import { type ExportRow, fileWriter, type Format, type Shape } from '../_shared/export/chat_formats.ts';
import { fileHeaders, pageCall, pagedFileStream } from '../_shared/export/paged_stream.ts';

export const EXPORT_PAGE_SIZE = 1000;

export interface ExportStart {
  id: string;
  format: Format;
  shape: Shape;
  include_metadata: boolean;
  file_name: string;
}

export function exportResponse(
  db: Db, caller: Caller, finishAs: () => Promise<Caller>, log: ExportStart, pageSize = EXPORT_PAGE_SIZE,
  delivered?: () => Promise<string | null>,
): Response {
  const writer = fileWriter(log.format, log.shape, log.include_metadata);
  const stream = pagedFileStream<ExportRow>({
    pageSize,
    fetchPage: (after, limit, signal) => pageCall(signal, (options) =>
      db.rpc<ExportRow[]>('conversations_export_page', { p_export_id: log.id, p_cursor: after ?? undefined, p_limit: limit } satisfies RpcArgs<'conversations_export_page'>, caller, options)),
    cursorAfter: (row) => ({ t: row.conversation.created_at, i: row.conversation.id }),
    header: writer.header,
    renderPage: writer.page,
    footer: writer.footer,
    delivered,
    onEnd: async ({ bytes, sha256, error }) =>
      db.rpc('conversations_export_finish', { p_export_id: log.id, p_bytes: bytes, p_sha256: sha256, p_error: error } satisfies RpcArgs<'conversations_export_finish'>, await finishAs()),
  });
  return new Response(stream, { status: 200, headers: { ...fileHeaders(writer.contentType, log.file_name), 'x-export-id': log.id } });
}
