-- leadrelay integrations (issue 13): SMS and WhatsApp through Twilio, CRM sync to
-- HubSpot, and signed outbound webhooks (Standard Webhooks).
--
-- Why this file exists: the new channels keep state that must outlive a worker and be
-- shared by every worker and by `leadrelay health`:
--   webhook_endpoints      the admin-managed endpoints, their signing secrets, and
--                          whether they are disabled (410) or failing (alerted once)
--   integration_opt_outs   numbers that answered Twilio 21610 (unsubscribed): never
--                          texted again from this deployment
--   integration_pauses     a channel paused until a time (HubSpot's DAILY limit)
--   crm_contacts           the HubSpot contact id of each synced lead
-- Delivery itself stays in lead_events + notification_logs: a webhook endpoint is one
-- channel named `webhook:<endpoint id>`, so the worker's exactly-once-per-channel rule,
-- retries, dead events and replay apply to it unchanged and every attempt is a
-- notification_logs row.
--
-- Runs on PostgreSQL 15 and PGlite (Postgres 18), and twice: IF NOT EXISTS, CREATE OR
-- REPLACE, DROP TRIGGER IF EXISTS. Errors use the foundation's SQLSTATEs (LR404).

-- Tables ----------------------------------------------------------------------------
create table if not exists webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  url text not null,
  description text,
  events text[] not null,
  -- The signing secret (whsec_<base64>). Stored as is because every delivery needs it
  -- to compute the HMAC; it leaves the database only for the worker and, once, in the
  -- create answer. RLS and revoked privileges keep it from the public API roles.
  secret text not null,
  disabled boolean not null default false,
  disabled_reason text,
  -- Set when the team channel was told this endpoint is failing; cleared by the next
  -- successful delivery, so a long outage is one alert, not one per event.
  failing_alerted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists integration_opt_outs (
  channel text not null,
  phone text not null,
  provider_code integer,
  created_at timestamptz not null default now(),
  primary key (channel, phone)
);

create table if not exists integration_pauses (
  channel text primary key,
  paused_until timestamptz not null,
  reason text not null,
  updated_at timestamptz not null default now()
);

create table if not exists crm_contacts (
  conversation_id uuid not null references conversations (id) on delete cascade,
  provider text not null,
  contact_id text not null,
  synced_at timestamptz not null default now(),
  primary key (conversation_id, provider)
);

-- Webhook endpoints: admin API ------------------------------------------------------
-- The public shape of an endpoint: never the secret (it is shown once, at creation).
create or replace function webhook_endpoint_json(w webhook_endpoints) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', w.id, 'url', w.url, 'description', w.description, 'events', to_jsonb(w.events),
    'disabled', w.disabled, 'disabledReason', w.disabled_reason,
    'failingSince', w.failing_alerted_at,
    'createdAt', w.created_at, 'updatedAt', w.updated_at)
$$;

-- Creates an endpoint; the caller generated the secret (crypto in the application,
-- so every storage mode makes it the same way) and gets it back exactly once.
create or replace function webhook_create(
  p_url text, p_events text[], p_description text default null, p_secret text default null
) returns jsonb
language plpgsql as $$
declare
  v webhook_endpoints%rowtype;
begin
  insert into webhook_endpoints (url, events, description, secret)
  values (p_url, p_events, p_description, p_secret)
  returning * into v;
  return webhook_endpoint_json(v) || jsonb_build_object('secret', v.secret);
end
$$;

create or replace function webhook_list() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(webhook_endpoint_json(w) order by w.created_at, w.id), '[]'::jsonb)
    from webhook_endpoints w
$$;

-- One endpoint with its last 20 attempts (the notification_logs rows of its channel).
create or replace function webhook_get(p_id uuid) returns jsonb
language plpgsql stable as $$
declare
  v webhook_endpoints%rowtype;
begin
  select * into v from webhook_endpoints where id = p_id;
  if not found then
    raise exception 'webhook endpoint % not found', p_id using errcode = 'LR404';
  end if;
  return webhook_endpoint_json(v) || jsonb_build_object('attempts', coalesce((
    select jsonb_agg(jsonb_build_object(
             'id', l.id, 'eventId', l.event_id, 'eventType', e.event_type, 'status', l.status,
             'attempt', l.attempt, 'providerStatus', l.provider_status, 'error', l.error,
             'durationMs', l.duration_ms, 'createdAt', l.created_at) order by l.id desc)
      from (select * from notification_logs
             where channel = 'webhook:' || p_id::text
             order by id desc limit 20) l
      join lead_events e on e.id = l.event_id), '[]'::jsonb));
