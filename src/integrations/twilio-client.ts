import { maskPhone } from '../logger.js';
import { parseRetryAfter, SendError, scrubSecrets } from '../notifications/sender.js';

/**
 * Twilio's Programmable Messaging "create a Message" call, shared by the SMS and the
 * WhatsApp sender: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form
 * encoded, HTTP Basic (Account SID : auth token). Plain fetch: one call and its error
 * body are all we need, and the official SDK would bring its own retries and axios.
 *
 * Twilio answers 201 with the Message resource, or an error body
 * `{"code": 21211, "message": "...", "more_info": "...", "status": 400}`. The
 * recorded provider status is Twilio's error code when there is one (21610 says more
 * than 400), otherwise the HTTP status.
 */
export interface TwilioSettings {
  accountSid: string;
  /** Secret: never in a log line or an error text. */
  authToken: string;
  apiUrl: string;
  messagingServiceSid?: string | undefined;
}

/** Failures that will be the same on every try: the message is not sent again. */
const PERMANENT_CODES: Record<number, string> = {
  20003: 'authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
  21211: "invalid 'To' phone number",
  21606: "the 'From' number cannot send to this destination",
  21608: 'trial account: the recipient is not a verified number',
  21610: 'the recipient unsubscribed (replied STOP): no more messages to this number',
  21614: "'To' is not a mobile number that can receive messages",
  63016:
    'free-form WhatsApp message outside the 24-hour window: configure an approved template (TWILIO_WHATSAPP_CONTENT_SID)',
};

export const TWILIO_UNSUBSCRIBED = 21610;

export class TwilioError extends SendError {
  constructor(
    message: string,
    kind: 'transient' | 'permanent',
    readonly twilioCode: number | undefined,
    options: {
      providerStatus?: number | undefined;
      retryAfterMs?: number | undefined;
      rateLimited?: boolean | undefined;
    },
  ) {
    super(message, kind, options);
    this.name = 'TwilioError';
  }
}

export interface TwilioMessage {
  sid: string;
  status: string;
}

export async function createTwilioMessage(
  settings: TwilioSettings,
  params: Record<string, string>,
  signal: AbortSignal,
): Promise<TwilioMessage> {
  const url = `${settings.apiUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(
    settings.accountSid,
  )}/Messages.json`;
  const auth = Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64');
  const scrub = (text: string) => scrubSecrets(text, [settings.authToken, auth]);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Basic ${auth}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams(params).toString(),
      redirect: 'error',
      signal,
    });
  } catch (error) {
    const what = signal.aborted ? 'timed out' : 'failed';
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new TwilioError(scrub(`Twilio request ${what}${cause}`), 'transient', undefined, {});
  }
  const text = await response.text().catch(() => '');
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  if (response.ok) {
    return { sid: String(body.sid ?? ''), status: String(body.status ?? 'queued') };
  }
  const code = typeof body.code === 'number' ? body.code : undefined;
  const detail = code !== undefined ? PERMANENT_CODES[code] : undefined;
  const twilioText = typeof body.message === 'string' ? body.message.slice(0, 200) : text.slice(0, 200);
  const message = scrub(
    `Twilio answered HTTP ${response.status}${code !== undefined ? ` error ${code}` : ''}: ${
      detail ?? twilioText
    }`,
  );
  const providerStatus = code ?? response.status;
  if (response.status === 429 || code === 20429) {
    throw new TwilioError(message, 'transient', code, {
      providerStatus,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      rateLimited: true,
    });
  }
  const transient = response.status >= 500 || response.status === 408;
  throw new TwilioError(message, transient ? 'transient' : 'permanent', code, { providerStatus });
}

export interface RecipientOutcome {
  to: string;
  ok: boolean;
  error?: TwilioError;
}

/**
 * Sends one message per recipient (sequentially: a handful of numbers, and Twilio
 * queues each one anyway). Each recipient's outcome is kept, so the sender can say
 * who got it and stop numbers that unsubscribed.
 */
export async function sendToEach(
  recipients: readonly string[],
  send: (to: string) => Promise<TwilioMessage>,
  signal: AbortSignal,
): Promise<RecipientOutcome[]> {
  const outcomes: RecipientOutcome[] = [];
  for (const to of recipients) {
    if (signal.aborted) break;
    try {
      await send(to);
      outcomes.push({ to, ok: true });
    } catch (error) {
      const twilioError =
        error instanceof TwilioError
          ? error
          : new TwilioError('Twilio send failed unexpectedly', 'transient', undefined, {});
      outcomes.push({ to, ok: false, error: twilioError });
    }
  }
  return outcomes;
}

/**
 * One verdict for the channel from the recipients' outcomes. Someone got it: sent
 * (the note names who did not, masked), because sending again would repeat it to
 * those who did. Nobody got it: the failure, transient if any was.
 */
export function verdict(
  channel: string,
  outcomes: RecipientOutcome[],
  stopped: readonly string[],
): { providerStatus: number; note?: string } {
  const failed = outcomes.filter((outcome) => !outcome.ok);
  const noteParts = failed.map(
    (outcome) => `${maskPhone(outcome.to)}: ${outcome.error?.message ?? 'failed'}`,
  );
  if (stopped.length > 0) {
    noteParts.push(`not sent to ${stopped.map(maskPhone).join(', ')} (unsubscribed, Twilio 21610)`);
  }
  const note = noteParts.length > 0 ? noteParts.join('; ') : undefined;
  if (outcomes.some((outcome) => outcome.ok)) return { providerStatus: 201, ...(note ? { note } : {}) };
  if (failed.length === 0) {
    throw new SendError(
      `every ${channel} recipient unsubscribed (Twilio 21610): ${note ?? ''}; change the recipients`,
      'permanent',
      { providerStatus: TWILIO_UNSUBSCRIBED },
    );
  }
  const transient = failed.find((outcome) => outcome.error?.kind === 'transient');
  const first = (transient ?? failed[0])?.error;
  throw new SendError(note ?? `${channel} send failed`, transient ? 'transient' : 'permanent', {
    providerStatus: first?.providerStatus,
    retryAfterMs: transient?.error?.retryAfterMs,
    rateLimited: transient?.error?.rateLimited,
  });
}
