// The table API as each role, exactly as PostgREST runs a request (role and
// JWT claims set locally in a transaction): for every table, view and
// function in public, what the owner, another user, a reviewer, anon and the
// service role may read, insert, update, delete and call
// (test/support/access_matrix.ts). Each attempt is rolled back, so every
// actor meets the same fixture; deferred checks run before the rollback.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { readBlock } from '../../scripts/lib/doc_blocks.ts';
import { ACCESS_DOC, type Actor, ACTORS, FIXTURE, FUNCTIONS, renderMatrix, TABLES } from '../support/access_matrix.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const ids: Record<string, string> = {
  owner: crypto.randomUUID(), other: crypto.randomUUID(), reviewer: crypto.randomUUID(), run: 'matrix-run',
  package: crypto.randomUUID(), published_package: crypto.randomUUID(), version: crypto.randomUUID(),
  published: crypto.randomUUID(), document: crypto.randomUUID(), chunk: crypto.randomUUID(), template: crypto.randomUUID(),
  scenario: crypto.randomUUID(), edge_case: crypto.randomUUID(), conversation: crypto.randomUUID(), turn: crypto.randomUUID(),
  job: crypto.randomUUID(), generation_log: crypto.randomUUID(), export: crypto.randomUUID(),
};

/** The fixture's ids as SQL literals (`:name`, not the `::type` of a cast); `:new` is a fresh uuid, `:actor` the acting user. */
function bind(sql: string, actor: Actor = 'owner'): string {
  return sql.replace(/(?<!:):([a-z_]+)/g, (whole, name: string) => {
    const value = name === 'new' ? crypto.randomUUID() : name === 'actor' ? (CLAIMS[actor].sub ?? ids.owner) : ids[name];
    return value === undefined ? whole : `'${value}'`;
  });
}

const CLAIMS: Record<Actor, Record<string, string>> = {
  owner: { role: 'authenticated', sub: ids.owner! },
  other: { role: 'authenticated', sub: ids.other! },
  reviewer: { role: 'authenticated', sub: ids.reviewer! },
  anon: { role: 'anon' },
  service: { role: 'service_role' },
};

/** Refusals: no privilege or RLS (42501), or the function's own "not yours" (404). Anything else is a bug in the check. */
const REFUSED = new Set(['42501', 'PT404']);

class Rollback extends Error {}

async function attempt(client: SqlClient, actor: Actor, sql: string, prepare?: string, refused = REFUSED): Promise<'Y' | 'N'> {
  let outcome: 'Y' | 'N' = 'N';
  await client.transaction(async (tx) => {
    if (prepare) await tx.exec(bind(prepare));
    await tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`,
      [CLAIMS[actor].role, JSON.stringify(CLAIMS[actor])]);
    try {
      let rows: Record<string, unknown>[] = [];
      for (const statement of bind(sql, actor).split(/;\n/)) rows = await tx.query(statement);
      await tx.exec('set constraints all immediate');
      const only = rows.length === 1 ? Object.values(rows[0]!) : [];
      outcome = rows.length > 0 && !(only.length === 1 && only[0] === false) ? 'Y' : 'N';
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!refused.has(code)) throw new Error(`${actor}: ${sql}\n  -> ${code} ${(err as Error).message}`);
    }
    throw new Rollback();
  }).catch((err) => {
    if (!(err instanceof Rollback)) throw err;
  });
  return outcome;
}

async function outcomes(client: SqlClient, sql: string, prepare?: string): Promise<string> {
  let result = '';
  for (const actor of ACTORS) result += await attempt(client, actor, sql, prepare);
  return result;
}

describe('the table API as each role (test/support/access_matrix.ts)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await database.client.transaction(async (tx) => {
      await tx.query(`select set_config('request.jwt.claims', '{"role": "service_role"}', true)`);
      await tx.exec(bind(FIXTURE));
    });
  });
  afterAll(() => database.close());

  it('has a row for every table, view and function in public, and none for what is not there', async () => {
    const relations = await database.client.query<{ name: string; kind: string }>(
      `select c.relname as name, case c.relkind when 'v' then 'view' else 'table' end as kind
         from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1`);
    expect(Object.fromEntries(relations.map((r) => [r.name, r.kind])))
      .toEqual(Object.fromEntries(Object.entries(TABLES).map(([name, t]) => [name, t.kind]).sort()));
    const functions = await database.client.query<{ name: string }>(
      `select p.proname as name from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1`);
    expect(functions.map((f) => f.name)).toEqual(Object.keys(FUNCTIONS).sort());
  });

  for (const [table, entry] of Object.entries(TABLES)) {
    it(`${table}: select ${entry.select}${entry.insert ? `, insert ${entry.insert.expect}` : ''}${entry.update ? `, update ${entry.update}` : ''}${entry.delete ? `, delete ${entry.delete}` : ''}`, async () => {
      const expected: Record<string, string> = { select: entry.select };
      const actual: Record<string, string> = {
        select: await outcomes(database.client, `select 1 from public.${table} where ${entry.row}`),
      };
      if (entry.insert) {
        expected.insert = entry.insert.expect;
        actual.insert = await outcomes(database.client, `${entry.insert.sql} returning 1`, entry.insert.prepare);
      }
      if (entry.update) {
        expected.update = entry.update;
        actual.update = await outcomes(database.client, `update public.${table} set ${entry.set} where ${entry.row} returning 1`);
      }
      if (entry.delete) {
        expected.delete = entry.delete;
        actual.delete = await outcomes(database.client, `delete from public.${table} where ${entry.row} returning 1`);
      }
      expect(actual).toEqual(expected);
    });
  }

  it('views refuse writes from every API role but the service role, where they are writable at all', async () => {
    for (const [view, entry] of Object.entries(TABLES).filter(([, e]) => e.kind === 'view')) {
      for (const actor of ACTORS.filter((a) => a !== 'service')) {
        // 55000: a view that is not updatable at all
        expect(await attempt(database.client, actor, `delete from public.${view} where ${entry.row} returning 1`, undefined,
          new Set(['42501', '55000'])), `${view} ${actor}`).toBe('N');
      }
    }
  });

  it('functions: who may call each one', async () => {
    const expected: Record<string, string> = {};
    const actual: Record<string, string> = {};
    for (const [fn, op] of Object.entries(FUNCTIONS)) {
      expected[fn] = op.expect;
      actual[fn] = await outcomes(database.client, op.sql, op.prepare);
    }
    expect(actual).toEqual(expected);
  });

  it('anon is refused everything and the service role allowed everything (what the README tables leave out)', () => {
    const outcomes = [...Object.values(TABLES).flatMap((t) => [t.select, t.insert?.expect, t.update, t.delete]),
      ...Object.values(FUNCTIONS).map((f) => f.expect)].filter((o): o is string => o !== undefined);
    for (const o of outcomes) expect(o.slice(3), o).toBe('NY');
  });

  it('docs/access.md shows this matrix (npm run docs:matrix rewrites it)', () => {
    expect(readBlock(readFileSync(ACCESS_DOC, 'utf8'), 'access-matrix')).toBe(renderMatrix());
  });
});
