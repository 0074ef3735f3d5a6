import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { type CapturedLogs, captureLogs } from '../helpers/logs.js';
import { waitFor } from '../helpers/wait.js';
import { auth, createLead, generousLimits } from './fixtures.js';

/**
 * Issue 10: PATCH status and "complete task" on one lead at the same time deadlocked
 * (admin_update_lead locked the lead, then its first-contact tasks; admin_complete_task
 * a task, then the lead) and the loser answered 500. Postgres only: PGlite runs one
 * query at a time, so nothing there can interleave.
 *
 * Each round reopens the lead (status new, no first response) with fresh open
 * first-contact tasks. A test transaction holds the lead's row lock while the requests
 * line up behind it, PATCHes first (Postgres grants a row lock to its waiters in
 * order), so when it lets go the PATCH gets the lead and goes for the tasks while the
 * completions wait for the lead: with the old lock order each completion already held
 * its task, which is the deadlock. No timing luck involved.
 */
const ROUNDS = 20;
const PAIRS_PER_ROUND = 10;

describe.skipIf(!hasPostgres)('concurrent admin changes on one lead [postgres]', () => {
  let db: TestDatabase;
  let t: TestApp;
  let blocker: pg.Client;
  /** The API's storage, with its log kept: a deadlock retried by the storage layer shows there. */
  let storage: SqlStorage;
  let storageLogs: CapturedLogs;
  /** A connection of its own: inside the blocker's transaction the activity view would not change. */
  let observer: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 2 });
    storageLogs = captureLogs('warn');
    storage = openPostgresStorage({
      connectionString: db.url!,
      poolMax: 2 * PAIRS_PER_ROUND,
      connectTimeoutMs: 3000,
      queryTimeoutMs: 15_000,
      logger: storageLogs.logger,
    });
    // Find a deadlock in 50 ms instead of the default second, so the old lock order
    // fails this test quickly; it changes nothing about whether one happens.
    blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    observer = new pg.Client({ connectionString: db.url });
    await observer.connect();
    await blocker.query(`alter database ${new URL(db.url!).pathname.slice(1)} set deadlock_timeout = '50ms'`);
    t = await buildTestApp(storage, { env: generousLimits });
  });
  afterAll(async () => {
    await blocker?.end();
    await observer?.end();
    await t?.app.close();
    await storage?.close();
    await db?.close();
  });

  /** Requests of this database waiting for a lock right now. */
  const waiting = async () =>
    Number(
      (
        await observer.query<{ n: string }>(
          `select count(*) as n from pg_stat_activity
            where datname = current_database() and state = 'active' and wait_event_type = 'Lock'`,
        )
      ).rows[0]!.n,
    );

  it(`answers ${ROUNDS * PAIRS_PER_ROUND} concurrent PATCH + complete pairs without a 500 or a deadlock`, async () => {
    const { id } = await createLead(db.storage, { customerName: 'Contended Lead' });
    // The capture's own first-contact task is not part of any round.
    await db.storage.query(`update follow_up_tasks set status = 'cancelled' where conversation_id = $1`, [
      id,
    ]);
    const statuses = new Map<string, number>();
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const patch = (version: number) =>
      t.app
        .inject({
          method: 'PATCH',
          url: `/api/admin/leads/${id}`,
          headers: auth,
          payload: { version, status: 'contacted' },
        })
        .then((response) => count(`patch ${response.statusCode}`));
    const complete = (taskId: string) =>
      t.app
        .inject({ method: 'POST', url: `/api/admin/tasks/${taskId}/complete`, headers: auth })
        .then((response) => count(`complete ${response.statusCode}`));

    for (let round = 0; round < ROUNDS; round++) {
      await db.storage.query(
        `update conversations set status = 'new', first_response_at = null where id = $1`,
        [id],
      );
      const tasks = await db.storage.query<{ id: string }>(
        `insert into follow_up_tasks (conversation_id, task_type, title, due_at)
         select $1, 'first_contact', 'Call back ' || g, now() + interval '5 minutes'
           from generate_series(1, $2) g
         returning id`,
        [id, PAIRS_PER_ROUND],
      );
      const [row] = await db.storage.query<{ version: number }>(
        'select version from conversations where id = $1',
        [id],
      );

      await blocker.query('begin');
      await blocker.query('select 1 from conversations where id = $1 for update', [id]);
      const first = patch(row!.version);
      await waitFor(async () => (await waiting()) === 1, { message: 'the first PATCH queued on the lead' });
      const rest = [
        ...tasks.slice(1).map(() => patch(row!.version)),
        ...tasks.map((task) => complete(task.id)),
      ];
      await waitFor(async () => (await waiting()) === 2 * PAIRS_PER_ROUND, {
        message: 'every request queued on the lead',
      });
      await blocker.query('commit');
      await Promise.all([first, ...rest]);
    }

    expect(Object.fromEntries(statuses)).toEqual({
      // The first PATCH of a round wins; the others carry its stale version.
      'patch 200': ROUNDS,
      'patch 409': ROUNDS * (PAIRS_PER_ROUND - 1),
      'complete 200': ROUNDS * PAIRS_PER_ROUND,
    });
    const open = await db.storage.query(
      `select id from follow_up_tasks where conversation_id = $1 and status = 'open'`,
      [id],
    );
    expect(open).toEqual([]);
    // And not one deadlock hidden by the storage layer's retries.
    expect(storageLogs.entries().filter((entry) => entry.sqlState === '40P01')).toEqual([]);
  });

  it('completes a task a merge moved meanwhile, still locking the lead before the task', async () => {
    const from = await createLead(db.storage, { customerName: 'Merged Away' });
    const into = await createLead(db.storage, { customerName: 'Survivor' });
    const [task] = await db.storage.query<{ id: string }>(
      `select id from follow_up_tasks where conversation_id = $1 and status = 'open'`,
      [from.id],
    );
    // The "merge": holds the old lead while the completion reads the task and queues on it.
    await blocker.query('begin');
    await blocker.query('select 1 from conversations where id = $1 for update', [from.id]);
    const completion = t.app.inject({
      method: 'POST',
      url: `/api/admin/tasks/${task!.id}/complete`,
      headers: auth,
    });
    await waitFor(async () => (await waiting()) === 1, { message: 'the completion queued on the old lead' });
    await blocker.query('update follow_up_tasks set conversation_id = $1 where id = $2', [into.id, task!.id]);
    // A PATCH on the survivor holds it and will want its tasks next.
    const patch = new pg.Client({ connectionString: db.url });
    await patch.connect();
    try {
      await patch.query('begin');
      // It queues behind the merge (which holds a key-share lock on the survivor) and so
      // gets the survivor before the completion does.
      const patchHoldsSurvivor = patch.query('select 1 from conversations where id = $1 for update', [
        into.id,
      ]);
      await waitFor(async () => (await waiting()) === 2, { message: 'the PATCH queued on the survivor' });
      await blocker.query('commit');
      await patchHoldsSurvivor;
      await waitFor(async () => (await waiting()) === 1, {
        message: 'the completion queued on the survivor',
      });
      // Lead-then-task: the completion holds no task lock while it waits, so this goes through.
      await patch.query('select 1 from follow_up_tasks where id = $1 for update', [task!.id]);
      await patch.query('commit');
    } finally {
      await patch.end();
    }
    const response = await completion;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ changed: true, conversationId: into.id });
    expect(storageLogs.entries().filter((entry) => entry.sqlState === '40P01')).toEqual([]);
  });
});
