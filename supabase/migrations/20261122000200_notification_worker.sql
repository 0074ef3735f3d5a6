-- leadrelay notification worker: claim, record, heartbeat and replay.
--
-- Why this file exists: the worker that drains lead_events to Slack, email and Telegram
-- keeps all of its multi-row bookkeeping in the database, so that several workers on
-- several machines (and the embedded PGlite mode, and Supabase rpc) share one set of
-- rules: who holds an event, which channel already went out, when to try again, and
-- when to give up. The foundation migration is never edited; this one only adds.
--
-- Like the foundation it must run on PostgreSQL 15 (Supabase, CI) and PGlite
-- (Postgres 18) and be safe to run twice: IF NOT EXISTS and CREATE OR REPLACE only.

-- Bookkeeping columns ---------------------------------------------------------------
-- A permanent failure (Slack 404, SMTP 550, Telegram 403) stops that channel for that
-- event; the claim must know which failures were permanent without reading error text.
alter table notification_logs add column if not exists permanent boolean not null default false;
-- Replaying a dead event starts a new round: permanent failures and skips recorded
-- before it no longer settle their channel (the operator fixed the configuration).
-- Sent rows always settle their channel: a lead is never announced twice.
alter table lead_events add column if not exists replayed_at timestamptz;

-- worker_heartbeats -----------------------------------------------------------------
-- One row per worker process, so ops can spot a dead or stuck worker in SQL:
--   select * from worker_heartbeats where last_beat_at < now() - interval '1 minute';
create table if not exists worker_heartbeats (
  id text primary key,
  host text not null,
  pid integer not null,
  started_at timestamptz not null default now(),
  last_beat_at timestamptz not null default now(),
  events_done bigint not null default 0,
  stopped_at timestamptz
);
create index if not exists worker_heartbeats_last_beat_idx on worker_heartbeats (last_beat_at desc);

-- Channels that need nothing more for an event, as {"slack": "sent", "email": "skipped"}.
-- A sent row settles its channel for ever (never announce a lead twice); a skip or a
-- permanent failure settles it only for the current round (until a replay).
create or replace function lead_event_settled_channels(p_event_id bigint, p_round_start timestamptz)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_object_agg(s.channel, s.status), '{}'::jsonb)
    from (
      select distinct on (l.channel) l.channel, l.status
        from notification_logs l
       where l.event_id = p_event_id
         and (l.status = 'sent'
              or ((l.status = 'skipped' or l.permanent)
                  and l.created_at >= coalesce(p_round_start, '-infinity'::timestamptz)))
       order by l.channel, (l.status = 'sent') desc, l.id desc
    ) s
$$;

-- Claim ---------------------------------------------------------------------------
-- Takes up to p_batch_size due events, oldest due first, and leases them to p_worker_id
-- for p_lease_seconds.
--
-- Locking strategy: FOR UPDATE SKIP LOCKED makes concurrent claimers step over rows
-- another transaction is claiming right now instead of waiting for it, so N workers
-- get N disjoint batches. The lock lasts only for this statement's transaction; what
-- keeps the event ours while we send is the lease (locked_by, locked_until), which
-- the WHERE clause honours. A worker that crashes stops renewing its lease (see
-- beat_worker), the lease runs out, and the next claim takes the event again: no
-- operator action, no stuck rows. Due retries (next_attempt_at passed) are claimed
-- like new events. The partial index lead_events_claim_idx (next_attempt_at, id)
-- where processed = false serves exactly this query.
--
-- attempts is counted here, at claim time, so that an event that kills its worker
-- still uses up attempts. Each event comes back with the channels that are already
-- settled, so a retry sends only what has not gone out yet.
create or replace function claim_lead_events(
  p_worker_id text,
  p_batch_size integer,
  p_lease_seconds integer
) returns jsonb
language plpgsql as $$
declare
  v_events jsonb;
