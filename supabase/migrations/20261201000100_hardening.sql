-- leadrelay hardening (issue 10, items 3-5): a claim that caps attempts, a lock order
-- the admin functions share, retention that keeps dead events, and replay of one
-- channel's skipped or failed alerts.
--
-- Why this file exists: the reviews of the worker found that
-- * attempts were checked only when recording, so an event that kills its worker
--   (or whose worker is SIGKILLed by the platform) was handed out for ever;
-- * admin_update_lead locks the lead, then its first-contact task, while
--   admin_complete_task locked the task, then the lead: concurrent PATCH + complete
--   on one lead deadlocked (40P01);
-- * purge_processed_events deleted dead events with the rest, ending any replay;
-- * a channel that was not configured when an event went out (a `skipped` row) could
--   never be sent afterwards: replay took only dead events, and all their channels.
-- Earlier migrations are never edited; this one adds overloads and replaces bodies.
-- It runs on PostgreSQL 15 and PGlite (Postgres 18), and twice: IF NOT EXISTS and
-- CREATE OR REPLACE only. `create or replace` keeps the grants of replaced functions;
-- every new overload is revoked from the API roles and granted to service_role below.

-- Channel-scoped replay ------------------------------------------------------------
-- null: every channel not yet sent is due (a new event, or a full replay of a dead
-- one). An array: a replay of those channels only; the other channels keep what they
-- had and are not touched (leadrelay replay --channel).
alter table lead_events add column if not exists replay_channels text[];

-- What is settled for an event in its current round: lead_event_settled_channels
-- (sent for ever; skips and permanent failures since the round started), plus, in a
-- channel-scoped replay, every other channel that has a row. Those out-of-scope
-- channels read 'sent' if they ever were and 'skipped' otherwise, so the worker neither
-- sends them nor counts an old failure of theirs against the replayed channel's
-- outcome. (An alerted event has a row for every channel it was processed with; a
-- channel added to the code later has none and would be tried, which is what one wants.)
create or replace function lead_event_round_settled(
  p_event_id bigint,
  p_round_start timestamptz,
  p_replay_channels text[]
) returns jsonb
language sql stable as $$
  with base as (select lead_event_settled_channels(p_event_id, p_round_start) as settled)
  select case
    when p_replay_channels is null then (select settled from base)
    else coalesce((
           select jsonb_object_agg(o.channel, o.status)
             from (select l.channel,
                          case when bool_or(l.status = 'sent') then 'sent' else 'skipped' end as status
                     from notification_logs l
                    where l.event_id = p_event_id and l.channel <> all(p_replay_channels)
                    group by l.channel) o), '{}'::jsonb)
         || coalesce((
           select jsonb_object_agg(b.key, b.value)
             from base, jsonb_each(base.settled) b
            where b.key = any(p_replay_channels)), '{}'::jsonb)
  end
$$;

-- Claim with an attempt cap -------------------------------------------------------------
-- The claim of 20261122000200 (same locking: FOR UPDATE SKIP LOCKED over the partial
-- index lead_events_claim_idx, a lease instead of a held lock, attempts counted here so
-- a crash still uses one up), plus one rule: a due event whose attempts already reached
-- p_max_attempts is not handed out again. It can only be due in that state if its last
-- holder never recorded that attempt (it died, or lost its lease, while holding the
-- event) or if WORKER_MAX_ATTEMPTS was lowered since; record_notification_results makes
-- an event dead on its last recorded attempt. Such an event becomes dead here
-- (outcome 'dead', last_error saying why, a timeline entry, an `event.dead` pointer for
-- the admin feed) instead of killing one more worker.
--
-- The cap is checked on the rows the claim has locked anyway, never by a separate
-- scan, so a large backlog costs the claim nothing extra. Dead-lettered rows leave
-- room in the batch, which is filled from the next candidates (at most three rounds:
-- a claim stays bounded even if a whole backlog is exhausted; the next claim goes on).
-- A new overload (one more argument, no default): callers of the three-argument claim
-- keep resolving to it unambiguously; that one now delegates here without a cap.
create or replace function claim_lead_events(
  p_worker_id text,
  p_batch_size integer,
  p_lease_seconds integer,
  p_max_attempts integer
) returns jsonb
language plpgsql as $$
declare
  v_events jsonb := '[]'::jsonb;
  v_exhausted bigint[];
  v_due bigint[];
  v_dead jsonb;
  v_batch integer := greatest(p_batch_size, 1);
  v_round integer := 0;
