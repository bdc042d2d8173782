// Oversized bodies through the real Node server (scripts/lib/http_server.ts,
// as npm start serves): each gets its 413 problem, never a socket error, and
// the keep-alive connection it came on stays usable; so do answers decided
// before the body is read (401, 415). A body past the drain limit is answered
// with Connection: close.
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAIN_LIMIT_BYTES } from '../../functions/_shared/http/body.ts';
import { listen, type Listening } from '../../scripts/lib/http_server.ts';
import { createHarness, type Harness } from '../support/harness.ts';

const LIMIT = 1024 * 1024;

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string; reusedSocket: boolean }

describe('request bodies over the limit, on one keep-alive connection', () => {
  let h: Harness;
  let server: Listening;
  let connections = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    h = await createHarness('sql', { bodyLimitBytes: LIMIT });
    server = await listen(h.fetch, { port: 0, hostname: '127.0.0.1' });
    server.server.on('connection', () => connections++);
  });
  afterAll(async () => {
    agent.destroy();
    await server.close();
    await h.close();
  });

  /** One request on the shared keep-alive agent; `chunked` sends the body without a Content-Length. */
  const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer, chunked = false) =>
    new Promise<Answer>((resolve, reject) => {
      const req = httpRequest({ agent, host: '127.0.0.1', port: server.port, method, path: `/functions/v1${path}`, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, reusedSocket: req.reusedSocket }));
      });
      req.on('error', reject);
      if (body && chunked) {
        // Several writes without a declared length: Node sends Transfer-Encoding: chunked.
        for (let at = 0; at < body.length; at += 256 * 1024) req.write(body.subarray(at, at + 256 * 1024));
      } else if (body) {
        req.setHeader('content-length', body.length);
        req.write(body);
      }
      req.end();
    });

  it('answers several 2 MiB bodies in a row with 413 problems, then a normal request, all on one connection', async () => {
    const auth = { authorization: `Bearer ${h.tokens.alice}`, 'content-type': 'application/json' };
    const big = Buffer.from(JSON.stringify({ run_id: 'big', config: { blob: 'x'.repeat(2 * 1024 * 1024) } }));
    const answers: Answer[] = [];
    for (let i = 0; i < 5; i++) answers.push(await send('POST', '/runs', auth, big));
    answers.push(await send('POST', '/runs', auth, big, true));
    // Decided from the headers alone, before the body is read:
    answers.push(await send('POST', '/runs', { 'content-type': 'application/json' }, big));
    answers.push(await send('POST', '/runs', { ...auth, 'content-type': 'text/plain' }, big.subarray(0, LIMIT / 2)));
    answers.push(await send('POST', '/no-such-function', auth, big));
    const ok = await send('GET', '/runs/stats', { authorization: `Bearer ${h.tokens.alice}` });
    // A chunked body under the limit is buffered and handled as usual.
    const small = Buffer.from(JSON.stringify({ run_id: 'chunked_ok', config: { blob: 'y'.repeat(600 * 1024) } }));
    const created = await send('POST', '/runs', auth, small, true);

    expect(answers.map((a) => a.status)).toEqual([413, 413, 413, 413, 413, 413, 401, 415, 404]);
    for (const a of answers) expect(a.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ status: 413, code: 'payload_too_large', detail: `request body is larger than ${LIMIT} bytes` });
    expect(ok.status).toBe(200);
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body).config_json.blob).toHaveLength(600 * 1024);
    expect(JSON.parse(ok.body)).toHaveProperty('total_runs');
    expect(connections).toBe(1);
    expect([...answers.slice(1), ok, created].every((a) => a.reusedSocket)).toBe(true);
    expect([...answers, ok, created].every((a) => a.headers.connection !== 'close')).toBe(true);
  });

  it(`past the drain limit (${DRAIN_LIMIT_BYTES / 1024 / 1024} MiB declared) answers 413 with Connection: close and closes cleanly`, async () => {
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /functions/v1/runs HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${h.tokens.alice}\r\n` +
      `content-type: application/json\r\ncontent-length: ${DRAIN_LIMIT_BYTES + 1}\r\n\r\n{"run_id": "huge", "config": {"blob": "`);
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => { raw += chunk; });
    const ended = await new Promise<string>((resolve) => {
      socket.once('end', () => resolve('end'));
      socket.once('error', (err) => resolve(`error ${err.message}`));
      setTimeout(() => resolve('still open'), 5000).unref();
    });
    socket.destroy();
    expect(ended).toBe('end');
    expect(raw).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw).toMatch(/\r\nconnection: close\r\n/i);
    expect(raw).toContain('"code":"payload_too_large"');
  });
});