begin
  with candidates as (
    select id
      from lead_events
     where processed = false
       and next_attempt_at <= now()
       and (locked_until is null or locked_until < now())
     order by next_attempt_at, id
     limit greatest(p_batch_size, 1)
       for update skip locked
  ), claimed as (
    update lead_events e
       set locked_by = p_worker_id,
           locked_until = now() + make_interval(secs => p_lease_seconds),
           attempts = e.attempts + 1
      from candidates c
     where e.id = c.id
    returning e.*
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id,
           'eventType', c.event_type,
           'conversationId', c.conversation_id,
           'payload', c.payload,
           'attempts', c.attempts,
           'createdAt', c.created_at,
           'settled', lead_event_settled_channels(c.id, c.replayed_at)
         ) order by c.next_attempt_at, c.id), '[]'::jsonb)
    into v_events
    from claimed c;
  return v_events;
end
$$;

-- Record --------------------------------------------------------------------------
-- Writes one batch's outcome in one call (one transaction): the notification_logs
-- row of every attempt on every channel, and for each event one of
--   delivered: every channel sent or skipped         -> processed, outcome 'delivered'
--   failed:    every channel settled, some failed    -> processed, outcome 'dead'
--   pending:   a channel failed transiently          -> retry at now() + retryInMs and
--              release the lease; or, once attempts reach p_max_attempts, 'dead'.
-- Only events the caller still holds are touched (locked_by and attempts match, still
-- unprocessed). An event whose lease was taken over by another worker is reported in
-- `lost` and nothing is written for it: the new holder owns its history now. This
-- also makes a repeated call (answer lost in transit) a harmless no-op.
-- p_batch: {"results": [{eventId, attempt, result, retryInMs, error,
--            logs: [{channel, status, error, providerStatus, durationMs, permanent}]}]}
-- (an object rather than a bare array: node-postgres would turn a JS array parameter
-- into a Postgres array literal; a bare jsonb array is accepted too).
create or replace function record_notification_results(
  p_worker_id text,
  p_batch jsonb,
  p_max_attempts integer
) returns jsonb
language plpgsql as $$
declare
  r jsonb;
  v_id bigint;
  v_attempts integer;
  v_outcome text;
  v_done integer := 0;
  v_recorded jsonb := '[]'::jsonb;
  v_lost jsonb := '[]'::jsonb;
begin
  for r in select value from jsonb_array_elements(
             case jsonb_typeof(p_batch) when 'array' then p_batch
                                       else coalesce(p_batch->'results', '[]'::jsonb) end) loop
    v_id := (r->>'eventId')::bigint;
    v_outcome := case r->>'result'
                   when 'delivered' then 'delivered'
                   when 'failed' then 'dead'
                   else 'retry'
                 end;

    select attempts into v_attempts
      from lead_events
     where id = v_id
       and locked_by = p_worker_id
       and processed = false
       and attempts = (r->>'attempt')::integer
       for update;
    if not found then
      v_lost := v_lost || to_jsonb(v_id);
      continue;
    end if;
    if v_outcome = 'retry' and v_attempts >= p_max_attempts then
      v_outcome := 'dead';
    end if;

    insert into notification_logs
      (event_id, channel, status, attempt, error, provider_status, duration_ms, permanent)
    select v_id, l->>'channel', l->>'status', v_attempts, l->>'error',
           (l->>'providerStatus')::integer, (l->>'durationMs')::integer,
           coalesce((l->>'permanent')::boolean, false)
      from jsonb_array_elements(coalesce(r->'logs', '[]'::jsonb)) l;

    if v_outcome = 'retry' then
      update lead_events
         set locked_by = null,
             locked_until = null,
             last_error = r->>'error',
             next_attempt_at = now() + make_interval(
               secs => greatest(coalesce((r->>'retryInMs')::numeric, 0), 0) / 1000.0)
       where id = v_id;
    else
      update lead_events
         set processed = true,
             outcome = v_outcome,
             processed_at = now(),
             locked_by = null,
             locked_until = null,
             -- A dead event keeps the error that killed it: this attempt's, or the
             -- last permanent failure of an earlier attempt of this round.
             last_error = case when v_outcome = 'dead' then coalesce(
               r->>'error',
               (select l.channel || ': ' || l.error
                  from notification_logs l
                 where l.event_id = v_id and l.permanent
                 order by l.id desc limit 1),
               last_error) end
       where id = v_id;
      v_done := v_done + 1;
    end if;
    v_recorded := v_recorded || jsonb_build_object('id', v_id, 'outcome', v_outcome);
  end loop;

  update worker_heartbeats
     set events_done = events_done + v_done,
         last_beat_at = now()
   where id = p_worker_id and v_done > 0;

  return jsonb_build_object('recorded', v_recorded, 'lost', v_lost);
