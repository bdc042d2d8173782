// Templates, scenarios and edge cases over HTTP: list, get, create, update,
// deactivate. One set of routes per kind over the same SQL functions
// (conversation_library_*); who may write what is the table's RLS and column
// grants, as through the table API: a user writes their own rows, the
// service role also the shared ones (created without an owner).
import { createRoute, type z } from '@hono/zod-openapi';
import { callRpc, callRpcText, type createFunctionApp, type FunctionDeps, jsonText } from '../_shared/http/app.ts';
import { errorResponses, jsonBody, jsonResponse } from '../_shared/http/openapi.ts';
import { page } from '../_shared/http/params.ts';
import {
  CreateEdgeCaseBody, CreateScenarioBody, CreateTemplateBody, EdgeCase, EdgeCaseQuery, LibraryId, Scenario, ScenarioQuery,
  Template, TemplateQuery, UpdateEdgeCaseBody, UpdateScenarioBody, UpdateTemplateBody,
} from './library_schemas.ts';

type App = ReturnType<typeof createFunctionApp>;

interface Kind {
  /** the table, as conversation_library_* take it */
  table: 'conversation_templates' | 'scenarios' | 'edge_cases';
  path: string;
  /** operationId stem: listTemplates, getTemplate ... */
  singular: string;
  plural: string;
  query: z.ZodObject;
  create: z.ZodType;
  update: z.ZodType;
  row: z.ZodType;
  deactivate: string;
}

const KINDS: Kind[] = [
  { table: 'conversation_templates', path: '/templates', singular: 'Template', plural: 'Templates', query: TemplateQuery,
    create: CreateTemplateBody, update: UpdateTemplateBody, row: Template, deactivate: 'is_active = false' },
  { table: 'scenarios', path: '/scenarios', singular: 'Scenario', plural: 'Scenarios', query: ScenarioQuery,
    create: CreateScenarioBody, update: UpdateScenarioBody, row: Scenario, deactivate: 'status archived' },
  { table: 'edge_cases', path: '/edge-cases', singular: 'EdgeCase', plural: 'EdgeCases', query: EdgeCaseQuery,
    create: CreateEdgeCaseBody, update: UpdateEdgeCaseBody, row: EdgeCase, deactivate: 'is_active = false' },
];

/** Registered before GET /{id}, so /templates is not taken for a conversation id. */
export function registerLibraryRoutes(app: App, deps: FunctionDeps): void {
  for (const kind of KINDS) registerKind(app, deps, kind);
}

function registerKind(app: App, { db }: FunctionDeps, k: Kind): void {
  const noun = k.singular.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  const routes = {
    list: createRoute({
      operationId: `list${k.plural}`, method: 'get', path: k.path, summary: `${k.plural.replace('EdgeCases', 'Edge cases')} you may see, newest first, filtered, keyset paged`,
      request: { query: k.query },
      responses: { 200: jsonResponse(page(k.row), 'a page'), ...errorResponses },
    }),
    create: createRoute({
      operationId: `create${k.singular}`, method: 'post', path: k.path, summary: `Create a ${noun} (yours; the service role's are shared)`,
      request: { body: jsonBody(k.create) },
      responses: { 201: jsonResponse(k.row, 'created'), ...errorResponses },
    }),
    get: createRoute({
      operationId: `get${k.singular}`, method: 'get', path: `${k.path}/{id}`, summary: `One ${noun}`,
      request: { params: LibraryId },
      responses: { 200: jsonResponse(k.row, `the ${noun}`), ...errorResponses },
    }),
    update: createRoute({
      operationId: `update${k.singular}`, method: 'patch', path: `${k.path}/{id}`, summary: `Change a ${noun} of yours (the given fields)`,
      request: { params: LibraryId, body: jsonBody(k.update) },
      responses: { 200: jsonResponse(k.row, `the ${noun}`), ...errorResponses },
    }),
    deactivate: createRoute({
      operationId: `deactivate${k.singular}`, method: 'post', path: `${k.path}/{id}/deactivate`,
      summary: `Deactivate a ${noun} of yours (${k.deactivate}); 409 if it is already inactive`,
      request: { params: LibraryId },
      responses: { 200: jsonResponse(k.row, `the ${noun}`), ...errorResponses },
    }),
  };

  app.openapi(routes.list, async (c) => {
    const { limit, cursor, ...filter } = c.req.valid('query') as { limit?: number; cursor?: string } & Record<string, unknown>;
    return jsonText<{ items: unknown[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'conversation_library_list', {
      p_kind: k.table, p_filter: filter, p_limit: limit, p_cursor: cursor,
    }), 200);
  });
  app.openapi(routes.create, async (c) =>
    c.json(await callRpc<Record<string, unknown>>(c, db, 'conversation_library_save', {
      p_kind: k.table, p_id: null, p_fields: c.req.valid('json'),
    }), 201));
  app.openapi(routes.get, async (c) =>
    c.json(await callRpc<Record<string, unknown>>(c, db, 'conversation_library_get', { p_kind: k.table, p_id: c.req.valid('param').id }), 200));
  app.openapi(routes.update, async (c) =>
    c.json(await callRpc<Record<string, unknown>>(c, db, 'conversation_library_save', {
      p_kind: k.table, p_id: c.req.valid('param').id, p_fields: c.req.valid('json'),
    }), 200));
  app.openapi(routes.deactivate, async (c) =>
    c.json(await callRpc<Record<string, unknown>>(c, db, 'conversation_library_deactivate', {
      p_kind: k.table, p_id: c.req.valid('param').id,
    }), 200));
}
