import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getOverview } from '../../admin/overview.js';
import type { Config } from '../../config.js';
import type { Storage } from '../../storage/storage.js';
import { perMinute } from '../rate-limit.js';

/** GET /api/admin/overview: the dashboard's pictures (trends, SLA, channel health) in one call. */
export async function adminOverviewRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/admin/overview',
    {
      config: perMinute(config.http.rateLimits.adminPerMinute),
      schema: {
        summary: 'Leads per day, by source and intent, SLA compliance, channel health (24 h)',
        querystring: z.object({ days: z.coerce.number().int().min(1).max(90).default(14) }),
      },
    },
    (request) => getOverview(storage, { days: request.query.days }),
  );
}
