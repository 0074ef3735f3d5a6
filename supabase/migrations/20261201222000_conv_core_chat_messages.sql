-- leadrelay conversations (issue 14): the chat transcript, visitor follow-ups and agent
-- replies, conversation tokens for the widget, and collapsed follow-up alerts.
--
-- Why this file exists: a lead from the chatbot arrived without the conversation that
-- led to it, and neither side could write after the submission. This adds:
-- * chat_messages: one row per message (visitor, bot, agent), keyed for "latest 50 of a
--   conversation" by (conversation_id, id): a keyset walk of one index, whatever the
--   table's size. Visitor messages carry their read state (read_at).
-- * conversation_tokens: the widget's bearer tokens, stored as SHA-256 only (the token
--   is 256 random bits: a fast hash is enough). A token issued to a returning visitor
--   sees only the messages from its own submission on (visible_after): contact details
--   are not proof of identity, so an earlier chat on the same lead stays hidden.
-- * capture_lead_with_conversation: capture_lead plus the transcript and the token in
--   the same transaction. It wraps capture_lead instead of redefining it, so the
--   capture logic (assignment, returning leads, idempotency) stays in one place.
-- * chat_alert_state / chat_alert_batches: message.received alerts at most once per
--   conversation per cooldown (see chat_visitor_post and chat_alert_collapse).
-- Custom SQLSTATEs beside the foundation's: LR401 (no valid conversation token).
-- Runs on PostgreSQL 15 and PGlite, and twice.

create table if not exists chat_messages (
  id bigint generated always as identity primary key,
  conversation_id uuid not null references conversations (id) on delete cascade,
  role text not null check (role in ('visitor', 'bot', 'agent')),
  -- Agent replies: the member (null for the owner key) and the name shown to visitors.
  sender_member_id uuid references team_members (id),
  sender_name text,
  body text not null,
  -- The widget's own timestamp of a transcript item, when it sent one.
  client_at timestamptz,
  created_at timestamptz not null default now(),
  -- Visitor messages only: when an agent marked them read, and who.
  read_at timestamptz,
  read_by text
);
-- Keyset pages of one conversation, both directions.
create index if not exists chat_messages_conversation_idx on chat_messages (conversation_id, id);
-- Unread counts per lead, and the ops view of unread messages older than the SLA:
-- partial, so they hold only the (few) unread visitor messages.
create index if not exists chat_messages_unread_idx
  on chat_messages (conversation_id, id) where role = 'visitor' and read_at is null;
create index if not exists chat_messages_unread_age_idx
  on chat_messages (created_at) where role = 'visitor' and read_at is null;
-- Messages per hour (ops).
create index if not exists chat_messages_created_idx on chat_messages (created_at);

create table if not exists conversation_tokens (
  token_hash text primary key,
  conversation_id uuid not null references conversations (id) on delete cascade,
  -- The token sees messages with id > visible_after (0: the whole conversation).
  visible_after bigint not null default 0,
  -- The capture's Idempotency-Key: a repeated capture gets a token with the same view.
  idempotency_key text,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index if not exists conversation_tokens_conversation_idx on conversation_tokens (conversation_id);
create index if not exists conversation_tokens_expires_idx on conversation_tokens (expires_at);

-- One row per conversation that has had a visitor follow-up: which alert event is
-- waiting (pending_event_id), which messages earlier alerts covered, and when the
-- last alert went out.
create table if not exists chat_alert_state (
  conversation_id uuid primary key references conversations (id) on delete cascade,
  pending_event_id bigint,
  covered_up_to bigint not null default 0,
  last_alert_at timestamptz,
  updated_at timestamptz not null default now()
);

-- What one message.received event covers, fixed the first time a worker prepares it,
-- so a retry (crash, lease lost, replay) sends the same text and never double counts.
create table if not exists chat_alert_batches (
  event_id bigint primary key references lead_events (id) on delete cascade,
  conversation_id uuid not null references conversations (id) on delete cascade,
  from_id bigint not null,
  to_id bigint not null,
  message_count integer not null,
  payload jsonb not null,
  created_at timestamptz not null default now()
);
create index if not exists chat_alert_batches_conversation_idx on chat_alert_batches (conversation_id);

alter table chat_messages enable row level security;
alter table conversation_tokens enable row level security;
alter table chat_alert_state enable row level security;
alter table chat_alert_batches enable row level security;
-- Supabase's default privileges grant new tables and sequences to the API roles: take them back.
revoke all on table chat_messages, conversation_tokens, chat_alert_state, chat_alert_batches
  from public, anon, authenticated;
revoke all on sequence chat_messages_id_seq from public, anon, authenticated;

-- JSON shapes ------------------------------------------------------------------------
-- The visitor's view of a message: an agent is shown by name only (never an email).
create or replace function chat_message_json(m chat_messages) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', m.id::text,
    'role', m.role,
    'text', m.body,
    'senderName', case when m.role = 'agent' then m.sender_name end,
    'at', m.client_at,
    'createdAt', m.created_at)
