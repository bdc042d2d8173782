-- foundation: pure helpers the tables' checks and defaults call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

create schema "private";

grant usage on schema "private" to "authenticated";

grant create, usage on schema "private" to "postgres";

grant usage on schema "private" to "service_role";

-- A config key under `training` first, then at the top level.
create or replace function private.config_value (
  config jsonb,
  key    text
)
  returns jsonb
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select coalesce(
    nullif(case when jsonb_typeof(config -> 'training') = 'object' then config -> 'training' -> key end, 'null'::jsonb),
    nullif(config -> key, 'null'::jsonb)
  )
$function$;

revoke all on function "private"."config_value"(jsonb, text) from public;

grant execute on function "private"."config_value"(jsonb, text) to "authenticated", "postgres", "service_role";

create or replace function private.is_http_url (
  u text
)
  returns boolean
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select u ~ '^https?://[^\s/?#]+[^\s]*$' and octet_length(u) <= 2048
$function$;

revoke all on function "private"."is_http_url"(text) from public;

grant execute on function "private"."is_http_url"(text) to "authenticated", "postgres", "service_role";

-- An S3 object key: not empty, at most 1024 bytes, no URL scheme, no `..`,
-- no control characters, not absolute.
create or replace function private.is_s3_key (
  k text
)
  returns boolean
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select k <> ''
    and octet_length(k) <= 1024
    and k !~ '^[A-Za-z][A-Za-z0-9+.-]*:'
    and position('..' in k) = 0
    and k !~ '^/'
    and k !~ '[[:cntrl:]]'
$function$;

revoke all on function "private"."is_s3_key"(text) from public;

grant execute on function "private"."is_s3_key"(text) to "authenticated", "postgres", "service_role";

-- A JSON value as an integer: a number with no fractional part in int range.
create or replace function private.jsonb_int (
  v jsonb
)
  returns integer
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select case when n = trunc(n) and n between -2147483648 and 2147483647 then n::integer end
  from (select private.jsonb_num(v) as n) s
$function$;

revoke all on function "private"."jsonb_int"(jsonb) from public;

grant execute on function "private"."jsonb_int"(jsonb) to "authenticated", "postgres", "service_role";

-- A JSON value as a number: JSON numbers, and strings holding a number
-- (PyYAML reads `3e-4` as a string); anything else is null.
create or replace function private.jsonb_num (
  v jsonb
)
  returns numeric
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select case jsonb_typeof(v)
    when 'number' then v::numeric
    when 'string' then case
      when (v #>> '{}') ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
      then (v #>> '{}')::numeric end
  end
$function$;

revoke all on function "private"."jsonb_num"(jsonb) from public;

grant execute on function "private"."jsonb_num"(jsonb) to "authenticated", "postgres", "service_role";

-- A JSON string's text; other JSON types are null (no silent "123" or "true").
create or replace function private.jsonb_str (
  v jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select case when jsonb_typeof(v) = 'string' then nullif(v #>> '{}', '') end
$function$;

revoke all on function "private"."jsonb_str"(jsonb) from public;

grant execute on function "private"."jsonb_str"(jsonb) to "authenticated", "postgres", "service_role";

alter default privileges for role "postgres" in schema "public" revoke all on sequences from "anon";

alter default privileges for role "postgres" in schema "public" revoke all on sequences from "authenticated";
