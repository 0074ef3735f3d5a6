import type { Config } from '../config.js';
import { createHubSpotSender } from '../integrations/hubspot-sender.js';
import { integrationStore } from '../integrations/integration-store.js';
import { createTwilioSmsSender } from '../integrations/twilio-sms-sender.js';
import { createTwilioWhatsAppSender } from '../integrations/twilio-whatsapp-sender.js';
import { createWebhookDirectory, type WebhookDirectory } from '../integrations/webhook-directory.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/storage.js';
import { createEmailSender } from './email-sender.js';
import { isAlertedEventType } from './lead-alert.js';
import {
  CHANNELS,
  type ChannelName,
  type ChannelPacing,
  type DeliveryEvent,
  INTEGRATION_CHANNELS,
  type NotificationSender,
} from './sender.js';
import { createSlackSender } from './slack-sender.js';
import { createTelegramSender } from './telegram-sender.js';

/**
 * Every channel, each with its sender when configured.
 *
 * - The team's chat channels (Slack, email, Telegram) are always listed for alerts;
 *   an unconfigured one gets one `skipped` row per event, so the log shows that
 *   nobody was told on that channel and why.
 * - Integrations (SMS, WhatsApp, HubSpot) exist only when their feature flag is on
 *   (the config refuses a flag without its settings), and say which events they take.
 * - Webhook endpoints are one channel each, `webhook:<id>`, loaded from the database.
 *
 * To add a provider: one `<name>-sender.ts` implementing NotificationSender, its name
 * in CHANNELS or INTEGRATION_CHANNELS, and one line below. Its pacing (rate, burst)
 * comes from config through `paced()`; its destination key, whether it may be
 * digested and which events it takes are declared by the sender itself (see
 * NotificationSender in sender.ts).
 */
export interface SenderRegistry {
  readonly channels: readonly ChannelName[];
  get(channel: ChannelName): NotificationSender | undefined;
  /** The channels that deliver this event (configured or not, for the chat channels). */
  channelsFor(event: DeliveryEvent): ChannelName[];
  /** Reloads what lives in the database (webhook endpoints); the worker calls it before a batch. */
  refresh(): Promise<void>;
  /** Names of the configured channels, for the start-up log line. */
  configured(): ChannelName[];
  close(): Promise<void>;
}

type StaticChannel = (typeof CHANNELS)[number] | (typeof INTEGRATION_CHANNELS)[number];

/**
 * Channels that reach a person's phone or inbox. Events of a bulk action (payload
 * `bulk: true`, docs/bulk-actions.md) never go to them: 5,000 status changes are not
 * 5,000 messages. Webhooks and the CRM still get every one.
 */
const CHAT_CHANNELS: readonly StaticChannel[] = ['slack', 'email', 'telegram', 'sms', 'whatsapp'];

export function isBulkEvent(event: DeliveryEvent): boolean {
  const payload = event.payload as { bulk?: unknown } | null | undefined;
  return payload?.bulk === true;
}

export function createSenderRegistry(
  senders: Partial<Record<StaticChannel, NotificationSender>>,
  webhooks?: WebhookDirectory,
): SenderRegistry {
  const integrations = INTEGRATION_CHANNELS.filter((channel) => senders[channel] !== undefined);
  const channels: ChannelName[] = [...CHANNELS, ...integrations];
  const accepts = (channel: StaticChannel, event: DeliveryEvent) => {
    const sender = senders[channel];
    return sender?.accepts ? sender.accepts(event) : isAlertedEventType(event.type);
  };
  return {
    channels,
    get: (channel) =>
      channel.startsWith('webhook:') ? webhooks?.get(channel) : senders[channel as StaticChannel],
    channelsFor: (event) => [
      ...[...CHANNELS, ...integrations].filter(
        (channel) => accepts(channel, event) && !(isBulkEvent(event) && CHAT_CHANNELS.includes(channel)),
      ),
      ...(webhooks?.channelsFor(event) ?? []),
    ],
    refresh: async () => webhooks?.refresh(),
    configured: () => channels.filter((channel) => senders[channel as StaticChannel] !== undefined),
    async close() {
      await Promise.all(Object.values(senders).map((sender) => sender?.close?.()));
    },
  };
}

export function buildSenders(config: Config, storage?: Storage, logger?: Logger): SenderRegistry {
  const { channels, worker, pacing, integrations } = config;
  const timeoutMs = worker.sendTimeoutMs;
  const store = storage ? integrationStore(storage) : undefined;
  return createSenderRegistry(
    {
      slack: channels.slack
        ? paced(createSlackSender({ webhookUrl: channels.slack.webhookUrl }), pacing.slack)
        : undefined,
      email: channels.email
        ? paced(createEmailSender({ ...channels.email, timeoutMs }), pacing.email)
        : undefined,
      telegram: channels.telegram
        ? paced(createTelegramSender(channels.telegram), pacing.telegram)
        : undefined,
      sms: integrations.sms
        ? paced(createTwilioSmsSender({ ...integrations.sms, store, logger }), pacing.sms)
        : undefined,
      whatsapp: integrations.whatsapp
        ? paced(createTwilioWhatsAppSender({ ...integrations.whatsapp, store, logger }), pacing.whatsapp)
        : undefined,
      hubspot:
        integrations.hubspot && store
          ? paced(createHubSpotSender({ ...integrations.hubspot, store, logger }), pacing.hubspot)
          : undefined,
    },
    store
      ? createWebhookDirectory({
          store,
          allowPrivateNetworks: integrations.webhooks.allowPrivateNetworks,
          scheduleSeconds: integrations.webhooks.retryScheduleSeconds,
          logger,
        })
      : undefined,
  );
}

/**
 * The sender with its configured pacing. The result delegates everything else to the
 * sender through its prototype, so a class-based sender keeps its methods.
 */
export function paced<S extends NotificationSender>(sender: S, pacing: ChannelPacing): S {
  return Object.assign(Object.create(sender) as S, { pacing });
}