end
$$;

-- Heartbeat -----------------------------------------------------------------------
-- Upserts the worker's liveness row and renews the lease on every event it still
-- holds. A live worker therefore never loses a batch to a short lease, while a
-- crashed one stops renewing and its events are claimed again within one lease.
-- p_stopping marks a clean shutdown (stopped_at), so a stale row is not mistaken
-- for a crash.
create or replace function beat_worker(
  p_worker_id text,
  p_host text,
  p_pid integer,
  p_lease_seconds integer,
  p_stopping boolean default false
) returns jsonb
language plpgsql as $$
declare
  v_extended integer;
begin
  insert into worker_heartbeats (id, host, pid)
  values (p_worker_id, p_host, p_pid)
  on conflict (id) do update
     set last_beat_at = now(),
         stopped_at = case when p_stopping then now() end;

  update lead_events
     set locked_until = now() + make_interval(secs => p_lease_seconds)
   where locked_by = p_worker_id
     and processed = false
     and not p_stopping;
  get diagnostics v_extended = row_count;

  return jsonb_build_object('workerId', p_worker_id, 'leasesRenewed', v_extended);
end
$$;

-- Replay --------------------------------------------------------------------------
-- Queues dead events again (`npm run replay -- --event <id>` or `--failed-since <t>`):
-- a fresh round with a full set of attempts, due now, and a NOTIFY so an idle worker
-- picks them up at once. Channels that were already sent stay sent (see
-- lead_event_settled_channels); only the others are tried again.
-- Exactly one of p_event_id and p_failed_since must be given. An unknown event id
-- raises LR404; an event that is not dead is left alone and reported as skipped.
create or replace function replay_dead_events(
  p_event_id bigint default null,
  p_failed_since timestamptz default null
) returns jsonb
language plpgsql as $$
declare
  v_ids bigint[];
  v_id bigint;
begin
  if (p_event_id is null) = (p_failed_since is null) then
    raise exception 'give exactly one of p_event_id and p_failed_since' using errcode = '22023';
  end if;
  if p_event_id is not null and not exists (select 1 from lead_events where id = p_event_id) then
    raise exception 'lead event % not found', p_event_id using errcode = 'LR404';
  end if;

  with replayed as (
    update lead_events
       set processed = false,
           outcome = null,
           attempts = 0,
           next_attempt_at = now(),
           locked_by = null,
           locked_until = null,
           processed_at = null,
           replayed_at = now()
     where outcome = 'dead'
       and (p_event_id is null or id = p_event_id)
       and (p_failed_since is null or processed_at >= p_failed_since)
    returning id
  )
  select coalesce(array_agg(id order by id), '{}') into v_ids from replayed;

  foreach v_id in array v_ids loop
    perform pg_notify('lead_events', v_id::text);
  end loop;

  return jsonb_build_object('replayed', to_jsonb(v_ids), 'count', coalesce(array_length(v_ids, 1), 0));
end
$$;

-- Row level security and privileges -------------------------------------------------
-- Same boundary as the foundation: RLS on with no policies, nothing for the public
-- API roles, everything the worker needs for service_role.
alter table worker_heartbeats enable row level security;
revoke all on table worker_heartbeats from public, anon, authenticated;
grant select, insert, update, delete on table worker_heartbeats to service_role;

revoke all on function lead_event_settled_channels(bigint, timestamptz) from public, anon, authenticated;
revoke all on function claim_lead_events(text, integer, integer) from public, anon, authenticated;
revoke all on function record_notification_results(text, jsonb, integer) from public, anon, authenticated;
revoke all on function beat_worker(text, text, integer, integer, boolean) from public, anon, authenticated;
revoke all on function replay_dead_events(bigint, timestamptz) from public, anon, authenticated;
grant execute on function lead_event_settled_channels(bigint, timestamptz) to service_role;
grant execute on function claim_lead_events(text, integer, integer) to service_role;
grant execute on function record_notification_results(text, jsonb, integer) to service_role;
grant execute on function beat_worker(text, text, integer, integer, boolean) to service_role;
grant execute on function replay_dead_events(bigint, timestamptz) to service_role;
