// Function `runs`: the training-runs registry. Each route parses, calls one
// SQL function as the caller, and shapes the answer.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  type AppEnv, callRpc, callRpcText, createFunctionApp, describeFieldErrors, type FunctionDeps, jsonText,
} from '../_shared/http/app.ts';
import { type FieldError, Problem } from '../_shared/http/problem.ts';
import { errorResponses, jsonBody, jsonResponse } from '../_shared/http/openapi.ts';
import { boolParam, cursorParam, intParam, limitParam, numberParam, page, timestampParam } from '../_shared/http/params.ts';
import type { FilterNode, Order } from './filter/ast.ts';
import { FilterSyntaxError, parseFilter, parseOrderBy } from './filter/parse.ts';
import {
  BlogPostBody, ConversationBody, CrashBody, CreateRunBody, DeletedObjectives, GradientMethodComparison, GradientMethodStats,
  METRIC_COLUMNS, ObjectiveName, ObjectiveStats, OBJECTIVE_VALUE_METRICS, PatchRunBody, QueryByObjectivesBody, Run, RUN_STATUSES,
  RunId, RunStats, UpdateStatusBody,
} from './schemas.ts';

type RunPage = { items: z.infer<typeof Run>[]; next_cursor: string | null };

const RunParams = z.object({ run_id: RunId.openapi({ param: { name: 'run_id', in: 'path' } }) });

const FilterParam = z.string().min(1).max(4000).optional().openapi({
  description: 'filter language: AND/OR, parentheses, = != < <= > >=, IN, IS NULL, LIKE over run columns, config.<path>, metadata.<path>, metrics.<key>, objective.<name>.<metric>',
  example: "status = 'completed' AND objective.COMT_activity.raw_mean > 0.8",
});

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
  filter: FilterParam,
  order_by: z.string().min(1).max(500).optional()
    .openapi({ description: '<field> [ASC|DESC] over the fields filter accepts, or <column>.asc|.desc; default created_at DESC' }),
  limit: limitParam(),
  cursor: cursorParam(),
  select: z.string().min(1).max(2000).optional().openapi({
    description: 'top-level fields of each run to return, comma-separated (PostgREST-style), e.g. run_id,status,final_metrics_json; ' +
      'default: every field. An unknown field is a 400 naming it.',
    example: 'run_id,status,final_metrics_json',
  }),
});

const AnalyticsQuery = z.object({
  filter: FilterParam,
  created_after: timestampParam().optional().openapi({ description: 'runs created at or after this time' }),
  created_before: timestampParam().optional().openapi({ description: 'runs created before this time' }),
});

const ObjectiveParams = z.object({ name: ObjectiveName.openapi({ param: { name: 'name', in: 'path' } }) });
const MetricQuery = z.enum(OBJECTIVE_VALUE_METRICS).optional().openapi({ description: 'default raw_mean' });

