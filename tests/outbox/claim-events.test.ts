import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';

/** The SQL functions on their own: claiming, leases, recording, privileges. */
describeEachDatabase('claim and record SQL', (kind) => {
  let db: TestDatabase;
  let store: ReturnType<typeof outboxStore>;

  const insertEvents = (n: number) =>
    db.storage.query(
      `insert into lead_events (event_type, payload) select 'lead.created', '{}'::jsonb from generate_series(1, $1)`,
      [n],
    );

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    store = outboxStore(db.storage);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await db.storage.query(
      `update lead_events set processed = true, outcome = 'delivered' where not processed`,
    );
  });

  it('hands concurrent claimers disjoint batches, oldest first', async () => {
    await insertEvents(30);
    const batches = await Promise.all(['a', 'b', 'c'].map((worker) => store.claim(worker, 10, 60)));
    const ids = batches.flat().map((event) => event.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    for (const batch of batches) {
      expect(batch.map((event) => event.id)).toEqual(
        [...batch.map((event) => event.id)].sort((x, y) => x - y),
      );
    }
    expect(await store.claim('d', 10, 60)).toEqual([]);
  });

  it('claims a crashed worker’s events again once the lease has expired', async () => {
    await insertEvents(2);
    const first = await store.claim('crashed', 10, 60);
    expect(first).toHaveLength(2);
    expect(await store.claim('other', 10, 60)).toEqual([]);
    await db.storage.query(
      `update lead_events set locked_until = now() - interval '1 second' where locked_by = 'crashed'`,
    );
    const again = await store.claim('other', 10, 60);
    expect(again.map((event) => [event.id, event.attempts])).toEqual(first.map((event) => [event.id, 2]));

    // The crashed worker's late results are refused: the lease is no longer its own.
    const late = await store.record(
      'crashed',
      first.map((event) => ({ eventId: event.id, attempt: 1, result: 'delivered' as const, logs: [] })),
      8,
    );
    expect(late).toEqual({ recorded: [], lost: first.map((event) => event.id) });
  });

  it('records a batch in one call and returns settled channels on the next claim', async () => {
    await insertEvents(1);
    const [event] = await store.claim('w', 1, 60);
    const outcome = await store.record(
      'w',
      [
        {
          eventId: event!.id,
          attempt: 1,
          result: 'pending',
          retryInMs: 0,
          error: 'email: down',
          logs: [
            { channel: 'slack', status: 'sent', providerStatus: 200, durationMs: 3 },
            { channel: 'telegram', status: 'skipped', error: 'channel not configured' },
            { channel: 'email', status: 'failed', error: 'down', permanent: false },
          ],
        },
      ],
      8,
    );
    expect(outcome.recorded).toEqual([{ id: event!.id, outcome: 'retry' }]);
    const [retry] = await store.claim('w', 1, 60);
    expect(retry).toMatchObject({
      id: event!.id,
      attempts: 2,
      settled: { slack: 'sent', telegram: 'skipped' },
    });
  });

  it('renews the lease only on the events the worker says it holds', async () => {
    await insertEvents(2);
    const [held, orphan] = await store.claim('beater', 2, 1);
    const identity = { workerId: 'beater', host: 'test', pid: 1 };
    // The orphan stands for a claim whose answer never reached the worker.
    const result = await store.beat(identity, 120, [held!.id]);
    expect(result).toEqual({ workerId: 'beater', leasesRenewed: 1 });
    const rows = await db.storage.query<{ id: string | number; renewed: boolean }>(
      `select id, locked_until > now() + interval '60 seconds' as renewed
         from lead_events where id = any($1::bigint[]) order by id`,
      [[held!.id, orphan!.id]],
    );
    expect(rows.map((row) => [Number(row.id), row.renewed])).toEqual([
      [held!.id, true],
      [orphan!.id, false],
    ]);
    expect(await store.beat(identity, 120, [], true)).toEqual({ workerId: 'beater', leasesRenewed: 0 });
  });

  it('keeps every new function and table away from the public API roles', async () => {
    const functions = [
      'claim_lead_events(text, integer, integer)',
      'record_notification_results(text, jsonb, integer)',
      'beat_worker(text, text, integer, integer, boolean, bigint[])',
      'replay_dead_events(bigint, timestamptz)',
      'lead_event_settled_channels(bigint, timestamptz)',
    ];
    for (const fn of functions) {
      const [row] = await db.storage.query<{ anon: boolean; service: boolean }>(
        `select has_function_privilege('anon', $1, 'execute') as anon,
                has_function_privilege('service_role', $1, 'execute') as service`,
        [fn],
      );
      expect({ fn, ...row }).toEqual({ fn, anon: false, service: true });
    }
    const [table] = await db.storage.query<{ anon: boolean; rls: boolean }>(
      `select has_table_privilege('anon', 'worker_heartbeats', 'select') as anon,
              relrowsecurity as rls from pg_class where relname = 'worker_heartbeats'`,
    );
    expect(table).toEqual({ anon: false, rls: true });
  });
});
