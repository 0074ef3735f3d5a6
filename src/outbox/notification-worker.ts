import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FeedMessage } from '../admin/live-feed.js';
import type { Config } from '../config.js';
import { deliverWithConversationAlerts } from '../conversations/message-alerts.js';
import type { Logger } from '../logger.js';
import { observeBatch, recordNotificationAttempt } from '../metrics/metrics.js';
import { warnIfNoChannel } from '../notifications/channel-settings.js';
import { buildSenders, type SenderRegistry } from '../notifications/registry.js';
import { slaAutomationOf, startSlaSweeper } from '../sla/sla-sweeper.js';
import { toError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { retryDelayMs } from './backoff.js';
import { createChannelQueues } from './channel-queues.js';
import { deliverEvent } from './deliver-event.js';
import { feedMessages } from './feed-messages.js';
import { type ClaimedEvent, outboxStore, type WorkerIdentity } from './outbox-store.js';
import { createResultRecorder, type RecordEntry } from './result-recorder.js';

/**
 * The notification worker: a sliding window of events in flight.
 *
 * The claim loop is in one of these modes (asserted on every change):
 *   starting  -> idle       start() wrote the heartbeat and LISTENs
 *   idle      -> claiming   a NOTIFY, the poll timer, or (after a full claim) free slots
 *   claiming  -> idle       the claim came back with fewer events than asked: queue empty
 *   claiming  -> claiming   it came back full: more are due, claim again as slots free
 *   claiming  -> full       the window (WORKER_CONCURRENCY events in hand) is full
 *   full      -> claiming   an event was recorded and its slot freed
 *   any       -> blocked    recording fails because the database is unreachable: no
 *                           claim until it works again (the leases of the events in
 *                           hand may have run out; a claim first would re-send them)
 *   blocked   -> claiming   a record call went through again
 *   any       -> stopping   stop() or a fatal recording error: no more claims
 *   stopping  -> stopped    every event in hand recorded (or released at the grace)
 * There is at most one claim call at a time, and it is the loop's only await besides
 * waiting for a wake-up; a claim takes at most WORKER_BATCH_SIZE events. While
 * draining a backlog the loop waits until a whole batch of slots is free; a NOTIFY
 * claims at once into whatever is free, even with other events in flight.
 *
 * Each event in hand is `sending` (its channels queued behind their pacers or being
 * sent, channel-queues.ts) and then `recording` (its result waits for, or is in, a
 * grouped record call, result-recorder.ts); once recorded it is released, its slot
 * frees, and the heartbeat stops renewing its lease. The heartbeat (a third of the
 * lease) renews exactly the events in hand. Nothing waits for an unrelated send.
 *
 * Shutdown: stop claiming; alerts still waiting behind a pacer are handed back unsent
 * (due again at once, their attempt given back); sends in progress get the grace
 * (WORKER_SHUTDOWN_GRACE_MS), then are aborted and recorded as due again.
 * A failure to record results, other than an unreachable database (retried) or a data
 * error (recorded event by event), is fatal: the worker stops and `onFatal` fires.
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
  /** Stops claiming, finishes or releases the events in hand, closes senders. */
  stop(): Promise<void>;
  /** Claim now instead of waiting for the next poll. */
  wake(): void;
}

