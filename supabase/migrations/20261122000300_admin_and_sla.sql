-- leadrelay admin and SLA: the admin API's queries, the SLA sweep, the live feed's
-- notifications and the ops monitoring views.
--
-- Why this file looks the way it does:
-- * The admin API runs in all three storage modes (PGlite, Postgres, Supabase rpc), so
--   every admin operation is a SQL function with named arguments returning jsonb, and
--   every multi-statement change (status + timeline + outbox event) is one function:
--   one transaction whatever the mode.
-- * It must run on PostgreSQL 15 and on PGlite (Postgres 18), and more than once:
--   CREATE OR REPLACE for functions and views, DROP TRIGGER IF EXISTS before CREATE.
-- * No new tables. Functions and views are revoked from public, anon and authenticated
--   and granted to service_role only: through Supabase's Data API nobody but the
--   server can call them.
-- * Errors use the foundation's SQLSTATEs: LR404 (no such row), LR409 (stale version or
--   a state that forbids the change), so the HTTP layer never matches message text.

-- Lead as the admin API shows it ---------------------------------------------------
-- One JSON shape for list, detail, export and the live feed. createdAt is the exact
-- timestamptz text (microseconds), because the keyset cursor is built from it.
create or replace function admin_lead_json(c conversations) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', c.id,
    'customerName', c.customer_name,
    'customerPhone', c.customer_phone,
    'customerEmail', c.customer_email,
    'intent', c.intent,
    'message', c.message,
    'source', c.source,
    'status', c.status,
    'metadata', c.metadata,
    'assignedTo', c.assigned_to,
    'slaDueAt', c.sla_due_at,
    'slaBreached', c.sla_breached,
    'firstResponseAt', c.first_response_at,
    'version', c.version,
    'createdAt', c.created_at,
    'updatedAt', c.updated_at
  )
$$;

-- Admin list with keyset pagination --------------------------------------------------
-- Newest first on (created_at desc, id desc), the order of conversations_created_at_id_idx.
-- The next page starts strictly after the last row: `(created_at, id) < (cursor)`, a row
-- comparison the btree index answers directly, so page 10,000 costs what page 1 costs
-- (OFFSET would read and discard every earlier row). Rows inserted meanwhile are newer
-- than any cursor, so paging never repeats or skips a row.
--
-- Dynamic SQL: only the filters actually given become predicates. A static query with
-- `(p_status is null or status = p_status)` for every filter gets one generic plan in
-- plpgsql that cannot pick the (status, created_at, id) index or stop early on the
-- newest-first index; EXECUTE plans each call with its real predicates. Values are
-- passed with USING (never spliced into the text), so there is no injection surface.
-- Free text matches name, email or phone as a case-insensitive substring; LIKE
-- wildcards in the search text are escaped so `%` and `_` match themselves.
create or replace function admin_list_leads(
  p_status text default null,
  p_intent text default null,
  p_source text default null,
  p_sla_breached boolean default null,
  p_q text default null,
  p_created_from timestamptz default null,
  p_created_to timestamptz default null,
  p_after_created_at timestamptz default null,
  p_after_id uuid default null,
  p_limit integer default 50
) returns jsonb
language plpgsql stable as $$
declare
  v_where text[] := array['true'];
  v_limit integer := least(greatest(coalesce(p_limit, 50), 1), 1000);
  v_pattern text;
  v_rows jsonb;
  v_count integer;
  v_last record;
