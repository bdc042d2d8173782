// The supabase adapter: supabase-js `.rpc` with the caller's own token, so
// PostgREST sets the role and claims and RLS applies exactly as for a front end.
import { createClient } from '@supabase/supabase-js';
import { type Caller, type Db, DbError } from './port.ts';

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
  return {
    async rpc<T>(fn: string, args: Record<string, unknown>, caller: Caller): Promise<T> {
      const given = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
      let response;
      try {
        response = await client.rpc(fn, given).setHeader('Authorization', `Bearer ${caller.token}`);
      } catch (err) {
        throw new DbError('08000', err instanceof Error ? err.message : String(err));
      }
      const { data, error, status } = response;
      if (error) {
        // supabase-js reports network failures with no code.
        throw new DbError(error.code || (status >= 500 || status === 0 ? '08000' : 'PGRST000'),
          error.message, error.details, error.hint);
      }
      return data as T;
    },
    close: async () => {},
  };
}
