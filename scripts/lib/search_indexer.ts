// What pg_cron does on a Supabase project, for the local server: index the
// training examples' full text (private.training_search_index_batch) every
// few seconds, one run at a time. A run is short (a 200 ms budget): the
// embedded database has one connection, and requests wait while a batch
// holds it.
//
// Each batch is its own write, committed on its own, and small. On the
// embedded database every write is first admitted against the data folder's
// free-space floor (pglite_client.ts), which only works if no one write can
// take more than the floor: one batch of 500 examples of 40 KB (vectors, GIN
// entries, WAL) wrote ~190 MB, past the 128 MB floor, to a full disk. Twenty
// such examples write ~8 MB, and twenty of the largest an example's vector is
// computed from (100,000 characters of input and of output) about 40 MB.
// (Supabase's pg_cron job calls private.training_search_index_run, which
// loops over the same batches.)
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';

export const INDEX_BATCH = 20;
const BUDGET_MS = 200;

export function startSearchIndexer(client: SqlClient, options: { everyMs: number; log?: (message: string) => void }): () => Promise<void> {
  let running: Promise<void> | null = null;
  const run = async () => {
    const started = performance.now();
    for (;;) {
      const [row] = await client.call<{ n: number }>(`select private.training_search_index_batch(${INDEX_BATCH}) as n`);
      if ((row?.n ?? 0) < INDEX_BATCH || performance.now() - started > BUDGET_MS) return;
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = run()
      .catch((error: unknown) => options.log?.(`search indexer: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => { running = null; });
  }, options.everyMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
}
