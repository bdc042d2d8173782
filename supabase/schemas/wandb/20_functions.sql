-- wandb: private helpers and trigger functions (not callable through the API)
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- A report time from a JSON value: epoch seconds (W&B's _timestamp) or ISO 8601.
create or replace function private.report_time (
  v jsonb
)
  returns timestamp with time zone
  language plpgsql
  immutable
  set search_path to ''
  AS $function$
begin
  if jsonb_typeof(v) = 'number' then
    return to_timestamp((v #>> '{}')::double precision);
  elsif jsonb_typeof(v) = 'string' then
    return (v #>> '{}')::timestamptz;
  end if;
  return null;
exception when others then
  raise exception using errcode = '22007', message = format('report timestamp %s is not epoch seconds or ISO 8601', v);
end
$function$;

revoke all on function "private"."report_time"(jsonb) from public;

grant execute on function "private"."report_time"(jsonb) to "postgres", "service_role";

-- W&B run state -> run lifecycle status (null: no lifecycle move).
create or replace function private.wandb_state_status (
  state text
)
  returns text
  language sql
  immutable
  parallel safe
  set search_path to ''
  AS $function$
  select case upper(state)
    when 'PENDING' then 'launched'
    when 'RUNNING' then 'running'
    when 'FINISHED' then 'completed'
    when 'FAILED' then 'failed'
    when 'KILLED' then 'failed'
    when 'CRASHED' then 'crashed'
  end
$function$;

revoke all on function "private"."wandb_state_status"(text) from public;

grant execute on function "private"."wandb_state_status"(text) to "postgres", "service_role";
