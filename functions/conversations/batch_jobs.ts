// Batch jobs over HTTP (service role). Validation and cleanup are run here,
// chunk by chunk, each chunk its own transaction (the database keeps where
// the job stands, so a replayed chunk is a 409, never a double count).
// Generation runs outside this product: its job is a record the generator's
// worker reports progress to and finishes.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { type AppEnv, callRpc, type createFunctionApp, type FunctionDeps, ignoreIdempotencyKey } from '../_shared/http/app.ts';
import type { Db } from '../_shared/db/port.ts';
import { errorResponses, jsonBody, jsonResponse } from '../_shared/http/openapi.ts';
import { BatchJob, BatchJobReportBody, CreateBatchJobBody, FinishBatchJobBody } from './schemas.ts';

type App = ReturnType<typeof createFunctionApp>;
const CHUNK = 1000;
const JobParams = z.object({ job_id: z.uuid({ message: 'must be a uuid' }).openapi({ param: { name: 'job_id', in: 'path' } }) });

const routes = {
  create: createRoute({
    operationId: 'createBatchJob', method: 'post', path: '/batch-jobs',
    summary: 'Start a batch job (service role): validation and cleanup run to the end; generation is a record its worker reports to',
    request: { body: jsonBody(CreateBatchJobBody) },
    responses: { 201: jsonResponse(BatchJob, 'the job (validation, cleanup: finished; generation: running)'), ...errorResponses },
  }),
  report: createRoute({
    operationId: 'reportBatchJobProgress', method: 'post', path: '/batch-jobs/{job_id}/progress',
    summary: "A generation job's progress, from its worker (service role); a replayed report is 409",
    request: { params: JobParams, body: jsonBody(BatchJobReportBody) },
    responses: { 200: jsonResponse(BatchJob, 'the job'), ...errorResponses },
  }),
  finish: createRoute({
    operationId: 'finishBatchJob', method: 'post', path: '/batch-jobs/{job_id}/finish',
    summary: 'Complete a job whose items ran out, or fail it with a reason',
    request: { params: JobParams, body: jsonBody(FinishBatchJobBody) },
    responses: { 200: jsonResponse(BatchJob, 'the job'), ...errorResponses },
  }),
};

/** The SQL functions that run one chunk of a job (same arguments). */
type ChunkFunction = 'conversations_rescore_chunk' | 'conversations_batch_job_chunk';

/** Runs a started job's chunks to the end; on a failure the job is failed with the reason, and the error answered. */
export async function runChunks(c: Context<AppEnv>, db: Db, job: BatchJob, chunkFn: ChunkFunction): Promise<BatchJob> {
  try {
    let after: string | null = null;
    do {
      const chunk: { next_after: string | null } = await callRpc(c, db, chunkFn, { p_job_id: job.id, p_after: after ?? undefined, p_limit: CHUNK });
      after = chunk.next_after;
    } while (after);
  } catch (err) {
    await callRpc(c, db, 'conversations_finish_job', { p_job_id: job.id, p_error: err instanceof Error ? err.message : String(err) })
      .catch(() => {});
    throw err;
  }
  return await callRpc<BatchJob>(c, db, 'conversations_finish_job', { p_job_id: job.id });
}

export function registerBatchJobRoutes(app: App, { db }: FunctionDeps): void {
  app.openapi(routes.create, async (c) => {
    ignoreIdempotencyKey(c); // several calls
    const b = c.req.valid('json');
    const job = await callRpc<BatchJob>(c, db, 'conversations_batch_job_start', {
      p_job_type: b.job_type, p_filter: b.filter,
      p_older_than_days: b.job_type === 'cleanup' ? b.older_than_days : undefined,
      p_total: b.job_type === 'generation' ? b.total_items : undefined,
      p_name: b.job_type === 'generation' ? b.name : undefined,
    });
    if (b.job_type === 'generation') return c.json(job, 201);
    return c.json(await runChunks(c, db, job, 'conversations_batch_job_chunk'), 201);
  });
  app.openapi(routes.report, async (c) => {
    const b = c.req.valid('json');
    return c.json(await callRpc<BatchJob>(c, db, 'conversations_batch_job_report', {
      p_job_id: c.req.valid('param').job_id, p_processed_before: b.processed_before, p_succeeded: b.succeeded, p_failed: b.failed,
      p_results: b.results,
    }), 200);
  });
  app.openapi(routes.finish, async (c) =>
    c.json(await callRpc<BatchJob>(c, db, 'conversations_finish_job', {
      p_job_id: c.req.valid('param').job_id, p_error: c.req.valid('json').error,
    }), 200));
}
