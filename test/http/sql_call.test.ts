// The sql adapter's call envelope (issue 16): one simple-protocol message per
// call (role, claims, timeouts and the call; values inlined as literals), so a
// read is one round trip and a write two (the message after BEGIN, then COMMIT
// only if not abandoned). What must not change with it: nothing of the caller
// outlives the call on a pooled connection, an error anywhere rolls back all
// of it with the database's code, message, detail and hint, reads run read-only,
// hostile text stays text, a read survives a dropped pooled connection.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, DbError } from '../../functions/_shared/db/port.ts';
import { quoteLiteral, sqlAdapter } from '../../functions/_shared/db/sql_adapter.ts';
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';
import type { PgliteSqlClient } from '../../scripts/lib/pglite_client.ts';
import { createTestDatabase, type TestDatabase, usingRealServer } from '../support/database.ts';

// deno-lint-ignore no-explicit-any
type AnyRpc = any;

const alice = crypto.randomUUID();
const caller: Caller = { claims: { role: 'authenticated', sub: alice }, token: 'unused' };

const HOSTILE = [
  "'", "''", "\\", "\\'", "'\\", "\\\\'", "'; drop table public.call_probe; --", "');select 1;--",
  '$$', '$$; drop table public.call_probe; $$', '$tag$ x $tag$', "E'\\x41'", '\\x41', '\\u0041', '\\n',
  '/* ', '*/', '-- ', '\n\r\t', 'ñ 😀 \u2028 \u2029 \uFEFF', '\u00a0\'\u00a0', '"', '\\"', '}{', '%s %1$s',
  'x'.repeat(10_000) + "'",
];

