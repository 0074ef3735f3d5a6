import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import {
  type ChannelName,
  type DeliveryEvent,
  type LeadAlert,
  type NotificationSender,
  SendError,
} from '../notifications/sender.js';
import type { ChannelLog } from './outbox-store.js';
import { rateLimitPauseMs, TokenBucket } from './pacer.js';

/**
 * Every send of the worker goes through here: one queue per channel and destination
 * (a lane), drained as its pacer (TokenBucket) allows.
 *
 * - Order: SLA escalations (and failing-webhook alerts) first, then the rest, each
 *   oldest first.
 * - Digest: when a lane's token comes and more than `digestThreshold` new-lead alerts
 *   wait in it, and the channel can (sender.sendDigest), up to DIGEST_MAX of them go
 *   out as one message, recorded as the `sent` row of each with one digest id.
 * - Rate limit (SendError.rateLimited: 429, Telegram retry_after): the whole channel
 *   pauses for what the provider asked, the send is re-queued at the front and tried
 *   again within the same attempt; a `rate_limited` row is logged for each alert.
 * - Unpaced (rate 0) and not paused: every alert is sent the moment it arrives, in
 *   parallel; the worker's window (WORKER_CONCURRENCY) bounds how many.
 * - Shutdown: `releaseWaiting` hands back every alert not yet being sent, unsent; the
 *   sends in progress finish or are aborted by the shutdown signal.
 */
export interface ChannelJob {
  alert: LeadAlert;
  /** The event itself, for senders that need more than the alert (CRM, webhooks). */
  event: DeliveryEvent;
  eventId: number;
  /** "attempt N of M", for the log lines. */
  attemptText: string;
}

export interface ChannelOutcome {
  /** notification_logs rows: `rate_limited` ones, then the `sent` or `failed` one. */
  logs: ChannelLog[];
  /** Set when the send failed (transient or permanent). */
  failure?: SendError;
  /**
   * Handed back unsent: at shutdown (due again at once), or because the channel is
   * paused for longer than HOLD_MAX_MS (due again when the pause ends: `retryAfterMs`).
   */
  released?: true;
  retryAfterMs?: number;
}

export interface ChannelQueueSettings {
  digestThreshold: number;
  sendTimeoutMs: number;
  logger: Logger;
  /** Aborted when shutdown runs out of grace: sends in flight give up. */
  shutdownSignal: AbortSignal;
}

export interface ChannelQueues {
  send(sender: NotificationSender, job: ChannelJob): Promise<ChannelOutcome>;
  /** Shutdown: every alert still waiting is handed back unsent; later ones too. */
  releaseWaiting(): void;
  /** Alerts waiting (not yet being sent), per channel. */
  waiting(): Partial<Record<ChannelName, number>>;
}

/** Most alerts in one digest: a message the team can still read at a glance. */
export const DIGEST_MAX = 25;
/** A provider that never stops answering 429 eventually costs an attempt after all. */
const RATE_LIMITED_MAX_PER_ATTEMPT = 30;
/**
 * Longest pause the worker waits out with the event in hand. A provider asking for more
 * (HubSpot's daily limit: until midnight) gets the event handed back, due when the pause
 * ends and without using an attempt, so a window slot is not held for hours.
 */
export const HOLD_MAX_MS = 60_000;

interface Item {
  job: ChannelJob;
  logs: ChannelLog[];
  rateLimited: number;
  resolve(outcome: ChannelOutcome): void;
}

/**
 * Sent ahead of everything else and never digested: SLA escalations, and a webhook
 * endpoint that stopped accepting deliveries. Only new-lead alerts are digested.
 */
function isUrgent(alert: LeadAlert): boolean {
  return alert.kind === 'lead.sla_breached' || alert.kind === 'webhook.failing';
}

interface Lane {
  bucket: TokenBucket;
  escalations: Item[];
  leads: Item[];
  timer: NodeJS.Timeout | undefined;
}

interface ChannelState {
  sender: NotificationSender;
  lanes: Map<string, Lane>;
  pausedUntil: number;
  consecutiveRateLimits: number;
}

