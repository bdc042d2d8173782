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
    async rpc<T>(fn: string, args: Record<string, unknown>, caller: Caller, options: RpcOptions = {}): Promise<T> {
      if (!IDENTIFIER.test(fn)) throw new DbError('42883', `function public.${fn} does not exist`);
      if (!ROLES.includes(caller.claims.role)) throw new DbError('PGRST301', 'invalid role in token');
      let retried = false;
      for (;;) {
        try {
          return await call<T>(fn, args, caller, await untilAborted(signature(fn), options.signal), options);
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
    },
    close: () => client.close(),
  };

  // Builds `fn(a => x.a, ...) from jsonb_to_record($1) as x(a type, ...)` and runs it as the caller.
  async function call<T>(fn: string, args: Record<string, unknown>, caller: Caller, sig: Signature, options: RpcOptions): Promise<T> {
    const given = Object.entries(args).filter(([, v]) => v !== undefined);
    const unknown = given.filter(([k]) => !sig.types.has(k)).map(([k]) => k);
    if (unknown.length > 0) {
      throw new DbError('42883', `function public.${fn} has no argument ${unknown.join(', ')}`);
    }
    const { text, params } = options.idempotency
      ? {
        text: 'select public.idempotent_call($1, $2, $3, $4::jsonb) as result',
        params: [options.idempotency.key, options.idempotency.fingerprint, fn, JSON.stringify(Object.fromEntries(given))],
      }
      : given.length === 0
      ? { text: `select public.${fn}() as result`, params: [] }
      : {
        text: `select public.${fn}(${given.map(([k]) => `${k} => a.${k}`).join(', ')}) as result ` +
          `from jsonb_to_record($1::jsonb) as a(${given.map(([k]) => `${k} ${sig.types.get(k)}`).join(', ')})`,
        params: [JSON.stringify(Object.fromEntries(given))],
      };
    // What is left of the deadline bounds every statement and every lock wait of this transaction.
    const left = options.deadline === undefined ? null : Math.floor(options.deadline - Date.now());
    if (left !== null && left <= 0) options.signal?.throwIfAborted();
    const timeout = left === null ? null : String(Math.max(left, 1));
    const result = await client.transaction(async (tx) => {
      await tx.query(
        `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                set_config('statement_timeout', coalesce($3, current_setting('statement_timeout')), true),
                set_config('lock_timeout', coalesce($3, current_setting('lock_timeout')), true)`,
        [caller.claims.role, JSON.stringify(caller.claims), timeout],
      );
      const rows = await tx.query<{ result: T }>(text, params);
      return rows[0]!.result;
    }, { signal: options.signal, readOnly: sig.readOnly && !options.idempotency });
    if (!options.idempotency) return result;
    const stored = result as unknown as { replayed: boolean; result: T };
    options.idempotency.replayed = stored.replayed;
    return stored.result;
  }
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