end
$$;

-- PATCH: only the fields given change. Re-enabling clears the reason and the alert
-- flag, so the next failure run alerts again.
create or replace function webhook_update(
  p_id uuid, p_events text[] default null, p_disabled boolean default null,
  p_description text default null, p_url text default null
) returns jsonb
language plpgsql as $$
declare
  v webhook_endpoints%rowtype;
begin
  update webhook_endpoints
     set events = coalesce(p_events, events),
         url = coalesce(p_url, url),
         description = coalesce(p_description, description),
         disabled = coalesce(p_disabled, disabled),
         disabled_reason = case when p_disabled is null then disabled_reason
                                when p_disabled then 'disabled by an admin' end,
         failing_alerted_at = case when p_disabled = false then null else failing_alerted_at end,
         updated_at = now()
   where id = p_id
  returning * into v;
  if not found then
    raise exception 'webhook endpoint % not found', p_id using errcode = 'LR404';
  end if;
  return webhook_endpoint_json(v);
end
$$;

-- Deleting keeps the delivery history (notification_logs rows of `webhook:<id>`): the
-- worker no longer lists the channel, so nothing more is sent.
create or replace function webhook_delete(p_id uuid) returns jsonb
language plpgsql as $$
begin
  delete from webhook_endpoints where id = p_id;
  if not found then
    raise exception 'webhook endpoint % not found', p_id using errcode = 'LR404';
  end if;
  return jsonb_build_object('id', p_id, 'deleted', true);
end
$$;

-- POST /:id/test: a `webhook.test` event in the outbox addressed to one endpoint, so
-- the test goes through the real delivery path (signing, retries, notification_logs).
create or replace function webhook_send_test(p_id uuid) returns jsonb
language plpgsql as $$
declare
  v_event_id bigint;
begin
  if not exists (select 1 from webhook_endpoints where id = p_id) then
    raise exception 'webhook endpoint % not found', p_id using errcode = 'LR404';
  end if;
  insert into lead_events (event_type, payload)
  values ('webhook.test', jsonb_build_object('endpointId', p_id, 'message', 'leadrelay test delivery'))
  returning id into v_event_id;
  perform pg_notify('lead_events', v_event_id::text);
  return jsonb_build_object('eventId', v_event_id, 'endpointId', p_id);
end
$$;

-- The worker's view: every enabled endpoint with its secret. created_at lets the
-- worker send an endpoint only the events that happened after it was created.
create or replace function webhook_active_endpoints() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'id', w.id, 'url', w.url, 'events', to_jsonb(w.events), 'secret', w.secret,
           'createdAt', w.created_at) order by w.id), '[]'::jsonb)
    from webhook_endpoints w
   where not w.disabled
$$;

-- Webhook outcomes, decided in the record transaction ---------------------------------
-- Written as triggers on the rows the worker records, so a 410 disables the endpoint and
-- a success ends its failing state atomically with the attempt's log row, whichever
-- worker recorded it, and without a second round trip. They only write small rows
-- (no NOTIFY, which would serialise commits).
create or replace function webhook_after_log() returns trigger
language plpgsql as $$
declare
  v_id uuid;
begin
  if new.channel not like 'webhook:%' then
    return null;
  end if;
  begin
    v_id := substr(new.channel, 9)::uuid;
  exception when invalid_text_representation then
    return null;
  end;
  if new.status = 'sent' then
    update webhook_endpoints set failing_alerted_at = null
     where id = v_id and failing_alerted_at is not null;
  elsif new.status = 'failed' and new.provider_status = 410 then
    update webhook_endpoints
       set disabled = true, disabled_reason = 'the endpoint answered 410 Gone', updated_at = now()
     where id = v_id and not disabled;
  end if;
  return null;
end
$$;

drop trigger if exists notification_logs_webhook_outcome on notification_logs;
create trigger notification_logs_webhook_outcome
  after insert on notification_logs
  for each row execute function webhook_after_log();

-- An event that went dead with a webhook channel still failing used up the endpoint's
-- retry schedule: tell the team once per failing run (failing_alerted_at), through an
-- `webhook.failing` outbox event that the chat channels (Slack, email, Telegram) send.
-- The worker wakes up for it at its next poll.
create or replace function webhook_after_dead_event() returns trigger
language plpgsql as $$
declare
  r record;
