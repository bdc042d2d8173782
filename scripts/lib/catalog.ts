// A snapshot of everything a migration can create, to compare schemas:
// tables, columns, constraints, indexes, policies, functions, triggers, grants
// (table, column, function, sequence and default), views and comments.
import type { SqlClient } from '../../functions/_shared/db/sql_client.ts';

const SCHEMAS = `('public', 'private')`;
const SORTED_ACL = (acl: string) => `(select string_agg(a::text, ',' order by a::text) from unnest(${acl}) a)`;

export async function catalogSnapshot(client: SqlClient): Promise<Record<string, string[]>> {
  const q = async (sql: string) => (await client.query<{ x: string }>(sql)).map((r) => r.x).sort();
  return {
    schemas: await q(`select nspname::text as x from pg_namespace where nspname in ${SCHEMAS}`),
    tables: await q(`select format('%s.%s rls=%s', n.nspname, c.relname, c.relrowsecurity) as x
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'v', 'p')`),
    columns: await q(`select format('%s.%s.%s %s notnull=%s default=%s generated=%s', table_schema, table_name, column_name,
        data_type, is_nullable, column_default, generation_expression) as x
      from information_schema.columns where table_schema in ${SCHEMAS}`),
    constraints: await q(`select format('%s %s', conname, pg_get_constraintdef(c.oid)) as x
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname in ${SCHEMAS}`),
    indexes: await q(`select indexdef as x from pg_indexes where schemaname in ${SCHEMAS}`),
    policies: await q(`select format('%s.%s %s %s roles=%s using=%s check=%s', schemaname, tablename, policyname, cmd, roles, qual, with_check) as x
      from pg_policies where schemaname in ${SCHEMAS}`),
    functions: await q(`select format('%s.%s(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), md5(pg_get_functiondef(p.oid))) as x
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ${SCHEMAS}`),
    // ACLs as sorted items: a revoke and a grant give the same privileges in another order.
    function_grants: await q(`select format('%s.%s %s', n.nspname, p.proname, coalesce(${SORTED_ACL('p.proacl')}, 'default')) as x
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ${SCHEMAS}`),
    // with the grant option: WITH GRANT OPTION is a privilege too
    table_grants: await q(`select format('%s.%s %s %s%s', table_schema, table_name, grantee, privilege_type,
        case when is_grantable = 'YES' then ' grantable' else '' end) as x
      from information_schema.role_table_grants where table_schema in ${SCHEMAS}`),
    triggers: await q(`select format('%s %s', tgname, pg_get_triggerdef(t.oid)) as x
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and n.nspname in ${SCHEMAS}`),
    column_grants: await q(`select format('%s.%s.%s %s %s%s', table_schema, table_name, column_name, grantee, privilege_type,
        case when is_grantable = 'YES' then ' grantable' else '' end) as x
      from information_schema.column_privileges where table_schema in ${SCHEMAS}`),
    // Sequences, views and RLS switches; default privileges for future objects; comments (policy reasons).
    sequences: await q(`select format('%s.%s %s', n.nspname, c.relname, coalesce(${SORTED_ACL('c.relacl')}, 'default')) as x
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ${SCHEMAS} and c.relkind = 'S'`),
    views: await q(`select format('%s.%s %s %s', schemaname, viewname, md5(definition),
        (select coalesce(c.reloptions::text, '') from pg_class c where c.oid = format('%I.%I', schemaname, viewname)::regclass)) as x
      from pg_views where schemaname in ${SCHEMAS}`),
    force_rls: await q(`select format('%s.%s', n.nspname, c.relname) as x
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ${SCHEMAS} and c.relforcerowsecurity`),
    default_privileges: await q(`select format('%s %s %s %s', pg_get_userbyid(d.defaclrole), coalesce(n.nspname, '*'), d.defaclobjtype,
        ${SORTED_ACL('d.defaclacl')}) as x
      from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace`),
    comments: await q(`select format('%s %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), md5(d.description)) as x
      from pg_description d
      where (d.classoid = 'pg_policy'::regclass and d.objoid in (select p.oid from pg_policy p join pg_class c on c.oid = p.polrelid
               join pg_namespace n on n.oid = c.relnamespace where n.nspname in ${SCHEMAS}))
         or (d.classoid = 'pg_proc'::regclass and d.objoid in (select p.oid from pg_proc p join pg_namespace n on n.oid = p.pronamespace
               where n.nspname in ${SCHEMAS}))
         or (d.classoid = 'pg_class'::regclass and d.objoid in (select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname in ${SCHEMAS}))`),
  };
}
