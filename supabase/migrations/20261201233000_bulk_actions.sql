-- leadrelay bulk actions (issue 15): change thousands of leads at once, with a dry run,
-- progress, conflict detection and undo; archive as a soft delete; tags on leads.
--
-- Why this file exists: until now a lead changed one PATCH at a time. An admin who
-- wants 5,000 leads "lost" needs one tracked action that a worker applies in batches,
-- survives a crash half-way, never overwrites a lead someone else changed meanwhile,
-- and can be taken back.
--
-- How it is written:
-- * Runs on PostgreSQL 15 and PGlite (Postgres 18), safe to run twice (IF NOT EXISTS,
--   CREATE OR REPLACE, columns one by one). admin_list_leads gains an argument, so its
--   old signature is dropped first and re-granted below (as in 20261201000400).
-- * The snapshot: creating an action writes one bulk_action_items row per target lead
--   with the lead's version at that moment. A batch changes a lead only if its version
--   is still that one (optimistic concurrency, as PATCH does with `version`); otherwise
--   the lead is skipped as a conflict. Every change bumps the version by exactly one,
--   so the item's after_version (snapshot + 1) records the version it left.
-- * One batch = one call of bulk_run_batch = one transaction: its items' outcomes, the
--   lead changes, timeline entries and outbox events, and the action's cursor
--   (next_seq) commit together or not at all. A crash before the commit leaves the
--   cursor where it was and nothing applied; after it, the batch is never run again.
-- * Claims use a lease like the outbox (locked_by, locked_until): a worker that dies
--   stops renewing it and another takes the action over where the cursor stands; a
--   worker whose lease was taken over finds locked_by changed and stops ("lost").
-- * Leads of a batch are locked in id order (FOR UPDATE), so two bulk actions and a
--   merge (which also locks in id order) cannot deadlock; a single-lead PATCH holds one
--   row and either commits first (the batch then sees a new version: conflict) or waits.
-- * Bulk changes mark their lead_events payloads `"bulk": true`: the worker gives
--   those to webhooks and the CRM, never to the team's chat channels. The per-row
--   admin feed trigger stays quiet inside a batch (transaction-local setting
--   leadrelay.bulk); each batch sends one `bulk.progress` message instead.
-- * Follows 20261201225300_erasure_erase_lead: targets leave erased tombstones out,
--   and the erase action calls its erase_lead per lead.
-- * New SQLSTATE: none; LR404, LR409 (state does not allow it), LR422 (bad params).

-- Leads: tags and the archive (soft delete) ------------------------------------------
alter table conversations add column if not exists tags text[] not null default '{}';
-- Set when archived: hidden from the list and exports unless asked for (archived=...).
alter table conversations add column if not exists archived_at timestamptz;
create index if not exists conversations_archived_idx
  on conversations (archived_at desc) where archived_at is not null;

-- Tables -----------------------------------------------------------------------------
create table if not exists bulk_actions (
  id uuid primary key default gen_random_uuid(),
  -- set_status, assign, add_tag, remove_tag, archive, erase, or undo (of undo_of).
  kind text not null check (kind in ('set_status', 'assign', 'add_tag', 'remove_tag', 'archive', 'erase', 'undo')),
  -- The action that is applied: kind itself, or for an undo the action it takes back.
  action text not null,
  params jsonb not null default '{}'::jsonb,
  -- As requested: {"ids": [...]} or {"filter": {...}} (for the record; items are the snapshot).
  target jsonb not null default '{}'::jsonb,
  undo_of uuid references bulk_actions (id),
  undone_by uuid references bulk_actions (id),
  status text not null default 'queued'
    check (status in ('queued', 'running', 'completed', 'failed', 'undone')),
  total integer not null default 0,
  -- Items are numbered 1..total; a batch takes next_seq .. next_seq + size - 1.
  next_seq integer not null default 1,
  processed integer not null default 0,
  skipped integer not null default 0,
  -- {"conflict": n, "unchanged": n, "missing": n}
  skip_reasons jsonb not null default '{}'::jsonb,
  failed integer not null default 0,
  -- Failed attempts of the current batch (reset by a batch that commits).
  attempts integer not null default 0,
  error text,
  actor_id uuid,
  actor_name text not null,
  actor_role text not null,
  undo_days integer not null default 7,
  locked_by text,
  locked_until timestamptz,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  progressed_at timestamptz,
  finished_at timestamptz,
  undo_expires_at timestamptz,
  -- When `leadrelay cleanup` removed the per-lead undo data (after undo_expires_at).
  undo_purged_at timestamptz,
  updated_at timestamptz not null default now()
);
create index if not exists bulk_actions_created_idx on bulk_actions (created_at desc, id desc);
create index if not exists bulk_actions_open_idx on bulk_actions (created_at)
  where status in ('queued', 'running');

-- The snapshot, one row per target lead, and what happened to it.
create table if not exists bulk_action_items (
  action_id uuid not null references bulk_actions (id) on delete cascade,
  seq integer not null,
  conversation_id uuid not null,
  snapshot_version integer not null,
  -- null while pending; changed or skipped (reason: conflict, unchanged, missing).
  state text check (state in ('changed', 'skipped')),
  reason text,
  -- The previous values of exactly the fields the action changed (undo restores them).
  before jsonb,
  after_version integer,
  primary key (action_id, seq)
);
create index if not exists bulk_action_items_conversation_idx on bulk_action_items (conversation_id);

alter table bulk_actions enable row level security;
alter table bulk_action_items enable row level security;
revoke all on table bulk_actions, bulk_action_items from public, anon, authenticated;
grant select, insert, update, delete on table bulk_actions, bulk_action_items to service_role;

