// What fsync=on would cost the embedded database (PGlite starts with -F, fsync
// off): the same commits on two PGlite instances in temporary folders, one as
// PGlite starts it and one with fsync on, interleaved in blocks of 50.
//   node bench/pglite_fsync.ts [--commits 2000]
// On Node, PGlite 0.5's file system (Emscripten's NODEFS) has no fsync: with
// fsync on, PostgreSQL does its bookkeeping but no fsync(2) or fdatasync(2)
// reaches the kernel (strace -f -e trace=fsync,fdatasync shows none).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { compareWrites } from './measure.ts';

const { values } = parseArgs({ options: { commits: { type: 'string', default: '2000' } } });
const open = async (fsync: boolean) => {
  const dir = mkdtempSync(join(tmpdir(), `pglite-fsync-${fsync ? 'on' : 'off'}-`));
  const params = PGlite.defaultStartParams.filter((p) => p !== '-F').concat(fsync ? ['-c', 'fsync=on'] : ['-F']);
  const pg = await PGlite.create({ dataDir: dir, startParams: params });
  await pg.exec('create table runs (id serial primary key, config jsonb not null)');
  return { pg, dir };
};
const on = await open(true);
const off = await open(false);
const config = JSON.stringify({ training: { batch_size: 64, learning_rate: 0.001 }, notes: 'x'.repeat(2500) });
const insert = (pg: PGlite) => pg.query('insert into runs (config) values ($1::jsonb)', [config]);
try {
  const r = await compareWrites('one-row commit, 2.5 KB jsonb', () => insert(on.pg), () => insert(off.pg), Number(values.commits));
  console.log(`PGlite fsync=on vs off (default): ${r.product_ms.toFixed(3)} vs ${r.baseline_ms.toFixed(3)} ms per commit = ${r.ratio.toFixed(2)}x`);
} finally {
  for (const db of [on, off]) {
    await db.pg.close();
    rmSync(db.dir, { recursive: true, force: true });
  }
}