$$;

-- The dashboard's view: the visitor's plus lead, sender id and read state.
create or replace function chat_admin_message_json(m chat_messages) returns jsonb
language sql stable as $$
  select chat_message_json(m) || jsonb_build_object(
    'conversationId', m.conversation_id,
    'senderId', m.sender_member_id,
    'readAt', m.read_at)
$$;

-- Capture with a conversation ----------------------------------------------------------
-- capture_lead (the latest definition, whoever wrote it), then in the same transaction
-- the transcript (p_transcript: {"items": [{role, text, at?}]}, validated by the API;
-- an object because node-postgres would send a bare JS array as a Postgres array) and, when
-- p_token_hash is given, the conversation token. A returning visitor's transcript is
-- appended to the open lead's conversation and their token sees only what follows
-- (capture_lead holds that lead's row FOR UPDATE on that path, and every message
-- insert takes a key-share lock on it through the foreign key, so max(id) here is
-- final). An idempotent repeat stores nothing again but does get a token (the first
-- answer may have been lost), with the same view as the first one.
create or replace function capture_lead_with_conversation(
  p_lead jsonb,
  p_idempotency_key text,
  p_fingerprint text,
  p_sla_minutes integer,
  p_options jsonb,
  p_transcript jsonb default '{"items": []}'::jsonb,
  p_token_hash text default null,
  p_token_ttl_days integer default 30
) returns jsonb
language plpgsql as $$
declare
  v_result jsonb;
  v_id uuid;
  v_returning boolean;
  v_replayed boolean;
  v_visible bigint;
  v_count integer := 0;
begin
  v_result := capture_lead(p_lead, p_idempotency_key, p_fingerprint, p_sla_minutes, p_options);
  v_id := (v_result->>'id')::uuid;
  v_returning := coalesce((v_result->>'returning')::boolean, false);
  v_replayed := coalesce((v_result->>'replayed')::boolean,
                         not coalesce((v_result->>'created')::boolean, false) and not v_returning);

  if v_replayed then
    select t.visible_after into v_visible from conversation_tokens t
     where t.conversation_id = v_id and t.idempotency_key = p_idempotency_key
     order by t.created_at limit 1;
    if v_visible is null then
      v_visible := case when v_returning
                        then coalesce((select max(m.id) from chat_messages m where m.conversation_id = v_id), 0)
                        else 0 end;
    end if;
  else
    v_visible := case when v_returning
                      then coalesce((select max(m.id) from chat_messages m where m.conversation_id = v_id), 0)
                      else 0 end;
    if jsonb_typeof(p_transcript->'items') = 'array' and jsonb_array_length(p_transcript->'items') > 0 then
      insert into chat_messages (conversation_id, role, body, client_at)
      select v_id, item->>'role', item->>'text', nullif(item->>'at', '')::timestamptz
        from jsonb_array_elements(p_transcript->'items') with ordinality as t(item, n)
       order by n;
      get diagnostics v_count = row_count;
    end if;
  end if;

  if p_token_hash is not null then
    insert into conversation_tokens (token_hash, conversation_id, visible_after, idempotency_key, expires_at)
    values (p_token_hash, v_id, v_visible, p_idempotency_key,
            now() + make_interval(days => greatest(coalesce(p_token_ttl_days, 30), 1)));
  end if;
  return v_result || jsonb_build_object('transcriptStored', v_count);