-- Admin lead JSON: as in 20261201000400, plus tags and archivedAt ----------------------
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
    'tags', to_jsonb(c.tags),
    'archivedAt', c.archived_at,
    'version', c.version,
    'createdAt', c.created_at,
    'updatedAt', c.updated_at
  )
$$;

-- The lead list as in 20261201000400, plus p_archived: null hides archived leads,
-- 'only' lists only them, 'include' lists both.
drop function if exists admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer, uuid, boolean);
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
  p_unassigned boolean default null,
  p_archived text default null
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
  if p_archived = 'only' then
    v_where := array_append(v_where, 'c.archived_at is not null');
  elsif p_archived is distinct from 'include' then
    v_where := array_append(v_where, 'c.archived_at is null');
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

-- The admin feed trigger of 20261122000300, quiet inside a bulk batch: one batch
-- changes up to BULK_BATCH_SIZE leads and announces itself once (bulk.progress).
create or replace function admin_notify_lead_change() returns trigger
language plpgsql as $$
begin
  if coalesce(current_setting('leadrelay.bulk', true), '') = 'on' then
    return null;
  end if;
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

-- Targets ------------------------------------------------------------------------------
-- The leads a target names: {"ids": [...]} (merged and erased tombstones left out) or
-- {"filter": {...}} with the lead list's filters (same meaning as admin_list_leads:
-- status, intent, source, slaBreached, q, createdFrom, createdTo, assigneeId,
-- unassigned, archived = only | include; archived leads are left out otherwise).
create or replace function bulk_matching_leads(p_target jsonb) returns setof conversations
language plpgsql stable as $$
declare
  f jsonb := coalesce(p_target->'filter', '{}'::jsonb);
  v_pattern text;