begin
  loop
    v_round := v_round + 1;
    select coalesce(array_agg(c.id) filter (where c.attempts >= p_max_attempts), '{}'),
           coalesce(array_agg(c.id) filter (where c.attempts < p_max_attempts), '{}')
      into v_exhausted, v_due
      from (select id, attempts
              from lead_events
             where processed = false
               and next_attempt_at <= now()
               and (locked_until is null or locked_until < now())
             order by next_attempt_at, id
             limit v_batch - jsonb_array_length(v_events)
               for update skip locked) c;

    if cardinality(v_exhausted) > 0 then
      with dead as (
        update lead_events e
           set processed = true,
               outcome = 'dead',
               processed_at = now(),
               locked_by = null,
               locked_until = null,
               last_error = case
                 when e.locked_by is not null then format(
                   'worker %s died (or lost its lease) while holding this event on attempt %s of %s; '
                   || 'not handed out again (previous error: %s)',
                   e.locked_by, e.attempts, p_max_attempts, coalesce(e.last_error, 'none'))
                 else format('attempts used up (%s of %s); last error: %s',
                             e.attempts, p_max_attempts, coalesce(e.last_error, 'none'))
               end
         where e.id = any(v_exhausted)
        returning e.id, e.event_type, e.conversation_id, e.last_error
      ), timeline as (
        insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
        select d.conversation_id, 'event_dead', 'Notification gave up: ' || d.event_type,
               jsonb_build_object('eventId', d.id, 'error', d.last_error), 'worker'
          from dead d
         where d.conversation_id is not null
      )
      select jsonb_agg(jsonb_build_object('kind', 'event.dead', 'id', d.id, 'eventType', d.event_type,
                                          'conversationId', d.conversation_id))
        into v_dead
        from dead d;
      perform pg_notify('leadrelay_admin', m.value::text) from jsonb_array_elements(v_dead) m;
    end if;

    if cardinality(v_due) > 0 then
      with claimed as (
        update lead_events e
           set locked_by = p_worker_id,
               locked_until = now() + make_interval(secs => p_lease_seconds),
               attempts = e.attempts + 1
         where e.id = any(v_due)
        returning e.*
      )
      select v_events || coalesce(jsonb_agg(jsonb_build_object(
               'id', c.id,
               'eventType', c.event_type,
               'conversationId', c.conversation_id,
               'payload', c.payload,
               'attempts', c.attempts,
               'createdAt', c.created_at,
               'settled', lead_event_round_settled(c.id, c.replayed_at, c.replay_channels)
             ) order by c.next_attempt_at, c.id), '[]'::jsonb)
        into v_events
        from claimed c;
    end if;

    exit when cardinality(v_exhausted) = 0
           or jsonb_array_length(v_events) >= v_batch
           or v_round >= 3;
  end loop;
  return v_events;
end
$$;

-- The original signature, for callers that do not pass a cap (none in this codebase
-- after this migration): the same claim with the largest cap, so both agree on the
-- settled channels of a channel-scoped replay.
create or replace function claim_lead_events(
  p_worker_id text,
  p_batch_size integer,
  p_lease_seconds integer
) returns jsonb
language sql as $$
  select claim_lead_events(p_worker_id, p_batch_size, p_lease_seconds, 2147483647)
$$;

-- Full replay of dead events: as in 20261122000200, and a full replay covers every
-- channel again (replay_channels back to null).
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
           replayed_at = now(),
           replay_channels = null
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

