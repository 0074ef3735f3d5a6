import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { eraseLead } from '../../privacy/erasure.js';
import type { Storage } from '../../storage/storage.js';
import { principalOf } from '../admin-auth.js';
import { perMinute } from '../rate-limit.js';

/**
 * GDPR erasure of one lead (docs/privacy.md). Admins only: it cannot be undone.
 * `?dryRun=true` answers the counts and changes nothing. The audit row (lead.erase)
 * names the lead's id and the actor; the answer and the row carry no personal data.
 */
export async function adminPrivacyRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limit = perMinute(config.http.rateLimits.adminPerMinute);

  typed.delete(
    '/api/admin/leads/:id',
    {
      config: { ...limit, adminOnly: true, audit: { action: 'lead.erase', resource: 'lead' } },
      schema: {
        summary:
          'Erase a lead (GDPR): its personal data everywhere, with every lead merged with it; a tombstone stays. dryRun=true only counts.',
        params: z.object({ id: z.uuid({ error: 'must be a UUID' }) }),
        querystring: z.strictObject({
          dryRun: z
            .enum(['true', 'false'], { error: 'must be true or false' })
            .transform((value) => value === 'true')
            .optional(),
        }),
        body: z.strictObject({}).nullish(),
      },
    },
    async (request) => {
      const result = await eraseLead(storage, request.params.id, {
        actor: principalOf(request).name,
        dryRun: request.query.dryRun ?? false,
      });
      if (result.erased) {
        request.log.info(
          { leadIds: result.leadIds, events: result.events },
          'Lead erased (GDPR); lead.erased queued for the integrations',
        );
      }
      return result;
    },
  );
}
