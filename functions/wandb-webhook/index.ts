// Edge function entry point (Supabase / Deno). Node imports app.ts instead.
import { dbFromEnv } from '../_shared/db/from_env.ts';
import { serveOnDeno } from '../_shared/http/serve.ts';
import { createWandbWebhookApp } from './app.ts';

serveOnDeno('wandb-webhook', () => createWandbWebhookApp({ db: dbFromEnv() }));
