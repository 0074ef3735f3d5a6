-- leadrelay operations: read-only functions for /metrics, /health/ready and the
-- `leadrelay` CLI (health, cleanup --dry-run, replay's progress bar).
--
-- Why this file exists: Prometheus scrapes, readiness probes and the operator's CLI
-- must see the same numbers in every storage mode, including Supabase, where the
-- application can only call functions (PostgREST rpc), never run ad-hoc SQL. So each
-- question the operator asks is one function returning jsonb.
--
-- Like the earlier migrations it runs on PostgreSQL 15 (Supabase, CI) and PGlite
-- (Postgres 18) and is safe to run twice (CREATE OR REPLACE only). It creates no
-- table (so no new RLS policy is needed) and changes no data. Tables that belong to
-- other migrations (worker_heartbeats, Supabase's own migration history) are looked
-- up at run time with to_regclass, so these functions keep working if those tables
-- are absent or change shape.

-- Metrics snapshot ----------------------------------------------------------------
-- Everything a scrape needs in one round trip, so a scrape every 15 s costs one call.
-- The depth and age queries read only unprocessed rows and are served by the partial
-- index lead_events_claim_idx (where processed = false): their cost follows the
-- backlog, not the table's history. A worker is "live" when it has not stopped
-- cleanly and beat within p_stale_after_seconds; "stale" when it has not stopped
-- cleanly but went silent (crashed, frozen, or cut off from the database).
create or replace function ops_metrics_snapshot(p_stale_after_seconds integer default 120)
returns jsonb
language plpgsql stable as $$
declare
  v_depth bigint;
  v_oldest double precision;
  v_dead bigint;
  v_breaches bigint;
  v_workers jsonb := null;
begin
  select count(*), coalesce(extract(epoch from now() - min(created_at)), 0)
    into v_depth, v_oldest
    from lead_events
   where processed = false;

  select count(*) into v_dead from lead_events where outcome = 'dead';

  select count(*) into v_breaches
    from conversations
   where sla_breached = true and first_response_at is null;

  if to_regclass('worker_heartbeats') is not null then
    begin
      execute $q$
        select jsonb_build_object(
          'live', count(*) filter (where stopped_at is null and last_beat_at >= now() - $1),
          'stale', count(*) filter (where stopped_at is null and last_beat_at < now() - $1),
          'stopped', count(*) filter (where stopped_at is not null and stopped_at >= now() - interval '1 day'),
          'lastBeatAgeSeconds',
            extract(epoch from now() - max(last_beat_at) filter (where stopped_at is null)))
          from worker_heartbeats
      $q$
      into v_workers
      using make_interval(secs => p_stale_after_seconds);
    exception when undefined_column then
      v_workers := null;
    end;
  end if;

  return jsonb_build_object(
    'outboxDepth', v_depth,
    'oldestUnprocessedAgeSeconds', round(v_oldest::numeric, 3),
    'deadEvents', v_dead,
    'slaOpenBreaches', v_breaches,
    'workers', v_workers
  );
end
$$;

-- Retention dry run -----------------------------------------------------------------
-- What purge_processed_events(p_older_than) would delete, without deleting it. The
-- WHERE clause must stay identical to the purge's (processed events whose
-- coalesce(processed_at, created_at) is older than the cut-off); notification_logs
-- are counted because they cascade with their event.
create or replace function ops_count_purgeable_events(p_older_than timestamptz)
returns jsonb
language sql stable as $$
  with doomed as (
    select id
      from lead_events
     where processed = true
       and coalesce(processed_at, created_at) < p_older_than
  )
  select jsonb_build_object(
    'events', (select count(*) from doomed),
    'notificationLogs', (select count(*) from notification_logs l where l.event_id in (select id from doomed))
  )
$$;

-- Applied migration versions --------------------------------------------------------
-- Readiness compares the migration files shipped with the build to what the database
-- has applied. The app's migrator records versions in leadrelay_schema_migrations;
-- `supabase db push` records them in supabase_migrations.schema_migrations. Either or
-- both may exist; the union is the answer.
create or replace function leadrelay_schema_versions()
returns jsonb
language plpgsql stable as $$
declare
  v_versions text[] := '{}';
  v_more text[];
begin
  if to_regclass('leadrelay_schema_migrations') is not null then
    execute 'select coalesce(array_agg(version::text), ''{}'') from leadrelay_schema_migrations' into v_more;
    v_versions := v_versions || v_more;
  end if;
  if to_regclass('supabase_migrations.schema_migrations') is not null then
    execute 'select coalesce(array_agg(version::text), ''{}'') from supabase_migrations.schema_migrations'
      into v_more;
    v_versions := v_versions || v_more;
  end if;
  return (select coalesce(jsonb_agg(distinct v order by v), '[]'::jsonb) from unnest(v_versions) as v);
end
$$;

-- Dead events a replay would take ---------------------------------------------------
-- The same selection as replay_dead_events (outcome = 'dead', optionally one id or
-- those that died since a time), listed first so the CLI can replay them one by one
-- with a progress bar instead of one long, silent statement.
create or replace function ops_dead_event_ids(
  p_event_id bigint default null,
  p_failed_since timestamptz default null
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(id order by id), '[]'::jsonb)
    from lead_events
   where outcome = 'dead'
     and (p_event_id is null or id = p_event_id)
     and (p_failed_since is null or processed_at >= p_failed_since)
$$;

-- Privileges ----------------------------------------------------------------------
-- Nothing for the public API roles; the server (service_role) may call everything.
revoke all on function ops_metrics_snapshot(integer) from public, anon, authenticated;
revoke all on function ops_count_purgeable_events(timestamptz) from public, anon, authenticated;
revoke all on function leadrelay_schema_versions() from public, anon, authenticated;
revoke all on function ops_dead_event_ids(bigint, timestamptz) from public, anon, authenticated;
grant execute on function ops_metrics_snapshot(integer) to service_role;
grant execute on function ops_count_purgeable_events(timestamptz) to service_role;
grant execute on function leadrelay_schema_versions() to service_role;
grant execute on function ops_dead_event_ids(bigint, timestamptz) to service_role;