export function createChannelQueues(settings: ChannelQueueSettings): ChannelQueues {
  const { logger, shutdownSignal } = settings;
  const channels = new Map<ChannelName, ChannelState>();
  let released = false;
  const now = () => performance.now();

  function stateOf(sender: NotificationSender): ChannelState {
    let state = channels.get(sender.channel);
    if (!state) {
      state = { sender, lanes: new Map(), pausedUntil: 0, consecutiveRateLimits: 0 };
      channels.set(sender.channel, state);
    }
    return state;
  }

  function laneOf(state: ChannelState, destination: string): Lane {
    let lane = state.lanes.get(destination);
    if (!lane) {
      const pacing = state.sender.pacing ?? { ratePerMinute: 0, burst: 1 };
      lane = { bucket: new TokenBucket(pacing), escalations: [], leads: [], timer: undefined };
      state.lanes.set(destination, lane);
    }
    return lane;
  }

  /** Sends what the lane's pacer allows now; schedules itself for the next token. */
  function pump(state: ChannelState, lane: Lane): void {
    if (lane.timer || released) return;
    while (lane.escalations.length + lane.leads.length > 0) {
      const paused = state.pausedUntil - now();
      if (paused > HOLD_MAX_MS) {
        for (const item of lane.escalations.splice(0).concat(lane.leads.splice(0))) {
          item.resolve({ logs: item.logs, released: true, retryAfterMs: Math.ceil(paused) });
        }
        return;
      }
      const wait = Math.max(paused, lane.bucket.delayMs());
      if (wait > 0) {
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          pump(state, lane);
        }, wait);
        return;
      }
      lane.bucket.take();
      void dispatch(state, lane, nextSend(state, lane));
    }
  }

  function nextSend(state: ChannelState, lane: Lane): Item[] {
    const escalation = lane.escalations.shift();
    if (escalation) return [escalation];
    if (state.sender.sendDigest) {
      const newLeads = lane.leads.filter((item) => item.job.alert.kind === 'lead.created');
      if (newLeads.length > settings.digestThreshold) {
        const digest = newLeads.slice(0, DIGEST_MAX);
        const taken = new Set(digest);
        lane.leads = lane.leads.filter((item) => !taken.has(item));
        return digest;
      }
    }
    return [lane.leads.shift()!];
  }

  async function dispatch(state: ChannelState, lane: Lane, items: Item[]): Promise<void> {
    const { sender } = state;
    const channel = sender.channel;
    const digest = items.length > 1;
    const digestId = digest ? randomUUID() : undefined;
    const eventIds = items.map((item) => item.job.eventId);
    const context = digest
      ? { eventIds, channel, digestId, alerts: items.length }
      : { eventId: eventIds[0], channel, attempt: items[0]!.job.attemptText };
    const started = now();
    try {
      const result = await withTimeout(
        (signal) =>
          digest
            ? sender.sendDigest!(
                items.map((item) => item.job.alert),
                signal,
              )
            : sender.send(items[0]!.job.alert, signal, items[0]!.job.event),
        channel,
        sender.timeoutMs ?? settings.sendTimeoutMs,
        shutdownSignal,
      );
      const finishedAt = now();
      const durationMs = Math.round(finishedAt - started);
      state.consecutiveRateLimits = 0;
      for (const item of items) {
        item.logs.push({
          channel,
          status: 'sent',
          finishedAt,
          providerStatus: result.providerStatus,
          durationMs,
          error: result.note,
          digestId,
        });
        item.resolve({ logs: item.logs });
      }
      // Per send at debug: the event's own line (deliver-event.ts) says what went out at
      // info, with each channel's duration, so a drain writes one line per event, not four.
      (digest ? logger.info : logger.debug).call(
        logger,
        { ...context, durationMs, providerStatus: result.providerStatus },
        digest
          ? `Digest of ${items.length} new leads sent via ${channel}`
          : `Notification sent via ${channel}`,
      );
    } catch (thrown) {
      const finishedAt = now();
      const durationMs = Math.round(finishedAt - started);
      const error = asSendError(thrown, channel, shutdownSignal);
      const row = {
        channel,
        error: error.message,
        providerStatus: error.providerStatus,
        durationMs,
        digestId,
        finishedAt,
      };
      const requeue = error.rateLimited && !shutdownSignal.aborted && !released;
      if (requeue) {
        state.consecutiveRateLimits++;
        const pauseMs = rateLimitPauseMs(error.retryAfterMs, state.consecutiveRateLimits);
        state.pausedUntil = Math.max(state.pausedUntil, now() + pauseMs);
        logger.warn(
          { ...context, durationMs, providerStatus: error.providerStatus, pauseMs },
          `${channel} rate limited: channel paused for ${pauseMs} ms, sends re-queued (no attempt used)`,
        );
      } else {
        logger.warn(
          {
            ...context,
            durationMs,
            providerStatus: error.providerStatus,
            kind: error.kind,
            error: error.message,
          },
          `Notification via ${channel} failed (${error.kind})`,
        );
      }
      const back: Item[] = [];
      for (const item of items) {
        if (requeue && item.rateLimited < RATE_LIMITED_MAX_PER_ATTEMPT) {
          item.rateLimited++;
          item.logs.push({ ...row, status: 'rate_limited' });
          back.push(item);
        } else {
          item.logs.push({ ...row, status: 'failed', permanent: error.kind === 'permanent' });
          item.resolve({ logs: item.logs, failure: error });
        }
      }
      // Back at the front, in their order: they were next before the refusal.
      lane.escalations.unshift(...back.filter((item) => isUrgent(item.job.alert)));
      lane.leads.unshift(...back.filter((item) => !isUrgent(item.job.alert)));
      for (const other of state.lanes.values()) pump(state, other);
    }
  }

  return {
    send(sender, job) {
      return new Promise<ChannelOutcome>((resolve) => {
        if (released) return resolve({ logs: [], released: true });
        const state = stateOf(sender);
        const lane = laneOf(state, sender.destinationOf?.(job.alert) ?? sender.channel);
        const item: Item = { job, logs: [], rateLimited: 0, resolve };
        (isUrgent(job.alert) ? lane.escalations : lane.leads).push(item);
        pump(state, lane);
      });
    },
    releaseWaiting() {
      released = true;
      for (const state of channels.values()) {
        for (const lane of state.lanes.values()) {
          clearTimeout(lane.timer);
          lane.timer = undefined;
          for (const item of lane.escalations.splice(0).concat(lane.leads.splice(0))) {
            item.resolve({ logs: item.logs, released: true });
          }
        }
      }
    },
    waiting() {
      const counts: Partial<Record<ChannelName, number>> = {};
      for (const [channel, state] of channels) {
        let n = 0;
        for (const lane of state.lanes.values()) n += lane.escalations.length + lane.leads.length;
        counts[channel] = n;
      }
      return counts;
    },
  };
}

