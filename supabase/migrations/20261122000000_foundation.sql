-- Foundation: the `private` schema (never exposed through PostgREST) and the
-- small pure helpers every domain uses: typed extraction from JSON config,
-- S3-key validation, the updated_at trigger and opaque keyset cursors.

create schema if not exists private;
revoke all on schema private from public, anon;
grant usage on schema private to authenticated, service_role;

-- A JSON value as a number: JSON numbers, and strings holding a number
-- (PyYAML reads `3e-4` as a string); anything else is null.
create or replace function private.jsonb_num(v jsonb) returns numeric
language sql immutable parallel safe
set search_path = ''
as $$
  select case jsonb_typeof(v)
    when 'number' then v::numeric
    when 'string' then case
      when (v #>> '{}') ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
      then (v #>> '{}')::numeric end
  end
$$;

-- A JSON value as an integer: a number with no fractional part in int range.
create or replace function private.jsonb_int(v jsonb) returns integer
language sql immutable parallel safe
set search_path = ''
as $$
  select case when n = trunc(n) and n between -2147483648 and 2147483647 then n::integer end
  from (select private.jsonb_num(v) as n) s
$$;

-- A JSON string's text; other JSON types are null (no silent "123" or "true").
create or replace function private.jsonb_str(v jsonb) returns text
language sql immutable parallel safe
set search_path = ''
as $$
  select case when jsonb_typeof(v) = 'string' then nullif(v #>> '{}', '') end
$$;

-- A config key under `training` first, then at the top level.
create or replace function private.config_value(config jsonb, key text) returns jsonb
language sql immutable parallel safe
set search_path = ''
as $$
  select coalesce(
    nullif(case when jsonb_typeof(config -> 'training') = 'object' then config -> 'training' -> key end, 'null'::jsonb),
    nullif(config -> key, 'null'::jsonb)
  )
$$;

-- An S3 object key: not empty, at most 1024 bytes, no URL scheme, no `..`,
-- no control characters, not absolute.
create or replace function private.is_s3_key(k text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select k <> ''
    and octet_length(k) <= 1024
    and k !~ '^[A-Za-z][A-Za-z0-9+.-]*:'
    and position('..' in k) = 0
    and k !~ '^/'
    and k !~ '[[:cntrl:]]'
$$;

create or replace function private.is_http_url(u text) returns boolean
language sql immutable parallel safe
set search_path = ''
as $$
  select u ~ '^https?://[^\s/?#]+[^\s]*$' and octet_length(u) <= 2048
$$;

create or replace function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at_db := now();
  return new;
end
$$;

-- Opaque keyset cursors: base64url of a small JSON object.
create or replace function private.cursor_encode(payload jsonb) returns text
language sql immutable parallel safe
set search_path = ''
as $$
  select translate(encode(convert_to(payload::text, 'UTF8'), 'base64'), E'+/=\n', '-_')
$$;

create or replace function private.cursor_decode(cursor text) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
  s text := translate(cursor, '-_', '+/');
  j jsonb;
begin
  s := rpad(s, ((length(s) + 3) / 4) * 4, '=');
  j := convert_from(decode(s, 'base64'), 'UTF8')::jsonb;
  if jsonb_typeof(j) <> 'object' then
    raise exception 'not an object';
  end if;
  return j;
exception when others then
  raise exception using errcode = '22023', message = 'invalid cursor';
end
$$;

revoke all on all functions in schema private from public, anon;
grant execute on all functions in schema private to authenticated, service_role;