end
$$;

-- Visitor side -----------------------------------------------------------------------
-- The token's view of its conversation, or an error that says nothing more: LR401 for
-- an unknown or expired token, LR404 for a token of another conversation.
create or replace function chat_visitor_token(p_conversation_id uuid, p_token_hash text)
returns conversation_tokens
language plpgsql stable as $$
declare
  v_token conversation_tokens%rowtype;
begin
  select * into v_token from conversation_tokens where token_hash = p_token_hash;
  if not found or v_token.expires_at <= now() then
    raise exception 'conversation token not valid' using errcode = 'LR401';
  end if;
  if v_token.conversation_id <> p_conversation_id then
    raise exception 'conversation not found' using errcode = 'LR404';
  end if;
  return v_token;
end
$$;

-- Checks a token and answers its view (for the stream, which then runs on a signed
-- short-lived token and no longer needs the database to know it).
create or replace function chat_visitor_authenticate(p_conversation_id uuid, p_token_hash text)
returns jsonb
language plpgsql stable as $$
declare
  v_token conversation_tokens%rowtype;
begin
  v_token := chat_visitor_token(p_conversation_id, p_token_hash);
  return jsonb_build_object('conversationId', v_token.conversation_id,
                            'visibleAfter', v_token.visible_after::text,
                            'expiresAt', v_token.expires_at);
end
$$;

-- Messages after a cursor (a message id), oldest first, as the visitor sees them.
-- p_roles limits the roles (the stream pushes agent replies only).
create or replace function chat_list_visible(
  p_conversation_id uuid, p_visible_after bigint, p_after bigint, p_limit integer, p_roles text[] default null
) returns jsonb
language plpgsql stable as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 200), 1), 200);
  v_after bigint := greatest(coalesce(p_after, 0), coalesce(p_visible_after, 0));
  v_items jsonb;
  v_count integer;
  v_last bigint;
begin
  select coalesce(jsonb_agg(chat_message_json(p) order by p.id), '[]'::jsonb), count(*), max(p.id)
    into v_items, v_count, v_last
    from (select * from chat_messages m
           where m.conversation_id = p_conversation_id and m.id > v_after
             and (p_roles is null or m.role = any(p_roles))
           order by m.id limit v_limit + 1) p;
  if v_count > v_limit then
    v_items := v_items - v_limit;
    v_last := (v_items -> (v_limit - 1) ->> 'id')::bigint;
  end if;
  return jsonb_build_object(
    'items', v_items,
    'cursor', coalesce(v_last, greatest(coalesce(p_after, 0), 0))::text,
    'hasMore', v_count > v_limit);
end
$$;

-- Where a stream opened without a cursor starts: the conversation's newest message id.
create or replace function chat_latest_message_id(p_conversation_id uuid) returns jsonb
language sql stable as $$
  select to_jsonb(coalesce((select max(id) from chat_messages where conversation_id = p_conversation_id), 0)::text)
$$;

create or replace function chat_visitor_messages(
  p_conversation_id uuid, p_token_hash text, p_after bigint default null, p_limit integer default 200
) returns jsonb
language plpgsql stable as $$
declare
  v_token conversation_tokens%rowtype;
begin
  v_token := chat_visitor_token(p_conversation_id, p_token_hash);
  return chat_list_visible(p_conversation_id, v_token.visible_after, p_after, p_limit);
end
$$;

