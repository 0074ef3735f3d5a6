import type { ChannelName } from '../notifications/sender.js';
import type { Storage } from '../storage/storage.js';

/**
 * Typed calls to the worker's SQL functions (supabase/migrations/
 * 20261122000200_notification_worker.sql). Every mode (PGlite, Postgres, Supabase
 * rpc) runs the same functions, so the rules live in one place.
 */
export type SettledStatus = 'sent' | 'skipped' | 'failed';

export interface ClaimedEvent {
  id: number;
  eventType: string;
  conversationId: string | null;
  payload: unknown;
  /** This attempt's number (counted at claim time). */
  attempts: number;
  createdAt: string;
  /** Channels that need nothing more: sent, skipped, or failed permanently this round. */
  settled: Partial<Record<string, SettledStatus>>;
}

/**
 * One notification_logs row. `rate_limited`: the provider refused for rate and the send
 * was re-queued within the same attempt (20261201000200_worker_pipeline.sql).
 */
export interface ChannelLog {
  channel: ChannelName;
  status: 'sent' | 'failed' | 'skipped' | 'rate_limited';
  error?: string | undefined;
  providerStatus?: number | undefined;
  durationMs?: number | undefined;
  permanent?: boolean | undefined;
  /** Shared by the rows of every event one digest message covered. */
  digestId?: string | undefined;
  /**
   * When the attempt ended (performance.now()). Sent as `agoMs`, so the row's created_at
   * is the attempt's time on the database's clock, not the time of the grouped record.
   */
  finishedAt?: number | undefined;
}

/**
 * delivered: every channel sent or skipped. failed: every channel settled but one
 * failed for good (the event is dead). pending: a transient failure, retry later
 * (dead instead once attempts are used up; the SQL function decides).
 */
export interface EventResult {
  eventId: number;
  attempt: number;
  result: 'delivered' | 'failed' | 'pending';
  retryInMs?: number | undefined;
  error?: string | undefined;
  /** Nothing was tried in this attempt (released unsent at shutdown): give it back. */
  refundAttempt?: boolean | undefined;
  logs: ChannelLog[];
}

export interface RecordOutcome {
  recorded: { id: number; outcome: 'delivered' | 'dead' | 'retry' }[];
  /** Events whose lease another worker took over: nothing was written for them. */
  lost: number[];
}

export interface WorkerIdentity {
  workerId: string;
  host: string;
  pid: number;
}

export function outboxStore(storage: Storage) {
  return {
    /**
     * With `maxAttempts` (the worker always passes WORKER_MAX_ATTEMPTS), an event whose
     * attempts already reached it is made dead instead of handed out again
     * (20261201000100_hardening.sql): its last holder died while holding it.
     */
    claim(
      workerId: string,
      batchSize: number,
      leaseSeconds: number,
      maxAttempts?: number,
    ): Promise<ClaimedEvent[]> {
      return storage.call<ClaimedEvent[]>('claim_lead_events', {
        p_worker_id: workerId,
        p_batch_size: batchSize,
        p_lease_seconds: leaseSeconds,
        p_max_attempts: maxAttempts,
      });
    },
    record(workerId: string, results: EventResult[], maxAttempts: number): Promise<RecordOutcome> {
      const now = performance.now();
      const rows = results.map((result) => ({
        ...result,
        logs: result.logs.map(({ finishedAt, ...log }) => ({
          ...log,
          agoMs: finishedAt === undefined ? undefined : Math.max(0, Math.round(now - finishedAt)),
        })),
      }));
      return storage.call<RecordOutcome>('record_notification_results', {
        p_worker_id: workerId,
        p_batch: { results: rows },
        p_max_attempts: maxAttempts,
      });
    },
    /**
     * Liveness row, and a renewed lease on `heldEventIds` only: the events the worker
     * really has in hand (20261122000600_worker_fixes.sql says why not all of its leases).
     */
    beat(
      identity: WorkerIdentity,
      leaseSeconds: number,
      heldEventIds: readonly number[],
      stopping = false,
    ): Promise<unknown> {
      return storage.call('beat_worker', {
        p_worker_id: identity.workerId,
        p_host: identity.host,
        p_pid: identity.pid,
        p_lease_seconds: leaseSeconds,
        p_stopping: stopping,
        p_held_event_ids: [...heldEventIds],
      });
    },
    replay(
      target: { eventId: number } | { failedSince: Date },
    ): Promise<{ replayed: number[]; count: number }> {
      return storage.call('replay_dead_events', {
        p_event_id: 'eventId' in target ? target.eventId : undefined,
        p_failed_since: 'failedSince' in target ? target.failedSince.toISOString() : undefined,
      });
    },
  };
}

export type OutboxStore = ReturnType<typeof outboxStore>;
