import type { Logger } from '../logger.js';
import { buildLeadAlert } from '../notifications/lead-alert.js';
import type { SenderRegistry } from '../notifications/registry.js';
import {
  type ChannelName,
  type DeliveryEvent,
  type LeadAlert,
  type NotificationSender,
  SendError,
} from '../notifications/sender.js';
import { type BackoffSettings, retryDelayMs } from './backoff.js';
import type { ChannelLog, ClaimedEvent, EventResult } from './outbox-store.js';

export interface DeliverSettings {
  senders: SenderRegistry;
  dashboardUrl: string;
  maxAttempts: number;
  sendTimeoutMs: number;
  backoff: BackoffSettings;
  logger: Logger;
  /** Aborted when shutdown runs out of grace: sends in flight give up. */
  shutdownSignal: AbortSignal;
}

interface Failure {
  channel: ChannelName;
  error: SendError;
}

/**
 * One event, one attempt: every channel not yet settled, in parallel, each with its
 * own timeout, so one slow or failing channel never holds up another. Returns what
 * happened; nothing is written here (the batch is recorded in one call afterwards).
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

  const logs: ChannelLog[] = [];
  const failures: Failure[] = [];
  await Promise.all(
    due.map(async (channel) => {
      const sender = settings.senders.get(channel);
      if (!sender) {
        logs.push({ channel, status: 'skipped', error: 'channel not configured' });
        return;
      }
      const started = performance.now();
      const context = { eventId: event.id, channel, attempt: attemptText };
      try {
        const result = await sendWithTimeout(sender, alert, delivery, settings);
        const durationMs = Math.round(performance.now() - started);
        logs.push({
          channel,
          status: 'sent',
          providerStatus: result.providerStatus,
          durationMs,
          error: result.note,
        });
        logger.info(
          { ...context, durationMs, providerStatus: result.providerStatus },
          `Notification sent via ${channel}`,
        );
      } catch (thrown) {
        const durationMs = Math.round(performance.now() - started);
        const error = asSendError(thrown, channel, settings.shutdownSignal);
        failures.push({ channel, error });
        logs.push({
          channel,
          status: 'failed',
          error: error.message,
          providerStatus: error.providerStatus,
          durationMs,
          permanent: error.kind === 'permanent',
        });
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
    }),
  );

  const sent = logs.filter((log) => log.status === 'sent').map((log) => log.channel);
  const attempted = logs.filter((log) => log.status !== 'skipped').length;
  if (sent.length > 0) {
    logger.info(
      { eventId: event.id, channels: sent, attempt: attemptText },
      `Notifications sent via: ${sent.join(', ')}`,
    );
  } else if (attempted > 0) {
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
  const failedBefore = Object.values(event.settled).includes('failed');
  if (failures.length > 0 || failedBefore) {
    // Without a failure in this attempt the SQL keeps the earlier permanent error.
    return { ...base, result: 'failed', error, logs };
  }
  return { ...base, result: 'delivered', logs };
}

/**
 * The sender gets an AbortSignal for its timeout; the race is a backstop for a
 * library that ignores it, so a hung provider can never hold the batch (and the
 * lease) for ever.
 */
async function sendWithTimeout(
  sender: NotificationSender,
  alert: LeadAlert,
  event: DeliveryEvent,
  settings: DeliverSettings,
) {
  const timeoutMs = sender.timeoutMs ?? settings.sendTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, settings.shutdownSignal]);
  let timer: NodeJS.Timeout | undefined;
  const backstop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SendError(`${sender.channel} send timed out`, 'transient')),
      timeoutMs + 1_000,
    );
  });
  try {
    return await Promise.race([sender.send(alert, signal, event), backstop]);
  } finally {
    clearTimeout(timer);
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
