import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/**
 * What every conversation route (visitor and agent) runs first:
 * - the kill switch: CHAT_DISABLED=true answers 503 chat_disabled with Retry-After
 *   before authentication or anything else (lead capture is not a conversation route
 *   and keeps working, without a conversationToken);
 * - rate limits per client IP (request.ip: X-Forwarded-For only behind TRUST_PROXY)
 *   and, for sending, per conversation, through @fastify/rate-limit's counters (shared
 *   through Redis when configured). The plugin's own route option runs one limit per
 *   request, so these two use createRateLimit and answer the 429 themselves, with the
 *   same body as the plugin's and Retry-After.
 */
export const CHAT_DISABLED_RETRY_AFTER_SECONDS = 300;

export function chatKillSwitch(config: Config) {
  return async (_request: FastifyRequest, reply: FastifyReply) => {
    if (!config.chat.disabled) return;
    return reply
      .code(503)
      .header('retry-after', String(CHAT_DISABLED_RETRY_AFTER_SECONDS))
      .send({ error: 'chat_disabled', message: 'Chat temporarily unavailable' });
  };
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

function conversationKey(request: FastifyRequest): string {
  const id = (request.params as Record<string, unknown> | undefined)?.id;
  return `chat-conversation:${typeof id === 'string' ? id.slice(0, 64) : 'none'}`;
}

async function enforce(limiter: Limiter, request: FastifyRequest, reply: FastifyReply, what: string) {
  const result = await limiter(request);
  if (result.isAllowed || !result.isExceeded) return false;
  await reply
    .code(429)
    .header('retry-after', String(Math.max(1, result.ttlInSeconds)))
    .send({
      error: 'rate_limited',
      message: `Rate limit exceeded: at most ${result.max} ${what} per minute; retry in ${Math.max(1, result.ttlInSeconds)} seconds`,
    });
  return true;
}

export function chatLimits(app: FastifyInstance, config: Config) {
  const { chatMessagesPerMinute, chatReadsPerMinute } = config.http.rateLimits;
  const perConversation = app.createRateLimit({
    max: chatMessagesPerMinute,
    timeWindow: 60_000,
    keyGenerator: conversationKey,
  });
  const perIpMessages = app.createRateLimit({
    max: chatMessagesPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `chat-messages-ip:${request.ip}`,
  });
  const perIpReads = app.createRateLimit({
    max: chatReadsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `chat-reads-ip:${request.ip}`,
  });
  return {
    /** Sending: per client IP and per conversation. */
    async messages(request: FastifyRequest, reply: FastifyReply) {
      if (await enforce(perIpMessages, request, reply, 'messages from one client')) return reply;
      if (await enforce(perConversation, request, reply, 'messages in one conversation')) return reply;
    },
    /** Reading (history, polling, stream tokens, streams): per client IP. */
    async reads(request: FastifyRequest, reply: FastifyReply) {
      if (await enforce(perIpReads, request, reply, 'requests from one client')) return reply;
    },
  };
}
