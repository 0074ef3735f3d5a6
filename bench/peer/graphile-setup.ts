import { runMigrations } from 'graphile-worker';
import type pg from 'pg';

/**
 * Puts graphile-worker's schema into the bench database and makes every lead also
 * enqueue a graphile-worker job in the same transaction: an AFTER INSERT trigger on
 * lead_events (which capture_lead writes) calls graphile_worker.add_job. The API and
 * capture_lead stay exactly as they are, so intake is the same for both systems.
 * Bench database only; never a migration of leadrelay's.
 */
export async function enableGraphileEnqueue(pool: pg.Pool, databaseUrl: string) {
  await runMigrations({ connectionString: databaseUrl, logger: undefined });
  await pool.query(`
    create or replace function bench_graphile_enqueue() returns trigger
    language plpgsql as $$
    begin
      perform graphile_worker.add_job('lead_created', json_build_object(
        'eventId', new.id, 'conversationId', new.conversation_id, 'payload', new.payload));
      return null;
    end
    $$;
    drop trigger if exists bench_graphile_enqueue on lead_events;
    create trigger bench_graphile_enqueue after insert on lead_events
      for each row execute function bench_graphile_enqueue();`);
}

export async function disableGraphileEnqueue(pool: pg.Pool) {
  await pool.query('drop trigger if exists bench_graphile_enqueue on lead_events');
}

export async function pendingGraphileJobs(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from graphile_worker.jobs');
  return rows[0]!.n;
}
