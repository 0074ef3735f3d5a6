-- Grants that state themselves: what Supabase's rpc mode needs, and nothing else.
--
-- Why this file exists: through Supabase's Data API every rpc runs in a transaction as
-- the role named in the JWT (`service_role` for the server's key), with the function
-- called by named arguments. All leadrelay functions are SECURITY INVOKER, so
-- service_role needs EXECUTE on the functions the storage layer calls and on the
-- helpers those call in turn, and nothing more. A review against that found:
-- * capture_lead_replay (called by capture_lead for idempotent repeats) was never
--   granted to service_role: repeats worked on Supabase only through its default
--   privileges, and not at all on plain Postgres with the created roles.
-- * beat_worker had two overloads; the superseded five-argument one was still granted.
--   Dead code, and a named-argument call with five arguments is ambiguous to PostgREST.
-- * leadrelay_schema_migrations only revoked PUBLIC: with DATABASE_URL on Supabase,
--   the project's default privileges gave anon and authenticated rights on it.
-- * leadrelay_schema_versions() raised 42501 on a hosted project, where the server's
--   role cannot read supabase_migrations, so readiness failed for ever.
-- * Every table has row level security on and no policies. On Supabase service_role
--   has BYPASSRLS; the role the foundation creates on plain Postgres and PGlite did
--   not, so there every rpc write as service_role failed with 42501.
-- * ops_stale_worker_count and the ops_* views are operator tools read with SQL as the
--   database owner; the rpc mode never reads them.
--
-- tests/storage/rpc-grants.test.ts enumerates the functions src/ calls and checks
-- that service_role can execute exactly those (and the helpers they call), and that
-- anon and authenticated can reach no function and no table. Later migrations grant
-- their own functions; nothing here revokes from service_role in bulk.
-- Runs on PostgreSQL 15 and PGlite, and twice.

-- service_role as Supabase defines it: it bypasses RLS (the API roles never do).
-- Setting the attribute needs a superuser; where it is already set (Supabase) nothing
-- is attempted. Roles are cluster-wide: a database migrating at the same moment may
-- set it first ("tuple concurrently updated"), which is as good.
do $$
begin
  if not (select rolbypassrls from pg_roles where rolname = 'service_role') then
    begin
      execute 'alter role service_role bypassrls';
    exception when insufficient_privilege or internal_error then
      if not (select rolbypassrls from pg_roles where rolname = 'service_role') then
        raise warning 'service_role lacks BYPASSRLS and this role cannot grant it: rpc writes will fail';
      end if;
    end;
  end if;
end
$$;

-- The superseded heartbeat: the worker always sends p_held_event_ids.
drop function if exists beat_worker(text, text, integer, integer, boolean);

-- Helpers a granted function calls as service_role.
revoke all on function capture_lead_replay(conversations, text) from public, anon, authenticated;
grant execute on function capture_lead_replay(conversations, text) to service_role;

-- Operator-only objects and trigger functions: not part of the rpc mode. (Triggers
-- fire without EXECUTE; Supabase's default privileges had granted these anyway.)
revoke all on function lead_events_guard_append_only() from service_role;
revoke all on function admin_notify_lead_change() from service_role;
revoke all on function ops_stale_worker_count(interval) from service_role;
revoke all on ops_queue_health, ops_channel_health, ops_sla from service_role;

-- Every table, view and sequence of leadrelay: nothing for the Data API's public roles.
revoke all on table conversations, lead_events, conversation_timeline, follow_up_tasks,
  notification_logs, worker_heartbeats, ops_queue_health, ops_channel_health, ops_sla
  from public, anon, authenticated;
revoke all on sequence conversation_timeline_id_seq, follow_up_tasks_id_seq, lead_events_id_seq,
  notification_logs_id_seq from public, anon, authenticated;

-- The app's migration history exists where the app migrates (not after `supabase db
-- push`). Readiness reads it as service_role through leadrelay_schema_versions().
do $$
begin
  if to_regclass('public.leadrelay_schema_migrations') is not null then
    execute 'revoke all on table public.leadrelay_schema_migrations from public, anon, authenticated';
    execute 'grant select on table public.leadrelay_schema_migrations to service_role';
  end if;
end
$$;

-- Applied migration versions, from whichever history this role can read. A history it
-- may not read (42501: on a hosted project service_role has no USAGE on
-- supabase_migrations, and to_regclass itself raises) counts as unknown instead of
-- failing the call. The result is null when no history could be read at all, so the
-- caller can say "not verifiable" rather than "everything pending". SECURITY INVOKER
-- like every other function: readiness must see what the server's role sees.
create or replace function leadrelay_schema_versions()
returns jsonb
language plpgsql stable as $$
declare
  v_versions text[] := '{}';
  v_more text[];
  v_read_any boolean := false;
  v_unreadable boolean := false;
begin
  begin
    if to_regclass('public.leadrelay_schema_migrations') is not null then
      execute 'select coalesce(array_agg(version::text), ''{}'') from public.leadrelay_schema_migrations'
        into v_more;
      v_versions := v_versions || v_more;
      v_read_any := true;
    end if;
  exception when insufficient_privilege then
    v_unreadable := true;
  end;
  begin
    if to_regclass('supabase_migrations.schema_migrations') is not null then
      execute 'select coalesce(array_agg(version::text), ''{}'') from supabase_migrations.schema_migrations'
        into v_more;
      v_versions := v_versions || v_more;
      v_read_any := true;
    end if;
  exception when insufficient_privilege then
    v_unreadable := true;
  end;
  if v_unreadable and not v_read_any then
    return null;
  end if;
  return (select coalesce(jsonb_agg(distinct v order by v), '[]'::jsonb) from unnest(v_versions) as v);
end
$$;

revoke all on function leadrelay_schema_versions() from public, anon, authenticated;
grant execute on function leadrelay_schema_versions() to service_role;
