import type { FastifyInstance } from 'fastify';
import type { Storage } from '../../storage/storage.js';

/** GET /health: the process is up and the database answers. */
export async function healthRoutes(app: FastifyInstance, { storage }: { storage: Storage }) {
  app.get('/health', async (_request, reply) => {
    const started = performance.now();
    try {
      await storage.call('leadrelay_ping');
      return {
        status: 'ok',
        database: 'up',
        storage: storage.mode,
        latencyMs: Math.round(performance.now() - started),
      };
    } catch {
      return reply.code(503).send({ status: 'unavailable', database: 'down', storage: storage.mode });
    }
  });
}
