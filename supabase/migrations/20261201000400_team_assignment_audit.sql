-- leadrelay team (issue 12): members with their own access tokens, lead assignment,
-- SLA reassignment, returning leads, merge and the audit log.
--
-- Why this file exists: until now nobody owned a lead (alerts went to a channel), the
-- one shared admin key made every actor free text, and a visitor who wrote twice became
-- two leads. This migration adds the tables and the SQL functions behind those features.
--
-- How it is written:
-- * Runs on PostgreSQL 15 and PGlite (Postgres 18), safe to run twice: IF NOT EXISTS,
--   CREATE OR REPLACE, columns added one by one, nothing dropped except the one
--   function whose argument list grows (admin_list_leads, re-granted below).
-- * capture_lead and sweep_sla_breaches get a new overload with one more, required,
--   argument (p_options). Calls with the old named arguments still resolve to the old
--   functions unambiguously (the same pattern as beat_worker in 20261122000600), so
--   pgbench scripts and older callers keep today's behaviour.
-- * Settings (strategy, duplicate window, business-hours deadlines) arrive as
--   arguments from the application's config, and "now" is a parameter wherever a test
--   needs to drive the clock (working hours, the sweep, the waiting queue).
-- * New SQLSTATE: LR422 the request names something that cannot be used (no such
--   member, merging a lead into itself).

