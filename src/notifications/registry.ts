import type { Config } from '../config.js';
import { createEmailSender } from './email-sender.js';
import { CHANNELS, type ChannelName, type ChannelPacing, type NotificationSender } from './sender.js';
import { createSlackSender } from './slack-sender.js';
import { createTelegramSender } from './telegram-sender.js';

/**
 * Every known channel, each with its sender when configured. An unconfigured channel
 * stays in the list (the worker records one `skipped` row per event for it), so the
 * log shows that nobody was told on that channel and why.
 *
 * To add a channel (WhatsApp, SMS, CRM behind their feature flags): write one
 * `<name>-sender.ts` implementing NotificationSender, add its name to CHANNELS and
 * one line below. Its pacing (rate, burst) comes from config through `paced()`; its
 * destination key and whether it may be digested are declared by the sender itself
 * (see NotificationSender in sender.ts).
 */
export interface SenderRegistry {
  readonly channels: readonly ChannelName[];
  get(channel: ChannelName): NotificationSender | undefined;
  /** Names of the configured channels, for the start-up log line. */
  configured(): ChannelName[];
  close(): Promise<void>;
}

export function createSenderRegistry(
  senders: Partial<Record<ChannelName, NotificationSender>>,
): SenderRegistry {
  return {
    channels: CHANNELS,
    get: (channel) => senders[channel],
    configured: () => CHANNELS.filter((channel) => senders[channel] !== undefined),
    async close() {
      await Promise.all(Object.values(senders).map((sender) => sender?.close?.()));
    },
  };
}

export function buildSenders(config: Config): SenderRegistry {
  const { channels, worker, pacing } = config;
  const timeoutMs = worker.sendTimeoutMs;
  return createSenderRegistry({
    slack: channels.slack
      ? paced(createSlackSender({ webhookUrl: channels.slack.webhookUrl, timeoutMs }), pacing.slack)
      : undefined,
    email: channels.email
      ? paced(createEmailSender({ ...channels.email, timeoutMs }), pacing.email)
      : undefined,
    telegram: channels.telegram
      ? paced(createTelegramSender({ ...channels.telegram, timeoutMs }), pacing.telegram)
      : undefined,
  });
}

/**
 * The sender with its configured pacing. The result delegates everything else to the
 * sender through its prototype, so a class-based sender keeps its methods.
 */
export function paced<S extends NotificationSender>(sender: S, pacing: ChannelPacing): S {
  return Object.assign(Object.create(sender) as S, { pacing });
}
