// The catalog holds the rules the access matrix describes, and the checks of
// Supabase's database advisor (splinter: RLS in public, advisor lints 0001,
// 0003, 0006, 0010, 0011, 0024, 0028/0029) hold with the exceptions each
// recorded beside its object. Written from the lints' descriptions, against
// this schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES } from '../support/access_matrix.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const API_ROLES = ['anon', 'authenticated'];
class Rollback extends Error {}
const SCHEMAS = `('public', 'private')`;

/** Security definer functions a signed-in user's statements reach, and why each may be. */
const DEFINER_CALLED_BY_AUTHENTICATED: Record<string, string> = {
  'private.is_reviewer()': "reads the caller's own profile (policies use it; a definer so they do not recurse)",
  'private.quality_breakdown(p_conversation_id uuid, p_metrics jsonb, p_template_id uuid)': 'checks the caller may see the conversation and template',
  'private.package_version_set_lifecycle(p_version_id uuid, p_changes jsonb)': "checks the caller owns the version",
  'private.batch_job_open(p_job_type text, p_name text, p_total integer, p_parameters jsonb)': 'stamps the caller as owner',
  'private.batch_job_position(p_job_id uuid)': "reads and locks only the caller's running job",
  'private.batch_job_progress(p_job_id uuid, p_processed integer, p_results jsonb, p_after uuid, p_exhausted boolean)': "moves only the caller's running job",
  'private.batch_job_finish(p_job_id uuid, p_error text)': "moves only the caller's running job, completed only once exhausted",
  'private.export_log_open(p_format text, p_shape text, p_filters jsonb, p_include_metadata boolean, p_file_name text)': 'stamps the caller as owner',
  'private.export_log_position(p_export_id uuid)': "reads and locks only the caller's running export",
  'private.export_log_record_page(p_export_id uuid, p_ids uuid[], p_position jsonb)': "records only conversations the caller may see, into the caller's running export",
  'private.idempotency_claim(p_key text, p_fingerprint text, p_fn text)': "reads and writes only the caller's own idempotency keys",
  'private.idempotency_store(p_key text, p_result jsonb)': "writes only the caller's own idempotency key",
};

