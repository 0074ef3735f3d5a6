/**
 * The one interface every notification channel implements. The worker loop only
 * knows this file: it never imports an SDK. Adding WhatsApp, SMS or a CRM means one
 * new `*-sender.ts` file plus one line in `registry.ts`.
 */
export const CHANNELS = ['slack', 'email', 'telegram'] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** What the team is told about a lead: plain, unescaped values; each channel escapes for itself. */
export interface LeadAlert {
  kind: 'lead.created' | 'lead.sla_breached';
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
}

export interface SendResult {
  /** The provider's answer code (HTTP status, SMTP reply code), when there is one. */
  providerStatus?: number | undefined;
  /** Something worth recording although the send succeeded (e.g. some recipients refused). */
  note?: string | undefined;
}

export interface NotificationSender {
  readonly channel: ChannelName;
  /**
   * Delivers one alert. Resolves when the provider accepted it; throws a SendError
   * (or anything else, treated as transient) when it did not. `signal` aborts the
   * send on timeout or shutdown.
   */
  send(alert: LeadAlert, signal: AbortSignal): Promise<SendResult>;
  close?(): Promise<void>;
}

export type FailureKind = 'transient' | 'permanent';

/**
 * A classified send failure. Transient ones (network, timeouts, 5xx, rate limits,
 * SMTP 4xx) are retried with backoff; permanent ones (bad webhook, revoked bot,
 * SMTP 5xx) stop that channel for that event. Messages must never carry secrets:
 * senders pass them through `scrubSecrets` first.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly options: { providerStatus?: number | undefined; retryAfterMs?: number | undefined } = {},
  ) {
    super(message);
    this.name = 'SendError';
  }

  get providerStatus(): number | undefined {
    return this.options.providerStatus;
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}

/**
 * Replaces every secret (webhook URL, bot token, SMTP password) in `text`, plus
 * anything that looks like a Slack webhook path or a Telegram bot token, so an
 * error message can be logged and stored safely.
 */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  }
  return out
    .replace(/\/services\/[A-Za-z0-9/_-]+/g, '/services/[REDACTED]')
    .replace(/bot\d+:[A-Za-z0-9_-]+/g, 'bot[REDACTED]');
}

/** Parses an HTTP Retry-After header (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
