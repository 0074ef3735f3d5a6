import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSenders, type SenderRegistry } from '../../src/notifications/registry.js';
import type { DeliveryEvent } from '../../src/notifications/sender.js';
import { testConfig } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * Where the worker routes events (SenderRegistry.channelsFor): a bulk action's events
 * (payload bulk: true) reach webhooks and the CRM, never the team's chat channels.
 */
describe('bulk events and channels', () => {
  const config = testConfig({
    SLACK_WEBHOOK_URL: 'https://hooks.slack.test/services/T/B/x',
    TELEGRAM_BOT_TOKEN: '123:abc',
    TELEGRAM_CHAT_ID: '42',
    FEATURE_CRM_ENABLED: 'true',
    HUBSPOT_ACCESS_TOKEN: 'pat-na1-test',
    FEATURE_SMS_ENABLED: 'true',
    TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'token',
    TWILIO_FROM: '+12025550100',
    SMS_TO: '+12025550123',
  });
  let db: TestDatabase;
  let senders: SenderRegistry;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    senders = buildSenders(config, db.storage);
  });
  afterAll(async () => {
    await senders?.close();
    await db?.close();
  });
  const event = (type: string, payload: Record<string, unknown>): DeliveryEvent => ({
    id: 1,
    type,
    conversationId: crypto.randomUUID(),
    payload,
    createdAt: new Date().toISOString(),
    attempt: 1,
  });

  it('gives the CRM a bulk status change and no chat channel a bulk event of any type', () => {
    expect(senders.channelsFor(event('lead.status_changed', { bulk: true }))).toEqual(['hubspot']);
    // Even a type the chat channels would alert on stays off them when bulk-marked.
    const created = senders.channelsFor(event('lead.created', { bulk: true }));
    expect(created).not.toEqual(expect.arrayContaining(['slack']));
    for (const channel of ['slack', 'email', 'telegram', 'sms', 'whatsapp']) {
      expect(created).not.toContain(channel);
    }
    expect(senders.channelsFor(event('lead.created', {}))).toEqual(
      expect.arrayContaining(['slack', 'email', 'telegram', 'sms']),
    );
  });
});
