// What pg_cron does on a Supabase project, for the local server: run the
// training-examples full-text indexer (private.training_search_index_run)
// every few seconds, one run at a time. Runs are short (a 200 ms budget in
// batches of 500): the embedded database has one connection, and requests
// wait while a run holds it.
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';

export function startSearchIndexer(client: SqlClient, options: { everyMs: number; log?: (message: string) => void }): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = client.exec(`call private.training_search_index_run(interval '200 milliseconds', 500)`)
      .catch((error: unknown) => options.log?.(`search indexer: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => { running = null; });
  }, options.everyMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
