import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bulkStore } from '../../src/bulk/bulk-store.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { OWNER } from '../../src/team/principal.js';
import { seedLeads } from '../bulk/fixtures.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { spawnWorker, type WorkerProcess } from './worker-process.js';

/**
 * Issue 15: a worker process SIGKILLed in the middle of a 20,000-lead bulk action.
 * After a new worker takes over (the dead one's lease runs out) the result equals an
 * uninterrupted run of the same action on another 20,000 leads, and every lead has
 * exactly one timeline entry and one event for it: no batch applied twice, none lost.
 */
const LEADS = 20_000;

describe.skipIf(!hasPostgres)('bulk action survives a worker SIGKILL [postgres]', () => {
  let db: TestDatabase;
  let storage: SqlStorage;
  const workers: WorkerProcess[] = [];
  const env = () => ({
    DATABASE_URL: db.url!,
    ADMIN_API_KEY: TEST_ADMIN_KEY,
    LOG_LEVEL: 'warn',
    BULK_BATCH_SIZE: '500',
    WORKER_LEASE_SECONDS: '2',
    WORKER_POLL_INTERVAL_MS: '100',
  });

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 4 });
    storage = db.storage;
  });
  afterEach(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
  });
  afterAll(async () => {
    await db?.close();
  });

  const actionRow = async (id: string) =>
    (
      await storage.query<{ status: string; processed: number; skipped: number; next_seq: number }>(
        'select status, processed, skipped, next_seq from bulk_actions where id = $1',
        [id],
      )
    )[0]!;
  /** What the action did to its leads, lead by lead, summed up. */
  const outcome = async (id: string, source: string) =>
    storage.query<{ status: string; version: number; entries: string; events: string; leads: string }>(
      `select c.status, c.version, t.entries, e.events, count(*) as leads
         from conversations c
         left join lateral (select count(*) as entries from conversation_timeline t
                             where t.conversation_id = c.id and t.details->>'bulkActionId' = $1) t on true
         left join lateral (select count(*) as events from lead_events e
                             where e.conversation_id = c.id and e.payload->>'bulkActionId' = $1) e on true
        where c.source = $2
        group by 1, 2, 3, 4 order by 1, 2, 3, 4`,
      [id, source],
    );

  it(`${LEADS} leads: killed mid-way, resumed by another worker, same result as an uninterrupted run`, async () => {
    const store = bulkStore(storage);
    await seedLeads(storage, LEADS, { source: 'crash' });
    await seedLeads(storage, LEADS, { source: 'calm' });
    const crashed = await store.create(
      'set_status',
      { filter: { source: 'crash' } },
      { status: 'qualified' },
      OWNER,
      7,
    );

    const first = spawnWorker(env());
    workers.push(first);
    await waitFor(async () => (await actionRow(crashed.id)).processed >= 4_000, {
      timeoutMs: 120_000,
      intervalMs: 20,
      message: 'the first worker to commit some batches',
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await actionRow(crashed.id);
    expect(atKill.status).toBe('running');
    expect(atKill.processed).toBeLessThan(LEADS);
    // The cursor and the changes committed together.
    expect(atKill.next_seq - 1).toBe(atKill.processed + atKill.skipped);
    expect(
      Number(
        (
          await storage.query<{ n: string }>(
            `select count(*) as n from conversation_timeline where details->>'bulkActionId' = $1`,
            [crashed.id],
          )
        )[0]!.n,
      ),
    ).toBe(atKill.processed);

    const second = spawnWorker(env());
    workers.push(second);
    await waitFor(async () => (await actionRow(crashed.id)).status === 'completed', {
      timeoutMs: 180_000,
      intervalMs: 100,
      message: 'the second worker to finish the action',
    });
    // The same action, uninterrupted, on the other 20,000 leads.
    const calm = await store.create(
      'set_status',
      { filter: { source: 'calm' } },
      { status: 'qualified' },
      OWNER,
      7,
    );
    await waitFor(async () => (await actionRow(calm.id)).status === 'completed', {
      timeoutMs: 180_000,
      intervalMs: 100,
      message: 'the uninterrupted action to finish',
    });

    const [afterCrash, uninterrupted] = [await store.get(crashed.id), await store.get(calm.id)];
    const counters = (a: typeof afterCrash) => ({
      status: a.status,
      total: a.total,
      processed: a.processed,
      skipped: a.skipped,
      failed: a.failed,
    });
    expect(counters(afterCrash)).toEqual(counters(uninterrupted));
    expect(counters(afterCrash)).toEqual({
      status: 'completed',
      total: LEADS,
      processed: LEADS,
      skipped: 0,
      failed: 0,
    });
    const crashOutcome = await outcome(crashed.id, 'crash');
    expect(crashOutcome).toEqual(await outcome(calm.id, 'calm'));
    // Every lead: status set once, version bumped once, one timeline entry, one event.
    expect(crashOutcome).toEqual([
      { status: 'qualified', version: 2, entries: '1', events: '1', leads: String(LEADS) },
    ]);
  }, 600_000);
});
