// A real database outage (the connection closed under the server): 503
// problem without internals, and the log line carries the response's request id.
import { describe, expect, it } from 'vitest';
import { createHarness, json } from '../support/harness.ts';

describe('when the database is gone', () => {
  it('answers 503 with a request id that its error log line repeats', async () => {
    const h = await createHarness('sql');
    await h.database.client.close();
    const res = await h.request('/runs/stats');
    expect(res.status).toBe(503);
    const problem = await json(res);
    expect(problem).toMatchObject({ status: 503, code: 'service_unavailable', detail: 'database unavailable' });
    expect(JSON.stringify(problem)).not.toMatch(/select|set_config|at .*\.ts/i);
    const id = res.headers.get('x-request-id');
    const line = h.logs.find((l) => l.request_id === id);
    expect(line).toMatchObject({ level: 'error', status: 503 });
    expect(String(line!.error)).not.toBe('');
    await h.close().catch(() => {});
  });
});
