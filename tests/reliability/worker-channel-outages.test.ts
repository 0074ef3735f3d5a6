import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { runLogFile } from '../helpers/logs.js';
import { type HttpReply, SLACK_OK, telegramError } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';

/**
 * Seed 003: "Slack down -> retry", "SMTP down -> retry". Every channel fails at once
 * (Slack 500, SMTP 421, Telegram 429 with retry_after) for a while, then recovers:
 * every event is delivered once per channel, every attempt the receivers saw is one
 * notification_logs row, nothing is dead. A channel down for longer than the retry
 * budget leaves dead events; replay sends only that channel.
 */
const run = promisify(execFile);
const SOAK = process.env.LEADRELAY_SOAK === '1';
const EVENTS = SOAK ? 200 : 20;
/**
 * The outage lasts until Slack and email refused every event and Telegram refused each
 * twice. (A 429 is re-sent within the attempt, so while Telegram refuses, an event's
 * next attempt on the other channels waits for it: they see one refusal per event.)
 */
const REFUSALS = { slack: EVENTS, email: EVENTS, telegram: EVENTS * 2 };
const MAX_ATTEMPTS = 8;
const WAIT_MS = SOAK ? 120_000 : 20_000;
/**
 * Sends must not time out on a busy machine: a send that times out after the receiver
 * took it is retried and arrives twice (at least once, by design), which would blur
 * what these tests count.
 */
const WORKER_ENV = {
  WORKER_SEND_TIMEOUT_MS: '15000',
  WORKER_BATCH_SIZE: '50',
  // One message per lead per channel, so receivers' counts are attempts: no digests
  // after a rate-limit pause here (tests/outbox/pacing.test.ts covers those).
  DIGEST_THRESHOLD: '10000',
};

const telegramOk = (text: string | undefined): HttpReply => ({
  status: 200,
  body: { ok: true, result: { message_id: 1, date: 0, chat: { id: 1 }, text } },
});

