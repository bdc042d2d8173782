// Every public SQL function is safe with any input a signed-in user can
// send through rpc(): it answers, or refuses with a client error, and never
// fails in a way that is the database's (internal error, resource limit,
// timeout). Sizes that the functions refuse are probed; sizes that would run
// for long are not (this runs on a shared server). The filter AST of
// runs_list is checked before anything is compiled, and compiles linearly.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';
import { asRole } from '../support/as_role.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const alice = crypto.randomUUID();

/** Client errors: data (22), integrity (23), privilege (42501), raise (P0001), PostgREST-status raises (PT4xx). */
function isClientError(code: string): boolean {
  return /^(22|23)/.test(code) || code === '42501' || code === 'P0001' || /^PT4\d\d$/.test(code);
}

/** Calls as alice, within a guard deadline (a hang here fails the test instead of the run); the code of any error. */
async function call(client: SqlClient, sql: string, params: unknown[] = []): Promise<string | null> {
  try {
    await client.transaction(async (tx) => {
      await tx.exec(`set local statement_timeout = '30s'`);
      await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`,
        [JSON.stringify({ role: 'authenticated', sub: alice })]);
      await tx.query(sql, params);
    });
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${(err as Error).message}`;
  }
}

const leaf = (i: number) => ({ op: 'cmp', field: { kind: 'column', name: 'batch_size' }, cmp: '>', value: i });
const chain = (depth: number): unknown => (depth <= 1 ? leaf(0) : { op: 'and', args: [leaf(depth), chain(depth - 1)] });

describe('public functions with any input', () => {
  let database: TestDatabase;
  const runsList = (filter: unknown, order: unknown = null) =>
    call(database.client, 'select public.runs_list(p_filter => $1::text::jsonb, p_order => $2::text::jsonb)',
      [JSON.stringify(filter), order === null ? null : JSON.stringify(order)]);
  const message = async (sql: string, params: unknown[] = []) => {
    try {
      await asRole(database.client, 'authenticated', alice, sql, params);
      return null;
    } catch (err) {
      return `${(err as { code?: string }).code} ${(err as Error).message}`;
    }
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await asRole(database.client, 'authenticated', alice, `select public.runs_create('inputs-run', '{"batch_size": 8}')`);
  });
  afterAll(() => database.close());

  describe('runs_list: the filter is bounded before it is compiled', () => {
    const filterMessage = (filter: unknown, order: unknown = null) =>
      message('select public.runs_list(p_filter => $1::text::jsonb, p_order => $2::text::jsonb)',
        [JSON.stringify(filter), order === null ? null : JSON.stringify(order)]);

    it('refuses too many predicates, too deep a tree, too big a document, too many IN values, too long a path', async () => {
      // a 10,000-predicate filter is over a megabyte: refused by its size alone
      const flat = (n: number) => ({ op: 'and', args: Array.from({ length: n }, (_, i) => leaf(i)) });
      expect(await filterMessage(flat(10_000))).toBe('22023 filter is larger than 1 MB');
      expect(await filterMessage(flat(3_000))).toBe('22023 filter has more than 200 conditions');
      const pairs = (n: number, from = 0): unknown => (n === 1 ? leaf(from) : { op: 'or', args: [pairs(n >> 1, from), pairs(n - (n >> 1), from + (n >> 1))] });
      expect(await filterMessage(pairs(3_000))).toBe('22023 filter has more than 200 conditions');
      expect(await filterMessage(chain(600))).toBe('22023 filter nests deeper than 32 levels');
      expect(await filterMessage({ ...leaf(1), value: 'x'.repeat(2_000_000) })).toBe('22023 filter is larger than 1 MB');
      expect(await filterMessage({ op: 'in', field: { kind: 'column', name: 'host' }, negated: false, values: Array.from({ length: 1001 }, (_, i) => `h${i}`) }))
        .toBe('22023 IN takes at most 1000 values');
      const path = Array.from({ length: 33 }, (_, i) => `k${i}`);
      expect(await filterMessage({ op: 'null', field: { kind: 'config', path }, negated: false })).toBe('22023 a config path has at most 32 keys');
      expect(await filterMessage(null, { field: { kind: 'config', path }, dir: 'asc' })).toBe('22023 a config path has at most 32 keys');
      expect(await filterMessage({ op: 'and', args: 'everything' })).toBe('22023 and needs arguments');
      expect(await filterMessage([leaf(1)])).toBe('22023 a filter node must be an object');
    });

    it('compiles each predicate to SQL that reads its node a fixed number of times, however many IN values', async () => {
      const count = async (filter: unknown) => {
        const [row] = await database.client.query<{ sql: string }>(`select (private.run_filter_compile($1::text::jsonb, '$10', 0)).sql`, [JSON.stringify(filter)]);
        return (row!.sql.match(/\$10/g) ?? []).length;
      };
      const inOf = (n: number) => ({ op: 'in', field: { kind: 'column', name: 'host' }, negated: false, values: Array.from({ length: n }, (_, i) => `h${i}`) });
      expect(await count(inOf(1000))).toBe(await count(inOf(1)));
      // and an accepted IN of 200 values of 1 KB runs (planning folds the node once, not once per value)
      expect(await runsList({ ...inOf(200), values: Array.from({ length: 200 }, (_, i) => `${i}`.padEnd(1000, 'x')) })).toBeNull();
    });

    it('runs the largest filter it accepts, compiled to SQL that grows with the predicates, not their depth', async () => {
      expect(await runsList(chain(32))).toBeNull();
      const wide = { op: 'or', args: Array.from({ length: 200 }, (_, i) => leaf(i)) };
      expect(await runsList(wide)).toBeNull();
      const [sizes] = await database.client.query<{ deep: number; flat: number }>(
        `select length((private.run_filter_compile($1::text::jsonb, '$10', 0)).sql) as deep,
                length((private.run_filter_compile($2::text::jsonb, '$10', 0)).sql) as flat`,
        [JSON.stringify(chain(32)), JSON.stringify({ op: 'and', args: Array.from({ length: 32 }, (_, i) => leaf(i)) })]);
      // the same 32 predicates: nesting adds only parentheses, never a longer path per predicate
      expect(sizes!.deep - sizes!.flat).toBeLessThan(32 * 4);
    });

    it('any AST either runs or is refused as bad input (property)', async () => {
      const field = fc.oneof(
        fc.record({ kind: fc.constant('column'), name: fc.constantFrom('batch_size', 'host', 'status', 'created_at', 'learning_rate', 'nope') }),
        fc.record({ kind: fc.constant('config'), path: fc.array(fc.string({ maxLength: 5 }), { maxLength: 4 }) }),
        fc.record({ kind: fc.constant('metric'), key: fc.string({ maxLength: 10 }) }),
        fc.record({ kind: fc.constant('objective'), name: fc.string({ maxLength: 10 }), metric: fc.constantFrom('raw_mean', 'weight', 'bad') }),
        fc.record({ kind: fc.string({ maxLength: 5 }) }),
      );
      const literal = fc.oneof(fc.string({ maxLength: 20 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null));
      const tree = fc.letrec((tie) => ({
        node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
          fc.record({ op: fc.constant('cmp'), field, cmp: fc.constantFrom('=', '!=', '<', '>=', '~'), value: literal }),
          fc.record({ op: fc.constant('in'), field, values: fc.array(literal, { maxLength: 5 }), negated: fc.boolean() }),
          fc.record({ op: fc.constant('null'), field, negated: fc.boolean() }),
          fc.record({ op: fc.constant('like'), field, pattern: fc.string({ maxLength: 10 }), negated: fc.boolean(), case_insensitive: fc.boolean() }),
          fc.record({ op: fc.constantFrom('and', 'or'), args: fc.array(tie('node'), { maxLength: 4 }) }),
          fc.jsonValue({ maxDepth: 3 })),
      })).node;
      await fc.assert(fc.asyncProperty(tree, async (filter) => {
        const code = await runsList(filter);
        expect(code === null || isClientError(code), `${code} for ${JSON.stringify(filter)}`).toBe(true);
      }), { numRuns: 150 });
    });
  });

  it('other inputs are bounded as the functions bound them', async () => {
    const turns = JSON.stringify(Array.from({ length: 501 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'x' })));
    expect(await message(`select public.conversations_create('{}', $1::text::jsonb)`, [turns])).toBe('22023 turns: at most 500 turns per conversation');
    expect(await message(`select public.conversations_list($1::text::jsonb)`, [JSON.stringify({ q: 'word '.repeat(200) })]))
      .toBe('22023 q is longer than 500 characters');
    expect(await message(`select public.training_examples_list($1::text::jsonb)`, [JSON.stringify({ q: 'word '.repeat(200) })]))
      .toBe('22023 q is longer than 500 characters');
    expect(await message(`select public.training_few_shot(p_query => $1)`, ['word '.repeat(1000)])).toBe('22023 query is longer than 4000 characters');
    // a snapshot stored through the table API: 32 levels and 1 MB at most
    const [pkg] = await asRole<{ id: string }>(database.client, 'authenticated', alice, `select (public.packages_create('deep') ->> 'id') as id`);
    const snapshot = (json: string) => message(`insert into public.training_package_versions (package_id, config_snapshot) values ($1, $2::text::jsonb)`, [pkg!.id, json]);
    expect(await snapshot('{"a":'.repeat(33) + '1' + '}'.repeat(33))).toMatch(/^23514 .*training_package_versions_snapshots_bounded/);
    expect(await snapshot('{"a":'.repeat(31) + '1' + '}'.repeat(31))).toBeNull();
    expect(await snapshot(JSON.stringify({ big: 'x'.repeat(1_100_000) }))).toMatch(/^23514 .*training_package_versions_snapshots_bounded/);
    // turns written directly: numbered 1 to 500
    const [c] = await asRole<{ id: string }>(database.client, 'authenticated', alice,
      `select (public.conversations_create('{}', '[{"role": "user", "content": "q"}]') ->> 'id') as id`);
    expect(await message(`insert into public.conversation_turns (conversation_id, turn_number, role, content) values ($1, 501, 'user', 'x')`, [c!.id]))
      .toMatch(/^23514 .*conversation_turns_number_bounded/);
    const objectives = JSON.stringify({ objectives: Array.from({ length: 201 }, (_, i) => `o${i}`) });
    expect(await message(`select public.runs_create('many-objectives', $1::text::jsonb)`, [objectives]))
      .toBe('22023 config.objectives declares more than 200 objectives');
  });

  it('every public function, with hostile arguments of its types, answers or refuses as bad input (property)', async () => {
    const functions = await database.client.query<{ name: string; args: string[]; types: string[] }>(
      `select p.proname as name, p.proargnames as args,
              array(select format_type(t, null) from unnest(p.proargtypes) with ordinality u(t, i) order by i) as types
         from pg_proc p where p.pronamespace = 'public'::regnamespace order by 1`);
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const hostile: Record<string, fc.Arbitrary<string | null>> = {
      text: fc.constantFrom(null, '', 'inputs-run', 'x'.repeat(100_000), '%_\\', '00000000-0000-4000-8000-000000000000', 'approve', 'jsonl', 'raw',
        'conversation_templates', 'scenarios', 'edge_cases', 'quality_score.desc', 'validation', 'cleanup', 'generation'),
      jsonb: fc.constantFrom(null, 'null', '[]', '{}', '"s"', '1e308', '-0', deep(500), `{"a": ${deep(200)}}`,
        JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)), JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]))),
        '{"status": 3, "q": ["x"], "min_quality": "high", "created_after": "yesterday"}', '{"op": "or", "args": []}',
        '[{"role": "user", "content": null}]', '{"t": "not a time", "i": "not a uuid"}'),
      integer: fc.constantFrom(null, '-2147483648', '-1', '0', '1', '2147483647'),
      bigint: fc.constantFrom(null, '-1', '0', '9223372036854775807'),
      numeric: fc.constantFrom(null, 'NaN', '-1', '1e100', '0.001'),
      'double precision': fc.constantFrom(null, 'NaN', 'Infinity', '-1', '1e308'),
      boolean: fc.constantFrom(null, 'true', 'false'),
      uuid: fc.constantFrom(null, '00000000-0000-4000-8000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
      'timestamp with time zone': fc.constantFrom(null, 'infinity', '-infinity', '1900-01-01', '2026-11-30T00:00:00Z'),
      'text[]': fc.constantFrom(null, '{}', `{${Array.from({ length: 1000 }, (_, i) => `t${i}`).join(',')}}`, '{""}'),
      conversations: fc.constantFrom(null, '{}', '{"id": "00000000-0000-4000-8000-000000000000"}', '{"quality_metrics": {"relevance": 99}}'),
    };
    for (const f of functions) {
      const args = f.args ?? [];
      const arbitraries = f.types.map((t) => {
        const a = hostile[t];
        if (!a) throw new Error(`no hostile values for type ${t} (${f.name}): add some`);
        return a;
      });
      const casts = f.types.map((t, i) => t === 'conversations'
        ? `jsonb_populate_record(null::public.conversations, $${i + 1}::text::jsonb)` : `$${i + 1}::text::${t}`);
      const sql = `select public.${f.name}(${args.map((a, i) => `${a} => ${casts[i]}`).join(', ')})`;
      await fc.assert(fc.asyncProperty(fc.tuple(...arbitraries), async (values) => {
        const code = await call(database.client, sql, values);
        expect(code === null || isClientError(code), `${f.name}(${values.map((v) => (v ?? 'null').slice(0, 40)).join(', ')}) -> ${code}`).toBe(true);
      }), { numRuns: 12 });
    }
  });
});