begin
  for r in
    select w.id, w.url, l.error, l.provider_status
      from (select distinct on (channel) channel, status, error, provider_status
              from notification_logs
             where event_id = new.id and channel like 'webhook:%'
             order by channel, id desc) l
      join webhook_endpoints w on 'webhook:' || w.id::text = l.channel
     where l.status = 'failed'
       and w.failing_alerted_at is null
       and not w.disabled
  loop
    update webhook_endpoints set failing_alerted_at = now() where id = r.id;
    insert into lead_events (event_type, payload)
    values ('webhook.failing', jsonb_build_object(
      'endpointId', r.id, 'url', r.url, 'eventId', new.id,
      'error', r.error, 'providerStatus', r.provider_status));
  end loop;
  return null;
end
$$;

drop trigger if exists lead_events_webhook_dead on lead_events;
create trigger lead_events_webhook_dead
  after update of outcome on lead_events
  for each row
  when (new.outcome = 'dead' and old.outcome is distinct from 'dead' and new.event_type <> 'webhook.failing')
  execute function webhook_after_dead_event();

-- Opt-outs and pauses ----------------------------------------------------------------
-- Twilio 21610: the recipient replied STOP. Idempotent (a retry after a crash repeats it).
create or replace function integration_record_opt_out(p_channel text, p_phone text, p_code integer)
returns jsonb
language sql as $$
  insert into integration_opt_outs (channel, phone, provider_code)
  values (p_channel, p_phone, p_code)
  on conflict (channel, phone) do nothing;
  select jsonb_build_object('channel', p_channel, 'stopped', true)
$$;

create or replace function integration_opt_outs(p_channel text) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(phone order by phone), '[]'::jsonb)
    from integration_opt_outs where channel = p_channel
$$;

-- A channel paused until a time (HubSpot DAILY limit); p_until null lifts the pause.
create or replace function integration_set_pause(p_channel text, p_until timestamptz, p_reason text)
returns jsonb
language plpgsql as $$
begin
  if p_until is null then
    delete from integration_pauses where channel = p_channel;
  else
    insert into integration_pauses (channel, paused_until, reason)
    values (p_channel, p_until, p_reason)
    on conflict (channel) do update
       set paused_until = excluded.paused_until, reason = excluded.reason, updated_at = now();
  end if;
  return jsonb_build_object('channel', p_channel, 'pausedUntil', p_until);
end
$$;

create or replace function integration_pause_of(p_channel text) returns jsonb
language sql stable as $$
  select coalesce((select jsonb_build_object('pausedUntil', paused_until, 'reason', reason)
                     from integration_pauses
                    where channel = p_channel and paused_until > now()), 'null'::jsonb)
$$;

-- CRM contacts ---------------------------------------------------------------------------
-- What the HubSpot sender needs for one lead: its contact details and, once synced,
-- the contact id (a PATCH by id then needs no lookup by email).
create or replace function crm_lead_for_sync(p_conversation_id uuid, p_provider text) returns jsonb
language sql stable as $$
  select coalesce((
    select jsonb_build_object(
             'id', c.id, 'name', c.customer_name, 'email', c.customer_email,
             'phone', c.customer_phone, 'status', c.status,
             'contactId', (select k.contact_id from crm_contacts k
                            where k.conversation_id = c.id and k.provider = p_provider))
      from conversations c where c.id = p_conversation_id), 'null'::jsonb)
$$;

-- Idempotent: a repeat (retry after a crash) finds the same contact and rewrites it.
create or replace function crm_record_contact(p_conversation_id uuid, p_provider text, p_contact_id text)
returns jsonb
language sql as $$
  insert into crm_contacts (conversation_id, provider, contact_id)
  select p_conversation_id, p_provider, p_contact_id
   where exists (select 1 from conversations where id = p_conversation_id)
  on conflict (conversation_id, provider) do update
     set contact_id = excluded.contact_id, synced_at = now();
  select jsonb_build_object('conversationId', p_conversation_id, 'contactId', p_contact_id)
$$;

-- The same for a whole batch upsert in one round trip: p_links {"links": [{conversationId, contactId}]}
-- (an object: node-postgres would turn a bare JS array into a Postgres array literal).
create or replace function crm_record_contacts(p_provider text, p_links jsonb) returns jsonb
language sql as $$
  insert into crm_contacts (conversation_id, provider, contact_id)
  select distinct on ((l->>'conversationId')::uuid) (l->>'conversationId')::uuid, p_provider, l->>'contactId'
    from jsonb_array_elements(coalesce(p_links->'links', '[]'::jsonb)) l
    join conversations c on c.id = (l->>'conversationId')::uuid
  on conflict (conversation_id, provider) do update
     set contact_id = excluded.contact_id, synced_at = now();
  select jsonb_build_object('recorded', jsonb_array_length(coalesce(p_links->'links', '[]'::jsonb)))
$$;

