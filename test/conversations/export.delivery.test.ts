// Export logs tell the truth over a real socket: `completed` (with the
// file's size and sha256) only when the whole file left the server, and when
// the client goes away near the end, with the tail still in buffers, `failed`
// with the bytes handed over and "the client closed the connection".
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlAdapter } from '../../functions/_shared/db/sql_adapter.ts';
import { createGateway } from '../../scripts/lib/gateway.ts';
import { mintToken } from '../../scripts/lib/tokens.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('export logs over a real socket', () => {
  let database: TestDatabase;
  let server: ReturnType<typeof serve>;
  let port: number;
  let token: string;
  const alice = crypto.randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase();
    // ~12 MB of approved conversations in one page: more than a socket's buffers hold
    await database.client.transaction((tx) => tx.exec(`
      select set_config('request.jwt.claims', '{"role": "service_role"}', true);
      insert into auth.users (id, email) values ('${alice}', 'alice@export.test');
      insert into public.conversations (id, title, persona, created_by)
        select gen_random_uuid(), 'bulk ' || i, 'bulk', '${alice}' from generate_series(1, 400) i;
      insert into public.conversation_turns (id, conversation_id, turn_number, role, content)
        select gen_random_uuid(), c.id, t, case t when 1 then 'user' else 'assistant' end, repeat(md5(c.id::text || t), 480)
          from public.conversations c cross join generate_series(1, 2) t where c.persona = 'bulk';
      update public.conversations set status = 'approved' where persona = 'bulk';`));
    token = await mintToken({ role: 'authenticated', sub: alice });
    const gateway = createGateway({ db: sqlAdapter(database.client), log: () => {} });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: gateway.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await database?.close();
  });

  /** POSTs an export and reads it; stops reading `keep` bytes before the end (when set) and closes the socket. */
  const download = (stopBefore?: number) => new Promise<{ id: string; bytes: Buffer }>((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, method: 'POST', path: '/functions/v1/conversations/exports',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    }, (res) => {
      const id = String(res.headers['x-export-id']);
      const chunks: Buffer[] = [];
      let got = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        got += chunk.length;
        if (stopBefore !== undefined && got >= stopBefore) {
          // stop reading and hang up: whatever the server still had in its buffers never arrives
          res.pause();
          req.destroy();
          resolve({ id, bytes: Buffer.concat(chunks) });
        }
      });
      res.on('end', () => resolve({ id, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', (err) => (stopBefore === undefined ? reject(err) : undefined));
    req.end(JSON.stringify({ format: 'jsonl', filter: { persona: 'bulk', status: 'approved' } }));
  });
  const log = async (id: string) => {
    for (let i = 0; i < 100; i++) {
      const [row] = await database.client.query<{ status: string; file_size_bytes: string | null; checksum: string | null; error_message: string | null }>(
        'select status, file_size_bytes::text as file_size_bytes, checksum_sha256 as checksum, error_message from public.export_logs where id = $1', [id]);
      if (row && row.status !== 'running') return row;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`export ${id} never ended`);
  };

  it('a file read to its end is completed, with its exact size and sha256', async () => {
    const { id, bytes } = await download();
    expect(bytes.length).toBeGreaterThan(8_000_000);
    const row = await log(id);
    expect(row).toMatchObject({ status: 'completed', file_size_bytes: String(bytes.length), error_message: null });
    expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('a client that hangs up with the tail still in the server\'s buffers leaves a failed log, never completed', async () => {
    const total = (await download()).bytes.length;
    // The file is one page: the server has taken all of it from the stream at once, and
    // holds what the client has not read (10 MB) in its buffers when the client hangs up.
    const { id, bytes } = await download(2_000_000);
    expect(bytes.length).toBeLessThan(total);
    const row = await log(id);
    expect(row.status).toBe('failed');
    expect(row.error_message).toMatch(/^the client closed the connection/);
    expect(row.error_message).not.toMatch(/Invalid state|Controller/);
    expect(row.checksum).toBeNull();
    expect(Number(row.file_size_bytes)).toBeLessThanOrEqual(total);
  });
});
