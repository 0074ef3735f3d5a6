-- leadrelay erasure (issue 15, item 4): forget one person everywhere leadrelay keeps them.
--
-- Why this file exists: until now leadrelay could not forget anyone. A GDPR erasure
-- request must remove the person's data from every table in one transaction, and the
-- outbox (lead_events) is append-only by design. This migration adds:
-- * conversations.erased_at: an erased lead stays as a tombstone (id, source, status,
--   created and erased times) so counts, foreign keys and the audit trail still resolve;
-- * erase_lead(): the one function that erases (or, with p_dry_run, counts);
-- * erase_find_leads(): the leads of an email or a phone (the CLI's lookup);
-- * an append-only trigger that lets erase_lead (and only it) redact payloads: under a
--   transaction-local flag that erase_lead sets and clears, a payload may only LOSE
--   keys and gain the {"redacted": true} marker, never be rewritten; without the flag
--   every change of type, payload, conversation or time is refused as before (LR002);
-- * outcome 'erased': an erased lead's pending events are closed with it, and events a
--   producer writes for an erased lead later are born closed, so no claim ever hands
--   them out (only lead.erased itself is delivered, to webhooks and the CRM);
-- * admin_lock_lead refuses erased leads (LR404), so no admin change revives one;
-- * ops_channel_replay_ids never offers an erased event for a channel replay;
-- * chat messages (20261201222000_conv_core_chat_messages, which this file follows) are
--   erased with the lead, and an erased lead takes no new chat message (LR404).
-- Runs on PostgreSQL 15 and PGlite (Postgres 18), and twice.

alter table conversations add column if not exists erased_at timestamptz;

alter table lead_events drop constraint if exists lead_events_outcome_check;
-- NOT VALID, then VALIDATE: the check of existing rows does not block the worker's writes.
alter table lead_events add constraint lead_events_outcome_check
  check (outcome in ('delivered', 'dead', 'erased')) not valid;
alter table lead_events validate constraint lead_events_outcome_check;

-- Append-only outbox, with redaction by erasure ------------------------------------------
-- As in the foundation (deletes only through the retention purge's flag; type,
-- conversation, dedupe key and time never change), plus one sanctioned change of the
-- payload: under leadrelay.erasure = 'on' (set by erase_lead for its own statements
-- only) the new payload must carry "redacted": true and be a subset of the old one
-- apart from its markers. So even the erasure path can only remove, never invent.
create or replace function lead_events_guard_append_only() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    if coalesce(current_setting('leadrelay.retention_delete', true), '') <> 'on' then
      raise exception 'lead_events is append-only: rows are removed only by purge_processed_events()'
        using errcode = 'LR002';
    end if;
    return old;
  end if;
  if new.id is distinct from old.id
     or new.event_type is distinct from old.event_type
     or new.conversation_id is distinct from old.conversation_id
     or new.dedupe_key is distinct from old.dedupe_key
     or new.created_at is distinct from old.created_at then
    raise exception 'lead_events is append-only: type, payload, conversation and time cannot change'
      using errcode = 'LR002';
  end if;
  if new.payload is distinct from old.payload then
    if coalesce(current_setting('leadrelay.erasure', true), '') <> 'on'
       or jsonb_typeof(new.payload) <> 'object'
       or new.payload->'redacted' is distinct from 'true'::jsonb
       or not ((new.payload - 'redacted' - 'erasedAt') <@ old.payload) then
      raise exception 'lead_events is append-only: payloads are only redacted, by erase_lead()'
        using errcode = 'LR002';
    end if;
  end if;
  return new;
end
$$;

-- The redacted form of a payload: the marker, when, and the keys that name things
-- (ids, the event's own kind of facts) but never a person.
create or replace function erasure_redacted_payload(p_payload jsonb, p_erased_at timestamptz)
returns jsonb
language sql immutable as $$
  select coalesce((select jsonb_object_agg(k.key, k.value)
                     from jsonb_each(case when jsonb_typeof(p_payload) = 'object' then p_payload
                                          else '{}'::jsonb end) k
                    where k.key in ('conversationId', 'inquiryId', 'endpointId', 'eventId',
                                    'providerStatus', 'source', 'createdAt')), '{}'::jsonb)
         || jsonb_build_object('redacted', true, 'erasedAt', p_erased_at)
$$;

-- Events for an erased lead are born closed ------------------------------------------------
-- Any producer (a PATCH racing the erasure, a sweep, a later migration's feature) that
-- writes an event for an erased lead gets it processed with outcome 'erased' and a
-- redacted payload, so the claim never sees it. lead.erased is the one exception, and
-- lead.created can never concern an existing lead, so it costs capture nothing.
create or replace function lead_events_erased_guard() returns trigger
language plpgsql as $$
declare
  v_erased_at timestamptz;
begin
  select erased_at into v_erased_at from conversations where id = new.conversation_id;
  if v_erased_at is not null then
    new.payload := erasure_redacted_payload(new.payload, v_erased_at);
    new.processed := true;
    new.outcome := 'erased';
    new.processed_at := now();
    new.last_error := null;
  end if;
  return new;
end
$$;

drop trigger if exists lead_events_erased_guard on lead_events;
create trigger lead_events_erased_guard
  before insert on lead_events
  for each row
  when (new.conversation_id is not null and new.event_type not in ('lead.created', 'lead.erased'))
  execute function lead_events_erased_guard();

-- An erased lead takes no new chat message ---------------------------------------------------
-- Its tokens are gone, so a visitor cannot post; this also stops an agent's reply (or
-- any later writer) from attaching text to a tombstone.
create or replace function chat_messages_erased_guard() returns trigger
language plpgsql as $$
begin
  if exists (select 1 from conversations where id = new.conversation_id and erased_at is not null) then
    raise exception 'lead % was erased', new.conversation_id using errcode = 'LR404';
  end if;
  return new;
end
$$;

drop trigger if exists chat_messages_erased_guard on chat_messages;
create trigger chat_messages_erased_guard
  before insert on chat_messages
  for each row execute function chat_messages_erased_guard();

-- Admin changes never touch an erased lead ---------------------------------------------------
-- As in 20261122000300, plus: an erased lead is gone for every admin change (LR404).
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
  if v_lead.erased_at is not null then
    raise exception 'lead % was erased', p_id using errcode = 'LR404';
  end if;
  if p_expected_version is not null and v_lead.version <> p_expected_version then
    raise exception 'lead % is at version %, not %', p_id, v_lead.version, p_expected_version
      using errcode = 'LR409';
  end if;
  return v_lead;
end
$$;

-- Channel replay never takes an erased event --------------------------------------------------
-- As in 20261201000100, plus `outcome is distinct from 'erased'`.
create or replace function ops_channel_replay_ids(
  p_channel text,
  p_event_id bigint default null,
  p_since timestamptz default null
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(e.id order by e.id), '[]'::jsonb)
    from lead_events e
   where e.processed = true
     and e.outcome is distinct from 'erased'
     and (p_event_id is null or e.id = p_event_id)
     and (p_since is null or e.created_at >= p_since)
     and exists (select 1 from notification_logs l
                  where l.event_id = e.id and l.channel = p_channel and l.status in ('skipped', 'failed'))
     and not exists (select 1 from notification_logs l
                      where l.event_id = e.id and l.channel = p_channel and l.status = 'sent')
$$;

-- The merge group of a lead -------------------------------------------------------------------
-- A merge says two leads are one person (admin_merge_leads moves the merged lead's first
-- submission, timeline and tasks onto the survivor and may copy its email and phone).
-- So erasing either erases both: the group is the root survivor (merged_into followed
-- up) and every lead merged into it, transitively. Sorted, for a stable lock order.
create or replace function erasure_group(p_lead_id uuid) returns uuid[]
language sql stable as $$
  with recursive up(id, merged_into, depth) as (
    select c.id, c.merged_into, 0 from conversations c where c.id = p_lead_id
    union all
    select c.id, c.merged_into, up.depth + 1
      from conversations c join up on c.id = up.merged_into
     where up.depth < 64
  ), root as (
    select id from up order by depth desc limit 1
  ), down(id) as (
    select id from root
    union
    select c.id from conversations c join down d on c.merged_into = d.id
  )
  select coalesce(array_agg(id order by id), '{}') from down
$$;

-- Erasure -------------------------------------------------------------------------------------
-- Removes one person's data from every table leadrelay keeps it in, in the caller's
-- transaction (one statement: all or nothing), and answers what it did as counts only:
--   conversations     the group's rows become tombstones: id, source, status, created_at
--                     and erased_at stay; name, email, phone, intent, message, metadata,
--                     idempotency key and fingerprint, SLA and assignment state go
--   lead_inquiries, conversation_timeline, follow_up_tasks, crm_contacts,
--   chat_messages, conversation_tokens, chat_alert_state, chat_alert_batches  deleted
--   lead_events       payloads redacted (erasure_redacted_payload), last_error cleared;
--                     pending ones closed with outcome 'erased' (never sent afterwards);
--                     webhook.failing alerts about them lose their error text
--   notification_logs error text cleared (a provider's answer may quote the address)
--   audit_logs        details of the group's rows reduced to field names and codes
-- Then one lead.erased event per erased lead (no personal data: its id, when, why, and
-- the CRM contact ids the integrations must delete), and a NOTIFY to wake the workers.
-- p_dry_run: the same counts, nothing changed. An unknown id raises LR404; a lead that
-- was already erased answers alreadyErased = true and writes nothing.
-- p_reason: 'request' (an admin or the CLI) or 'retention' (LEAD_RETENTION_DAYS).
create or replace function erase_lead(
  p_lead_id uuid,
  p_actor text default 'admin',
  p_dry_run boolean default false,
  p_reason text default 'request'
) returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := now();
  v_lead conversations%rowtype;
  v_ids uuid[];
  v_todo uuid[];
  v_event_ids bigint[];
  v_counts jsonb;
  v_emitted jsonb := '[]'::jsonb;
  v_event_id bigint;
  v_id uuid;
  v_n integer;
begin
  if p_reason not in ('request', 'retention') then
    raise exception 'p_reason must be request or retention' using errcode = '22023';
  end if;
  select * into v_lead from conversations where id = p_lead_id;
  if not found then
    raise exception 'lead % not found', p_lead_id using errcode = 'LR404';
  end if;

  v_ids := erasure_group(p_lead_id);
  if not p_dry_run then
    -- Lock the group in id order (admin_merge_leads locks pairs the same way), then
    -- read it again: a merge that committed while we waited may have grown it.
    perform 1 from conversations where id = any(v_ids) order by id for update;
    v_ids := erasure_group(p_lead_id);
    perform 1 from conversations where id = any(v_ids) order by id for update;
  end if;
  select coalesce(array_agg(id order by id), '{}') into v_todo
    from conversations where id = any(v_ids) and erased_at is null;
  select coalesce(array_agg(id order by id), '{}') into v_event_ids
    from lead_events where conversation_id = any(v_ids);

  v_counts := jsonb_build_object(
    'leads', cardinality(v_todo),
    'inquiries', (select count(*) from lead_inquiries where conversation_id = any(v_ids)),
    'timeline', (select count(*) from conversation_timeline where conversation_id = any(v_ids)),
    'tasks', (select count(*) from follow_up_tasks where conversation_id = any(v_ids)),
    'events', cardinality(v_event_ids),
    'pendingEvents', (select count(*) from lead_events
                       where id = any(v_event_ids) and not processed),
    'notificationLogs', (select count(*) from notification_logs where event_id = any(v_event_ids)),
    'crmContacts', (select count(*) from crm_contacts where conversation_id = any(v_ids)),
    'chatMessages', (select count(*) from chat_messages where conversation_id = any(v_ids)),
    'conversationTokens', (select count(*) from conversation_tokens where conversation_id = any(v_ids)),
    'auditEntries', (select count(*) from audit_logs
                      where resource_type = 'lead' and resource_id = any(v_ids::text[])));

  if cardinality(v_todo) = 0 then
    return jsonb_build_object('dryRun', p_dry_run, 'id', p_lead_id, 'alreadyErased', true,
                              'erased', false, 'leadIds', to_jsonb(v_ids), 'counts', v_counts,
                              'tombstone', erasure_tombstone_json(p_lead_id));
  end if;
  if p_dry_run then
    return jsonb_build_object('dryRun', true, 'id', p_lead_id, 'alreadyErased', false,
                              'erased', false, 'leadIds', to_jsonb(v_ids), 'counts', v_counts);
  end if;

  -- The flag the append-only trigger checks; cleared again before returning, so it
  -- covers exactly these statements even inside a caller's larger transaction.
  perform set_config('leadrelay.erasure', 'on', true);

  update lead_events
     set payload = erasure_redacted_payload(payload, v_now),
         last_error = null,
         processed = true,
         outcome = case when processed then outcome else 'erased' end,
         processed_at = coalesce(processed_at, v_now),
         locked_by = null,
         locked_until = null
   where id = any(v_event_ids)
     and event_type <> 'lead.erased'
     and (payload->'redacted' is distinct from 'true'::jsonb or not processed or last_error is not null);
  -- Alerts about a webhook delivery of these events quote the receiver's answer.
  update lead_events
     set payload = erasure_redacted_payload(payload, v_now)
   where event_type = 'webhook.failing'
     and (payload->>'eventId') ~ '^[0-9]+$'
     and (payload->>'eventId')::bigint = any(v_event_ids)
     and payload->'redacted' is distinct from 'true'::jsonb;
  update lead_events set last_error = null
   where event_type = 'webhook.failing' and last_error is not null
     and (payload->>'eventId') ~ '^[0-9]+$'
     and (payload->>'eventId')::bigint = any(v_event_ids);
  update notification_logs set error = null
   where event_id = any(v_event_ids) and error is not null;

  perform set_config('leadrelay.erasure', 'off', true);

  delete from lead_inquiries where conversation_id = any(v_ids);
  delete from conversation_timeline where conversation_id = any(v_ids);
  delete from follow_up_tasks where conversation_id = any(v_ids);
  -- The chat (20261201222000_conv_core_chat_messages): messages, the widget's tokens
  -- (a visitor holding one can no longer read or post), and the alert bookkeeping,
  -- whose batches keep a copy of the alert's payload.
  delete from chat_alert_batches where conversation_id = any(v_ids);
  delete from chat_alert_state where conversation_id = any(v_ids);
  delete from conversation_tokens where conversation_id = any(v_ids);
  delete from chat_messages where conversation_id = any(v_ids);
  update audit_logs
     set details = coalesce((select jsonb_object_agg(k.key, k.value) from jsonb_each(details) k
                              where k.key in ('fields', 'error', 'status', 'version', 'dryRun')), '{}'::jsonb)
                   || jsonb_build_object('redacted', true),
         updated_at = v_now
   where resource_type = 'lead' and resource_id = any(v_ids::text[])
     and details->'redacted' is distinct from 'true'::jsonb;

  -- One lead.erased per erased lead, carrying the CRM ids the integrations delete
  -- (crm_contacts goes with the lead; the event is the only place they remain).
  foreach v_id in array v_todo loop
    insert into lead_events (event_type, conversation_id, payload)
    values ('lead.erased', v_id, jsonb_build_object(
      'conversationId', v_id,
      'erasedAt', v_now,
      'reason', p_reason,
      'actor', p_actor,
      'crm', coalesce((select jsonb_object_agg(k.provider, k.contact_id)
                         from crm_contacts k where k.conversation_id = v_id), '{}'::jsonb)))
    returning id into v_event_id;
    v_emitted := v_emitted || to_jsonb(v_event_id);
  end loop;
  delete from crm_contacts where conversation_id = any(v_ids);

  update conversations
     set customer_name = null,
         customer_phone = null,
         customer_email = null,
         intent = null,
         message = null,
         metadata = '{}'::jsonb,
         idempotency_key = null,
         idempotency_fingerprint = null,
         sla_due_at = null,
         sla_escalation_due_at = null,
         assignment_waiting_since = null,
         assigned_to = null,
         erased_at = v_now,
         version = version + 1,
         updated_at = v_now
   where id = any(v_todo);
  get diagnostics v_n = row_count;

  perform pg_notify('lead_events', (v_emitted->>0));
  return jsonb_build_object('dryRun', false, 'id', p_lead_id, 'alreadyErased', false, 'erased', true,
                            'leadIds', to_jsonb(v_ids), 'counts', v_counts, 'erasedAt', v_now,
                            'events', v_emitted, 'tombstone', erasure_tombstone_json(p_lead_id));
end
$$;

-- What stays of an erased lead, as the API shows it.
create or replace function erasure_tombstone_json(p_lead_id uuid) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', c.id, 'source', c.source, 'status', c.status,
                            'createdAt', c.created_at, 'erasedAt', c.erased_at,
                            'mergedInto', c.merged_into)
    from conversations c where c.id = p_lead_id
$$;

-- Lookup ---------------------------------------------------------------------------------------
-- The leads of an email and/or a phone, for `leadrelay erase --email/--phone`. The
-- caller normalises the way intake does (email trimmed and lower-cased, phone in
-- E.164); rows that predate leadrelay may hold other spellings, so the comparison is
-- case-insensitive for emails and ignores spaces, dashes and brackets for phones. A
-- full scan: erasure requests are rare, and a wrong "nothing found" is not an option.
-- Erased tombstones hold no contact data, so they are never found again.
create or replace function erase_find_leads(p_email text default null, p_phone text default null)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', c.id, 'source', c.source, 'status', c.status, 'createdAt', c.created_at,
           'mergedInto', c.merged_into,
           'matched', case when p_email is not null and lower(trim(c.customer_email)) = lower(trim(p_email))
                           then 'email' else 'phone' end)
           order by c.created_at, c.id), '[]'::jsonb)
    from conversations c
   where c.erased_at is null
     and ((nullif(trim(p_email), '') is not null
           and lower(trim(c.customer_email)) = lower(trim(p_email)))
       or (nullif(trim(p_phone), '') is not null
           and regexp_replace(c.customer_phone, '[\s().-]', '', 'g') = regexp_replace(p_phone, '[\s().-]', '', 'g')))
$$;

-- Privileges ------------------------------------------------------------------------------------
revoke all on function lead_events_guard_append_only() from public, anon, authenticated, service_role;
revoke all on function lead_events_erased_guard() from public, anon, authenticated, service_role;
revoke all on function chat_messages_erased_guard() from public, anon, authenticated, service_role;
revoke all on function erasure_redacted_payload(jsonb, timestamptz) from public, anon, authenticated;
revoke all on function erasure_group(uuid) from public, anon, authenticated;
revoke all on function erasure_tombstone_json(uuid) from public, anon, authenticated;
revoke all on function erase_lead(uuid, text, boolean, text) from public, anon, authenticated;
revoke all on function erase_find_leads(text, text) from public, anon, authenticated;
grant execute on function erase_lead(uuid, text, boolean, text) to service_role;
grant execute on function erase_find_leads(text, text) to service_role;
-- Helpers of erase_lead, which runs as its caller (SECURITY INVOKER).
grant execute on function erasure_redacted_payload(jsonb, timestamptz) to service_role;
grant execute on function erasure_group(uuid) to service_role;
grant execute on function erasure_tombstone_json(uuid) to service_role;
