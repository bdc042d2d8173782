// Function `runs`: the training-runs registry. Each route parses, calls one
// SQL function as the caller, and shapes the answer.
import { createRoute, z } from '@hono/zod-openapi';
import { callRpc, createFunctionApp, type FunctionDeps } from '../_shared/http/app.ts';
import { errorResponses, jsonBody, jsonResponse } from '../_shared/http/openapi.ts';
import { boolParam, cursorParam, intParam, limitParam, numberParam, page, timestampParam } from '../_shared/http/params.ts';
import {
  BlogPostBody, ConversationBody, CrashBody, CreateRunBody, Run, RUN_STATUSES, RunId, RunStats, UpdateStatusBody,
} from './schemas.ts';

const RunParams = z.object({ run_id: RunId.openapi({ param: { name: 'run_id', in: 'path' } }) });

const ListQuery = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  host: z.string().min(1).max(200).optional(),
  gradient_method: z.string().min(1).max(200).optional(),
  batch_size: intParam(-2147483648, 2147483647).optional(),
  min_duration_hours: numberParam(0).optional(),
  created_after: timestampParam().optional(),
  created_before: timestampParam().optional(),
  has_blog_post: boolParam().optional(),
  has_crash_analysis: boolParam().optional(),
  order_by: z.string().regex(/^[a-z_]+(\.(asc|desc))?$/, 'order_by is <column>.asc or <column>.desc').optional()
    .openapi({ description: 'created_at (default, .desc), started_at, ended_at, duration_seconds, updated_at_db, run_id, run_name, batch_size, learning_rate, beta, num_gpus, status' }),
  limit: limitParam(),
  cursor: cursorParam(),
});

const routes = {
  create: createRoute({
    method: 'post', path: '/', summary: 'Register a run at launch (idempotent for retries)',
    request: { body: jsonBody(CreateRunBody) },
    responses: { 201: jsonResponse(Run, 'created'), 200: jsonResponse(Run, 'the same request again: the stored run'), ...errorResponses },
  }),
  list: createRoute({
    method: 'get', path: '/', summary: 'List runs with filters, keyset paging',
    request: { query: ListQuery },
    responses: { 200: jsonResponse(page(Run), 'a page of runs'), ...errorResponses },
  }),
  stats: createRoute({
    method: 'get', path: '/stats', summary: 'Totals by status, with blog posts, with crash analysis',
    responses: { 200: jsonResponse(RunStats, 'totals'), ...errorResponses },
  }),
  get: createRoute({
    method: 'get', path: '/{run_id}', summary: 'One run',
    request: { params: RunParams },
    responses: { 200: jsonResponse(Run, 'the run'), ...errorResponses },
  }),
  status: createRoute({
    method: 'patch', path: '/{run_id}/status', summary: 'Move a run through its lifecycle',
    request: { params: RunParams, body: jsonBody(UpdateStatusBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
  crash: createRoute({
    method: 'post', path: '/{run_id}/crash', summary: 'Mark crashed and attach crash data, in one transaction',
    request: { params: RunParams, body: jsonBody(CrashBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
  blogPost: createRoute({
    method: 'put', path: '/{run_id}/blog-post', summary: 'Attach the blog post URL',
    request: { params: RunParams, body: jsonBody(BlogPostBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
  conversation: createRoute({
    method: 'put', path: '/{run_id}/conversation', summary: 'Attach the conversation S3 key',
    request: { params: RunParams, body: jsonBody(ConversationBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
};

export function createRunsApp(deps: FunctionDeps) {
  const app = createFunctionApp('runs', deps, { auth: 'jwt', title: 'Training registry: runs' });
  const { db } = deps;

  app.openapi(routes.create, async (c) => {
    const b = c.req.valid('json');
    const result = await callRpc<{ created: boolean; run: Run }>(c, db, 'runs_create', {
      p_run_id: b.run_id, p_config: b.config, p_wandb_run_id: b.wandb_run_id,
      p_chain_of_custody_id: b.chain_of_custody_id, p_run_name: b.run_name,
      p_config_file_path: b.config_file_path, p_host: b.host, p_instance_id: b.instance_id,
    });
    return result.created ? c.json(result.run, 201) : c.json(result.run, 200);
  });

  app.openapi(routes.list, async (c) => {
    const q = c.req.valid('query');
    return c.json(await callRpc<{ items: Run[]; next_cursor: string | null }>(c, db, 'runs_list', {
      p_status: q.status, p_host: q.host, p_gradient_method: q.gradient_method, p_batch_size: q.batch_size,
      p_min_duration_hours: q.min_duration_hours, p_created_after: q.created_after,
      p_created_before: q.created_before, p_has_blog_post: q.has_blog_post,
      p_has_crash_analysis: q.has_crash_analysis, p_order_by: q.order_by, p_limit: q.limit, p_cursor: q.cursor,
    }), 200);
  });

  app.openapi(routes.stats, async (c) => c.json(await callRpc<RunStats>(c, db, 'runs_stats', {}), 200));

  app.openapi(routes.get, async (c) =>
    c.json(await callRpc<Run>(c, db, 'runs_get', { p_run_id: c.req.valid('param').run_id }), 200));

  app.openapi(routes.status, async (c) => {
    const b = c.req.valid('json');
    return c.json(await callRpc<Run>(c, db, 'runs_update_status', {
      p_run_id: c.req.valid('param').run_id, p_status: b.status, p_started_at: b.started_at,
      p_ended_at: b.ended_at, p_duration_seconds: b.duration_seconds, p_wandb_run_id: b.wandb_run_id,
      p_wandb_url: b.wandb_url, p_final_metrics: b.final_metrics,
    }), 200);
  });

  app.openapi(routes.crash, async (c) => {
    const b = c.req.valid('json');
    return c.json(await callRpc<Run>(c, db, 'runs_attach_crash', {
      p_run_id: c.req.valid('param').run_id, p_error_log_s3_key: b.error_log_s3_key,
      p_crash_report_s3_key: b.crash_report_s3_key, p_crash_analysis_s3_key: b.crash_analysis_s3_key,
      p_error_message: b.error_message,
    }), 200);
  });

  app.openapi(routes.blogPost, async (c) =>
    c.json(await callRpc<Run>(c, db, 'runs_set_blog_post', {
      p_run_id: c.req.valid('param').run_id, p_url: c.req.valid('json').url,
    }), 200));

  app.openapi(routes.conversation, async (c) =>
    c.json(await callRpc<Run>(c, db, 'runs_set_conversation', {
      p_run_id: c.req.valid('param').run_id, p_s3_key: c.req.valid('json').s3_key,
    }), 200));

  return app;
}