begin
  if p_status is not null then v_where := array_append(v_where, 'c.status = $1'); end if;
  if p_intent is not null then v_where := array_append(v_where, 'c.intent = $2'); end if;
  if p_source is not null then v_where := array_append(v_where, 'c.source = $3'); end if;
  if p_sla_breached is not null then v_where := array_append(v_where, 'c.sla_breached = $4'); end if;
  if p_q is not null and length(trim(p_q)) > 0 then
    v_pattern := '%' || replace(replace(replace(trim(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
    v_where := array_append(v_where,
      '(c.customer_name ilike $5 or c.customer_email ilike $5 or c.customer_phone ilike $5)');
  end if;
  if p_created_from is not null then v_where := array_append(v_where, 'c.created_at >= $6'); end if;
  if p_created_to is not null then v_where := array_append(v_where, 'c.created_at < $7'); end if;
  if p_after_created_at is not null and p_after_id is not null then
    v_where := array_append(v_where, '(c.created_at, c.id) < ($8, $9)');
  end if;

  execute format(
    'select coalesce(jsonb_agg(admin_lead_json(p) order by p.created_at desc, p.id desc), ''[]''::jsonb),
            count(*)
       from (select c.* from conversations c where %s
              order by c.created_at desc, c.id desc limit $10) p',
    array_to_string(v_where, ' and ')
  )
  into v_rows, v_count
  using p_status, p_intent, p_source, p_sla_breached, v_pattern, p_created_from, p_created_to,
        p_after_created_at, p_after_id, v_limit + 1;

  if v_count <= v_limit then
    return jsonb_build_object('items', v_rows, 'next', null);
  end if;
  -- One row more than asked proves there is a next page; drop it and point after the last kept.
  v_rows := v_rows - v_limit;
  return jsonb_build_object(
    'items', v_rows,
    'next', jsonb_build_object(
      'createdAt', v_rows -> (v_limit - 1) -> 'createdAt',
      'id', v_rows -> (v_limit - 1) -> 'id'
    )
  );
end
$$;

-- Lead detail ---------------------------------------------------------------------
-- The lead, its timeline (oldest first), its follow-up tasks, its outbox events and
-- every notification attempt of those events (per channel, newest first).
create or replace function admin_get_lead(p_id uuid) returns jsonb
language plpgsql stable as $$
declare
  v_lead conversations%rowtype;
begin
  select * into v_lead from conversations where id = p_id;
  if not found then
    raise exception 'lead % not found', p_id using errcode = 'LR404';
  end if;
  return jsonb_build_object(
    'lead', admin_lead_json(v_lead),
    'timeline', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', t.id, 'type', t.entry_type, 'title', t.title, 'details', t.details,
               'actor', t.actor, 'createdAt', t.created_at) order by t.created_at, t.id)
        from conversation_timeline t where t.conversation_id = p_id), '[]'::jsonb),
    'followUps', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', f.id, 'type', f.task_type, 'title', f.title, 'status', f.status,
               'dueAt', f.due_at, 'completedAt', f.completed_at, 'completedBy', f.completed_by,
               'createdAt', f.created_at) order by f.created_at, f.id)
        from follow_up_tasks f where f.conversation_id = p_id), '[]'::jsonb),
    'events', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', e.id, 'type', e.event_type, 'processed', e.processed, 'outcome', e.outcome,
               'attempts', e.attempts, 'nextAttemptAt', e.next_attempt_at, 'lastError', e.last_error,
               'createdAt', e.created_at, 'processedAt', e.processed_at) order by e.id)
        from lead_events e where e.conversation_id = p_id), '[]'::jsonb),
    'notifications', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', n.id, 'eventId', n.event_id, 'eventType', e.event_type, 'channel', n.channel,
               'status', n.status, 'attempt', n.attempt, 'error', n.error,
               'providerStatus', n.provider_status, 'durationMs', n.duration_ms,
               'createdAt', n.created_at) order by n.created_at desc, n.id desc)
        from notification_logs n join lead_events e on e.id = n.event_id
       where e.conversation_id = p_id), '[]'::jsonb)
  );
end
$$;

-- Locks a lead for an admin change; LR404 when missing, LR409 when the caller's
-- version is stale (optimistic concurrency: the caller read the lead, someone else
-- changed it since).
create or replace function admin_lock_lead(p_id uuid, p_expected_version integer)
returns conversations
language plpgsql as $$
declare
  v_lead conversations%rowtype;
