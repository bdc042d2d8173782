// The filter language parser on its own: the AST it builds, the column each
// error points at, and the agreement of its column list with the database's.
import { describe, expect, it } from 'vitest';
import { RUN_COLUMNS } from '../../functions/runs/filter/ast.ts';
import { FilterSyntaxError, parseFilter, parseOrderBy } from '../../functions/runs/filter/parse.ts';
import { createTestDatabase } from '../support/database.ts';

const col = (name: string) => ({ kind: 'column', name });
const errorAt = (src: string) => {
  try {
    parseFilter(src);
  } catch (err) {
    expect(err).toBeInstanceOf(FilterSyntaxError);
    return { column: (err as FilterSyntaxError).column, message: (err as Error).message };
  }
  throw new Error(`${src} parsed`);
};

describe('parseFilter', () => {
  it('binds AND tighter than OR, and parentheses override', () => {
    expect(parseFilter("status = 'a' OR host = 'b' AND seed = 1")).toEqual({
      op: 'or', args: [
        { op: 'cmp', field: col('status'), cmp: '=', value: 'a' },
        { op: 'and', args: [
          { op: 'cmp', field: col('host'), cmp: '=', value: 'b' },
          { op: 'cmp', field: col('seed'), cmp: '=', value: 1 }] }] });
    expect(parseFilter("(status = 'a' or host = 'b') and seed = 1")).toMatchObject({
      op: 'and', args: [{ op: 'or' }, { op: 'cmp' }] });
  });

  it('reads config paths, backticked metric keys and objectives', () => {
    expect(parseFilter('config.training.gradient_accumulation_steps > 4')).toEqual({
      op: 'cmp', field: { kind: 'config', path: ['training', 'gradient_accumulation_steps'] }, cmp: '>', value: 4 });
    expect(parseFilter('config.objectives.0.name = "COMT"')).toMatchObject({ field: { path: ['objectives', '0', 'name'] } });
    expect(parseFilter('metrics.`objectives/COMT_activity_maximize/raw_mean` >= 0.8')).toMatchObject({
      field: { kind: 'metric', key: 'objectives/COMT_activity_maximize/raw_mean' }, value: 0.8 });
    expect(parseFilter('objective.COMT_activity.normalized_mean < 1e-1')).toMatchObject({
      field: { kind: 'objective', name: 'COMT_activity', metric: 'normalized_mean' }, cmp: '<', value: 0.1 });
  });

  it('reads IN, NOT IN, IS [NOT] NULL, [NOT] LIKE / ILIKE, booleans, quotes and <> / ==', () => {
    expect(parseFilter("gradient_method not in ('mgda', 'pcgrad')")).toMatchObject({ op: 'in', values: ['mgda', 'pcgrad'], negated: true });
    expect(parseFilter('blog_post_url IS NOT NULL')).toEqual({ op: 'null', field: col('blog_post_url'), negated: true });
    expect(parseFilter("run_name ilike 'MGDA%'")).toMatchObject({ op: 'like', case_insensitive: true, negated: false, pattern: 'MGDA%' });
    expect(parseFilter('config.use_lora = TRUE')).toMatchObject({ value: true });
    expect(parseFilter("run_name = 'it''s'")).toMatchObject({ value: "it's" });
    expect(parseFilter('seed <> -3')).toMatchObject({ cmp: '!=', value: -3 });
    expect(parseFilter('seed == 3')).toMatchObject({ cmp: '=' });
  });

  it('points at the column of each mistake', () => {
    expect(errorAt("status = completed")).toMatchObject({ column: 10 });
    expect(errorAt("status = 'a' AND")).toMatchObject({ column: 17 });
    expect(errorAt("status = 'a' host = 'b'")).toMatchObject({ column: 14 });
    expect(errorAt("(status = 'a'")).toMatchObject({ column: 14 });
    expect(errorAt("status = 'a')")).toMatchObject({ column: 13 });
    expect(errorAt('nonsense > 1')).toMatchObject({ column: 1 });
    expect(errorAt("batch_size = '64'")).toMatchObject({ column: 14 });
    expect(errorAt('batch_size = 6.5')).toMatchObject({ column: 14 });
    expect(errorAt('status = 5')).toMatchObject({ column: 10 });
    expect(errorAt("created_at > 'yesterday'")).toMatchObject({ column: 14 });
    expect(errorAt("created_by = 'x'")).toMatchObject({ column: 14 });
    expect(errorAt('objective.COMT.best > 1')).toMatchObject({ column: 16 });
    expect(errorAt('objective.COMT > 1')).toMatchObject({ column: 1 });
    expect(errorAt("objective.COMT.raw_mean = 'high'")).toMatchObject({ column: 27 });
    expect(errorAt("batch_size like '6%'")).toMatchObject({ column: 1 });
    expect(errorAt("host in ('a', 1)")).toMatchObject({ column: 15 });
    expect(errorAt('config.x < true')).toMatchObject({ column: 12 });
    expect(errorAt("run_name = 'open")).toMatchObject({ column: 12 });
    expect(errorAt('metrics.`open = 1')).toMatchObject({ column: 9 });
    expect(errorAt('seed = 1 ; drop table x')).toMatchObject({ column: 10 });
    expect(errorAt('')).toMatchObject({ column: 1 });
    expect(errorAt("status = 'a' AND").message).toMatch(/^column 17: /);
  });

  it('refuses filters nested or sized beyond the limits', () => {
    expect(errorAt(`${'('.repeat(40)}seed = 1${')'.repeat(40)}`).message).toMatch(/deeper/);
    expect(errorAt(Array.from({ length: 201 }, (_, i) => `seed = ${i}`).join(' or ')).message).toMatch(/more than 200/);
  });
});

describe('parseOrderBy', () => {
  it('accepts <field> [ASC|DESC] and the older <column>.<dir>', () => {
    expect(parseOrderBy('created_at.desc')).toEqual({ field: col('created_at'), dir: 'desc' });
    expect(parseOrderBy('duration_seconds')).toEqual({ field: col('duration_seconds'), dir: 'asc' });
    expect(parseOrderBy('config.training.learning_rate DESC')).toEqual({ field: { kind: 'config', path: ['training', 'learning_rate'] }, dir: 'desc' });
    expect(parseOrderBy('objective.COMT.raw_mean desc')).toMatchObject({ field: { kind: 'objective' }, dir: 'desc' });
    expect(() => parseOrderBy('created_at sideways')).toThrow(FilterSyntaxError);
    expect(() => parseOrderBy('config_json.asc')).toThrow(FilterSyntaxError);
  });
});

describe('the column list', () => {
  it('is the one the database compiles against', async () => {
    const database = await createTestDatabase();
    try {
      const [row] = await database.client.query<{ cols: Record<string, [string, boolean]> }>('select private.run_filter_columns() as cols');
      expect(Object.fromEntries(Object.entries(row!.cols).map(([k, [type]]) => [k, type]))).toEqual(RUN_COLUMNS);
      // and each one is a real column of that type
      const real = await database.client.query<{ name: string; type: string }>(
        `select attname as name, format_type(atttypid, null) as type from pg_attribute
         where attrelid = 'public.training_runs'::regclass and attnum > 0 and not attisdropped`);
      const types = Object.fromEntries(real.map((r) => [r.name, r.type.replace('timestamp with time zone', 'timestamptz')]));
      for (const [name, type] of Object.entries(RUN_COLUMNS)) expect(types[name], name).toBe(type);
    } finally {
      await database.close();
    }
  });
});
