import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';
import {
  type AdminApi,
  type Providers,
  registerEndpoint,
  SMS_NUMBERS,
  startAdminApi,
  startProviders,
  startWebhookReceiver,
  type WebhookReceiver,
  WHATSAPP_CONTENT_SID,
  WHATSAPP_NUMBER,
} from './harness.js';

describeEachDatabase('integrations end to end', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let providers: Providers;
  let receivers: WebhookReceiver[];
  let api: AdminApi;
  let running: RunningWorker;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    [channels, providers, ...receivers] = await Promise.all([
      startChannels(),
      startProviders(),
      startWebhookReceiver(),
      startWebhookReceiver(),
    ] as const);
    const env = { ...channels.env, ...providers.env };
    api = await startAdminApi(db.storage, env);
    for (const receiver of receivers) await registerEndpoint(api.app, receiver, ['lead.created']);
    running = await startWorker(db.storage, env);
  });
  afterAll(async () => {
    await running?.stop();
    await api?.close();
    await Promise.all([channels?.close(), providers?.close(), ...(receivers ?? []).map((r) => r.close())]);
    await db?.close();
  });

  it('one lead reaches SMS, WhatsApp, HubSpot, two webhook endpoints and the chat channels exactly once each', async () => {
    const lead = await captureLead(db.storage, {
      customerEmail: 'test@example.com',
      customerName: 'Test User',
    });
    await waitFor(
      async () =>
        (
          await db.storage.query<{ processed: boolean }>('select processed from lead_events where id = $1', [
            lead.eventId,
          ])
        )[0]?.processed,
      { message: 'event processed', timeoutMs: 15_000 },
    );

    // Chat channels, as before.
    expect(channels.slack.delivered()).toHaveLength(1);
    expect(channels.smtp.messages).toHaveLength(1);
    expect(channels.telegram.delivered()).toHaveLength(1);
    // SMS: one message per SMS_TO number, form encoded, the lead's link inside.
    const sms = providers.twilio.accepted().filter((m) => !m.to.startsWith('whatsapp:'));
    expect(sms.map((m) => m.to).sort()).toEqual([...SMS_NUMBERS].sort());
    expect(sms[0]?.body).toContain(`#/leads/${lead.id}`);
    expect(sms[0]?.from).toBe('+12025550100');
    // WhatsApp: the approved template with its variables.
    const whatsapp = providers.twilio.accepted().filter((m) => m.to.startsWith('whatsapp:'));
    expect(whatsapp).toHaveLength(1);
    expect(whatsapp[0]).toMatchObject({
      to: `whatsapp:${WHATSAPP_NUMBER}`,
      contentSid: WHATSAPP_CONTENT_SID,
    });
    expect(whatsapp[0]?.contentVariables?.['2']).toBe('Test User');
    // HubSpot: one contact, its id on the lead.
    expect(providers.hubspot.contacts.size).toBe(1);
    const contact = providers.hubspot.byEmail('test@example.com');
    expect(contact?.properties).toMatchObject({ firstname: 'Test', lastname: 'User', hs_lead_status: 'NEW' });
    const detail = await api.app.inject({
      method: 'GET',
      url: `/api/admin/leads/${lead.id}`,
      headers: { authorization: `Bearer ${(await import('../helpers/app.js')).TEST_ADMIN_KEY}` },
    });
    expect(detail.json().integrations.hubspot.contactId).toBe(contact?.id);
    // Webhooks: each endpoint once, verified by the receiver's own Standard Webhooks check.
    for (const receiver of receivers) {
      expect(receiver.deliveries).toHaveLength(1);
      const [delivery] = receiver.deliveries;
      expect(delivery?.verified).toBe(true);
      expect(delivery?.body).toMatchObject({ type: 'lead.created', data: { conversationId: lead.id } });
    }
    // Every attempt is a notification_logs row: one sent row per channel.
    const rows = await db.storage.query<{ channel: string; status: string }>(
      'select channel, status from notification_logs where event_id = $1 order by channel',
      [lead.eventId],
    );
    expect(rows.every((row) => row.status === 'sent')).toBe(true);
    expect(rows.map((row) => row.channel.replace(/^webhook:.*/, 'webhook'))).toEqual([
      'email',
      'hubspot',
      'slack',
      'sms',
      'telegram',
      'webhook',
      'webhook',
      'whatsapp',
    ]);
  });
});

describe('integration stand-ins', () => {
  it('Twilio refuses a wrong auth token with error 20003', async () => {
    const providers = await startProviders();
    try {
      const response = await fetch(
        `${providers.twilio.url}/2010-04-01/Accounts/${providers.twilio.accountSid}/Messages.json`,
        { method: 'POST', headers: { authorization: 'Basic bm9wZTpub3Bl' }, body: 'To=%2B1' },
      );
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 20003 });
    } finally {
      await providers.close();
    }
  });
});
