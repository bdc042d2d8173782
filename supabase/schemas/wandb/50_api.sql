-- wandb: the public SQL functions the HTTP functions and the table API call
-- The declarative schema: the current definition of each object, once. Edit here,
-- then `npm run db:diff -- <name>` writes the migration and its rollback.

set check_function_bodies = off;

-- Applies one delivery. p_kind: 'report' (training wrapper), 'automation'
-- (W&B automation payload) or 'rejected' (the function refused it: kept for
-- audit with p_error). Returns {delivery_id, outcome, run_id, error, code}.
-- Rules: training_runs: triggers training_runs_check_transition, training_runs_set_updated_at, training_runs_sync_objectives_on_insert, training_runs_sync_objectives (runs/30_rules.sql); policies training_runs_select_authenticated, training_runs_delete_own, training_runs_insert_own, training_runs_update_own (runs/40_access.sql)
--         webhook_deliveries: no triggers or policies
create or replace function public.wandb_ingest (
  p_kind    text,
  p_payload jsonb,
  p_error   text  default null::text
)
  returns jsonb
  language plpgsql
  set search_path to ''
  AS $function$
declare
  v_sha text := encode(sha256(convert_to(p_payload::text, 'UTF8')), 'hex');
  v_event text := case p_kind when 'report' then 'RUN_REPORT' else left(upper(p_payload ->> 'event_type'), 100) end;
  v_run_id text := nullif(p_payload ->> 'run_id', '');
  v_wandb_run_id text := nullif(p_payload ->> 'wandb_run_id', '');
  v_status text := private.wandb_state_status(p_payload ->> 'state');
  v_metrics jsonb;
  v_config jsonb := case when jsonb_typeof(p_payload -> 'config') = 'object' then p_payload -> 'config' end;
  v_reported timestamptz;
  v_runtime double precision;
  v_started timestamptz;
  v_ended timestamptz;
  v_late boolean;
  v_outcome text;
  v_error text := p_error;
  v_code text;
  v_inserted text;
  r public.training_runs;
  v_id bigint;
