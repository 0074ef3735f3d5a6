import type { Logger } from '../logger.js';
import { StorageQueryError, StorageUnavailableError } from '../storage/errors.js';
import type { ClaimedEvent, EventResult, OutboxStore, RecordOutcome } from './outbox-store.js';

/**
 * Records event results as they finish, in small grouped calls (the shape of
 * graphile-worker's completeJobs batching): results that finish while a call is running
 * wait and go in the next call together, at most GROUP_MAX per call, one call at a
 * time. A result is recorded only by the worker that still holds the event's lease
 * (record_notification_results checks it), so the window cannot write for an event it
 * lost.
 *
 * Failures, by kind:
 * - database unreachable: retried (it is idempotent: a repeat after a lost answer finds
 *   the lease released and writes nothing) with RETRY_DELAYS_MS, then every
 *   RETRY_MAX_MS, until shutdown runs out of grace. Giving up sooner would turn every
 *   send of the group into a duplicate once its lease expired.
 * - refused for its data (SQLSTATE class 22 or 23, e.g. text Postgres will not store):
 *   the group is recorded again event by event; the event that is refused alone is
 *   recorded once more with a placeholder instead of its error texts. If even that is
 *   refused it is left unrecorded (its lease runs out and it is tried again) and logged:
 *   a data error never stops the worker.
 * - anything else (a missing function, a bug): thrown; the worker stops.
 */
export interface RecordEntry {
  event: ClaimedEvent;
  result: EventResult;
}

export interface ResultRecorderOptions {
  store: OutboxStore;
  workerId: string;
  maxAttempts: number;
  logger: Logger;
  /** Aborted when shutdown runs out of grace: stop retrying an unreachable database. */
  shutdownSignal: AbortSignal;
  /** After each successful call (admin feed, metrics). */
  onRecorded(entries: RecordEntry[], outcome: RecordOutcome): void;
  /** When recording works again after the database was unreachable. */
  onUnstalled(): void;
}

export interface ResultRecorder {
  /** Resolves once the result is written (or given up after a data error). */
  record(entry: RecordEntry): Promise<void>;
  /**
   * A record call is failing because the database is unreachable. The worker claims
   * nothing meanwhile: its held events' leases may have run out during the outage, and
   * a claim that came first after it would take them again and send them twice.
   */
  stalled(): boolean;
}

const GROUP_MAX = 50;
const RETRY_DELAYS_MS = [250, 500, 1_000, 2_000];
const RETRY_MAX_MS = 5_000;

interface Waiting extends RecordEntry {
  resolve(): void;
  reject(error: unknown): void;
}

export function isDataError(error: unknown): error is StorageQueryError {
  return error instanceof StorageQueryError && /^2[23]/.test(error.code);
}

export function createResultRecorder(options: ResultRecorderOptions): ResultRecorder {
  const { store, logger, shutdownSignal } = options;
  const queue: Waiting[] = [];
  let flushing = false;
  let stalled = false;

  async function callWithRetry(results: EventResult[]): Promise<RecordOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await store.record(options.workerId, results, options.maxAttempts);
      } catch (error) {
        if (!(error instanceof StorageUnavailableError) || shutdownSignal.aborted) throw error;
        stalled = true;
        const delay = RETRY_DELAYS_MS[attempt] ?? RETRY_MAX_MS;
        logger.warn(
          { err: error, retryInMs: delay, attempt: attempt + 1, eventIds: results.map((r) => r.eventId) },
          'Recording notification results failed; retrying',
        );
        await pause(delay, shutdownSignal);
      }
    }
  }

  async function recordOneByOne(entries: RecordEntry[]): Promise<RecordOutcome> {
    const merged: RecordOutcome = { recorded: [], lost: [] };
    for (const { result } of entries) {
      let outcome: RecordOutcome;
      try {
        outcome = await callWithRetry([result]);
      } catch (error) {
        if (!isDataError(error)) throw error;
        try {
          outcome = await callWithRetry([withPlaceholder(result, error.code)]);
          logger.error(
            { eventId: result.eventId, code: error.code },
            'Result refused by the database for its data; recorded with a placeholder error instead',
          );
        } catch (again) {
          if (!isDataError(again)) throw again;
          logger.error(
            { eventId: result.eventId, code: again.code },
            'Result refused by the database even with a placeholder; left to its lease (tried again later)',
          );
          outcome = { recorded: [], lost: [result.eventId] };
        }
      }
      merged.recorded.push(...outcome.recorded);
      merged.lost.push(...outcome.lost);
    }
    return merged;
  }

  async function write(entries: RecordEntry[]): Promise<RecordOutcome> {
    // The attempt the worker holds now (it may have claimed the event again, see
    // notification-worker.ts `adopted`), not the one the send started under.
    for (const entry of entries) entry.result.attempt = entry.event.attempts;
    const results = entries.map((entry) => entry.result);
    try {
      return await callWithRetry(results);
    } catch (error) {
      if (!isDataError(error)) throw error;
      logger.warn(
        { code: error.code, eventIds: results.map((r) => r.eventId) },
        'A group of results was refused for its data; recording event by event',
      );
      return recordOneByOne(entries);
    }
  }

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const group = queue.splice(0, GROUP_MAX);
        try {
          const outcome = await write(group);
          report(group, outcome);
          options.onRecorded(group, outcome);
          for (const entry of group) entry.resolve();
        } catch (error) {
          for (const entry of group) entry.reject(error);
        }
      }
    } finally {
      flushing = false;
      // Unstalled only once everything queued during the outage is written: a claim
      // before that could take the expired leases of results still waiting here.
      if (stalled) {
        stalled = false;
        options.onUnstalled();
      }
    }
  }

  function report(entries: RecordEntry[], outcome: RecordOutcome): void {
    for (const { id, outcome: state } of outcome.recorded) {
      if (state !== 'dead') continue;
      const result = entries.find((entry) => entry.result.eventId === id)?.result;
      logger.error({ eventId: id, error: result?.error }, 'Event is dead: no more attempts');
    }
    if (outcome.lost.length > 0) {
      logger.warn({ eventIds: outcome.lost }, 'Lease lost before recording; not recorded by this worker');
    }
  }

  return {
    stalled: () => stalled,
    record(entry) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ ...entry, resolve, reject });
        // setImmediate rather than at once: results finishing in the same turn (a digest
        // covers many events) go in one call.
        if (!flushing) {
          flushing = true;
          setImmediate(() => void flush());
        }
      });
    },
  };
}

/** The result with every provider text replaced: what the database refused was in there. */
function withPlaceholder(result: EventResult, code: string): EventResult {
  const placeholder = `[error text not stored: refused by the database (SQLSTATE ${code})]`;
  return {
    ...result,
    error: result.error === undefined ? undefined : placeholder,
    logs: result.logs.map((log) => ({ ...log, error: log.error === undefined ? undefined : placeholder })),
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
