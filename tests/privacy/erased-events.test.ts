import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { eraseLead } from '../../src/privacy/erasure.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import {
  type AdminApi,
  type Providers,
  registerEndpoint,
  startAdminApi,
  startProviders,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../integrations/harness.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';

/**
 * The worker and an erased lead, against real stand-ins: Slack, Telegram and SMTP
 * receivers, a Standard Webhooks receiver and the HubSpot stand-in. An erased lead's
 * pending alerts are never sent; lead.erased goes to webhooks and deletes the HubSpot
 * contact, and no chat channel alerts about it.
 */
describeEachDatabase('erased leads and the worker', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let providers: Providers;
  let receiver: WebhookReceiver;
  let admin: AdminApi;
  let running: RunningWorker | undefined;

  const eventsOf = (conversationId: string) =>
    db.storage.query<{ id: number; event_type: string; processed: boolean; outcome: string | null }>(
      'select id, event_type, processed, outcome from lead_events where conversation_id = $1 order by id',
      [conversationId],
    );
  const erasedDelivered = async (conversationId: string) =>
    (await eventsOf(conversationId)).find((e) => e.event_type === 'lead.erased' && e.outcome === 'delivered');
  const chatMessages = () =>
    channels.slack.requests.length + channels.telegram.requests.length + channels.smtp.messages.length;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    [channels, providers, receiver] = await Promise.all([
      startChannels(),
      startProviders(),
      startWebhookReceiver(),
    ]);
    admin = await startAdminApi(db.storage, providers.env);
    await db.storage.query('delete from webhook_endpoints');
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await admin.close();
    await Promise.all([channels.close(), providers.close(), receiver.close()]);
  });

  const crmEnv = () => ({
    FEATURE_CRM_ENABLED: 'true',
    HUBSPOT_ACCESS_TOKEN: providers.hubspot.token,
    HUBSPOT_API_URL: providers.hubspot.url,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,0.05,0.1,0.1',
  });

  it('lead.erased reaches the webhook receiver and GDPR-deletes the HubSpot contact; no chat channel alerts it', async () => {
    await registerEndpoint(admin.app, receiver, ['lead.created']);
    running = await startWorker(db.storage, { ...channels.env, ...crmEnv() });
    const lead = await captureLead(db.storage, {
      customerName: 'Gone Soon',
      customerEmail: 'gone.soon@example.com',
      customerPhone: '+971507654321',
    });
    await waitFor(async () => (await eventsOf(lead.id))[0]?.outcome === 'delivered', {
      message: 'lead.created delivered',
    });
    const contact = providers.hubspot.byEmail('gone.soon@example.com');
    expect(contact).toBeDefined();
    await waitFor(() => receiver.accepted().length === 1, { message: 'lead.created webhook' });
    const chatBefore = chatMessages();
    expect(chatBefore).toBeGreaterThanOrEqual(3);

    await eraseLead(db.storage, lead.id, { actor: 'Privacy Officer' });
    await waitFor(() => erasedDelivered(lead.id), { message: 'lead.erased delivered' });

    // HubSpot: the contact is deleted for good (not archived), through the documented endpoint.
    expect(providers.hubspot.contacts.has(contact!.id)).toBe(false);
    expect(providers.hubspot.archived.has(contact!.id)).toBe(false);
    expect(providers.hubspot.gdprDeleted).toEqual([contact!.id]);
    expect(providers.hubspot.requests.filter((r) => r.path.endsWith('/gdpr-delete'))).toEqual([
      expect.objectContaining({ method: 'POST', body: { objectId: contact!.id }, status: 204 }),
    ]);

    // The webhook: a signed lead.erased with the lead's id and nothing personal.
    await waitFor(() => receiver.accepted().length === 2, { message: 'lead.erased webhook' });
    const erased = receiver.accepted()[1]!;
    expect(erased.verified).toBe(true);
    expect(erased.body.type).toBe('lead.erased');
    expect(erased.body.data).toEqual({
      conversationId: lead.id,
      erasedAt: expect.any(String),
      reason: 'request',
      actor: 'Privacy Officer',
    });
    expect(erased.raw).not.toMatch(/gone\.soon|971507654321|Gone Soon/);

    // Slack, Telegram and email said nothing about the erasure.
    expect(chatMessages()).toBe(chatBefore);
    const logs = await db.storage.query<{ channel: string; status: string }>(
      `select l.channel, l.status from notification_logs l join lead_events e on e.id = l.event_id
        where e.conversation_id = $1 and e.event_type = 'lead.erased' order by l.channel`,
      [lead.id],
    );
    expect(logs.map((l) => l.channel.replace(/^webhook:.*/, 'webhook'))).toEqual(['hubspot', 'webhook']);
    expect(logs.every((l) => l.status === 'sent')).toBe(true);
  });

  it('an erased lead whose alerts are still pending is never announced, on any channel', async () => {
    await registerEndpoint(admin.app, receiver, ['lead.created', 'lead.returned']);
    // No worker yet: the lead's alerts wait in the outbox.
    const lead = await captureLead(db.storage, {
      customerName: 'Never Told',
      customerEmail: 'never.told@example.com',
      customerPhone: '+971501010101',
    });
    await eraseLead(db.storage, lead.id, { actor: 'Privacy Officer' });
    running = await startWorker(db.storage, { ...channels.env, ...crmEnv() });
    // lead.erased is delivered; by then the erased lead.created has long been passed over.
    await waitFor(() => erasedDelivered(lead.id), { message: 'lead.erased delivered' });
    await waitFor(() => receiver.accepted().length === 1, { message: 'lead.erased webhook' });

    expect(receiver.accepted().map((d) => d.body.type)).toEqual(['lead.erased']);
    expect(chatMessages()).toBe(0);
    expect(providers.hubspot.byEmail('never.told@example.com')).toBeUndefined();
    expect(
      providers.hubspot.requests.filter((r) => r.path !== '/crm/v3/objects/contacts/gdpr-delete'),
    ).toEqual([]);
    // Never synced: nothing to delete, and the sender says so.
    expect(providers.hubspot.requests).toEqual([]);
    const [created] = await eventsOf(lead.id);
    expect(created).toMatchObject({ event_type: 'lead.created', processed: true, outcome: 'erased' });
    const [{ n }] = (await db.storage.query(
      'select count(*)::int as n from notification_logs where event_id = $1',
      [created!.id],
    )) as [{ n: number }];
    expect(n).toBe(0);
  });
  it('a HubSpot sync in flight at the erasure deletes the contact it created as soon as it is recorded', async () => {
    await registerEndpoint(admin.app, receiver, ['lead.created']);
    let release: (() => void) | undefined;
    providers.hubspot.beforeAnswer = (request) => {
      if (request.method !== 'POST' || request.path !== '/crm/v3/objects/contacts') return;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    running = await startWorker(db.storage, { ...channels.env, ...crmEnv() });
    const lead = await captureLead(db.storage, {
      customerName: 'Raced Person',
      customerEmail: 'raced.person@example.com',
      customerPhone: '+971503030303',
    });
    // HubSpot has created the contact; its answer is held while the lead is erased.
    await waitFor(() => release, { message: 'HubSpot create in flight' });
    const contact = providers.hubspot.byEmail('raced.person@example.com')!;
    await eraseLead(db.storage, lead.id, { actor: 'Privacy Officer' });
    release!();

    const late = async () =>
      (
        await db.storage.query<{ outcome: string | null }>(
          `select outcome from lead_events where conversation_id = $1 and event_type = 'lead.erased'
              and payload->>'crmOnly' = 'true'`,
          [lead.id],
        )
      )[0]?.outcome === 'delivered';
    await waitFor(late, { message: 'the late lead.erased delivered' });
    expect(providers.hubspot.gdprDeleted).toEqual([contact.id]);
    expect(providers.hubspot.contacts.size).toBe(0);
    const links = await db.storage.query('select * from crm_contacts where conversation_id = $1', [lead.id]);
    expect(links).toEqual([]);
    // Webhook endpoints hear of the erasure once, not once per clean-up.
    await waitFor(() => erasedDelivered(lead.id), { message: 'lead.erased delivered' });
    await waitFor(() => receiver.accepted().some((d) => d.body.type === 'lead.erased'), {
      message: 'lead.erased webhook',
    });
    expect(receiver.accepted().filter((d) => d.body.type === 'lead.erased')).toHaveLength(1);
  });
});
