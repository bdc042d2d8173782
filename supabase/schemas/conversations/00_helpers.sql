-- conversations: pure helpers the tables' checks and defaults call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- quality_metrics: an object of rubric components, each a number 0-10.
create or replace function private.is_quality_metrics (
  j jsonb
)
  returns boolean
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select jsonb_typeof(j) = 'object' and not exists (
    select 1 from jsonb_each(j) e
     where jsonb_typeof(e.value) <> 'number' or (e.value)::numeric not between 0 and 10 or e.key !~ '^[a-z][a-z0-9_]{0,62}$')
$function$;

revoke all on function "private"."is_quality_metrics"(jsonb) from public;

grant execute on function "private"."is_quality_metrics"(jsonb) to "authenticated", "postgres", "service_role";