begin
  select * into v_lead from conversations where id = p_id for update;
  if not found then
    raise exception 'lead % not found', p_id using errcode = 'LR404';
  end if;
  if p_expected_version is not null and v_lead.version <> p_expected_version then
    raise exception 'lead % is at version %, not %', p_id, v_lead.version, p_expected_version
      using errcode = 'LR409';
  end if;
  return v_lead;
end
$$;

-- Appends a lead.status_changed event to the outbox and wakes the workers (they mark
-- it processed without alerting; it is history and feeds the live dashboard).
create or replace function admin_emit_status_changed(p_id uuid, p_from text, p_to text, p_actor text)
returns bigint
language plpgsql as $$
declare
  v_event_id bigint;
begin
  insert into lead_events (event_type, conversation_id, payload)
  values ('lead.status_changed', p_id,
          jsonb_build_object('conversationId', p_id, 'from', p_from, 'to', p_to, 'actor', p_actor))
  returning id into v_event_id;
  perform pg_notify('lead_events', v_event_id::text);
  return v_event_id;
end
$$;

-- Admin update (PATCH) ------------------------------------------------------------------
-- Status, assignee and a note in one transaction with their timeline entries and the
-- lead.status_changed event. The version must match (LR409 otherwise) and goes up by
-- one when anything changed. Any move out of 'new' is a first response: it stops the
-- SLA clock (first_response_at) and closes the open first-contact task.
-- p_assign = true applies p_assigned_to (null clears it); false leaves it alone.
create or replace function admin_update_lead(
  p_id uuid,
  p_expected_version integer,
  p_status text default null,
  p_assign boolean default false,
  p_assigned_to text default null,
  p_note text default null,
  p_actor text default 'admin'
) returns jsonb
language plpgsql as $$
declare
  v_lead conversations%rowtype;
  v_changed boolean := false;
  v_now timestamptz := now();
begin
  v_lead := admin_lock_lead(p_id, p_expected_version);

  if p_status is not null and p_status is distinct from v_lead.status then
    if p_status not in ('new', 'contacted', 'qualified', 'won', 'lost') then
      raise exception 'invalid status %', p_status using errcode = '22023';
    end if;
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (p_id, 'status_changed', 'Status changed to ' || p_status,
            jsonb_build_object('from', v_lead.status, 'to', p_status), p_actor);
    perform admin_emit_status_changed(p_id, v_lead.status, p_status, p_actor);
    if p_status <> 'new' and v_lead.first_response_at is null then
      v_lead.first_response_at := v_now;
      update follow_up_tasks
         set status = 'done', completed_at = v_now, completed_by = p_actor, updated_at = v_now
       where conversation_id = p_id and task_type = 'first_contact' and status = 'open';
    end if;
    v_lead.status := p_status;
    v_changed := true;
  end if;

  if p_assign and p_assigned_to is distinct from v_lead.assigned_to then
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (p_id, 'assigned',
            case when p_assigned_to is null then 'Unassigned' else 'Assigned to ' || p_assigned_to end,
            jsonb_build_object('from', v_lead.assigned_to, 'to', p_assigned_to), p_actor);
    v_lead.assigned_to := p_assigned_to;
    v_changed := true;
  end if;

  if p_note is not null and length(trim(p_note)) > 0 then
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (p_id, 'note', 'Note added', jsonb_build_object('note', p_note), p_actor);
    v_changed := true;
  end if;

  if v_changed then
    update conversations
       set status = v_lead.status,
           assigned_to = v_lead.assigned_to,
           first_response_at = v_lead.first_response_at,
           version = version + 1,
           updated_at = v_now
     where id = p_id
     returning * into v_lead;
  end if;
  return jsonb_build_object('lead', admin_lead_json(v_lead), 'changed', v_changed);
end
$$;

