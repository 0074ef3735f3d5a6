import type { Logger } from '../logger.js';
import { buildLeadAlert } from '../notifications/lead-alert.js';
import type { SenderRegistry } from '../notifications/registry.js';
import type { ChannelName, DeliveryEvent } from '../notifications/sender.js';
import { type BackoffSettings, retryDelayMs } from './backoff.js';
import type { ChannelOutcome, ChannelQueues } from './channel-queues.js';
import type { ChannelLog, ClaimedEvent, EventResult } from './outbox-store.js';

export interface DeliverSettings {
  senders: SenderRegistry;
  queues: ChannelQueues;
  dashboardUrl: string;
  maxAttempts: number;
  backoff: BackoffSettings;
  logger: Logger;
  /** Aborted when shutdown runs out of grace: sends in flight give up. */
  shutdownSignal: AbortSignal;
}

/**
 * One event, one attempt: every channel not yet settled, each through its channel's
 * queue (pacing, digests, rate-limit pauses: channel-queues.ts), so one slow or paced
 * channel never holds up another. Returns what happened; nothing is written here (the
 * worker records results in small groups as they finish).
 */
export async function deliverEvent(event: ClaimedEvent, settings: DeliverSettings): Promise<EventResult> {
  const { logger } = settings;
  const base = { eventId: event.id, attempt: event.attempts };
  const delivery: DeliveryEvent = {
    id: event.id,
    type: event.eventType,
    conversationId: event.conversationId,
    payload: event.payload,
    createdAt: event.createdAt,
    attempt: event.attempts,
  };
  // The team's channels take alerts; integrations and webhook endpoints say what they take.
  const wanted = settings.senders.channelsFor(delivery);
  if (wanted.length === 0) {
    logger.debug({ eventId: event.id, eventType: event.eventType }, 'Event needs no notification');
    return { ...base, result: 'delivered', logs: [] };
  }
  const alert = buildLeadAlert(event, settings.dashboardUrl);
  const attemptText = `attempt ${event.attempts} of ${settings.maxAttempts}`;
  const due = wanted.filter((channel) => !event.settled[channel]);

  const outcomes = await Promise.all(
    due.map(async (channel): Promise<ChannelOutcome & { channel: ChannelName }> => {
      const sender = settings.senders.get(channel);
      if (!sender) {
        return { channel, logs: [{ channel, status: 'skipped', error: 'channel not configured' }] };
      }
      const job = { alert, event: delivery, eventId: event.id, attemptText };
      return { channel, ...(await settings.queues.send(sender, job)) };
    }),
  );

  const logs: ChannelLog[] = outcomes.flatMap((outcome) => outcome.logs);
  const failures = outcomes.flatMap(({ channel, failure }) => (failure ? [{ channel, error: failure }] : []));
  const released = outcomes.filter((outcome) => outcome.released);
  const sentLogs = logs.filter((log) => log.status === 'sent');
  const sent = sentLogs.map((log) => log.channel);
  if (sent.length > 0) {
    const durationsMs = Object.fromEntries(sentLogs.map((log) => [log.channel, log.durationMs]));
    logger.info(
      { eventId: event.id, channels: sent, durationsMs, attempt: attemptText },
      `Notifications sent via: ${sent.join(', ')}`,
    );
  } else if (failures.length > 0 && failures.length === outcomes.filter((o) => !o.released).length) {
    logger.warn({ eventId: event.id, attempt: attemptText }, 'All notification channels failed');
  }

  const transient = failures.filter((failure) => failure.error.kind === 'transient');
  const error =
    failures.map((failure) => `${failure.channel}: ${failure.error.message}`).join('; ') || undefined;
  if (transient.length > 0) {
    const retryAfterMs = Math.max(0, ...transient.map((failure) => failure.error.retryAfterMs ?? 0));
    // A send cut short by shutdown is nobody's fault: due again at once.
    const retryInMs = settings.shutdownSignal.aborted
      ? retryAfterMs
      : retryDelayMs(event.attempts, settings.backoff, retryAfterMs);
    return { ...base, result: 'pending', retryInMs, error, logs };
  }
  if (released.length > 0) {
    // Handed back unsent (shutdown, or a rate-limit pause too long to wait out in hand):
    // due again when the pause ends (at once at shutdown), and with no failure in this
    // attempt it is given back: waiting for a provider's rate is not trying.
    const retryInMs = Math.max(0, ...released.map((outcome) => outcome.retryAfterMs ?? 0));
    return { ...base, result: 'pending', retryInMs, error, refundAttempt: failures.length === 0, logs };
  }
  const failedBefore = Object.values(event.settled).includes('failed');
  if (failures.length > 0 || failedBefore) {
    // Without a failure in this attempt the SQL keeps the earlier permanent error.
    return { ...base, result: 'failed', error, logs };
  }
  return { ...base, result: 'delivered', logs };
}