describe('the catalog holds the rules', () => {
  let database: TestDatabase;
  const q = <T = Record<string, unknown>>(sql: string) => database.client.query<T>(sql);
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  it('every table in public has RLS', async () => {
    expect(await q(`select relname from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relrowsecurity`))
      .toEqual([]);
  });

  it('authenticated holds exactly the privileges of the matrix; anon none; the service role all', async () => {
    const rows = await q<{ name: string; grantee: string; privilege: string; column_name: string | null }>(`
      select c.relname as name, g.grantee::regrole::text as grantee, g.privilege_type as privilege, null as column_name
        from pg_class c, aclexplode(c.relacl) g
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v') and g.grantee <> c.relowner
      union all
      select c.relname, g.grantee::regrole::text, g.privilege_type, a.attname
        from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped, aclexplode(a.attacl) g
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v') and g.grantee <> c.relowner`);
    expect(rows.filter((r) => API_ROLES.includes(r.grantee) && r.grantee !== 'authenticated')).toEqual([]);
    const held = (table: string, privilege: string) => {
      const mine = rows.filter((r) => r.name === table && r.grantee === 'authenticated' && r.privilege === privilege);
      if (mine.some((r) => r.column_name === null)) return 'all';
      const columns = mine.map((r) => r.column_name!).sort();
      return columns.length ? columns : undefined;
    };
    for (const [table, entry] of Object.entries(TABLES)) {
      const expected = (g: 'all' | readonly string[] | undefined) => (g === undefined || g === 'all' ? g : [...g].sort());
      expect({
        select: held(table, 'SELECT'), insert: held(table, 'INSERT'), update: held(table, 'UPDATE'), delete: held(table, 'DELETE'),
        other: rows.filter((r) => r.name === table && r.grantee === 'authenticated'
          && !['SELECT', 'INSERT', 'UPDATE', 'DELETE'].includes(r.privilege)).map((r) => r.privilege),
      }, table).toEqual({
        select: entry.grants.select ? 'all' : undefined, insert: expected(entry.grants.insert),
        update: expected(entry.grants.update), delete: entry.grants.delete ? 'all' : undefined, other: [],
      });
      for (const privilege of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) {
        expect(held(table, privilege) === 'all' || rows.some((r) => r.name === table && r.grantee === 'service_role'
          && r.privilege === privilege && r.column_name === null), `service_role ${privilege} ${table}`).toBe(true);
      }
    }
  });

  it('the API roles hold no sequence, now or by default', async () => {
    expect(await q(`select c.relname, g.grantee::regrole::text as grantee from pg_class c, aclexplode(c.relacl) g
      where c.relnamespace = 'public'::regnamespace and c.relkind = 'S' and g.grantee in ('anon'::regrole, 'authenticated'::regrole)`))
      .toEqual([]);
    expect(await q(`select d.defaclacl::text from pg_default_acl d, aclexplode(d.defaclacl) g
      where d.defaclnamespace = 'public'::regnamespace and d.defaclobjtype = 'S' and d.defaclrole = current_user::regrole
        and g.grantee in ('anon'::regrole, 'authenticated'::regrole)`)).toEqual([]);
  });

  it('no function is executable by PUBLIC or anon; definer functions fix their search_path and are called only where listed', async () => {
    expect(await q(`select p.oid::regprocedure::text as fn from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ${SCHEMAS} and (has_function_privilege('anon', p.oid, 'execute')
        or exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) g where g.grantee = 0))`)).toEqual([]);
    const definers = await q<{ fn: string; schema: string; config: string[] | null; authenticated: boolean; trigger: boolean }>(`
      select format('%s.%s(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) as fn, n.nspname as schema,
             p.proconfig as config, has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
             p.prorettype = 'trigger'::regtype as trigger
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname in ${SCHEMAS} and p.prosecdef`);
    // lint 0028/0029: none in the exposed schema
    expect(definers.filter((d) => d.schema === 'public').map((d) => d.fn)).toEqual([]);
    expect(definers.filter((d) => !(d.config ?? []).some((c) => c.startsWith('search_path='))).map((d) => d.fn)).toEqual([]);
    // trigger functions cannot be called, only fired; the rest only where listed
    expect(definers.filter((d) => d.authenticated && !d.trigger).map((d) => d.fn).sort()).toEqual(Object.keys(DEFINER_CALLED_BY_AUTHENTICATED).sort());
  });

  it("every function fixes its search_path (lint 0011), except the inlined parsers and the indexer procedure, which say why", async () => {
    const mutable = await q<{ fn: string; reason: string | null; definer: boolean }>(`
      select p.oid::regprocedure::text as fn, obj_description(p.oid, 'pg_proc') as reason, p.prosecdef as definer
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname in ${SCHEMAS} and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
       order by 1`);
    expect(mutable.map((m) => m.fn)).toEqual([
      'private.content_parts_text(jsonb)', 'private.content_text(jsonb)', 'private.example_search_vector(text,text)',
      'private.request_system_prompt(jsonb)', 'private.request_user_input(jsonb)', 'private.response_output(jsonb)',
      'private.training_search_index_run(interval,integer)',
    ]);
    for (const m of mutable) {
      expect(m.reason, m.fn).toMatch(/^search_path: none, so that it (inlines|may commit between batches)/);
      expect(m.definer, m.fn).toBe(false);
    }
  });

  it('a shadowing schema changes nothing the parsers extract, whatever the session search_path', async () => {
    const { client } = database;
    const events = JSON.stringify([{ id: 'shadow-1', trace_id: 'shadow', request: { messages: [
      { role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      response: { choices: [{ message: { content: 'hello' } }] } }]);
    await client.transaction(async (tx) => {
      // Everything the parsers call, shadowed by functions that would corrupt the result.
      await tx.exec(`create schema shadow;
        create function shadow.jsonb_typeof(jsonb) returns text language sql as $$ select 'null' $$;
        create function shadow.array_to_string(anyarray, text) returns text language sql as $$ select 'shadowed' $$;
        create function shadow.nullif(text, text) returns text language sql as $$ select 'shadowed' $$;
        create function shadow.jsonb_path_query_array(jsonb, jsonpath) returns jsonb language sql as $$ select '[]'::jsonb $$;
        create function shadow.to_tsvector(regconfig, text) returns tsvector language sql as $$ select 'shadowed'::tsvector $$;
        create function shadow.left(text, integer) returns text language sql as $$ select 'shadowed' $$;
        set local search_path = shadow, pg_catalog, public;
        select set_config('request.jwt.claims', '{"role": "service_role"}', true);`);
      await tx.query('select public.training_logs_ingest($1::text::jsonb)', [events]);
      const [row] = await tx.query(`select system_prompt, user_input, assistant_output from public.training_examples where trace_id = 'shadow'`);
      expect(row).toEqual({ system_prompt: 'be brief', user_input: 'hi', assistant_output: 'hello' });
      expect(await tx.query(`select public.training_search_index(10) ->> 'indexed' as n`)).toEqual([{ n: '1' }]);
      expect(await tx.query(`select search_vector::text as v from public.training_examples where trace_id = 'shadow'`))
        .toEqual([{ v: `'hello':2 'hi':1` }]);
      throw new Rollback();
    }).catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  });

  it('policies: named roles, auth calls evaluated once, one permissive policy per role and command (lints 0003, 0006)', async () => {
    expect(await q(`select tablename, policyname from pg_policies where schemaname = 'public' and 'public' = any(roles)`)).toEqual([]);
    expect(await q(`select tablename, policyname from pg_policies where schemaname = 'public'
      and (coalesce(qual, '') ~ 'auth\\.(uid|role|jwt)\\(\\)' and coalesce(qual, '') !~* 'select auth\\.(uid|role|jwt)\\(\\)'
        or coalesce(with_check, '') ~ 'auth\\.(uid|role|jwt)\\(\\)' and coalesce(with_check, '') !~* 'select auth\\.(uid|role|jwt)\\(\\)')`))
      .toEqual([]);
    expect(await q(`select c.relname, r.rolname, cmd, array_agg(p.polname order by p.polname) as policies
      from pg_policy p join pg_class c on c.oid = p.polrelid join pg_roles r on p.polroles @> array[r.oid]
      cross join lateral unnest(case p.polcmd when '*' then array['r', 'a', 'w', 'd'] else array[p.polcmd::text] end) cmd
      where c.relnamespace = 'public'::regnamespace and p.polpermissive
      group by 1, 2, 3 having count(*) > 1`)).toEqual([]);
  });

  it('a policy open to every signed-in user says why beside it; one that is literally true only reads (lint 0024)', async () => {
    const open = await q<{ table: string; policy: string; cmd: string; literal: boolean; reason: string | null }>(`
      select c.relname as table, p.polname as policy, p.polcmd::text as cmd, obj_description(p.oid, 'pg_policy') as reason,
             e.using_ in ('true', '(true)') or e.check_ in ('true', '(true)') as literal
        from pg_policy p join pg_class c on c.oid = p.polrelid,
             lateral (select replace(lower(coalesce(pg_get_expr(p.polqual, p.polrelid), '')), ' ', '') as using_,
                             replace(lower(coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')), ' ', '') as check_) e
       where c.relnamespace = 'public'::regnamespace
         and (e.using_ in ('true', '(true)', '((selectauth.uid()asuid)isnotnull)')
           or e.check_ in ('true', '(true)', '((selectauth.uid()asuid)isnotnull)'))`);
    expect(open.filter((p) => !p.literal).map((p) => p.policy).sort())
      .toEqual(['training_annotations_delete', 'training_annotations_insert', 'training_annotations_update']);
    for (const p of open) {
      if (p.literal) expect(p.cmd, `${p.table}.${p.policy}`).toBe('r');
      expect(p.reason, `${p.table}.${p.policy}`).toMatch(/^Reason: /);
    }
  });

  it('views run as the caller (lint 0010) and every foreign key has a covering index (lint 0001)', async () => {
    expect(await q(`select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'v'
      and not coalesce(c.reloptions @> array['security_invoker=on'] or c.reloptions @> array['security_invoker=true'], false)`)).toEqual([]);
    expect(await q(`select k.conname from pg_constraint k join pg_class c on c.oid = k.conrelid
      where k.contype = 'f' and c.relnamespace = 'public'::regnamespace
        and not exists (select 1 from pg_index i where i.indrelid = k.conrelid
                          and (string_to_array(i.indkey::text, ' ')::smallint[])[1:array_length(k.conkey, 1)] = k.conkey)`)).toEqual([]);
  });
});
