-- foundation: the public SQL functions the HTTP functions and the table API call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- Calls public.<p_fn> with the named arguments p_args (a JSON object, typed
-- by the function's own signature as PostgREST does) under an idempotency
-- key: {"replayed": false, "result": <its answer>} the first time,
-- {"replayed": true, "result": <the stored answer>} for a retry. Security
-- invoker: the call runs with the caller's own rights, as a direct call would.
-- Rules: touches no table directly
create or replace function public.idempotent_call (
  p_key         text,
  p_fingerprint text,
  p_fn          text,
  p_args        jsonb default '{}'::jsonb
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_oid oid;
  v_names text[];
  v_types text[];
  v_unknown text;
  v_call text;
  v_stored jsonb;
  v_result jsonb;
begin
  if p_fn is null or p_fn !~ '^[a-z_][a-z0-9_]*$' or p_fn = 'idempotent_call' then
    raise exception using errcode = 'PT404', message = format('function public.%s cannot be called with an idempotency key', p_fn);
  end if;
  if jsonb_typeof(coalesce(p_args, '{}')) <> 'object' then
    raise exception using errcode = '22023', message = 'the arguments are a JSON object';
  end if;
  select p.oid, p.proargnames,
         array(select format_type(t, null) from unnest(p.proargtypes) with ordinality u(t, i) order by i)
    into v_oid, v_names, v_types
    from pg_catalog.pg_proc p
   where p.pronamespace = 'public'::regnamespace and p.proname = p_fn;
  if not found then
    raise exception using errcode = 'PT404', message = format('function public.%s does not exist', p_fn);
  end if;
  select string_agg(k, ', ') into v_unknown
    from jsonb_object_keys(coalesce(p_args, '{}')) k where not k = any(coalesce(v_names, '{}'));
  if v_unknown is not null then
    raise exception using errcode = '22023', message = format('function public.%s has no argument %s', p_fn, v_unknown);
  end if;

  v_stored := private.idempotency_claim(p_key, p_fingerprint, p_fn);
  if v_stored is not null then
    return jsonb_build_object('replayed', true, 'result', v_stored -> 'result');
  end if;

  select case when count(*) > 0 then format('select to_jsonb(public.%I(%s)) from jsonb_to_record($1) as a(%s)', p_fn,
                string_agg(format('%1$I => a.%1$I', n), ', '), string_agg(format('%I %s', n, t), ', ')) end
    into v_call
    from unnest(v_names[1:array_length(v_types, 1)], v_types) u(n, t)
   where coalesce(p_args, '{}') ? n;
  execute coalesce(v_call, format('select to_jsonb(public.%I())', p_fn)) into v_result using coalesce(p_args, '{}');
  perform private.idempotency_store(p_key, v_result);
  return jsonb_build_object('replayed', false, 'result', v_result);
end
$function$;

revoke all on function "public"."idempotent_call"(text, text, text, jsonb) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."idempotent_call"(text, text, text, jsonb) to "authenticated", "postgres", "service_role";
