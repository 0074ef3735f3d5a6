import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, createLead, generousLimits, killEvent } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';

describeEachDatabase('merging leads', (kind) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const merge = (id: string, payload: object) =>
    t.app.inject({ method: 'POST', url: `/api/admin/leads/${id}/merge`, headers: auth, payload });
  const detail = async (id: string) =>
    (await t.app.inject({ method: 'GET', url: `/api/admin/leads/${id}`, headers: auth })).json();

  const snapshot = (id: string) =>
    db.storage.query(
      `select (select count(*)::int from lead_inquiries where conversation_id = $1) as inquiries,
              (select count(*)::int from conversation_timeline where conversation_id = $1) as timeline,
              (select count(*)::int from follow_up_tasks where conversation_id = $1) as tasks,
              (select merged_into from conversations where id = $1) as merged_into,
              (select version from conversations where id = $1) as version`,
      [id],
    );

  it('the dry run says what would move and moves nothing; the merge moves everything and leaves a tombstone', async () => {
    const keep = await createLead(db.storage, {
      customerName: 'Keeper',
      customerEmail: 'keep@example.com',
      customerPhone: undefined,
    });
    const other = await createLead(db.storage, {
      customerName: 'Other Self',
      customerPhone: '+971509990000',
      message: 'Second channel',
    });
    await t.app.inject({
      method: 'POST',
      url: `/api/admin/leads/${other.id}/notes`,
      headers: auth,
      payload: { note: 'called once' },
    });
    await killEvent(db.storage, other.eventId, ['slack', 'email']);
    const before = { keep: await snapshot(keep.id), other: await snapshot(other.id) };

    const dry = await merge(keep.id, { from: other.id, dryRun: true });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toEqual({
      dryRun: true,
      id: keep.id,
      from: other.id,
      moves: { inquiries: 1, timeline: 2, tasks: 1, events: 1, notifications: 2 },
    });
    expect({ keep: await snapshot(keep.id), other: await snapshot(other.id) }).toEqual(before);

    const done = await merge(keep.id, { from: other.id, dryRun: false });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ dryRun: false, moves: dry.json().moves });
    const [tombstone] = await snapshot(other.id);
    expect(tombstone).toMatchObject({ inquiries: 0, tasks: 0, merged_into: keep.id });

    const survivor = await detail(keep.id);
    expect(survivor.inquiries).toEqual([
      expect.objectContaining({ customerName: 'Other Self', message: 'Second channel' }),
    ]);
    expect(survivor.followUps).toHaveLength(2);
    expect(survivor.timeline.map((entry: { type: string }) => entry.type)).toEqual(
      expect.arrayContaining(['lead_created', 'note', 'merged']),
    );
    expect(survivor.events.some((event: { id: number }) => event.id === other.eventId)).toBe(true);
    expect(
      survivor.notifications.filter((n: { eventId: number }) => n.eventId === other.eventId),
    ).toHaveLength(2);
    // The survivor learns the phone it lacked; the tombstone points at it and leaves the list.
    expect(survivor.lead.customerPhone).toBe('+971509990000');
    expect((await detail(other.id)).lead.mergedInto).toBe(keep.id);
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/admin/leads?limit=200', headers: auth })
    ).json();
    expect(list.items.map((item: { id: string }) => item.id)).not.toContain(other.id);

    // A tombstone cannot be merged again, a lead not into itself, an unknown one is 404.
    expect((await merge(keep.id, { from: other.id, dryRun: false })).statusCode).toBe(409);
    expect((await merge(keep.id, { from: keep.id })).statusCode).toBe(422);
    expect((await merge(keep.id, { from: crypto.randomUUID() })).statusCode).toBe(404);
    const [audit] = await db.storage.query(
      `select action, status, resource_id from audit_logs where action = 'lead.merge' order by id limit 2`,
    );
    expect(audit).toEqual({ action: 'lead.merge', status: 'success', resource_id: keep.id });
  });
});
