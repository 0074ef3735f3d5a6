-- leadrelay erasure: the lead list and the export leave erased tombstones out.
--
-- Why this file exists: an erased lead stays as a tombstone (id, source, status and
-- times, no contact data, 20261201225300_erasure_erase_lead.sql); listed, it would be
-- an empty row in the dashboard and the CSV export. The list is the one of
-- 20261201233000_bulk_actions.sql (archived filter included), unchanged but for
-- `c.erased_at is null`; the tombstone's own detail (GET /api/admin/leads/:id) stays.
-- CREATE OR REPLACE keeps the function's grants (service_role only). Runs on
-- PostgreSQL 15 and PGlite, and twice.

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
  v_where text[] := array['c.merged_into is null', 'c.erased_at is null'];
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
