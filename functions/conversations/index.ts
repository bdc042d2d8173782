// Edge function entry point (Supabase / Deno). Node imports app.ts instead.
import { dbFromEnv } from '../_shared/db/from_env.ts';
import { createConversationsApp } from './app.ts';

const deno = (globalThis as { Deno?: { serve(handler: (req: Request) => Response | Promise<Response>): unknown } }).Deno;
if (deno) {
  const app = createConversationsApp({ db: dbFromEnv() });
  deno.serve(app.fetch);
}
