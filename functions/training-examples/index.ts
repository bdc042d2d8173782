// Edge function entry point (Supabase / Deno). Node imports app.ts instead.
import { dbFromEnv } from '../_shared/db/from_env.ts';
import { createTrainingExamplesApp } from './app.ts';

const deno = (globalThis as { Deno?: { serve(handler: (req: Request) => Response | Promise<Response>): unknown } }).Deno;
if (deno) {
  const app = createTrainingExamplesApp({ db: dbFromEnv() });
  deno.serve(app.fetch);
}
