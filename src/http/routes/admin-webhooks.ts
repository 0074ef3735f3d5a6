import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { WEBHOOK_EVENT_TYPES } from '../../events/event-types.js';
import { refusalForHost } from '../../integrations/ssrf-guard.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  sendWebhookTest,
  updateWebhookEndpoint,
} from '../../integrations/webhook-endpoints.js';
import type { Storage } from '../../storage/storage.js';
import { perMinute } from '../rate-limit.js';

/**
 * Outbound webhook endpoints (Standard Webhooks): register, list, change, delete, test.
 * The signing secret is in the 201 answer of POST only. A URL whose host is a
 * loopback, private, link-local or metadata address is refused here with 400 naming
 * `url` (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true); a name that resolves to one is
 * refused at delivery, on the address actually connected to.
 */
const endpointParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });
const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
  .min(1, { error: 'must name at least one event type' })
  .max(WEBHOOK_EVENT_TYPES.length * 2);
const description = z.string().trim().min(1).max(500);

function webhookUrl(allowPrivateNetworks: boolean) {
  return z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2000, { error: 'must be at most 2000 characters' })
    .superRefine((value, ctx) => {
      const url = new URL(value);
      if (url.username || url.password) {
        ctx.addIssue({
          code: 'custom',
          message: 'must not carry credentials; the signature authenticates us',
        });
      }
      const refusal = refusalForHost(url.hostname, allowPrivateNetworks);
      if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
    });
}

const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.string()),
  disabled: z.boolean(),
  disabledReason: z.string().nullable(),
  failingSince: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export async function adminWebhookRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limit = perMinute(config.http.rateLimits.adminPerMinute);
  const url = webhookUrl(config.integrations.webhooks.allowPrivateNetworks);

  typed.post(
    '/api/admin/webhooks',
    {
      config: { ...limit, audit: { action: 'webhook.create', resource: 'webhook' } },
      schema: {
        summary: 'Register a webhook endpoint (the signing secret is in this answer only)',
        body: z.strictObject({ url, events, description: description.optional() }),
        response: { 201: endpointSchema.extend({ secret: z.string() }) },
      },
    },
    async (request, reply) => {
      const endpoint = await createWebhookEndpoint(storage, request.body);
      request.log.info({ webhookId: endpoint.id, events: endpoint.events }, 'Webhook endpoint registered');
      return reply.code(201).send(endpoint);
    },
  );

  typed.get(
    '/api/admin/webhooks',
    { config: limit, schema: { summary: 'Webhook endpoints', response: { 200: z.array(endpointSchema) } } },
    () => listWebhookEndpoints(storage),
  );

  typed.get(
    '/api/admin/webhooks/:id',
    {
      config: limit,
      schema: { summary: 'A webhook endpoint with its last 20 delivery attempts', params: endpointParams },
    },
    (request) => getWebhookEndpoint(storage, request.params.id),
  );

  typed.patch(
    '/api/admin/webhooks/:id',
    {
      config: { ...limit, audit: { action: 'webhook.update', resource: 'webhook' } },
      schema: {
        summary: 'Change the events, URL, description, or disable / re-enable an endpoint',
        params: endpointParams,
        body: z
          .strictObject({
            events: events.optional(),
            disabled: z.boolean().optional(),
            description: description.optional(),
            url: url.optional(),
          })
          .refine((body) => Object.keys(body).length > 0, { error: 'must change at least one field' }),
        response: { 200: endpointSchema },
      },
    },
    (request) => updateWebhookEndpoint(storage, request.params.id, request.body),
  );

  typed.delete(
    '/api/admin/webhooks/:id',
    {
      config: { ...limit, audit: { action: 'webhook.delete', resource: 'webhook' } },
      schema: { summary: 'Delete a webhook endpoint (its delivery history stays)', params: endpointParams },
    },
    (request) => deleteWebhookEndpoint(storage, request.params.id),
  );

  typed.post(
    '/api/admin/webhooks/:id/test',
    {
      config: { ...limit, audit: { action: 'webhook.test', resource: 'webhook' } },
      schema: {
        summary: 'Send a signed webhook.test event to this endpoint through the worker',
        params: endpointParams,
        body: z.strictObject({}).nullish(),
      },
    },
    async (request, reply) => reply.code(202).send(await sendWebhookTest(storage, request.params.id)),
  );
}
