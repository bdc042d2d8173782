// Edge function entry point (Supabase / Deno). Node imports app.ts instead.
import { dbFromEnv } from '../_shared/db/from_env.ts';
import { serveOnDeno } from '../_shared/http/serve.ts';
import { createRunsApp } from './app.ts';

serveOnDeno('runs', () => createRunsApp({ db: dbFromEnv() }));