type Mode = 'starting' | 'idle' | 'claiming' | 'full' | 'blocked' | 'stopping' | 'stopped';
const TRANSITIONS: Record<Mode, readonly Mode[]> = {
  starting: ['idle', 'stopping'],
  idle: ['claiming', 'full', 'blocked', 'stopping'],
  claiming: ['idle', 'claiming', 'full', 'blocked', 'stopping'],
  full: ['claiming', 'idle', 'blocked', 'stopping'],
  blocked: ['claiming', 'idle', 'full', 'stopping'],
  stopping: ['stopped'],
  stopped: [],
};
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
  const graceAbort = new AbortController();
  const queues = createChannelQueues({
    digestThreshold: config.pacing.digestThreshold,
    sendTimeoutMs: settings.sendTimeoutMs,
    logger,
    shutdownSignal: graceAbort.signal,
  });
  const deliverSettings = {
    senders,
    queues,
    dashboardUrl,
    maxAttempts: settings.maxAttempts,
    backoff: { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs },
    logger,
    shutdownSignal: graceAbort.signal,
  };
  const recorder = createResultRecorder({
    store,
    workerId: identity.workerId,
    maxAttempts: settings.maxAttempts,
    logger,
    shutdownSignal: graceAbort.signal,
    onRecorded: announce,
    onUnstalled: () => nudge(),
  });

  let mode: Mode = 'starting';
  /** The events in hand (sending or recording): the only leases the heartbeat renews. */
  const held = new Map<number, ClaimedEvent>();
  let wakePending = false;
  /** The last claim came back full: more events are probably due. */
  let moreDue = false;
  let nudgeLoop: (() => void) | undefined;
  let drained: (() => void) | undefined;
  let loopDone: Promise<void> | undefined;
  let stopDone: Promise<void> | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let stopSlaSweeper: (() => Promise<void>) | undefined;
  let unlisten: (() => Promise<void>) | null = null;

  function setMode(next: Mode): void {
    if (next === mode) return;
    assert.ok(TRANSITIONS[mode].includes(next), `notification worker: ${mode} -> ${next}`);
    mode = next;
  }
  const stopping = () => mode === 'stopping' || mode === 'stopped';

  const nudge = () => nudgeLoop?.();
  const wake = () => {
    wakePending = true;
    nudge();
  };

  /** Waits for a wake-up, a freed slot, stop, or (if given) the poll timer. */
  const waitForChange = (pollMs?: number) =>
    new Promise<void>((resolve) => {
      const timer =
        pollMs === undefined
          ? undefined
          : setTimeout(() => {
              wakePending = true;
              done();
            }, pollMs);
      function done() {
        clearTimeout(timer);
        nudgeLoop = undefined;
        resolve();
      }
      nudgeLoop = done;
    });

  const beat = async (final = false) => {
    try {
      await store.beat(identity, settings.leaseSeconds, final ? [] : [...held.keys()], final);
    } catch (error) {
      logger.warn({ err: toError(error) }, 'Worker heartbeat failed');
    }
  };

  /**
   * Tells admin dashboards about recorded results, after their commit (a NOTIFY inside
   * the record transaction would serialise every worker's commits). Best effort: a
   * dashboard that misses it catches up on its next refresh.
   */
  function announce(entries: RecordEntry[], outcome: Parameters<typeof feedMessages>[2]): void {
    const results = entries.map((entry) => entry.result);
    for (const log of results.flatMap((result) => result.logs)) {
      recordNotificationAttempt(log.channel, log.status, log.durationMs);
    }
    const messages: FeedMessage[] = feedMessages(
      entries.map((entry) => entry.event),
      results,
      outcome,
    );
    if (messages.length === 0) return;
    storage
      .call('announce_admin_feed', { p_messages: { messages } })
      .catch((error: unknown) =>
        logger.debug({ err: toError(error) }, 'Could not announce results to the admin feed'),
      );
  }

  function fatal(error: unknown, eventId: number): void {
    const err = toError(error);
    if (stopping()) {
      logger.error({ err, eventId }, 'Could not record a result while stopping; its lease runs out');
      return;
    }
    setMode('stopping');
    queues.releaseWaiting();
    logger.fatal(
      { err, eventId },
      'Failed to record notification results; stopping the worker so nothing is sent twice',
    );
    options.onFatal?.(err);
    nudge();
  }

  /** One event through the window: send, record, free its slot. */
  function run(event: ClaimedEvent, claim: { started: number; remaining: number; size: number }): void {
    held.set(event.id, event);
    void (async () => {
      try {
        // message.received is collapsed per conversation first (src/conversations/message-alerts.ts).
        const result = await deliverWithConversationAlerts(
          storage,
          event,
          (prepared) => deliverEvent(prepared, deliverSettings),
          (attempt) => retryDelayMs(attempt, deliverSettings.backoff),
        );
        await recorder.record({ event, result });
      } catch (error) {
        fatal(error, event.id);
      } finally {
        held.delete(event.id);
        if (--claim.remaining === 0) observeBatch(performance.now() - claim.started, claim.size);
        if (held.size === 0) drained?.();
        nudge();
      }
    })();
  }

  /** Webhook endpoints live in the database: each claimed batch sees the current list. */
  async function refreshSenders(): Promise<void> {
    try {
      await senders.refresh();
    } catch (error) {
      logger.warn({ err: toError(error) }, 'Could not reload webhook endpoints; using the last list');
    }
  }

  /**
   * An event already in hand came back from a claim: its lease ran out while we held
   * it (a heartbeat came too late) and this worker took it again. Keep the send in
   * progress and record it under the new attempt number, instead of sending twice.
   */
  function adopted(event: ClaimedEvent): boolean {
    const mine = held.get(event.id);
    if (!mine) return false;
    logger.warn(
      { eventId: event.id, attempt: event.attempts },
      'Lease ran out on an event in hand and this worker claimed it again; keeping the send in progress',
    );
    mine.attempts = event.attempts;
    return true;
  }

  async function loop(): Promise<void> {
    while (!stopping()) {
      const free = settings.concurrency - held.size;
      const wanted = Math.min(settings.batchSize, settings.concurrency);
      if (recorder.stalled()) {
        setMode('blocked');
        await waitForChange();
        continue;
      }
      if (free <= 0) {
        setMode('full');
        await waitForChange();
        continue;
      }
      if (!wakePending && !moreDue) {
        setMode('idle');
        await waitForChange(settings.pollIntervalMs);
        continue;
      }
      if (!wakePending && free < wanted && held.size > 0) {
        // Draining a backlog: claim whole batches, not one event per freed slot.
        await waitForChange();
        continue;
      }
      setMode('claiming');
      wakePending = false;
      const size = Math.min(settings.batchSize, free);
      let events: ClaimedEvent[];
      try {
        events = await store.claim(identity.workerId, size, settings.leaseSeconds, settings.maxAttempts);
      } catch (error) {
        logger.warn({ err: toError(error) }, 'Claiming events failed; trying again at the next poll');
        moreDue = false;
        setMode('idle');
        await waitForChange(settings.pollIntervalMs);
        continue;
      }
      if (events.length > 0) await refreshSenders();
      moreDue = events.length >= size;
      const fresh = events.filter((event) => !adopted(event));
      const claim = { started: performance.now(), remaining: fresh.length, size: fresh.length };
      for (const event of fresh) run(event, claim);
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
          concurrency: settings.concurrency,
          pollIntervalMs: settings.pollIntervalMs,
          wakeUp: unlisten ? 'listen' : 'poll',
        },
        'Notification worker started',
      );
      warnIfNoChannel(logger, configured, senders.channels);
      setMode('idle');
      wakePending = true;
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
        if (!stopping()) setMode('stopping');
        queues.releaseWaiting();
        nudge();
        const grace = setTimeout(() => {
          logger.warn('Shutdown grace over; aborting sends in flight (they are retried later)');
          graceAbort.abort(new Error('shutdown'));
        }, settings.shutdownGraceMs);
        try {
          await loopDone;
          if (held.size > 0) await new Promise<void>((resolve) => (drained = resolve));
          await stopSlaSweeper?.();
        } finally {
          clearTimeout(grace);
          clearInterval(heartbeatTimer);
          setMode('stopped');
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
