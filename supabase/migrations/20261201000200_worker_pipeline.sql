-- leadrelay worker v2 (issue 10): provider pacing, rate limits and digests.
--
-- Why this file exists: the worker now paces each channel and may cover several events
-- with one digest message, and a provider's rate-limit answer (HTTP 429, Telegram's
-- retry_after) no longer counts as a failed attempt. The attempt log has to say both:
--   * status 'rate_limited': the provider refused for rate; the worker paused the channel
--     for the time asked and sent again within the same attempt. Such a row never settles
--     a channel and is not a failure in ops_channel_health's failure rate.
--   (Chosen over `failed` + provider status 429 so that failure counts, alerts on them
--   and the attempt budget all keep meaning "the provider said no".)
--   * digest_id: the `sent` rows of every event one digest message covered share it
--     (same provider status), so "which message told the team about this lead?" has an
--     answer, and a digest reads as one message in ops_channel_pacing.
-- record_notification_results learns both fields, plus `refundAttempt`: an event released
-- at shutdown before any of its channels was tried gives its attempt back (waiting for a
-- pacer is not an attempt).
--
-- Landed migrations are never edited. Runs on PostgreSQL 15 and PGlite, and twice.

alter table notification_logs drop constraint if exists notification_logs_status_check;
alter table notification_logs add constraint notification_logs_status_check
  check (status in ('sent', 'failed', 'skipped', 'rate_limited'));
alter table notification_logs add column if not exists digest_id uuid;
create index if not exists notification_logs_digest_idx
  on notification_logs (digest_id) where digest_id is not null;

-- Record --------------------------------------------------------------------------
-- The function of 20261122000200 (same rules: only events the caller still holds, one
-- transaction for the group, `lost` for leases taken over, a repeat is a no-op), with:
--   logs[].digestId        stored in digest_id (a uuid the worker made for the message)
--   logs[].agoMs           how long ago the attempt ended: created_at = now() - agoMs
--   logs[].status          may be 'rate_limited'
--   results[].refundAttempt  true when nothing was tried in this attempt (the worker
--                          released the event unsent at shutdown): attempts goes back by
--                          one and the event cannot die of it.
-- The worker calls it with a few results at a time, as they finish; when a group is
-- refused for its data (SQLSTATE class 22 or 23) it calls it again per event, so one
-- bad row cannot hold back the others.
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
  v_refund boolean;
  v_outcome text;
  v_done integer := 0;
  v_recorded jsonb := '[]'::jsonb;
  v_lost jsonb := '[]'::jsonb;
begin
  for r in select value from jsonb_array_elements(
             case jsonb_typeof(p_batch) when 'array' then p_batch
                                       else coalesce(p_batch->'results', '[]'::jsonb) end) loop
    v_id := (r->>'eventId')::bigint;
    v_refund := coalesce((r->>'refundAttempt')::boolean, false);
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
    if v_outcome = 'retry' and not v_refund and v_attempts >= p_max_attempts then
      v_outcome := 'dead';
    end if;

    -- created_at is when the attempt ended, on this server's clock: the worker sends how
    -- long ago that was (agoMs), since several attempts (rate-limited ones, then the
    -- send) can be recorded in one call.
    insert into notification_logs
      (event_id, channel, status, attempt, error, provider_status, duration_ms, permanent, digest_id,
       created_at)
    select v_id, l.value->>'channel', l.value->>'status', v_attempts, l.value->>'error',
           (l.value->>'providerStatus')::integer, (l.value->>'durationMs')::integer,
           coalesce((l.value->>'permanent')::boolean, false), (l.value->>'digestId')::uuid,
           now() - make_interval(secs => greatest(coalesce((l.value->>'agoMs')::numeric, 0), 0) / 1000.0)
      from jsonb_array_elements(coalesce(r->'logs', '[]'::jsonb)) with ordinality as l(value, ordinality)
     order by l.ordinality;

    if v_outcome = 'retry' then
      update lead_events
         set locked_by = null,
             locked_until = null,
             attempts = case when v_refund then greatest(attempts - 1, 0) else attempts end,
             last_error = coalesce(r->>'error', case when v_refund then last_error end),
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

-- Channel health: a rate-limited row is neither a send nor a failure, so the failure
-- rate is over attempts that got a verdict. The columns stay those of 20261122000300
-- (that file may run again, and CREATE OR REPLACE VIEW cannot drop columns); pacing has
-- its own view below.
create or replace view ops_channel_health as
select
  channel,
  count(*) filter (where status = 'sent') as sent_24h,
  count(*) filter (where status = 'failed') as failed_24h,
  count(*) filter (where status = 'skipped') as skipped_24h,
  round((count(*) filter (where status = 'failed'))::numeric
        / nullif(count(*) filter (where status <> 'rate_limited'), 0), 3) as failure_rate_24h,
  percentile_cont(0.95) within group (order by duration_ms)
    filter (where duration_ms is not null) as p95_duration_ms,
  max(created_at) filter (where status = 'sent') as last_sent_at,
  max(created_at) filter (where status = 'failed') as last_failed_at
from notification_logs
where created_at >= now() - interval '24 hours'
group by channel;

-- Pacing over the last 24 hours, one row per channel: how often the provider refused for
-- rate, how many alerts went out inside digests, and how many messages that made (a
-- digest is one message for all the events it covered).
create or replace view ops_channel_pacing as
select
  channel,
  count(*) filter (where status = 'rate_limited') as rate_limited_24h,
  max(created_at) filter (where status = 'rate_limited') as last_rate_limited_at,
  count(*) filter (where status = 'sent' and digest_id is not null) as sent_in_digest_24h,
  count(distinct digest_id) filter (where status = 'sent') as digests_24h,
  (count(*) filter (where status = 'sent' and digest_id is null)
   + count(distinct digest_id) filter (where status = 'sent')) as messages_24h
from notification_logs
where created_at >= now() - interval '24 hours'
group by channel;

-- As in 20261122000300: the caller's rights apply, nothing for the public API roles.
-- (CREATE OR REPLACE keeps grants; restated so this file reads whole.)
alter view ops_channel_health set (security_invoker = true);
alter view ops_channel_pacing set (security_invoker = true);
revoke all on ops_channel_health, ops_channel_pacing from public, anon, authenticated;
grant select on ops_channel_health, ops_channel_pacing to service_role;