-- Events a channel replay would take ----------------------------------------------------
-- Processed events (delivered or dead) whose rows for p_channel are all `skipped` or
-- `failed`: the team was never told on that channel. Never one with a `sent` row (a lead
-- is announced at most once per channel). Pending events are left to the worker. Listed
-- first, oldest first, so the CLI replays them one by one with a progress bar; p_since
-- is the event's creation time (the lead's), p_event_id picks one event.
create or replace function ops_channel_replay_ids(
  p_channel text,
  p_event_id bigint default null,
  p_since timestamptz default null
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(e.id order by e.id), '[]'::jsonb)
    from lead_events e
   where e.processed = true
     and (p_event_id is null or e.id = p_event_id)
     and (p_since is null or e.created_at >= p_since)
     and exists (select 1 from notification_logs l
                  where l.event_id = e.id and l.channel = p_channel and l.status in ('skipped', 'failed'))
     and not exists (select 1 from notification_logs l
                      where l.event_id = e.id and l.channel = p_channel and l.status = 'sent')
$$;

-- Replays one channel of one event: the event is due again now with a fresh attempt
-- budget, a new round (replayed_at) in which only p_channel is due (replay_channels),
-- a timeline entry on the lead and a NOTIFY to wake a worker. The selection rule is
-- checked again under the row lock, so two operators replaying at once, or a replay
-- racing a worker, send at most once: an event that no longer qualifies is reported
-- with replayed = false and left alone. LR404 for an unknown event.
create or replace function replay_channel_event(
  p_event_id bigint,
  p_channel text,
  p_actor text default 'operator'
) returns jsonb
language plpgsql as $$
declare
  v_event lead_events%rowtype;
begin
  select * into v_event from lead_events where id = p_event_id for update;
  if not found then
    raise exception 'lead event % not found', p_event_id using errcode = 'LR404';
  end if;
  if not (ops_channel_replay_ids(p_channel, p_event_id) @> to_jsonb(p_event_id)) then
    return jsonb_build_object('eventId', p_event_id, 'replayed', false,
                              'reason', case when v_event.processed then 'already sent or never attempted on '
                                             || p_channel else 'still in progress' end);
  end if;
  update lead_events
     set processed = false,
         outcome = null,
         attempts = 0,
         next_attempt_at = now(),
         locked_by = null,
         locked_until = null,
         processed_at = null,
         replayed_at = now(),
         replay_channels = array[p_channel]
   where id = p_event_id;
  if v_event.conversation_id is not null then
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (v_event.conversation_id, 'event_replayed',
            'Notification replayed on ' || p_channel || ': ' || v_event.event_type,
            jsonb_build_object('eventId', p_event_id, 'channel', p_channel,
                               'previousOutcome', v_event.outcome, 'previousError', v_event.last_error),
            p_actor);
  end if;
  perform pg_notify('lead_events', p_event_id::text);
  return jsonb_build_object('eventId', p_event_id, 'replayed', true);
end
$$;

-- Retention keeps dead events ----------------------------------------------------------
-- A dead event is the only trace of an alert nobody received; deleting it (and its
-- notification_logs) with the delivered ones ended any chance to replay it. So the
-- purge takes delivered events only, unless the operator asks for dead ones too
-- (`leadrelay cleanup --include-dead`). Same transaction-local flag as the foundation's
-- purge, which the append-only trigger checks. The one-argument form (the landed API)
-- keeps dead events.
create or replace function purge_processed_events(p_older_than timestamptz, p_include_dead boolean)
returns jsonb
language plpgsql as $$
declare
  v_deleted integer;
begin
  perform set_config('leadrelay.retention_delete', 'on', true);
  delete from lead_events
   where processed = true
     and (p_include_dead or outcome is distinct from 'dead')
     and coalesce(processed_at, created_at) < p_older_than;
  get diagnostics v_deleted = row_count;
  perform set_config('leadrelay.retention_delete', 'off', true);
  return jsonb_build_object('deleted_events', v_deleted);
end
$$;

create or replace function purge_processed_events(p_older_than timestamptz)
returns jsonb
language sql as $$
  select purge_processed_events(p_older_than, false)