/**
 * The sender gets an AbortSignal for its timeout and for shutdown; the race is a
 * backstop for a library that ignores it, so a hung provider can never hold an event
 * (and its lease) for ever. One plain AbortController and one timer per send, both
 * released when the send settles: `AbortSignal.any([AbortSignal.timeout(), shutdown])`
 * costs a transferable signal per call and, on Node 20 and 22, leaves a dependant on
 * the long-lived shutdown signal each time (nodejs/node#55351), which the drain
 * benchmark showed as CPU and resident memory.
 */
async function withTimeout<T>(
  send: (signal: AbortSignal) => Promise<T>,
  channel: ChannelName,
  timeoutMs: number,
  shutdownSignal: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const onShutdown = () => controller.abort(shutdownSignal.reason);
  if (shutdownSignal.aborted) onShutdown();
  else shutdownSignal.addEventListener('abort', onShutdown, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const backstop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException(`${channel} send timed out`, 'TimeoutError'));
      timer = setTimeout(() => reject(new SendError(`${channel} send timed out`, 'transient')), 1_000);
    }, timeoutMs);
  });
  try {
    return await Promise.race([send(controller.signal), backstop]);
  } finally {
    clearTimeout(timer);
    shutdownSignal.removeEventListener('abort', onShutdown);
  }
}

function asSendError(thrown: unknown, channel: ChannelName, shutdownSignal: AbortSignal): SendError {
  if (shutdownSignal.aborted) return new SendError(`${channel} send cut short by shutdown`, 'transient');
  if (thrown instanceof SendError) return thrown;
  // Senders classify and scrub their own errors; anything else is unexpected. Its
  // text may carry a secret, so it is not stored, only its type.
  const name = thrown instanceof Error ? thrown.name : typeof thrown;
  return new SendError(`${channel} send failed unexpectedly (${name})`, 'transient');
}
