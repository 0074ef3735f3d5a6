-- leadrelay lead retention (issue 15, item 5): LEAD_RETENTION_DAYS.
--
-- Why this file exists: with LEAD_RETENTION_DAYS set, the daily `leadrelay cleanup`
-- erases (erase_lead, reason 'retention') every lead closed, won or lost, longer ago
-- than that. "Closed at" is the time of the status change that put the lead in its
-- current closed status (its latest status_changed timeline entry to that status);
-- rows without one (imported, or closed before the timeline existed) fall back to
-- updated_at, which is never earlier than the close.
-- Only roots of merge groups are considered: erasing a group erases every lead merged
-- into it, and a merged lead must never take an open survivor with it.
-- Runs on PostgreSQL 15 and PGlite (Postgres 18), and twice.

-- The leads retention would erase now, oldest close first, at most p_limit of them.
create or replace function retention_due_leads(p_older_than timestamptz, p_limit integer default 500)
returns uuid[]
language sql stable as $$
  select coalesce(array_agg(x.id order by x.closed_at, x.id), '{}')
    from (
      select d.id, d.closed_at
        from (
          select c.id, coalesce(
                   (select max(t.created_at) from conversation_timeline t
                     where t.conversation_id = c.id and t.entry_type = 'status_changed'
                       and t.details->>'to' = c.status),
                   c.updated_at) as closed_at
            from conversations c
           where c.status in ('won', 'lost')
             and c.erased_at is null
             and c.merged_into is null
        ) d
       where d.closed_at < p_older_than
       order by d.closed_at, d.id
       limit greatest(coalesce(p_limit, 500), 1)
    ) x
$$;

-- The dry run: how many leads (groups, and the merged leads that go with them) and rows.
create or replace function retention_count_leads(p_older_than timestamptz) returns jsonb
language sql stable as $$
  with due as (select unnest(retention_due_leads(p_older_than, 2147483647)) as id),
  members as (select distinct unnest(erasure_group(due.id)) as id from due)
  select jsonb_build_object(
    'leads', (select count(*) from due),
    'mergedLeads', (select count(*) from members) - (select count(*) from due),
    'inquiries', (select count(*) from lead_inquiries where conversation_id in (select id from members)),
    'timeline', (select count(*) from conversation_timeline where conversation_id in (select id from members)),
    'events', (select count(*) from lead_events where conversation_id in (select id from members)))
$$;

-- One batch of retention: up to p_limit leads erased in this one transaction. The
-- caller repeats until `erased` is 0, so a large backlog is many short transactions.
create or replace function retention_erase_leads(p_older_than timestamptz, p_limit integer default 200)
returns jsonb
language plpgsql as $$
declare
  v_id uuid;
  v_result jsonb;
  v_leads integer := 0;
  v_groups integer := 0;
begin
  foreach v_id in array retention_due_leads(p_older_than, p_limit) loop
    v_result := erase_lead(p_lead_id => v_id, p_actor => 'retention', p_reason => 'retention');
    if (v_result->>'erased')::boolean then
      v_groups := v_groups + 1;
      v_leads := v_leads + (v_result->'counts'->>'leads')::integer;
    end if;
  end loop;
  return jsonb_build_object('erased', v_groups, 'leads', v_leads);
end
$$;

revoke all on function retention_due_leads(timestamptz, integer) from public, anon, authenticated;
revoke all on function retention_count_leads(timestamptz) from public, anon, authenticated;
revoke all on function retention_erase_leads(timestamptz, integer) from public, anon, authenticated;
grant execute on function retention_count_leads(timestamptz) to service_role;
grant execute on function retention_erase_leads(timestamptz, integer) to service_role;
-- The helper both call (SECURITY INVOKER: the caller needs EXECUTE on it).
grant execute on function retention_due_leads(timestamptz, integer) to service_role;