$$;

-- The dry run's count, with the same WHERE clause as the purge above.
create or replace function ops_count_purgeable_events(p_older_than timestamptz, p_include_dead boolean)
returns jsonb
language sql stable as $$
  with doomed as (
    select id
      from lead_events
     where processed = true
       and (p_include_dead or outcome is distinct from 'dead')
       and coalesce(processed_at, created_at) < p_older_than
  )
  select jsonb_build_object(
    'events', (select count(*) from doomed),
    'notificationLogs', (select count(*) from notification_logs l where l.event_id in (select id from doomed))
  )
$$;

create or replace function ops_count_purgeable_events(p_older_than timestamptz)
returns jsonb
language sql stable as $$
  select ops_count_purgeable_events(p_older_than, false)
$$;

-- Lock order: lead, then task -------------------------------------------------------------
-- Every admin function that changes a lead and its tasks locks the lead first
-- (admin_lock_lead), then the tasks: admin_update_lead closes the first-contact task
-- after locking the lead, so completing a task must do the same. The task's lead is
-- read without a lock (a task never moves to another lead), the lead is locked, then
-- the task, and its state is checked under both locks. Unchanged otherwise.
create or replace function admin_complete_task(p_task_id bigint, p_actor text default 'admin')
returns jsonb
language plpgsql as $$
declare
  v_conversation_id uuid;
  v_task follow_up_tasks%rowtype;
  v_now timestamptz := now();
begin
  select conversation_id into v_conversation_id from follow_up_tasks where id = p_task_id;
  if not found then
    raise exception 'task % not found', p_task_id using errcode = 'LR404';
  end if;
  perform admin_lock_lead(v_conversation_id, null);
  select * into v_task from follow_up_tasks where id = p_task_id for update;
  if v_task.status <> 'open' then
    return jsonb_build_object('taskId', v_task.id, 'status', v_task.status, 'changed', false,
                              'completedAt', v_task.completed_at);
  end if;
  update follow_up_tasks
     set status = 'done', completed_at = v_now, completed_by = p_actor, updated_at = v_now
   where id = p_task_id
   returning * into v_task;
  insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
  values (v_task.conversation_id, 'task_completed', 'Task completed: ' || v_task.title,
          jsonb_build_object('taskId', v_task.id, 'taskType', v_task.task_type), p_actor);
  update conversations
     set first_response_at = case when v_task.task_type = 'first_contact'
                                  then coalesce(first_response_at, v_now) else first_response_at end,
         version = version + 1,
         updated_at = v_now
   where id = v_task.conversation_id;
  return jsonb_build_object('taskId', v_task.id, 'status', v_task.status, 'changed', true,
                            'completedAt', v_task.completed_at, 'conversationId', v_task.conversation_id);
end
$$;

-- Privileges --------------------------------------------------------------------------
-- New overloads and functions: nothing for the public API roles, service_role for what
-- the storage layer calls; lead_event_round_settled is an internal helper of the claim.
revoke all on function lead_event_round_settled(bigint, timestamptz, text[]) from public, anon, authenticated;
revoke all on function claim_lead_events(text, integer, integer, integer) from public, anon, authenticated;
revoke all on function ops_channel_replay_ids(text, bigint, timestamptz) from public, anon, authenticated;
revoke all on function replay_channel_event(bigint, text, text) from public, anon, authenticated;
revoke all on function purge_processed_events(timestamptz, boolean) from public, anon, authenticated;
revoke all on function ops_count_purgeable_events(timestamptz, boolean) from public, anon, authenticated;
grant execute on function claim_lead_events(text, integer, integer, integer) to service_role;
grant execute on function ops_channel_replay_ids(text, bigint, timestamptz) to service_role;
grant execute on function replay_channel_event(bigint, text, text) to service_role;
grant execute on function purge_processed_events(timestamptz, boolean) to service_role;
grant execute on function ops_count_purgeable_events(timestamptz, boolean) to service_role;
