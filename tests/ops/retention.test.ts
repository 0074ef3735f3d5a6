import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { captureLead } from '../outbox/harness.js';

/**
 * Retention (issue 10): purge_processed_events removes delivered events and their
 * logs, but keeps dead ones (the only trace of an alert nobody got) until they are
 * replayed or purged explicitly with p_include_dead (`leadrelay cleanup --include-dead`).
 */
describeEachDatabase('retention keeps dead events', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  /** A processed event 40 days old, with one notification_logs row. */
  async function oldEvent(outcome: 'delivered' | 'dead'): Promise<number> {
    const { eventId } = await captureLead(db.storage, { customerName: `Old ${outcome}` });
    await db.storage.query(
      `update lead_events set processed = true, outcome = $2, processed_at = now() - interval '40 days'
        where id = $1`,
      [eventId, outcome],
    );
    await db.storage.query(
      `insert into notification_logs (event_id, channel, status, attempt, error)
       values ($1, 'slack', $2, 1, $3)`,
      [
        eventId,
        outcome === 'dead' ? 'failed' : 'sent',
        outcome === 'dead' ? 'Slack answered HTTP 404' : null,
      ],
    );
    return eventId;
  }
  const exists = async (id: number) =>
    (await db.storage.query('select 1 from lead_events where id = $1', [id])).length === 1;
  const logsOf = async (id: number) =>
    (await db.storage.query('select 1 from notification_logs where event_id = $1', [id])).length;

  it('purges delivered events, keeps dead ones with their logs, and purges those only when asked', async () => {
    const delivered = await oldEvent('delivered');
    const dead = await oldEvent('dead');
    const cutoff = new Date(Date.now() - 30 * 86_400_000).toISOString();

    const dry = await db.storage.call<{ events: number }>('ops_count_purgeable_events', {
      p_older_than: cutoff,
    });
    const purged = await db.storage.call<{ deleted_events: number }>('purge_processed_events', {
      p_older_than: cutoff,
    });
    expect(purged.deleted_events).toBe(dry.events);
    expect(await exists(delivered)).toBe(false);
    expect(await exists(dead)).toBe(true);
    expect(await logsOf(dead)).toBe(1);

    const withDead = await db.storage.call<{ events: number }>('ops_count_purgeable_events', {
      p_older_than: cutoff,
      p_include_dead: true,
    });
    expect(withDead.events).toBe(1);
    const explicit = await db.storage.call<{ deleted_events: number }>('purge_processed_events', {
      p_older_than: cutoff,
      p_include_dead: true,
    });
    expect(explicit.deleted_events).toBe(1);
    expect(await exists(dead)).toBe(false);
    expect(await logsOf(dead)).toBe(0);
  });
});
