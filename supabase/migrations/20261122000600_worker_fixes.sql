-- leadrelay notification worker fixes found by the reliability tests (issue 5).
--
-- Why this file exists: beat_worker (20261122000200_notification_worker.sql) renews the
-- lease on every unprocessed event locked_by the calling worker. When a claim commits
-- but its answer never reaches the worker (the connection drops after the commit), the
-- events are leased to a live worker that does not know it holds them, and its
-- heartbeat then renews that lease for as long as the worker lives: the events are
-- never sent. tests/reliability/worker-database-restart.test.ts reproduces it.
--
-- The fix: the heartbeat names the events the worker really holds, and only those are
-- renewed. Any other lease in the worker's name simply runs out (WORKER_LEASE_SECONDS)
-- and the events are claimed again. It is not released at once on purpose: a beat can
-- run on the server just after a claim committed and before the worker has read its
-- answer, and releasing then would let a second worker send the same batch.
--
-- A new overload with one more argument (no default, so a call with the old five named
-- arguments still resolves to the old function unambiguously); the landed migration is
-- not edited and the old function stays for callers that only want the liveness row.
-- Runs on PostgreSQL 15 and PGlite, and twice: CREATE OR REPLACE only.

create or replace function beat_worker(
  p_worker_id text,
  p_host text,
  p_pid integer,
  p_lease_seconds integer,
  p_stopping boolean,
  p_held_event_ids bigint[]
) returns jsonb
language plpgsql as $$
declare
  v_extended integer;
begin
  insert into worker_heartbeats (id, host, pid)
  values (p_worker_id, p_host, p_pid)
  on conflict (id) do update
     set last_beat_at = now(),
         stopped_at = case when p_stopping then now() end;

  update lead_events
     set locked_until = now() + make_interval(secs => p_lease_seconds)
   where locked_by = p_worker_id
     and id = any(coalesce(p_held_event_ids, '{}'::bigint[]))
     and processed = false
     and not p_stopping;
  get diagnostics v_extended = row_count;

  return jsonb_build_object('workerId', p_worker_id, 'leasesRenewed', v_extended);
end
$$;

revoke all on function beat_worker(text, text, integer, integer, boolean, bigint[]) from public, anon, authenticated;
grant execute on function beat_worker(text, text, integer, integer, boolean, bigint[]) to service_role;
