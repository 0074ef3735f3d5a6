-- Why: the drain benchmark's database profile (bench/profile-worker.ts, track_functions)
-- showed the claim spending most of its time in lead_event_round_settled, called once per
-- claimed event: a SQL function that is not inlined is planned again on every call (0.8 ms
-- an event, more than the claim itself). An event with no notification_logs row has
-- nothing settled, which is every event on its first attempt, so the claim now asks the
-- index (notification_logs_event_channel_idx) first and calls the function only for events
-- that have rows. Otherwise the claim of 20261201000100 unchanged: same locking
-- (FOR UPDATE SKIP LOCKED over lead_events_claim_idx), lease, attempt cap and dead-lettering.
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
               'settled', case
                 when exists (select 1 from notification_logs l where l.event_id = c.id)
                   then lead_event_round_settled(c.id, c.replayed_at, c.replay_channels)
                 else '{}'::jsonb
               end
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

revoke all on function claim_lead_events(text, integer, integer, integer) from public, anon, authenticated;
grant execute on function claim_lead_events(text, integer, integer, integer) to service_role;
