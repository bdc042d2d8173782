// The reviewer role over HTTP. Granted and revoked by the service role only
// (conversations_set_reviewer refuses anyone else: the schema has no admin
// reviewer); listed for reviewers and the service role.
import { createRoute, z } from '@hono/zod-openapi';
import { callRpc, callRpcText, type createFunctionApp, type FunctionDeps, jsonText } from '../_shared/http/app.ts';
import { errorResponses, jsonResponse } from '../_shared/http/openapi.ts';
import { cursorParam, limitParam, page } from '../_shared/http/params.ts';
import { Reviewer, ReviewerParams } from './schemas.ts';

type App = ReturnType<typeof createFunctionApp>;

const routes = {
  list: createRoute({
    operationId: 'listReviewers', method: 'get', path: '/reviewers', summary: 'The reviewers (reviewers and the service role)',
    request: { query: z.object({ limit: limitParam(), cursor: cursorParam() }) },
    responses: { 200: jsonResponse(page(Reviewer), 'a page of reviewers, by user id'), ...errorResponses },
  }),
  grant: createRoute({
    operationId: 'grantReviewer', method: 'put', path: '/reviewers/{user_id}', summary: 'Make a user a reviewer (service role)',
    request: { params: ReviewerParams },
    responses: { 200: jsonResponse(Reviewer, 'the reviewer'), ...errorResponses },
  }),
  revoke: createRoute({
    operationId: 'revokeReviewer', method: 'delete', path: '/reviewers/{user_id}', summary: 'Take the reviewer role back (service role)',
    request: { params: ReviewerParams },
    responses: { 200: jsonResponse(Reviewer, 'the user, no longer a reviewer'), ...errorResponses },
  }),
};

export function registerReviewerRoutes(app: App, { db }: FunctionDeps): void {
  app.openapi(routes.list, async (c) => {
    const q = c.req.valid('query');
    return jsonText<{ items: Reviewer[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'conversations_list_reviewers', {
      p_limit: q.limit, p_cursor: q.cursor,
    }), 200);
  });
  app.openapi(routes.grant, async (c) =>
    c.json(await callRpc<Reviewer>(c, db, 'conversations_set_reviewer', { p_user_id: c.req.valid('param').user_id, p_is_reviewer: true }), 200));
  app.openapi(routes.revoke, async (c) =>
    c.json(await callRpc<Reviewer>(c, db, 'conversations_set_reviewer', { p_user_id: c.req.valid('param').user_id, p_is_reviewer: false }), 200));
}
