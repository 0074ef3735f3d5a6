import type { Storage } from '../storage/storage.js';
import {
  opsSnapshotUp,
  outboxDeadEvents,
  outboxDepth,
  outboxOldestAge,
  slaOpenBreaches,
  workerLastBeatAge,
  workers,
} from './metrics.js';

/**
 * The database's view of the pipeline (SQL function ops_metrics_snapshot in
 * supabase/migrations/20261122000400_ops_metrics.sql): one call per scrape, the same
 * numbers for every API and worker process, and the same call in every storage mode.
 */
export interface OpsSnapshot {
  outboxDepth: number;
  oldestUnprocessedAgeSeconds: number;
  deadEvents: number;
  slaOpenBreaches: number;
  /** null when the worker_heartbeats table is absent. */
  workers: { live: number; stale: number; stopped: number; lastBeatAgeSeconds: number | null } | null;
}

const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? 0));

export async function readOpsSnapshot(storage: Storage, staleAfterSeconds: number): Promise<OpsSnapshot> {
  const raw = await storage.call<Record<string, unknown>>('ops_metrics_snapshot', {
    p_stale_after_seconds: staleAfterSeconds,
  });
  const w = raw.workers as Record<string, unknown> | null;
  return {
    outboxDepth: num(raw.outboxDepth),
    oldestUnprocessedAgeSeconds: num(raw.oldestUnprocessedAgeSeconds),
    deadEvents: num(raw.deadEvents),
    slaOpenBreaches: num(raw.slaOpenBreaches),
    workers: w
      ? {
          live: num(w.live),
          stale: num(w.stale),
          stopped: num(w.stopped),
          lastBeatAgeSeconds: w.lastBeatAgeSeconds === null ? null : num(w.lastBeatAgeSeconds),
        }
      : null,
  };
}

/**
 * Refreshes the database-backed gauges before a scrape. A failure leaves the last
 * values in place and sets leadrelay_ops_snapshot_up to 0 (alert on that), so a scrape
 * still returns the process's own series while the database is away.
 */
export async function refreshOpsGauges(storage: Storage, staleAfterSeconds: number): Promise<boolean> {
  try {
    const snapshot = await readOpsSnapshot(storage, staleAfterSeconds);
    outboxDepth.set(snapshot.outboxDepth);
    outboxOldestAge.set(snapshot.oldestUnprocessedAgeSeconds);
    outboxDeadEvents.set(snapshot.deadEvents);
    slaOpenBreaches.set(snapshot.slaOpenBreaches);
    if (snapshot.workers) {
      workers.set({ state: 'live' }, snapshot.workers.live);
      workers.set({ state: 'stale' }, snapshot.workers.stale);
      workers.set({ state: 'stopped' }, snapshot.workers.stopped);
      if (snapshot.workers.lastBeatAgeSeconds === null) workerLastBeatAge.reset();
      else workerLastBeatAge.set(snapshot.workers.lastBeatAgeSeconds);
    }
    opsSnapshotUp.set(1);
    return true;
  } catch {
    opsSnapshotUp.set(0);
    return false;
  }
}