begin
  if p_target ? 'ids' then
    return query
      select c.* from conversations c
       where c.id in (select value::uuid from jsonb_array_elements_text(p_target->'ids'))
         and c.merged_into is null and c.erased_at is null;
    return;
  end if;
  if length(trim(coalesce(f->>'q', ''))) > 0 then
    v_pattern := '%' || replace(replace(replace(trim(f->>'q'), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  end if;
  return query
    select c.* from conversations c
     where c.merged_into is null and c.erased_at is null
       and (f->>'status' is null or c.status = f->>'status')
       and (f->>'intent' is null or c.intent = f->>'intent')
       and (f->>'source' is null or c.source = f->>'source')
       and (f->>'slaBreached' is null or c.sla_breached = (f->>'slaBreached')::boolean)
       and (v_pattern is null or (coalesce(c.customer_name, '') || ' ' || coalesce(c.customer_email, '') || ' '
              || coalesce(c.customer_phone, '')) ilike v_pattern)
       and (f->>'createdFrom' is null or c.created_at >= (f->>'createdFrom')::timestamptz)
       and (f->>'createdTo' is null or c.created_at < (f->>'createdTo')::timestamptz)
       and (f->>'assigneeId' is null or c.assignee_id = (f->>'assigneeId')::uuid)
       and (coalesce((f->>'unassigned')::boolean, false) = false or c.assignee_id is null)
       and case f->>'archived' when 'only' then c.archived_at is not null
                               when 'include' then true
                               else c.archived_at is null end;
end
$$;

-- How many leads a target names: the dashboard's "select all N matching this filter".
create or replace function bulk_count_leads(p_target jsonb) returns jsonb
language sql stable as $$
  select jsonb_build_object('count', count(*)) from bulk_matching_leads(p_target)
$$;

-- Checks an action's params; LR422 names the problem. Returns the member for assign.
create or replace function bulk_check_params(p_action text, p_params jsonb) returns jsonb
language plpgsql stable as $$
declare
  v_member team_members%rowtype;
begin
  if p_action = 'set_status' then
    if coalesce(p_params->>'status', '') not in ('new', 'contacted', 'qualified', 'won', 'lost') then
      raise exception 'params.status must be new, contacted, qualified, won or lost' using errcode = 'LR422';
    end if;
  elsif p_action = 'assign' then
    if p_params->>'assignedTo' is not null then
      select * into v_member from team_members where id = (p_params->>'assignedTo')::uuid;
      if not found then
        raise exception 'params.assignedTo names no team member' using errcode = 'LR422';
      end if;
      return jsonb_build_object('id', v_member.id, 'name', v_member.name);
    end if;
  elsif p_action in ('add_tag', 'remove_tag') then
    if length(trim(coalesce(p_params->>'tag', ''))) = 0 then
      raise exception 'params.tag is required' using errcode = 'LR422';
    end if;
  elsif p_action not in ('archive', 'erase') then
    raise exception 'unknown action %', p_action using errcode = 'LR422';
  end if;
  return null;
end
$$;

-- Dry run: what the action would do, changing nothing. `already` counts the leads the
-- action would leave as they are (skipped as unchanged when it runs).
create or replace function bulk_preview(
  p_action text, p_target jsonb, p_params jsonb default '{}'::jsonb, p_sample integer default 20
) returns jsonb
language plpgsql stable as $$
declare
  v_member jsonb;
  v_count integer;
  v_already integer;
  v_sample jsonb;
  v_warnings jsonb := '[]'::jsonb;
  v_requested integer;
begin
  v_member := bulk_check_params(p_action, p_params);
  select count(*),
         count(*) filter (where case p_action
           when 'set_status' then c.status = p_params->>'status'
           when 'assign' then c.assignee_id is not distinct from (v_member->>'id')::uuid
           when 'add_tag' then (p_params->>'tag') = any(c.tags)
           when 'remove_tag' then not ((p_params->>'tag') = any(c.tags))
           when 'archive' then c.archived_at is not null
           else false end)
    into v_count, v_already
    from bulk_matching_leads(p_target) c;
  select coalesce(jsonb_agg(admin_lead_json(s) order by s.created_at desc, s.id desc), '[]'::jsonb)
    into v_sample
    from (select * from bulk_matching_leads(p_target) c
           order by c.created_at desc, c.id desc limit least(greatest(p_sample, 0), 100)) s;

  if p_target ? 'ids' then
    v_requested := (select count(distinct value) from jsonb_array_elements_text(p_target->'ids'));
    if v_requested > v_count then
      v_warnings := v_warnings || jsonb_build_object('code', 'not_found', 'count', v_requested - v_count,
        'message', (v_requested - v_count) || ' of the selected leads no longer exist or were merged');
    end if;
  end if;
  if v_count = 0 then
    v_warnings := v_warnings || jsonb_build_object('code', 'no_leads', 'count', 0,
      'message', 'No lead matches: the action would change nothing');
  end if;
  if v_already > 0 then
    v_warnings := v_warnings || jsonb_build_object('code', 'unchanged', 'count', v_already,
      'message', v_already || ' lead(s) ' || case p_action
        when 'set_status' then 'already have status ' || (p_params->>'status')
        when 'assign' then case when v_member is null then 'are already unassigned'
                                else 'are already assigned to ' || (v_member->>'name') end
        when 'add_tag' then 'already have the tag'
        when 'remove_tag' then 'do not have the tag'
        when 'archive' then 'are already archived'
        else 'would not change' end || ' and will be skipped');
  end if;
  if p_action = 'erase' then
    v_warnings := v_warnings || jsonb_build_object('code', 'not_undoable', 'count', v_count,
      'message', 'Erasure removes these people''s data for good: it cannot be undone');
  end if;
  return jsonb_build_object(
    'action', p_action,
    'count', v_count,
    'changes', v_count - v_already,
    'sample', v_sample,
    'warnings', v_warnings,
    'undoable', p_action <> 'erase',
    'destructive', p_action in ('archive', 'erase'));
end
$$;

-- The action as the API shows it.
create or replace function bulk_action_json(a bulk_actions) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'id', a.id,
    'kind', a.kind,
    'action', a.action,
    'params', a.params,
    'target', a.target,
    'undoOf', a.undo_of,
    'undoneBy', a.undone_by,
    'status', a.status,
    'total', a.total,
    'processed', a.processed,
    'skipped', a.skipped,
    'skipReasons', a.skip_reasons,
    'failed', a.failed,
    'attempts', a.attempts,
    'error', a.error,
    'actor', jsonb_build_object('id', a.actor_id, 'name', a.actor_name, 'role', a.actor_role),
    'createdAt', a.created_at,
    'startedAt', a.started_at,
    'progressedAt', a.progressed_at,
    'finishedAt', a.finished_at,
    'undoExpiresAt', a.undo_expires_at,
    'undoPurgedAt', a.undo_purged_at,
    'undoable', a.kind not in ('erase', 'undo') and a.status in ('completed', 'failed')
                and a.undone_by is null and a.undo_purged_at is null
                and a.undo_expires_at is not null and a.undo_expires_at > now() and a.processed > 0
  )
$$;

-- Creating an action takes the snapshot: one item per target lead with its version,
-- numbered in the list's order (newest first). p_actor: {id, name, role}.
create or replace function bulk_create_action(
  p_action text, p_target jsonb, p_params jsonb, p_actor jsonb, p_undo_days integer default 7
) returns jsonb
language plpgsql as $$
declare
  v_action bulk_actions%rowtype;
  v_total integer;
begin
  perform bulk_check_params(p_action, p_params);
  insert into bulk_actions (kind, action, params, target, actor_id, actor_name, actor_role, undo_days)
  values (p_action, p_action, coalesce(p_params, '{}'::jsonb), p_target, (p_actor->>'id')::uuid,
          p_actor->>'name', p_actor->>'role', coalesce(p_undo_days, 7))
  returning * into v_action;
  insert into bulk_action_items (action_id, seq, conversation_id, snapshot_version)
  select v_action.id, row_number() over (order by c.created_at desc, c.id desc), c.id, c.version
    from bulk_matching_leads(p_target) c;
  get diagnostics v_total = row_count;
  update bulk_actions set total = v_total where id = v_action.id returning * into v_action;
  perform pg_notify('leadrelay_bulk', v_action.id::text);
  return bulk_action_json(v_action);
end
$$;

-- Undo: a new action (kind undo) over the items the original changed; each lead whose
-- field still holds what the original set gets its previous value back (a tag undo
-- removes or re-adds just that tag), the others are conflicts, left alone.
create or replace function bulk_create_undo(p_id uuid, p_actor jsonb) returns jsonb
language plpgsql as $$
declare
  v_original bulk_actions%rowtype;
  v_undo bulk_actions%rowtype;
  v_total integer;
begin
  select * into v_original from bulk_actions where id = p_id for update;
  if not found then
    raise exception 'bulk action % not found', p_id using errcode = 'LR404';
  end if;
  if v_original.kind = 'undo' or v_original.kind = 'erase' then
    raise exception 'a % action cannot be undone', v_original.kind using errcode = 'LR409';
  end if;
  if v_original.undone_by is not null then
    raise exception 'bulk action % is already undone (or being undone)', p_id using errcode = 'LR409';
  end if;
  if v_original.status not in ('completed', 'failed') then
    raise exception 'bulk action % is %; undo once it has finished', p_id, v_original.status
      using errcode = 'LR409';
  end if;
  if v_original.undo_purged_at is not null or v_original.undo_expires_at is null
     or v_original.undo_expires_at <= now() then
    raise exception 'the undo window of bulk action % has expired', p_id using errcode = 'LR409';
  end if;
  insert into bulk_actions (kind, action, params, target, undo_of, actor_id, actor_name, actor_role, undo_days)
  values ('undo', v_original.action, v_original.params, jsonb_build_object('undoOf', p_id), p_id,
          (p_actor->>'id')::uuid, p_actor->>'name', p_actor->>'role', v_original.undo_days)
  returning * into v_undo;
  insert into bulk_action_items (action_id, seq, conversation_id, snapshot_version, before)
  select v_undo.id, row_number() over (order by i.seq), i.conversation_id, i.after_version, i.before
    from bulk_action_items i
   where i.action_id = p_id and i.state = 'changed';
  get diagnostics v_total = row_count;
  update bulk_actions set total = v_total where id = v_undo.id returning * into v_undo;
  update bulk_actions set undone_by = v_undo.id, updated_at = now() where id = p_id;
  perform pg_notify('leadrelay_bulk', v_undo.id::text);
  return bulk_action_json(v_undo);
end
$$;

create or replace function bulk_get_action(p_id uuid) returns jsonb
language plpgsql stable as $$
declare
  v_action bulk_actions%rowtype;
begin
  select * into v_action from bulk_actions where id = p_id;
  if not found then
    raise exception 'bulk action % not found', p_id using errcode = 'LR404';
  end if;
  return bulk_action_json(v_action);
end
$$;

-- Newest first, keyset on (created_at, id).
create or replace function bulk_list_actions(
  p_before_created_at timestamptz default null, p_before_id uuid default null, p_limit integer default 20
) returns jsonb
language plpgsql stable as $$
declare
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_rows jsonb;
begin
  select coalesce(jsonb_agg(bulk_action_json(a) order by a.created_at desc, a.id desc), '[]'::jsonb)
    into v_rows
    from (select * from bulk_actions b
           where p_before_created_at is null or (b.created_at, b.id) < (p_before_created_at, p_before_id)
           order by b.created_at desc, b.id desc limit v_limit + 1) a;
  if jsonb_array_length(v_rows) <= v_limit then
    return jsonb_build_object('items', v_rows, 'next', null);
  end if;
  v_rows := v_rows - v_limit;
  return jsonb_build_object('items', v_rows, 'next', jsonb_build_object(
    'createdAt', v_rows -> (v_limit - 1) -> 'createdAt', 'id', v_rows -> (v_limit - 1) -> 'id'));
end
$$;

-- Engine: claim, batch, failure, release ---------------------------------------------------
-- Takes the oldest open action whose lease is free (never held, or run out: its worker
-- died). SKIP LOCKED: two workers claiming at once take different actions.
create or replace function bulk_claim_action(p_worker text, p_lease_seconds integer) returns jsonb
language plpgsql as $$
declare
  v_action bulk_actions%rowtype;
begin
  select * into v_action from bulk_actions
   where status in ('queued', 'running') and (locked_until is null or locked_until < now())
   order by created_at, id
   limit 1
   for update skip locked;
  if not found then
    return jsonb_build_object('action', null);
  end if;
  update bulk_actions
     set locked_by = p_worker, locked_until = now() + make_interval(secs => p_lease_seconds),
         status = 'running', started_at = coalesce(started_at, now()),
         progressed_at = coalesce(progressed_at, now()), updated_at = now()
   where id = v_action.id
   returning * into v_action;
  return jsonb_build_object('action', bulk_action_json(v_action));
end
$$;

-- The action's result row in the audit log: one per action and one per undo, with the
-- counts and the actor who asked for it.
create or replace function bulk_audit_result(a bulk_actions) returns void
language sql as $$
  insert into audit_logs (actor_id, actor_name, actor_role, action, resource_type, resource_id, status, details)
  values (a.actor_id, a.actor_name, a.actor_role,
          case when a.kind = 'undo' then 'bulk_action.undo_' else 'bulk_action.' end
            || case when a.status = 'failed' then 'failed' else 'completed' end,
          'bulk_action', a.id::text, case when a.status = 'failed' then 'failure' else 'success' end,
          jsonb_strip_nulls(jsonb_build_object(
            'action', a.action, 'kind', a.kind, 'undoOf', a.undo_of, 'total', a.total,
            'processed', a.processed, 'skipped', a.skipped, 'skipReasons', a.skip_reasons,
            'failed', a.failed)));
$$;

-- Classifies the items of one batch (seq in [p_from, p_to)) against the locked leads:
-- missing (gone, merged), conflict or, for a forward action, unchanged (already so);
-- the rest are `changed` with their previous values. A forward action's conflict is
-- any change since the snapshot (the version moved). An undo's is a change to the
-- action's own field (status no longer the one it set, tag gone again, ...): a note or
-- a later action on another field does not stop an undo, and undoing two actions in
-- either order works.
create or replace function bulk_classify_batch(
  a bulk_actions, p_from integer, p_to integer, p_member_id uuid
) returns void
language plpgsql as $$
begin
  with b as (
    select i.seq, i.snapshot_version, c.id as cid, c.version, c.status, c.first_response_at,
           c.assignee_id, c.assigned_to, c.assigned_at, c.assignment_waiting_since, c.tags,
           c.archived_at, c.merged_into, c.erased_at
      from bulk_action_items i
      left join conversations c on c.id = i.conversation_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state is null
  ), cls as (
    select b.*,
           case when b.cid is null or b.merged_into is not null or b.erased_at is not null then 'missing'
                -- Undo: a conflict when the field no longer holds what the action set.
                when a.kind = 'undo' and (case a.action
                       when 'set_status' then b.status is distinct from a.params->>'status'
                       when 'assign' then b.assignee_id is distinct from (a.params->>'assignedTo')::uuid
                       when 'add_tag' then not ((a.params->>'tag') = any(b.tags))
                       when 'remove_tag' then (a.params->>'tag') = any(b.tags)
                       when 'archive' then b.archived_at is null
                       else true end) then 'conflict'
                when a.kind = 'undo' then null
                when b.version <> b.snapshot_version then 'conflict'
                when a.kind = 'set_status' and b.status = a.params->>'status' then 'unchanged'
                when a.kind = 'assign' and b.assignee_id is not distinct from p_member_id then 'unchanged'
                when a.kind = 'add_tag' and (a.params->>'tag') = any(b.tags) then 'unchanged'
                when a.kind = 'remove_tag' and not ((a.params->>'tag') = any(b.tags)) then 'unchanged'
                when a.kind = 'archive' and b.archived_at is not null then 'unchanged'
                else null end as reason
      from b
  )
  update bulk_action_items i
     set state = case when cls.reason is null then 'changed' else 'skipped' end,
         reason = cls.reason,
         after_version = case when cls.reason is null then cls.version + 1 end,
         -- An undo item keeps the values to restore that it was created with.
         before = case
           when a.kind = 'undo' or cls.reason is not null then i.before
           when a.kind = 'set_status' then jsonb_build_object(
             'status', cls.status, 'firstResponseAt', cls.first_response_at,
             'tasksClosed', case when a.params->>'status' <> 'new' and cls.first_response_at is null then
               (select coalesce(jsonb_agg(f.id), '[]'::jsonb) from follow_up_tasks f
                 where f.conversation_id = cls.cid and f.task_type = 'first_contact' and f.status = 'open')
               else '[]'::jsonb end)
           when a.kind = 'assign' then jsonb_build_object(
             'assigneeId', cls.assignee_id, 'assignedTo', cls.assigned_to,
             'assignedAt', cls.assigned_at, 'waitingSince', cls.assignment_waiting_since)
           when a.kind in ('add_tag', 'remove_tag') then jsonb_build_object('tags', to_jsonb(cls.tags))
           when a.kind = 'archive' then jsonb_build_object('archivedAt', cls.archived_at)
           else '{}'::jsonb end
    from cls
   where i.action_id = a.id and i.seq = cls.seq;
end
$$;

-- Applies the `changed` items of one batch: the lead columns, one timeline entry and
-- one outbox event (payload bulk: true) per lead. An undo restores `before`; what it
-- overwrites is what the original action set (its version check guarantees it), so
-- the "from" of an undo's entries comes from the original's params.
create or replace function bulk_apply_batch(
  a bulk_actions, p_from integer, p_to integer, p_member jsonb
) returns void
language plpgsql as $$
declare
  v_now timestamptz := now();
  v_undo boolean := a.kind = 'undo';
  v_status text := a.params->>'status';
  v_tag text := a.params->>'tag';
  v_member_id uuid := (p_member->>'id')::uuid;
begin
  if a.action = 'set_status' then
    update conversations c
       set status = case when v_undo then i.before->>'status' else v_status end,
           first_response_at = case
             when v_undo then (i.before->>'firstResponseAt')::timestamptz
             when v_status <> 'new' then coalesce(c.first_response_at, v_now)
             else c.first_response_at end,
           version = c.version + 1, updated_at = v_now
      from bulk_action_items i
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
       and c.id = i.conversation_id;
    update follow_up_tasks f
       set status = case when v_undo then 'open' else 'done' end,
           completed_at = case when v_undo then null else v_now end,
           completed_by = case when v_undo then null else a.actor_name end,
           updated_at = v_now
      from bulk_action_items i,
           jsonb_array_elements_text(coalesce(i.before->'tasksClosed', '[]'::jsonb)) t(task_id)
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
       and f.id = t.task_id::bigint and f.status = case when v_undo then 'done' else 'open' end;
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    select i.conversation_id, 'status_changed',
           'Status changed to ' || c.status || case when v_undo then ' (bulk undo)' else ' (bulk)' end,
           jsonb_build_object('from', case when v_undo then v_status else i.before->>'status' end,
                              'to', c.status, 'bulkActionId', a.id), a.actor_name
      from bulk_action_items i join conversations c on c.id = i.conversation_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;
    insert into lead_events (event_type, conversation_id, payload)
    select 'lead.status_changed', i.conversation_id, jsonb_build_object(
             'conversationId', i.conversation_id,
             'from', case when v_undo then v_status else i.before->>'status' end, 'to', c.status,
             'actor', a.actor_name, 'bulk', true, 'bulkActionId', a.id)
      from bulk_action_items i join conversations c on c.id = i.conversation_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;

  elsif a.action = 'assign' then
    update conversations c
       set assignee_id = case when v_undo then (i.before->>'assigneeId')::uuid else v_member_id end,
           assigned_to = case when v_undo then i.before->>'assignedTo' else p_member->>'name' end,
           assigned_at = case when v_undo then (i.before->>'assignedAt')::timestamptz
                              when v_member_id is null then null else v_now end,
           assignment_waiting_since = case when v_undo then (i.before->>'waitingSince')::timestamptz end,
           version = c.version + 1, updated_at = v_now
      from bulk_action_items i
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
       and c.id = i.conversation_id;
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    select i.conversation_id, 'assigned',
           case when m.id is null then 'Unassigned' else 'Assigned to ' || m.name end
             || case when v_undo then ' (bulk undo)' else ' (bulk)' end,
           jsonb_build_object(
             'from', case when v_undo then a.params->>'assignedTo' else i.before->>'assigneeId' end,
             'to', c.assignee_id, 'reason', 'bulk', 'bulkActionId', a.id),
           a.actor_name
      from bulk_action_items i join conversations c on c.id = i.conversation_id
      left join team_members m on m.id = c.assignee_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;
    -- lead.assigned names its new owner; an unassignment is history only, as with PATCH.
    insert into lead_events (event_type, conversation_id, payload)
    select 'lead.assigned', i.conversation_id, jsonb_build_object(
             'conversationId', i.conversation_id, 'assignee', team_assignee_json(m),
             'previousAssignee', (select team_assignee_json(p) from team_members p
               where p.id = (case when v_undo then a.params->>'assignedTo' else i.before->>'assigneeId' end)::uuid),
             'reason', 'bulk', 'actor', a.actor_name, 'bulk', true, 'bulkActionId', a.id)
      from bulk_action_items i join conversations c on c.id = i.conversation_id
      join team_members m on m.id = c.assignee_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;

  elsif a.action in ('add_tag', 'remove_tag') then
    update conversations c
       set tags = case when (a.action = 'add_tag') <> v_undo then array_append(c.tags, v_tag)
                       else array_remove(c.tags, v_tag) end,
           version = c.version + 1, updated_at = v_now
      from bulk_action_items i
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
       and c.id = i.conversation_id;
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    select i.conversation_id, 'tags_changed',
           case when v_undo then 'Tags restored (bulk undo)'
                when a.action = 'add_tag' then 'Tag added: ' || v_tag || ' (bulk)'
                else 'Tag removed: ' || v_tag || ' (bulk)' end,
           jsonb_build_object('tags', to_jsonb(c.tags), 'bulkActionId', a.id), a.actor_name
      from bulk_action_items i join conversations c on c.id = i.conversation_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;
    insert into lead_events (event_type, conversation_id, payload)
    select 'lead.tags_changed', i.conversation_id, jsonb_build_object(
             'conversationId', i.conversation_id, 'tags', to_jsonb(c.tags), 'actor', a.actor_name,
             'bulk', true, 'bulkActionId', a.id)
      from bulk_action_items i join conversations c on c.id = i.conversation_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;

  elsif a.action = 'archive' then
    update conversations c
       set archived_at = case when v_undo then (i.before->>'archivedAt')::timestamptz else v_now end,
           version = c.version + 1, updated_at = v_now
      from bulk_action_items i
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
       and c.id = i.conversation_id;
    insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
    select i.conversation_id, case when v_undo then 'unarchived' else 'archived' end,
           case when v_undo then 'Restored from the archive (bulk undo)' else 'Archived (bulk)' end,
           jsonb_build_object('bulkActionId', a.id), a.actor_name
      from bulk_action_items i
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;
    insert into lead_events (event_type, conversation_id, payload)
    select case when v_undo then 'lead.unarchived' else 'lead.archived' end, i.conversation_id,
           jsonb_build_object('conversationId', i.conversation_id, 'actor', a.actor_name,
                              'bulk', true, 'bulkActionId', a.id)
      from bulk_action_items i
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state = 'changed'
     order by i.seq;
  else
    raise exception 'bulk action % cannot be applied here', a.action using errcode = 'LR422';
  end if;
end
$$;

-- One batch, one transaction. Returns {state: continue | done | lost, action}.
-- The caller must hold the lease (locked_by); the action row is locked for the
-- batch, so a late second caller waits and then finds the cursor moved on.
create or replace function bulk_run_batch(
  p_id uuid, p_worker text, p_batch_size integer, p_lease_seconds integer
) returns jsonb
language plpgsql as $$
declare
  a bulk_actions%rowtype;
  v_from integer;
  v_to integer;
  v_member jsonb;
  v_changed integer;
  v_skipped integer;
  v_reasons jsonb;
  v_done boolean;
begin
  select * into a from bulk_actions where id = p_id for update;
  if not found then
    raise exception 'bulk action % not found', p_id using errcode = 'LR404';
  end if;
  if a.locked_by is distinct from p_worker or a.status <> 'running' then
    return jsonb_build_object('state', 'lost', 'action', bulk_action_json(a));
  end if;
  perform set_config('leadrelay.bulk', 'on', true);
  v_from := a.next_seq;
  v_to := a.next_seq + greatest(p_batch_size, 1);
  if a.kind = 'assign' then
    v_member := bulk_check_params('assign', a.params);
  end if;

  if v_from <= a.total then
    -- Lock the batch's leads in id order (see the header), then decide and apply.
    perform 1 from conversations c
      where c.id in (select i.conversation_id from bulk_action_items i
                      where i.action_id = a.id and i.seq >= v_from and i.seq < v_to)
      order by c.id
      for update of c;
    if a.action = 'erase' then
      perform bulk_erase_batch(a, v_from, v_to);
    else
      perform bulk_classify_batch(a, v_from, v_to, (v_member->>'id')::uuid);
      perform bulk_apply_batch(a, v_from, v_to, v_member);
    end if;
  end if;

  select coalesce(sum(r.n) filter (where r.state = 'changed'), 0),
         coalesce(sum(r.n) filter (where r.state = 'skipped'), 0),
         coalesce(jsonb_object_agg(r.reason, r.n) filter (where r.reason is not null), '{}'::jsonb)
    into v_changed, v_skipped, v_reasons
    from (select i.state, i.reason, count(*) as n
            from bulk_action_items i
           where i.action_id = a.id and i.seq >= v_from and i.seq < v_to
           group by i.state, i.reason) r;
  v_done := v_to > a.total;
  update bulk_actions b
     set next_seq = least(v_to, a.total + 1),
         processed = b.processed + coalesce(v_changed, 0),
         skipped = b.skipped + coalesce(v_skipped, 0),
         skip_reasons = (select coalesce(jsonb_object_agg(k, coalesce((b.skip_reasons->>k)::int, 0)
                                                             + coalesce((v_reasons->>k)::int, 0)), '{}'::jsonb)
                           from (select jsonb_object_keys(b.skip_reasons || v_reasons) as k) keys),
         attempts = 0, error = null,
         status = case when v_done then 'completed' else 'running' end,
         finished_at = case when v_done then now() end,
         undo_expires_at = case when v_done and b.kind not in ('erase', 'undo')
                                then now() + make_interval(days => b.undo_days) end,
         locked_by = case when v_done then null else b.locked_by end,
         locked_until = case when v_done then null else now() + make_interval(secs => p_lease_seconds) end,
         progressed_at = now(), updated_at = now()
   where b.id = a.id
   returning * into a;
  if v_done then
    perform bulk_audit_result(a);
    if a.kind = 'undo' then
      update bulk_actions set status = 'undone', updated_at = now() where id = a.undo_of;
    end if;
  end if;
  if coalesce(v_changed, 0) > 0 then
    -- One wake-up for the notification workers per batch, not one per event.
    perform pg_notify('lead_events', '');
  end if;
  perform pg_notify('leadrelay_admin', json_build_object(
    'kind', 'bulk.progress', 'id', a.id, 'status', a.status, 'total', a.total,
    'processed', a.processed, 'skipped', a.skipped, 'failed', a.failed)::text);
  return jsonb_build_object('state', case when v_done then 'done' else 'continue' end,
                            'action', bulk_action_json(a));
end
$$;

-- Erase: each lead of the batch through erase_lead (20261201225300_erasure_erase_lead,
-- which this file follows), in this batch's transaction: all of the batch erased or
-- none. erase_lead writes the lead.erased events (webhooks and the CRM) and removes
-- the timeline, so an erased lead has no bulk timeline entry; its item keeps only the
-- id. Gone or merged leads are skipped as missing, already erased ones as unchanged,
-- leads changed since the snapshot as conflicts.
create or replace function bulk_erase_batch(a bulk_actions, p_from integer, p_to integer) returns void
language plpgsql as $$
declare
  r record;
begin
  for r in
    select i.seq, i.conversation_id, c.id as cid, c.merged_into, c.erased_at, c.version, i.snapshot_version
      from bulk_action_items i left join conversations c on c.id = i.conversation_id
     where i.action_id = a.id and i.seq >= p_from and i.seq < p_to and i.state is null
     order by i.conversation_id
  loop
    if r.cid is null or r.merged_into is not null then
      update bulk_action_items set state = 'skipped', reason = 'missing' where action_id = a.id and seq = r.seq;
    elsif r.erased_at is not null then
      update bulk_action_items set state = 'skipped', reason = 'unchanged' where action_id = a.id and seq = r.seq;
    elsif r.version <> r.snapshot_version then
      -- Changed since the snapshot: as for every action, a conflict, left alone.
      update bulk_action_items set state = 'skipped', reason = 'conflict' where action_id = a.id and seq = r.seq;
    else
      perform erase_lead(r.conversation_id, a.actor_name, false, 'request');
      update bulk_action_items set state = 'changed', before = '{}'::jsonb where action_id = a.id and seq = r.seq;
    end if;
  end loop;
  -- erase_lead leaves the transaction-local bulk flag alone; the feed trigger stays quiet.
end
$$;

-- A batch that failed (its transaction rolled back): count the attempt; when they run
-- out the action fails with its report (the batch's leads counted as failed).
create or replace function bulk_batch_failed(
  p_id uuid, p_worker text, p_error text, p_max_attempts integer, p_batch_size integer
) returns jsonb
language plpgsql as $$
declare
  a bulk_actions%rowtype;
begin
  select * into a from bulk_actions where id = p_id for update;
  if not found then
    raise exception 'bulk action % not found', p_id using errcode = 'LR404';
  end if;
  if a.locked_by is distinct from p_worker or a.status <> 'running' then
    return jsonb_build_object('state', 'lost', 'action', bulk_action_json(a));
  end if;
  if a.attempts + 1 < p_max_attempts then
    update bulk_actions set attempts = attempts + 1, error = left(p_error, 500), updated_at = now()
     where id = p_id returning * into a;
    return jsonb_build_object('state', 'retry', 'action', bulk_action_json(a));
  end if;
  update bulk_actions b
     set attempts = b.attempts + 1, error = left(p_error, 500), status = 'failed',
         failed = least(greatest(p_batch_size, 1), b.total - b.next_seq + 1),
         finished_at = now(), locked_by = null, locked_until = null, updated_at = now(),
         undo_expires_at = case when b.kind not in ('erase', 'undo') and b.processed > 0
                                then now() + make_interval(days => b.undo_days) end
   where b.id = p_id
   returning * into a;
  perform bulk_audit_result(a);
  if a.kind = 'undo' then
    -- A failed undo leaves the original undoable no more (part of it is back): say so.
    update bulk_actions set updated_at = now() where id = a.undo_of;
  end if;
  perform pg_notify('leadrelay_admin', json_build_object(
    'kind', 'bulk.progress', 'id', a.id, 'status', a.status, 'total', a.total,
    'processed', a.processed, 'skipped', a.skipped, 'failed', a.failed)::text);
  return jsonb_build_object('state', 'failed', 'action', bulk_action_json(a));
end
$$;

-- Shutdown: hand the lease back so another worker continues at once.
create or replace function bulk_release_action(p_id uuid, p_worker text) returns jsonb
language plpgsql as $$
begin
  update bulk_actions set locked_by = null, locked_until = null, updated_at = now()
   where id = p_id and locked_by = p_worker and status = 'running';
  return jsonb_build_object('released', found);
end
$$;

-- Cleanup and health --------------------------------------------------------------------
-- `leadrelay cleanup`: the per-lead data of actions whose undo window has passed.
-- The action rows (counts, actor, times) stay; only their items go.
create or replace function bulk_purge_undo_data(p_now timestamptz default now(), p_dry_run boolean default false)
returns jsonb
language plpgsql as $$
declare
  v_ids uuid[];
  v_items integer;
begin
  select coalesce(array_agg(id), '{}') into v_ids from bulk_actions
   where undo_purged_at is null and status in ('completed', 'failed', 'undone')
     and coalesce(undo_expires_at, finished_at + make_interval(days => undo_days)) <= p_now;
  if p_dry_run then
    select count(*) into v_items from bulk_action_items where action_id = any(v_ids);
    return jsonb_build_object('dryRun', true, 'actions', cardinality(v_ids), 'items', v_items);
  end if;
  delete from bulk_action_items where action_id = any(v_ids);
  get diagnostics v_items = row_count;
  update bulk_actions set undo_purged_at = p_now, updated_at = now() where id = any(v_ids);
  return jsonb_build_object('dryRun', false, 'actions', cardinality(v_ids), 'items', v_items);
end
$$;

-- `leadrelay health`: open actions that made no progress for p_stalled_after_seconds.
create or replace function bulk_stalled_actions(p_stalled_after_seconds integer default 300)
returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'open', (select count(*) from bulk_actions where status in ('queued', 'running')),
    'stalled', coalesce(jsonb_agg(jsonb_build_object(
      'id', a.id, 'action', a.action, 'status', a.status, 'processed', a.processed + a.skipped,
      'total', a.total, 'since', coalesce(a.progressed_at, a.created_at)) order by a.created_at), '[]'::jsonb))
    from bulk_actions a
   where a.status in ('queued', 'running')
     and coalesce(a.progressed_at, a.created_at) < now() - make_interval(secs => p_stalled_after_seconds)
$$;

-- Privileges -------------------------------------------------------------------------------
revoke all on function admin_lead_json(conversations) from public, anon, authenticated;
revoke all on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer, uuid, boolean, text) from public, anon, authenticated;
revoke all on function admin_notify_lead_change() from public, anon, authenticated;
revoke all on function bulk_matching_leads(jsonb) from public, anon, authenticated;
revoke all on function bulk_check_params(text, jsonb) from public, anon, authenticated;
revoke all on function bulk_count_leads(jsonb) from public, anon, authenticated;
revoke all on function bulk_preview(text, jsonb, jsonb, integer) from public, anon, authenticated;
revoke all on function bulk_action_json(bulk_actions) from public, anon, authenticated;
revoke all on function bulk_create_action(text, jsonb, jsonb, jsonb, integer) from public, anon, authenticated;
revoke all on function bulk_create_undo(uuid, jsonb) from public, anon, authenticated;
revoke all on function bulk_get_action(uuid) from public, anon, authenticated;
revoke all on function bulk_list_actions(timestamptz, uuid, integer) from public, anon, authenticated;
revoke all on function bulk_claim_action(text, integer) from public, anon, authenticated;
revoke all on function bulk_audit_result(bulk_actions) from public, anon, authenticated;
revoke all on function bulk_classify_batch(bulk_actions, integer, integer, uuid) from public, anon, authenticated;
revoke all on function bulk_apply_batch(bulk_actions, integer, integer, jsonb) from public, anon, authenticated;
revoke all on function bulk_run_batch(uuid, text, integer, integer) from public, anon, authenticated;
revoke all on function bulk_erase_batch(bulk_actions, integer, integer) from public, anon, authenticated;
revoke all on function bulk_batch_failed(uuid, text, text, integer, integer) from public, anon, authenticated;
revoke all on function bulk_release_action(uuid, text) from public, anon, authenticated;
revoke all on function bulk_purge_undo_data(timestamptz, boolean) from public, anon, authenticated;
revoke all on function bulk_stalled_actions(integer) from public, anon, authenticated;

grant execute on function admin_lead_json(conversations) to service_role;
grant execute on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer, uuid, boolean, text) to service_role;
grant execute on function bulk_matching_leads(jsonb) to service_role;
grant execute on function bulk_check_params(text, jsonb) to service_role;
grant execute on function bulk_count_leads(jsonb) to service_role;
grant execute on function bulk_preview(text, jsonb, jsonb, integer) to service_role;
grant execute on function bulk_action_json(bulk_actions) to service_role;
grant execute on function bulk_create_action(text, jsonb, jsonb, jsonb, integer) to service_role;
grant execute on function bulk_create_undo(uuid, jsonb) to service_role;
grant execute on function bulk_get_action(uuid) to service_role;
grant execute on function bulk_list_actions(timestamptz, uuid, integer) to service_role;
grant execute on function bulk_claim_action(text, integer) to service_role;
grant execute on function bulk_audit_result(bulk_actions) to service_role;
grant execute on function bulk_classify_batch(bulk_actions, integer, integer, uuid) to service_role;
grant execute on function bulk_apply_batch(bulk_actions, integer, integer, jsonb) to service_role;
grant execute on function bulk_run_batch(uuid, text, integer, integer) to service_role;
grant execute on function bulk_erase_batch(bulk_actions, integer, integer) to service_role;
grant execute on function bulk_batch_failed(uuid, text, text, integer, integer) to service_role;
grant execute on function bulk_release_action(uuid, text) to service_role;
grant execute on function bulk_purge_undo_data(timestamptz, boolean) to service_role;
grant execute on function bulk_stalled_actions(integer) to service_role;
