import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { SLACK_OK, telegramError } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
  TELEGRAM_TOKEN,
} from './harness.js';

interface LogRow extends Record<string, unknown> {
  channel: string;
  status: string;
  attempt: number;
  error: string | null;
  provider_status: number | null;
  duration_ms: number | null;
}

describeEachDatabase('notification worker', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let running: RunningWorker | undefined;

  const logsOf = (eventId: number) =>
    db.storage.query<LogRow>(
      'select channel, status, attempt, error, provider_status, duration_ms from notification_logs where event_id = $1 order by id',
      [eventId],
    );
  const eventRow = async (eventId: number) =>
    (await db.storage.query('select * from lead_events where id = $1', [eventId]))[0]!;
  const processed = (eventId: number) => async () => (await eventRow(eventId)).processed === true;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    channels = await startChannels();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await channels.close();
  });

  it('delivers a new lead to Slack, email and Telegram with one sent row each', async () => {
    running = await startWorker(db.storage, channels.env);
    const lead = await captureLead(db.storage);
    await waitFor(processed(lead.eventId), { message: 'event processed' });

    expect(channels.slack.delivered()).toHaveLength(1);
    expect(channels.smtp.messages).toHaveLength(1);
    expect(channels.telegram.delivered()).toHaveLength(1);

    const slack = channels.slack.delivered()[0]!.body;
    expect(slack.text).toContain('New lead: Test User');
    expect(JSON.stringify(slack.blocks)).toContain('<tel:+971501234567|+971501234567>');
    expect(JSON.stringify(slack.blocks)).toContain(`https://crm.example.com/admin#/leads/${lead.id}`);

    const email = channels.smtp.messages[0]!;
    expect(email.to).toEqual(['sales@example.com']);
    expect(email.subject).toBe('New lead: Test User');
    expect(email.html).toContain('<a href="tel:+971501234567">+971501234567</a>');
    expect(email.text).toContain('Intent: buy');

    const telegram = channels.telegram.delivered()[0]!;
    expect(telegram.token).toBe(TELEGRAM_TOKEN);
    expect(telegram.params).toMatchObject({ chat_id: '-1001234567890', parse_mode: 'HTML' });
    expect(telegram.params.text).toContain('<b>Name:</b> Test User');

    const rows = await logsOf(lead.eventId);
    expect(rows.map((row) => [row.channel, row.status, row.attempt]).sort()).toEqual([
      ['email', 'sent', 1],
      ['slack', 'sent', 1],
      ['telegram', 'sent', 1],
    ]);
    for (const row of rows) expect(row.duration_ms).toBeGreaterThanOrEqual(0);
    expect(await eventRow(lead.eventId)).toMatchObject({
      outcome: 'delivered',
      locked_by: null,
      attempts: 1,
    });

    const text = running.logs.text();
    expect(text).toContain('Notification worker started');
    expect(text).toMatch(/Notifications sent via: (slack|email|telegram)(, (slack|email|telegram)){2}/);
    expect(text).toContain('attempt 1 of 4');
    expect(text).not.toContain(TELEGRAM_TOKEN);
    expect(text).not.toContain('s3cretWebhookPath');
    const [beat] = await db.storage.query('select * from worker_heartbeats where id = $1', [
      running.worker.id,
    ]);
    expect(Number(beat!.events_done)).toBeGreaterThanOrEqual(1);
  });

  it('announces each channel result and the outcome to the admin feed after recording', async () => {
    const feed: { kind: string; conversationId?: string; channel?: string; status?: string }[] = [];
    const unlisten = await db.storage.listen('leadrelay_admin', (payload) => {
      if (payload) feed.push(JSON.parse(payload));
    });
    try {
      running = await startWorker(db.storage, channels.env);
      const lead = await captureLead(db.storage);
      await waitFor(() => feed.some((m) => m.kind === 'event.delivered' && m.conversationId === lead.id), {
        message: 'event.delivered on the admin feed',
      });
      const results = feed
        .filter((m) => m.kind === 'notification' && m.conversationId === lead.id)
        .map((m) => `${m.channel}:${m.status}`)
        .sort();
      expect(results).toEqual(['email:sent', 'slack:sent', 'telegram:sent']);
    } finally {
      await unlisten?.();
    }
  });

  it('records one skipped row for an unconfigured channel and sends the others', async () => {
    const { TELEGRAM_BOT_TOKEN: _t, TELEGRAM_CHAT_ID: _c, ...env } = channels.env;
    running = await startWorker(db.storage, env);
    const lead = await captureLead(db.storage);
    await waitFor(processed(lead.eventId));
    const rows = await logsOf(lead.eventId);
    expect(rows.map((row) => [row.channel, row.status]).sort()).toEqual([
      ['email', 'sent'],
      ['slack', 'sent'],
      ['telegram', 'skipped'],
    ]);
    expect(running.logs.text()).toMatch(/Notifications sent via: (slack, email|email, slack)/);
    expect(await eventRow(lead.eventId)).toMatchObject({ outcome: 'delivered' });
  });

  it('marks events that need no alert processed without sending anything', async () => {
    running = await startWorker(db.storage, channels.env);
    const [row] = await db.storage.query<{ id: number }>(
      `insert into lead_events (event_type, payload) values ('lead.status_changed', '{"from":"new","to":"contacted"}') returning id`,
    );
    running.worker.wake();
    await waitFor(processed(Number(row!.id)));
    expect(await logsOf(Number(row!.id))).toEqual([]);
    expect(channels.slack.requests).toHaveLength(0);
  });

  it('wakes an idle worker through LISTEN/NOTIFY without waiting for the poll', async () => {
    running = await startWorker(db.storage, { ...channels.env, WORKER_POLL_INTERVAL_MS: '600000' });
    // Let the first (empty) claim finish so the worker is idle on its 10-minute poll.
    await waitFor(() => running!.logs.text().includes('Notification worker started'));
    await new Promise((resolve) => setImmediate(resolve));
    const lead = await captureLead(db.storage);
    await waitFor(processed(lead.eventId), { timeoutMs: 5_000, message: 'NOTIFY wake-up' });
  });

  it('escalates an SLA breach with its own headline and the due time', async () => {
    running = await startWorker(db.storage, channels.env);
    const lead = await captureLead(db.storage, { customerName: 'Late Lead' });
    await waitFor(processed(lead.eventId));
    const [row] = await db.storage.query<{ id: number }>(
      `insert into lead_events (event_type, conversation_id, payload)
       select 'lead.sla_breached', conversation_id, payload || '{"slaDueAt":"2026-11-22T10:05:00Z"}'
         from lead_events where id = $1 returning id`,
      [lead.eventId],
    );
    running.worker.wake();
    await waitFor(processed(Number(row!.id)));
    const slack = channels.slack.delivered().at(-1)!.body;
    expect(slack.text).toContain('SLA breached');
    expect(JSON.stringify(slack.blocks)).toContain('2026-11-22 10:05 UTC');
    expect(channels.smtp.messages.at(-1)!.subject).toBe('SLA breached: lead still waiting: Late Lead');
    expect(channels.telegram.delivered().at(-1)!.params.text).toContain('First contact was due');
  });

  describe('failures', () => {
    it('re-sends only the channel that was down once it is back', async () => {
      let slackUp = false;
      channels.slack.respond = () => (slackUp ? SLACK_OK : { status: 500, body: 'internal_error' });
      running = await startWorker(db.storage, { ...channels.env, WORKER_MAX_ATTEMPTS: '20' });
      const lead = await captureLead(db.storage);
      await waitFor(
        async () => (await logsOf(lead.eventId)).filter((r) => r.status === 'failed').length >= 2,
      );
      slackUp = true;
      await waitFor(processed(lead.eventId));

      expect(channels.slack.delivered()).toHaveLength(1);
      expect(channels.smtp.messages).toHaveLength(1);
      expect(channels.telegram.delivered()).toHaveLength(1);
      const rows = await logsOf(lead.eventId);
      expect(
        rows
          .filter((r) => r.channel !== 'slack')
          .map((r) => [r.channel, r.status, r.attempt])
          .sort(),
      ).toEqual([
        ['email', 'sent', 1],
        ['telegram', 'sent', 1],
      ]);
      const slackRows = rows.filter((r) => r.channel === 'slack');
      expect(slackRows.at(-1)).toMatchObject({ status: 'sent' });
      expect(slackRows.slice(0, -1).every((r) => r.status === 'failed' && r.provider_status === 500)).toBe(
        true,
      );
      expect(slackRows.map((r) => r.attempt)).toEqual(slackRows.map((_, i) => i + 1));
      expect(await eventRow(lead.eventId)).toMatchObject({
        outcome: 'delivered',
        attempts: slackRows.length,
      });
    });

    it('honours Slack 429 Retry-After and Telegram retry_after', async () => {
      channels.slack.respond = (_post, index) =>
        index === 0 ? { status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } } : SLACK_OK;
      channels.telegram.respond = (request, index) =>
        index === 0
          ? telegramError(429, 'Too Many Requests: retry after 1', 1)
          : {
              status: 200,
              body: {
                ok: true,
                result: { message_id: 1, date: 0, chat: { id: 1 }, text: request.params.text },
              },
            };
      running = await startWorker(db.storage, channels.env);
      const lead = await captureLead(db.storage);
      await waitFor(processed(lead.eventId));

      const [firstSlack, secondSlack] = channels.slack.requests;
      expect(secondSlack!.at - firstSlack!.at).toBeGreaterThanOrEqual(950);
      const [firstTg, secondTg] = channels.telegram.requests;
      expect(secondTg!.at - firstTg!.at).toBeGreaterThanOrEqual(950);
      expect(channels.smtp.messages).toHaveLength(1);
      // A 429 is logged as rate_limited and re-sent within the same attempt.
      const rows = await logsOf(lead.eventId);
      expect(
        rows
          .filter((r) => r.status !== 'sent')
          .map((r) => [r.channel, r.status, r.provider_status, r.attempt])
          .sort(),
      ).toEqual([
        ['slack', 'rate_limited', 429, 1],
        ['telegram', 'rate_limited', 429, 1],
      ]);
      expect(await eventRow(lead.eventId)).toMatchObject({ outcome: 'delivered', attempts: 1 });
    });

    it('stops a channel after a permanent failure and marks the event dead once the rest is settled', async () => {
      channels.slack.respond = () => ({ status: 400, body: 'invalid_payload' });
      channels.smtp.rejectRecipient = (_address, index) => (index === 0 ? 451 : null);
      running = await startWorker(db.storage, channels.env);
      const lead = await captureLead(db.storage);
      await waitFor(processed(lead.eventId));

      expect(channels.slack.requests).toHaveLength(1);
      expect(channels.smtp.messages).toHaveLength(1);
      const rows = await logsOf(lead.eventId);
      expect(rows.filter((r) => r.channel === 'slack')).toEqual([
        expect.objectContaining({
          status: 'failed',
          provider_status: 400,
          error: 'Slack answered HTTP 400: invalid_payload',
        }),
      ]);
      expect(rows.filter((r) => r.channel === 'email').map((r) => [r.status, r.provider_status])).toEqual([
        ['failed', 451],
        ['sent', 250],
      ]);
      expect(await eventRow(lead.eventId)).toMatchObject({
        processed: true,
        outcome: 'dead',
        last_error: 'slack: Slack answered HTTP 400: invalid_payload',
      });
    });

    it('treats SMTP 5xx and Telegram 403 as permanent', async () => {
      channels.smtp.rejectRecipient = () => 550;
      channels.telegram.respond = () => telegramError(403, 'Forbidden: bot was blocked by the user');
      running = await startWorker(db.storage, channels.env);
      const lead = await captureLead(db.storage);
      await waitFor(processed(lead.eventId));
      const rows = await logsOf(lead.eventId);
      expect(rows.map((r) => [r.channel, r.status, r.provider_status]).sort()).toEqual([
        ['email', 'failed', 550],
        ['slack', 'sent', 200],
        ['telegram', 'failed', 403],
      ]);
      expect(channels.smtp.recipientAttempts).toBe(1);
      expect(await eventRow(lead.eventId)).toMatchObject({ outcome: 'dead' });
    });

    it('gives up after WORKER_MAX_ATTEMPTS, then replay delivers only what never went out', async () => {
      let telegramUp = false;
      channels.telegram.respond = (request) =>
        telegramUp
          ? {
              status: 200,
              body: {
                ok: true,
                result: { message_id: 1, date: 0, chat: { id: 1 }, text: request.params.text },
              },
            }
          : telegramError(502, 'Bad Gateway');
      running = await startWorker(db.storage, { ...channels.env, WORKER_MAX_ATTEMPTS: '3' });
      const lead = await captureLead(db.storage);
      await waitFor(processed(lead.eventId));

      expect(await eventRow(lead.eventId)).toMatchObject({ outcome: 'dead', attempts: 3 });
      expect((await eventRow(lead.eventId)).last_error).toContain('telegram: Telegram answered 502');
      expect(channels.telegram.requests).toHaveLength(3);
      expect(running.logs.text()).toContain('Event is dead');

      telegramUp = true;
      const replay = await db.storage.call<{ count: number; replayed: number[] }>('replay_dead_events', {
        p_event_id: lead.eventId,
      });
      expect(replay).toEqual({ count: 1, replayed: [lead.eventId] });
      await waitFor(processed(lead.eventId));
      expect(await eventRow(lead.eventId)).toMatchObject({ outcome: 'delivered', attempts: 1 });
      expect(channels.telegram.delivered()).toHaveLength(1);
      expect(channels.slack.delivered()).toHaveLength(1);
      expect(channels.smtp.messages).toHaveLength(1);
    });

    it('replays every event that died since a time', async () => {
      channels.slack.respond = () => ({ status: 404, body: 'no_service' });
      running = await startWorker(db.storage, channels.env);
      const [{ now: since }] = (await db.storage.query<{ now: string }>('select now()::text as now')) as [
        { now: string },
      ];
      const leads = [await captureLead(db.storage), await captureLead(db.storage)];
      for (const lead of leads) await waitFor(processed(lead.eventId));
      channels.slack.respond = () => SLACK_OK;
      const replay = await db.storage.call<{ count: number; replayed: number[] }>('replay_dead_events', {
        p_failed_since: since,
      });
      expect(replay.replayed).toEqual(leads.map((lead) => lead.eventId));
      for (const lead of leads) {
        await waitFor(async () => (await eventRow(lead.eventId)).outcome === 'delivered');
      }
      expect(channels.slack.delivered()).toHaveLength(2);
      expect(channels.smtp.messages).toHaveLength(2);
    });

    it('logs "All notification channels failed" and never stores secrets in errors', async () => {
      channels.slack.respond = () => ({ status: 403, body: 'action_prohibited' });
      channels.telegram.respond = () => telegramError(400, 'Bad Request: chat not found');
      channels.smtp.rejectRecipient = () => 550;
      await channels.telegram.close();
      running = await startWorker(db.storage, channels.env);
      const lead = await captureLead(db.storage);
      await waitFor(processed(lead.eventId));
      expect(running.logs.text()).toContain('All notification channels failed');
      const rows = await logsOf(lead.eventId);
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain(TELEGRAM_TOKEN);
      expect(stored).not.toContain('s3cretWebhookPath');
      expect(running.logs.text()).not.toContain(TELEGRAM_TOKEN);
    });
  });
});
