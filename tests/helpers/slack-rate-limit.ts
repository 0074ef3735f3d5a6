import { type HttpReply, SLACK_OK, type SlackPost } from './receivers.js';

/**
 * Slack's documented limit for incoming webhooks: about one message per second per
 * webhook; a message over the limit is refused with HTTP 429, body `rate_limited` and a
 * `Retry-After` header in seconds (api.slack.com/apis/rate-limits). Use as a
 * SlackReceiver's `respond`: at most one accepted post per `intervalMs`, the rest 429.
 */
export function slackRateLimited(intervalMs = 1_000, retryAfterSeconds = 1) {
  let lastAccepted = Number.NEGATIVE_INFINITY;
  return (post: SlackPost): HttpReply => {
    if (post.at - lastAccepted < intervalMs) {
      return { status: 429, body: 'rate_limited', headers: { 'retry-after': String(retryAfterSeconds) } };
    }
    lastAccepted = post.at;
    return SLACK_OK;
  };
}

/** The leads one message links to, each once (a digest links several; a single alert may link twice). */
export function leadIdsLinkedIn(text: string): string[] {
  return [...new Set([...text.matchAll(/#\/leads\/([0-9a-f-]{36})/g)].map((match) => match[1]!))];
}
