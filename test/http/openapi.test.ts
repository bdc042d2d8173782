// Each function's OpenAPI document as a client generator reads it, and its
// rendered API reference page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../scripts/lib/functions.ts';
import { createHarness, type Harness, json } from '../support/harness.ts';

type Operation = { operationId?: string; security?: unknown; parameters?: { in: string; name: string }[]; responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> };
type Doc = { paths: Record<string, Record<string, Operation>>; components?: { securitySchemes?: Record<string, { type: string; scheme: string }> }; security?: unknown };

/** The operationIds generated clients name their methods after: changing one breaks them, so they are listed here. */
const OPERATION_IDS: Record<string, string[]> = {
  runs: ['createRun', 'listRuns', 'getRunStats', 'queryRunsByObjectives', 'getGradientMethodStats', 'getObjectiveStats',
    'compareGradientMethods', 'deleteRunObjectives', 'getRun', 'updateRun', 'updateRunStatus', 'reportRunCrash', 'setRunBlogPost', 'setRunConversation'],
  'wandb-webhook': ['ingestWandbDelivery'],
  packages: ['createPackage', 'listPackages', 'getVersion', 'updateVersion', 'deleteVersion', 'publishVersion', 'archiveVersion',
    'forkVersion', 'diffVersions', 'setVersionDeployment', 'updateVersionTraining', 'getPackage', 'getNextVersionNumber',
    'createVersion', 'listVersions', 'getVersionByNumber'],
  conversations: ['createConversation', 'listConversations', 'listReviewQueue', 'listExports', 'exportConversations',
    'rescoreConversations', 'getBatchJob', 'logGeneration', 'getGenerationStats', 'getConversation', 'reviewConversation',
    'scoreConversation', 'updateConversation', 'deleteConversation', 'submitConversation', 'archiveConversation',
    'createBatchJob', 'reportBatchJobProgress', 'finishBatchJob', 'listReviewers', 'grantReviewer', 'revokeReviewer',
    'listTemplates', 'createTemplate', 'getTemplate', 'updateTemplate', 'deactivateTemplate',
    'listScenarios', 'createScenario', 'getScenario', 'updateScenario', 'deactivateScenario',
    'listEdgeCases', 'createEdgeCase', 'getEdgeCase', 'updateEdgeCase', 'deactivateEdgeCase'],
  'training-examples': ['ingestLogs', 'runSearchIndex', 'listExamples', 'getFewShotExamples', 'getExampleStats', 'exportExamples',
    'getExample', 'annotateExample', 'clearAnnotation'],
};

describe('OpenAPI documents', () => {
  let h: Harness;
  const docs: Record<string, Doc> = {};
  beforeAll(async () => {
    h = await createHarness('sql');
    for (const name of Object.keys(FUNCTIONS)) docs[name] = await json(await h.request(`/${name}/openapi.json`, { token: null }));
  });
  afterAll(() => h.close());
  const operations = (name: string) => Object.values(docs[name]!.paths).flatMap((ops) => Object.values(ops));

  it('every operation of every function has a camelCase operationId, unique in its function, and stable', () => {
    expect(Object.keys(docs).sort()).toEqual(Object.keys(OPERATION_IDS).sort());
    for (const name of Object.keys(docs)) {
      const ids = operations(name).map((op) => op.operationId);
      for (const id of ids) expect(id, name).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      expect(new Set(ids).size, name).toBe(ids.length);
      expect([...ids].sort(), name).toEqual([...OPERATION_IDS[name]!].sort());
    }
  });

  it('wandb-webhook declares its own bearer token (not a Supabase JWT) and the X-Wandb-Signature header', () => {
    const doc = docs['wandb-webhook']!;
    const [op] = operations('wandb-webhook');
    expect(op!.security).toEqual([{ wandbWebhookToken: [] }]);
    expect(doc.components?.securitySchemes?.wandbWebhookToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components?.securitySchemes?.bearerAuth).toBeUndefined();
    expect(op!.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'header', name: 'x-wandb-signature' })]));
    expect(docs.runs!.security).toEqual([{ bearerAuth: [] }]);
  });

  it('export responses declare their content types and Content-Disposition, and answer with one of them', async () => {
    const conversationsExport = docs.conversations!.paths['/conversations/exports']!.post!.responses['200']!;
    expect(Object.keys(conversationsExport.content!).sort()).toEqual(['application/json', 'application/jsonl', 'text/csv', 'text/markdown']);
    expect(Object.keys(conversationsExport.headers!)).toEqual(['Content-Disposition', 'X-Export-Id']);
    const examplesExport = docs['training-examples']!.paths['/training-examples/export']!.get!.responses['200']!;
    expect(Object.keys(examplesExport.content!)).toEqual(['application/jsonl']);
    expect(Object.keys(examplesExport.headers!)).toEqual(['Content-Disposition']);

    const file = await h.request('/training-examples/export');
    expect(file.status).toBe(200);
    expect(Object.keys(examplesExport.content!)).toContain(file.headers.get('content-type')!.split(';')[0]);
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="training-examples-\d{8}T\d{6}Z-openai\.jsonl"$/);
    await file.arrayBuffer();
    const csv = await h.request('/conversations/exports', { method: 'POST', json: { format: 'csv' } });
    expect(Object.keys(conversationsExport.content!)).toContain(csv.headers.get('content-type')!.split(';')[0]);
    await csv.arrayBuffer();
  });
});

describe('API reference pages', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sql');
  });
  afterAll(() => h.close());

  it.each(Object.keys(FUNCTIONS))('/functions/v1/%s/docs renders its own document, without a token, linked from the root 404', async (name) => {
    const listed = (await json(await h.request('/', { token: null }))).functions.find((f: { name: string }) => f.name === name);
    expect(listed.docs).toBe(`/functions/v1/${name}/docs`);
    const page = await h.request(`/${name}/docs`, { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('SwaggerUIBundle(');
    // The document's URL is relative, so the page works behind Supabase's /functions/v1 too.
    const url = /url: '([^']+)'/.exec(html)![1]!;
    const resolved = new URL(url, `http://127.0.0.1:54321${listed.docs}`).pathname;
    expect(resolved).toBe(`/functions/v1/${name}/openapi.json`);
    const doc = await h.request(resolved.replace('/functions/v1', ''), { token: null });
    expect(doc.status).toBe(200);
    expect((await json(doc)).openapi).toBe('3.1.0');
  });
});
