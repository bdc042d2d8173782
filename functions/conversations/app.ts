// Function `conversations`: fine-tuning conversations with their turns,
// quality scores and auto-flagging (computed by the database), review,
// bulk rescore as a batch job, streamed exports, generation logs.
import { createRoute, z } from '@hono/zod-openapi';
import { callRpc, callRpcText, createFunctionApp, type FunctionDeps, ignoreIdempotencyKey, jsonText } from '../_shared/http/app.ts';
import { errorResponses, fileResponse, jsonBody, jsonResponse } from '../_shared/http/openapi.ts';
import { serviceCaller } from '../_shared/http/service_caller.ts';
import { cursorParam, limitParam, page } from '../_shared/http/params.ts';
import { defaultShape, EXPORT_FORMATS, fileWriter } from '../_shared/export/chat_formats.ts';
import { exportFileName } from '../_shared/export/paged_stream.ts';
import { type ExportStart, exportResponse } from './export_stream.ts';
import { responseDelivery } from '../_shared/export/paged_stream.ts';
import {
  BatchJob, ConversationKey, Conversation, ConversationWithTurns, CreateConversationBody, DeletedConversation, ExportBody, ExportLog,
  GenerationLog, GenerationLogBody, GenerationStats, ListQuery, RescoreBody, ReviewBody, ScoreResult, StatsQuery, UpdateConversationBody,
} from './schemas.ts';
import { registerBatchJobRoutes, runChunks } from './batch_jobs.ts';
import { registerLibraryRoutes } from './library.ts';
import { registerReviewerRoutes } from './reviewers.ts';

const KeyParams = z.object({ id: ConversationKey });
const JobParams = z.object({ job_id: z.uuid({ message: 'must be a uuid' }).openapi({ param: { name: 'job_id', in: 'path' } }) });

