import { providerText } from './provider-text.js';

/**
 * The one interface every notification channel implements. The worker loop only
 * knows this file: it never imports an SDK. A new provider (SMS, WhatsApp, a CRM
 * upsert, a webhook delivery) is one `*-sender.ts` file plus one line in `registry.ts`.
 */
/** The team's chat-like channels: on when configured, a `skipped` row when not. */
export const CHANNELS = ['slack', 'email', 'telegram'] as const;
/** Integrations switched on by seed 003's feature flags (src/integrations/). */
export const INTEGRATION_CHANNELS = ['sms', 'whatsapp', 'hubspot'] as const;
/** One channel per webhook endpoint: exactly-once, retries and replay are per endpoint. */
export type WebhookChannel = `webhook:${string}`;
export type ChannelName = (typeof CHANNELS)[number] | (typeof INTEGRATION_CHANNELS)[number] | WebhookChannel;

/** The outbox event being delivered, for senders that need more than the alert (CRM, webhooks). */
export interface DeliveryEvent {
  id: number;
  type: string;
  conversationId: string | null;
  payload: unknown;
  createdAt: string;
  /** This attempt's number for the event (1 on the first try). */
  attempt: number;
}

/** What the team is told about a lead: plain, unescaped values; each channel escapes for itself. */
export interface LeadAlert {
  kind:
    | 'lead.created'
    | 'lead.sla_breached'
    | 'lead.returned'
    | 'message.received'
    | 'webhook.failing'
    | 'lead.update';
  eventId: number;
  conversationId: string | null;
  name: string | null;
  phone: string | null;
  email: string | null;
  intent: string | null;
  message: string | null;
  source: string;
  createdAt: string;
  /** Only for lead.sla_breached: when first contact was due. */
  slaDueAt?: string | undefined;
  /** Link to the lead in the admin dashboard. */
  leadUrl: string;
  /** The team member who owns the lead (now), when it has one. */
  assignee?: AlertAssignee | null | undefined;
  /** Only for an SLA escalation that moved the lead: who had it before. */
  previousAssignee?: AlertAssignee | null | undefined;
  /** Only for lead.sla_breached: 1 for the first breach, 2 when the new owner missed it too. */
  breach?: number | undefined;
  /** Only for message.received: how many visitor messages this alert covers (cooldown collapse). */
  messageCount?: number | undefined;
}

export interface AlertAssignee {
  name: string;
  email: string | null;
  slackUserId: string | null;
}

export interface SendResult {
  /** The provider's answer code (HTTP status, SMTP reply code), when there is one. */
  providerStatus?: number | undefined;
  /** Something worth recording although the send succeeded (e.g. some recipients refused). */
  note?: string | undefined;
}

/**
 * How fast the worker may send on a channel: a token bucket per destination
 * (src/outbox/pacer.ts). `ratePerMinute` 0 turns pacing off. Waiting for a token is
 * not an attempt; a rate-limit answer (see SendError.rateLimited) pauses the whole
 * channel in the process and re-queues the send without using an attempt either.
 */
export interface ChannelPacing {
  ratePerMinute: number;
  /** Sends allowed back to back after a quiet spell. */
  burst: number;
}

/**
 * A channel plug-in. How a new channel declares what the worker does for it:
 *
 * - `pacing`: its rate and burst. The registry sets it from `<CHANNEL>_RATE_PER_MINUTE`
 *   and `<CHANNEL>_BURST` (src/config.ts), so a sender file never reads config for it.
 *   Leave it out for a channel with no provider limit worth pacing.
 * - `destinationOf`: the key of the bucket an alert is paced in (one per webhook, chat,
 *   phone number or CRM account). Without it the whole channel is one destination,
 *   right for Slack (one webhook), Telegram (one chat) and email (one relay) today.
 * - `sendDigest`: only for chat-like channels (Slack, Telegram, WhatsApp), where people
 *   read a stream: when more than DIGEST_THRESHOLD new-lead alerts wait behind the
 *   pacer for one destination, the worker sends them as one message. A channel whose
 *   receiver needs one record per lead (CRM, webhooks, SMS, email) leaves it out and
 *   is never digested. SLA escalations are never digested, and go ahead of new-lead
 *   alerts in the queue.
 *
 * Retries, backoff, attempt logging and replay come from the worker for every channel:
 * a sender only sends once and classifies its failure (SendError).
 */
export interface NotificationSender {
  readonly channel: ChannelName;
  readonly pacing?: ChannelPacing | undefined;
  destinationOf?(alert: LeadAlert): string;
  /**
   * Which events this channel delivers. Absent: the team alerts (lead.created,
   * lead.sla_breached, webhook.failing). A CRM takes lead changes; a webhook endpoint
   * takes the event types it subscribed to.
   */
  accepts?(event: DeliveryEvent): boolean;
  /** This channel's own send timeout when it differs from WORKER_SEND_TIMEOUT_MS (webhooks: 15 s). */
  readonly timeoutMs?: number;
  /**
   * Delivers one event. Resolves when the provider accepted it; throws a SendError
   * (or anything else, treated as transient) when it did not. `signal` aborts the
   * send on timeout or shutdown. `alert` is the team-facing view of the event,
   * `event` the event itself (what a CRM or a webhook needs).
   */
  send(alert: LeadAlert, signal: AbortSignal, event: DeliveryEvent): Promise<SendResult>;
  /** Delivers several new-lead alerts for one destination as one message (chat-like channels only). */
  sendDigest?(alerts: readonly LeadAlert[], signal: AbortSignal): Promise<SendResult>;
  close?(): Promise<void>;
}

export type FailureKind = 'transient' | 'permanent';

/** The longest failure message stored or logged: a provider's text (200) plus our context. */
export const SEND_ERROR_MAX_CODE_POINTS = 400;

/**
 * A classified send failure. Transient ones (network, timeouts, 5xx, rate limits,
 * SMTP 4xx) are retried with backoff; permanent ones (bad webhook, revoked bot,
 * SMTP 5xx) stop that channel for that event. Messages must never carry secrets:
 * senders pass provider text through `providerText` (./provider-text.ts) with their
 * secrets first; the constructor sanitises the message once more (well-formed, no NUL,
 * at most SEND_ERROR_MAX_CODE_POINTS), so no sender can store text Postgres refuses.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly options: {
      providerStatus?: number | undefined;
      retryAfterMs?: number | undefined;
      /** The provider refused for rate (default: HTTP 429). */
      rateLimited?: boolean | undefined;
    } = {},
  ) {
    // Whatever a sender passes, what gets stored and logged is well-formed and bounded.
    super(providerText(message, [], SEND_ERROR_MAX_CODE_POINTS));
    this.name = 'SendError';
  }

  /**
   * A rate-limit answer: the worker pauses the channel for `retryAfterMs` and sends
   * again without using an attempt. HTTP 429 counts unless the sender says otherwise.
   */
  get rateLimited(): boolean {
    return this.options.rateLimited ?? this.options.providerStatus === 429;
  }

  get providerStatus(): number | undefined {
    return this.options.providerStatus;
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}

/**
 * Secrets scrubbed, Unicode made well-formed, cut by code points: the same sanitiser
 * as every provider text (./provider-text.ts), kept under this name for senders that
 * call it on a whole message.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  return providerText(text, secrets, SEND_ERROR_MAX_CODE_POINTS);
}

/** Parses an HTTP Retry-After header (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