-- A visitor's follow-up. Besides the message it keeps one message.received event
-- waiting per conversation (chat_alert_state.pending_event_id): the first follow-up
-- after a quiet spell gets an event due at once; while that event has not been
-- prepared by a worker, later messages just join it; once it has (an alert went out),
-- the next message gets a new event due only when the cooldown since that alert ends.
-- So alerts go out at most once per cooldown per conversation, each covering every
-- message since the previous one. The state row is locked for the decision, so two
-- simultaneous messages cannot both create an event. An event that was processed
-- without being prepared (dead, or delivered by a worker that predates this) no longer
-- counts as waiting.
create or replace function chat_visitor_post(
  p_conversation_id uuid, p_token_hash text, p_text text, p_cooldown_seconds integer default 120
) returns jsonb
language plpgsql as $$
declare
  v_token conversation_tokens%rowtype;
  v_lead conversations%rowtype;
  v_member team_members%rowtype;
  v_message chat_messages%rowtype;
  v_state chat_alert_state%rowtype;
  v_event_id bigint;
  v_due timestamptz;
  v_now timestamptz := now();
begin
  v_token := chat_visitor_token(p_conversation_id, p_token_hash);
  insert into chat_messages (conversation_id, role, body)
  values (p_conversation_id, 'visitor', p_text)
  returning * into v_message;

  insert into chat_alert_state (conversation_id, covered_up_to)
  values (p_conversation_id, v_message.id - 1)
  on conflict (conversation_id) do nothing;
  select * into v_state from chat_alert_state where conversation_id = p_conversation_id for update;

  if v_state.pending_event_id is null
     or not exists (select 1 from lead_events e where e.id = v_state.pending_event_id and not e.processed) then
    select * into v_lead from conversations where id = p_conversation_id;
    select * into v_member from team_members where id = v_lead.assignee_id;
    v_due := greatest(v_now, coalesce(v_state.last_alert_at + make_interval(secs => p_cooldown_seconds), v_now));
    insert into lead_events (event_type, conversation_id, payload, next_attempt_at)
    values ('message.received', p_conversation_id, jsonb_build_object(
      'conversationId', p_conversation_id,
      'messageId', v_message.id,
      'customerName', v_lead.customer_name,
      'customerPhone', v_lead.customer_phone,
      'customerEmail', v_lead.customer_email,
      'intent', v_lead.intent,
      'source', v_lead.source,
      'message', left(p_text, 500),
      'createdAt', v_message.created_at,
      'assignee', team_assignee_json(v_member)), v_due)
    returning id into v_event_id;
    update chat_alert_state set pending_event_id = v_event_id, updated_at = v_now
     where conversation_id = p_conversation_id;
  end if;

  return jsonb_build_object(
    'id', v_message.id::text,
    'createdAt', v_message.created_at,
    'eventId', v_event_id,
    'alertDueAt', v_due);
end
$$;

-- Called by the worker before it formats a message.received alert: fixes which
-- messages the alert covers (every visitor message after the previous alert's, up to
-- now), marks the alert sent for the cooldown, and answers the alert's payload: the
-- lead, its current assignee, the count and the latest texts. Idempotent per event
-- (chat_alert_batches), so a retried or replayed event says the same. An event that is
-- no longer the conversation's waiting one (its messages went out with another) covers
-- nothing: count 0, and the worker sends nothing.
create or replace function chat_alert_collapse(p_event_id bigint) returns jsonb
language plpgsql as $$
declare
  v_batch chat_alert_batches%rowtype;
  v_event lead_events%rowtype;
  v_state chat_alert_state%rowtype;
  v_lead conversations%rowtype;
  v_member team_members%rowtype;
  v_to bigint;
  v_count integer;
  v_texts jsonb;
  v_payload jsonb;
