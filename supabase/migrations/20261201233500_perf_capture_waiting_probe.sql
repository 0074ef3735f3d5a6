-- Why: capture_lead asked "is anyone waiting for an owner?" with
-- `exists (select 1 from conversations where assignment_waiting_since is not null)`.
-- PL/pgSQL caches that statement's plan; planned while the table was small (or its
-- statistics stale), it stays a sequential scan of conversations that finds nothing
-- (almost always nobody waits), so every assigned capture read the whole table: backend
-- CPU per capture grew from 1.9 to 5 ms over 6,000 leads while captures without
-- assignment stayed at 0.7 ms (found with auto_explain; bench/team-capture-cost.ts is
-- the throughput view). The probe now asks for the first waiting lead in the order of
-- conversations_waiting_idx (a scalar subquery: inside EXISTS the planner drops the ORDER
-- BY and may scan again), which it answers from that partial index, whatever the
-- statistics say, rather than scan and sort. Everything else is capture_lead of 20261201000401 unchanged.
create or replace function capture_lead(
  p_lead jsonb,
  p_idempotency_key text,
  p_fingerprint text,
  p_sla_minutes integer,
  p_options jsonb
) returns jsonb
language plpgsql as $$
declare
  v_strategy text := coalesce(p_options->>'assignment', 'round_robin');
  v_window integer := coalesce((p_options->>'duplicateWindowDays')::integer, 30);
  v_email text := nullif(p_lead->>'customerEmail', '');
  v_phone text := nullif(p_lead->>'customerPhone', '');
  v_source text := coalesce(p_lead->>'source', 'chatbot');
  -- The clock for working hours and the duplicate window: the transaction's, unless
  -- the caller passes one (tests drive shifts with it).
  v_now timestamptz := coalesce((p_options->>'now')::timestamptz, now());
  v_sla_due timestamptz;
  v_existing conversations%rowtype;
  v_member team_members%rowtype;
  v_id uuid;
  v_created_at timestamptz;
  v_event_id bigint;
  v_lock text;
  v_replay jsonb;
  v_queue boolean := false;
begin
  v_replay := capture_lead_find_replay(p_idempotency_key, p_fingerprint);
  if v_replay is not null then
    return v_replay;
  end if;

  if v_window > 0 and (v_email is not null or v_phone is not null) then
    for v_lock in
      select k from unnest(array['email:' || v_email, 'phone:' || v_phone]) k
       where k is not null order by k
    loop
      perform pg_advisory_xact_lock(hashtextextended('leadrelay.contact:' || v_lock, 0));
    end loop;
    v_replay := capture_lead_find_replay(p_idempotency_key, p_fingerprint);
    if v_replay is not null then
      return v_replay;
    end if;
    select * into v_existing from conversations
     where id = (
       select m.id from (
         (select c.id, c.created_at from conversations c
           where v_email is not null and c.customer_email = v_email
             and c.merged_into is null and c.status in ('new', 'contacted', 'qualified')
             and c.created_at >= v_now - make_interval(days => v_window)
           order by c.created_at desc limit 1)
         union all
         (select c.id, c.created_at from conversations c
           where v_phone is not null and c.customer_phone = v_phone
             and c.merged_into is null and c.status in ('new', 'contacted', 'qualified')
             and c.created_at >= v_now - make_interval(days => v_window)
           order by c.created_at desc limit 1)
       ) m
       order by m.created_at desc
       limit 1)
     for update;
    if found then
      return capture_returning_inquiry(v_existing, p_lead, p_idempotency_key, p_fingerprint);
    end if;
  end if;

  v_sla_due := coalesce((p_options->>'slaDueAt')::timestamptz, v_now + make_interval(mins => p_sla_minutes));

  -- Without an active team there is nobody to wait for: the lead is simply unowned
  -- (not queued, so a team added later does not inherit the whole history).
  if v_strategy <> 'none' and exists (select 1 from team_members where active) then
    if (select c.assignment_waiting_since from conversations c
         where c.assignment_waiting_since is not null
         order by c.assignment_waiting_since, c.id
         limit 1) is not null then
      perform assign_waiting_leads(v_strategy, v_now, 20);
    end if;
    v_member := team_pick_member(v_strategy, v_now);
    v_queue := v_member.id is null;
  end if;

  insert into conversations (
    customer_name, customer_phone, customer_email, intent, message, source, status,
    metadata, idempotency_key, idempotency_fingerprint, sla_due_at,
    assignee_id, assigned_to, assigned_at, assignment_waiting_since
  ) values (
    p_lead->>'customerName', v_phone, v_email, p_lead->>'intent', p_lead->>'message', v_source, 'new',
    coalesce(p_lead->'metadata', '{}'::jsonb), p_idempotency_key, p_fingerprint, v_sla_due,
    v_member.id, v_member.name, case when v_member.id is not null then v_now end,
    case when v_queue then v_now end
  )
  on conflict (idempotency_key) do nothing
  returning id, created_at into v_id, v_created_at;

  if v_id is null then
    -- A concurrent request with the same key won the race and has committed.
    select * into v_existing from conversations where idempotency_key = p_idempotency_key;
    return capture_lead_replay(v_existing, p_fingerprint);
  end if;

  insert into lead_events (event_type, conversation_id, payload)
  values (
    'lead.created', v_id,
    jsonb_build_object(
      'conversationId', v_id,
      'customerName', p_lead->>'customerName',
      'customerPhone', v_phone,
      'customerEmail', v_email,
      'intent', p_lead->>'intent',
      'message', p_lead->>'message',
      'source', v_source,
      'createdAt', v_created_at,
      'assignee', team_assignee_json(v_member)
    )
  )
  returning id into v_event_id;

  insert into conversation_timeline (conversation_id, entry_type, title, details)
  values (v_id, 'lead_created', 'Lead Created',
          jsonb_build_object('source', v_source, 'intent', p_lead->>'intent'));

  if v_member.id is not null then
    insert into conversation_timeline (conversation_id, entry_type, title, details)
    values (v_id, 'assigned', 'Assigned to ' || v_member.name || ' (' || replace(v_strategy, '_', ' ') || ')',
            jsonb_build_object('from', null, 'to', v_member.id, 'reason', v_strategy));
    insert into lead_events (event_type, conversation_id, payload)
    values ('lead.assigned', v_id, jsonb_build_object(
      'conversationId', v_id, 'assignee', team_assignee_json(v_member),
      'previousAssignee', null, 'reason', v_strategy, 'actor', 'system'));
  end if;

  insert into follow_up_tasks (conversation_id, task_type, title, due_at)
  values (v_id, 'first_contact', 'First contact with ' || coalesce(p_lead->>'customerName', 'lead'), v_sla_due);

  return jsonb_build_object(
    'id', v_id,
    'eventId', v_event_id,
    'created', true,
    'returning', false,
    'createdAt', v_created_at,
    'slaDueAt', v_sla_due,
    'assigneeId', v_member.id
  );
end
$$;
