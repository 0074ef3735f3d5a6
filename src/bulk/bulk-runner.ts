import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { StorageUnavailableError, toError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { type BulkAction, bulkStore } from './bulk-store.js';

/**
 * The bulk-action engine, run by every worker process beside the notification worker
 * (and inside the API on the embedded default). One action at a time per runner:
 *
 *   starting -> idle      start() LISTENs on leadrelay_bulk
 *   idle     -> claiming  a NOTIFY (an action was created), or the poll timer
 *   claiming -> idle      nothing to claim
 *   claiming -> running   claimed an action: its lease is ours (bulk_claim_action)
 *   running  -> running   a batch committed (bulk_run_batch: one transaction), or
 *                         failed and was rolled back: retried after a backoff
 *   running  -> claiming  the action finished (completed, or failed when its batch ran
 *                         out of BULK_BATCH_ATTEMPTS), or its lease was lost: look for more
 *   any      -> stopping  stop(): the batch in flight finishes (it is one short
 *                         transaction), then the lease is handed back
 *   stopping -> stopped
 *
 * Every batch call renews the lease; a runner that dies (SIGKILL) stops renewing it and
 * another one claims the action once the lease (WORKER_LEASE_SECONDS) runs out, at the
 * cursor the last committed batch left. Nothing is applied twice: a batch's changes and
 * the cursor commit together. An unreachable database is waited out without counting
 * attempts (nothing can have been written); any other error counts one.
 */
export interface BulkRunnerOptions {
  storage: Storage;
  config: Pick<Config, 'bulk' | 'worker'>;
  logger: Logger;
  workerId?: string;
  /** How often to look for actions without a NOTIFY (default WORKER_POLL_INTERVAL_MS). */
  pollIntervalMs?: number;
}

export interface BulkRunner {
  readonly id: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  wake(): void;
}

type Mode = 'starting' | 'idle' | 'claiming' | 'running' | 'stopping' | 'stopped';
const TRANSITIONS: Record<Mode, readonly Mode[]> = {
  starting: ['idle', 'stopping'],
  idle: ['claiming', 'stopping'],
  claiming: ['idle', 'running', 'stopping'],
  running: ['claiming', 'stopping'],
  stopping: ['stopped'],
  stopped: [],
};
export const BULK_CHANNEL = 'leadrelay_bulk';
const RETRY_BASE_MS = 250;

export function createBulkRunner(options: BulkRunnerOptions): BulkRunner {
  const { storage, config } = options;
  const store = bulkStore(storage);
  const workerId = options.workerId ?? `bulk:${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const logger = options.logger.child({ component: 'bulk-runner', workerId });
  const leaseSeconds = config.worker.leaseSeconds;
  const pollMs = options.pollIntervalMs ?? config.worker.pollIntervalMs;
  const { batchSize, batchAttempts } = config.bulk;
  // Backoff never outlasts a third of the lease, so a retrying runner keeps its action.
  const maxRetryMs = Math.max(RETRY_BASE_MS, (leaseSeconds * 1000) / 3);

  let mode: Mode = 'starting';
  let wakePending = false;
  let nudge: (() => void) | undefined;
  let loopDone: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | null = null;

  const setMode = (next: Mode) => {
    if (next === mode) return;
    assert.ok(TRANSITIONS[mode].includes(next), `bulk runner: ${mode} -> ${next}`);
    mode = next;
  };
  const stopping = () => mode === 'stopping' || mode === 'stopped';
  const wake = () => {
    wakePending = true;
    nudge?.();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        nudge = undefined;
        resolve();
      }
      nudge = done;
    });

  async function runAction(claimed: BulkAction): Promise<void> {
    const context = { bulkActionId: claimed.id, action: claimed.kind === 'undo' ? 'undo' : claimed.action };
    logger.info(
      { ...context, total: claimed.total, processed: claimed.processed + claimed.skipped },
      claimed.progressedAt && claimed.processed + claimed.skipped > 0
        ? 'Resuming bulk action where it stopped'
        : 'Running bulk action',
    );
    for (;;) {
      if (stopping()) {
        await store
          .release(claimed.id, workerId)
          .catch((error: unknown) =>
            logger.warn(
              { ...context, err: toError(error) },
              'Could not hand back the bulk action; its lease runs out',
            ),
          );
        return;
      }
      const started = performance.now();
      try {
        const outcome = await store.runBatch(claimed.id, workerId, batchSize, leaseSeconds);
        const { action } = outcome;
        logger.debug(
          { ...context, done: action.processed + action.skipped, total: action.total },
          `Bulk batch committed in ${Math.round(performance.now() - started)} ms`,
        );
        if (outcome.state === 'lost') {
          logger.warn(context, 'Bulk action lease taken over by another worker; leaving it to them');
          return;
        }
        if (outcome.state === 'done') {
          logger.info(
            {
              ...context,
              processed: action.processed,
              skipped: action.skipped,
              skipReasons: action.skipReasons,
            },
            'Bulk action completed',
          );
          return;
        }
      } catch (error) {
        const err = toError(error);
        if (err instanceof StorageUnavailableError) {
          logger.warn({ ...context, err }, 'Database unavailable during a bulk batch; trying again');
          await pause(maxRetryMs);
          continue;
        }
        let failure: Awaited<ReturnType<typeof store.batchFailed>>;
        try {
          failure = await store.batchFailed(claimed.id, workerId, err.message, batchAttempts, batchSize);
        } catch (recordError) {
          logger.error({ ...context, err: toError(recordError) }, 'Could not record a failed bulk batch');
          await pause(maxRetryMs);
          continue;
        }
        const attempt = `attempt ${failure.action.attempts} of ${batchAttempts}`;
        if (failure.state === 'failed') {
          logger.error({ ...context, err, attempt }, 'Bulk action failed: a batch ran out of attempts');
          return;
        }
        if (failure.state === 'lost') return;
        logger.warn({ ...context, err, attempt }, 'Bulk batch rolled back; retrying');
        await pause(Math.min(maxRetryMs, RETRY_BASE_MS * 2 ** (failure.action.attempts - 1)));
      }
    }
  }

  async function loop(): Promise<void> {
    while (!stopping()) {
      if (!wakePending) {
        setMode('idle');
        await pause(pollMs);
        if (stopping()) break;
      }
      wakePending = false;
      setMode('claiming');
      let action: BulkAction | null;
      try {
        action = await store.claim(workerId, leaseSeconds);
      } catch (error) {
        logger.warn({ err: toError(error) }, 'Claiming a bulk action failed; trying again at the next poll');
        continue;
      }
      if (!action) continue;
      if (stopping()) {
        await store.release(action.id, workerId).catch(() => {});
        break;
      }
      setMode('running');
      await runAction(action);
      // There may be another one queued behind it.
      wakePending = true;
    }
  }

  return {
    id: workerId,
    wake,
    async start() {
      unlisten = await storage.listen(BULK_CHANNEL, wake, { onReconnect: wake });
      setMode('idle');
      wakePending = true;
      loopDone = loop().catch((error: unknown) =>
        logger.fatal({ err: toError(error) }, 'Bulk runner stopped unexpectedly'),
      );
      logger.info({ batchSize, batchAttempts, wakeUp: unlisten ? 'listen' : 'poll' }, 'Bulk runner started');
    },
    async stop() {
      if (mode === 'stopped') return;
      if (!stopping()) setMode('stopping');
      nudge?.();
      await loopDone;
      setMode('stopped');
      await unlisten?.().catch(() => {});
    },
  };
}
