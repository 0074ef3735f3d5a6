-- leadrelay dashboard overview: the numbers behind the dashboard's pictures (leads per
-- day, by source and by intent, SLA compliance and time to first response, channel
-- health), in one read-only function.
--
-- Why this file exists: the dashboard's overview must show the same numbers in every
-- storage mode, including Supabase rpc, where the application can only call functions.
-- One call answers the whole page, so a live refresh costs one round trip.
--
-- Like the earlier migrations it runs on PostgreSQL 15 and PGlite (Postgres 18) and is
-- safe to run twice (CREATE OR REPLACE only). It creates no table and no index (intake
-- pays for every index on conversations) and changes no data.

-- Overview ------------------------------------------------------------------------
-- Why it is written this way:
-- * Every number is over a bounded window, never the whole history: leads created in
--   the last p_days UTC days (today included; 14 by default, at most 90) and delivery
--   attempts of the last 24 hours. Both windows are range scans on existing indexes
--   (conversations_created_at_id_idx, notification_logs_created_at_idx), so the cost
--   follows the traffic of the window, not the size of the tables: with a million
--   leads over a year the call reads ~40,000 rows (bench/overview.ts measures it).
-- * Per day, per source and per intent come from one pass over the window with
--   GROUPING SETS (one scan, one hash table per set) instead of three scans.
-- * Sources and intents are free text, so only the 8 most frequent are named and the
--   rest is summed as `otherCount`: the payload stays small whatever visitors type.
-- * SLA compliance counts only leads whose SLA is decided: answered (within its
--   deadline or not) or past its deadline unanswered. Leads still inside their SLA are
--   `pending`, so a fresh morning does not read as 100 % or 0 %. Leads without a
--   deadline (imported before leadrelay) are left out.
-- * p_now is a parameter so tests drive the clock; day boundaries are UTC, like
--   admin_stats.
create or replace function admin_overview(p_now timestamptz default now(), p_days integer default 14)
returns jsonb
language plpgsql stable as $$
declare
  v_days integer := least(greatest(coalesce(p_days, 14), 1), 90);
  v_today timestamptz := date_trunc('day', p_now at time zone 'UTC') at time zone 'UTC';
  v_since timestamptz;
  v_until timestamptz;
  v_per_day jsonb;
  v_by_source jsonb;
  v_by_intent jsonb;
  v_source_other bigint;
  v_intent_other bigint;
  v_total bigint;
  v_sla jsonb;
  v_channels jsonb;
begin
  v_since := v_today - make_interval(days => v_days - 1);
  v_until := v_today + interval '1 day';

  -- One statement, so the grouped rows are computed once (a CTE referenced several
  -- times is materialised) and nothing is written (the function stays STABLE).
  with g as (
    select case grouping(w.day, w.source, w.intent)
             when 3 then 'day' when 5 then 'source' when 6 then 'intent' else 'total' end as set_name,
           w.day,
           coalesce(w.source, w.intent) as key,
           count(*) as n
      from (select (c.created_at at time zone 'UTC')::date as day,
                   c.source,
                   coalesce(nullif(c.intent, ''), '(none)') as intent
              from conversations c
             where c.created_at >= v_since and c.created_at < v_until) w
     group by grouping sets ((w.day), (w.source), (w.intent), ())
  ),
  ranked as (
    select set_name, key, n, row_number() over (partition by set_name order by n desc, key) as rank
      from g where set_name in ('source', 'intent')
  )
  select
    (select coalesce(jsonb_agg(jsonb_build_object('day', to_char(d.day, 'YYYY-MM-DD'),
                                                  'count', coalesce(x.n, 0)) order by d.day), '[]'::jsonb)
       from generate_series(v_since at time zone 'UTC', v_today at time zone 'UTC', interval '1 day') as d(day)
       left join g x on x.set_name = 'day' and x.day = d.day::date),
    (select coalesce(jsonb_agg(jsonb_build_object('key', key, 'count', n) order by rank)
                       filter (where rank <= 8), '[]'::jsonb)
       from ranked where set_name = 'source'),
    (select coalesce(sum(n) filter (where rank > 8), 0) from ranked where set_name = 'source'),
    (select coalesce(jsonb_agg(jsonb_build_object('key', key, 'count', n) order by rank)
                       filter (where rank <= 8), '[]'::jsonb)
       from ranked where set_name = 'intent'),
    (select coalesce(sum(n) filter (where rank > 8), 0) from ranked where set_name = 'intent'),
    (select coalesce(max(n), 0) from g where set_name = 'total')
  into v_per_day, v_by_source, v_source_other, v_by_intent, v_intent_other, v_total;

  select jsonb_build_object(
           'decided', count(*) filter (where s.decided),
           'withinSla', count(*) filter (where s.within),
           'breached', count(*) filter (where s.decided and not s.within),
           'pending', count(*) filter (where not s.decided),
           'compliance', round(count(*) filter (where s.within)::numeric
                                / nullif(count(*) filter (where s.decided), 0), 4),
           'medianFirstResponseSeconds', round(extract(epoch from percentile_cont(0.5) within group (
                                           order by s.response_time))::numeric, 1))
    into v_sla
    from (select c.first_response_at is not null or c.sla_due_at <= p_now as decided,
                 coalesce(c.first_response_at <= c.sla_due_at, false) as within,
                 c.first_response_at - c.created_at as response_time
            from conversations c
           where c.created_at >= v_since and c.created_at < v_until
             and c.sla_due_at is not null) s;

  select coalesce(jsonb_agg(jsonb_build_object(
           'channel', h.channel, 'sent', h.sent, 'failed', h.failed, 'skipped', h.skipped,
           'p95Ms', h.p95_ms, 'lastFailedAt', h.last_failed_at) order by h.channel), '[]'::jsonb)
    into v_channels
    from (select n.channel,
                 count(*) filter (where n.status = 'sent') as sent,
                 count(*) filter (where n.status = 'failed') as failed,
                 count(*) filter (where n.status = 'skipped') as skipped,
                 round(percentile_cont(0.95) within group (order by n.duration_ms)
                         filter (where n.duration_ms is not null and n.status <> 'skipped')) as p95_ms,
                 max(n.created_at) filter (where n.status = 'failed') as last_failed_at
            from notification_logs n
           where n.created_at >= p_now - interval '24 hours' and n.created_at <= p_now
           group by n.channel) h;

  return jsonb_build_object(
    'generatedAt', p_now,
    'days', v_days,
    'since', v_since,
    'total', v_total,
    'leadsPerDay', v_per_day,
    'bySource', v_by_source,
    'sourceOtherCount', v_source_other,
    'byIntent', v_by_intent,
    'intentOtherCount', v_intent_other,
    'sla', v_sla,
    'channels', v_channels
  );
end
$$;

revoke all on function admin_overview(timestamptz, integer) from public, anon, authenticated;
grant execute on function admin_overview(timestamptz, integer) to service_role;