begin
  if coalesce(auth.role(), '') <> 'service_role' then
    raise exception using errcode = '42501', message = 'only the service role ingests webhook deliveries';
  end if;
  if p_kind not in ('report', 'automation', 'rejected') then
    raise exception using errcode = '22023', message = format('unknown delivery kind %s', p_kind);
  end if;
  -- The same payload delivered twice at once: one waits for the other.
  perform pg_advisory_xact_lock(hashtextextended(v_sha, 0));
  -- Deliveries for one run, one at a time (always after the payload lock, so
  -- two deliveries never wait for each other in a cycle): concurrent first
  -- deliveries neither deadlock on the run's unique keys nor both create it.
  if p_kind <> 'rejected' and coalesce(v_run_id, v_wandb_run_id) is not null then
    perform pg_advisory_xact_lock(hashtextextended('wandb-run:' || coalesce('r:' || v_run_id, 'w:' || v_wandb_run_id), 0));
  end if;

  if p_kind = 'rejected' then
    v_outcome := 'rejected';
  elsif exists (select 1 from public.webhook_deliveries d
                where d.payload_sha256 = v_sha and d.outcome in ('applied', 'created', 'duplicate', 'stale', 'recorded')) then
    -- (a delivery kept as failed or rejected is not a duplicate: its retry is applied afresh)
    v_outcome := 'duplicate';
  else
    begin
      v_metrics := case
        when jsonb_typeof(p_payload -> 'summary') = 'object' then p_payload -> 'summary'
        when jsonb_typeof(p_payload -> 'metrics') = 'object' then p_payload -> 'metrics' end;
      v_reported := coalesce(private.report_time(v_metrics -> '_timestamp'), private.report_time(p_payload -> 'timestamp'));
      v_runtime := private.jsonb_num(v_metrics -> '_runtime')::double precision;
      v_runtime := case when v_runtime >= 0 then v_runtime end;

      -- The run: by our run_id, else by W&B's run id.
      if v_run_id is not null then
        select * into r from public.training_runs where run_id = v_run_id for update;
      elsif v_wandb_run_id is not null then
        select * into r from public.training_runs where wandb_run_id = v_wandb_run_id for update;
      end if;

      if r.run_id is null and v_run_id is not null and (p_kind = 'report' or v_config is not null) then
        -- Enough to register it: a run report, or an automation carrying a config.
        insert into public.training_runs (run_id, config_json, wandb_run_id, wandb_url, run_name)
        values (v_run_id, coalesce(v_config, '{}'::jsonb), v_wandb_run_id,
                nullif(p_payload ->> 'wandb_url', ''), nullif(p_payload ->> 'run_name', ''))
        on conflict (run_id) do nothing
        returning run_id into v_inserted;
        select * into r from public.training_runs where run_id = v_run_id for update;
        if v_inserted is not null then
          v_outcome := 'created';
        end if;
      end if;

      -- Older than the newest report applied to the run: late.
      v_late := v_reported is not null and r.wandb_reported_at is not null and v_reported < r.wandb_reported_at;
      -- A RUNNING (or PENDING) report never moves a finished run back, nor a running one to launched.
      -- Nor does a late final report overrule the newer one that finished it, and
      -- the run's own status again is no move.
      if v_status in ('launched', 'running') and r.status in ('completed', 'failed', 'crashed')
         or (v_status = 'launched' and r.status = 'running')
         or (v_late and r.status in ('completed', 'failed', 'crashed'))
         or v_status = r.status then
        v_status := null;
      end if;
      -- A late report fills only the summary keys newer reports did not set
      -- (W&B summaries are cumulative: the newest report has the newest value
      -- of every key); its final state still counts, a run that finished is finished.
      if v_late and v_metrics is not null then
        v_metrics := nullif(v_metrics - array(select jsonb_object_keys(coalesce(r.final_metrics_json, '{}'::jsonb))), '{}'::jsonb);
      end if;

      if r.run_id is null then
        v_outcome := 'unmatched';
      elsif v_status is null and v_metrics is null then
        v_outcome := coalesce(v_outcome, case
          when v_late or p_payload ? 'state' or p_payload ? 'summary' or p_payload ? 'metrics' then 'stale'
          -- Artifact events and the like: nothing in the run changes; kept for audit.
          else 'recorded' end);
      else
        -- Times come from the reports, never from a delivery's arrival: a run
        -- started no later than any report's time less its runtime (W&B's
        -- _runtime), and ended at the time of its final report.
        v_started := least(r.started_at, v_reported - make_interval(secs => coalesce(v_runtime, 0)));
        if v_status in ('completed', 'failed', 'crashed') and r.ended_at is null then
          v_ended := coalesce(v_reported, now());
          v_started := least(v_started, v_ended);
        end if;
        perform public.runs_update_status(
          p_run_id => r.run_id,
          p_status => coalesce(v_status, r.status),
          p_started_at => case when coalesce(v_status, r.status) <> 'launched' then v_started end,
          p_ended_at => v_ended,
          p_duration_seconds => case when v_ended is not null and r.duration_seconds is null then v_runtime end,
          p_wandb_run_id => case when r.wandb_run_id is null then v_wandb_run_id end,
          p_wandb_url => nullif(p_payload ->> 'wandb_url', ''),
          p_final_metrics => v_metrics);
        if v_reported is not null then
          update public.training_runs set wandb_reported_at = v_reported
          where run_id = r.run_id and wandb_reported_at is distinct from greatest(wandb_reported_at, v_reported);
        end if;
        v_outcome := coalesce(v_outcome, 'applied');
      end if;
    exception
      -- Bad data or an illegal move: nothing of it stays, the delivery is kept
      -- as failed. So is one that met a deadlock, a serialization failure or a
      -- lock or statement timeout: the sender may retry it (the webhook answers 503).
      when sqlstate 'PT409' or data_exception or integrity_constraint_violation
        or deadlock_detected or serialization_failure or lock_not_available or query_canceled then
        get stacked diagnostics v_error = message_text, v_code = returned_sqlstate;
        v_outcome := 'failed';
    end;
  end if;

  insert into public.webhook_deliveries (event_type, payload, payload_sha256, run_id, outcome, error)
  values (v_event, p_payload, v_sha, left(coalesce(r.run_id, v_run_id), 200), v_outcome, left(v_error, 4000))
  returning id into v_id;

  return jsonb_build_object('delivery_id', v_id, 'outcome', v_outcome, 'run_id', coalesce(r.run_id, v_run_id),
    'error', v_error, 'code', v_code);
end
$function$;

revoke all on function "public"."wandb_ingest"(text, jsonb, text) from public, "anon", "authenticated", "service_role";

grant execute on function "public"."wandb_ingest"(text, jsonb, text) to "postgres", "service_role";