-- A note on a lead: append-only history, so no version check (two admins adding notes
-- at once both keep theirs).
create or replace function admin_add_note(p_id uuid, p_note text, p_actor text default 'admin')
returns jsonb
language plpgsql as $$
declare
  v_entry conversation_timeline%rowtype;
begin
  perform admin_lock_lead(p_id, null);
  insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
  values (p_id, 'note', 'Note added', jsonb_build_object('note', p_note), p_actor)
  returning * into v_entry;
  update conversations set updated_at = now() where id = p_id;
  return jsonb_build_object(
    'id', v_entry.id, 'type', v_entry.entry_type, 'title', v_entry.title, 'details', v_entry.details,
    'actor', v_entry.actor, 'createdAt', v_entry.created_at);
end
$$;

-- Completing a follow-up task. Completing the first-contact task is a first response:
-- it stops the SLA clock. Completing a task twice is a no-op that reports it.
create or replace function admin_complete_task(p_task_id bigint, p_actor text default 'admin')
returns jsonb
language plpgsql as $$
declare
  v_task follow_up_tasks%rowtype;
  v_now timestamptz := now();
begin
  select * into v_task from follow_up_tasks where id = p_task_id for update;
  if not found then
    raise exception 'task % not found', p_task_id using errcode = 'LR404';
  end if;
  if v_task.status <> 'open' then
    return jsonb_build_object('taskId', v_task.id, 'status', v_task.status, 'changed', false,
                              'completedAt', v_task.completed_at);
  end if;
  perform admin_lock_lead(v_task.conversation_id, null);
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

-- Notification attempts, newest first, keyset on id (ids only grow).
create or replace function admin_list_notifications(
  p_status text default null,
  p_channel text default null,
  p_before_id bigint default null,
  p_limit integer default 50
) returns jsonb
language plpgsql stable as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 50), 1), 500);
  v_rows jsonb;
begin
  select coalesce(jsonb_agg(r.j order by r.id desc), '[]'::jsonb) into v_rows
    from (
      select n.id, jsonb_build_object(
               'id', n.id, 'eventId', n.event_id, 'eventType', e.event_type,
               'conversationId', e.conversation_id, 'channel', n.channel, 'status', n.status,
               'attempt', n.attempt, 'error', n.error, 'providerStatus', n.provider_status,
               'durationMs', n.duration_ms, 'eventOutcome', e.outcome, 'createdAt', n.created_at) as j
        from notification_logs n join lead_events e on e.id = n.event_id
       where (p_status is null or n.status = p_status)
         and (p_channel is null or n.channel = p_channel)
         and (p_before_id is null or n.id < p_before_id)
       order by n.id desc
       limit v_limit
    ) r;
  return jsonb_build_object(
    'items', v_rows,
    'next', case when jsonb_array_length(v_rows) = v_limit
                 then v_rows -> (v_limit - 1) -> 'id' else null end
  );
end
$$;

-- Replay of a dead event from the admin API. The replay rules belong to the worker's
-- migration (replay_dead_events: fresh attempt budget, due now, channels already sent
-- stay sent, NOTIFY to wake a worker); this wrapper adds what the admin view needs: a
-- timeline entry on the lead, LR404 for an unknown event and LR409 for an event that
-- is not dead (replaying a pending or delivered event would race the worker or alert
-- twice).
create or replace function admin_replay_event(p_event_id bigint, p_actor text default 'admin')
returns jsonb
language plpgsql as $$
declare
  v_event lead_events%rowtype;
begin
  select * into v_event from lead_events where id = p_event_id for update;
  if not found then
    raise exception 'event % not found', p_event_id using errcode = 'LR404';
  end if;
  if v_event.outcome is distinct from 'dead' then
    raise exception 'event % is not dead (%), only dead events can be replayed',
      p_event_id, coalesce(v_event.outcome, 'pending') using errcode = 'LR409';
  end if;
  perform replay_dead_events(p_event_id => p_event_id);
  if v_event.conversation_id is not null then
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (v_event.conversation_id, 'event_replayed', 'Notification replayed: ' || v_event.event_type,
            jsonb_build_object('eventId', p_event_id, 'previousError', v_event.last_error), p_actor);
  end if;
  return jsonb_build_object('eventId', p_event_id, 'eventType', v_event.event_type, 'replayed', true);
