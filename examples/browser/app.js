// What a front end does with the registry's functions, step by step: a GET
// with a bearer token, JSON POSTs, problem bodies on 4xx, and downloads named
// by Content-Disposition, with supabase-js's functions.invoke and with the
// typed client (clients/typescript; in an app: import it from that folder and
// let the bundler strip its types). Each step is shown in the table and
// collected in window.exampleResults (the browser test reads it).
import { createRegistryClient, download, ok, RegistryError } from '/client/index.js';

const form = document.getElementById('settings');
const table = document.getElementById('results');
window.exampleResults = [];

// Settings can come in the fragment (#url=...&token=...&autorun=1): it never leaves the browser.
const fragment = new URLSearchParams(location.hash.slice(1));
for (const name of ['url', 'token', 'anonKey', 'webhookToken']) if (fragment.has(name)) form.elements[name].value = fragment.get(name);

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void runAll();
});
if (fragment.has('autorun')) void runAll();

function record(step, how, status, read, ok) {
  window.exampleResults.push({ step, how, status, read, ok });
  const row = table.insertRow();
  for (const text of [step, how, String(status), typeof read === 'string' ? read : JSON.stringify(read)]) row.insertCell().textContent = text;
  row.cells[2].className = ok ? 'ok' : 'failed';
}

/** A problem+json body (RFC 9457): readable because even error answers carry Access-Control-Allow-Origin. */
async function problem(response) {
  const body = await response.json();
  return { status: body.status, code: body.code, detail: body.detail };
}

/** What the typed client's errors carry: the problem's status, code and detail, and the call's request id. */
function refused(error) {
  if (!(error instanceof RegistryError) || error.status === null) throw error;
  return { status: error.status, code: error.code, detail: error.message, request_id: error.requestId };
}

