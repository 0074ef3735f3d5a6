import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject, it } from 'vitest';
import { runCli } from '../../src/cli/leadrelay.js';
import { openPgliteStorage } from '../../src/storage/pglite-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';

/**
 * Issue 10: `skipped` counted as delivered for ever. A worker started before the Slack
 * webhook was entered recorded every lead's Slack alert as skipped, and after fixing
 * the configuration nothing could send them. Now `leadrelay replay --channel slack
 * --since <time>` does, and only Slack: email and Telegram are not sent twice.
 *
 * The CLI runs against the database the way an operator runs it: DATABASE_URL on
 * Postgres; on the embedded database DATA_DIR, with the worker (the API's) stopped,
 * since PGlite's folder belongs to one process at a time.
 */
describeEachDatabase('replay of a channel that was not configured', (kind) => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let storage: SqlStorage;
  let cliEnv: Record<string, string>;
  let channels: Channels;
  let running: RunningWorker | undefined;

  const withoutSlack = (env: Record<string, string>) => {
    const { SLACK_WEBHOOK_URL: _slack, ...rest } = env;
    return rest;
  };
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await storage.query<{ n: string | number }>(sql, params))[0]!.n);
  const openEmbedded = () => openPgliteStorage({ dataDir: join(dataDir, 'pglite') });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'leadrelay-replay-'));
    if (kind === 'postgres') {
      db = await createTestDatabase('postgres', { poolMax: 4 });
      storage = db.storage;
      cliEnv = { DATABASE_URL: db.url! };
    } else {
      storage = await openPgliteStorage({
        dataDir: join(dataDir, 'pglite'),
        loadDataDir: new Blob([readFileSync(inject('pgliteTemplatePath'))]),
      });
      cliEnv = { DATA_DIR: dataDir };
    }
  });
  afterAll(async () => {
    if (db) await db.close();
    else await storage?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    channels = await startChannels();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await channels.close();
  });

  it('sends the skipped Slack alert once Slack is configured and replay --channel slack runs', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    running = await startWorker(storage, withoutSlack(channels.env));
    const lead = await captureLead(storage, { customerName: 'Before The Webhook' });
    await waitFor(async () => (await count(`select count(*) as n from lead_events where processed`)) === 1, {
      message: 'the lead processed without Slack',
    });
    expect(
      await count(
        `select count(*) as n from notification_logs where channel = 'slack' and status = 'skipped'`,
      ),
    ).toBe(1);
    expect(channels.smtp.messages).toHaveLength(1);
    expect(channels.telegram.delivered()).toHaveLength(1);
    await running.stop();
    running = undefined;

    // The operator enters the webhook and replays what Slack missed.
    if (!db) await storage.close();
    let out = '';
    let err = '';
    const code = await runCli(['replay', '--channel', 'slack', '--since', since], {
      env: { LOG_LEVEL: 'warn', ...cliEnv, SLACK_WEBHOOK_URL: channels.slack.url },
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
    });
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toBe(`Queued 1 event(s) for slack again: ${lead.eventId}.\n`);
    if (!db) storage = await openEmbedded();

    running = await startWorker(storage, channels.env);
    await waitFor(() => channels.slack.delivered().length === 1, {
      message: 'the lead on Slack after replay',
    });
    await waitFor(
      async () => (await count(`select count(*) as n from lead_events where outcome = 'delivered'`)) === 1,
      { message: 'the replayed event delivered again' },
    );
    expect(channels.slack.delivered()[0]!.raw).toContain(lead.id);
    // Only Slack went out again.
    expect(channels.smtp.messages).toHaveLength(1);
    expect(channels.telegram.requests).toHaveLength(1);
    const rows = await storage.query<{ channel: string; status: string }>(
      'select channel, status from notification_logs where event_id = $1 order by id',
      [lead.eventId],
    );
    expect(rows.filter((row) => row.channel === 'slack').map((row) => row.status)).toEqual([
      'skipped',
      'sent',
    ]);
    // (A busy machine may add a failed attempt before a first send; never a second send.)
    const sent = rows.filter((row) => row.status === 'sent').map((row) => row.channel);
    expect(sent.sort()).toEqual(['email', 'slack', 'telegram']);
    expect(
      await count(
        `select count(*) as n from conversation_timeline where conversation_id = $1 and entry_type = 'event_replayed'`,
        [lead.id],
      ),
    ).toBe(1);
  });

  it('warns at start, naming the variables, when no channel is configured', async () => {
    running = await startWorker(storage, {});
    const warning = running.logs
      .entries()
      .find((entry) => String(entry.msg).startsWith('No notification channel'));
    expect(warning).toMatchObject({ level: 40 });
    for (const variable of ['SLACK_WEBHOOK_URL', 'EMAIL_HOST', 'TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID']) {
      expect(String(warning!.msg)).toContain(variable);
    }
    expect(String(warning!.msg)).toContain('leadrelay replay --channel');
  });
});
