import { parseRetryAfter, SendError, scrubSecrets } from '../notifications/sender.js';

/**
 * HubSpot CRM v3 contacts over plain fetch (the official SDK brings its own retries,
 * which would hide attempts from notification_logs).
 *
 *   POST  /crm/v3/objects/contacts               create; 409 CONFLICT "Contact already
 *                                                exists. Existing ID: N" for a known email
 *   PATCH /crm/v3/objects/contacts/{id}          update properties
 *   POST  /crm/v3/objects/contacts/batch/upsert  ≤ 100 inputs {id: email, idProperty:
 *                                                "email", properties}; each result says `new`
 *   POST  /crm/v3/objects/contacts/gdpr-delete   {objectId: id}: permanent deletion of the
 *                                                contact and its associated content (GDPR);
 *                                                204, or 404 for an id HubSpot does not know
 *   (DELETE /crm/v3/objects/contacts/{id} only archives: restorable for 90 days, so an
 *   erasure does not use it.)
 *
 * Pacing: every answer carries X-HubSpot-RateLimit-Max / -Remaining /
 * -Interval-Milliseconds (the 10-second window). When Remaining reaches 0 the next
 * request waits for the window to roll over instead of spending a 429. A 429 body
 * names its policy: DAILY means nothing more today (the sender pauses the channel until
 * the reset and says so in `leadrelay health`); any other (SECONDLY, TEN_SECONDLY_ROLLING)
 * is a short wait.
 */
export interface HubSpotSettings {
  /** Secret: a private app token. Never in a log line or an error text. */
  accessToken: string;
  apiUrl: string;
}

export class HubSpotError extends SendError {
  constructor(
    message: string,
    kind: 'transient' | 'permanent',
    readonly details: {
      status?: number | undefined;
      retryAfterMs?: number | undefined;
      policyName?: string | undefined;
      body?: Record<string, unknown> | undefined;
    },
  ) {
    super(message, kind, {
      providerStatus: details.status,
      retryAfterMs: details.retryAfterMs,
      rateLimited: details.status === 429,
    });
    this.name = 'HubSpotError';
  }

  get daily(): boolean {
    return this.details.policyName === 'DAILY';
  }
}

export interface HubSpotClient {
  request<T>(
    method: 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<T>;
}

const EXISTING_ID = /Existing ID:\s*(\d+)/;

/** The id in HubSpot's 409 answer; its message is the one documented place it appears. */
export function existingContactId(error: unknown): string | undefined {
  if (!(error instanceof HubSpotError) || error.details.status !== 409) return undefined;
  const message = error.details.body?.message;
  return typeof message === 'string' ? EXISTING_ID.exec(message)?.[1] : undefined;
}

export function createHubSpotClient(settings: HubSpotSettings): HubSpotClient {
  const base = settings.apiUrl.replace(/\/+$/, '');
  const scrub = (text: string) => scrubSecrets(text, [settings.accessToken]);
  /** When the current 10-second window is used up: the next request waits until then. */
  let windowFreeAt = 0;

  async function paceByHeaders(signal: AbortSignal) {
    const wait = windowFreeAt - Date.now();
    if (wait <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, wait);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(
            new HubSpotError('HubSpot request cut short while waiting for its rate window', 'transient', {}),
          );
        },
        { once: true },
      );
    });
  }

  function learnFromHeaders(headers: Headers) {
    const remaining = Number(headers.get('x-hubspot-ratelimit-remaining'));
    const interval = Number(headers.get('x-hubspot-ratelimit-interval-milliseconds'));
    if (headers.has('x-hubspot-ratelimit-remaining') && remaining <= 0 && interval > 0) {
      windowFreeAt = Math.max(windowFreeAt, Date.now() + interval);
    }
  }

  return {
    async request<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, signal: AbortSignal) {
      await paceByHeaders(signal);
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${settings.accessToken}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          redirect: 'error',
          signal,
        });
      } catch (error) {
        const cause =
          error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        throw new HubSpotError(
          scrub(`HubSpot request ${signal.aborted ? 'timed out' : 'failed'}${cause}`),
          'transient',
          {},
        );
      }
      learnFromHeaders(response.headers);
      const text = await response.text().catch(() => '');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {}
      if (response.ok) return json as T;

      const status = response.status;
      const policyName = typeof json.policyName === 'string' ? json.policyName : undefined;
      const said = typeof json.message === 'string' ? json.message : text;
      const message = scrub(
        `HubSpot answered HTTP ${status}${json.category ? ` ${String(json.category)}` : ''}${
          policyName ? ` (${policyName})` : ''
        }: ${Array.from(said).slice(0, 200).join('')}`,
      );
      if (status === 429) {
        const interval = Number(response.headers.get('x-hubspot-ratelimit-interval-milliseconds')) || 1_000;
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after')) ?? interval;
        throw new HubSpotError(message, 'transient', { status, retryAfterMs, policyName, body: json });
      }
      // 401 (bad token), 403 (missing scope), 400 (unknown property or option), 404
      // and 409 fail the same way every time; 5xx is HubSpot's trouble.
      const kind = status >= 500 || status === 408 ? 'transient' : 'permanent';
      throw new HubSpotError(message, kind, { status, body: json });
    },
  };
}

/** The next midnight UTC: HubSpot's daily limit resets at midnight (in the account's zone; UTC is the safe guess). */
export function nextDailyReset(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}
