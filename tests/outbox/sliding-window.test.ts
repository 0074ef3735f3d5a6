import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type HttpReply, SLACK_OK } from '../helpers/receivers.js';
import { leadIdsLinkedIn } from '../helpers/slack-rate-limit.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  countOf,
  type RunningWorker,
  startChannels,
  startWorker,
} from './harness.js';

/**
 * Issue 10 item 1 and the recording part of item 3: the worker keeps a window of events
 * in flight and records them as they finish, so a slow send holds up nothing else; and
 * a result the database refuses for its data is recorded event by event, with a
 * placeholder for the one refused, instead of stopping the worker.
 */
describeEachDatabase('sliding window', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let running: RunningWorker | undefined;
  const count = (sql: string, params: unknown[] = []) => countOf(db.storage, sql, params);
  const processed = (eventId: number) => async () =>
    (await count('select count(*) as n from lead_events where id = $1 and processed', [eventId])) === 1;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    channels = await startChannels();
    await db.storage.query(
      'truncate notification_logs, lead_events, follow_up_tasks, conversation_timeline, conversations cascade',
    );
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await channels.close();
  });

  it('claims on a NOTIFY at once while another event is still being sent', async () => {
    let releaseSlow: (reply: HttpReply) => void = () => {};
    const slow = new Promise<HttpReply>((resolve) => (releaseSlow = resolve));
    channels.slack.respond = (post) => (post.raw.includes('Slow Lead') ? slow : SLACK_OK);
    // A 10-minute poll: only the NOTIFY can bring the second lead in.
    running = await startWorker(db.storage, {
      ...channels.env,
      WORKER_POLL_INTERVAL_MS: '600000',
      WORKER_SEND_TIMEOUT_MS: '20000',
    });
    const first = await captureLead(db.storage, { customerName: 'Slow Lead' });
    await waitFor(() => channels.slack.requests.length === 1, {
      message: 'the slow Slack post is in flight',
    });
    const second = await captureLead(db.storage, { customerName: 'Quick Lead' });
    try {
      await waitFor(processed(second.eventId), { timeoutMs: 8_000, message: 'second lead recorded' });
      expect(
        leadIdsLinkedIn(
          channels.slack
            .delivered()
            .map((post) => post.raw)
            .join('\n'),
        ),
      ).toEqual([second.id]);
      expect(await processed(first.eventId)()).toBe(false);
    } finally {
      releaseSlow(SLACK_OK);
    }
    await waitFor(processed(first.eventId), { message: 'first lead recorded once Slack answers' });
    expect(await count(`select count(*) as n from notification_logs where status = 'sent'`)).toBe(6);
  });

  it('records the rest of a group when one result is refused for its data, and keeps running', async () => {
    // Slack's error body ends in an emoji cut in half by a 200-character limit, or holds
    // a NUL: text Postgres refuses (22P02 / 22P05) unless it is cleaned first.
    const bodies = ['x'.repeat(199) + '😀', 'nul \u0000 byte'];
    let refusals = 0;
    channels.slack.respond = (post) => {
      if (post.raw.includes('Bad Text') && refusals < bodies.length) {
        return { status: 500, body: bodies[refusals++]! };
      }
      return SLACK_OK;
    };
    running = await startWorker(db.storage, { ...channels.env, WORKER_MAX_ATTEMPTS: '10' });
    const leads = [];
    for (const name of ['Good One', 'Bad Text', 'Good Two'])
      leads.push(await captureLead(db.storage, { customerName: name }));
    for (const lead of leads)
      await waitFor(processed(lead.eventId), { timeoutMs: 15_000, message: `event ${lead.eventId}` });
    // Still running: a new lead after the refusals goes out too.
    const after = await captureLead(db.storage, { customerName: 'After' });
    await waitFor(processed(after.eventId), { timeoutMs: 10_000, message: 'a lead after the refusals' });

    expect(await count(`select count(*) as n from lead_events where outcome = 'delivered'`)).toBe(4);
    // Every channel exactly once per lead; Slack's two refusals are both logged.
    expect(channels.smtp.messages).toHaveLength(4);
    expect(channels.telegram.delivered()).toHaveLength(4);
    expect(channels.slack.delivered()).toHaveLength(4);
    const bad = leads[1]!.eventId;
    const slackRows = await db.storage.query<{
      status: string;
      error: string | null;
      provider_status: number;
    }>(
      `select status, error, provider_status from notification_logs where event_id = $1 and channel = 'slack' order by id`,
      [bad],
    );
    expect(slackRows.map((row) => [row.status, row.provider_status])).toEqual([
      ['failed', 500],
      ['failed', 500],
      ['sent', 200],
    ]);
    for (const row of slackRows.slice(0, 2)) expect(row.error).toBeTruthy();
    expect(await count('select count(*) as n from notification_logs')).toBe(
      channels.slack.requests.length + channels.smtp.messages.length + channels.telegram.requests.length,
    );
    expect(running.logs.text()).not.toContain('stopping the worker');
  });
});
