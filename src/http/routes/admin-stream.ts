import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FeedMessage, LiveFeed } from '../../admin/live-feed.js';
import type { Config } from '../../config.js';
import { optionalText } from '../../validation/text-fields.js';
import { createStreamToken } from '../admin-auth.js';
import { perMinute } from '../rate-limit.js';

/**
 * GET /api/admin/stream: Server-Sent Events for the dashboard (new leads, lead
 * changes, notification results, SLA breaches), fed by LISTEN/NOTIFY. Each message is
 * `data: {"kind": ..., ...}`; an `event: heartbeat` every heartbeatMs keeps proxies from
 * closing an idle connection and lets the client notice a dead one. Where the storage
 * cannot LISTEN (Supabase rpc) the route answers 503 and the dashboard polls.
 */
export const DEFAULT_HEARTBEAT_MS = 15_000;

export async function adminStreamRoutes(
  app: FastifyInstance,
  options: { config: Config; feed: LiveFeed; heartbeatMs?: number },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const { config, feed } = options;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const openStreams = new Set<() => void>();
  const adminKey = config.admin.apiKey;

  // Open streams would keep app.close() waiting for ever: end them first.
  app.addHook('preClose', async () => {
    for (const end of openStreams) end();
  });

  typed.post(
    '/api/admin/stream-token',
    {
      // Issues a token for the read-only stream and changes nothing: not audited.
      config: { ...perMinute(config.http.rateLimits.adminPerMinute), audit: false },
      schema: { summary: 'Short-lived stream token' },
    },
    () => {
      if (!adminKey) throw new Error('admin key not configured');
      return createStreamToken(adminKey);
    },
  );

  typed.get(
    '/api/admin/stream',
    {
      config: { ...perMinute(config.http.rateLimits.adminPerMinute), adminQueryToken: true },
      schema: {
        summary: 'Live admin events (SSE)',
        querystring: z.object({ token: optionalText(100) }),
      },
    },
    async (request, reply) => {
      const raw = reply.raw;
      let deliver: (message: FeedMessage) => void;
      const early: FeedMessage[] = [];
      deliver = (message) => early.push(message);
      const unsubscribe = await feed.subscribe((message) => deliver(message));
      if (!unsubscribe) {
        return reply.code(503).send({
          error: 'stream_unavailable',
          message: 'Live updates are not available with this storage mode; poll the API instead',
        });
      }

      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      const write = (message: FeedMessage) => raw.write(`data: ${JSON.stringify(message)}\n\n`);
      raw.write('retry: 3000\n\n');
      write({ kind: 'ready' });
      for (const message of early) write(message);
      deliver = write;

      // A named event, not a comment: browser code never sees SSE comments, so only a
      // data-carrying heartbeat lets the dashboard notice a half-open stream that went
      // silent (it stops trusting the stream after a few missed beats).
      const heartbeat = setInterval(
        () => raw.write(`event: heartbeat\ndata: ${JSON.stringify({ at: new Date().toISOString() })}\n\n`),
        heartbeatMs,
      );
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        openStreams.delete(end);
        raw.end();
      };
      openStreams.add(end);
      request.raw.on('close', end);
      raw.on('error', end);
      request.log.info('Admin stream opened');
    },
  );
}
