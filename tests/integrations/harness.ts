import type { FastifyInstance } from 'fastify';
import type { Storage } from '../../src/storage/storage.js';
import { buildTestApp, TEST_ADMIN_KEY } from '../helpers/app.js';
import { type HubSpotStandIn, startHubSpotStandIn } from '../helpers/hubspot-stand-in.js';
import { startTwilioStandIn, type TwilioStandIn } from '../helpers/twilio-stand-in.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver-stand-in.js';

/** Recipients used by the integration tests (none of them is the test lead's own phone). */
export const SMS_NUMBERS = ['+12025550101', '+12025550102'];
export const WHATSAPP_NUMBER = '+12025550103';
export const WHATSAPP_CONTENT_SID = `HX${'0123456789abcdef'.repeat(2)}`;

export interface Providers {
  twilio: TwilioStandIn;
  hubspot: HubSpotStandIn;
  /** Environment switching SMS, WhatsApp and CRM on against the stand-ins. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startProviders(): Promise<Providers> {
  const [twilio, hubspot] = await Promise.all([startTwilioStandIn(), startHubSpotStandIn()]);
  return {
    twilio,
    hubspot,
    env: {
      FEATURE_SMS_ENABLED: 'true',
      FEATURE_WHATSAPP_ENABLED: 'true',
      FEATURE_CRM_ENABLED: 'true',
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_URL: twilio.url,
      TWILIO_FROM: '+12025550100',
      SMS_TO: SMS_NUMBERS.join(','),
      TWILIO_WHATSAPP_FROM: '+12025550199',
      TWILIO_WHATSAPP_CONTENT_SID: WHATSAPP_CONTENT_SID,
      WHATSAPP_TO: WHATSAPP_NUMBER,
      HUBSPOT_ACCESS_TOKEN: hubspot.token,
      HUBSPOT_API_URL: hubspot.url,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,0.05,0.1,0.1,0.1,0.1,0.1,0.1',
    },
    async close() {
      await Promise.all([twilio.close(), hubspot.close()]);
    },
  };
}

export interface AdminApi {
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startAdminApi(storage: Storage, env: Record<string, string>): Promise<AdminApi> {
  const { app } = await buildTestApp(storage, { env, rateLimitNamespace: `webhooks-${Math.random()}` });
  return { app, close: () => app.close() };
}

export const adminHeaders = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

/** Registers `receiver` for `events` and gives it the secret from the create answer. */
export async function registerEndpoint(
  app: FastifyInstance,
  receiver: WebhookReceiver,
  events: string[] = ['lead.created'],
): Promise<{ id: string; secret: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/admin/webhooks',
    headers: adminHeaders,
    payload: { url: receiver.url, events },
  });
  if (response.statusCode !== 201)
    throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  const endpoint = response.json() as { id: string; secret: string };
  receiver.secret = endpoint.secret;
  return endpoint;
}

export { startWebhookReceiver, type WebhookReceiver };
