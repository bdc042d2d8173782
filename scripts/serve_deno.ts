// npm run serve:deno -- <name>: one function under Deno (as Supabase's edge
// runtime runs it) at http://127.0.0.1:$PORT/functions/v1/<name>, the same
// paths as npm start. It needs a migrated database: DATABASE_URL (then
// `npm run db:migrate` once), or SUPABASE_URL and SUPABASE_ANON_KEY.
import { functionConfigs } from './lib/deploy_bundle.ts';
import { serveUnderDeno } from './lib/deno.ts';

const names = functionConfigs().map((c) => c.name);
const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.error(`usage: npm run serve:deno -- <${names.join('|')}>`);
  process.exit(2);
}
if (!process.env.DATABASE_URL && !(process.env.SUPABASE_URL && process.env.SUPABASE_ANON_KEY)) {
  console.error('set DATABASE_URL (a migrated database: npm run db:migrate), or SUPABASE_URL and SUPABASE_ANON_KEY');
  process.exit(2);
}
const served = await serveUnderDeno(name, { port: Number(process.env.PORT ?? 54321) });
served.process.once('exit', (code) => process.exit(code ?? 1));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void served.stop());
