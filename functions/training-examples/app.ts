// Function `training-examples`: trace-log ingestion (examples are extracted
// by the database as logs arrive), trainable annotations, lists, few-shot
// retrieval, stats, the JSONL export of trainable examples, and a batch of
// the full-text indexer (which runs off the ingest path).
import { createRoute, z } from '@hono/zod-openapi';
import { callRpc, callRpcText, createFunctionApp, type FunctionDeps, jsonText } from '../_shared/http/app.ts';
import type { RpcArgs } from '../_shared/db/rpc.gen.ts';
import { errorResponses, fileResponse, jsonBody, jsonResponse } from '../_shared/http/openapi.ts';
import { page } from '../_shared/http/params.ts';
import { type ExportRow, fileWriter } from '../_shared/export/chat_formats.ts';
import { exportFileName, fileHeaders, pageCall, pagedFileStream, responseDelivery } from '../_shared/export/paged_stream.ts';
import {
  AnnotationBody, Example, ExportQuery, FewShot, FewShotQuery, IngestResult, ListQuery, LogBatch, type LogEvent, SearchIndexQuery,
  SEARCH_INDEX_DEFAULT_LIMIT, SearchIndexResult, Stats, TraceId,
} from './schemas.ts';

const TraceParams = z.object({ trace_id: TraceId });
const EXPORT_PAGE_SIZE = 1000;
export const LOG_BATCH_BODY_LIMIT = 16 * 1024 * 1024;
const KNOWN_FIELDS = new Set(['id', 'trace_id', 'parent_id', 'session_id', 'cascade_id', 'cell_name', 'node_type', 'model', 'role',
  'request', 'response', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'duration_ms', 'created_at', 'metadata']);

/** A \u0000 escape in JSON text (not preceded by an escaping backslash). */
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * The event as stored: fields the table has as columns, everything else in
 * metadata. Postgres' jsonb cannot hold the NUL character, which is valid
 * JSON: it becomes U+FFFD rather than failing the writer's whole batch.
 */
function storedEvent(event: LogEvent): Record<string, unknown> {
  const known: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event)) (KNOWN_FIELDS.has(k) ? known : rest)[k] = v;
  const text = JSON.stringify({ ...known, metadata: { ...rest, ...event.metadata } });
  return JSON.parse(text.includes('\\u0000') ? text.replace(NUL_ESCAPE, '$1\\ufffd') : text);
}

interface ExportedExample {
  trace_id: string; created_at: string; cascade_id: string | null; cell_name: string | null; model: string | null;
  system_prompt: string | null; user_input: string; assistant_output: string;
}

const routes = {
  ingest: createRoute({
    operationId: 'ingestLogs', method: 'post', path: '/logs', summary: 'Ingest up to 1,000 log events in one transaction (service role); replays ignored',
    request: { body: jsonBody(LogBatch) },
    responses: { 200: jsonResponse(IngestResult, 'how many were new'), ...errorResponses },
  }),
  searchIndex: createRoute({
    operationId: 'runSearchIndex', method: 'post', path: '/search-index',
    summary: 'Index up to `limit` examples for full-text search, oldest first (service role; pg_cron runs it where available)',
    request: { query: SearchIndexQuery },
    responses: { 200: jsonResponse(SearchIndexResult, 'how many were indexed and how many are still pending'), ...errorResponses },
  }),
  list: createRoute({
    operationId: 'listExamples', method: 'get', path: '/', summary: 'Examples with their annotations, newest first, filtered, keyset paged',
    request: { query: ListQuery },
    responses: { 200: jsonResponse(page(Example), 'a page'), ...errorResponses },
  }),
  fewShot: createRoute({
    operationId: 'getFewShotExamples', method: 'get', path: '/few-shot', summary: 'The k best trainable examples for a prompt, in the order to inject them',
    request: { query: FewShotQuery },
    responses: { 200: jsonResponse(FewShot, 'the examples and how many were available'), ...errorResponses },
  }),
  stats: createRoute({
    operationId: 'getExampleStats', method: 'get', path: '/stats', summary: 'Per cascade and cell: examples, trainable, verified, mean confidence, latest',
    request: { query: z.object({ cascade_id: z.string().min(1).max(200).optional() }) },
    responses: { 200: jsonResponse(Stats, 'the stats view'), ...errorResponses },
  }),
  export: createRoute({
    operationId: 'exportExamples', method: 'get', path: '/export', summary: 'Trainable examples as streamed JSONL (openai or sharegpt records)',
    request: { query: ExportQuery },
    responses: { 200: fileResponse('the JSONL file, streamed', [fileWriter('jsonl', 'openai', false).contentType]), ...errorResponses },
  }),
  get: createRoute({
    operationId: 'getExample', method: 'get', path: '/{trace_id}', summary: 'One example with its annotation',
    request: { params: TraceParams },
    responses: { 200: jsonResponse(Example, 'the example'), ...errorResponses },
  }),
  annotate: createRoute({
    operationId: 'annotateExample', method: 'put', path: '/{trace_id}/annotation', summary: 'Write the annotation (replaces the one there; history kept)',
    request: { params: TraceParams, body: jsonBody(AnnotationBody) },
    responses: { 200: jsonResponse(Example, 'the example with its annotation'), ...errorResponses },
  }),
  clear: createRoute({
    operationId: 'clearAnnotation', method: 'delete', path: '/{trace_id}/annotation', summary: 'Clear the annotation (history kept)',
    request: { params: TraceParams },
    responses: { 200: jsonResponse(Example.extend({ cleared: z.boolean() }), 'the example, unannotated'), ...errorResponses },
  }),
};

