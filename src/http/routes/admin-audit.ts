import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listAudit } from '../../audit/audit-store.js';
import type { Config } from '../../config.js';
import type { Storage } from '../../storage/storage.js';
import { HttpError } from '../errors.js';
import { perMinute } from '../rate-limit.js';

/** GET /api/admin/audit: the audit log, newest first, keyset paged (owner and admins). */
const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' });

function encodeAuditCursor(next: { createdAt: string; id: number }): string {
  return Buffer.from(JSON.stringify([next.createdAt, next.id])).toString('base64url');
}

function decodeAuditCursor(cursor: string): { createdAt: string; id: number } | null {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) return null;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return null;
    return { createdAt, id };
  } catch {
    return null;
  }
}

export async function adminAuditRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/api/admin/audit',
    {
      config: { ...perMinute(config.http.rateLimits.adminPerMinute), adminOnly: true },
      schema: {
        summary: 'Audit log of admin changes, newest first (keyset pages)',
        querystring: z.object({
          actor: z.uuid({ error: 'must be a team member id' }).optional(),
          action: z
            .string()
            .regex(/^[a-z_]+(\.[a-z_]*)?$/, {
              error: 'must be an action like lead.update or a prefix like team.',
            })
            .optional(),
          status: z.enum(['success', 'failure']).optional(),
          from: isoDate.optional(),
          to: isoDate.optional(),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
    },
    async (request) => {
      const { cursor, ...query } = request.query;
      const before = cursor ? decodeAuditCursor(cursor) : undefined;
      if (before === null) throw new HttpError(400, 'invalid_cursor', 'cursor is not one this API issued');
      const page = await listAudit(storage, {
        actorId: query.actor,
        action: query.action,
        status: query.status,
        from: query.from,
        to: query.to,
        before,
        limit: query.limit,
      });
      return { items: page.items, nextCursor: page.next ? encodeAuditCursor(page.next) : null };
    },
  );
}