const routes = {
  create: createRoute({
    operationId: 'createConversation', method: 'post', path: '/', summary: 'Store a conversation with its turns (one transaction); scored and flagged by the database',
    request: { body: jsonBody(CreateConversationBody) },
    responses: { 201: jsonResponse(ConversationWithTurns, 'created'), ...errorResponses },
  }),
  list: createRoute({
    operationId: 'listConversations', method: 'get', path: '/',
    summary: 'Conversations you may see, newest first or by quality score, filtered, keyset paged (without turns)',
    request: { query: ListQuery },
    responses: { 200: jsonResponse(page(Conversation), 'a page'), ...errorResponses },
  }),
  reviewQueue: createRoute({
    operationId: 'listReviewQueue', method: 'get', path: '/review-queue', summary: 'Pending review, oldest first (reviewers: everyone\'s; users: their own)',
    request: { query: z.object({ limit: limitParam(), cursor: cursorParam() }) },
    responses: { 200: jsonResponse(page(Conversation), 'a page of the queue'), ...errorResponses },
  }),
  listExports: createRoute({
    operationId: 'listExports', method: 'get', path: '/exports', summary: "The caller's exports, newest first",
    request: { query: z.object({ limit: limitParam(), cursor: cursorParam() }) },
    responses: { 200: jsonResponse(page(ExportLog), 'a page of export logs'), ...errorResponses },
  }),
  export: createRoute({
    operationId: 'exportConversations', method: 'post', path: '/exports', summary: 'Stream an export file (jsonl, json, csv, markdown); logged in export_logs',
    request: { body: jsonBody(ExportBody) },
    responses: {
      200: fileResponse('the file, streamed', EXPORT_FORMATS.map((f) => fileWriter(f, defaultShape(f), false).contentType), {
        'X-Export-Id': { description: 'the id of its export_logs row (count, bytes and sha256 once the file is complete)' },
      }),
      ...errorResponses,
    },
  }),
  rescore: createRoute({
    operationId: 'rescoreConversations', method: 'post', path: '/rescore', summary: 'Re-score in bulk as a batch job: counts flagged, unflagged, unchanged',
    request: { body: jsonBody(RescoreBody) },
    responses: { 200: jsonResponse(BatchJob, 'the finished job'), ...errorResponses },
  }),
  batchJob: createRoute({
    operationId: 'getBatchJob', method: 'get', path: '/batch-jobs/{job_id}', summary: 'A batch job and its progress',
    request: { params: JobParams },
    responses: { 200: jsonResponse(BatchJob, 'the job'), ...errorResponses },
  }),
  logGeneration: createRoute({
    operationId: 'logGeneration', method: 'post', path: '/generation-logs', summary: "Record one generator call (service role)",
    request: { body: jsonBody(GenerationLogBody) },
    responses: { 201: jsonResponse(GenerationLog, 'recorded'), ...errorResponses },
  }),
  generationStats: createRoute({
    operationId: 'getGenerationStats', method: 'get', path: '/generation-logs/stats', summary: 'Calls, tokens and cost by day, model and template',
    request: { query: StatsQuery },
    responses: { 200: jsonResponse(GenerationStats, 'the totals'), ...errorResponses },
  }),
  get: createRoute({
    operationId: 'getConversation', method: 'get', path: '/{id}', summary: 'One conversation with its turns',
    request: { params: KeyParams },
    responses: { 200: jsonResponse(ConversationWithTurns, 'the conversation'), ...errorResponses },
  }),
  review: createRoute({
    operationId: 'reviewConversation', method: 'post', path: '/{id}/review', summary: 'approve | reject | request_changes (reviewers)',
    request: { params: KeyParams, body: jsonBody(ReviewBody) },
    responses: { 200: jsonResponse(ConversationWithTurns, 'the conversation after the review'), ...errorResponses },
  }),
  update: createRoute({
    operationId: 'updateConversation', method: 'patch', path: '/{id}',
    summary: 'Edit a draft, generated or in-revision conversation of yours: fields, and turns replaced in one transaction (rescored)',
    request: { params: KeyParams, body: jsonBody(UpdateConversationBody) },
    responses: { 200: jsonResponse(ConversationWithTurns, 'the conversation after the edit'), ...errorResponses },
  }),
  remove: createRoute({
    operationId: 'deleteConversation', method: 'delete', path: '/{id}', summary: 'Delete a draft of yours (anything further along is archived)',
    request: { params: KeyParams },
    responses: { 200: jsonResponse(DeletedConversation, 'what was deleted'), ...errorResponses },
  }),
  submit: createRoute({
    operationId: 'submitConversation', method: 'post', path: '/{id}/submit', summary: 'Submit a conversation of yours for review (pending_review)',
    request: { params: KeyParams },
    responses: { 200: jsonResponse(ConversationWithTurns, 'the conversation, pending review'), ...errorResponses },
  }),
  archive: createRoute({
    operationId: 'archiveConversation', method: 'post', path: '/{id}/archive', summary: 'Archive a conversation (its author or a reviewer)',
    request: { params: KeyParams },
    responses: { 200: jsonResponse(ConversationWithTurns, 'the conversation, archived'), ...errorResponses },
  }),
  score: createRoute({
    operationId: 'scoreConversation', method: 'post', path: '/{id}/score', summary: 'Recompute the quality score now and answer its breakdown',
    request: { params: KeyParams },
    responses: { 200: jsonResponse(ScoreResult, 'the score and its parts'), ...errorResponses },
  }),
};

