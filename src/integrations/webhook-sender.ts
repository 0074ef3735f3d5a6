import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  type DeliveryEvent,
  type NotificationSender,
  parseRetryAfter,
  SendError,
  type WebhookChannel,
} from '../notifications/sender.js';
import type { ActiveWebhookEndpoint } from './integration-store.js';
import { ForbiddenAddressError, guardedLookup, refusalForHost } from './ssrf-guard.js';
import { signWebhook } from './webhook-signature.js';

/**
 * One webhook endpoint as one channel, `webhook:<endpoint id>`: the worker's
 * exactly-once rule, retries, dead events and replay then hold per endpoint, and every
 * attempt is a notification_logs row of that channel.
 *
 * A delivery is `POST {type, timestamp, data}` signed the Standard Webhooks way
 * (webhook-signature.ts) with a `webhook-id` derived from the event and the endpoint,
 * so every retry of one event to one endpoint carries the same id and receivers can
 * de-duplicate. Success is a 2xx within 15 s. Redirects are not followed (a 3xx is a
 * failure). 410 Gone is permanent and disables the endpoint (a trigger in the
 * integrations migration does it with the log row). Everything else is retried on the
 * Standard Webhooks schedule with jitter, never sooner than a 429/502/503/504's
 * Retry-After.
 */
export const WEBHOOK_TIMEOUT_MS = 15_000;
/** Standard Webhooks' schedule: the delay before attempt n+1 is DEFAULT_SCHEDULE[n] (seconds). */
export const DEFAULT_WEBHOOK_SCHEDULE_SECONDS = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];
const RETRY_AFTER_STATUSES = new Set([429, 502, 503, 504]);
const MAX_ERROR_BODY = 200;

export interface WebhookSenderOptions {
  endpoint: ActiveWebhookEndpoint;
  allowPrivateNetworks: boolean;
  /** Delays before attempts 1..n, in seconds (WEBHOOK_RETRY_SCHEDULE_SECONDS). */
  scheduleSeconds?: readonly number[];
  random?: () => number;
}

export function webhookChannel(endpointId: string): WebhookChannel {
  return `webhook:${endpointId}`;
}

/** The id a receiver de-duplicates on: one per event and endpoint, the same on every retry. */
export function webhookMessageId(eventId: number, endpointId: string): string {
  return `msg_${eventId}_${endpointId.replace(/-/g, '')}`;
}

/**
 * What an endpoint receives for one event. A lead.erased goes without its `crm` ids:
 * they are for our own CRM sync, and a receiver needs only the lead's id.
 */
export function webhookBody(event: DeliveryEvent): string {
  let data = event.payload;
  if (event.type === 'lead.erased' && data && typeof data === 'object') {
    const { crm: _crm, crmOnly: _crmOnly, ...rest } = data as Record<string, unknown>;
    data = rest;
  }
  return JSON.stringify({ type: event.type, timestamp: new Date(event.createdAt).toISOString(), data });
}

/** Delay before the attempt after `attempt`, ±10 % jitter so a burst of failures does not return as a burst. */
export function webhookRetryDelayMs(
  attempt: number,
  schedule: readonly number[],
  random: () => number = Math.random,
): number {
  const seconds = schedule[Math.min(attempt, schedule.length - 1)] ?? 0;
  return Math.round(seconds * 1000 * (0.9 + random() * 0.2));
}

export function createWebhookSender(options: WebhookSenderOptions): NotificationSender {
  const { endpoint } = options;
  const schedule = options.scheduleSeconds ?? DEFAULT_WEBHOOK_SCHEDULE_SECONDS;
  const createdAt = Date.parse(endpoint.createdAt);
  return {
    channel: webhookChannel(endpoint.id),
    timeoutMs: WEBHOOK_TIMEOUT_MS,
    accepts(event) {
      if (event.type === 'webhook.test') {
        return (event.payload as { endpointId?: string } | null)?.endpointId === endpoint.id;
      }
      // An endpoint gets what happened after it was registered, not the history. An
      // erasure goes to every endpoint that took lead data: it must forget the person too.
      // (A `crmOnly` erasure is a late CRM clean-up: endpoints were told already.)
      if (event.type === 'lead.erased' && (event.payload as { crmOnly?: unknown } | null)?.crmOnly === true) {
        return false;
      }
      const wanted =
        endpoint.events.includes(event.type) ||
        (event.type === 'lead.erased' && endpoint.events.some((type) => type.startsWith('lead.')));
      return wanted && Date.parse(event.createdAt) >= createdAt;
    },
    async send(_alert, signal, event) {
      const body = webhookBody(event);
      const id = webhookMessageId(event.id, endpoint.id);
      const timestamp = Math.floor(Date.now() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'leadrelay-webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(endpoint.secret, id, timestamp, body),
      };
      const retryDelay = () => webhookRetryDelayMs(event.attempt, schedule, options.random);
      const url = new URL(endpoint.url);
      const refusal = refusalForHost(url.hostname, options.allowPrivateNetworks);
      if (refusal) throw new SendError(`Webhook refused: ${refusal}`, 'permanent');

      let answer: { status: number; retryAfter: string | undefined; text: string };
      try {
        answer = await post(url, headers, body, signal, options.allowPrivateNetworks);
      } catch (error) {
        if (error instanceof ForbiddenAddressError) {
          throw new SendError(`Webhook refused: ${error.message}`, 'permanent');
        }
        const what = signal.aborted ? 'timed out' : `failed: ${(error as Error).message}`;
        throw new SendError(`Webhook request ${what}`, 'transient', { retryAfterMs: retryDelay() });
      }
      const { status } = answer;
      if (status >= 200 && status < 300) return { providerStatus: status };
      const detail = answer.text ? `: ${answer.text}` : '';
      if (status === 410) {
        throw new SendError(`Webhook endpoint answered 410 Gone: endpoint disabled${detail}`, 'permanent', {
          providerStatus: status,
        });
      }
      const asked = RETRY_AFTER_STATUSES.has(status) ? parseRetryAfter(answer.retryAfter) : undefined;
      const why = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
      throw new SendError(`Webhook endpoint answered HTTP ${status}${why}${detail}`, 'transient', {
        providerStatus: status,
        retryAfterMs: Math.max(retryDelay(), asked ?? 0),
      });
    },
  };
}

/** One POST with node:http(s): no redirect following, the guarded DNS lookup, body read up to a few hundred bytes. */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  allowPrivateNetworks: boolean,
): Promise<{ status: number; retryAfter: string | undefined; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(allowPrivateNetworks),
        signal,
        timeout: WEBHOOK_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_ERROR_BODY) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => {
          const retryAfter = response.headers['retry-after'];
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            // Cut by code points (never inside a surrogate pair), without NULs: it is stored.
            text: Array.from(Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').replace(/\0/g, ''))
              .slice(0, MAX_ERROR_BODY)
              .join('')
              .trim(),
          });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 15 s')));
    request.on('error', reject);
    request.end(body);
  });
}
