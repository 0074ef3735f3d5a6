import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FeedMessage } from '../admin/live-feed.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { observeBatch, recordNotificationAttempt } from '../metrics/metrics.js';
import { warnIfNoChannel } from '../notifications/channel-settings.js';
import { buildSenders, type SenderRegistry } from '../notifications/registry.js';
import { slaAutomationOf, startSlaSweeper } from '../sla/sla-sweeper.js';
import { StorageUnavailableError, toError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { deliverEvent } from './deliver-event.js';
import { feedMessages } from './feed-messages.js';
import {
  type ClaimedEvent,
  type EventResult,
  outboxStore,
  type RecordOutcome,
  type WorkerIdentity,
} from './outbox-store.js';

/**
 * The notification worker: claim a batch, send it, record it, repeat.
 *
 * - Wake-up: LISTEN lead_events wakes an idle worker the moment a lead commits; a
 *   poll every WORKER_POLL_INTERVAL_MS is the fallback (Supabase rpc cannot LISTEN,
 *   a NOTIFY can be missed while reconnecting). A full batch is followed by another
 *   claim at once.
 * - Liveness: a heartbeat row per worker, renewed every third of the lease; the same
 *   call renews the lease on the batch in hand, so only a dead worker loses events.
 * - Shutdown: stop claiming, let the batch finish within the grace, then abort the
 *   sends still running and record them as retries; nothing is left leased.
 * - A failure to record results is fatal: the worker stops (and `onFatal` fires)
 *   rather than keep sending what it cannot account for.
 */
export interface NotificationWorkerOptions {
  storage: Storage;
  config: Config;
  logger: Logger;
  /** Channel senders; built from config when omitted. */
  senders?: SenderRegistry;
  workerId?: string;
  /** Called once when the worker stops because it could not record results. */
  onFatal?: (error: Error) => void;
}

export interface NotificationWorker {
  readonly id: string;
  start(): Promise<void>;
  /** Stops claiming, finishes or releases the batch in hand, closes senders. */
  stop(): Promise<void>;
  /** Claim now instead of waiting for the next poll. */
  wake(): void;
}

/**
 * Recording is retried while the database is unreachable (it is idempotent: a repeat
 * after a lost answer finds the lease released and writes nothing), with these delays
 * and then every RECORD_RETRY_MAX_MS, until shutdown runs out of grace. Giving up
 * sooner would not make anything safer (nothing else is sent meanwhile) but would turn
 * every send of the batch into a duplicate once its lease expired.
 */
const RECORD_RETRY_DELAYS_MS = [250, 500, 1_000, 2_000];
const RECORD_RETRY_MAX_MS = 5_000;
const LISTEN_CHANNEL = 'lead_events';

export function createNotificationWorker(options: NotificationWorkerOptions): NotificationWorker {
  const { storage, config } = options;
  const settings = config.worker;
  const identity: WorkerIdentity = {
    workerId: options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    host: hostname(),
    pid: process.pid,
  };
  const logger = options.logger.child({ component: 'notification-worker', workerId: identity.workerId });
  const senders = options.senders ?? buildSenders(config, storage, options.logger);
  const store = outboxStore(storage);
  const dashboardUrl = config.admin.dashboardUrl ?? `http://localhost:${config.port}/admin`;

  let stopping = false;
  let wakePending = false;
  let wakeIdle: (() => void) | undefined;
  let batchAbort: AbortController | undefined;
  /** Ids of the batch in hand: the only leases the heartbeat renews. */
  let held: number[] = [];
  let loopDone: Promise<void> | undefined;
  let stopDone: Promise<void> | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let stopSlaSweeper: (() => Promise<void>) | undefined;
  let unlisten: (() => Promise<void>) | null = null;

  const wake = () => {
    wakePending = true;
    wakeIdle?.();
  };

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (wakePending || stopping) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakeIdle = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeIdle = done;
    });

  const beat = async (final = false) => {
    try {
      await store.beat(identity, settings.leaseSeconds, final ? [] : held, final);
    } catch (error) {
      logger.warn({ err: toError(error) }, 'Worker heartbeat failed');
    }
  };

  async function record(results: EventResult[], shutdownSignal: AbortSignal): Promise<RecordOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await store.record(identity.workerId, results, settings.maxAttempts);
        for (const { id, outcome: state } of outcome.recorded) {
          if (state === 'dead') {
            const result = results.find((r) => r.eventId === id);
            logger.error({ eventId: id, error: result?.error }, 'Event is dead: no more attempts');
          }
        }
        if (outcome.lost.length > 0) {
          logger.warn(
            { eventIds: outcome.lost },
            'Lease lost before recording; another worker owns these events',
          );
        }
        return outcome;
      } catch (error) {
        // Only a connection problem is worth a retry; an answer with an error is a bug.
        if (!(error instanceof StorageUnavailableError) || shutdownSignal.aborted) throw error;
        const delay = RECORD_RETRY_DELAYS_MS[attempt] ?? RECORD_RETRY_MAX_MS;
        logger.warn(
          { err: error, retryInMs: delay, attempt: attempt + 1 },
          'Recording notification results failed; retrying',
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, delay);
          function done() {
            clearTimeout(timer);
            shutdownSignal.removeEventListener('abort', done);
            resolve();
          }
          shutdownSignal.addEventListener('abort', done, { once: true });
        });
      }
    }
  }

  /**
   * Tells admin dashboards about the recorded batch, after its commit (a NOTIFY inside
   * the record transaction would serialise every worker's commits). Best effort: a
   * dashboard that misses it catches up on its next refresh.
   */
  function announce(messages: FeedMessage[]): void {
    if (messages.length === 0) return;
    storage
      .call('announce_admin_feed', { p_messages: { messages } })
      .catch((error: unknown) =>
        logger.debug({ err: toError(error) }, 'Could not announce results to the admin feed'),
      );
  }

  async function processBatch(events: ClaimedEvent[]): Promise<void> {
    batchAbort = new AbortController();
    held = events.map((event) => event.id);
    const deliverSettings = {
      senders,
      dashboardUrl,
      maxAttempts: settings.maxAttempts,
      sendTimeoutMs: settings.sendTimeoutMs,
      backoff: { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs },
      logger,
      shutdownSignal: batchAbort.signal,
    };
    const started = performance.now();
    try {
      // Webhook endpoints live in the database: the batch sees the current list.
      await senders.refresh();
      const results = await Promise.all(events.map((event) => deliverEvent(event, deliverSettings)));
      const outcome = await record(results, batchAbort.signal);
      announce(feedMessages(events, results, outcome));
      for (const log of results.flatMap((result) => result.logs)) {
        recordNotificationAttempt(log.channel, log.status, log.durationMs);
      }
    } finally {
      batchAbort = undefined;
      held = [];
      observeBatch(performance.now() - started, events.length);
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      wakePending = false;
      let events: ClaimedEvent[];
      try {
        events = await store.claim(
          identity.workerId,
          settings.batchSize,
          settings.leaseSeconds,
          settings.maxAttempts,
        );
      } catch (error) {
        logger.warn({ err: toError(error) }, 'Claiming events failed; trying again at the next poll');
        await idle(settings.pollIntervalMs);
        continue;
      }
      if (events.length > 0) {
        try {
          await processBatch(events);
        } catch (error) {
          const err = toError(error);
          stopping = true;
          logger.fatal(
            { err, eventIds: events.map((event) => event.id) },
            'Failed to record notification results; stopping the worker so nothing is sent twice',
          );
          options.onFatal?.(err);
          return;
        }
        if (events.length >= settings.batchSize) continue;
      }
      await idle(settings.pollIntervalMs);
    }
  }

  return {
    id: identity.workerId,
    wake,
    async start() {
      await store.beat(identity, settings.leaseSeconds, []);
      // After a reconnect, NOTIFYs sent meanwhile are lost: claim at once instead of at the next poll.
      unlisten = await storage.listen(LISTEN_CHANNEL, wake, { onReconnect: wake });
      heartbeatTimer = setInterval(() => void beat(), Math.max(200, (settings.leaseSeconds * 1000) / 3));
      heartbeatTimer.unref();
      const configured = senders.configured();
      logger.info(
        {
          channels: configured,
          unconfigured: senders.channels.filter((channel) => !configured.includes(channel)),
          batchSize: settings.batchSize,
          pollIntervalMs: settings.pollIntervalMs,
          wakeUp: unlisten ? 'listen' : 'poll',
        },
        'Notification worker started',
      );
      warnIfNoChannel(logger, configured, senders.channels);
      loopDone = loop();
      // The SLA sweep runs beside the drain: safe with several workers (each lead is
      // breached once, by whichever sweeper locks it first).
      stopSlaSweeper = startSlaSweeper({
        storage,
        logger,
        intervalMs: config.leads.slaSweepIntervalMs,
        automation: slaAutomationOf(config),
      });
    },
    stop() {
      stopDone ??= (async () => {
        stopping = true;
        wake();
        const grace = setTimeout(() => {
          logger.warn('Shutdown grace over; aborting sends in flight (they are retried later)');
          batchAbort?.abort(new Error('shutdown'));
        }, settings.shutdownGraceMs);
        try {
          await Promise.all([loopDone, stopSlaSweeper?.()]);
        } finally {
          clearTimeout(grace);
          clearInterval(heartbeatTimer);
          await unlisten?.().catch(() => {});
          await beat(true);
          await senders.close();
          logger.info('Notification worker stopped');
        }
      })();
      return stopDone;
    },
  };
}

/**
 * The worker the API process runs beside itself: only on the embedded default
 * (PGlite allows one process, so a separate `npm run worker` cannot open it) and
 * unless ENABLE_NOTIFICATION_WORKER=false. With Postgres or Supabase the worker
 * runs as its own process (`npm run worker`), as many as you like.
 */
export function createApiProcessWorker(options: NotificationWorkerOptions): NotificationWorker | undefined {
  const { config, storage } = options;
  if (storage.mode !== 'pglite') return undefined;
  if (!config.worker.enabled) {
    options.logger.warn('ENABLE_NOTIFICATION_WORKER=false: events wait in lead_events, nothing is sent');
    return undefined;
  }
  return createNotificationWorker(options);
}
