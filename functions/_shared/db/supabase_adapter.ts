// The supabase adapter: supabase-js `.rpc` with the caller's own token, so
// PostgREST sets the role and claims and RLS applies exactly as for a front end.
import { createClient } from '@supabase/supabase-js';
import { type Caller, type Db, DbError, type RpcOptions, toDbError } from './port.ts';

export interface SupabaseAdapterOptions {
  url: string;
  /** The project's anon (publishable) key, sent as `apikey`. */
  anonKey: string;
  fetch?: typeof fetch;
}

export function supabaseAdapter(options: SupabaseAdapterOptions): Db {
  const client = createClient(options.url, options.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: options.fetch ? { fetch: options.fetch } : {},
  });
  const db: Db = {
    async rpc<T>(fn: string, args: Record<string, unknown>, caller: Caller, options: RpcOptions = {}): Promise<T> {
      const given = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
      const { idempotency, signal } = options;
      // With an Idempotency-Key the call goes through public.idempotent_call, as in the sql adapter.
      const [name, body] = idempotency
        ? ['idempotent_call', { p_key: idempotency.key, p_fingerprint: idempotency.fingerprint, p_fn: fn, p_args: given }]
        : [fn, given];
      let response;
      try {
        const call = client.rpc(name, body).setHeader('Authorization', `Bearer ${caller.token}`);
        response = await (signal ? call.abortSignal(signal) : call);
      } catch (err) {
        if (signal?.aborted) throw toDbError(signal.reason);
        throw new DbError('08000', err instanceof Error ? err.message : String(err));
      }
      if (signal?.aborted) throw toDbError(signal.reason);
      const { data, error, status } = response;
      if (error) {
        // supabase-js reports network failures with no code.
        throw new DbError(error.code || (status >= 500 || status === 0 ? '08000' : 'PGRST000'),
          error.message, error.details, error.hint);
      }
      if (!idempotency) return data as T;
      const stored = data as { replayed: boolean; result: T };
      idempotency.replayed = stored.replayed;
      return stored.result;
    },
    // supabase-js has parsed the body already: the same value, serialised again.
    rpcText: async (fn, args, caller, options) => JSON.stringify(await db.rpc(fn, args, caller, options)),
    close: async () => {},
  };
  return db;
}
