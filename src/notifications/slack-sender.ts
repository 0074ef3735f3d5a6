import {
  type FetchFunction,
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type IncomingWebhookSendArguments,
} from '@slack/webhook';
import { formatSlackDigest } from './digest-format.js';
import { formatSlack } from './format.js';
import { lightFetch } from './light-fetch.js';
import { providerText } from './provider-text.js';
import { type NotificationSender, parseRetryAfter, SendError } from './sender.js';

export interface SlackSenderOptions {
  /** The incoming-webhook URL. It is a secret: it never appears in an error message. */
  webhookUrl: string;
}

/**
 * Slack incoming webhook via @slack/webhook, Block Kit with a plain-text fallback.
 * The library throws IncomingWebhookHTTPError without response headers, so we hand
 * it a fetch that remembers them: that is how a 429's Retry-After is honoured. The
 * library's own retries stay off (its default): our attempt log owns retries, and its
 * timeout too: the worker's signal carries the send timeout (channel-queues.ts), so a
 * second timer and a merged signal per post would only cost CPU.
 */
export function createSlackSender(options: SlackSenderOptions): NotificationSender {
  const secrets = [options.webhookUrl];
  async function post(payload: IncomingWebhookSendArguments, signal: AbortSignal) {
    let retryAfter: string | null = null;
    const fetchKeepingHeaders: FetchFunction = async (url, init) => {
      const response = await lightFetch(url, { ...init, signal });
      retryAfter = response.headers.get('retry-after');
      // The DOM typings lack Headers.entries(); Node's Headers has it.
      return response as unknown as Awaited<ReturnType<FetchFunction>>;
    };
    const webhook = new IncomingWebhook(options.webhookUrl, { fetch: fetchKeepingHeaders });
    try {
      await webhook.send(payload);
      return { providerStatus: 200 };
    } catch (error) {
      throw classifySlackError(error, retryAfter, secrets);
    }
  }
  return {
    channel: 'slack',
    send: (alert, signal) => post(formatSlack(alert), signal),
    // A chat channel: alerts waiting behind the pacer may go out as one message.
    sendDigest: (alerts, signal) => post(formatSlackDigest(alerts), signal),
  };
}

function classifySlackError(error: unknown, retryAfter: string | null, secrets: string[]): SendError {
  if (error instanceof IncomingWebhookHTTPError) {
    const status = error.statusCode;
    const body = providerText(error.body, secrets);
    const message = `Slack answered HTTP ${status}${body ? `: ${body}` : ''}`;
    if (status === 429) {
      return new SendError(message, 'transient', {
        providerStatus: status,
        retryAfterMs: parseRetryAfter(retryAfter),
      });
    }
    // 5xx and request timeouts are Slack's trouble; 400 invalid_payload, 403
    // action_prohibited, 404 channel_not_found / no_service, 410 channel_is_archived
    // will fail the same way every time.
    const transient = status >= 500 || status === 408;
    return new SendError(message, transient ? 'transient' : 'permanent', { providerStatus: status });
  }
  if (error instanceof IncomingWebhookRequestError) {
    const original = error.original;
    const cause = original.cause instanceof Error ? `: ${original.cause.message}` : '';
    const what = original.name === 'TimeoutError' || original.name === 'AbortError' ? 'timed out' : 'failed';
    return new SendError(
      providerText(`Slack request ${what}: ${original.message}${cause}`, secrets),
      'transient',
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SendError(providerText(`Slack send failed: ${message}`, secrets), 'transient');
}
