-- foundation: private helpers and trigger functions (not callable through the API)
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- The service role, or a database session that never switched role and
-- carries no request claims (migrations, the seed, an administrator in
-- psql). PostgREST and the functions always set a role, so no API caller is
-- ever the latter, even one whose token has no role claim.
create or replace function private.acting_as_service()
  returns boolean
  language sql
  stable
  set search_path to ''
  AS $function$ select coalesce(auth.role() = 'service_role', pg_catalog.current_setting('role') = 'none') $function$;

revoke all on function "private"."acting_as_service"() from public;

grant execute on function "private"."acting_as_service"() to "authenticated", "postgres", "service_role";

-- Called by a migration before it creates or alters an adoptable table. A
-- second run of the migration finds its entry and records nothing new.
create or replace function private.adoption_begin (
  p_migration text,
  p_table     text
)
  returns void
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_table regclass := pg_catalog.to_regclass(p_table);
  v_policies text;
begin
  insert into private.adopted_tables (migration, table_name, existed, state)
  values (p_migration, p_table, v_table is not null, case when v_table is not null then private.table_state(v_table) end)
  on conflict (migration, table_name) do nothing;
  -- The table's own policies stay; permissive ones add to this project's (a row either allows is allowed).
  if found and v_table is not null then
    select string_agg(quote_ident(p.polname), ', ' order by p.polname) into v_policies from pg_catalog.pg_policy p where p.polrelid = v_table;
    if v_policies is not null then
      raise notice 'adopting %: its own policies stay beside this project''s, and permissive ones add up: %', p_table, v_policies;
    end if;
  end if;
end
$function$;

revoke all on function "private"."adoption_begin"(text, text) from public;

grant execute on function "private"."adoption_begin"(text, text) to "postgres";

-- Called by a rollback once the objects that depend on the table are gone:
-- drops a table the migration created; strips an adopted one back to its
-- recorded state (the rows stay). Without an entry (a database that applied
-- the migration before the ledger existed) it cannot tell the two apart, so
-- it refuses rather than guess.
create or replace function private.adoption_undo (
  p_migration text,
  p_table     text
)
  returns void
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_entry private.adopted_tables;
  v_table regclass := pg_catalog.to_regclass(p_table);
  v_now jsonb;
  v_defs jsonb;
  v_name text;
  v_def text;
  v_grant jsonb;
begin
  select * into v_entry from private.adopted_tables where migration = p_migration and table_name = p_table;
  if not found then
    raise exception using errcode = '55000',
      message = format('migration %s has no adoption record for %s: applied before the adoption ledger existed, it cannot tell whether it created the table or found it, so it will not roll it back', p_migration, p_table),
      hint = 'undo the migration''s objects on this table by hand';
  end if;
  if v_table is not null and not v_entry.existed then
    execute format('drop table %s', v_table);
  elsif v_table is not null then
    v_now := private.table_state(v_table);
    for v_name in select jsonb_array_elements_text(v_now -> 'policies') except select jsonb_array_elements_text(v_entry.state -> 'policies') loop
      execute format('drop policy %I on %s', v_name, v_table);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'triggers') except select jsonb_array_elements_text(v_entry.state -> 'triggers') loop
      execute format('drop trigger %I on %s', v_name, v_table);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'constraints') except select jsonb_array_elements_text(v_entry.state -> 'constraints') loop
      execute format('alter table %s drop constraint if exists %I', v_table, v_name);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'indexes') except select jsonb_array_elements_text(v_entry.state -> 'indexes') loop
      execute format('drop index if exists %I.%I', (select n.nspname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = v_table), v_name);
    end loop;
    for v_name in select jsonb_array_elements_text(v_now -> 'columns') except select jsonb_array_elements_text(v_entry.state -> 'columns') loop
      execute format('alter table %s drop column %I', v_table, v_name);
    end loop;
    -- Parts it replaced under the same name come back as they were.
    v_defs := private.table_state(v_table) -> 'definitions';
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,constraints}') loop
      if v_defs #>> array['constraints', v_name] is distinct from v_def then
        execute format('alter table %s drop constraint if exists %I', v_table, v_name);
        execute format('alter table %s add constraint %I %s', v_table, v_name, v_def);
      end if;
    end loop;
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,indexes}') loop
      if v_defs #>> array['indexes', v_name] is distinct from v_def then
        execute format('drop index if exists %I.%I', (select n.nspname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid = v_table), v_name);
        execute v_def;
      end if;
    end loop;
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,triggers}') loop
      if v_defs #>> array['triggers', v_name] is distinct from v_def then
        execute format('drop trigger if exists %I on %s', v_name, v_table);
        execute v_def;
      end if;
    end loop;
    for v_name, v_def in select key, value #>> '{}' from jsonb_each(v_entry.state #> '{definitions,policies}') loop
      if v_defs #>> array['policies', v_name] is distinct from v_def then
        execute format('drop policy if exists %I on %s', v_name, v_table);
        execute v_def;
      end if;
    end loop;
    execute format('alter table %s %s row level security', v_table, case when (v_entry.state ->> 'rls')::boolean then 'enable' else 'disable' end);
    execute format('alter table %s %s row level security', v_table, case when (v_entry.state ->> 'force_rls')::boolean then 'force' else 'no force' end);
    -- Privileges: whoever holds any now loses them, then the recorded ones come back.
    for v_name in select g ->> 0 from jsonb_array_elements(v_now -> 'privileges') g
                  union select g ->> 1 from jsonb_array_elements(v_now -> 'column_privileges') g loop
      execute format('revoke all on table %s from %s', v_table, v_name);
    end loop;
    for v_grant in select jsonb_array_elements(v_entry.state -> 'privileges') loop
      execute format('grant %s on table %s to %s%s', v_grant ->> 1, v_table,
        v_grant ->> 0,
        case when (v_grant ->> 2)::boolean then ' with grant option' else '' end);
    end loop;
    for v_grant in select jsonb_array_elements(v_entry.state -> 'column_privileges') loop
      execute format('grant %s (%I) on table %s to %s%s', v_grant ->> 2, v_grant ->> 0, v_table,
        v_grant ->> 1,
        case when (v_grant ->> 3)::boolean then ' with grant option' else '' end);
    end loop;
  end if;
  delete from private.adopted_tables where migration = p_migration and table_name = p_table;
