-- leadrelay admin search: a trigram index for the admin list's free-text search.
--
-- Why this file exists: 20261122000300 searches name, email and phone with ILIKE
-- '%text%', which no btree can answer; at a million leads a search that matches few rows
-- read the whole table (about 2.5 s on the CI machine). A trigram GIN index over one
-- expression holding the three fields answers the same search in milliseconds, and the
-- planner still prefers the newest-first index when the text matches many rows
-- (EXECUTE plans each search with its real pattern).
--
-- pg_trgm ships with PostgreSQL and Supabase but not with PGlite. Where it cannot be
-- created the index is skipped and search keeps working by scanning (embedded databases
-- are small). Safe to run twice; nothing is dropped. Cost: the GIN index is updated on
-- every insert. Measured on the CI machine against a million leads: 5,000 captures in
-- one transaction took 1.13 s with the index and 0.62-0.76 s without, so about 0.1 ms
-- of database time per lead, small beside a commit's fsync.
-- The extension goes into its own schema `extensions` (as Supabase does), so its
-- functions are not part of the API schema that anon and authenticated can reach.
do $$
declare
  v_schema text;
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_trgm')
     and not exists (select 1 from pg_extension where extname = 'pg_trgm') then
    begin
      create schema if not exists extensions;
      create extension if not exists pg_trgm with schema extensions;
    exception when insufficient_privilege or feature_not_supported or undefined_file then
      raise notice 'pg_trgm could not be created: admin search will scan';
    end;
  end if;
  select n.nspname into v_schema
    from pg_extension e join pg_namespace n on n.oid = e.extnamespace
   where e.extname = 'pg_trgm';
  if v_schema is not null then
    execute format($ddl$
      create index if not exists conversations_search_trgm_idx on conversations using gin (
        (coalesce(customer_name, '') || ' ' || coalesce(customer_email, '') || ' '
          || coalesce(customer_phone, '')) %I.gin_trgm_ops)
    $ddl$, v_schema);
  end if;
end
$$;

-- Open SLA breaches (stats, ops_sla, the dashboard's banner): normally a handful of rows,
-- so a partial index keeps that count from reading the table.
create index if not exists conversations_sla_open_breaches_idx
  on conversations (created_at desc)
  where sla_breached = true and first_response_at is null;

-- admin_list_leads as in 20261122000300, with the search predicate rewritten to the
-- indexed expression. A search could now also match across two fields' boundary (for
-- example "Smith alice@"): harmless for a search box.
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
    -- The same expression as conversations_search_trgm_idx, so the index can answer it.
    v_where := array_append(v_where,
      '(coalesce(c.customer_name, '''') || '' '' || coalesce(c.customer_email, '''') || '' ''
        || coalesce(c.customer_phone, '''')) ilike $5');
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

revoke all on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer) from public, anon, authenticated;
grant execute on function admin_list_leads(text, text, text, boolean, text, timestamptz, timestamptz,
  timestamptz, uuid, integer) to service_role;