begin
  select * into v_batch from chat_alert_batches where event_id = p_event_id;
  if found then
    return v_batch.payload;
  end if;
  select * into v_event from lead_events where id = p_event_id;
  if not found or v_event.event_type <> 'message.received' then
    raise exception 'event % is not a message.received event', p_event_id using errcode = 'LR404';
  end if;
  select * into v_state from chat_alert_state where conversation_id = v_event.conversation_id for update;
  select * into v_lead from conversations where id = v_event.conversation_id;
  select * into v_member from team_members where id = v_lead.assignee_id;

  if v_state.pending_event_id is distinct from p_event_id then
    v_payload := jsonb_build_object('conversationId', v_event.conversation_id, 'messageCount', 0);
    insert into chat_alert_batches (event_id, conversation_id, from_id, to_id, message_count, payload)
    values (p_event_id, v_event.conversation_id, 0, 0, 0, v_payload);
    return v_payload;
  end if;

  select max(m.id), count(*) into v_to, v_count from chat_messages m
   where m.conversation_id = v_event.conversation_id and m.role = 'visitor' and m.id > v_state.covered_up_to;
  select coalesce(jsonb_agg(x.body order by x.id), '[]'::jsonb) into v_texts
    from (select m.id, left(m.body, 1000) as body from chat_messages m
           where m.conversation_id = v_event.conversation_id and m.role = 'visitor'
             and m.id > v_state.covered_up_to
           order by m.id desc limit 5) x;
  v_payload := (v_event.payload - 'message') || jsonb_build_object(
    'customerName', v_lead.customer_name,
    'customerPhone', v_lead.customer_phone,
    'customerEmail', v_lead.customer_email,
    'assignee', team_assignee_json(v_member),
    'messageCount', coalesce(v_count, 0),
    'messages', v_texts);
  insert into chat_alert_batches (event_id, conversation_id, from_id, to_id, message_count, payload)
  values (p_event_id, v_event.conversation_id, v_state.covered_up_to + 1, coalesce(v_to, v_state.covered_up_to),
          coalesce(v_count, 0), v_payload);
  update chat_alert_state
     set pending_event_id = null, covered_up_to = coalesce(v_to, covered_up_to), last_alert_at = now(),
         updated_at = now()
   where conversation_id = v_event.conversation_id;
  return v_payload;
end
$$;

-- Wake-ups after a message commits (as announce_lead_created: a NOTIFY inside the
-- writing transaction would serialise commits). Dashboards get a small pointer
-- (kind message.created); the text is fetched by id, since NOTIFY payloads are capped
-- at 8000 bytes. Workers are woken only for an alert due now. Writes nothing.
create or replace function chat_announce_message(
  p_conversation_id uuid, p_message_id bigint, p_role text, p_event_id bigint default null
) returns jsonb
language plpgsql as $$
begin
  perform pg_notify('leadrelay_admin', json_build_object(
    'kind', 'message.created', 'id', p_conversation_id, 'messageId', p_message_id::text, 'role', p_role)::text);
  if p_event_id is not null then
    perform pg_notify('lead_events', p_event_id::text);
  end if;
  return jsonb_build_object('announced', true);
end
$$;

-- Agent side -------------------------------------------------------------------------
create or replace function chat_require_lead(p_id uuid) returns conversations
language plpgsql stable as $$
declare
  v_lead conversations%rowtype;
begin
  select * into v_lead from conversations where id = p_id;
  if not found then
    raise exception 'lead % not found', p_id using errcode = 'LR404';
  end if;
  return v_lead;
end
$$;

-- One keyset page for the dashboard, oldest first within the page:
-- * p_after: the messages after that id (polling for new ones), up to p_limit;
-- * otherwise the latest p_limit messages before p_before (or the newest), with
--   olderCursor set when older ones exist (pass it as p_before).
-- Both walk chat_messages_conversation_idx from the cursor and stop after p_limit + 1.
create or replace function chat_admin_messages(
  p_conversation_id uuid, p_after bigint default null, p_before bigint default null, p_limit integer default 50
) returns jsonb
language plpgsql stable as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 50), 1), 200);
  v_items jsonb;
  v_count integer;
  v_first bigint;
  v_last bigint;
