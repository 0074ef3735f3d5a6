import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { captureLead } from './harness.js';

/**
 * The claim's attempt cap (issue 10): an event whose holder dies on every attempt (it
 * never records) must end dead once WORKER_MAX_ATTEMPTS claims were made, not be
 * handed out for ever.
 */
describeEachDatabase('claim attempt cap', (kind) => {
  let db: TestDatabase;
  let store: ReturnType<typeof outboxStore>;
  const MAX = 3;

  /** What a SIGKILL leaves behind: the lease simply runs out. */
  const expireLeases = () =>
    db.storage.query(`update lead_events set locked_until = now() - interval '1 second' where not processed`);

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

  it('makes an event dead once its holders died WORKER_MAX_ATTEMPTS times, and fills the batch', async () => {
    const lead = await captureLead(db.storage, { customerName: 'Poison Pill' });
    for (let attempt = 1; attempt <= MAX; attempt++) {
      const claimed = await store.claim(`doomed-${attempt}`, 10, 60, MAX);
      expect(claimed.map((event) => [event.id, event.attempts])).toEqual([[lead.eventId, attempt]]);
      await expireLeases();
    }
    const behind = await captureLead(db.storage, { customerName: 'Next In Line' });

    const claimed = await store.claim('survivor', 1, 60, MAX);
    // The dead-lettered event left room in the batch of one: the next event fills it.
    expect(claimed.map((event) => event.id)).toEqual([behind.eventId]);

    const [row] = await db.storage.query<{ outcome: string; processed: boolean; last_error: string }>(
      'select outcome, processed, last_error, locked_by from lead_events where id = $1',
      [lead.eventId],
    );
    expect(row).toMatchObject({ outcome: 'dead', processed: true, locked_by: null });
    expect(row!.last_error).toContain(`worker doomed-${MAX} died`);
    expect(row!.last_error).toContain(`attempt ${MAX} of ${MAX}`);
    const timeline = await db.storage.query<{ entry_type: string; details: { eventId: number } }>(
      `select entry_type, details from conversation_timeline where conversation_id = $1 and entry_type = 'event_dead'`,
      [lead.id],
    );
    expect(timeline).toHaveLength(1);
    expect(Number(timeline[0]!.details.eventId)).toBe(lead.eventId);

    // Not claimable any more, by anyone.
    await expireLeases();
    const later = await store.claim('anyone', 10, 60, MAX);
    expect(later.map((event) => event.id)).not.toContain(lead.eventId);
  });

  it('hands out an event below the cap as before', async () => {
    const lead = await captureLead(db.storage);
    for (let attempt = 1; attempt < MAX; attempt++) {
      const [event] = await store.claim('w', 10, 60, MAX);
      expect(event).toMatchObject({ id: lead.eventId, attempts: attempt });
      await expireLeases();
    }
    const [last] = await store.claim('w', 10, 60, MAX);
    expect(last).toMatchObject({ id: lead.eventId, attempts: MAX });
  });
});