end
$function$;

revoke all on function "private"."adoption_undo"(text, text) from public;

grant execute on function "private"."adoption_undo"(text, text) to "postgres";

create or replace function private.canonical_json (
  j jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  strict
  set search_path to ''
  AS $function$
  select case jsonb_typeof(j)
    when 'object' then '{' || coalesce((
      select string_agg(to_jsonb(e.key)::text || ':' || private.canonical_json(e.value), ',' order by e.key collate "C")
        from jsonb_each(j) e), '') || '}'
    when 'array' then '[' || coalesce((
      select string_agg(private.canonical_json(e.value), ',' order by e.ord)
        from jsonb_array_elements(j) with ordinality e(value, ord)), '') || ']'
    when 'number' then trim_scale(j::text::numeric)::text
    else j::text
  end
$function$;

revoke all on function "private"."canonical_json"(jsonb) from public;

grant execute on function "private"."canonical_json"(jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.check_page_limit (
  p_limit integer,
  p_max   integer default 1000
)
  returns void
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
begin
  if p_limit is null or p_limit not between 1 and p_max then
    raise exception using errcode = '22023', message = format('limit must be between 1 and %s', p_max);
  end if;
end
$function$;

revoke all on function "private"."check_page_limit"(integer, integer) from public;

grant execute on function "private"."check_page_limit"(integer, integer) to "authenticated", "postgres", "service_role";

create or replace function private.cursor_decode (
  cursor text
)
  returns jsonb
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
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
$function$;

revoke all on function "private"."cursor_decode"(text) from public;

grant execute on function "private"."cursor_decode"(text) to "authenticated", "postgres", "service_role";

-- Opaque keyset cursors: base64url of a small JSON object.
create or replace function private.cursor_encode (
  payload jsonb
)
  returns text
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select translate(encode(convert_to(payload::text, 'UTF8'), 'base64'), E'+/=\n', '-_')
$function$;

revoke all on function "private"."cursor_encode"(jsonb) from public;

grant execute on function "private"."cursor_encode"(jsonb) to "authenticated", "postgres", "service_role";

-- The caller's key for this transaction: null when it is new (now claimed:
-- recorded with this transaction, so it exists only if the transaction
-- commits), {"result": ...} when a committed request stored its answer under
-- it. 409 while another transaction holds the same key, 422 when the key was
-- used for a different request. Expired keys (24 hours) count as new; each
-- claim also removes a few expired ones.
create or replace function private.idempotency_claim (
  p_key         text,
  p_fingerprint text,
  p_fn          text
)
  returns jsonb
  language plpgsql
  security definer
  set search_path to ''
  AS $function$
declare
  v_scope text := coalesce(auth.uid()::text, 'role:' || coalesce(auth.role(), 'service_role'));
  k private.idempotency_keys;
begin
  if p_key is null or length(p_key) not between 1 and 255 then
    raise exception using errcode = '22023', message = 'Idempotency-Key must be 1-255 characters';
  end if;
  if p_fingerprint is null or p_fingerprint !~ '^[0-9a-f]{64}$' then
    raise exception using errcode = '22023', message = 'an idempotency fingerprint is a sha256 in hex';
  end if;
  if not pg_try_advisory_xact_lock(hashtextextended('idempotency:' || v_scope || ':' || p_key, 0)) then
    raise exception using errcode = 'PT409',
      message = 'a request with this Idempotency-Key is still being processed: retry later',
      detail = 'draft-ietf-httpapi-idempotency-key-header: concurrent requests with one key';
  end if;
  delete from private.idempotency_keys
   where ctid in (select ctid from private.idempotency_keys where expires_at < now() limit 20);
  select * into k from private.idempotency_keys where scope = v_scope and key = p_key;
  if found then
    if k.fingerprint <> p_fingerprint or k.fn <> p_fn then
      raise exception using errcode = 'PT422',
        message = 'this Idempotency-Key was used for a different request: send a new key for a new request';
    end if;
    return jsonb_build_object('result', k.result);
  end if;
  insert into private.idempotency_keys (scope, key, fingerprint, fn) values (v_scope, p_key, p_fingerprint, p_fn);
  return null;
end
$function$;

revoke all on function "private"."idempotency_claim"(text, text, text) from public;

grant execute on function "private"."idempotency_claim"(text, text, text) to "authenticated", "postgres", "service_role";

-- The answer of the claimed key, stored with the effect it describes.
create or replace function private.idempotency_store (
  p_key    text,
  p_result jsonb
)
  returns void
  language sql
  security definer
  set search_path to ''
  AS $function$
  update private.idempotency_keys set result = p_result
   where scope = coalesce(auth.uid()::text, 'role:' || coalesce(auth.role(), 'service_role')) and key = p_key
$function$;

revoke all on function "private"."idempotency_store"(text, jsonb) from public;

grant execute on function "private"."idempotency_store"(text, jsonb) to "authenticated", "postgres", "service_role";

-- RFC 7396 JSON merge patch: keys of the patch replace the target's, a null
-- removes the key, objects merge recursively, anything else replaces.
create or replace function private.jsonb_merge_patch (
  p_target jsonb,
  p_patch  jsonb
)
  returns jsonb
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
declare
  v_target jsonb := case when jsonb_typeof(p_target) = 'object' then p_target else '{}'::jsonb end;
  v_key text;
  v_value jsonb;
begin
  if jsonb_typeof(p_patch) is distinct from 'object' then
    return p_patch;
  end if;
  for v_key, v_value in select key, value from jsonb_each(p_patch) loop
    if jsonb_typeof(v_value) = 'null' then
      v_target := v_target - v_key;
    else
      v_target := jsonb_set(v_target, array[v_key], private.jsonb_merge_patch(v_target -> v_key, v_value));
    end if;
  end loop;
  return v_target;
end
$function$;

revoke all on function "private"."jsonb_merge_patch"(jsonb, jsonb) from public;

grant execute on function "private"."jsonb_merge_patch"(jsonb, jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.jsonb_text_array (
  v jsonb
)
  returns text[]
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$ select array(select jsonb_array_elements_text(v)) $function$;

revoke all on function "private"."jsonb_text_array"(jsonb) from public;

grant execute on function "private"."jsonb_text_array"(jsonb) to "authenticated", "postgres", "service_role";

create or replace function private.set_updated_at()
  returns trigger
  language plpgsql
  set search_path to ''
  AS $function$
begin
  new.updated_at_db := now();
  return new;
end
$function$;

revoke all on function "private"."set_updated_at"() from public;

grant execute on function "private"."set_updated_at"() to "authenticated", "postgres", "service_role";

-- What a rollback must restore of a table: its parts by name and by
-- definition (so a part this project replaced under the same name comes
-- back as it was), its RLS switches and who besides its owner holds which
-- privilege (table and columns).
create or replace function private.table_state (
  p_table regclass
)
  returns jsonb
  language sql
  stable
  set search_path to ''
  AS $function$
  select jsonb_build_object(
    'columns', coalesce((select jsonb_agg(a.attname::text order by a.attnum) from pg_catalog.pg_attribute a
                          where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]'),
    'constraints', coalesce((select jsonb_agg(k.conname::text order by k.conname) from pg_catalog.pg_constraint k
                              where k.conrelid = c.oid), '[]'),
    'indexes', coalesce((select jsonb_agg(x.relname::text order by x.relname) from pg_catalog.pg_index i
                          join pg_catalog.pg_class x on x.oid = i.indexrelid where i.indrelid = c.oid), '[]'),
    'triggers', coalesce((select jsonb_agg(t.tgname::text order by t.tgname) from pg_catalog.pg_trigger t
                           where t.tgrelid = c.oid and not t.tgisinternal), '[]'),
    'policies', coalesce((select jsonb_agg(p.polname::text order by p.polname) from pg_catalog.pg_policy p
                           where p.polrelid = c.oid), '[]'),
    'rls', c.relrowsecurity,
    'force_rls', c.relforcerowsecurity,
    'privileges', coalesce((select jsonb_agg(jsonb_build_array(
                              case g.grantee when 0 then 'public' else g.grantee::regrole::text end, g.privilege_type, g.is_grantable))
                              from pg_catalog.aclexplode(c.relacl) g where g.grantee <> c.relowner), '[]'),
    'column_privileges', coalesce((select jsonb_agg(jsonb_build_array(a.attname::text,
                              case g.grantee when 0 then 'public' else g.grantee::regrole::text end, g.privilege_type, g.is_grantable))
                              from pg_catalog.pg_attribute a, pg_catalog.aclexplode(a.attacl) g
                             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and g.grantee <> c.relowner), '[]'),
    'definitions', jsonb_build_object(
      'constraints', coalesce((select jsonb_object_agg(k.conname, pg_catalog.pg_get_constraintdef(k.oid))
                                 from pg_catalog.pg_constraint k where k.conrelid = c.oid), '{}'),
      'indexes', coalesce((select jsonb_object_agg(x.relname, pg_catalog.pg_get_indexdef(i.indexrelid))
                             from pg_catalog.pg_index i join pg_catalog.pg_class x on x.oid = i.indexrelid
                            where i.indrelid = c.oid
                              and not exists (select 1 from pg_catalog.pg_constraint k where k.conindid = i.indexrelid)), '{}'),
      'triggers', coalesce((select jsonb_object_agg(t.tgname, pg_catalog.pg_get_triggerdef(t.oid))
                              from pg_catalog.pg_trigger t where t.tgrelid = c.oid and not t.tgisinternal), '{}'),
      'policies', coalesce((select jsonb_object_agg(p.polname, format('create policy %I on %s as %s for %s to %s%s%s',
                              p.polname, c.oid::regclass, case when p.polpermissive then 'permissive' else 'restrictive' end,
                              case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                                            when 'd' then 'delete' else 'all' end,
                              case when p.polroles = '{0}' then 'public'
                                   else (select string_agg(r.oid::regrole::text, ', ' order by r.rolname) from pg_catalog.pg_roles r
                                          where r.oid = any (p.polroles)) end,
                              ' using (' || pg_catalog.pg_get_expr(p.polqual, p.polrelid) || ')',
                              ' with check (' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) || ')'))
                              from pg_catalog.pg_policy p where p.polrelid = c.oid), '{}')))
  from pg_catalog.pg_class c where c.oid = p_table
$function$;

revoke all on function "private"."table_state"(regclass) from public;

grant execute on function "private"."table_state"(regclass) to "postgres";

create or replace function private.time_cursor_decode (
  p_cursor text
)
  returns jsonb
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
declare
  v jsonb;
begin
  if p_cursor is null then
    return null;
  end if;
  v := private.cursor_decode(p_cursor);
  if v ->> 't' is null or v ->> 'i' is null then
    raise exception using errcode = '22023', message = 'invalid cursor';
  end if;
  return v;
end
$function$;

revoke all on function "private"."time_cursor_decode"(text) from public;

grant execute on function "private"."time_cursor_decode"(text) to "authenticated", "postgres", "service_role";
