// npm run db:migrate               apply pending migrations to DATABASE_URL (or the embedded .data database)
// npm run db:rollback [-- --steps N | --all]   undo the newest migration(s)
import { parseArgs } from 'node:util';
import { openDatabase } from './lib/database.ts';
import { applyLocalShim, migrateDown, migrateUp } from './lib/migrator.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { steps: { type: 'string', default: '1' }, all: { type: 'boolean', default: false }, 'no-shim': { type: 'boolean', default: false } },
});
const { client, description } = await openDatabase();
try {
  if (positionals[0] === 'down') {
    const done = await migrateDown(client, values.all ? Infinity : Number(values.steps));
    console.log(done.length ? done.map((m) => `rolled back ${m.version}_${m.name}`).join('\n') : 'nothing to roll back');
  } else {
    if (!values['no-shim'] && await applyLocalShim(client)) console.log('applied supabase/local shim (not a Supabase database)');
    const done = await migrateUp(client);
    console.log(done.length ? done.map((m) => `applied ${m.version}_${m.name}`).join('\n') : 'database is up to date');
  }
  console.log(`(${description})`);
} finally {
  await client.close();
}
