import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatSms, SMS_MAX_GSM7, SMS_MAX_UCS2, smsLength } from '../../src/integrations/sms-text.js';
import { buildLeadAlert } from '../../src/notifications/lead-alert.js';
import { runHealthChecks } from '../../src/ops/health-report.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { twilioError } from '../helpers/twilio-stand-in.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';
import { type Providers, SMS_NUMBERS, startProviders, WHATSAPP_NUMBER } from './harness.js';

describeEachDatabase('Twilio SMS and WhatsApp', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let providers: Providers;
  let running: RunningWorker | undefined;

  const eventOf = async (id: number) =>
    (
      await db.storage.query<{ processed: boolean; outcome: string | null }>(
        'select * from lead_events where id = $1',
        [id],
      )
    )[0];
  const logsOf = (eventId: number, channel: string) =>
    db.storage.query<{
      status: string;
      provider_status: number | null;
      error: string | null;
      permanent: boolean;
    }>(
      'select status, provider_status, error, permanent from notification_logs where event_id = $1 and channel = $2 order by id',
      [eventId, channel],
    );
  const env = () => {
    const { FEATURE_CRM_ENABLED: _crm, ...rest } = providers.env;
    return { ...channels.env, ...rest };
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    [channels, providers] = await Promise.all([startChannels(), startProviders()]);
    await db.storage.query('delete from integration_opt_outs');
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await Promise.all([channels.close(), providers.close()]);
  });

  it('21610 stops that number: recorded, logged masked, shown in health, never texted again', async () => {
    const [stopped, kept] = SMS_NUMBERS as [string, string];
    providers.twilio.unsubscribed.add(stopped);
    running = await startWorker(db.storage, env());
    const first = await captureLead(db.storage);
    await waitFor(async () => (await eventOf(first.eventId))?.outcome === 'delivered', {
      message: 'first delivered',
    });

    // (On a loaded machine an attempt may time out first: the sent row is the one that counts.)
    const log = (await logsOf(first.eventId, 'sms')).find((row) => row.status === 'sent');
    expect(log?.error).toContain('21610');
    expect(log?.error).not.toContain(stopped);
    expect(running.logs.text()).toContain('SMS recipient unsubscribed (Twilio 21610)');
    const checks = await runHealthChecks(db.storage, running.config);
    expect(checks.find((c) => c.name === 'integrations')?.detail).toMatch(/1 SMS number stopped \(21610\)/);

    const second = await captureLead(db.storage, { customerEmail: 'second@example.com' });
    await waitFor(async () => (await eventOf(second.eventId))?.processed, { message: 'second processed' });
    const smsTo = providers.twilio.requests.filter((m) => !m.to.startsWith('whatsapp:')).map((m) => m.to);
    expect(smsTo.filter((to) => to === stopped)).toHaveLength(1);
    // The kept number gets both leads (more only if a loaded machine timed an attempt out
    // after Twilio accepted it: the documented at-least-once case).
    expect(providers.twilio.accepted().filter((m) => m.to === kept).length).toBeGreaterThanOrEqual(2);
  });

  it("texts the lead's assignee too when the event names a team member with a phone", async () => {
    // team_members comes with the team migration (issue 12); a minimal one stands in
    // where it has not landed, with the columns that migration requires.
    await db.storage.query(
      `create table if not exists team_members (id uuid primary key, name text not null, email text not null,
         role text not null, phone text, token_hash text not null, token_hint text not null,
         active boolean not null default true)`,
    );
    const memberId = '5d6c2b1e-4a3f-4e2d-9c1b-0a9f8e7d6c5b';
    const assigneePhone = '+12025550177';
    await db.storage.query(
      `insert into team_members (id, name, email, role, phone, token_hash, token_hint)
       values ($1, 'Sam Agent', 'sam@example.com', 'agent', $2, 'x', 'x') on conflict (id) do nothing`,
      [memberId, assigneePhone],
    );
    running = await startWorker(db.storage, { ...env(), SMS_TO: SMS_NUMBERS[1]! });
    const lead = await captureLead(db.storage);
    const [event] = await db.storage.query<{ id: number }>(
      `insert into lead_events (event_type, conversation_id, payload)
       select 'lead.created', $1, payload || jsonb_build_object('assignee', jsonb_build_object('id', $2::text, 'name', 'Sam Agent'))
         from lead_events where id = $3 returning id`,
      [lead.id, memberId, lead.eventId],
    );
    running.worker.wake();
    await waitFor(async () => (await eventOf(Number(event!.id)))?.outcome === 'delivered', {
      message: 'delivered',
    });
    const sms = providers.twilio.accepted().filter((m) => !m.to.startsWith('whatsapp:'));
    expect(sms.filter((m) => m.to === assigneePhone)).toHaveLength(1);
    expect(sms.filter((m) => m.to === SMS_NUMBERS[1])).toHaveLength(2);
  });

  it('retries 20429 (429 with Retry-After) and 5xx, then sends once', async () => {
    let smsSeen = 0;
    providers.twilio.respond = (message) => {
      if (message.to.startsWith('whatsapp:')) return undefined;
      smsSeen++;
      if (smsSeen === 1) return twilioError(429, 20429, 'Too Many Requests', { 'retry-after': '0' });
      if (smsSeen === 2) return twilioError(503, 20500, 'Service Unavailable');
      return undefined;
    };
    running = await startWorker(db.storage, { ...env(), SMS_TO: SMS_NUMBERS[0]! });
    const lead = await captureLead(db.storage);
    await waitFor(async () => (await eventOf(lead.eventId))?.outcome === 'delivered', {
      message: 'delivered',
    });
    const sms = providers.twilio.requests.filter((m) => !m.to.startsWith('whatsapp:'));
    expect(sms.map((m) => m.status)).toEqual([429, 503, 201]);
    expect((await logsOf(lead.eventId, 'sms')).map((l) => l.status).at(-1)).toBe('sent');
    expect(providers.twilio.accepted().filter((m) => m.to.startsWith('whatsapp:'))).toHaveLength(1);
  });

  it('63016 is permanent and its log says to configure an approved template', async () => {
    providers.twilio.respond = (message) =>
      message.to.startsWith('whatsapp:') ? twilioError(400, 63016, 'outside the allowed window') : undefined;
    running = await startWorker(db.storage, env());
    const lead = await captureLead(db.storage);
    await waitFor(async () => (await eventOf(lead.eventId))?.outcome === 'dead', { message: 'dead' });
    const logs = await logsOf(lead.eventId, 'whatsapp');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ status: 'failed', permanent: true, provider_status: 63016 });
    expect(logs[0]?.error).toContain('configure an approved template (TWILIO_WHATSAPP_CONTENT_SID)');
    expect(providers.twilio.requests.filter((m) => m.to === `whatsapp:${WHATSAPP_NUMBER}`)).toHaveLength(1);
  });

  it('a wrong auth token is permanent (20003) and never logged', async () => {
    running = await startWorker(db.storage, { ...env(), TWILIO_AUTH_TOKEN: 'wrong-token-0000' });
    const lead = await captureLead(db.storage);
    await waitFor(async () => (await eventOf(lead.eventId))?.processed, { message: 'processed' });
    const [log] = await logsOf(lead.eventId, 'sms');
    expect(log).toMatchObject({ status: 'failed', permanent: true, provider_status: 20003 });
    expect(running.logs.text()).not.toContain('wrong-token-0000');

    // Fixed token, then `leadrelay replay --channel sms --event <id>`: SMS only is sent again.
    await running.stop();
    running = await startWorker(db.storage, env());
    const slackBefore = channels.slack.delivered().length;
    const replayed = await db.storage.call('replay_channel_event', {
      p_event_id: lead.eventId,
      p_channel: 'sms',
    });
    expect(replayed).toMatchObject({ replayed: true });
    await waitFor(async () => (await logsOf(lead.eventId, 'sms')).some((l) => l.status === 'sent'), {
      message: 'SMS sent after replay',
    });
    expect(channels.slack.delivered()).toHaveLength(slackBefore);
    // WhatsApp failed with the same token and stays failed: it was not part of the replay.
    expect(providers.twilio.accepted().filter((m) => m.to.startsWith('whatsapp:'))).toHaveLength(0);
  });
});