async function runAll() {
  table.replaceChildren();
  window.exampleResults = [];
  document.body.dataset.done = 'false';
  const url = form.elements.url.value.replace(/\/+$/, '');
  const token = form.elements.token.value.trim();
  const webhookToken = form.elements.webhookToken.value.trim();
  const runId = `browser_${Date.now().toString(36)}`;

  // supabase-js: the anon key goes in `apikey`; the user's token (here given directly, in an app the
  // signed-in session's) is the bearer token functions.invoke sends.
  const supabase = window.supabase.createClient(url, form.elements.anonKey.value.trim() || token, {
    accessToken: async () => token,
  });
  // The typed client. In an app signed in with supabase-js: token: supabaseSession(supabase), which reads the
  // session's access token on every call. A page shows failures at once, so one quick retry here; scripts keep
  // the defaults (3, from 500 ms).
  const options = { url, retries: 1, backoffMs: 200 };
  const registry = createRegistryClient({ ...options, token, webhookToken });
  const anonymous = createRegistryClient(options);
  const wrongWebhook = createRegistryClient({ ...options, webhookToken: 'wrong' });

  const steps = [
    ['register a run (JSON POST)', 'supabase.functions.invoke', async () => {
      const { data, error, response } = await supabase.functions.invoke('runs', {
        body: { run_id: runId, config: { training: { batch_size: 32, learning_rate: 0.0003 } }, host: 'browser' },
      });
      if (error) throw error;
      return [response.status, { run_id: data.run_id, batch_size: data.batch_size }, response.status === 201];
    }],
    ['read it back (GET with a bearer token)', 'supabase.functions.invoke', async () => {
      const { data, error, response } = await supabase.functions.invoke(`runs/${runId}`, { method: 'GET' });
      if (error) throw error;
      return [response.status, { run_id: data.run_id, status: data.status }, data.run_id === runId];
    }],
    ['a typo in a query parameter (400 problem)', 'supabase.functions.invoke', async () => {
      const { error } = await supabase.functions.invoke('runs?stauts=completed', { method: 'GET' });
      // A non-2xx answer is a FunctionsHttpError whose context is the Response; a network or CORS
      // failure is a FunctionsFetchError instead.
      if (!(error instanceof window.supabase.FunctionsHttpError)) throw error;
      const read = await problem(error.context);
      return [error.context.status, read, read.detail.startsWith('unknown query parameter: stauts')];
    }],
    ['list runs (GET with a bearer token)', 'registry client', async () => {
      const result = await registry.runs.GET('/runs', { params: { query: { host: 'browser', limit: '5' } } });
      const page = await ok(result);
      return [result.response.status, { items: page.items.length, request_id: result.response.headers.get('x-request-id') }, page.items.length >= 1];
    }],
    ['no token (401 problem)', 'registry client', async () => {
      const read = await ok(anonymous.runs.GET('/runs/stats')).then(() => null, refused);
      return [read?.status, read, read?.status === 401 && read.code === 'unauthorized'];
    }],
    ['create a package (JSON POST)', 'registry client', async () => {
      const result = await registry.packages.POST('/packages', { body: { name: `browser ${runId}`, config: { training: { epochs: 1 } } } });
      const created = await ok(result);
      return [result.response.status, { name: created.name, version_count: created.version_count }, result.response.status === 201];
    }],
    ['store a conversation (JSON POST)', 'registry client', async () => {
      const result = await registry.conversations.POST('/conversations', { body: {
        title: 'From the browser', persona: runId, quality_metrics: { relevance: 9, accuracy: 9 },
        turns: [{ role: 'user', content: 'Can a page call this?' }, { role: 'assistant', content: 'Yes, with CORS.' }] } });
      const created = await ok(result);
      return [result.response.status, { turn_count: created.turn_count, quality_score: created.quality_score }, result.response.status === 201];
    }],
    ['export conversations (a download named by Content-Disposition)', 'registry client', async () => {
      const file = await download(registry.conversations.POST('/conversations/exports', {
        // the conversation just stored is not reviewed yet: an export takes only approved ones unless it names a status
        body: { format: 'jsonl', filter: { persona: runId, status: 'generated' } }, parseAs: 'blob' }));
      // In an app: const a = document.createElement('a'); a.href = URL.createObjectURL(file.blob); a.download = file.fileName; a.click();
      const lines = (await file.blob.text()).trim().split('\n').filter(Boolean);
      return [200, { file: file.fileName, bytes: file.blob.size, lines: lines.length }, /^conversations-.*\.jsonl$/.test(file.fileName ?? '') && lines.length === 1];
    }],
    ['export training examples (a download named by Content-Disposition)', 'registry client', async () => {
      const file = await download(registry.trainingExamples.GET('/training-examples/export', { params: { query: { format: 'sharegpt' } }, parseAs: 'blob' }));
      return [200, { file: file.fileName, bytes: file.blob.size }, /^training-examples-.*-sharegpt\.jsonl$/.test(file.fileName ?? '')];
    }],
    ['training-example stats (GET)', 'supabase.functions.invoke', async () => {
      const { data, error, response } = await supabase.functions.invoke('training-examples/stats', { method: 'GET' });
      if (error) throw error;
      return [response.status, { cascades: data.items.length }, Array.isArray(data.items)];
    }],
    ['report the run finished to the W&B webhook (JSON POST, its own token)', 'registry client', async () => {
      const result = await registry.wandbWebhook.POST('/wandb-webhook', {
        body: { run_id: runId, state: 'FINISHED', summary: { 'train/loss': 0.42, _timestamp: Date.now() / 1000 } } });
      const delivery = await ok(result);
      return [result.response.status, { outcome: delivery.outcome }, result.response.status === 200 && delivery.outcome === 'applied'];
    }],
    ['the webhook with a wrong token (401 problem)', 'registry client', async () => {
      const read = await ok(wrongWebhook.wandbWebhook.POST('/wandb-webhook', { body: {} })).then(() => null, refused);
      return [read?.status, read, read?.status === 401];
    }],
  ];

  for (const [step, how, run] of steps) {
    try {
      const [status, read, ok] = await run();
      record(step, how, status, read, ok);
    } catch (error) {
      // A CORS failure surfaces here as "TypeError: Failed to fetch".
      record(step, how, 'error', String(error), false);
    }
  }
  document.body.dataset.done = 'true';
}
