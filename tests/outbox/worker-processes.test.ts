import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStorage } from '../../src/storage/storage.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { SLACK_OK } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';
import { type Channels, captureBacklog, countOf, FAST_WORKER_ENV, startChannels } from './harness.js';

/**
 * The worker as separate processes on real Postgres (PGlite is one process only):
 * `node --import tsx workers/notification-worker.ts`, exactly what `npm run worker` runs.
 */
interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/notification-worker.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

const started = (worker: WorkerProcess) => () =>
  worker.output.some((line) => line.includes('Notification worker started'));
const never = <T>() => new Promise<T>(() => {});

describe.skipIf(!hasPostgres)('notification worker processes [postgres]', () => {
  let db: TestDatabase;
  let url: string;
  let storage: SqlStorage;
  let channels: Channels;
  let workers: WorkerProcess[] = [];

  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: url,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'info',
    ...FAST_WORKER_ENV,
    ...channels.env,
    ...extra,
  });
  const count = (sql: string, params: unknown[] = []) => countOf(storage, sql, params);
  const captureMany = (n: number) => captureBacklog(storage, n);
  /** Conversation ids named in the lead links of what a receiver accepted. */
  const leadIds = (texts: string[]) => texts.map((text) => /#\/leads\/([0-9a-f-]{36})/.exec(text)?.[1]);

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 4 });
    url = db.url!;
    storage = db.storage;
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    channels = await startChannels();
    await storage.query(
      'truncate notification_logs, lead_events, follow_up_tasks, conversation_timeline, conversations cascade',
    );
  });
  afterEach(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    workers = [];
    await channels.close();
  });

  it('two workers drain 1,000 events, each sent exactly once per channel', async () => {
    // A generous send timeout: on a loaded machine a slow loopback SMTP answer must not
    // turn into a timeout (and a retry) that this exactly-once count would flag.
    const drainEnv = env({ WORKER_BATCH_SIZE: '25', WORKER_SEND_TIMEOUT_MS: '15000' });
    workers = [spawnWorker(drainEnv), spawnWorker(drainEnv)];
    await waitFor(() => workers.every((worker) => started(worker)()), {
      timeoutMs: 20_000,
      message: 'workers up',
    });
    await captureMany(1000);
    await waitFor(
      async () => (await count('select count(*) as n from lead_events where processed')) === 1000,
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: '1,000 events processed',
      },
    );

    expect(await count(`select count(*) as n from lead_events where outcome = 'delivered'`)).toBe(1000);
    expect(await count(`select count(*) as n from notification_logs where status = 'sent'`)).toBe(3000);
    const notSent = await storage.query(
      `select channel, status, error, count(*)::int as n from notification_logs where status <> 'sent' group by 1, 2, 3`,
    );
    expect(notSent).toEqual([]);
    const slack = leadIds(channels.slack.delivered().map((post) => post.raw));
    const email = leadIds(channels.smtp.messages.map((message) => message.text));
    const telegram = leadIds(channels.telegram.delivered().map((request) => request.params.text ?? ''));
    for (const ids of [slack, email, telegram]) {
      expect(ids).toHaveLength(1000);
      expect(new Set(ids).size).toBe(1000);
    }
    const beats = await storage.query<{ events_done: string }>('select events_done from worker_heartbeats');
    expect(beats).toHaveLength(2);
    expect(beats.reduce((sum, beat) => sum + Number(beat.events_done), 0)).toBe(1000);
    expect(beats.every((beat) => Number(beat.events_done) > 0)).toBe(true);
  });

  it('recovers the batch of a worker killed with SIGKILL once its lease expires', async () => {
    // Every channel holds its answer: the first worker dies with its whole batch in flight.
    channels.slack.respond = never;
    channels.telegram.respond = never;
    channels.smtp.rejectRecipient = never;
    const first = spawnWorker(env({ WORKER_LEASE_SECONDS: '2' }));
    workers.push(first);
    await waitFor(started(first), { timeoutMs: 20_000 });
    await captureMany(5);
    await waitFor(() => channels.slack.requests.length === 5 && channels.telegram.requests.length === 5);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await count('select count(*) as n from lead_events where locked_by is not null')).toBe(5);

    channels.slack.respond = () => SLACK_OK;
    channels.telegram.respond = (request) => ({
      status: 200,
      body: { ok: true, result: { message_id: 1, date: 0, chat: { id: 1 }, text: request.params.text } },
    });
    channels.smtp.rejectRecipient = () => null;
    const second = spawnWorker(env({ WORKER_LEASE_SECONDS: '2' }));
    workers.push(second);
    await waitFor(async () => (await count('select count(*) as n from lead_events where processed')) === 5, {
      timeoutMs: 30_000,
      message: 'events recovered after lease expiry',
    });
    expect(
      await count(`select count(*) as n from lead_events where outcome = 'delivered' and attempts = 2`),
    ).toBe(5);
    expect(new Set(leadIds(channels.slack.delivered().map((post) => post.raw))).size).toBe(5);
    expect(channels.slack.delivered()).toHaveLength(5);
    expect(channels.telegram.delivered()).toHaveLength(5);
    expect(channels.smtp.messages).toHaveLength(5);
    expect(await count(`select count(*) as n from notification_logs where status = 'sent'`)).toBe(15);
  });

  it('drains cleanly on SIGTERM: finishes what it can, releases the rest, exits 0', async () => {
    channels.slack.respond = never; // Slack hangs: only shutdown can end those sends.
    const worker = spawnWorker(env({ WORKER_SHUTDOWN_GRACE_MS: '500', WORKER_SEND_TIMEOUT_MS: '30000' }));
    workers.push(worker);
    await waitFor(started(worker), { timeoutMs: 20_000 });
    await captureMany(3);
    await waitFor(() => channels.slack.requests.length === 3 && channels.smtp.messages.length === 3);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);

    expect(await count('select count(*) as n from lead_events where locked_by is not null')).toBe(0);
    expect(
      await count(`select count(*) as n from notification_logs where channel = 'email' and status = 'sent'`),
    ).toBe(3);
    expect(
      await count(`select count(*) as n from notification_logs where channel = 'slack' and status = 'failed'
                    and error like '%cut short by shutdown%'`),
    ).toBe(3);
    expect(await count('select count(*) as n from worker_heartbeats where stopped_at is not null')).toBe(1);
    expect(worker.output.join('\n')).toContain('Notification worker stopped');

    // The released events are due at once: the next worker sends only what is missing.
    channels.slack.respond = () => SLACK_OK;
    const next = spawnWorker(env());
    workers.push(next);
    await waitFor(
      async () => (await count(`select count(*) as n from lead_events where outcome = 'delivered'`)) === 3,
      {
        timeoutMs: 20_000,
      },
    );
    expect(channels.smtp.messages).toHaveLength(3);
    expect(channels.telegram.delivered()).toHaveLength(3);
  });
});