end
$$;

-- SLA sweep -------------------------------------------------------------------------
-- Marks leads whose first-contact deadline passed (as of p_now: a parameter so tests
-- drive the clock) as breached, writes an "SLA breached" timeline entry and emits
-- lead.sla_breached once per lead.
--
-- Safe with several sweepers (every worker runs one):
-- * FOR UPDATE SKIP LOCKED: a sweeper takes only rows no other sweeper holds; a row
--   another sweeper breached and committed no longer matches `sla_breached = false`
--   when re-checked under the lock, so it is skipped too.
-- * dedupe_key 'sla:<lead id>' is unique in lead_events: even a sweep that somehow
--   revisits a lead cannot emit a second alert (ON CONFLICT DO NOTHING).
-- Only leads still 'new' without a first response qualify (leads that predate
-- leadrelay with other statuses are not alerted). p_limit bounds one transaction;
-- the caller repeats while a full batch came back.
create or replace function sweep_sla_breaches(p_now timestamptz default now(), p_limit integer default 500)
returns jsonb
language plpgsql as $$
declare
  v_lead conversations%rowtype;
  v_event_id bigint;
  v_ids jsonb := '[]'::jsonb;
  v_count integer := 0;
begin
  for v_lead in
    with due as (
      select id from conversations
       where sla_breached = false and first_response_at is null and status = 'new'
         and sla_due_at <= p_now
       order by sla_due_at
       limit greatest(coalesce(p_limit, 500), 1)
       for update skip locked
    )
    update conversations c set sla_breached = true, updated_at = now()
      from due where c.id = due.id
    returning c.*
  loop
    v_count := v_count + 1;
    v_ids := v_ids || to_jsonb(v_lead.id);
    insert into conversation_timeline (conversation_id, entry_type, title, details)
    values (v_lead.id, 'sla_breached', 'SLA breached',
            jsonb_build_object('slaDueAt', v_lead.sla_due_at, 'detectedAt', p_now));
    insert into lead_events (event_type, conversation_id, payload, dedupe_key)
    values (
      'lead.sla_breached', v_lead.id,
      jsonb_build_object(
        'conversationId', v_lead.id,
        'customerName', v_lead.customer_name,
        'customerPhone', v_lead.customer_phone,
        'customerEmail', v_lead.customer_email,
        'intent', v_lead.intent,
        'message', v_lead.message,
        'source', v_lead.source,
        'createdAt', v_lead.created_at,
        'slaDueAt', v_lead.sla_due_at
      ),
      'sla:' || v_lead.id
    )
    on conflict (dedupe_key) do nothing
    returning id into v_event_id;
    if v_event_id is not null then
      perform pg_notify('lead_events', v_event_id::text);
    end if;
  end loop;
  return jsonb_build_object('breached', v_count, 'ids', v_ids);
end
$$;

-- Stats -------------------------------------------------------------------------------
-- Day and week boundaries are UTC (date_trunc on a timestamptz at time zone 'UTC').
create or replace function admin_stats(p_now timestamptz default now()) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'leadsToday', (select count(*) from conversations
                    where created_at >= date_trunc('day', p_now at time zone 'UTC') at time zone 'UTC'),
    'leadsThisWeek', (select count(*) from conversations
                       where created_at >= date_trunc('week', p_now at time zone 'UTC') at time zone 'UTC'),
    'unprocessedEvents', (select count(*) from lead_events where processed = false),
    'deadEvents', (select count(*) from lead_events where outcome = 'dead'),
    'failedNotifications24h', (select count(*) from notification_logs
                                where status = 'failed' and created_at >= p_now - interval '24 hours'),
    'openSlaBreaches', (select count(*) from conversations
                         where sla_breached = true and first_response_at is null),
    'overdueNow', (select count(*) from conversations
                    where sla_breached = false and first_response_at is null and status = 'new'
                      and sla_due_at <= p_now),
    'medianFirstResponseSeconds', (
      select round(extract(epoch from percentile_cont(0.5) within group (
               order by first_response_at - created_at))::numeric, 1)
        from conversations where first_response_at is not null)
  )
