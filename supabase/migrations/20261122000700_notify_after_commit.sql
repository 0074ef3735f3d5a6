-- Wake-ups after commit, not inside the capture transaction.
--
-- Why: on PostgreSQL a transaction that calls NOTIFY takes a cluster-wide lock at
-- commit and holds it across its WAL flush, so notifying commits cannot share a
-- flush (group commit). Measured here (bench/, 64 clients, 2 cores, PG 15): a plain
-- insert ran at 8,088 tps, 553 tps with a NOTIFY in the same transaction and 3,457
-- tps with the NOTIFY sent as its own statement after commit. capture_lead sent two
-- (the worker wake-up, and the admin feed's insert trigger on conversations).
--
-- So capture_lead no longer notifies; the API calls announce_lead_created() right
-- after the capture commits. That statement writes nothing, so it needs no flush.
-- If the API dies between the two, nothing is lost: workers poll
-- (WORKER_POLL_INTERVAL_MS) and the dashboard reloads on reconnect. Admin changes
-- (updates of conversations) are rare and keep their trigger.

-- capture_lead as in the foundation migration, minus the NOTIFY.
create or replace function capture_lead(
  p_lead jsonb,
  p_idempotency_key text default null,
  p_fingerprint text default null,
  p_sla_minutes integer default 5
) returns jsonb
language plpgsql as $$
declare
  v_id uuid;
  v_created_at timestamptz;
  v_sla_due timestamptz;
  v_existing conversations%rowtype;
  v_event_id bigint;
  v_source text := coalesce(p_lead->>'source', 'chatbot');
begin
  if p_idempotency_key is not null then
    select * into v_existing from conversations where idempotency_key = p_idempotency_key;
    if found then
      return capture_lead_replay(v_existing, p_fingerprint);
    end if;
  end if;

  v_sla_due := now() + make_interval(mins => p_sla_minutes);

  insert into conversations (
    customer_name, customer_phone, customer_email, intent, message, source, status,
    metadata, idempotency_key, idempotency_fingerprint, sla_due_at
  ) values (
    p_lead->>'customerName', p_lead->>'customerPhone', p_lead->>'customerEmail',
    p_lead->>'intent', p_lead->>'message', v_source, 'new',
    coalesce(p_lead->'metadata', '{}'::jsonb), p_idempotency_key, p_fingerprint, v_sla_due
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
      'customerPhone', p_lead->>'customerPhone',
      'customerEmail', p_lead->>'customerEmail',
      'intent', p_lead->>'intent',
      'message', p_lead->>'message',
      'source', v_source,
      'createdAt', v_created_at
    )
  )
  returning id into v_event_id;

  insert into conversation_timeline (conversation_id, entry_type, title, details)
  values (v_id, 'lead_created', 'Lead Created',
          jsonb_build_object('source', v_source, 'intent', p_lead->>'intent'));

  insert into follow_up_tasks (conversation_id, task_type, title, due_at)
  values (v_id, 'first_contact', 'First contact with ' || coalesce(p_lead->>'customerName', 'lead'), v_sla_due);

  return jsonb_build_object(
    'id', v_id,
    'eventId', v_event_id,
    'created', true,
    'createdAt', v_created_at,
    'slaDueAt', v_sla_due
  );
end
$$;

-- The two wake-ups of a new lead: workers (lead_events) and dashboards (leadrelay_admin,
-- same payload shape as the admin feed's triggers). Called after capture_lead commits.
create or replace function announce_lead_created(p_event_id bigint, p_conversation_id uuid)
returns jsonb
language plpgsql as $$
begin
  perform pg_notify('lead_events', p_event_id::text);
  perform pg_notify('leadrelay_admin', json_build_object(
    'kind', 'lead.created',
    'id', p_conversation_id,
    'status', 'new',
    'version', 1
  )::text);
  return jsonb_build_object('announced', true);
end
$$;

-- The admin feed's conversations trigger now fires on updates only: new leads are
-- announced by announce_lead_created() after their transaction commits.
drop trigger if exists conversations_admin_notify on conversations;
create trigger conversations_admin_notify
  after update on conversations
  for each row execute function admin_notify_lead_change();

revoke all on function capture_lead(jsonb, text, text, integer) from public, anon, authenticated;
revoke all on function announce_lead_created(bigint, uuid) from public, anon, authenticated;
grant execute on function capture_lead(jsonb, text, text, integer) to service_role;
grant execute on function announce_lead_created(bigint, uuid) to service_role;
