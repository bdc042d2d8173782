// Function `packages`: training packages and their numbered versions
// (draft -> published -> archived). Each route parses, calls one SQL function
// as the caller and answers its JSON; the rules live in the database.
import { createRoute, z } from '@hono/zod-openapi';
import { callRpc, callRpcText, createFunctionApp, type FunctionDeps, jsonText } from '../_shared/http/app.ts';
import { errorResponses, jsonBody, jsonResponse } from '../_shared/http/openapi.ts';
import { boolParam, cursorParam, intParam, limitParam, page } from '../_shared/http/params.ts';
import {
  CreatePackageBody, CreateVersionBody, DeletedVersion, DeploymentBody, ForkVersionBody, NextVersionNumber, Package,
  TrainingBody, UpdateVersionBody, Uuid, Version, VERSION_STATUSES, VersionDiff,
} from './schemas.ts';

const pathUuid = (name: string) => Uuid.openapi({ param: { name, in: 'path' } });
const PackageParams = z.object({ package_id: pathUuid('package_id') });
const VersionParams = z.object({ version_id: pathUuid('version_id') });
const NumberParams = z.object({
  package_id: pathUuid('package_id'),
  number: intParam(1, 2147483647).openapi({ param: { name: 'number', in: 'path' }, example: '3' }),
});
const PageQuery = z.object({ limit: limitParam(), cursor: cursorParam() });
const optionalJsonBody = <T extends z.ZodType>(schema: T) => ({ ...jsonBody(schema), required: false });

const versionRoute = (method: 'get' | 'post' | 'patch' | 'put' | 'delete', path: string, summary: string) => ({
  method, path: `/versions/{version_id}${path}`, summary,
});

const routes = {
  createPackage: createRoute({
    operationId: 'createPackage', method: 'post', path: '/', summary: 'Create a package owned by the caller',
    request: { body: jsonBody(CreatePackageBody) },
    responses: { 201: jsonResponse(Package, 'created'), ...errorResponses },
  }),
  listPackages: createRoute({
    operationId: 'listPackages', method: 'get', path: '/', summary: "The caller's packages, newest first",
    request: { query: PageQuery },
    responses: { 200: jsonResponse(page(Package), 'a page of packages'), ...errorResponses },
  }),
  // /versions/... before /{package_id}/...: "versions" is not a package id.
  getVersion: createRoute({
    operationId: 'getVersion', ...versionRoute('get', '', 'One version by id'),
    request: { params: VersionParams },
    responses: { 200: jsonResponse(Version, 'the version'), ...errorResponses },
  }),
  updateVersion: createRoute({
    operationId: 'updateVersion', ...versionRoute('patch', '', 'Edit a draft (409 once published)'),
    request: { params: VersionParams, body: jsonBody(UpdateVersionBody) },
    responses: { 200: jsonResponse(Version, 'the draft after the change'), ...errorResponses },
  }),
  deleteVersion: createRoute({
    operationId: 'deleteVersion', ...versionRoute('delete', '', 'Delete a draft (its number is not reused)'),
    request: { params: VersionParams },
    responses: { 200: jsonResponse(DeletedVersion, 'what was deleted'), ...errorResponses },
  }),
  publish: createRoute({
    operationId: 'publishVersion', ...versionRoute('post', '/publish', 'draft -> published: stamps, hash, package current version'),
    request: { params: VersionParams },
    responses: { 200: jsonResponse(Version, 'the published version'), ...errorResponses },
  }),
  archive: createRoute({
    operationId: 'archiveVersion', ...versionRoute('post', '/archive', 'published -> archived'),
    request: { params: VersionParams },
    responses: { 200: jsonResponse(Version, 'the archived version'), ...errorResponses },
  }),
  fork: createRoute({
    operationId: 'forkVersion', ...versionRoute('post', '/fork', 'A new draft copying the snapshots, parent_version_id set'),
    request: { params: VersionParams, body: optionalJsonBody(ForkVersionBody) },
    responses: { 201: jsonResponse(Version, 'the new draft'), ...errorResponses },
  }),
  diff: createRoute({
    operationId: 'diffVersions', ...versionRoute('get', '/diff', 'Snapshot changes from `against` (old) to this version (new)'),
    request: { params: VersionParams, query: z.object({ against: Uuid.openapi({ description: 'the version to compare with' }) }) },
    responses: { 200: jsonResponse(VersionDiff, 'JSON-pointer changes'), ...errorResponses },
  }),
  deployment: createRoute({
    operationId: 'setVersionDeployment', ...versionRoute('put', '/deployment', 'Set the deployment state (any status; owner only)'),
    request: { params: VersionParams, body: jsonBody(DeploymentBody) },
    responses: { 200: jsonResponse(Version, 'the version after the change'), ...errorResponses },
  }),
  training: createRoute({
    operationId: 'updateVersionTraining', ...versionRoute('patch', '/training', 'Training status, metrics and costs (any status; owner only)'),
    request: { params: VersionParams, body: jsonBody(TrainingBody) },
    responses: { 200: jsonResponse(Version, 'the version after the change'), ...errorResponses },
  }),
  getPackage: createRoute({
    operationId: 'getPackage', method: 'get', path: '/{package_id}', summary: 'One package',
    request: { params: PackageParams },
    responses: { 200: jsonResponse(Package, 'the package'), ...errorResponses },
  }),
  nextVersionNumber: createRoute({
    operationId: 'getNextVersionNumber', method: 'get', path: '/{package_id}/next-version-number', summary: 'The number the next draft will get',
    request: { params: PackageParams },
    responses: { 200: jsonResponse(NextVersionNumber, 'the next number'), ...errorResponses },
  }),
  createVersion: createRoute({
    operationId: 'createVersion', method: 'post', path: '/{package_id}/versions', summary: 'Create a draft with the next number',
    request: { params: PackageParams, body: optionalJsonBody(CreateVersionBody) },
    responses: { 201: jsonResponse(Version, 'the new draft'), ...errorResponses },
  }),
  listVersions: createRoute({
    operationId: 'listVersions', method: 'get', path: '/{package_id}/versions', summary: "A package's versions, newest first",
    request: {
      params: PackageParams,
      query: PageQuery.extend({
        status: z.enum(VERSION_STATUSES).optional(),
        over_budget: boolParam().optional().openapi({
          description: 'true: only versions whose actual_cost has reached their budget_limit; false: only the others',
        }),
      }),
    },
    responses: { 200: jsonResponse(page(Version), 'a page of versions'), ...errorResponses },
  }),
  getVersionByNumber: createRoute({
    operationId: 'getVersionByNumber', method: 'get', path: '/{package_id}/versions/{number}', summary: 'One version by its number',
    request: { params: NumberParams },
    responses: { 200: jsonResponse(Version, 'the version'), ...errorResponses },
  }),
};

