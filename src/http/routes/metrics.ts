import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import {
  httpRequestDuration,
  type LeadSource,
  recordLeadAccepted,
  recordLeadRejected,
  renderMetrics,
} from '../../metrics/metrics.js';
import { refreshOpsGauges } from '../../metrics/ops-snapshot.js';
import type { Storage } from '../../storage/storage.js';
import { presentedKey, secretsEqual } from '../admin-auth.js';
import { errorResponses } from '../error-schemas.js';

/**
 * Request metrics (latency per route, leads accepted and rejected by reason) and the
 * key-protected GET /metrics. The hooks go on the root instance so they see every
 * route; the reason for a refused lead is the `error` code of the response body the
 * one error handler wrote, so the metric and the client always agree.
 */
const INTAKE_ROUTES: Record<string, LeadSource> = {
  '/api/chatbot/leads': 'chatbot',
  '/api/contact': 'contact_form',
};

const errorCodes = new WeakMap<FastifyRequest, string>();

export function installRequestMetrics(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (
      reply.statusCode >= 400 &&
      typeof payload === 'string' &&
      (request.routeOptions.url ?? '') in INTAKE_ROUTES
    ) {
      try {
        const code = (JSON.parse(payload) as { error?: unknown }).error;
        if (typeof code === 'string') errorCodes.set(request, code);
      } catch {
        // Not JSON: the reason falls back to the status code below.
      }
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequestDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    const source = INTAKE_ROUTES[route];
    if (!source || request.method !== 'POST') return;
    const status = reply.statusCode;
    if (status === 201 && (request.body as { isBot?: unknown } | undefined)?.isBot === true) {
      recordLeadRejected(source, 'honeypot');
    } else if (status === 201) {
      recordLeadAccepted(source, 'new');
    } else if (status === 200) {
      recordLeadAccepted(source, 'replay');
    } else if (status >= 400) {
      recordLeadRejected(source, errorCodes.get(request) ?? `http_${status}`);
    }
  });
}

/** The admin key from `Authorization: Bearer` or `x-api-key`, compared in constant time. */
function hasAdminKey(request: FastifyRequest, key: string): boolean {
  const presented = presentedKey(request);
  return presented !== undefined && secretsEqual(presented, key);
}

/**
 * GET /metrics on the API port, behind the admin key. Registered only when metrics
 * are enabled and METRICS_PORT is unset (with METRICS_PORT the process serves them
 * on that port instead, see src/metrics/metrics-server.ts).
 */
export async function metricsRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const key = config.admin.apiKey;
  app.withTypeProvider<ZodTypeProvider>().get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format); needs the admin key',
        security: [{ adminKey: [] }],
        response: {
          200: z.string().describe('Prometheus text format 0.0.4'),
          ...errorResponses(401),
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      if (!key || !hasAdminKey(request, key)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="leadrelay-metrics"')
          .send({ error: 'unauthorized', message: 'A valid admin API key is required' });
      }
      await refreshOpsGauges(storage, config.ops.workerStaleAfterSeconds);
      const { contentType, body } = await renderMetrics();
      return reply.code(200).header('content-type', contentType).serializer(String).send(body);
    },
  );
}
