import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import { createLiveFeed } from '../admin/live-feed.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage/storage.js';
import { HttpError, handleError } from './errors.js';
import { registerRateLimits } from './rate-limit.js';
import { adminRoutes } from './routes/admin-api.js';
import { conversationRoutes } from './routes/conversations.js';
import { sameOriginIsNotCrossOrigin } from './routes/dashboard.js';
import { registerApiDocs } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { intakeRoutes } from './routes/intake.js';
import { installRequestMetrics, metricsRoutes } from './routes/metrics.js';
import { widgetRoutes } from './routes/widget.js';

export interface AppDependencies {
  config: Config;
  storage: Storage;
  logger: Logger;
  /** Shared rate-limit counters; in-memory when absent. */
  redis?: Redis | undefined;
  /** Prefix for the rate-limit keys in Redis (tests isolate themselves with it). */
  rateLimitNamespace?: string;
}

/** Builds the HTTP app without listening, so tests can drive it with inject(). */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
    },
    requestIdHeader: false,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  // The API speaks JSON only: anything else is refused with 415 instead of reaching validation.
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'not_found',
      message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
    }),
  );
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // The /admin dashboard calls the API from its own origin: not a CORS request.
  app.addHook('onRequest', sameOriginIsNotCrossOrigin);
  await app.register(helmet, { global: true });
  const allowed = new Set(config.http.corsOrigins);
  await app.register(cors, {
    // Requests without an Origin header (curl, servers) are not subject to CORS.
    origin: (origin, callback) => {
      if (!origin || allowed.has(origin)) return callback(null, true);
      callback(new HttpError(403, 'origin_not_allowed', 'This origin is not allowed to call the API'), false);
    },
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['content-type', 'idempotency-key', 'authorization', 'x-api-key', 'x-request-id'],
    exposedHeaders: ['retry-after', 'x-request-id', 'idempotent-replayed'],
    maxAge: 600,
  });
  await registerRateLimits(app, { redis: deps.redis, nameSpace: deps.rateLimitNamespace });

  // Docs first: @fastify/swagger documents the routes registered after it.
  if (config.ops.docsEnabled) await registerApiDocs(app);
  installRequestMetrics(app);
  await app.register(healthRoutes, { storage: deps.storage });
  await app.register(intakeRoutes, { storage: deps.storage, config });
  await app.register(widgetRoutes, { honeypotField: config.leads.honeypotField });
  // One LISTEN per process feeds the admin stream and the conversation streams.
  const feed = createLiveFeed(deps.storage, deps.logger);
  app.addHook('onClose', () => feed.close());
  await app.register(adminRoutes, { storage: deps.storage, config, logger: deps.logger, feed });
  await app.register(conversationRoutes, { storage: deps.storage, config, feed });
  // With METRICS_PORT set, server.ts serves /metrics on that port instead (no key).
  if (config.ops.metrics.enabled && config.ops.metrics.port === undefined) {
    await app.register(metricsRoutes, { storage: deps.storage, config });
  }
  return app;
}