describe('the sql adapter call envelope', () => {
  let database: TestDatabase;
  let client: SqlClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Test-only objects in this file's throwaway database: a table, a write that fails after
    // writing, a read that tries to write, an echo of its arguments and of the session it ran in.
    await database.client.exec(`
      create table public.call_probe (x text);
      grant select, insert on public.call_probe to authenticated;
      create function public.test_write_then_fail(p_x text) returns jsonb language plpgsql as $f$
      begin
        insert into public.call_probe values (p_x);
        raise exception 'refused %', p_x using errcode = 'PT409', detail = 'the detail', hint = 'the hint';
      end $f$;
      create function public.test_write(p_x text) returns jsonb language sql as $f$
        insert into public.call_probe values (p_x) returning to_jsonb(call_probe.*) $f$;
      create function public.test_stable_write(p_x text) returns jsonb language plpgsql stable as $f$
      begin
        return public.test_write(p_x);
      end $f$;
      create function public.test_echo(p_text text default null, p_json jsonb default null, p_list text[] default null) returns jsonb language sql stable as $f$
        select jsonb_build_object('text', p_text, 'json', p_json, 'list', p_list,
          'user', current_user, 'sub', auth.uid(), 'read_only', current_setting('transaction_read_only'),
          'statement_timeout', current_setting('statement_timeout')) $f$;
      grant execute on function public.test_write_then_fail(text), public.test_write(text),
        public.test_stable_write(text), public.test_echo(text, jsonb, text[]) to authenticated;
    `);
    // One connection on the real server, so that every call below shares it.
    client = database.connect(1);
  });
  afterAll(async () => {
    await database.close();
  });

  // What the connection holds between calls: nothing of the last caller.
  const session = async () => (await client.query<Record<string, string>>(
    `select current_user as user, coalesce(current_setting('request.jwt.claims', true), '') as claims,
            current_setting('statement_timeout') as statement_timeout, current_setting('lock_timeout') as lock_timeout,
            current_setting('transaction_read_only') as read_only`))[0]!;

  it('runs the call as the caller, read-only for a stable function, with the deadline as its timeouts', async () => {
    const db = sqlAdapter(client);
    const out = await db.rpc<Record<string, unknown>>('test_echo' as AnyRpc, { p_text: 'a' }, caller, { deadline: Date.now() + 60_000 });
    expect(out).toMatchObject({ text: 'a', user: 'authenticated', sub: alice, read_only: 'on' });
    expect(out.statement_timeout).toMatch(/^[1-9][0-9]*(ms|s)$/);
    const write = await db.rpc<Record<string, unknown>>('test_write' as AnyRpc, { p_x: 'w' }, caller);
    expect(write).toEqual({ x: 'w' });
  });

  it('leaves nothing of the caller on the pooled connection: after a read, a write, an error', async () => {
    const before = await session();
    expect(before.user).not.toBe('authenticated');
    const db = sqlAdapter(client);
    await db.rpc('test_echo' as AnyRpc, { p_text: 'a' }, caller, { deadline: Date.now() + 30_000 });
    expect(await session()).toEqual(before);
    await db.rpc('test_write' as AnyRpc, { p_x: 'b' }, caller, { deadline: Date.now() + 30_000 });
    expect(await session()).toEqual(before);
    await expect(db.rpc('test_write_then_fail' as AnyRpc, { p_x: 'c' }, caller, { deadline: Date.now() + 30_000 })).rejects.toThrow();
    expect(await session()).toEqual(before);
    await expect(db.rpc('test_stable_write' as AnyRpc, { p_x: 'd' }, caller, { deadline: Date.now() + 30_000 })).rejects.toThrow();
    expect(await session()).toEqual(before);
  });

  it('rolls back the whole call when the function fails, and maps its code, message, detail and hint', async () => {
    const db = sqlAdapter(client);
    const err = await db.rpc('test_write_then_fail' as AnyRpc, { p_x: 'gone' }, caller).catch((e) => e);
    expect(err).toBeInstanceOf(DbError);
    expect(err).toMatchObject({ code: 'PT409', message: 'refused gone', details: 'the detail', hint: 'the hint' });
    expect(await client.query(`select * from public.call_probe where x = 'gone'`)).toEqual([]);
  });

  it('runs a stable function read-only (25006), as PostgREST does, and stores nothing', async () => {
    const db = sqlAdapter(client);
    await expect(db.rpc('test_stable_write' as AnyRpc, { p_x: 'ro' }, caller)).rejects.toMatchObject({ code: '25006' });
    expect(await client.query(`select * from public.call_probe where x = 'ro'`)).toEqual([]);
  });

  it('keeps hostile text as text in every argument type, in the claims and in an idempotency key', async () => {
    const db = sqlAdapter(client);
    for (const text of HOSTILE) {
      const json = { [text]: text, list: [text, { [text]: [text] }] };
      const out = await db.rpc<Record<string, unknown>>('test_echo' as AnyRpc, { p_text: text, p_json: json, p_list: [text, text] },
        { claims: { role: 'authenticated', sub: alice, email: text }, token: 'unused' });
      expect(out).toMatchObject({ text, json, list: [text, text], user: 'authenticated' });
      const stored = await db.rpc<Record<string, unknown>>('test_write' as AnyRpc, { p_x: text }, caller,
        { idempotency: { key: `k ${text}`.slice(0, 255), fingerprint: sha256(text) } });
      expect(stored).toEqual({ x: text });
    }
    expect((await client.query<{ n: number }>(`select count(*)::int as n from public.call_probe where x = any($1)`, [HOSTILE]))[0]!.n)
      .toBe(HOSTILE.length);
    expect((await client.query<{ n: number }>('select count(*)::int as n from pg_catalog.pg_tables where tablename = $1', ['call_probe']))[0]!.n)
      .toBe(1);
  });

  it('quotes the same whatever standard_conforming_strings says', async () => {
    let other: SqlClient;
    if (database.kind === 'postgres') {
      const name = new URL(database.url!).pathname.slice(1);
      await database.client.exec(`alter database "${name}" set standard_conforming_strings = off`);
      other = database.connect(1);
    } else {
      other = client;
      await client.exec('set standard_conforming_strings = off');
    }
    try {
      expect((await other.query<{ s: string }>("select current_setting('standard_conforming_strings') as s"))[0]!.s).toBe('off');
      const db = sqlAdapter(other);
      for (const text of HOSTILE) {
        const out = await db.rpc<Record<string, unknown>>('test_echo' as AnyRpc, { p_text: text, p_json: { v: text } }, caller);
        expect(out).toMatchObject({ text, json: { v: text } });
      }
    } finally {
      if (database.kind === 'pglite') await client.exec('set standard_conforming_strings = on');
    }
  });

  it('refuses NUL in a literal as the server refuses it in a parameter (22021)', async () => {
    expect(() => quoteLiteral('a\u0000b')).toThrow(DbError);
    expect(quoteLiteral("it's a \\ test")).toBe("E'it''s a \\\\ test'");
    const db = sqlAdapter(client);
    await expect(db.rpc('test_write' as AnyRpc, { p_x: 'x' }, caller, { idempotency: { key: 'k\u0000', fingerprint: sha256('f') } }))
      .rejects.toMatchObject({ code: '22021' });
    // In JSON, NUL is the escape \u0000, which jsonb refuses as text, as before.
    await expect(db.rpc('test_echo' as AnyRpc, { p_json: { v: 'a\u0000' } }, caller)).rejects.toMatchObject({ code: '22P05' });
  });

  it('sends a read as one message and a write as two (the call after BEGIN, then COMMIT)', async () => {
    const db = sqlAdapter(client);
    // Warm: the signature lookups and the connection's own settings happen once.
    await db.rpc('test_echo' as AnyRpc, { p_text: 'warm' }, caller);
    await db.rpc('test_write' as AnyRpc, { p_x: 'warm' }, caller);
    // Count what reaches the driver (pg: Client.query; PGlite: query and exec) from here on.
    const sent: string[] = [];
    const restore = countMessages(database, client, sent);
    try {
      await db.rpc('test_echo' as AnyRpc, { p_text: 'one' }, caller, { deadline: Date.now() + 30_000 });
      expect(sent).toHaveLength(1);
      expect(sent[0]).not.toMatch(/\bbegin\b|\bcommit\b/i);
      sent.length = 0;
      await db.rpc('test_write' as AnyRpc, { p_x: 'two' }, caller, { deadline: Date.now() + 30_000 });
      expect(sent).toHaveLength(2);
      expect(sent[0]).toMatch(/^begin;/);
      expect(sent[1]).toBe('commit');
      sent.length = 0;
      await db.rpc('test_write' as AnyRpc, { p_x: 'three' }, caller, { idempotency: { key: 'k3', fingerprint: sha256('f3') } });
      expect(sent).toHaveLength(2);
    } finally {
      restore();
    }
  });

  it.skipIf(!usingRealServer)('retries a read once when its connection fails under it; never a write', async () => {
    // Functions that terminate their own backend when it is the marked one (the pooled connection).
    await database.client.exec(`
      create table public.call_victim (pid int);
      create function public.test_read_dies() returns jsonb language plpgsql stable security definer set search_path = '' as $f$
      begin
        if exists (select 1 from public.call_victim where pid = pg_catalog.pg_backend_pid()) then
          perform pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid());
        end if;
        return pg_catalog.jsonb_build_object('pid', pg_catalog.pg_backend_pid());
      end $f$;
      create function public.test_write_dies(p_x text) returns jsonb language plpgsql security definer set search_path = '' as $f$
      begin
        insert into public.call_probe values (p_x);
        if exists (select 1 from public.call_victim where pid = pg_catalog.pg_backend_pid()) then
          perform pg_catalog.pg_terminate_backend(pg_catalog.pg_backend_pid());
        end if;
        return pg_catalog.jsonb_build_object('pid', pg_catalog.pg_backend_pid());
      end $f$;
      grant execute on function public.test_read_dies(), public.test_write_dies(text) to authenticated;
    `);
    const db = sqlAdapter(database.connect(1));
    const mark = (pid: number) => database.client.query('insert into public.call_victim values ($1)', [pid]);
    const first = await db.rpc<{ pid: number }>('test_read_dies' as AnyRpc, {}, caller);
    await mark(first.pid);
    const retried = await db.rpc<{ pid: number }>('test_read_dies' as AnyRpc, {}, caller);
    expect(retried.pid).not.toBe(first.pid);
    await mark(retried.pid);
    const err = await db.rpc('test_write_dies' as AnyRpc, { p_x: 'died' }, caller).catch((e: DbError) => e);
    expect(err).toBeInstanceOf(DbError);
    expect((err as DbError).code).toMatch(/^(08|57P0)/);
    expect(await client.query(`select * from public.call_probe where x = 'died'`)).toEqual([]);
    // The pool goes on with a fresh connection.
    expect(await db.rpc('test_write_dies' as AnyRpc, { p_x: 'lived' }, caller)).toMatchObject({ pid: expect.any(Number) });
  });
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Records the text of every message the client sends to the database (pg: Client.query; PGlite: query and exec). */
function countMessages(database: TestDatabase, client: SqlClient, sent: string[]): () => void {
  if (database.kind === 'postgres') {
    const original = pg.Client.prototype.query;
    // deno-lint-ignore no-explicit-any
    (pg.Client.prototype as any).query = function (this: pg.Client, ...args: any[]) {
      const text = typeof args[0] === 'string' ? args[0] : args[0]?.text;
      if (text !== undefined) sent.push(String(text));
      // deno-lint-ignore no-explicit-any
      return (original as any).apply(this, args);
    };
    return () => {
      pg.Client.prototype.query = original;
    };
  }
  const lite = (client as PgliteSqlClient).pg;
  const query = lite.query.bind(lite);
  const exec = lite.exec.bind(lite);
  // deno-lint-ignore no-explicit-any
  (lite as any).query = (text: string, ...rest: any[]) => {
    sent.push(text);
    return query(text, ...rest);
  };
  // deno-lint-ignore no-explicit-any
  (lite as any).exec = (text: string, ...rest: any[]) => {
    sent.push(text);
    return exec(text, ...rest);
  };
  return () => {
    // deno-lint-ignore no-explicit-any
    delete (lite as any).query;
    // deno-lint-ignore no-explicit-any
    delete (lite as any).exec;
  };
}