-- Tables ---------------------------------------------------------------------------
create table if not exists team_members (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  email text not null,
  role text not null check (role in ('admin', 'agent')),
  phone text,
  slack_user_id text,
  telegram_chat_id text,
  -- Most open leads (new, contacted, qualified) the member takes; null = no limit.
  capacity integer check (capacity is null or capacity >= 0),
  -- {"timezone": "Europe/Berlin", "days": {"mon": ["09:00", "18:00"], ...}}; null = always.
  working_hours jsonb,
  active boolean not null default true,
  -- SHA-256 (hex) of the access token; the token itself is never stored.
  token_hash text not null,
  -- The token's first characters, so an operator can tell tokens apart.
  token_hint text not null,
  token_rotated_at timestamptz not null default now(),
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index if not exists team_members_email_key on team_members (lower(email));
create unique index if not exists team_members_token_hash_key on team_members (token_hash);

alter table conversations add column if not exists assignee_id uuid references team_members (id);
alter table conversations add column if not exists assigned_at timestamptz;
-- Set while a lead waits for someone to become available; the queue is ordered by it.
alter table conversations add column if not exists assignment_waiting_since timestamptz;
-- A merged lead is a tombstone pointing at the lead it was merged into.
alter table conversations add column if not exists merged_into uuid references conversations (id);
alter table conversations add column if not exists sla_breach_count integer not null default 0;
-- The reassigned owner's own first-contact deadline; its miss is the second breach.
alter table conversations add column if not exists sla_escalation_due_at timestamptz;

-- Returning-lead lookups: open, unmerged leads by normalised contact (intake stores
-- emails lower-cased and phones in E.164, so the stored value is the normal form).
create index if not exists conversations_open_email_idx
  on conversations (customer_email, created_at desc)
  where merged_into is null and status in ('new', 'contacted', 'qualified');
create index if not exists conversations_open_phone_idx
  on conversations (customer_phone, created_at desc)
  where merged_into is null and status in ('new', 'contacted', 'qualified');
-- Capacity and least_open count a member's open leads.
create index if not exists conversations_assignee_open_idx
  on conversations (assignee_id)
  where merged_into is null and status in ('new', 'contacted', 'qualified');
create index if not exists conversations_assignee_created_idx
  on conversations (assignee_id, created_at desc, id desc);
create index if not exists conversations_waiting_idx
  on conversations (assignment_waiting_since, id)
  where assignment_waiting_since is not null;
create index if not exists conversations_sla_escalation_idx
  on conversations (sla_escalation_due_at)
  where sla_breach_count = 1 and first_response_at is null;

-- A returning visitor's later submissions: one row per submission after the first.
create table if not exists lead_inquiries (
  id bigint generated always as identity primary key,
  conversation_id uuid not null references conversations (id) on delete cascade,
  source text not null,
  customer_name text,
  intent text,
  message text,
  -- pageUrl and utm live here, as on conversations.
  metadata jsonb not null default '{}'::jsonb,
  idempotency_key text,
  idempotency_fingerprint text,
  created_at timestamptz not null default now()
);
create unique index if not exists lead_inquiries_idempotency_key_key on lead_inquiries (idempotency_key);
create index if not exists lead_inquiries_conversation_idx on lead_inquiries (conversation_id, created_at, id);

create table if not exists audit_logs (
  id bigint generated always as identity primary key,
  -- null for the owner (ADMIN_API_KEY).
  actor_id uuid,
  actor_name text not null,
  actor_role text not null check (actor_role in ('owner', 'admin', 'agent')),
  action text not null,
  resource_type text,
  resource_id text,
  status text not null check (status in ('success', 'failure')),
  http_status integer,
  -- Field names, codes and ids only: never secrets or raw contact data.
  details jsonb not null default '{}'::jsonb,
  client_ip text,
  request_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists audit_logs_created_idx on audit_logs (created_at desc, id desc);
create index if not exists audit_logs_actor_idx on audit_logs (actor_id, created_at desc, id desc);
create index if not exists audit_logs_action_idx on audit_logs (action, created_at desc, id desc);
create index if not exists audit_logs_failures_idx on audit_logs (created_at desc) where status = 'failure';

alter table team_members enable row level security;
alter table lead_inquiries enable row level security;
alter table audit_logs enable row level security;
revoke all on table team_members, lead_inquiries, audit_logs from public, anon, authenticated;
grant select, insert, update, delete on table team_members, lead_inquiries, audit_logs to service_role;
-- Supabase's default privileges grant new sequences to the API roles: take them back.
revoke all on sequence lead_inquiries_id_seq, audit_logs_id_seq from public, anon, authenticated;

-- The round-robin counter. A sequence, not a row: nextval never blocks and never
-- rolls back, so concurrent captures on any number of API instances each take the
-- next turn without waiting on one another's commits (a counter row would hold a lock
-- across every capture's commit flush and serialise intake).
create sequence if not exists team_round_robin_seq;
revoke all on sequence team_round_robin_seq from public, anon, authenticated;
grant usage on sequence team_round_robin_seq to service_role;

-- Members ------------------------------------------------------------------------------
-- The member as the API shows it: never the token hash.
create or replace function team_member_json(m team_members) returns jsonb
language sql stable as $$
  select case when m.id is null then null else jsonb_build_object(
    'id', m.id, 'name', m.name, 'email', m.email, 'role', m.role, 'phone', m.phone,
    'slackUserId', m.slack_user_id, 'telegramChatId', m.telegram_chat_id,
    'capacity', m.capacity, 'workingHours', m.working_hours, 'active', m.active,
    'tokenHint', m.token_hint, 'tokenRotatedAt', m.token_rotated_at, 'version', m.version,
    'openLeads', (select count(*) from conversations c
                   where c.assignee_id = m.id and c.merged_into is null
                     and c.status in ('new', 'contacted', 'qualified')),
    'createdAt', m.created_at, 'updatedAt', m.updated_at) end
$$;

-- The few fields an alert needs about an assignee (worker payloads).
create or replace function team_assignee_json(m team_members) returns jsonb
language sql stable as $$
  select case when m.id is null then null else jsonb_build_object(
    'id', m.id, 'name', m.name, 'email', m.email, 'slackUserId', m.slack_user_id,
    'telegramChatId', m.telegram_chat_id) end
$$;

-- Is a member inside their working hours at p_now? Their own time zone decides the
-- weekday and the wall-clock time (Postgres applies that zone's DST rules). A day
-- missing from `days` is a day off; no working_hours at all means always on.
create or replace function team_on_shift(p_hours jsonb, p_now timestamptz) returns boolean
language plpgsql stable as $$
declare
  v_local timestamp;
  v_window jsonb;
begin
  if p_hours is null or jsonb_typeof(p_hours) <> 'object' then
    return true;
  end if;
  v_local := p_now at time zone coalesce(p_hours->>'timezone', 'UTC');
  v_window := p_hours->'days'->((array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])
                                 [extract(dow from v_local)::int + 1]);
  if v_window is null or jsonb_typeof(v_window) <> 'array' then
    return false;
  end if;
  return v_local::time >= (v_window->>0)::time
     and (v_window->>1 = '24:00' or v_local::time < (v_window->>1)::time);
end
$$;

-- Who may take a lead at p_now: active, on shift and below capacity. The capacity
-- check counts at most `capacity` rows (LIMIT inside), so it costs the same however
-- many leads a member has closed.
create or replace function team_available_members(p_now timestamptz, p_exclude uuid default null)
returns setof team_members
language sql stable as $$
  select m.* from team_members m
   where m.active
     and (p_exclude is null or m.id <> p_exclude)
     and team_on_shift(m.working_hours, p_now)
     and (m.capacity is null or (
           select count(*) from (
             select 1 from conversations c
              where c.assignee_id = m.id and c.merged_into is null
                and c.status in ('new', 'contacted', 'qualified')
              limit m.capacity) open_leads) < m.capacity)
$$;

-- The next member for a lead, or a null row when nobody is available.
-- round_robin: the available members in a fixed order (id), and the turn is the next
-- value of team_round_robin_seq modulo how many are available. Concurrent captures
-- get consecutive values without blocking, so N leads over k members give each N/k
-- (rounded) whatever instances they arrive through. least_open: fewest open leads,
-- ties to the turn order; it counts every open lead, so it suits small teams.
create or replace function team_pick_member(
  p_strategy text, p_now timestamptz, p_exclude uuid default null
) returns team_members
language plpgsql as $$
declare
  v_ids uuid[];
  v_turn integer;
  v_member team_members%rowtype;
begin
  if p_strategy = 'none' then
    return v_member;
  end if;
  if p_strategy = 'least_open' then
    select a.* into v_member from team_available_members(p_now, p_exclude) a
     order by (select count(*) from conversations c
                where c.assignee_id = a.id and c.merged_into is null
                  and c.status in ('new', 'contacted', 'qualified')), a.id
     limit 1;
    return v_member;
  end if;
  select array_agg(a.id order by a.id) into v_ids from team_available_members(p_now, p_exclude) a;
  if v_ids is null then
    return v_member;
  end if;
  -- The turn is taken once, into a variable: inside the WHERE clause the volatile
  -- nextval() would run once per row scanned.
  v_turn := (nextval('team_round_robin_seq') % array_length(v_ids, 1))::int + 1;
  select * into v_member from team_members where id = v_ids[v_turn];
  return v_member;
end
$$;

-- Gives a lead to a member with its "Assigned to <name> (<why>)" timeline entry and
-- lead.assigned event, in the caller's transaction. The caller holds the lead's row.
create or replace function team_assign_lead(
  p_lead conversations, p_member team_members, p_why text, p_actor text, p_now timestamptz
) returns conversations
language plpgsql as $$
declare
  v_lead conversations%rowtype;
  v_previous team_members%rowtype;
begin
  select * into v_previous from team_members where id = p_lead.assignee_id;
  update conversations
     set assignee_id = p_member.id, assigned_to = p_member.name, assigned_at = p_now,
         assignment_waiting_since = null, version = version + 1, updated_at = now()
   where id = p_lead.id
   returning * into v_lead;
  insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
  values (p_lead.id, 'assigned', 'Assigned to ' || p_member.name || ' (' || p_why || ')',
          jsonb_build_object('from', p_lead.assignee_id, 'to', p_member.id, 'reason', p_why), p_actor);
  insert into lead_events (event_type, conversation_id, payload)
  values ('lead.assigned', p_lead.id, jsonb_build_object(
    'conversationId', p_lead.id, 'assignee', team_assignee_json(p_member),
    'previousAssignee', team_assignee_json(v_previous), 'reason', p_why, 'actor', p_actor));
  return v_lead;
end
$$;

-- The waiting queue: leads that arrived when nobody was available, assigned
-- longest-waiting first while someone is. Called after anything that can free a slot
-- (a lead closed, a member back or edited) and by every worker's sweep (shifts start
-- by the clock). SKIP LOCKED lets several callers drain at once without taking the
-- same lead; each lead is one short step, so a long queue never holds many locks.
create or replace function assign_waiting_leads(
  p_strategy text, p_now timestamptz default now(), p_limit integer default 100
) returns jsonb
language plpgsql as $$
declare
  v_lead conversations%rowtype;
  v_member team_members%rowtype;
  v_ids jsonb := '[]'::jsonb;
begin
  if p_strategy = 'none' then
    return jsonb_build_object('assigned', 0, 'ids', v_ids);
  end if;
  for i in 1 .. greatest(coalesce(p_limit, 100), 1) loop
    select * into v_lead from conversations
     where assignment_waiting_since is not null
     order by assignment_waiting_since, id
     limit 1
     for update skip locked;
    exit when not found;
    if v_lead.merged_into is not null or v_lead.status not in ('new', 'contacted', 'qualified')
       or v_lead.assignee_id is not null then
      update conversations set assignment_waiting_since = null where id = v_lead.id;
      continue;
    end if;
    v_member := team_pick_member(p_strategy, p_now);
    exit when v_member.id is null;
    perform team_assign_lead(v_lead, v_member,
      'waited since ' || to_char(v_lead.assignment_waiting_since at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC',
      'system', p_now);
    v_ids := v_ids || to_jsonb(v_lead.id);
  end loop;
  return jsonb_build_object('assigned', jsonb_array_length(v_ids), 'ids', v_ids);
end
$$;

-- Team administration ---------------------------------------------------------------------
-- The API hashes the token (SHA-256) and passes only the hash. LR409 on an email
-- already in the team (unique index).
create or replace function team_create_member(p_member jsonb, p_token_hash text, p_token_hint text)
returns jsonb
language plpgsql as $$
declare
  v_member team_members%rowtype;
begin
  insert into team_members (name, email, role, phone, slack_user_id, telegram_chat_id, capacity,
                            working_hours, active, token_hash, token_hint)
  values (p_member->>'name', p_member->>'email', p_member->>'role', p_member->>'phone',
          p_member->>'slackUserId', p_member->>'telegramChatId', (p_member->>'capacity')::integer,
          case when jsonb_typeof(p_member->'workingHours') = 'object' then p_member->'workingHours' end,
          coalesce((p_member->>'active')::boolean, true), p_token_hash, p_token_hint)
  returning * into v_member;
  return team_member_json(v_member);
exception when unique_violation then
  raise exception 'a team member with this email already exists' using errcode = 'LR409';
end
$$;

create or replace function team_list_members() returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(team_member_json(m) order by m.created_at, m.id), '[]'::jsonb)
    from team_members m
$$;

-- PATCH: only the keys present in p_patch change; a JSON null clears an optional field.
create or replace function team_update_member(p_id uuid, p_patch jsonb) returns jsonb
language plpgsql as $$
declare
  v_member team_members%rowtype;
begin
  select * into v_member from team_members where id = p_id for update;
  if not found then
    raise exception 'team member % not found', p_id using errcode = 'LR404';
  end if;
  update team_members set
    name = case when p_patch ? 'name' then p_patch->>'name' else name end,
    email = case when p_patch ? 'email' then p_patch->>'email' else email end,
    role = case when p_patch ? 'role' then p_patch->>'role' else role end,
    phone = case when p_patch ? 'phone' then p_patch->>'phone' else phone end,
    slack_user_id = case when p_patch ? 'slackUserId' then p_patch->>'slackUserId' else slack_user_id end,
    telegram_chat_id = case when p_patch ? 'telegramChatId' then p_patch->>'telegramChatId' else telegram_chat_id end,
    capacity = case when p_patch ? 'capacity' then (p_patch->>'capacity')::integer else capacity end,
    working_hours = case when p_patch ? 'workingHours'
                         then case when jsonb_typeof(p_patch->'workingHours') = 'object'
                                   then p_patch->'workingHours' end
                         else working_hours end,
    active = case when p_patch ? 'active' then (p_patch->>'active')::boolean else active end,
    version = version + 1,
    updated_at = now()
  where id = p_id
  returning * into v_member;
  return team_member_json(v_member);
exception when unique_violation then
  raise exception 'a team member with this email already exists' using errcode = 'LR409';
end
$$;

create or replace function team_rotate_token(p_id uuid, p_token_hash text, p_token_hint text)
returns jsonb
language plpgsql as $$
declare
  v_member team_members%rowtype;
begin
  update team_members
     set token_hash = p_token_hash, token_hint = p_token_hint, token_rotated_at = now(),
         version = version + 1, updated_at = now()
   where id = p_id
   returning * into v_member;
  if not found then
    raise exception 'team member % not found', p_id using errcode = 'LR404';
  end if;
  return team_member_json(v_member);
end
$$;

-- Sign-in: the member whose token hashes to p_token_hash, or null. An equality lookup
-- on a hash: the token never reaches the database and the index reveals nothing
-- about how close a guess was.
create or replace function team_authenticate(p_token_hash text) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', m.id, 'name', m.name, 'role', m.role, 'active', m.active)
    from team_members m where m.token_hash = p_token_hash
$$;

-- Capture with assignment and returning leads ----------------------------------------
-- The same transaction as capture_lead (lead, lead.created, timeline, task) plus:
-- * Returning leads: a submission whose email or phone matches an open, unmerged lead
--   created within duplicateWindowDays becomes a lead_inquiries row on that lead
--   ("Returned: ..." timeline entry, lead.returned event) instead of a second lead.
--   Concurrent submissions for the same contact are serialised by transaction-scoped
--   advisory locks on the hash of each normalised contact (taken in sorted order, so
--   two submissions sharing an email and a phone cannot deadlock); submissions for
--   other contacts never wait. The lock is held to commit, so the next same-contact
--   submission's lookup (read committed: a fresh snapshot per statement) sees the lead.
--   Idempotency keys are checked again under the lock: a concurrent repeat of the same
--   request that committed while we waited is a replay, not an inquiry.
-- * Assignment: waiting leads first (longest-waiting first), then the new lead gets
--   team_pick_member's choice, or waits in the queue when the team has active members
--   but none is available now.
-- p_options: {"assignment": "round_robin"|"least_open"|"none", "duplicateWindowDays": 30,
--             "slaDueAt": ISO time or null (business-hours deadline computed by the app),
--             "now": ISO time or null (the clock; the transaction's when null)}.
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
    select * into v_existing from conversations c
     where c.merged_into is null and c.status in ('new', 'contacted', 'qualified')
       and c.created_at >= v_now - make_interval(days => v_window)
       and ((v_email is not null and c.customer_email = v_email)
         or (v_phone is not null and c.customer_phone = v_phone))
     order by c.created_at desc
     limit 1
     for update;
    if found then
      return capture_returning_inquiry(v_existing, p_lead, p_idempotency_key, p_fingerprint);
    end if;
  end if;

  v_sla_due := coalesce((p_options->>'slaDueAt')::timestamptz, v_now + make_interval(mins => p_sla_minutes));

  -- Without an active team there is nobody to wait for: the lead is simply unowned
  -- (not queued, so a team added later does not inherit the whole history).
  if v_strategy <> 'none' and exists (select 1 from team_members where active) then
    if exists (select 1 from conversations where assignment_waiting_since is not null) then
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

-- The answer to a repeated idempotent request, whether its first answer was a new
-- lead or a returning inquiry; null when the key is new (or absent).
create or replace function capture_lead_find_replay(p_idempotency_key text, p_fingerprint text)
returns jsonb
language plpgsql stable as $$
declare
  v_existing conversations%rowtype;
  v_inquiry lead_inquiries%rowtype;
begin
  if p_idempotency_key is null then
    return null;
  end if;
  select * into v_existing from conversations where idempotency_key = p_idempotency_key;
  if found then
    return capture_lead_replay(v_existing, p_fingerprint) || jsonb_build_object('returning', false);
  end if;
  select * into v_inquiry from lead_inquiries where idempotency_key = p_idempotency_key;
  if found then
    if v_inquiry.idempotency_fingerprint is distinct from p_fingerprint then
      raise exception 'Idempotency-Key was already used with a different request body'
        using errcode = 'LR001';
    end if;
    return jsonb_build_object(
      'id', v_inquiry.conversation_id, 'eventId', null, 'created', false, 'returning', true,
      'replayed', true, 'inquiryId', v_inquiry.id, 'createdAt', v_inquiry.created_at, 'slaDueAt', null);
  end if;
  return null;
end
$$;

-- A returning visitor's submission on their open lead: inquiry, "Returned: ..." entry
-- and lead.returned (alerted to the lead's assignee), in the capture's transaction.
-- The lead's own fields, status and version are left alone: the dashboard's open
-- edit stays valid, and the inquiry is history beside it.
create or replace function capture_returning_inquiry(
  p_existing conversations, p_lead jsonb, p_idempotency_key text, p_fingerprint text
) returns jsonb
language plpgsql as $$
declare
  v_inquiry lead_inquiries%rowtype;
  v_event_id bigint;
  v_member team_members%rowtype;
  v_summary text := coalesce(nullif(left(p_lead->>'message', 80), ''), p_lead->>'intent', 'new inquiry');
begin
  insert into lead_inquiries (conversation_id, source, customer_name, intent, message, metadata,
                              idempotency_key, idempotency_fingerprint)
  values (p_existing.id, coalesce(p_lead->>'source', 'chatbot'), p_lead->>'customerName',
          p_lead->>'intent', p_lead->>'message', coalesce(p_lead->'metadata', '{}'::jsonb),
          p_idempotency_key, p_fingerprint)
  returning * into v_inquiry;
  select * into v_member from team_members where id = p_existing.assignee_id;
  insert into conversation_timeline (conversation_id, entry_type, title, details)
  values (p_existing.id, 'returned', 'Returned: ' || v_summary,
          jsonb_build_object('inquiryId', v_inquiry.id, 'source', v_inquiry.source,
                             'intent', v_inquiry.intent));
  insert into lead_events (event_type, conversation_id, payload)
  values ('lead.returned', p_existing.id, jsonb_build_object(
    'conversationId', p_existing.id,
    'inquiryId', v_inquiry.id,
    'customerName', coalesce(p_lead->>'customerName', p_existing.customer_name),
    'customerPhone', coalesce(p_existing.customer_phone, p_lead->>'customerPhone'),
    'customerEmail', coalesce(p_existing.customer_email, p_lead->>'customerEmail'),
    'intent', p_lead->>'intent',
    'message', p_lead->>'message',
    'source', v_inquiry.source,
    'createdAt', v_inquiry.created_at,
    'firstSeenAt', p_existing.created_at,
    'assignee', team_assignee_json(v_member)))
  returning id into v_event_id;
  update conversations set updated_at = now() where id = p_existing.id;
  return jsonb_build_object(
    'id', p_existing.id, 'eventId', v_event_id, 'created', false, 'returning', true,
    'replayed', false, 'inquiryId', v_inquiry.id, 'createdAt', p_existing.created_at,
    'slaDueAt', p_existing.sla_due_at, 'assigneeId', p_existing.assignee_id);
end
$$;

-- Wakes the workers for any event written after commit (returned, assigned, ...) and
-- tells dashboards the lead changed. Writes nothing (see announce_lead_created).
create or replace function announce_lead_event(p_event_id bigint, p_conversation_id uuid)
returns jsonb
language plpgsql as $$
begin
  perform pg_notify('lead_events', p_event_id::text);
  perform pg_notify('leadrelay_admin', json_build_object('kind', 'lead.updated', 'id', p_conversation_id)::text);
  return jsonb_build_object('announced', true);
end
$$;

-- SLA sweep with reassignment -------------------------------------------------------------
-- As sweep_sla_breaches(p_now, p_limit) in 20261122000300 (SKIP LOCKED, one event per
-- breach through a unique dedupe_key), plus:
-- * first breach ('sla:<id>'): when reassignOnBreach and someone else is available,
--   the lead moves to them (timeline + lead.assigned) and they get their own deadline
--   (escalationDueAt, a business-hours time the app computes from p_now). The alert
--   names who had it and who has it now.
-- * second breach ('sla2:<id>'): the new owner missed their deadline too; it escalates
--   again and stays where it is (sla_breach_count 2: never a third time).
-- Merged tombstones are never swept.
-- p_options: {"reassignOnBreach": true, "assignment": "round_robin", "escalationDueAt": ISO}.
-- p_options comes first because it is the one argument without a default (named
-- calls do not care about order; a call without p_options still finds the old sweep).
create or replace function sweep_sla_breaches(
  p_options jsonb, p_now timestamptz default now(), p_limit integer default 500
) returns jsonb
language plpgsql as $$
declare
  v_reassign boolean := coalesce((p_options->>'reassignOnBreach')::boolean, true);
  v_strategy text := coalesce(p_options->>'assignment', 'round_robin');
  v_second_due timestamptz := coalesce((p_options->>'escalationDueAt')::timestamptz,
                                       p_now + interval '5 minutes');
  v_limit integer := greatest(coalesce(p_limit, 500), 1);
  v_lead conversations%rowtype;
  v_previous team_members%rowtype;
  v_member team_members%rowtype;
  v_owner team_members%rowtype;
  v_event_id bigint;
  v_ids jsonb := '[]'::jsonb;
  v_reassigned integer := 0;
begin
  for v_lead in
    with due as (
      select id from conversations
       where sla_breached = false and first_response_at is null and status = 'new'
         and merged_into is null and sla_due_at <= p_now
       order by sla_due_at
       limit v_limit
       for update skip locked
    )
    update conversations c set sla_breached = true, sla_breach_count = 1, updated_at = now()
      from due where c.id = due.id
    returning c.*
  loop
    v_ids := v_ids || to_jsonb(v_lead.id);
    select * into v_previous from team_members where id = v_lead.assignee_id;
    v_member := null;
    if v_reassign and v_strategy <> 'none' then
      v_member := team_pick_member(v_strategy, p_now, v_lead.assignee_id);
    end if;
    insert into conversation_timeline (conversation_id, entry_type, title, details)
    values (v_lead.id, 'sla_breached', 'SLA breached',
            jsonb_build_object('slaDueAt', v_lead.sla_due_at, 'detectedAt', p_now, 'breach', 1,
                               'previousAssignee', v_previous.id,
                               'assignee', coalesce(v_member.id, v_previous.id)));
    v_owner := v_previous;
    if v_member.id is not null then
      v_lead := team_assign_lead(v_lead, v_member, 'SLA breach reassignment', 'system', p_now);
      update conversations set sla_escalation_due_at = v_second_due where id = v_lead.id;
      v_reassigned := v_reassigned + 1;
      v_owner := v_member;
    end if;
    insert into lead_events (event_type, conversation_id, payload, dedupe_key)
    values ('lead.sla_breached', v_lead.id,
            sla_breach_payload(v_lead, 1, v_previous, v_owner, v_member.id is not null),
            'sla:' || v_lead.id)
    on conflict (dedupe_key) do nothing
    returning id into v_event_id;
    if v_event_id is not null then
      perform pg_notify('lead_events', v_event_id::text);
    end if;
  end loop;

  for v_lead in
    with due as (
      select id from conversations
       where sla_breach_count = 1 and first_response_at is null and status = 'new'
         and merged_into is null and sla_escalation_due_at <= p_now
       order by sla_escalation_due_at
       limit v_limit
       for update skip locked
    )
    update conversations c set sla_breach_count = 2, updated_at = now()
      from due where c.id = due.id
    returning c.*
  loop
    v_ids := v_ids || to_jsonb(v_lead.id);
    select * into v_member from team_members where id = v_lead.assignee_id;
    insert into conversation_timeline (conversation_id, entry_type, title, details)
    values (v_lead.id, 'sla_breached', 'SLA breached again',
            jsonb_build_object('slaDueAt', v_lead.sla_escalation_due_at, 'detectedAt', p_now,
                               'breach', 2, 'assignee', v_member.id));
    insert into lead_events (event_type, conversation_id, payload, dedupe_key)
    values ('lead.sla_breached', v_lead.id,
            sla_breach_payload(v_lead, 2, v_member, v_member, false)
              || jsonb_build_object('slaDueAt', v_lead.sla_escalation_due_at),
            'sla2:' || v_lead.id)
    on conflict (dedupe_key) do nothing
    returning id into v_event_id;
    if v_event_id is not null then
      perform pg_notify('lead_events', v_event_id::text);
    end if;
  end loop;
  return jsonb_build_object('breached', jsonb_array_length(v_ids), 'ids', v_ids, 'reassigned', v_reassigned);
end
$$;

-- The escalation alert's payload: the lead as in lead.created, its deadline, which
-- breach this is, and who had it and who has it now.
create or replace function sla_breach_payload(
  p_lead conversations, p_breach integer, p_previous team_members, p_assignee team_members,
  p_reassigned boolean
) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'conversationId', p_lead.id,
    'customerName', p_lead.customer_name,
    'customerPhone', p_lead.customer_phone,
    'customerEmail', p_lead.customer_email,
    'intent', p_lead.intent,
    'message', p_lead.message,
    'source', p_lead.source,
    'createdAt', p_lead.created_at,
    'slaDueAt', p_lead.sla_due_at,
    'breach', p_breach,
    'reassigned', p_reassigned,
    'previousAssignee', team_assignee_json(p_previous),
    'assignee', team_assignee_json(p_assignee))
$$;

-- Admin: leads with their assignee -------------------------------------------------------
-- assignedTo is now a team member's id (the legacy free-text column assigned_to keeps
-- the member's name for exports made before); assignee carries the name to show.
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
    'assignedTo', c.assignee_id,
    'assignee', (select jsonb_build_object('id', m.id, 'name', m.name)
                   from team_members m where m.id = c.assignee_id),
    'assignedAt', c.assigned_at,
    'waitingSince', c.assignment_waiting_since,
    'mergedInto', c.merged_into,
    'slaDueAt', c.sla_due_at,
    'slaBreached', c.sla_breached,
    'slaBreachCount', c.sla_breach_count,
    'firstResponseAt', c.first_response_at,
    'version', c.version,
    'createdAt', c.created_at,
    'updatedAt', c.updated_at
  )
$$;

-- The list gains the assignee filter (a member's id, or p_unassigned) and hides merged
-- tombstones. The argument list grows, so the old function is dropped first (a second
-- overload with defaults would make every named call ambiguous) and re-granted below.
-- Otherwise as in 20261122000310: dynamic SQL so each call is planned with only the
-- filters it has, values bound with USING, keyset on (created_at, id).
drop function if exists admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer);
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
  p_limit integer default 50,
  p_assignee uuid default null,
  p_unassigned boolean default null
) returns jsonb
language plpgsql stable as $$
declare
  v_where text[] := array['c.merged_into is null'];
  v_limit integer := least(greatest(coalesce(p_limit, 50), 1), 1000);
  v_pattern text;
  v_rows jsonb;
  v_count integer;
begin
  if p_status is not null then v_where := array_append(v_where, 'c.status = $1'); end if;
  if p_intent is not null then v_where := array_append(v_where, 'c.intent = $2'); end if;
  if p_source is not null then v_where := array_append(v_where, 'c.source = $3'); end if;
  if p_sla_breached is not null then v_where := array_append(v_where, 'c.sla_breached = $4'); end if;
  if p_q is not null and length(trim(p_q)) > 0 then
    v_pattern := '%' || replace(replace(replace(trim(p_q), '\', '\\'), '%', '\%'), '_', '\_') || '%';
    v_where := array_append(v_where,
      '(coalesce(c.customer_name, '''') || '' '' || coalesce(c.customer_email, '''') || '' ''
        || coalesce(c.customer_phone, '''')) ilike $5');
  end if;
  if p_created_from is not null then v_where := array_append(v_where, 'c.created_at >= $6'); end if;
  if p_created_to is not null then v_where := array_append(v_where, 'c.created_at < $7'); end if;
  if p_after_created_at is not null and p_after_id is not null then
    v_where := array_append(v_where, '(c.created_at, c.id) < ($8, $9)');
  end if;
  if p_assignee is not null then v_where := array_append(v_where, 'c.assignee_id = $11'); end if;
  if p_unassigned then v_where := array_append(v_where, 'c.assignee_id is null'); end if;

  execute format(
    'select coalesce(jsonb_agg(admin_lead_json(p) order by p.created_at desc, p.id desc), ''[]''::jsonb),
            count(*)
       from (select c.* from conversations c where %s
              order by c.created_at desc, c.id desc limit $10) p',
    array_to_string(v_where, ' and ')
  )
  into v_rows, v_count
  using p_status, p_intent, p_source, p_sla_breached, v_pattern, p_created_from, p_created_to,
        p_after_created_at, p_after_id, v_limit + 1, p_assignee;

  if v_count <= v_limit then
    return jsonb_build_object('items', v_rows, 'next', null);
  end if;
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

-- Lead detail as in 20261122000300, plus its inquiries (the first submission is the
-- lead itself) and the events and notifications of leads merged into it: outbox rows
-- are append-only, so a merge leaves them on their event and the survivor shows them.
create or replace function admin_get_lead(p_id uuid) returns jsonb
language plpgsql stable as $$
declare
  v_lead conversations%rowtype;
  v_ids uuid[];
begin
  select * into v_lead from conversations where id = p_id;
  if not found then
    raise exception 'lead % not found', p_id using errcode = 'LR404';
  end if;
  select array_agg(id) into v_ids from conversations where id = p_id or merged_into = p_id;
  return jsonb_build_object(
    'lead', admin_lead_json(v_lead),
    'inquiries', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', i.id, 'source', i.source, 'customerName', i.customer_name, 'intent', i.intent,
               'message', i.message, 'metadata', i.metadata, 'createdAt', i.created_at)
               order by i.created_at, i.id)
        from lead_inquiries i where i.conversation_id = p_id), '[]'::jsonb),
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
               'id', e.id, 'type', e.event_type, 'conversationId', e.conversation_id,
               'processed', e.processed, 'outcome', e.outcome,
               'attempts', e.attempts, 'nextAttemptAt', e.next_attempt_at, 'lastError', e.last_error,
               'createdAt', e.created_at, 'processedAt', e.processed_at) order by e.id)
        from lead_events e where e.conversation_id = any(v_ids)), '[]'::jsonb),
    'notifications', coalesce((
      select jsonb_agg(jsonb_build_object(
               'id', n.id, 'eventId', n.event_id, 'eventType', e.event_type, 'channel', n.channel,
               'status', n.status, 'attempt', n.attempt, 'error', n.error,
               'providerStatus', n.provider_status, 'durationMs', n.duration_ms,
               'createdAt', n.created_at) order by n.created_at desc, n.id desc)
        from notification_logs n join lead_events e on e.id = n.event_id
       where e.conversation_id = any(v_ids)), '[]'::jsonb)
  );
end
$$;

-- Admin update as in 20261122000300, with assignment by member id: p_assigned_to is a
-- team member's id (LR422 when it names nobody) and a manual assignment writes the
-- same "Assigned to <name> (manual)" entry and lead.assigned event as automatic ones.
-- p_actor is the signed-in member's name, set by the API, never by the request body.
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
  v_member team_members%rowtype;
  v_changed boolean := false;
  v_now timestamptz := now();
begin
  v_lead := admin_lock_lead(p_id, p_expected_version);

  if p_assign and p_assigned_to is not null then
    if p_assigned_to !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
      raise exception 'assignedTo must be a team member id' using errcode = 'LR422';
    end if;
    select * into v_member from team_members where id = p_assigned_to::uuid;
    if not found then
      raise exception 'assignedTo names no team member' using errcode = 'LR422';
    end if;
  end if;

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

  if v_changed then
    update conversations
       set status = v_lead.status, first_response_at = v_lead.first_response_at,
           version = version + 1, updated_at = v_now
     where id = p_id
     returning * into v_lead;
  end if;

  if p_assign and p_assigned_to is null and v_lead.assignee_id is not null then
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (p_id, 'assigned', 'Unassigned', jsonb_build_object('from', v_lead.assignee_id, 'to', null), p_actor);
    update conversations
       set assignee_id = null, assigned_to = null, assigned_at = null, assignment_waiting_since = null,
           version = case when v_changed then version else version + 1 end, updated_at = v_now
     where id = p_id
     returning * into v_lead;
    v_changed := true;
  elsif p_assign and v_member.id is not null and v_member.id is distinct from v_lead.assignee_id then
    if v_changed then
      -- team_assign_lead bumps the version; keep one bump per PATCH.
      update conversations set version = version - 1 where id = p_id returning * into v_lead;
    end if;
    v_lead := team_assign_lead(v_lead, v_member, 'manual', p_actor, v_now);
    v_changed := true;
  end if;

  if p_note is not null and length(trim(p_note)) > 0 then
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    values (p_id, 'note', 'Note added', jsonb_build_object('note', p_note), p_actor);
    if not v_changed then
      update conversations set version = version + 1, updated_at = v_now where id = p_id
       returning * into v_lead;
    end if;
    v_changed := true;
  end if;
  return jsonb_build_object('lead', admin_lead_json(v_lead), 'changed', v_changed);
end
$$;

-- Merge --------------------------------------------------------------------------------
-- Moves p_from's inquiries, timeline and tasks onto p_id; p_from's first submission
-- becomes an inquiry of p_id; p_from is left as a tombstone (merged_into = p_id). Its
-- outbox events and notification attempts stay on their rows (append-only) and are
-- shown on the survivor through merged_into. Both leads are locked in id order, so two
-- merges of the same pair cannot deadlock. The dry run counts the same rows and
-- changes nothing.
create or replace function admin_merge_leads(
  p_id uuid, p_from uuid, p_dry_run boolean default true, p_actor text default 'admin'
) returns jsonb
language plpgsql as $$
declare
  v_target conversations%rowtype;
  v_from conversations%rowtype;
  v_moves jsonb;
begin
  if p_id = p_from then
    raise exception 'a lead cannot be merged into itself' using errcode = 'LR422';
  end if;
  perform 1 from conversations where id in (p_id, p_from) order by id for update;
  select * into v_target from conversations where id = p_id;
  if not found then raise exception 'lead % not found', p_id using errcode = 'LR404'; end if;
  select * into v_from from conversations where id = p_from;
  if not found then raise exception 'lead % not found', p_from using errcode = 'LR404'; end if;
  if v_target.merged_into is not null or v_from.merged_into is not null then
    raise exception 'a merged lead cannot be merged again' using errcode = 'LR409';
  end if;

  v_moves := jsonb_build_object(
    'inquiries', 1 + (select count(*) from lead_inquiries where conversation_id = p_from),
    'timeline', (select count(*) from conversation_timeline where conversation_id = p_from),
    'tasks', (select count(*) from follow_up_tasks where conversation_id = p_from),
    'events', (select count(*) from lead_events where conversation_id = p_from),
    'notifications', (select count(*) from notification_logs n join lead_events e on e.id = n.event_id
                       where e.conversation_id = p_from));
  if p_dry_run then
    return jsonb_build_object('dryRun', true, 'id', p_id, 'from', p_from, 'moves', v_moves);
  end if;

  insert into lead_inquiries (conversation_id, source, customer_name, intent, message, metadata, created_at)
  values (p_id, v_from.source, v_from.customer_name, v_from.intent, v_from.message,
          v_from.metadata || jsonb_build_object('mergedFrom', p_from), v_from.created_at);
  update lead_inquiries set conversation_id = p_id where conversation_id = p_from;
  update conversation_timeline set conversation_id = p_id where conversation_id = p_from;
  update follow_up_tasks set conversation_id = p_id where conversation_id = p_from;
  update conversations
     set customer_email = coalesce(customer_email, v_from.customer_email),
         customer_phone = coalesce(customer_phone, v_from.customer_phone),
         version = version + 1, updated_at = now()
   where id = p_id;
  update conversations
     set merged_into = p_id, assignment_waiting_since = null, version = version + 1, updated_at = now()
   where id = p_from;
  insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
  values (p_id, 'merged', 'Merged ' || coalesce(v_from.customer_name, 'a lead') || ' into this lead',
          jsonb_build_object('from', p_from, 'moves', v_moves), p_actor);
  insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
  values (p_from, 'merged', 'Merged into another lead', jsonb_build_object('into', p_id), p_actor);
  return jsonb_build_object('dryRun', false, 'id', p_id, 'from', p_from, 'moves', v_moves);
end
$$;

-- Audit log ----------------------------------------------------------------------------
-- One row per admin mutation, written by the API for every outcome (refusals too).
create or replace function audit_record(p_entry jsonb) returns jsonb
language plpgsql as $$
declare
  v_id bigint;
begin
  insert into audit_logs (actor_id, actor_name, actor_role, action, resource_type, resource_id,
                          status, http_status, details, client_ip, request_id)
  values ((p_entry->>'actorId')::uuid, p_entry->>'actorName', p_entry->>'actorRole', p_entry->>'action',
          p_entry->>'resourceType', p_entry->>'resourceId', p_entry->>'status',
          (p_entry->>'httpStatus')::integer, coalesce(p_entry->'details', '{}'::jsonb),
          p_entry->>'clientIp', p_entry->>'requestId')
  returning id into v_id;
  return jsonb_build_object('id', v_id);
end
$$;

-- Newest first, keyset on (created_at, id) like the lead list; filters by actor,
-- action (exact, or a prefix ending in '.') and time.
create or replace function admin_list_audit(
  p_actor_id uuid default null,
  p_action text default null,
  p_status text default null,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_before_created_at timestamptz default null,
  p_before_id bigint default null,
  p_limit integer default 50
) returns jsonb
language plpgsql stable as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 50), 1), 500);
  v_rows jsonb;
begin
  select coalesce(jsonb_agg(r.j order by r.created_at desc, r.id desc), '[]'::jsonb) into v_rows
    from (
      select a.id, a.created_at, jsonb_build_object(
               'id', a.id, 'actorId', a.actor_id, 'actorName', a.actor_name, 'actorRole', a.actor_role,
               'action', a.action, 'resourceType', a.resource_type, 'resourceId', a.resource_id,
               'status', a.status, 'httpStatus', a.http_status, 'details', a.details,
               'clientIp', a.client_ip, 'requestId', a.request_id,
               'createdAt', a.created_at, 'updatedAt', a.updated_at) as j
        from audit_logs a
       where (p_actor_id is null or a.actor_id = p_actor_id)
         and (p_action is null or a.action = p_action
              or (right(p_action, 1) = '.' and a.action like replace(p_action, '_', '\_') || '%'))
         and (p_status is null or a.status = p_status)
         and (p_from is null or a.created_at >= p_from)
         and (p_to is null or a.created_at < p_to)
         and (p_before_created_at is null or (a.created_at, a.id) < (p_before_created_at, p_before_id))
       order by a.created_at desc, a.id desc
       limit v_limit + 1
    ) r;
  if jsonb_array_length(v_rows) <= v_limit then
    return jsonb_build_object('items', v_rows, 'next', null);
  end if;
  v_rows := v_rows - v_limit;
  return jsonb_build_object('items', v_rows, 'next', jsonb_build_object(
    'createdAt', v_rows -> (v_limit - 1) -> 'createdAt', 'id', v_rows -> (v_limit - 1) -> 'id'));
end
$$;

-- Privileges -----------------------------------------------------------------------------
-- Called by the storage layer: service_role only.
revoke all on function team_create_member(jsonb, text, text) from public, anon, authenticated;
revoke all on function team_list_members() from public, anon, authenticated;
revoke all on function team_update_member(uuid, jsonb) from public, anon, authenticated;
revoke all on function team_rotate_token(uuid, text, text) from public, anon, authenticated;
revoke all on function team_authenticate(text) from public, anon, authenticated;
revoke all on function assign_waiting_leads(text, timestamptz, integer) from public, anon, authenticated;
revoke all on function capture_lead(jsonb, text, text, integer, jsonb) from public, anon, authenticated;
revoke all on function announce_lead_event(bigint, uuid) from public, anon, authenticated;
revoke all on function sweep_sla_breaches(jsonb, timestamptz, integer) from public, anon, authenticated;
revoke all on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer, uuid, boolean) from public, anon, authenticated;
revoke all on function admin_merge_leads(uuid, uuid, boolean, text) from public, anon, authenticated;
revoke all on function audit_record(jsonb) from public, anon, authenticated;
revoke all on function admin_list_audit(uuid, text, text, timestamptz, timestamptz, timestamptz, bigint, integer)
  from public, anon, authenticated;
grant execute on function team_create_member(jsonb, text, text) to service_role;
grant execute on function team_list_members() to service_role;
grant execute on function team_update_member(uuid, jsonb) to service_role;
grant execute on function team_rotate_token(uuid, text, text) to service_role;
grant execute on function team_authenticate(text) to service_role;
grant execute on function assign_waiting_leads(text, timestamptz, integer) to service_role;
grant execute on function capture_lead(jsonb, text, text, integer, jsonb) to service_role;
grant execute on function announce_lead_event(bigint, uuid) to service_role;
grant execute on function sweep_sla_breaches(jsonb, timestamptz, integer) to service_role;
grant execute on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer, uuid, boolean) to service_role;
grant execute on function admin_merge_leads(uuid, uuid, boolean, text) to service_role;
grant execute on function audit_record(jsonb) to service_role;
grant execute on function admin_list_audit(uuid, text, text, timestamptz, timestamptz, timestamptz, bigint, integer)
  to service_role;

-- Internal helpers, called only from the functions above. They are granted to
-- service_role too: these functions run with the caller's rights (security invoker),
-- and Postgres checks EXECUTE on every nested call, so without the grant a capture by
-- service_role (Supabase rpc) would fail on its first helper.
revoke all on function team_member_json(team_members) from public, anon, authenticated;
revoke all on function team_assignee_json(team_members) from public, anon, authenticated;
revoke all on function team_on_shift(jsonb, timestamptz) from public, anon, authenticated;
revoke all on function team_available_members(timestamptz, uuid) from public, anon, authenticated;
revoke all on function team_pick_member(text, timestamptz, uuid) from public, anon, authenticated;
revoke all on function team_assign_lead(conversations, team_members, text, text, timestamptz)
  from public, anon, authenticated;
revoke all on function capture_lead_find_replay(text, text) from public, anon, authenticated;
revoke all on function capture_returning_inquiry(conversations, jsonb, text, text) from public, anon, authenticated;
revoke all on function sla_breach_payload(conversations, integer, team_members, team_members, boolean)
  from public, anon, authenticated;

grant execute on function team_member_json(team_members) to service_role;
grant execute on function team_assignee_json(team_members) to service_role;
grant execute on function team_on_shift(jsonb, timestamptz) to service_role;
grant execute on function team_available_members(timestamptz, uuid) to service_role;
grant execute on function team_pick_member(text, timestamptz, uuid) to service_role;
grant execute on function team_assign_lead(conversations, team_members, text, text, timestamptz) to service_role;
grant execute on function capture_lead_find_replay(text, text) to service_role;
grant execute on function capture_returning_inquiry(conversations, jsonb, text, text) to service_role;
grant execute on function sla_breach_payload(conversations, integer, team_members, team_members, boolean) to service_role;
