// The sql adapter: calls a SQL function directly, doing per transaction what
// PostgREST does per request (role and JWT claims set locally), and passing
// arguments the way PostgREST does: one JSON object, typed by the function's
// own signature through jsonb_to_record.
import type { SqlClient } from './sql_client.ts';
import { type Caller, type Db, DbError, ROLES, toDbError } from './port.ts';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function sqlAdapter(client: SqlClient): Db {
  // fn name -> (argument name -> SQL type), read from the catalog once.
  const signatures = new Map<string, Promise<Map<string, string>>>();

  function signature(fn: string): Promise<Map<string, string>> {
    let found = signatures.get(fn);
    if (!found) {
      found = readSignature(client, fn);
      signatures.set(fn, found);
      found.catch(() => signatures.delete(fn));
    }
    return found;
  }

  return {
    async rpc<T>(fn: string, args: Record<string, unknown>, caller: Caller): Promise<T> {
      if (!IDENTIFIER.test(fn)) throw new DbError('42883', `function public.${fn} does not exist`);
      if (!ROLES.includes(caller.claims.role)) throw new DbError('PGRST301', 'invalid role in token');
      try {
        return await call(fn, args, caller, await signature(fn));
      } catch (err) {
        throw toDbError(err);
      }
    },
    close: () => client.close(),
  };

  // Builds `fn(a => x.a, ...) from jsonb_to_record($1) as x(a type, ...)` and runs it as the caller.
  async function call<T>(fn: string, args: Record<string, unknown>, caller: Caller, types: Map<string, string>): Promise<T> {
    const given = Object.entries(args).filter(([, v]) => v !== undefined);
    const unknown = given.filter(([k]) => !types.has(k)).map(([k]) => k);
    if (unknown.length > 0) {
      throw new DbError('42883', `function public.${fn} has no argument ${unknown.join(', ')}`);
    }
    const text = given.length === 0
      ? `select public.${fn}() as result`
      : `select public.${fn}(${given.map(([k]) => `${k} => a.${k}`).join(', ')}) as result ` +
        `from jsonb_to_record($1::jsonb) as a(${given.map(([k]) => `${k} ${types.get(k)}`).join(', ')})`;
    return await client.transaction(async (tx) => {
      await tx.query(
        `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`,
        [caller.claims.role, JSON.stringify(caller.claims)],
      );
      const rows = await tx.query<{ result: T }>(text, given.length === 0 ? [] : [Object.fromEntries(given)]);
      return rows[0]!.result;
    });
  }
}

async function readSignature(client: SqlClient, fn: string): Promise<Map<string, string>> {
  const rows = await client.query<{ names: string[] | null; types: string[] }>(
    `select p.proargnames as names,
            array(select format_type(t, null) from unnest(p.proargtypes) with ordinality u(t, i) order by i) as types
       from pg_catalog.pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.proname = $1`,
    [fn],
  );
  if (rows.length !== 1) {
    throw new DbError(rows.length === 0 ? '42883' : 'PGRST203',
      rows.length === 0 ? `function public.${fn} does not exist` : `function public.${fn} is overloaded`);
  }
  const { names, types } = rows[0]!;
  return new Map((names ?? []).map((n, i) => [n, types[i]!] as [string, string]).filter(([n]) => IDENTIFIER.test(n)));
}

