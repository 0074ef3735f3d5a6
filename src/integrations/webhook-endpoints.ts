import { NotFoundError } from '../errors.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { generateWebhookSecret } from './webhook-signature.js';

/**
 * The admin's webhook endpoints as plain functions over the storage interface (SQL in
 * 20261201000500_integrations.sql). The secret is generated here and returned once,
 * by `createWebhookEndpoint`; no other answer carries it.
 */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  disabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookAttempt {
  id: number;
  eventId: number;
  eventType: string;
  status: 'sent' | 'failed' | 'skipped';
  attempt: number;
  providerStatus: number | null;
  error: string | null;
  durationMs: number | null;
  createdAt: string;
}

async function call<T>(storage: Storage, fn: string, args: Record<string, unknown>, id?: string) {
  try {
    return await storage.call<T>(fn, args);
  } catch (error) {
    if (error instanceof StorageQueryError && error.code === SqlState.notFound) {
      throw new NotFoundError(`Webhook endpoint ${id}`);
    }
    throw error;
  }
}

export function createWebhookEndpoint(
  storage: Storage,
  input: { url: string; events: string[]; description?: string | undefined },
): Promise<WebhookEndpoint & { secret: string }> {
  return call(storage, 'webhook_create', {
    p_url: input.url,
    p_events: [...new Set(input.events)],
    p_description: input.description ?? null,
    p_secret: generateWebhookSecret(),
  });
}

export const listWebhookEndpoints = (storage: Storage) =>
  call<WebhookEndpoint[]>(storage, 'webhook_list', {});

export const getWebhookEndpoint = (storage: Storage, id: string) =>
  call<WebhookEndpoint & { attempts: WebhookAttempt[] }>(storage, 'webhook_get', { p_id: id }, id);

export function updateWebhookEndpoint(
  storage: Storage,
  id: string,
  patch: {
    events?: string[] | undefined;
    disabled?: boolean | undefined;
    description?: string | undefined;
    url?: string | undefined;
  },
): Promise<WebhookEndpoint> {
  return call(
    storage,
    'webhook_update',
    {
      p_id: id,
      p_events: patch.events ? [...new Set(patch.events)] : null,
      p_disabled: patch.disabled ?? null,
      p_description: patch.description ?? null,
      p_url: patch.url ?? null,
    },
    id,
  );
}

export const deleteWebhookEndpoint = (storage: Storage, id: string) =>
  call<{ id: string; deleted: true }>(storage, 'webhook_delete', { p_id: id }, id);

export const sendWebhookTest = (storage: Storage, id: string) =>
  call<{ eventId: number; endpointId: string }>(storage, 'webhook_send_test', { p_id: id }, id);