export interface TrainingExamplesOptions {
  /**
   * Index at most this many examples per write in `POST /search-index`, the
   * rest of `limit` in further writes. npm start sets it on the embedded
   * database, where each write is admitted against the disk's free-space
   * floor on its own and one write of thousands of big examples could go past
   * it (docs/failure.md). Unset: one write, as PostgREST would run it.
   */
  searchIndexChunk?: number;
}

export function createTrainingExamplesApp(deps: FunctionDeps & { trainingExamples?: TrainingExamplesOptions }) {
  // A batch of 1,000 LLM calls with their prompts is several megabytes.
  const app = createFunctionApp('training-examples', deps, {
    auth: 'jwt', title: 'Training registry: training examples', bodyLimitBytes: LOG_BATCH_BODY_LIMIT,
  });
  const { db } = deps;

  app.openapi(routes.ingest, async (c) =>
    c.json(await callRpc<IngestResult>(c, db, 'training_logs_ingest', { p_events: c.req.valid('json').items.map(storedEvent) }), 200));

  app.openapi(routes.searchIndex, async (c) => {
    const limit = c.req.valid('query').limit ?? SEARCH_INDEX_DEFAULT_LIMIT;
    const chunk = Math.min(limit, deps.trainingExamples?.searchIndexChunk ?? limit);
    let indexed = 0;
    for (;;) {
      const step = await callRpc<SearchIndexResult>(c, db, 'training_search_index', { p_limit: Math.min(chunk, limit - indexed) });
      indexed += step.indexed;
      if (step.indexed < chunk || indexed >= limit) return c.json({ indexed, pending: step.pending }, 200);
    }
  });

  app.openapi(routes.list, async (c) => {
    const { limit, cursor, ...filter } = c.req.valid('query');
    return jsonText<{ items: Example[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'training_examples_list', {
      p_filter: filter, p_limit: limit, p_cursor: cursor,
    }), 200);
  });

  app.openapi(routes.fewShot, async (c) => {
    const q = c.req.valid('query');
    return c.json(await callRpc<FewShot>(c, db, 'training_few_shot', {
      p_cascade_id: q.cascade_id, p_cell_name: q.cell_name, p_k: q.k, p_query: q.query,
    }), 200);
  });

  app.openapi(routes.stats, async (c) =>
    c.json(await callRpc<Stats>(c, db, 'training_stats', { p_cascade_id: c.req.valid('query').cascade_id }), 200));

  app.openapi(routes.export, (c) => {
    const q = c.req.valid('query');
    const shape = q.format ?? 'openai';
    const writer = fileWriter('jsonl', shape, false);
    const caller = c.get('caller');
    const toRow = (e: ExportedExample): ExportRow => ({
      conversation: { id: e.trace_id, created_at: e.created_at },
      turns: [{ role: 'user', content: e.user_input }, { role: 'assistant', content: e.assistant_output }],
      system_prompt: e.system_prompt,
    });
    const stream = pagedFileStream<ExportedExample>({
      pageSize: EXPORT_PAGE_SIZE,
      fetchPage: (after, limit, signal) => pageCall(signal, (options) => db.rpc<ExportedExample[]>('training_export_page', {
        p_cursor: after ?? undefined, p_limit: limit, p_cascade_id: q.cascade_id,
      } satisfies RpcArgs<'training_export_page'>, caller, options)),
      cursorAfter: (e) => ({ t: e.created_at, i: e.trace_id }),
      header: writer.header,
      renderPage: (rows, first) => writer.page(rows.map(toRow), first),
      footer: writer.footer,
      delivered: responseDelivery(c.env),
      onEnd: async () => {},
    });
    const fileName = exportFileName('training-examples', shape, writer.extension);
    return new Response(stream, { status: 200, headers: fileHeaders(writer.contentType, fileName) }) as never;
  });

  app.openapi(routes.get, async (c) =>
    c.json(await callRpc<Example>(c, db, 'training_example_get', { p_trace_id: c.req.valid('param').trace_id }), 200));

  app.openapi(routes.annotate, async (c) => {
    const b = c.req.valid('json');
    return c.json(await callRpc<Example>(c, db, 'training_annotate', {
      p_trace_id: c.req.valid('param').trace_id, p_trainable: b.trainable, p_verified: b.verified,
      p_confidence: b.confidence, p_notes: b.notes, p_tags: b.tags,
    }), 200);
  });

  app.openapi(routes.clear, async (c) =>
    c.json(await callRpc<Example & { cleared: boolean }>(c, db, 'training_clear_annotation', { p_trace_id: c.req.valid('param').trace_id }), 200));

  return app;
}