describe('SMS text', () => {
  const alert = (fields: Record<string, unknown>) =>
    buildLeadAlert(
      {
        id: 1,
        eventType: 'lead.created',
        conversationId: '0b0c3c2e-8f1a-4c77-9d3e-2f4b5a6c7d8e',
        payload: { customerPhone: '+971501234567', ...fields },
      },
      'https://crm.example.com/admin',
    );

  it('carries name, intent, phone and link', () => {
    const text = formatSms(alert({ customerName: 'Test User', intent: 'buy' }));
    expect(text).toBe(
      'New lead: Test User (buy)\n+971501234567 https://crm.example.com/admin#/leads/0b0c3c2e-8f1a-4c77-9d3e-2f4b5a6c7d8e',
    );
  });

  it('stays within two segments, GSM-7 and UCS-2, keeping the link whole', () => {
    const long = formatSms(alert({ customerName: 'N'.repeat(500), intent: 'I'.repeat(500) }));
    expect(smsLength(long)).toBeLessThanOrEqual(SMS_MAX_GSM7);
    expect(long).toContain('#/leads/0b0c3c2e-8f1a-4c77-9d3e-2f4b5a6c7d8e');
    const arabic = formatSms(alert({ customerName: 'محمد '.repeat(80), intent: 'شراء' }));
    expect(arabic.length).toBeLessThanOrEqual(SMS_MAX_UCS2);
    expect(arabic).toContain('+971501234567');
  });
});
