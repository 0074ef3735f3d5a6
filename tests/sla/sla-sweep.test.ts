import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlaSweeper, sweepSlaBreaches } from '../../src/sla/sla-sweeper.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import { createLead } from '../admin/fixtures.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';
import { waitFor } from '../helpers/wait.js';

const minutesFrom = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);

describeEachDatabase('SLA sweep', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  const breachEvents = (id: string) =>
    db.storage.query<{ payload: Record<string, unknown>; dedupe_key: string }>(
      `select payload, dedupe_key from lead_events where conversation_id = $1 and event_type = 'lead.sla_breached'`,
      [id],
    );

  it('breaches a lead only once its deadline passes, on the controllable clock', async () => {
    const start = new Date();
    const { id } = await createLead(db.storage, { customerName: 'Slow Sally' }, 5);

    const early = await sweepSlaBreaches(db.storage, { now: minutesFrom(start, 4) });
    expect(early.ids).not.toContain(id);
    expect(await breachEvents(id)).toEqual([]);

    const late = await sweepSlaBreaches(db.storage, { now: minutesFrom(start, 6) });
    expect(late.ids).toContain(id);
    const [lead] = await db.storage.query('select sla_breached, status from conversations where id = $1', [
      id,
    ]);
    expect(lead).toEqual({ sla_breached: true, status: 'new' });
    const events = await breachEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]!.dedupe_key).toBe(`sla:${id}`);
    expect(events[0]!.payload).toMatchObject({
      conversationId: id,
      customerName: 'Slow Sally',
      intent: 'buy',
      source: 'chatbot',
      slaDueAt: expect.any(String),
      createdAt: expect.any(String),
    });
    const timeline = await db.storage.query(
      `select title from conversation_timeline where conversation_id = $1 and entry_type = 'sla_breached'`,
      [id],
    );
    expect(timeline).toEqual([{ title: 'SLA breached' }]);

    // A re-run alerts nobody again.
    const rerun = await sweepSlaBreaches(db.storage, { now: minutesFrom(start, 60) });
    expect(rerun.ids).not.toContain(id);
    expect(await breachEvents(id)).toHaveLength(1);
  });

  it('does not breach leads that were contacted in time', async () => {
    const start = new Date();
    const { id } = await createLead(db.storage, {}, 5);
    await db.storage.call('admin_update_lead', { p_id: id, p_expected_version: 1, p_status: 'contacted' });
    const result = await sweepSlaBreaches(db.storage, { now: minutesFrom(start, 30) });
    expect(result.ids).not.toContain(id);
    const [lead] = await db.storage.query<{ first_response_at: unknown }>(
      'select first_response_at from conversations where id = $1',
      [id],
    );
    expect(lead!.first_response_at).not.toBeNull();
  });

  it('works through more overdue leads than one batch', async () => {
    const start = new Date();
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await createLead(db.storage, {}, 1)).id);
    const result = await sweepSlaBreaches(db.storage, { now: minutesFrom(start, 2), batchSize: 3 });
    for (const id of ids) expect(result.ids).toContain(id);
  });

  it('with two sweepers at once, breaches each lead once and emits one alert per lead', async () => {
    const start = new Date();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await createLead(db.storage, {}, 5)).id);
    const now = minutesFrom(start, 10);

    // Postgres: two separate pools, so the sweeps really overlap in two sessions.
    // PGlite runs one query at a time; the sweeps still interleave batch by batch.
    const second =
      kind === 'postgres' && db.url
        ? openPostgresStorage({
            connectionString: db.url,
            poolMax: 2,
            connectTimeoutMs: 3000,
            queryTimeoutMs: 15_000,
          })
        : db.storage;
    try {
      const results = await Promise.all([
        sweepSlaBreaches(db.storage, { now, batchSize: 5 }),
        sweepSlaBreaches(second, { now, batchSize: 5 }),
        sweepSlaBreaches(db.storage, { now, batchSize: 5 }),
      ]);
      const breached = results.flatMap((result) => result.ids).filter((id) => ids.includes(id));
      expect(breached.sort()).toEqual([...ids].sort());
    } finally {
      if (second !== db.storage) await second.close();
    }
    const counts = await db.storage.query<{ n: number | string }>(
      `select count(*) as n from lead_events where event_type = 'lead.sla_breached' and conversation_id = any($1::uuid[])`,
      [ids],
    );
    expect(Number(counts[0]!.n)).toBe(ids.length);
    const timeline = await db.storage.query<{ n: number | string }>(
      `select count(*) as n from conversation_timeline where entry_type = 'sla_breached' and conversation_id = any($1::uuid[])`,
      [ids],
    );
    expect(Number(timeline[0]!.n)).toBe(ids.length);
  });

  it('startSlaSweeper sweeps on its interval and stops cleanly', async () => {
    const logs = captureLogs('debug');
    let clock = new Date();
    const { id } = await createLead(db.storage, {}, 5);
    const stop = startSlaSweeper({
      storage: db.storage,
      logger: logs.logger,
      intervalMs: 20,
      now: () => clock,
    });
    try {
      await waitFor(() => logs.text().includes('SLA sweep: nothing overdue'), { message: 'a first sweep' });
      clock = minutesFrom(new Date(), 6);
      await waitFor(async () => (await breachEvents(id)).length === 1, { message: 'the breach' });
    } finally {
      await stop();
    }
    expect(logs.text()).toContain('SLA breached for');
    expect(logs.text()).toContain('SLA sweeper stopped');
  });

  describe('when the database fails', () => {
    it('logs the failure and keeps sweeping', async () => {
      const logs = captureLogs('info');
      let calls = 0;
      const flaky = {
        ...db.storage,
        async call<T>(fn: string, args?: Record<string, unknown>): Promise<T> {
          calls++;
          if (calls === 1) throw new Error('connection reset');
          return db.storage.call<T>(fn, args);
        },
      };
      const stop = startSlaSweeper({ storage: flaky, logger: logs.logger, intervalMs: 10 });
      try {
        await waitFor(() => calls >= 3, { message: 'sweeps after a failure' });
      } finally {
        await stop();
      }
      expect(logs.text()).toContain('SLA sweep failed; retrying at the next interval');
    });
  });
});
