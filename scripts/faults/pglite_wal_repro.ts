// Reduced reproduction of PGlite hanging after its WAL cannot grow
// (docs/pglite-wal-enospc.md). Give it a folder on a small filesystem:
//   mount -t tmpfs -o size=90m tmpfs /mnt/small
//   node scripts/faults/pglite_wal_repro.ts /mnt/small/pg
// It inserts incompressible rows until a statement fails, then runs
// `select 1`. When the failure was a data file ("could not extend file"),
// `select 1` answers. When it was a WAL segment ("could not write to file
// pg_wal/xlogtemp.N"), `select 1` never returns: one core at 100 %, and the
// heartbeat below stops because Node's event loop is blocked.
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node scripts/faults/pglite_wal_repro.ts <data dir on a small filesystem>');
const pg = await PGlite.create({ dataDir: dir });
await pg.exec('create table if not exists t (id serial primary key, body text)');
for (let i = 0; ; i++) {
  try {
    await pg.query(`insert into t (body) select string_agg(md5(random()::text), '') from generate_series(1, 6000)`);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    console.log(`insert ${i} failed: ${e.code} ${e.message}`);
    break;
  }
}
const heartbeat = setInterval(() => console.log(`event loop alive ${new Date().toISOString()}`), 1000);
console.log('select 1 ...');
const t = performance.now();
console.log(await pg.query('select 1 as one'), `answered in ${Math.round(performance.now() - t)} ms`);
clearInterval(heartbeat);
await pg.close();