export function createConversationsApp(deps: FunctionDeps) {
  const app = createFunctionApp('conversations', deps, { auth: 'jwt', title: 'Training registry: conversations' });
  const { db } = deps;

  app.openapi(routes.create, async (c) => {
    const { turns, ...conversation } = c.req.valid('json');
    return c.json(await callRpc<ConversationWithTurns>(c, db, 'conversations_create', {
      p_conversation: conversation, p_turns: turns,
    }), 201);
  });

  app.openapi(routes.list, async (c) => {
    const { limit, cursor, order, ...filter } = c.req.valid('query');
    return jsonText<{ items: Conversation[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'conversations_list', {
      p_filter: filter, p_limit: limit, p_cursor: cursor, p_order: order,
    }), 200);
  });

  app.openapi(routes.reviewQueue, async (c) => {
    const q = c.req.valid('query');
    return jsonText<{ items: Conversation[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'conversations_review_queue', {
      p_limit: q.limit, p_cursor: q.cursor,
    }), 200);
  });

  app.openapi(routes.listExports, async (c) => {
    const q = c.req.valid('query');
    return jsonText<{ items: ExportLog[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'conversations_list_exports', {
      p_limit: q.limit, p_cursor: q.cursor,
    }), 200);
  });

  app.openapi(routes.export, async (c) => {
    ignoreIdempotencyKey(c); // a download: every request streams (and logs) its own file
    const b = c.req.valid('json');
    const shape = b.shape ?? defaultShape(b.format);
    const fileName = exportFileName('conversations', shape, fileWriter(b.format, shape, false).extension);
    const started = await callRpc<ExportStart>(c, db, 'conversations_export_start', {
      p_format: b.format, p_shape: shape, p_filter: b.filter ?? null, // the database defaults the status to approved unless the filter names one
      p_include_metadata: b.include_metadata ?? false, p_file_name: fileName,
    });
    return exportResponse(db, c.get('caller'), () => serviceCaller(deps.auth?.secret), started, undefined, responseDelivery(c.env)) as never;
  });

  app.openapi(routes.rescore, async (c) => {
    ignoreIdempotencyKey(c); // several calls; rescoring twice gives the same scores
    const b = c.req.valid('json');
    const job = await callRpc<BatchJob>(c, db, 'conversations_rescore_start', { p_threshold: b.threshold, p_filter: b.filter });
    return c.json(await runChunks(c, db, job, 'conversations_rescore_chunk'), 200);
  });

  registerBatchJobRoutes(app, deps);

  app.openapi(routes.batchJob, async (c) =>
    c.json(await callRpc<BatchJob>(c, db, 'conversations_get_batch_job', { p_job_id: c.req.valid('param').job_id }), 200));

  app.openapi(routes.logGeneration, async (c) =>
    c.json(await callRpc<GenerationLog>(c, db, 'conversations_log_generation', { p_log: c.req.valid('json') }), 201));

  app.openapi(routes.generationStats, async (c) => {
    const q = c.req.valid('query');
    return c.json(await callRpc<GenerationStats>(c, db, 'conversations_generation_stats', { p_from: q.from, p_to: q.to }), 200);
  });

  // Before GET /{id}: /templates, /reviewers ... are not conversation ids.
  registerLibraryRoutes(app, deps);
  registerReviewerRoutes(app, deps);

  app.openapi(routes.get, async (c) =>
    c.json(await callRpc<ConversationWithTurns>(c, db, 'conversations_get', { p_key: c.req.valid('param').id }), 200));

  app.openapi(routes.review, async (c) => {
    const b = c.req.valid('json');
    return c.json(await callRpc<ConversationWithTurns>(c, db, 'conversations_review', {
      p_key: c.req.valid('param').id, p_action: b.action, p_note: b.note,
    }), 200);
  });

  app.openapi(routes.update, async (c) => {
    const { turns, ...changes } = c.req.valid('json');
    return c.json(await callRpc<ConversationWithTurns>(c, db, 'conversations_update', {
      p_key: c.req.valid('param').id, p_changes: changes, p_turns: turns,
    }), 200);
  });

  app.openapi(routes.remove, async (c) =>
    c.json(await callRpc<DeletedConversation>(c, db, 'conversations_delete', { p_key: c.req.valid('param').id }), 200));

  app.openapi(routes.submit, async (c) =>
    c.json(await callRpc<ConversationWithTurns>(c, db, 'conversations_submit', { p_key: c.req.valid('param').id }), 200));

  app.openapi(routes.archive, async (c) =>
    c.json(await callRpc<ConversationWithTurns>(c, db, 'conversations_archive', { p_key: c.req.valid('param').id }), 200));

  app.openapi(routes.score, async (c) =>
    c.json(await callRpc<ScoreResult>(c, db, 'conversations_score', { p_key: c.req.valid('param').id }), 200));

  return app;
}
