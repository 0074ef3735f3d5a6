import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { leadIdsLinkedIn, slackRateLimited } from '../helpers/slack-rate-limit.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureBacklog,
  captureLead,
  countOf,
  type RunningWorker,
  startChannels,
  startWorker,
} from './harness.js';

/**
 * Issue 10: bursts must not burn the retry budget. 60 leads in 5 s against a Slack that
 * takes one post per second and answers 429 Retry-After: 1 to the rest, with the
 * default pacing (Slack 60/min, Telegram 20/min per chat, email 600/min, bursts of 5,
 * digests above 5 waiting). Every lead reaches every channel exactly once (on Slack and
 * Telegram alone or in a digest), nothing dies, and no 429 uses an attempt.
 */
const LEADS = 60;
const PACED_ENV = {
  SLACK_RATE_PER_MINUTE: '60',
  TELEGRAM_RATE_PER_MINUTE: '20',
  EMAIL_RATE_PER_MINUTE: '600',
  WORKER_MAX_ATTEMPTS: '3',
  WORKER_SEND_TIMEOUT_MS: '15000',
  // Events wait behind the pacers for seconds; the production-like lease keeps a busy
  // machine's late heartbeat from turning into a second claim (and attempt).
  WORKER_LEASE_SECONDS: '60',
};

describeEachDatabase('provider pacing and digests', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let running: RunningWorker | undefined;
  const count = (sql: string) => countOf(db.storage, sql);

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

  it('60 leads in 5 s against Slack at 1 post/s: 0 dead, each lead once per channel', {
    timeout: 120_000,
  }, async () => {
    channels.slack.respond = slackRateLimited(1_000, 1);
    running = await startWorker(db.storage, { ...channels.env, ...PACED_ENV });
    const ids: string[] = [];
    const begin = Date.now();
    for (let i = 0; i < LEADS; i++) {
      const due = begin + (i * 5_000) / LEADS;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      ids.push((await captureLead(db.storage, { customerName: `Burst ${i}` })).id);
    }
    await waitFor(
      async () => (await count('select count(*) as n from lead_events where processed')) === LEADS,
      {
        timeoutMs: 90_000,
        intervalMs: 200,
        message: `${LEADS} events processed`,
      },
    );

    const notFirstTime = await db.storage.query(
      `select e.id, e.attempts, e.outcome, l.channel, l.status, l.error
         from lead_events e join notification_logs l on l.event_id = e.id
        where e.attempts <> 1 and l.status not in ('sent', 'rate_limited')`,
    );
    expect(notFirstTime).toEqual([]);
    expect(await count(`select count(*) as n from lead_events where outcome = 'dead'`)).toBe(0);
    expect(await count(`select count(*) as n from lead_events where outcome = 'delivered'`)).toBe(LEADS);
    // No 429 used an attempt: every event was delivered on its first.
    expect(await count('select count(*) as n from lead_events where attempts <> 1')).toBe(0);

    const onSlack = channels.slack.delivered().flatMap((post) => leadIdsLinkedIn(post.raw));
    const onTelegram = channels.telegram
      .delivered()
      .flatMap((request) => leadIdsLinkedIn(request.params.text ?? ''));
    const byEmail = channels.smtp.messages.flatMap((message) => leadIdsLinkedIn(message.text));
    for (const delivered of [onSlack, onTelegram, byEmail]) {
      expect([...delivered].sort()).toEqual([...ids].sort());
    }
    expect(channels.smtp.messages).toHaveLength(LEADS);
    // Slack refused some posts (the pacer's burst of 5 is more than 1/s) and digests
    // covered the rest in fewer messages than leads.
    expect(channels.slack.requests.some((post) => post.status === 429)).toBe(true);
    expect(channels.slack.delivered().length).toBeLessThan(LEADS);
    expect(channels.telegram.delivered().length).toBeLessThan(LEADS);

    // The log: one sent row per event and channel; a digest's rows share its id and
    // provider status; each refusal is a rate_limited row with Slack's 429.
    for (const channel of ['slack', 'telegram', 'email']) {
      expect(
        await count(
          `select count(*) as n from notification_logs where channel = '${channel}' and status = 'sent'`,
        ),
      ).toBe(LEADS);
    }
    const digests = await db.storage.query<{ n: number; statuses: number }>(
      `select count(*)::int as n, count(distinct provider_status)::int as statuses from notification_logs
        where status = 'sent' and digest_id is not null group by digest_id`,
    );
    expect(digests.length).toBeGreaterThan(0);
    expect(digests.every((digest) => digest.n > 5 && digest.statuses === 1)).toBe(true);
    expect(
      await count(`select count(*) as n from notification_logs where status not in ('sent', 'rate_limited')`),
    ).toBe(0);
    const refused = channels.slack.requests.filter((post) => post.status === 429).length;
    const limitedRows = await db.storage.query<{ n: number }>(
      `select count(distinct coalesce(digest_id::text, id::text))::int as n from notification_logs
        where channel = 'slack' and status = 'rate_limited' and provider_status = 429`,
    );
    expect(limitedRows[0]!.n).toBe(refused);
  });

  it('sends an SLA escalation alone, ahead of new-lead alerts waiting for the pacer', {
    timeout: 60_000,
  }, async () => {
    await captureBacklog(db.storage, 8, 'Queued');
    await db.storage.query(
      `insert into lead_events (event_type, conversation_id, payload)
       select 'lead.sla_breached', conversation_id, payload || '{"slaDueAt":"2026-11-22T10:05:00Z"}'
         from lead_events order by id desc limit 1`,
    );
    // One post every 500 ms, no burst: the first new lead takes the only token; the
    // escalation, claimed last, must still go next, alone; the other 7 leads as a digest.
    running = await startWorker(db.storage, {
      ...channels.env,
      ...PACED_ENV,
      SLACK_RATE_PER_MINUTE: '120',
      SLACK_BURST: '1',
    });
    await waitFor(async () => (await count('select count(*) as n from lead_events where processed')) === 9, {
      timeoutMs: 30_000,
      message: 'all events processed',
    });
    const posts = channels.slack.delivered().map((post) => post.body.text ?? '');
    expect(posts).toHaveLength(3);
    expect(posts[0]).toContain('New lead: Queued');
    expect(posts[1]).toContain('SLA breached');
    expect(posts[2]).toMatch(/^:bell: 7 new leads: /);
    expect(await count(`select count(*) as n from lead_events where outcome = 'delivered'`)).toBe(9);
  });
});
