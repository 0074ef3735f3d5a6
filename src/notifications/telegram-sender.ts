import { Api, NetworkError, ParseError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';
import { formatTelegramDigest } from './digest-format.js';
import { formatTelegram } from './format.js';
import { lightFetch } from './light-fetch.js';
import { providerText } from './provider-text.js';
import { type NotificationSender, SendError } from './sender.js';

export interface TelegramSenderOptions {
  /** Secret: it is part of every request URL, so every error text is scrubbed of it. */
  botToken: string;
  chatId: string;
  /** Bot API base URL (https://api.telegram.org, or a local server in tests). */
  apiUrl: string;
}

/**
 * Telegram via node-telegram-bot-api 2.x (`Api`, one method per Bot API method),
 * HTML parse mode. Its built-in retries are turned off (maxRetries: 0) so that every
 * attempt is one notification_logs row and our backoff decides when to try again.
 */
export function createTelegramSender(options: TelegramSenderOptions): NotificationSender {
  const secrets = [options.botToken, encodeURIComponent(options.botToken)];
  async function sendText(text: string, signal: AbortSignal) {
    // One client per send: cheap, and the status seen by this send's fetch is its own.
    let lastStatus: number | undefined;
    const fetchKeepingStatus: typeof fetch = async (input, init) => {
      const response = await lightFetch(input, init);
      lastStatus = response.status;
      // The library reads status and text() only (light-fetch.ts).
      return response as unknown as Response;
    };
    const api = new Api(options.botToken, {
      apiRoot: options.apiUrl,
      fetch: fetchKeepingStatus,
      // The worker's signal carries the send timeout (channel-queues.ts); 0 turns the
      // library's own timer and merged signal off.
      timeoutMs: 0,
      maxRetries: 0,
    });
    try {
      await api.sendMessage(
        {
          chat_id: options.chatId,
          text,
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
        },
        signal,
      );
      return { providerStatus: 200 };
    } catch (error) {
      throw classifyTelegramError(error, lastStatus, signal, secrets);
    }
  }
  return {
    channel: 'telegram',
    send: (alert, signal) => sendText(formatTelegram(alert), signal),
    // A chat channel: alerts waiting behind the pacer may go out as one message.
    sendDigest: (alerts, signal) => sendText(formatTelegramDigest(alerts), signal),
  };
}

function classifyTelegramError(
  error: unknown,
  httpStatus: number | undefined,
  signal: AbortSignal,
  secrets: string[],
): SendError {
  const scrub = (text: string) => providerText(text, secrets);
  if (error instanceof TelegramApiError) {
    const message = scrub(`Telegram answered ${error.errorCode}: ${error.description}`);
    if (error.errorCode === 429) {
      const seconds = error.retryAfter;
      return new SendError(message, 'transient', {
        providerStatus: 429,
        retryAfterMs: seconds === undefined ? undefined : seconds * 1000,
      });
    }
    // 400 (bad chat id, unparsable markup), 401 (revoked token), 403 (bot blocked or
    // kicked), 404 fail the same way every time; 5xx is Telegram's trouble.
    const transient = error.errorCode >= 500;
    return new SendError(message, transient ? 'transient' : 'permanent', { providerStatus: error.errorCode });
  }
  if (error instanceof TimeoutError || signal.aborted) {
    return new SendError('Telegram request timed out', 'transient');
  }
  if (error instanceof NetworkError || error instanceof ParseError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return new SendError(scrub(`Telegram request failed: ${error.message}${cause}`), 'transient', {
      providerStatus: httpStatus,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SendError(scrub(`Telegram send failed: ${message}`), 'transient', {
    providerStatus: httpStatus,
  });
}
