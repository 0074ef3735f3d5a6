import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MIGRATIONS_NOT_VERIFIABLE, pendingMigrationNames } from '../../ops/migration-status.js';
import type { Storage } from '../../storage/storage.js';

/**
 * GET /health: liveness. Cheap (one ping): the process is up and the database answers.
 * Render's health check uses it.
 *
 * GET /health/ready: readiness. Also refuses while the migrations shipped with this
 * build are not all applied, so a load balancer or a deploy gate keeps traffic away
 * from an instance whose schema is behind. It reads the migration history (one small
 * table), so probe it every few seconds, not per request.
 */
const healthBody = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.enum(['up', 'down']),
  storage: z.string(),
  latencyMs: z.number().optional(),
});

const readyBody = z.object({
  status: z.enum(['ready', 'not_ready']),
  database: z.enum(['up', 'down']),
  storage: z.string(),
  pendingMigrations: z
    .array(z.string())
    .optional()
    .describe('Migrations this build ships that are not applied'),
  reason: z.string().optional(),
});

export async function healthRoutes(app: FastifyInstance, { storage }: { storage: Storage }) {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '/health',
    {
      schema: {
        summary: 'Liveness: the process is up and the database answers',
        response: { 200: healthBody, 503: healthBody },
      },
    },
    async (_request, reply) => {
      const started = performance.now();
      try {
        await storage.call('leadrelay_ping');
        return {
          status: 'ok' as const,
          database: 'up' as const,
          storage: storage.mode,
          latencyMs: Math.round(performance.now() - started),
        };
      } catch {
        return reply.code(503).send({ status: 'unavailable', database: 'down', storage: storage.mode });
      }
    },
  );

  typed.get(
    '/health/ready',
    {
      schema: {
        summary: 'Readiness: the database answers and every migration of this build is applied',
        response: { 200: readyBody, 503: readyBody },
      },
    },
    async (_request, reply) => {
      try {
        await storage.call('leadrelay_ping');
      } catch {
        return reply.code(503).send({
          status: 'not_ready',
          database: 'down',
          storage: storage.mode,
          reason: 'database unreachable',
        });
      }
      let pending: string[] | null;
      try {
        pending = await pendingMigrationNames(storage);
      } catch {
        return reply.code(503).send({
          status: 'not_ready',
          database: 'up',
          storage: storage.mode,
          reason: 'could not read the migration history',
        });
      }
      if (pending === null) {
        // Nothing to compare with: report it, but do not hold traffic back for ever.
        return {
          status: 'ready' as const,
          database: 'up' as const,
          storage: storage.mode,
          reason: MIGRATIONS_NOT_VERIFIABLE,
        };
      }
      if (pending.length > 0) {
        return reply.code(503).send({
          status: 'not_ready',
          database: 'up',
          storage: storage.mode,
          pendingMigrations: pending,
          reason: 'migrations pending: run `leadrelay migrate` (or `supabase db push`)',
        });
      }
      return {
        status: 'ready' as const,
        database: 'up' as const,
        storage: storage.mode,
        pendingMigrations: [],
      };
    },
  );
}
