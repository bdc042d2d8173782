-- Surviving the database's faults (issue 17):
--   1. Idempotency keys: a client retrying a write after a 503 or a lost
--      answer sends the same Idempotency-Key; the first answer is stored in
--      the same transaction as its effect, so a retry gets it back instead of
--      applying twice (public.idempotent_call, both adapters call it).
--   2. W&B deliveries converge whatever their order: one delivery per run at
--      a time (an advisory lock on the run), times from the reports
--      themselves (a run starts at its report time less its runtime, never at
--      a delivery's arrival), late final reports still finish a run, exactly
--      one delivery answers `created`, and a delivery that fails on a
--      deadlock, a serialization failure, a lock or statement timeout is kept
--      as failed and may be retried.

-- ---------------------------------------------------------------------------
-- 1. Idempotency keys.

-- Clients never read these: private, reached only through the functions below.
create table if not exists private.idempotency_keys (
  -- Whose key: the caller's user id, or the role for callers without one (the service role).
  scope text not null constraint idempotency_keys_scope_length check (length(scope) between 1 and 200),
  key text not null constraint idempotency_keys_key_length check (length(key) between 1 and 255),
  -- sha256 of the request's method, path and body: the same key with another request is refused.
  fingerprint text not null constraint idempotency_keys_fingerprint_format check (fingerprint ~ '^[0-9a-f]{64}$'),
  fn text not null,
  result jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '24 hours',
  primary key (scope, key)
);
create index if not exists idempotency_keys_expires_at_idx on private.idempotency_keys (expires_at);
revoke all on table private.idempotency_keys from public, anon, authenticated;
grant all on table private.idempotency_keys to service_role;

-- The caller's key for this transaction: null when it is new (now claimed:
-- recorded with this transaction, so it exists only if the transaction
-- commits), {"result": ...} when a committed request stored its answer under
-- it. 409 while another transaction holds the same key, 422 when the key was
-- used for a different request. Expired keys (24 hours) count as new; each
-- claim also removes a few expired ones.
create or replace function private.idempotency_claim(p_key text, p_fingerprint text, p_fn text) returns jsonb
language plpgsql security definer
set search_path = ''
as $$
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
$$;

-- The answer of the claimed key, stored with the effect it describes.
create or replace function private.idempotency_store(p_key text, p_result jsonb) returns void
language sql security definer
set search_path = ''
as $$
  update private.idempotency_keys set result = p_result
   where scope = coalesce(auth.uid()::text, 'role:' || coalesce(auth.role(), 'service_role')) and key = p_key
$$;

-- Calls public.<p_fn> with the named arguments p_args (a JSON object, typed
-- by the function's own signature as PostgREST does) under an idempotency
-- key: {"replayed": false, "result": <its answer>} the first time,
-- {"replayed": true, "result": <the stored answer>} for a retry. Security
-- invoker: the call runs with the caller's own rights, as a direct call would.
create or replace function public.idempotent_call(p_key text, p_fingerprint text, p_fn text, p_args jsonb default '{}')
returns jsonb
language plpgsql
set search_path = ''
as $$
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
$$;

revoke all on function private.idempotency_claim(text, text, text), private.idempotency_store(text, jsonb),
  public.idempotent_call(text, text, text, jsonb) from public, anon;
grant execute on function private.idempotency_claim(text, text, text), private.idempotency_store(text, jsonb),
  public.idempotent_call(text, text, text, jsonb) to authenticated, service_role;

-- ---------------------------------------------------------------------------
-- 2. W&B deliveries that converge.

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
$$;