describeEachDatabase('channel outages', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let running: RunningWorker | undefined;

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.storage.query<{ n: string | number }>(sql, params))[0]!.n);
  const logRows = async (channel: string) =>
    count('select count(*) as n from notification_logs where channel = $1', [channel]);
  /** Requests each receiver saw, accepted or refused: the attempts actually made. */
  const attemptsSeen = () => ({
    slack: channels.slack.requests.length,
    email: channels.smtp.recipientAttempts,
    telegram: channels.telegram.requests.length,
  });
  const delivered = () => ({
    slack: channels.slack.delivered().length,
    email: channels.smtp.messages.length,
    telegram: channels.telegram.delivered().length,
  });

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

  it(
    'delivers everything once every channel recovers, logging every attempt',
    async () => {
      let down = true;
      channels.slack.respond = () => (down ? { status: 500, body: 'internal_error' } : SLACK_OK);
      channels.smtp.rejectRecipient = () => (down ? 421 : null);
      channels.telegram.respond = (request) =>
        down ? telegramError(429, 'Too Many Requests: retry after 1', 1) : telegramOk(request.params.text);

      running = await startWorker(db.storage, {
        ...channels.env,
        ...WORKER_ENV,
        WORKER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      });
      for (let i = 0; i < EVENTS; i++) await captureLead(db.storage, { customerName: `Outage ${i}` });

      await waitFor(
        () => {
          const seen = attemptsSeen();
          return (
            seen.slack >= REFUSALS.slack && seen.email >= REFUSALS.email && seen.telegram >= REFUSALS.telegram
          );
        },
        { timeoutMs: WAIT_MS, message: `refusals per channel: ${JSON.stringify(REFUSALS)}` },
      );
      const refused = attemptsSeen();
      down = false;
      await waitFor(
        async () => (await count('select count(*) as n from lead_events where processed')) === EVENTS,
        {
          timeoutMs: WAIT_MS,
          message: 'every event processed after recovery',
        },
      );

      expect(await count(`select count(*) as n from lead_events where outcome = 'dead'`)).toBe(0);
      expect(await count(`select count(*) as n from lead_events where outcome = 'delivered'`)).toBe(EVENTS);
      // Exactly once per channel after recovery.
      expect(delivered()).toEqual({ slack: EVENTS, email: EVENTS, telegram: EVENTS });
      for (const channel of ['slack', 'email', 'telegram']) {
        expect(
          await count(`select count(*) as n from notification_logs where channel = $1 and status = 'sent'`, [
            channel,
          ]),
        ).toBe(EVENTS);
      }
      // Every attempt a receiver saw is one log row, and no row without an attempt.
      const seen = attemptsSeen();
      const logged = {
        slack: await logRows('slack'),
        email: await logRows('email'),
        telegram: await logRows('telegram'),
      };
      expect(logged).toEqual(seen);
      // Refused rows carry the provider's status, so the outage is visible in SQL; a 429
      // is `rate_limited` (re-sent within the attempt), not a failure.
      const statuses = await db.storage.query<{ channel: string; status: string; provider_status: number }>(
        `select channel, status, provider_status, count(*)::int as n from notification_logs
        where status <> 'sent' group by 1, 2, 3 order by 1, 2, 3`,
      );
      expect(statuses.map((row) => [row.channel, row.status, row.provider_status])).toEqual([
        ['email', 'failed', 421],
        ['slack', 'failed', 500],
        ['telegram', 'rate_limited', 429],
      ]);
      // Telegram's retry_after (1 s) was honoured: no two attempts of one event closer than that.
      const tooSoon = await count(
        `select count(*) as n from (
         select created_at - lag(created_at) over (partition by event_id order by id) as gap
           from notification_logs where channel = 'telegram') g
        where gap < interval '900 milliseconds'`,
      );
      expect(tooSoon).toBe(0);

      const attempts = seen.slack + seen.email + seen.telegram;
      const faults = refused.slack + refused.email + refused.telegram;
      console.info(
        `reliability: channel outage [${kind}]: ${EVENTS} events, ${faults} faults injected ` +
          `(slack 500 ×${refused.slack}, smtp 421 ×${refused.email}, telegram 429 ×${refused.telegram}), ` +
          `${attempts} attempts made = ${attempts} attempts logged, ${EVENTS * 3} sends after recovery, ` +
          '0 dead, 0 duplicates, 0 rows lost',
      );
    },
    WAIT_MS * 3,
  );

  it(
    'leaves events dead past the retry budget; replay sends only the missing channel',
    async () => {
      const budget = 3;
      let slackDown = true;
      channels.slack.respond = () => (slackDown ? { status: 500, body: 'internal_error' } : SLACK_OK);
      running = await startWorker(db.storage, {
        ...channels.env,
        ...WORKER_ENV,
        WORKER_MAX_ATTEMPTS: String(budget),
      });
      const events = SOAK ? 100 : 10;
      for (let i = 0; i < events; i++) await captureLead(db.storage, { customerName: `Dead ${i}` });

      await waitFor(
        async () => (await count(`select count(*) as n from lead_events where outcome = 'dead'`)) === events,
        {
          timeoutMs: WAIT_MS,
          message: 'events dead after the retry budget',
        },
      );
      expect(channels.slack.requests).toHaveLength(events * budget);
      expect(
        await count(
          `select count(*) as n from notification_logs where channel = 'slack' and status = 'failed'`,
        ),
      ).toBe(events * budget);
      expect(
        await count(
          `select count(*) as n from lead_events where outcome = 'dead' and last_error like '%slack%'`,
        ),
      ).toBe(events);
      // Email and Telegram went out on the first attempt and only then.
      const otherFailures = await db.storage.query(
        `select channel, error from notification_logs where channel <> 'slack' and status <> 'sent' limit 5`,
      );
      expect(otherFailures).toEqual([]);
      expect(channels.smtp.messages).toHaveLength(events);
      expect(channels.telegram.delivered()).toHaveLength(events);

      slackDown = false;
      // On Postgres through the operator's command (`npm run replay`); PGlite allows one
      // process, so there the same SQL function is called directly.
      const since = new Date(Date.now() - 3_600_000);
      let replayed: { count: number };
      if (db.url) {
        const { stdout } = await run(
          process.execPath,
          ['--import', 'tsx', 'src/cli/leadrelay.ts', 'replay', '--failed-since', since.toISOString()],
          { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: db.url } },
        );
        appendFileSync(runLogFile(), stdout);
        expect(stdout).toContain(`Queued ${events} dead event(s) again`);
        replayed = { count: events };
      } else {
        replayed = await outboxStore(db.storage).replay({ failedSince: since });
      }
      expect(replayed.count).toBe(events);
      await waitFor(
        async () =>
          (await count(`select count(*) as n from lead_events where outcome = 'delivered'`)) === events,
        { timeoutMs: WAIT_MS, message: 'replayed events delivered' },
      );
      expect(channels.slack.delivered()).toHaveLength(events);
      expect(new Set(channels.slack.delivered().map((post) => post.body.text)).size).toBe(events);
      // Replay sent only Slack: the other channels are untouched.
      expect(channels.smtp.messages).toHaveLength(events);
      expect(channels.telegram.requests).toHaveLength(events);
      expect(channels.slack.requests).toHaveLength(events * budget + events);
      expect(await count(`select count(*) as n from notification_logs where status = 'sent'`)).toBe(
        events * 3,
      );
      expect(await count('select count(*) as n from notification_logs')).toBe(
        channels.slack.requests.length + channels.smtp.recipientAttempts + channels.telegram.requests.length,
      );

      console.info(
        `reliability: channel down past the retry budget [${kind}]: ${events} events, ` +
          `${events * budget} slack 500s (budget ${budget} attempts), ${events} dead, ${replayed.count} replayed, ` +
          `${events} slack sends after replay (${db.url ? 'replay command' : 'replay_dead_events'}), 0 re-sent on email/telegram, 0 rows lost`,
      );
    },
    WAIT_MS * 3,
  );
});