export function createPackagesApp(deps: FunctionDeps) {
  const app = createFunctionApp('packages', deps, { auth: 'jwt', title: 'Training registry: package versions' });
  const { db } = deps;
  const versionId = (c: { req: { valid(target: 'param'): { version_id: string } } }) => c.req.valid('param').version_id;

  app.openapi(routes.createPackage, async (c) => {
    const b = c.req.valid('json');
    return c.json(await callRpc<Package>(c, db, 'packages_create', {
      p_name: b.name, p_template_type: b.template_type, p_config: b.config,
    }), 201);
  });

  app.openapi(routes.listPackages, async (c) => {
    const q = c.req.valid('query');
    return jsonText<{ items: Package[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'packages_list', {
      p_limit: q.limit, p_cursor: q.cursor,
    }), 200);
  });

  app.openapi(routes.getVersion, async (c) =>
    c.json(await callRpc<Version>(c, db, 'packages_get_version', { p_version_id: versionId(c) }), 200));

  app.openapi(routes.updateVersion, async (c) =>
    c.json(await callRpc<Version>(c, db, 'packages_update_version', {
      p_version_id: versionId(c), p_changes: c.req.valid('json'),
    }), 200));

  app.openapi(routes.deleteVersion, async (c) =>
    c.json(await callRpc<DeletedVersion>(c, db, 'packages_delete_version', { p_version_id: versionId(c) }), 200));

  app.openapi(routes.publish, async (c) =>
    c.json(await callRpc<Version>(c, db, 'packages_publish_version', { p_version_id: versionId(c) }), 200));

  app.openapi(routes.archive, async (c) =>
    c.json(await callRpc<Version>(c, db, 'packages_archive_version', { p_version_id: versionId(c) }), 200));

  app.openapi(routes.fork, async (c) => {
    const b = c.req.valid('json') ?? {};
    return c.json(await callRpc<Version>(c, db, 'packages_fork_version', {
      p_version_id: versionId(c), p_name: b.name, p_change_summary: b.change_summary,
    }), 201);
  });

  app.openapi(routes.diff, async (c) =>
    c.json(await callRpc<VersionDiff>(c, db, 'packages_diff_versions', {
      p_version_id: versionId(c), p_against: c.req.valid('query').against,
    }), 200));

  app.openapi(routes.deployment, async (c) => {
    const b = c.req.valid('json');
    return c.json(await callRpc<Version>(c, db, 'packages_set_deployment', {
      p_version_id: versionId(c), p_is_deployed: b.is_deployed, p_deployment_target: b.deployment_target,
      p_deployment_url: b.deployment_url, p_deployment_id: b.deployment_id,
    }), 200);
  });

  app.openapi(routes.training, async (c) =>
    c.json(await callRpc<Version>(c, db, 'packages_set_training', {
      p_version_id: versionId(c), p_changes: c.req.valid('json'),
    }), 200));

  app.openapi(routes.getPackage, async (c) =>
    c.json(await callRpc<Package>(c, db, 'packages_get', { p_package_id: c.req.valid('param').package_id }), 200));

  app.openapi(routes.nextVersionNumber, async (c) =>
    c.json(await callRpc<NextVersionNumber>(c, db, 'packages_next_version_number', {
      p_package_id: c.req.valid('param').package_id,
    }), 200));

  app.openapi(routes.createVersion, async (c) => {
    const b = c.req.valid('json') ?? {};
    return c.json(await callRpc<Version>(c, db, 'packages_create_version', {
      p_package_id: c.req.valid('param').package_id, p_name: b.name, p_config_snapshot: b.config_snapshot,
      p_model_snapshot: b.model_snapshot, p_dataset_snapshot: b.dataset_snapshot, p_change_summary: b.change_summary,
      p_estimated_cost: b.estimated_cost, p_budget_limit: b.budget_limit,
    }), 201);
  });

  app.openapi(routes.listVersions, async (c) => {
    const q = c.req.valid('query');
    return jsonText<{ items: Version[]; next_cursor: string | null }, 200>(c, await callRpcText(c, db, 'packages_list_versions', {
      p_package_id: c.req.valid('param').package_id, p_status: q.status, p_limit: q.limit, p_cursor: q.cursor,
      p_over_budget: q.over_budget,
    }), 200);
  });

  app.openapi(routes.getVersionByNumber, async (c) => {
    const p = c.req.valid('param');
    return c.json(await callRpc<Version>(c, db, 'packages_get_version_by_number', {
      p_package_id: p.package_id, p_version_number: p.number,
    }), 200);
  });

  return app;
}