begin
  perform chat_require_lead(p_conversation_id);
  if p_after is not null then
    select coalesce(jsonb_agg(chat_admin_message_json(p) order by p.id), '[]'::jsonb), count(*)
      into v_items, v_count
      from (select * from chat_messages m
             where m.conversation_id = p_conversation_id and m.id > p_after
             order by m.id limit v_limit + 1) p;
    if v_count > v_limit then
      v_items := v_items - v_limit;
    end if;
    v_last := (v_items -> (jsonb_array_length(v_items) - 1) ->> 'id')::bigint;
    return jsonb_build_object('items', v_items, 'cursor', coalesce(v_last, p_after)::text,
                              'hasMore', v_count > v_limit, 'olderCursor', null);
  end if;
  select coalesce(jsonb_agg(chat_admin_message_json(p) order by p.id), '[]'::jsonb), count(*), max(p.id)
    into v_items, v_count, v_last
    from (select * from chat_messages m
           where m.conversation_id = p_conversation_id and (p_before is null or m.id < p_before)
           order by m.id desc limit v_limit + 1) p;
  if v_count > v_limit then
    v_items := v_items - 0;
    v_first := (v_items -> 0 ->> 'id')::bigint;
  end if;
  return jsonb_build_object(
    'items', v_items,
    'cursor', v_last::text,
    'hasMore', false,
    'olderCursor', v_first::text);
end
$$;

-- A reply by a signed-in member (p_member_id null for the owner key). The lead's row
-- is locked so two first replies cannot both count as the first. The first reply is
-- the first contact: it stops the SLA clock (first_response_at), completes the open
-- first-contact task and writes a timeline entry, as a status change from `new` does;
-- the lead's status and version are left alone (a dashboard edit in progress stays
-- valid).
create or replace function chat_admin_reply(
  p_conversation_id uuid, p_text text, p_member_id uuid, p_sender_name text
) returns jsonb
language plpgsql as $$
declare
  v_lead conversations%rowtype;
  v_message chat_messages%rowtype;
  v_first boolean := false;
  v_now timestamptz := now();
begin
  select * into v_lead from conversations where id = p_conversation_id for update;
  if not found then
    raise exception 'lead % not found', p_conversation_id using errcode = 'LR404';
  end if;
  insert into chat_messages (conversation_id, role, sender_member_id, sender_name, body)
  values (p_conversation_id, 'agent', p_member_id, p_sender_name, p_text)
  returning * into v_message;

  if v_lead.first_response_at is null then
    v_first := true;
    update conversations set first_response_at = v_now, updated_at = v_now where id = p_conversation_id
    returning * into v_lead;
    update follow_up_tasks
       set status = 'done', completed_at = v_now, completed_by = p_sender_name, updated_at = v_now
     where conversation_id = p_conversation_id and task_type = 'first_contact' and status = 'open';
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (p_conversation_id, 'first_response', 'First response (chat reply)',
            jsonb_build_object('messageId', v_message.id,
                               'secondsToFirstResponse',
                               round(extract(epoch from (v_now - v_lead.created_at))::numeric, 1)),
            p_sender_name);
  end if;

  return jsonb_build_object(
    'message', chat_admin_message_json(v_message),
    'firstContact', v_first,
    'firstResponseAt', v_lead.first_response_at,
    'secondsToFirstResponse', round(extract(epoch from (v_lead.first_response_at - v_lead.created_at))::numeric, 1));
end
$$;

-- Marks the lead's visitor messages up to p_up_to (a message id) read. Answers how
-- many changed and how many remain unread.
create or replace function chat_admin_mark_read(p_conversation_id uuid, p_up_to bigint, p_actor text)
returns jsonb
language plpgsql as $$
declare
  v_marked integer;
