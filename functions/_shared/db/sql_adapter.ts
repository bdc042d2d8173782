// The sql adapter: calls a SQL function directly, doing per transaction what
// PostgREST does per request (role and JWT claims set locally), and passing
// arguments the way PostgREST does: one JSON object, typed by the function's
// own signature through jsonb_to_record.
//
// Faults: a call with a deadline sets statement_timeout and lock_timeout for
// its own transaction (what is left of the deadline), and is abandoned when
// its signal aborts. A read (a stable or immutable function) that fails
// because its connection did (a stale pooled connection after an outage) is
// retried once on a fresh one; a write never is, it may have committed.
import { type SqlClient, untilAborted } from './sql_client.ts';
import { type Caller, type Db, DbError, isConnectionFailure, ROLES, type RpcOptions, toDbError } from './port.ts';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

interface Signature {
  /** argument name -> SQL type */
  types: Map<string, string>;
  /** stable or immutable: reads only */
  readOnly: boolean;
}

export function sqlAdapter(client: SqlClient): Db {
  // fn name -> its signature, read from the catalog once.
  const signatures = new Map<string, Promise<Signature>>();

  function signature(fn: string): Promise<Signature> {
    let found = signatures.get(fn);
    if (!found) {
      found = readSignature(client, fn);
      signatures.set(fn, found);
      found.catch(() => signatures.delete(fn));
    }
    return found;
  }

  return {
    rpc: <T>(fn: string, args: Record<string, unknown>, caller: Caller, options: RpcOptions = {}) =>
      invoke<T>(fn, args, caller, options, false),
    rpcText: (fn: string, args: Record<string, unknown>, caller: Caller, options: RpcOptions = {}) =>
      invoke<string>(fn, args, caller, options, true),
    close: () => client.close(),
  };

  async function invoke<T>(fn: string, args: Record<string, unknown>, caller: Caller, options: RpcOptions, text: boolean): Promise<T> {
    if (!IDENTIFIER.test(fn)) throw new DbError('42883', `function public.${fn} does not exist`);
    if (!ROLES.includes(caller.claims.role)) throw new DbError('PGRST301', 'invalid role in token');
    let retried = false;
    for (;;) {
      try {
        return await call<T>(fn, args, caller, await untilAborted(signature(fn), options.signal), options, text);
      } catch (err) {
        let e = toDbError(options.signal?.aborted ? options.signal.reason : err);
        // Our own statement or lock timeout (what was left of the deadline): the deadline passed.
        if ((e.code === '57014' || e.code === '55P03') && options.deadline !== undefined && Date.now() >= options.deadline - 100
            && !/^the (request|client)/.test(e.message)) {
          e = new DbError('57014', `the request did not finish within its deadline (${e.message})`);
        }
        const sig = await signatures.get(fn)?.catch(() => undefined);
        if (!retried && sig?.readOnly && !options.idempotency && !options.signal?.aborted && isConnectionFailure(e.code)) {
          retried = true;
          continue;
        }
        throw e;
      }
    }
  }

  // Builds `fn(a => x.a, ...) from jsonb_to_record(<args literal>) as x(a type, ...)` and runs it as the caller.
  // text: the result as the text PostgreSQL writes for it (a json function's own text), unparsed.
  async function call<T>(fn: string, args: Record<string, unknown>, caller: Caller, sig: Signature, options: RpcOptions, text: boolean): Promise<T> {
    const given = Object.entries(args).filter(([, v]) => v !== undefined);
    const unknown = given.filter(([k]) => !sig.types.has(k)).map(([k]) => k);
    if (unknown.length > 0) {
      throw new DbError('42883', `function public.${fn} has no argument ${unknown.join(', ')}`);
    }
    // One message: the envelope PostgREST runs per request, then the call,
    // every value inlined as a literal (see SqlClient.call for the round trips).
    const argsJson = quoteLiteral(JSON.stringify(Object.fromEntries(given)));
    const invocation = given.length === 0
      ? `public.${fn}()`
      : `public.${fn}(${given.map(([k]) => `${k} => a.${k}`).join(', ')})`;
    const from = given.length === 0
      ? ''
      : ` from jsonb_to_record(${argsJson}::jsonb) as a(${given.map(([k]) => `${k} ${sig.types.get(k)}`).join(', ')})`;
    const callText = options.idempotency
      ? `select x.r -> 'replayed' as replayed, ${text ? `(x.r -> 'result')::text` : `x.r -> 'result'`} as result from public.idempotent_call(` +
        `${quoteLiteral(options.idempotency.key)}, ${quoteLiteral(options.idempotency.fingerprint)}, ${quoteLiteral(fn)}, ${argsJson}::jsonb) as x(r)`
      : `select ${invocation}${text ? '::text' : ''} as result${from}`;
    // What is left of the deadline bounds every statement and every lock wait of this transaction.
    const left = options.deadline === undefined ? null : Math.floor(options.deadline - Date.now());
    if (left !== null && left <= 0) options.signal?.throwIfAborted();
    const timeout = left === null ? null : quoteLiteral(String(Math.max(left, 1)));
    const readOnly = sig.readOnly && !options.idempotency;
    const settings = [
      `set_config('role', ${quoteLiteral(caller.claims.role)}, true)`,
      `set_config('request.jwt.claims', ${quoteLiteral(JSON.stringify(caller.claims))}, true)`,
      ...timeout === null ? [] : [`set_config('statement_timeout', ${timeout}, true)`, `set_config('lock_timeout', ${timeout}, true)`],
      // As PostgREST runs a stable or immutable function: in a read-only transaction.
      ...readOnly ? [`set_config('transaction_read_only', 'on', true)`] : [],
    ];
    const rows = await client.call<{ result: T; replayed?: boolean }>(`select ${settings.join(', ')};\n${callText}`,
      { signal: options.signal, readOnly });
    if (options.idempotency) options.idempotency.replayed = rows[0]!.replayed;
    return rows[0]!.result;
  }
}

/**
 * A string as an SQL literal, safe whatever the server's
 * standard_conforming_strings: an escape string (E'...') treats backslashes
 * the same under both settings, so backslashes are doubled and quotes doubled,
 * and nothing else in it is special (dollar quotes and comments are only
 * syntax outside a literal). The connection's encoding is UTF8 (pg and PGlite
 * both set it), so no multibyte character can hide a quote. NUL cannot be in
 * PostgreSQL text: refused with the SQLSTATE the server gives a NUL parameter.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new DbError('22021', 'invalid byte sequence for encoding "UTF8": 0x00');
  return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

async function readSignature(client: SqlClient, fn: string): Promise<Signature> {
  const rows = await client.query<{ names: string[] | null; types: string[]; volatility: string }>(
    `select p.proargnames as names,
            array(select format_type(t, null) from unnest(p.proargtypes) with ordinality u(t, i) order by i) as types,
            p.provolatile::text as volatility
       from pg_catalog.pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.proname = $1`,
    [fn],
  );
  if (rows.length !== 1) {
    throw new DbError(rows.length === 0 ? '42883' : 'PGRST203',
      rows.length === 0 ? `function public.${fn} does not exist` : `function public.${fn} is overloaded`);
  }
  const { names, types, volatility } = rows[0]!;
  return {
    types: new Map((names ?? []).map((n, i) => [n, types[i]!] as [string, string]).filter(([n]) => IDENTIFIER.test(n))),
    readOnly: volatility !== 'v',
  };
}
