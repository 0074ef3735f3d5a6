import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { SLACK_OK } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';

/**
 * Issue 10: a provider's answer could crash the worker in a loop. Slack's error body
 * was cut with slice(0, 200) in UTF-16 units; when the cut fell inside an emoji (or the
 * body held a NUL) Postgres refused the batch's jsonb (22P02 / 22P05), the worker took
 * that for a failure to record and stopped, and the batch was sent again by the next
 * one. Here Slack answers 500 with exactly such bodies before it recovers.
 */
const LEADS = 3;
const EMOJI_BODY = `${'x'.repeat(199)}😀`;
const NUL_BODY = 'internal\u0000error';

describeEachDatabase('hostile provider answers', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let running: RunningWorker | undefined;

  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.storage.query<{ n: string | number }>(sql, params))[0]!.n);

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

  it('keeps the worker running, sends email and Telegram once, Slack once it recovers', async () => {
    // One batch: the first attempt of every event meets the emoji body, the second the NUL.
    channels.slack.respond = (_post, index) => {
      if (index < LEADS) return { status: 500, body: EMOJI_BODY };
      if (index < 2 * LEADS) return { status: 500, body: NUL_BODY };
      return SLACK_OK;
    };
    for (let i = 0; i < LEADS; i++) await captureLead(db.storage, { customerName: `Hostile ${i}` });
    running = await startWorker(db.storage, { ...channels.env, WORKER_SEND_TIMEOUT_MS: '15000' });

    await waitFor(
      async () =>
        (await count(`select count(*) as n from lead_events where outcome = 'delivered'`)) === LEADS,
      { timeoutMs: 20_000, message: 'every lead delivered after Slack recovered' },
    );
    expect(channels.slack.delivered()).toHaveLength(LEADS);
    expect(channels.smtp.messages).toHaveLength(LEADS);
    expect(channels.telegram.delivered()).toHaveLength(LEADS);

    // Every attempt is one row; the failures keep the provider's text, made storable.
    expect(await count(`select count(*) as n from notification_logs where channel = 'slack'`)).toBe(
      channels.slack.requests.length,
    );
    const failures = await db.storage.query<{ error: string; provider_status: number }>(
      `select error, provider_status from notification_logs where channel = 'slack' and status = 'failed' order by id`,
    );
    expect(failures).toHaveLength(2 * LEADS);
    expect(failures.every((row) => row.provider_status === 500)).toBe(true);
    expect(failures.filter((row) => row.error.endsWith(EMOJI_BODY))).toHaveLength(LEADS);
    expect(failures.filter((row) => row.error.endsWith('internal\uFFFDerror'))).toHaveLength(LEADS);
    expect(
      await count(`select count(*) as n from notification_logs where channel <> 'slack' and status = 'sent'`),
    ).toBe(2 * LEADS);

    // Still running: a new lead goes out at once, and nothing fatal was logged.
    await captureLead(db.storage, { customerName: 'After The Storm' });
    await waitFor(() => channels.slack.delivered().length === LEADS + 1, {
      message: 'the next lead on Slack',
    });
    expect(running.logs.entries().filter((entry) => Number(entry.level) >= 60)).toEqual([]);
  });
});
