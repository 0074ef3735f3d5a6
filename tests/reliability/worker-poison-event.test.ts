import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStorage } from '../../src/storage/storage.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { SLACK_OK } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';
import { type Channels, captureBacklog, countOf, FAST_WORKER_ENV, startChannels } from '../outbox/harness.js';
import { spawnWorker, type WorkerProcess } from './worker-process.js';

/**
 * Issue 10: nothing capped attempts at claim, so an event whose worker dies while
 * holding it (here: SIGKILLed mid-send, every time) was handed out for ever. After
 * WORKER_MAX_ATTEMPTS such deaths the event must be dead, not claimable, and the next
 * worker must carry on with everything else.
 */
const MAX_ATTEMPTS = 3;
const never = <T>() => new Promise<T>(() => {});

describe.skipIf(!hasPostgres)('an event that kills its worker every time [postgres]', () => {
  let db: TestDatabase;
  let storage: SqlStorage;
  let channels: Channels;
  const workers: WorkerProcess[] = [];

  const count = (sql: string, params: unknown[] = []) => countOf(storage, sql, params);
  const env = () => ({
    DATABASE_URL: db.url!,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    ...FAST_WORKER_ENV,
    ...channels.env,
    WORKER_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    WORKER_LEASE_SECONDS: '1',
    WORKER_SEND_TIMEOUT_MS: '30000',
  });

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 4 });
    storage = db.storage;
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    channels = await startChannels();
  });
  afterEach(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
    await channels.close();
  });

  it(`leaves the event dead after ${MAX_ATTEMPTS} SIGKILLs while holding it`, async () => {
    // Slack never answers: every worker is killed with the event in flight.
    channels.slack.respond = never;
    await captureBacklog(storage, 1, 'Poison');
    const [{ id: eventId }] = (await storage.query<{ id: string }>('select id from lead_events')) as [
      { id: string },
    ];

    for (let kill = 1; kill <= MAX_ATTEMPTS; kill++) {
      const worker = spawnWorker(env());
      workers.push(worker);
      await waitFor(() => channels.slack.requests.length === kill, {
        timeoutMs: 30_000,
        message: `attempt ${kill} in flight`,
      });
      expect(await count('select attempts as n from lead_events where id = $1', [eventId])).toBe(kill);
      worker.child.kill('SIGKILL');
      await worker.exited;
    }

    // Slack is fine again; the next worker must not take the event (its holders all died).
    channels.slack.respond = () => SLACK_OK;
    const survivor = spawnWorker(env());
    workers.push(survivor);
    await waitFor(
      async () => (await count(`select count(*) as n from lead_events where outcome = 'dead'`)) === 1,
      {
        timeoutMs: 30_000,
        message: 'the event dead-lettered at claim',
      },
    );
    const [row] = await storage.query<{ attempts: number; last_error: string; locked_by: string | null }>(
      'select attempts, last_error, locked_by from lead_events where id = $1',
      [eventId],
    );
    expect(row).toMatchObject({ attempts: MAX_ATTEMPTS, locked_by: null });
    expect(row!.last_error).toMatch(/died \(or lost its lease\) while holding this event on attempt 3 of 3/);
    expect(
      await count(`select count(*) as n from conversation_timeline where entry_type = 'event_dead'`),
    ).toBe(1);

    // The survivor keeps working: a new lead goes out on every channel, the dead one never.
    await captureBacklog(storage, 1, 'After');
    await waitFor(
      async () => (await count(`select count(*) as n from lead_events where outcome = 'delivered'`)) === 1,
      {
        timeoutMs: 30_000,
        message: 'the next lead delivered',
      },
    );
    expect(channels.slack.delivered().map((post) => post.raw)).toEqual([expect.stringContaining('After 1')]);
    expect(channels.slack.requests).toHaveLength(MAX_ATTEMPTS + 1);
    expect(survivor.child.exitCode).toBeNull();
  }, 120_000);
});
