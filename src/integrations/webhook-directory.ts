import type { Logger } from '../logger.js';
import type { DeliveryEvent, NotificationSender, WebhookChannel } from '../notifications/sender.js';
import { toError } from '../storage/errors.js';
import type { ActiveWebhookEndpoint, IntegrationStore } from './integration-store.js';
import { createWebhookSender, webhookChannel } from './webhook-sender.js';

/**
 * The webhook endpoints as channels. Endpoints are rows an admin adds, edits and
 * deletes at any time, so the worker reloads them before each batch (one small query)
 * and keeps a sender per endpoint, rebuilt when its URL, secret or events change.
 * If the reload fails the previous list is kept (and it is said in the log): an
 * outage of a second must not make the worker forget every endpoint.
 */
export interface WebhookDirectory {
  refresh(): Promise<void>;
  channelsFor(event: DeliveryEvent): WebhookChannel[];
  get(channel: string): NotificationSender | undefined;
}

export function createWebhookDirectory(options: {
  store: IntegrationStore;
  allowPrivateNetworks: boolean;
  scheduleSeconds: readonly number[];
  logger?: Logger | undefined;
}): WebhookDirectory {
  let senders = new Map<WebhookChannel, { key: string; sender: NotificationSender }>();
  let inFlight: Promise<void> | undefined;
  const keyOf = (endpoint: ActiveWebhookEndpoint) =>
    JSON.stringify([endpoint.url, endpoint.secret, endpoint.events, endpoint.createdAt]);

  async function load() {
    let endpoints: ActiveWebhookEndpoint[];
    try {
      endpoints = await options.store.activeWebhookEndpoints();
    } catch (error) {
      options.logger?.warn(
        { err: toError(error) },
        'Could not reload webhook endpoints; keeping the last list',
      );
      return;
    }
    const next = new Map<WebhookChannel, { key: string; sender: NotificationSender }>();
    for (const endpoint of endpoints) {
      const channel = webhookChannel(endpoint.id);
      const key = keyOf(endpoint);
      const known = senders.get(channel);
      next.set(
        channel,
        known?.key === key
          ? known
          : {
              key,
              sender: createWebhookSender({
                endpoint,
                allowPrivateNetworks: options.allowPrivateNetworks,
                scheduleSeconds: options.scheduleSeconds,
              }),
            },
      );
    }
    senders = next;
  }

  return {
    refresh() {
      // Concurrent batches share one reload.
      inFlight ??= load().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    channelsFor(event) {
      return [...senders.entries()]
        .filter(([, entry]) => entry.sender.accepts?.(event) ?? false)
        .map(([channel]) => channel);
    },
    get: (channel) => senders.get(channel as WebhookChannel)?.sender,
  };
}
