// Edge function entry point (Supabase / Deno). Node imports app.ts instead.
import { dbFromEnv } from '../_shared/db/from_env.ts';
import { serveOnDeno } from '../_shared/http/serve.ts';
import { createTrainingExamplesApp } from './app.ts';

serveOnDeno('training-examples', () => createTrainingExamplesApp({ db: dbFromEnv() }));
