-- Inverse of 20261129000000_survive_faults: no idempotency keys, and
-- wandb_ingest as 20261123000100 defined it.

drop function if exists public.idempotent_call(text, text, text, jsonb);
drop function if exists private.idempotency_store(text, jsonb);
drop function if exists private.idempotency_claim(text, text, text);
drop table if exists private.idempotency_keys;

create or replace function public.wandb_ingest(p_kind text, p_payload jsonb, p_error text default null)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_sha text := encode(sha256(convert_to(p_payload::text, 'UTF8')), 'hex');
  v_event text := case p_kind when 'report' then 'RUN_REPORT' else left(upper(p_payload ->> 'event_type'), 100) end;
  v_run_id text := nullif(p_payload ->> 'run_id', '');
  v_wandb_run_id text := nullif(p_payload ->> 'wandb_run_id', '');
  v_status text := private.wandb_state_status(p_payload ->> 'state');
  v_metrics jsonb;
  v_config jsonb := case when jsonb_typeof(p_payload -> 'config') = 'object' then p_payload -> 'config' end;
  v_reported timestamptz;
  v_outcome text;
  v_error text := p_error;
  v_code text;
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

  if p_kind = 'rejected' then
    v_outcome := 'rejected';
  elsif exists (select 1 from public.webhook_deliveries d
                where d.payload_sha256 = v_sha and d.outcome in ('applied', 'created', 'duplicate', 'stale', 'recorded')) then
    v_outcome := 'duplicate';
  else
    begin
      v_metrics := case
        when jsonb_typeof(p_payload -> 'summary') = 'object' then p_payload -> 'summary'
        when jsonb_typeof(p_payload -> 'metrics') = 'object' then p_payload -> 'metrics' end;
      v_reported := coalesce(private.report_time(v_metrics -> '_timestamp'), private.report_time(p_payload -> 'timestamp'));

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
        on conflict (run_id) do nothing;
        select * into r from public.training_runs where run_id = v_run_id for update;
        v_outcome := 'created';
      end if;

      if r.run_id is null then
        v_outcome := 'unmatched';
      elsif v_reported is not null and r.wandb_reported_at is not null and v_reported < r.wandb_reported_at then
        v_outcome := 'stale';
      elsif v_status is null and v_metrics is null and v_outcome is null then
        -- Artifact events and the like: nothing in the run changes; kept for audit.
        v_outcome := 'recorded';
      else
        -- A late RUNNING (or PENDING) after the run finished is history, not a move.
        if v_status in ('launched', 'running') and r.status in ('completed', 'failed', 'crashed')
           or (v_status = 'launched' and r.status = 'running') then
          v_status := null;
        end if;
        if v_status is null and v_metrics is null then
          v_outcome := coalesce(v_outcome, 'stale');
        else
          perform public.runs_update_status(
            p_run_id => r.run_id,
            p_status => coalesce(v_status, r.status),
            p_ended_at => case when v_status in ('completed', 'failed', 'crashed') and r.ended_at is null then v_reported end,
            p_duration_seconds => case when v_status in ('completed', 'failed', 'crashed') and r.duration_seconds is null
                                       then private.jsonb_num(v_metrics -> '_runtime')::double precision end,
            p_wandb_run_id => case when r.wandb_run_id is null then v_wandb_run_id end,
            p_wandb_url => nullif(p_payload ->> 'wandb_url', ''),
            p_final_metrics => v_metrics);
          if v_reported is not null then
            update public.training_runs set wandb_reported_at = v_reported
            where run_id = r.run_id and wandb_reported_at is distinct from greatest(wandb_reported_at, v_reported);
          end if;
          v_outcome := coalesce(v_outcome, 'applied');
        end if;
      end if;
    exception
      -- Bad data or an illegal move: nothing of it stays, the delivery is kept as failed.
      when sqlstate 'PT409' or data_exception or integrity_constraint_violation then
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
$$;
