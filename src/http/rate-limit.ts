import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

/**
 * Per-client-IP limits. The client IP is `request.ip`, which honours
 * X-Forwarded-For only when TRUST_PROXY is configured, so a forged header cannot
 * dodge the limit. With Redis the counters are shared by every API instance; if
 * Redis fails, requests pass (a lead is worth more than a perfect limit) and the
 * failure is logged.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  options: { redis?: Redis | undefined; nameSpace?: string | undefined },
) {
  await app.register(rateLimit, {
    global: false,
    ...(options.redis ? { redis: options.redis } : {}),
    nameSpace: options.nameSpace ?? 'leadrelay-rl-',
    skipOnError: true,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `Rate limit exceeded: at most ${context.max} requests per ${context.after === '1 minute' ? 'minute' : 'window'}; retry in ${context.after}`,
    }),
  });
}

/** Route option for a limit of `max` requests per client per minute. */
export function perMinute(max: number) {
  return { rateLimit: { max, timeWindow: 60_000 } };
}