begin
  perform chat_require_lead(p_conversation_id);
  update chat_messages set read_at = now(), read_by = p_actor
   where conversation_id = p_conversation_id and role = 'visitor' and read_at is null and id <= p_up_to;
  get diagnostics v_marked = row_count;
  return jsonb_build_object(
    'marked', v_marked,
    'unreadCount', (select count(*) from chat_messages m
                     where m.conversation_id = p_conversation_id and m.role = 'visitor' and m.read_at is null));
end
$$;

-- Unread visitor messages per lead, for a page of the lead list: {"<lead id>": n}
-- (leads without unread messages are left out). p_ids: {"ids": [...]} (an object:
-- node-postgres would turn a bare JS array into a Postgres array literal).
create or replace function chat_unread_counts(p_ids jsonb) returns jsonb
language sql stable as $$
  select coalesce(jsonb_object_agg(m.conversation_id, m.n), '{}'::jsonb)
    from (select conversation_id, count(*) as n from chat_messages
           where role = 'visitor' and read_at is null
             and conversation_id in (select (value #>> '{}')::uuid from jsonb_array_elements(p_ids->'ids'))
           group by conversation_id) m
$$;

-- Grants: service_role only (20261201000010_rpc_grants.sql) -----------------------------
revoke all on function chat_message_json(chat_messages) from public, anon, authenticated;
grant execute on function chat_message_json(chat_messages) to service_role;
revoke all on function chat_admin_message_json(chat_messages) from public, anon, authenticated;
grant execute on function chat_admin_message_json(chat_messages) to service_role;
revoke all on function capture_lead_with_conversation(jsonb, text, text, integer, jsonb, jsonb, text, integer)
  from public, anon, authenticated;
grant execute on function capture_lead_with_conversation(jsonb, text, text, integer, jsonb, jsonb, text, integer)
  to service_role;
revoke all on function chat_visitor_token(uuid, text) from public, anon, authenticated;
grant execute on function chat_visitor_token(uuid, text) to service_role;
revoke all on function chat_visitor_authenticate(uuid, text) from public, anon, authenticated;
grant execute on function chat_visitor_authenticate(uuid, text) to service_role;
revoke all on function chat_list_visible(uuid, bigint, bigint, integer, text[]) from public, anon, authenticated;
grant execute on function chat_list_visible(uuid, bigint, bigint, integer, text[]) to service_role;
revoke all on function chat_latest_message_id(uuid) from public, anon, authenticated;
grant execute on function chat_latest_message_id(uuid) to service_role;
revoke all on function chat_visitor_messages(uuid, text, bigint, integer) from public, anon, authenticated;
grant execute on function chat_visitor_messages(uuid, text, bigint, integer) to service_role;
revoke all on function chat_visitor_post(uuid, text, text, integer) from public, anon, authenticated;
grant execute on function chat_visitor_post(uuid, text, text, integer) to service_role;
revoke all on function chat_alert_collapse(bigint) from public, anon, authenticated;
grant execute on function chat_alert_collapse(bigint) to service_role;
revoke all on function chat_announce_message(uuid, bigint, text, bigint) from public, anon, authenticated;
grant execute on function chat_announce_message(uuid, bigint, text, bigint) to service_role;
revoke all on function chat_require_lead(uuid) from public, anon, authenticated;
grant execute on function chat_require_lead(uuid) to service_role;
revoke all on function chat_admin_messages(uuid, bigint, bigint, integer) from public, anon, authenticated;
grant execute on function chat_admin_messages(uuid, bigint, bigint, integer) to service_role;
revoke all on function chat_admin_reply(uuid, text, uuid, text) from public, anon, authenticated;
grant execute on function chat_admin_reply(uuid, text, uuid, text) to service_role;
revoke all on function chat_admin_mark_read(uuid, bigint, text) from public, anon, authenticated;
grant execute on function chat_admin_mark_read(uuid, bigint, text) to service_role;
revoke all on function chat_unread_counts(jsonb) from public, anon, authenticated;
grant execute on function chat_unread_counts(jsonb) to service_role;
