// What a front end does with the registry's functions, step by step: a GET
// with a bearer token, JSON POSTs, problem bodies on 4xx, and downloads named
// by Content-Disposition. Each step is shown in the table and collected in
// window.exampleResults (the browser test reads it).
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

/** The file name a download should be saved under, from Content-Disposition (exposed by the functions' CORS headers). */
function fileName(response) {
  const header = response.headers.get('content-disposition') ?? '';
  return /filename="([^"]+)"/.exec(header)?.[1] ?? null;
}

/** A problem+json body (RFC 9457): readable because even error answers carry Access-Control-Allow-Origin. */
async function problem(response) {
  const body = await response.json();
  return { status: body.status, code: body.code, detail: body.detail };
}

async function runAll() {
  table.replaceChildren();
  window.exampleResults = [];
  document.body.dataset.done = 'false';
  const url = form.elements.url.value.replace(/\/+$/, '');
  const token = form.elements.token.value.trim();
  const webhookToken = form.elements.webhookToken.value.trim();
  const functionsUrl = `${url}/functions/v1`;
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const runId = `browser_${Date.now().toString(36)}`;

  // supabase-js: the anon key goes in `apikey`; the user's token (here given directly, in an app the
  // signed-in session's) is the bearer token functions.invoke sends.
  const supabase = window.supabase.createClient(url, form.elements.anonKey.value.trim() || token, {
    accessToken: async () => token,
  });

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
    ['list runs (GET with a bearer token)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/runs?host=browser&limit=5`, { headers: auth });
      const page = await res.json();
      return [res.status, { items: page.items.length, request_id: res.headers.get('x-request-id') }, res.ok && page.items.length >= 1];
    }],
    ['no token (401 problem)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/runs/stats`);
      const read = await problem(res);
      return [res.status, read, res.status === 401 && read.code === 'unauthorized'];
    }],
    ['create a package (JSON POST)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/packages`, { method: 'POST', headers: json,
        body: JSON.stringify({ name: `browser ${runId}`, config: { training: { epochs: 1 } } }) });
      const body = await res.json();
      return [res.status, { name: body.name, version_count: body.version_count }, res.status === 201];
    }],
    ['store a conversation (JSON POST)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/conversations`, { method: 'POST', headers: json, body: JSON.stringify({
        title: 'From the browser', persona: runId, quality_metrics: { relevance: 9, accuracy: 9 },
        turns: [{ role: 'user', content: 'Can a page call this?' }, { role: 'assistant', content: 'Yes, with CORS.' }] }) });
      const body = await res.json();
      return [res.status, { turn_count: body.turn_count, quality_score: body.quality_score }, res.status === 201];
    }],
    ['export conversations (a download named by Content-Disposition)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/conversations/exports`, { method: 'POST', headers: json,
        body: JSON.stringify({ format: 'jsonl', filter: { persona: runId } }) });
      const blob = await res.blob();
      const name = fileName(res);
      // In an app: const a = document.createElement('a'); a.href = URL.createObjectURL(blob); a.download = name; a.click();
      const lines = (await blob.text()).trim().split('\n').filter(Boolean);
      return [res.status, { file: name, bytes: blob.size, lines: lines.length }, res.ok && /^conversations-.*\.jsonl$/.test(name ?? '') && lines.length === 1];
    }],
    ['export training examples (a download named by Content-Disposition)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/training-examples/export?format=sharegpt`, { headers: auth });
      const blob = await res.blob();
      const name = fileName(res);
      return [res.status, { file: name, bytes: blob.size }, res.ok && /^training-examples-.*-sharegpt\.jsonl$/.test(name ?? '')];
    }],
    ['training-example stats (GET)', 'supabase.functions.invoke', async () => {
      const { data, error, response } = await supabase.functions.invoke('training-examples/stats', { method: 'GET' });
      if (error) throw error;
      return [response.status, { cascades: data.items.length }, Array.isArray(data.items)];
    }],
    ['report the run finished to the W&B webhook (JSON POST, its own token)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/wandb-webhook`, { method: 'POST',
        headers: { authorization: `Bearer ${webhookToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ run_id: runId, state: 'FINISHED', summary: { 'train/loss': 0.42, _timestamp: Date.now() / 1000 } }) });
      const body = await res.json();
      return [res.status, { outcome: body.outcome }, res.status === 200 && body.outcome === 'applied'];
    }],
    ['the webhook with a wrong token (401 problem)', 'fetch', async () => {
      const res = await fetch(`${functionsUrl}/wandb-webhook`, { method: 'POST',
        headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' }, body: '{}' });
      const read = await problem(res);
      return [res.status, read, res.status === 401];
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
