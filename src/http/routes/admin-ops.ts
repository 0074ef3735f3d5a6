import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getStats, listNotifications, replayEvent } from '../../admin/admin-store.js';
import type { Config } from '../../config.js';
import type { Storage } from '../../storage/storage.js';
import { optionalText } from '../../validation/text-fields.js';
import { principalOf } from '../admin-auth.js';
import { perMinute } from '../rate-limit.js';

/** Admin operations: notification attempts, replay of dead events, dashboard stats. */
export async function adminOpsRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limit = perMinute(config.http.rateLimits.adminPerMinute);

  typed.get(
    '/api/admin/notifications',
    {
      config: limit,
      schema: {
        summary: 'Notification attempts, newest first',
        querystring: z.object({
          status: z.enum(['sent', 'failed', 'skipped', 'rate_limited']).optional(),
          channel: optionalText(50),
          before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
    },
    (request) =>
      listNotifications(storage, {
        status: request.query.status,
        channel: request.query.channel,
        beforeId: request.query.before,
        limit: request.query.limit,
      }),
  );

  typed.post(
    '/api/admin/events/:id/replay',
    {
      config: { ...limit, audit: { action: 'event.replay', resource: 'event' } },
      schema: {
        summary: 'Queue a dead event for delivery again',
        params: z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
        body: z.strictObject({}).nullish(),
      },
    },
    async (request, reply) => {
      const result = await replayEvent(storage, request.params.id, principalOf(request).name);
      request.log.info({ eventId: result.eventId, eventType: result.eventType }, 'Dead event replayed');
      return reply.code(202).send(result);
    },
  );

  typed.get('/api/admin/stats', { config: limit, schema: { summary: 'Dashboard counters' } }, () =>
    getStats(storage),
  );
}