-- The lead detail's `integrations` block: {"hubspot": {"contactId", "syncedAt"}}.
create or replace function crm_links_for_lead(p_conversation_id uuid) returns jsonb
language sql stable as $$
  select coalesce(jsonb_object_agg(provider, jsonb_build_object(
           'contactId', contact_id, 'syncedAt', synced_at)), '{}'::jsonb)
    from crm_contacts where conversation_id = p_conversation_id
$$;

-- Health -------------------------------------------------------------------------------
-- Everything `leadrelay health` says about the integrations, in one call.
create or replace function integration_health() returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'pauses', coalesce((select jsonb_agg(jsonb_build_object(
                 'channel', channel, 'pausedUntil', paused_until, 'reason', reason) order by channel)
               from integration_pauses where paused_until > now()), '[]'::jsonb),
    'optOuts', coalesce((select jsonb_object_agg(channel, n)
               from (select channel, count(*) as n from integration_opt_outs group by channel) o),
               '{}'::jsonb),
    'webhooks', jsonb_build_object(
      'total', (select count(*) from webhook_endpoints),
      'disabled', (select count(*) from webhook_endpoints where disabled),
      'failing', (select count(*) from webhook_endpoints where failing_alerted_at is not null and not disabled)))
$$;

-- Row level security and privileges ---------------------------------------------------
alter table webhook_endpoints enable row level security;
alter table integration_opt_outs enable row level security;
alter table integration_pauses enable row level security;
alter table crm_contacts enable row level security;
revoke all on table webhook_endpoints, integration_opt_outs, integration_pauses, crm_contacts
  from public, anon, authenticated;
grant select, insert, update, delete on table
  webhook_endpoints, integration_opt_outs, integration_pauses, crm_contacts to service_role;

-- Internal helpers: trigger functions, fired by the tables, never called directly.
revoke all on function webhook_endpoint_json(webhook_endpoints) from public, anon, authenticated;
-- webhook_endpoint_json is called by functions service_role runs (SECURITY INVOKER), so it needs the grant too.
grant execute on function webhook_endpoint_json(webhook_endpoints) to service_role;
-- Revoked from service_role too: Supabase's default privileges would grant it.
revoke all on function webhook_after_log() from public, anon, authenticated, service_role;
revoke all on function webhook_after_dead_event() from public, anon, authenticated, service_role;

-- Called by the storage layer.
revoke all on function webhook_create(text, text[], text, text) from public, anon, authenticated;
revoke all on function webhook_list() from public, anon, authenticated;
revoke all on function webhook_get(uuid) from public, anon, authenticated;
revoke all on function webhook_update(uuid, text[], boolean, text, text) from public, anon, authenticated;
revoke all on function webhook_delete(uuid) from public, anon, authenticated;
revoke all on function webhook_send_test(uuid) from public, anon, authenticated;
revoke all on function webhook_active_endpoints() from public, anon, authenticated;
revoke all on function integration_record_opt_out(text, text, integer) from public, anon, authenticated;
revoke all on function integration_opt_outs(text) from public, anon, authenticated;
revoke all on function integration_set_pause(text, timestamptz, text) from public, anon, authenticated;
revoke all on function integration_pause_of(text) from public, anon, authenticated;
revoke all on function crm_lead_for_sync(uuid, text) from public, anon, authenticated;
revoke all on function crm_record_contact(uuid, text, text) from public, anon, authenticated;
revoke all on function crm_record_contacts(text, jsonb) from public, anon, authenticated;
revoke all on function crm_links_for_lead(uuid) from public, anon, authenticated;
revoke all on function integration_health() from public, anon, authenticated;
grant execute on function webhook_create(text, text[], text, text) to service_role;
grant execute on function webhook_list() to service_role;
grant execute on function webhook_get(uuid) to service_role;
grant execute on function webhook_update(uuid, text[], boolean, text, text) to service_role;
grant execute on function webhook_delete(uuid) to service_role;
grant execute on function webhook_send_test(uuid) to service_role;
grant execute on function webhook_active_endpoints() to service_role;
grant execute on function integration_record_opt_out(text, text, integer) to service_role;
grant execute on function integration_opt_outs(text) to service_role;
grant execute on function integration_set_pause(text, timestamptz, text) to service_role;
grant execute on function integration_pause_of(text) to service_role;
grant execute on function crm_lead_for_sync(uuid, text) to service_role;
grant execute on function crm_record_contact(uuid, text, text) to service_role;
grant execute on function crm_record_contacts(text, jsonb) to service_role;
grant execute on function crm_links_for_lead(uuid) to service_role;
grant execute on function integration_health() to service_role;
