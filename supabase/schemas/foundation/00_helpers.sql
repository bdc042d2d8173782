-- foundation: pure helpers the tables' checks and defaults call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

create schema "private";

grant usage on schema "private" to "authenticated";

grant create, usage on schema "private" to "postgres";

grant usage on schema "private" to "service_role";

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

alter default privileges for role "postgres" in schema "public" revoke all on sequences from "anon";

alter default privileges for role "postgres" in schema "public" revoke all on sequences from "authenticated";