$$;

-- Live feed: NOTIFY leadrelay_admin -------------------------------------------------
-- The admin stream (SSE) LISTENs on one channel. Payloads are small JSON pointers
-- ({kind, id, ...}); the dashboard fetches what it needs. NOTIFY is delivered after
-- commit, so a listener never sees a change that rolled back.
create or replace function admin_notify_lead_change() returns trigger
language plpgsql as $$
begin
  perform pg_notify('leadrelay_admin', json_build_object(
    'kind', case when tg_op = 'INSERT' then 'lead.created'
                 when new.sla_breached and not old.sla_breached then 'lead.sla_breached'
                 else 'lead.updated' end,
    'id', new.id,
    'status', new.status,
    'version', new.version
  )::text);
  return null;
end
$$;

-- Updates only: a new lead is announced by announce_lead_created() after its capture
-- commits (a NOTIFY inside the capture transaction would serialise intake commits).
drop trigger if exists conversations_admin_notify on conversations;
create trigger conversations_admin_notify
  after update on conversations
  for each row execute function admin_notify_lead_change();

-- Delivery results (kinds notification, event.delivered, event.dead) are announced
-- by the worker right after it records a batch, through this function, instead of
-- per-row triggers inside the record transaction: a NOTIFY in a transaction holds a
-- global lock across its commit flush (see announce_lead_created in the foundation
-- migration), which would throttle every worker's commits. It writes nothing.
-- p_messages: {"messages": [{kind, ...}, ...]} (an object: node-postgres would turn a
-- bare JS array into a Postgres array literal).
create or replace function announce_admin_feed(p_messages jsonb)
returns jsonb
language plpgsql as $$
declare
  m jsonb;
  v_count integer := 0;
begin
  for m in select value from jsonb_array_elements(coalesce(p_messages->'messages', '[]'::jsonb)) loop
    perform pg_notify('leadrelay_admin', m::text);
    v_count := v_count + 1;
  end loop;
  return jsonb_build_object('announced', v_count);
end
$$;

-- Ops views ------------------------------------------------------------------------------
-- Workers with a stale heartbeat: running (not cleanly stopped) but silent for
-- p_stale_after. worker_heartbeats belongs to the worker's migration; it is looked up
-- at run time so this view never breaks the migration chain if that table changes
-- shape: null means "no heartbeat table to read".
create or replace function ops_stale_worker_count(p_stale_after interval default interval '2 minutes')
returns integer
language plpgsql stable as $$
declare
  v_count integer;
begin
  if to_regclass('worker_heartbeats') is null then
    return null;
  end if;
  execute 'select count(*) from worker_heartbeats where stopped_at is null and last_beat_at < now() - $1'
    into v_count using p_stale_after;
  return v_count;
exception when undefined_column then
  return null;
end
$$;

-- Queue health: is the outbox draining?
create or replace view ops_queue_health as
select
  (select count(*) from lead_events where processed = false) as depth,
  (select now() - min(created_at) from lead_events where processed = false) as oldest_unprocessed_age,
  (select count(*) from lead_events
    where processed = false and attempts > 0 and next_attempt_at <= now()) as due_retries,
  (select count(*) from lead_events
    where processed = false and locked_until > now()) as in_flight,
  (select count(*) from lead_events where outcome = 'dead') as dead_events,
  ops_stale_worker_count() as stale_workers;

