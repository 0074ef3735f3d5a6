/**
 * submitLead: one visitor submission, stored exactly once.
 *
 * The widget makes its own Idempotency-Key and sends the same key on every attempt, so
 * an attempt whose answer was lost (connection dropped, timeout, proxy error) can be
 * repeated safely: the server stores the first and answers later ones with the
 * original lead (200, `idempotent-replayed: true`).
 *
 * Retried: network errors and per-attempt timeouts, 429 (after its Retry-After), 503,
 * and 502/504 (a proxy's answer: the API may or may not have stored it, which the key
 * makes harmless). Not retried: every other answer, since repeating it would give the
 * same answer. Between attempts: exponential backoff with jitter, or Retry-After when
 * the server sent one. Runs in browsers and in Node ≥ 20 (global fetch).
 */
import { honeypotField } from './served-settings.js';
import { defaultBaseUrl, parseRetryAfter, readError, sleep, WidgetError } from './widget-http.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff; doubles each time, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** One attempt without an answer for this long is abandoned and retried. */
  timeoutMs: number;
  /** A longer Retry-After gives up instead of waiting. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 400,
  maxDelayMs: 8000,
  timeoutMs: 10_000,
  maxRetryAfterMs: 60_000,
};

export interface SubmitOptions {
  /** The API's origin; defaults to where this script was loaded from. */
  baseUrl?: string;
  /** `/api/chatbot/leads` (default) or `/api/contact`. */
  path?: string;
  retry?: Partial<RetryPolicy>;
  /** Called before each retry (for a "still sending…" hint). */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /** Reuse a key (e.g. one kept in sessionStorage across a reload); default: a new one. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface SubmittedLead {
  id: string;
  createdAt: string;
  /** True when an earlier attempt had already stored it (its answer was lost). */
  duplicate: boolean;
  returning: boolean;
  /** For openConversation(); absent when chat is disabled. */
  conversationToken?: string;
  /** How many attempts it took. */
  attempts: number;
  idempotencyKey: string;
}

export type LeadFields = Record<string, unknown>;

const RETRIED_STATUSES = new Set([429, 502, 503, 504]);

export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return `lrw-${c.randomUUID()}`;
  const bytes = c.getRandomValues(new Uint8Array(16));
  return `lrw-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Exponential backoff with "equal jitter": between half and all of base·2^(n-1), capped. */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** The body as sent: the caller's fields, with the honeypot present and empty unless given. */
export function leadBody(fields: LeadFields): LeadFields {
  const body: LeadFields = { ...fields };
  // A key in the body must equal the header's; the header carries it.
  delete body.idempotencyKey;
  const trap = honeypotField();
  if (body[trap] === undefined) body[trap] = '';
  return body;
}

export async function submitLead(fields: LeadFields, options: SubmitOptions = {}): Promise<SubmittedLead> {
  const policy = { ...DEFAULT_RETRY, ...options.retry };
  const key =
    options.idempotencyKey ??
    (typeof fields.idempotencyKey === 'string' ? fields.idempotencyKey : newIdempotencyKey());
  const url = `${options.baseUrl ?? defaultBaseUrl()}${options.path ?? '/api/chatbot/leads'}`;
  const body = JSON.stringify(leadBody(fields));
  for (let attempt = 1; ; attempt++) {
    let delayMs: number;
    let reason: string;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), policy.timeoutMs);
    const onAbort = () => timeout.abort();
    options.signal?.addEventListener('abort', onAbort);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body,
        signal: timeout.signal,
      });
      if (response.ok) {
        const answer = (await response.json()) as Omit<SubmittedLead, 'attempts' | 'idempotencyKey'>;
        return { ...answer, attempts: attempt, idempotencyKey: key };
      }
      const error = await readError(response);
      if (!RETRIED_STATUSES.has(response.status) || attempt >= policy.attempts) throw error;
      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      if (retryAfter !== null && retryAfter > policy.maxRetryAfterMs) throw error;
      delayMs = retryAfter ?? backoffDelay(attempt, policy);
      reason = `HTTP ${response.status}`;
    } catch (error) {
      if (error instanceof WidgetError) throw error;
      if (options.signal?.aborted) throw new WidgetError('Submission cancelled', 0, 'aborted');
      if (attempt >= policy.attempts) {
        throw new WidgetError('The lead could not be sent: the server did not answer', 0, 'network');
      }
      delayMs = backoffDelay(attempt, policy);
      reason = timeout.signal.aborted ? 'timeout' : 'network error';
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
    options.onRetry?.({ attempt, delayMs, reason });
    await sleep(delayMs, options.signal);
  }
}