const routes = {
  create: createRoute({
    operationId: 'createRun', method: 'post', path: '/', summary: 'Register a run at launch (idempotent for retries)',
    request: { body: jsonBody(CreateRunBody) },
    responses: { 201: jsonResponse(Run, 'created'), 200: jsonResponse(Run, 'the same request again: the stored run'), ...errorResponses },
  }),
  list: createRoute({
    operationId: 'listRuns', method: 'get', path: '/', summary: 'List runs with filters, keyset paging',
    request: { query: ListQuery },
    responses: { 200: jsonResponse(page(Run), 'a page of runs'), ...errorResponses },
  }),
  stats: createRoute({
    operationId: 'getRunStats', method: 'get', path: '/stats', summary: 'Totals by status, with blog posts, with crash analysis',
    responses: { 200: jsonResponse(RunStats, 'totals'), ...errorResponses },
  }),
  queryByObjectives: createRoute({
    operationId: 'queryRunsByObjectives', method: 'post', path: '/query-by-objectives', summary: 'Runs meeting every objective bound',
    request: { body: jsonBody(QueryByObjectivesBody) },
    responses: { 200: jsonResponse(page(Run), 'a page of runs'), ...errorResponses },
  }),
  gradientMethodStats: createRoute({
    operationId: 'getGradientMethodStats', method: 'get', path: '/analytics/gradient-methods',
    summary: 'Per gradient method: runs, completed/failed/crashed, success rate, mean/p50/p90 duration of completed runs',
    request: { query: AnalyticsQuery },
    responses: { 200: jsonResponse(GradientMethodStats, 'one entry per method'), ...errorResponses },
  }),
  objectiveStats: createRoute({
    operationId: 'getObjectiveStats', method: 'get', path: '/objectives/{name}/stats', summary: 'count, mean, min, max, stddev, p50, p90 over completed runs',
    request: { params: ObjectiveParams, query: z.object({ gradient_method: z.string().min(1).max(200).optional(), metric: MetricQuery }) },
    responses: { 200: jsonResponse(ObjectiveStats, 'statistics'), ...errorResponses },
  }),
  compareGradientMethods: createRoute({
    operationId: 'compareGradientMethods', method: 'get', path: '/objectives/{name}/compare-gradient-methods', summary: 'Per gradient method: runs, mean, best, stddev, crash rate',
    request: { params: ObjectiveParams, query: z.object({ metric: MetricQuery }) },
    responses: { 200: jsonResponse(GradientMethodComparison, 'one entry per method'), ...errorResponses },
  }),
  deleteObjectives: createRoute({
    operationId: 'deleteRunObjectives', method: 'delete', path: '/{run_id}/objectives', summary: "Remove a run's objective rows (owner only)",
    request: { params: RunParams },
    responses: { 200: jsonResponse(DeletedObjectives, 'how many rows went'), ...errorResponses },
  }),
  get: createRoute({
    operationId: 'getRun', method: 'get', path: '/{run_id}', summary: 'One run',
    request: { params: RunParams },
    responses: { 200: jsonResponse(Run, 'the run'), ...errorResponses },
  }),
  patch: createRoute({
    operationId: 'updateRun', method: 'patch', path: '/{run_id}', summary: "Change a run's metadata (owner only)",
    request: { params: RunParams, body: jsonBody(PatchRunBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
  status: createRoute({
    operationId: 'updateRunStatus', method: 'patch', path: '/{run_id}/status', summary: 'Move a run through its lifecycle',
    request: { params: RunParams, body: jsonBody(UpdateStatusBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
  crash: createRoute({
    operationId: 'reportRunCrash', method: 'post', path: '/{run_id}/crash', summary: 'Mark crashed and attach crash data, in one transaction',
    request: { params: RunParams, body: jsonBody(CrashBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
  blogPost: createRoute({
    operationId: 'setRunBlogPost', method: 'put', path: '/{run_id}/blog-post', summary: 'Attach the blog post URL',
    request: { params: RunParams, body: jsonBody(BlogPostBody) },
    responses: { 200: jsonResponse(Run, 'the run after the change'), ...errorResponses },
  }),
  conversation: createRoute({
    operationId: 'setRunConversation', method: 'put', path: '/{run_id}/conversation', summary: 'Attach the conversation S3 key',
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
      p_config_file_path: b.config_file_path, p_host: b.host, p_instance_id: b.instance_id, p_metadata: b.metadata,
    });
    return result.created ? c.json(result.run, 201) : c.json(result.run, 200);
  });

  app.openapi(routes.list, async (c) => {
    const q = c.req.valid('query');
    return jsonText<RunPage, 200>(c, await listRuns(c, {
      p_status: q.status, p_host: q.host, p_gradient_method: q.gradient_method, p_batch_size: q.batch_size,
      p_min_duration_hours: q.min_duration_hours, p_created_after: q.created_after,
      p_created_before: q.created_before, p_has_blog_post: q.has_blog_post,
      p_has_crash_analysis: q.has_crash_analysis, p_limit: q.limit, p_cursor: q.cursor, p_select: q.select,
    }, q.filter, q.order_by), 200);
  });

  app.openapi(routes.queryByObjectives, async (c) => {
    const b = c.req.valid('json');
    const metric = b.metric ?? 'raw_mean';
    const bounds: FilterNode[] = Object.entries(b.objectives).flatMap(([name, bound]) => {
      const field = { kind: 'objective', name, metric } as const;
      return [
        ...(bound.min !== undefined ? [{ op: 'cmp', field, cmp: '>=', value: bound.min } as const] : []),
        ...(bound.max !== undefined ? [{ op: 'cmp', field, cmp: '<=', value: bound.max } as const] : []),
      ];
    });
    return jsonText<RunPage, 200>(c, await listRuns(c, {
      p_status: b.status, p_gradient_method: b.gradient_method, p_limit: b.limit, p_cursor: b.cursor,
    }, b.filter, b.order_by, bounds), 200);
  });

  app.openapi(routes.gradientMethodStats, async (c) => {
    const q = c.req.valid('query');
    return c.json(await callRpc<GradientMethodStats>(c, db, 'runs_gradient_method_stats', {
      p_filter: q.filter === undefined ? undefined : parsed('filter', () => parseFilter(q.filter!)),
      p_created_after: q.created_after, p_created_before: q.created_before,
    }), 200);
  });

  app.openapi(routes.objectiveStats, async (c) => {
    const q = c.req.valid('query');
    return c.json(await callRpc<ObjectiveStats>(c, db, 'runs_objective_stats', {
      p_objective_name: c.req.valid('param').name, p_gradient_method: q.gradient_method, p_metric: q.metric,
    }), 200);
  });

  app.openapi(routes.compareGradientMethods, async (c) =>
    c.json(await callRpc<GradientMethodComparison>(c, db, 'runs_objective_compare_gradient_methods', {
      p_objective_name: c.req.valid('param').name, p_metric: c.req.valid('query').metric,
    }), 200));

  app.openapi(routes.deleteObjectives, async (c) =>
    c.json(await callRpc<DeletedObjectives>(c, db, 'runs_delete_objectives', {
      p_run_id: c.req.valid('param').run_id,
    }), 200));

  app.openapi(routes.stats, async (c) => c.json(await callRpc<RunStats>(c, db, 'runs_stats', {}), 200));

  app.openapi(routes.get, async (c) =>
    jsonText<Run, 200>(c, await callRpcText(c, db, 'runs_get', { p_run_id: c.req.valid('param').run_id }), 200));

  app.openapi(routes.patch, async (c) =>
    jsonText<Run, 200>(c, await callRpcText(c, db, 'runs_set_metadata', {
      p_run_id: c.req.valid('param').run_id, p_metadata: c.req.valid('json').metadata,
    }), 200));

  app.openapi(routes.status, async (c) => {
    const b = c.req.valid('json');
    return jsonText<Run, 200>(c, await callRpcText(c, db, 'runs_update_status', {
      p_run_id: c.req.valid('param').run_id, p_status: b.status, p_started_at: b.started_at,
      p_ended_at: b.ended_at, p_duration_seconds: b.duration_seconds, p_wandb_run_id: b.wandb_run_id,
      p_wandb_url: b.wandb_url, p_final_metrics: finalMetrics(b),
    }), 200);
  });

  app.openapi(routes.crash, async (c) => {
    const b = c.req.valid('json');
    return jsonText<Run, 200>(c, await callRpcText(c, db, 'runs_attach_crash', {
      p_run_id: c.req.valid('param').run_id, p_error_log_s3_key: b.error_log_s3_key,
      p_crash_report_s3_key: b.crash_report_s3_key, p_crash_analysis_s3_key: b.crash_analysis_s3_key,
      p_error_message: b.error_message,
    }), 200);
  });

  app.openapi(routes.blogPost, async (c) =>
    jsonText<Run, 200>(c, await callRpcText(c, db, 'runs_set_blog_post', {
      p_run_id: c.req.valid('param').run_id, p_url: c.req.valid('json').url,
    }), 200));

  app.openapi(routes.conversation, async (c) =>
    jsonText<Run, 200>(c, await callRpcText(c, db, 'runs_set_conversation', {
      p_run_id: c.req.valid('param').run_id, p_s3_key: c.req.valid('json').s3_key,
    }), 200));

  /** runs_list with the filter and order_by texts parsed to ASTs; extra conditions are ANDed in. The page as JSON text. */
  async function listRuns(c: Context<AppEnv>, args: Record<string, unknown>, filter?: string, orderBy?: string, extra: FilterNode[] = []) {
    const conditions = [...(filter === undefined ? [] : [parsed('filter', () => parseFilter(filter))]), ...extra];
    const order: Order = orderBy === undefined
      ? { field: { kind: 'column', name: 'created_at' }, dir: 'desc' }
      : parsed('order_by', () => parseOrderBy(orderBy));
    return await callRpcText(c, db, 'runs_list', {
      ...args,
      p_filter: conditions.length === 0 ? undefined : conditions.length === 1 ? conditions[0] : { op: 'and', args: conditions },
      p_order: order,
    });
  }

  return app;
}

/**
 * final_metrics with the metric columns named in the body stored under their
 * summary keys. A column that disagrees with the same key in final_metrics is
 * a 400: which of the two is meant cannot be guessed.
 */
function finalMetrics(b: z.infer<typeof UpdateStatusBody>): Record<string, unknown> | undefined {
  const named = Object.entries(METRIC_COLUMNS).flatMap(([column, key]) => {
    const value = b[column as keyof typeof METRIC_COLUMNS];
    return value === undefined ? [] : [{ column, key, value }];
  });
  if (named.length === 0) return b.final_metrics;
  const metrics: Record<string, unknown> = { ...b.final_metrics };
  const errors: FieldError[] = named.filter(({ key, value }) => key in metrics && metrics[key] !== value)
    .map(({ column, key, value }) => ({ path: column, message: `${value} disagrees with final_metrics['${key}'] = ${JSON.stringify(metrics[key])}` }));
  if (errors.length > 0) throw new Problem(400, `invalid body: ${describeFieldErrors(errors)}`, { errors });
  for (const { key, value } of named) metrics[key] = value;
  return metrics;
}

/** A filter-language parse, its syntax errors as a 400 naming the parameter and column. */
function parsed<T>(param: 'filter' | 'order_by', parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof FilterSyntaxError)) throw err;
    throw new Problem(400, `invalid ${param}: ${err.message}`, { errors: [{ path: param, message: err.message }] });
  }
}