-- Channel health over the last 24 hours, one row per channel.
create or replace view ops_channel_health as
select
  channel,
  count(*) filter (where status = 'sent') as sent_24h,
  count(*) filter (where status = 'failed') as failed_24h,
  count(*) filter (where status = 'skipped') as skipped_24h,
  round((count(*) filter (where status = 'failed'))::numeric / nullif(count(*), 0), 3) as failure_rate_24h,
  percentile_cont(0.95) within group (order by duration_ms)
    filter (where duration_ms is not null) as p95_duration_ms,
  max(created_at) filter (where status = 'sent') as last_sent_at,
  max(created_at) filter (where status = 'failed') as last_failed_at
from notification_logs
where created_at >= now() - interval '24 hours'
group by channel;

-- SLA: open breaches, leads overdue but not yet swept, median time to first response.
create or replace view ops_sla as
select
  (select count(*) from conversations
    where sla_breached = true and first_response_at is null) as open_breaches,
  (select count(*) from conversations
    where sla_breached = false and first_response_at is null and status = 'new'
      and sla_due_at <= now()) as overdue_unswept,
  (select percentile_cont(0.5) within group (order by first_response_at - created_at)
     from conversations where first_response_at is not null) as median_time_to_first_response,
  (select percentile_cont(0.5) within group (order by first_response_at - created_at)
     from conversations
    where first_response_at is not null and created_at >= now() - interval '7 days')
    as median_time_to_first_response_7d;

-- Privileges ----------------------------------------------------------------------------
alter view ops_queue_health set (security_invoker = true);
alter view ops_channel_health set (security_invoker = true);
alter view ops_sla set (security_invoker = true);
revoke all on ops_queue_health, ops_channel_health, ops_sla from public, anon, authenticated;
grant select on ops_queue_health, ops_channel_health, ops_sla to service_role;

revoke all on function admin_lead_json(conversations) from public, anon, authenticated;
revoke all on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer) from public, anon, authenticated;
revoke all on function admin_get_lead(uuid) from public, anon, authenticated;
revoke all on function admin_lock_lead(uuid, integer) from public, anon, authenticated;
revoke all on function admin_emit_status_changed(uuid, text, text, text) from public, anon, authenticated;
revoke all on function admin_update_lead(uuid, integer, text, boolean, text, text, text)
  from public, anon, authenticated;
revoke all on function admin_add_note(uuid, text, text) from public, anon, authenticated;
revoke all on function admin_complete_task(bigint, text) from public, anon, authenticated;
revoke all on function admin_list_notifications(text, text, bigint, integer) from public, anon, authenticated;
revoke all on function admin_replay_event(bigint, text) from public, anon, authenticated;
revoke all on function sweep_sla_breaches(timestamptz, integer) from public, anon, authenticated;
revoke all on function admin_stats(timestamptz) from public, anon, authenticated;
revoke all on function admin_notify_lead_change() from public, anon, authenticated;
revoke all on function announce_admin_feed(jsonb) from public, anon, authenticated;
grant execute on function announce_admin_feed(jsonb) to service_role;
revoke all on function ops_stale_worker_count(interval) from public, anon, authenticated;

grant execute on function admin_lead_json(conversations) to service_role;
grant execute on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer) to service_role;
grant execute on function admin_get_lead(uuid) to service_role;
grant execute on function admin_lock_lead(uuid, integer) to service_role;
grant execute on function admin_emit_status_changed(uuid, text, text, text) to service_role;
grant execute on function admin_update_lead(uuid, integer, text, boolean, text, text, text) to service_role;
grant execute on function admin_add_note(uuid, text, text) to service_role;
grant execute on function admin_complete_task(bigint, text) to service_role;
grant execute on function admin_list_notifications(text, text, bigint, integer) to service_role;
grant execute on function admin_replay_event(bigint, text) to service_role;
grant execute on function sweep_sla_breaches(timestamptz, integer) to service_role;
grant execute on function admin_stats(timestamptz) to service_role;
grant execute on function ops_stale_worker_count(interval) to service_role;
