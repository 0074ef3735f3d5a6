import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { captureLead } from '../../src/leads/capture-lead.js';
import { formatSlack } from '../../src/notifications/format.js';
import { buildLeadAlert } from '../../src/notifications/lead-alert.js';
import { type SlaAutomation, sweepSlaBreaches } from '../../src/sla/sla-sweeper.js';
import { parseBusinessHours } from '../../src/team/business-hours.js';
import { generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from './fixtures.js';

const automation: SlaAutomation = {
  reassignOnBreach: true,
  assignment: 'round_robin',
  slaMinutes: 10,
  timeZone: 'UTC',
};
const minutesAfter = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);

describeEachDatabase('SLA automation: reassign on breach', (kind) => {
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
  beforeEach(async () => {
    await db.storage.query('update team_members set active = false');
  });

  const breachEvents = (id: string) =>
    db.storage.query<{ dedupe_key: string; payload: Record<string, unknown> }>(
      `select dedupe_key, payload from lead_events where conversation_id = $1 and event_type = 'lead.sla_breached' order by id`,
      [id],
    );
  const owner = async (id: string) =>
    (
      await db.storage.query<{ assignee_id: string }>('select assignee_id from conversations where id = $1', [
        id,
      ])
    )[0]!.assignee_id;

  it('moves a breached lead once, escalates naming both, and a second breach escalates without moving it', async () => {
    const ann = await addMember(t.app, { name: 'Ann', slackUserId: 'U0ANN' });
    const start = new Date();
    const { id } = await captureLead(
      db.storage,
      { customerName: 'Overdue Olga', customerEmail: 'olga@example.com', source: 'chatbot', metadata: {} },
      { slaMinutes: 10, assignment: 'round_robin' },
    );
    expect(await owner(id)).toBe(ann.id);
    const bob = await addMember(t.app, { name: 'Bob', slackUserId: 'U0BOB' });

    const first = await sweepSlaBreaches(db.storage, { now: minutesAfter(start, 11), automation });
    expect(first.ids).toContain(id);
    expect(first.reassigned).toBeGreaterThanOrEqual(1);
    expect(await owner(id)).toBe(bob.id);
    const [breach] = await breachEvents(id);
    expect(breach!.dedupe_key).toBe(`sla:${id}`);
    expect(breach!.payload).toMatchObject({
      breach: 1,
      reassigned: true,
      previousAssignee: { id: ann.id, name: 'Ann' },
      assignee: { id: bob.id, name: 'Bob' },
    });
    const alert = buildLeadAlert(
      { id: 1, eventType: 'lead.sla_breached', conversationId: id, payload: breach!.payload },
      'https://crm.example.com/admin',
    );
    const slack = JSON.stringify(formatSlack(alert));
    expect(slack).toContain('Was with');
    expect(slack).toContain('Now with');
    expect(slack).toContain('<@U0BOB>');

    // Sweeping again before Bob's own deadline changes nothing.
    const again = await sweepSlaBreaches(db.storage, { now: minutesAfter(start, 15), automation });
    expect(again.ids).not.toContain(id);
    expect(await breachEvents(id)).toHaveLength(1);

    // Bob misses his deadline too (10 minutes from the first sweep): escalated again, not moved.
    const ann2 = await addMember(t.app, { name: 'Cy' });
    const second = await sweepSlaBreaches(db.storage, { now: minutesAfter(start, 22), automation });
    expect(second.ids).toContain(id);
    expect(await owner(id)).toBe(bob.id);
    const events = await breachEvents(id);
    expect(events.map((event) => event.dedupe_key)).toEqual([`sla:${id}`, `sla2:${id}`]);
    expect(events[1]!.payload).toMatchObject({ breach: 2, reassigned: false, assignee: { name: 'Bob' } });
    expect(ann2.id).toBeDefined();

    // Never a third time.
    await sweepSlaBreaches(db.storage, { now: minutesAfter(start, 600), automation });
    expect(await breachEvents(id)).toHaveLength(2);
    const timeline = await db.storage.query<{ title: string }>(
      `select title from conversation_timeline where conversation_id = $1 and entry_type in ('assigned', 'sla_breached') order by id`,
      [id],
    );
    expect(timeline.map((row) => row.title)).toEqual([
      'Assigned to Ann (round robin)',
      'SLA breached',
      'Assigned to Bob (SLA breach reassignment)',
      'SLA breached again',
    ]);
  });

  it('with SLA_REASSIGN_ON_BREACH=false it escalates once and leaves the owner', async () => {
    const solo = await addMember(t.app, { name: 'Solo' });
    const start = new Date();
    const { id } = await captureLead(
      db.storage,
      { customerName: 'Stay Put', customerEmail: 'stay@example.com', source: 'chatbot', metadata: {} },
      { slaMinutes: 10, assignment: 'round_robin' },
    );
    await addMember(t.app, { name: 'Other' });
    const off = { ...automation, reassignOnBreach: false };
    await sweepSlaBreaches(db.storage, { now: minutesAfter(start, 11), automation: off });
    expect(await owner(id)).toBe(solo.id);
    await sweepSlaBreaches(db.storage, { now: minutesAfter(start, 600), automation: off });
    const events = await breachEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ breach: 1, reassigned: false, assignee: { name: 'Solo' } });
  });

  it("gives the new owner a business-hours deadline from the sweep's clock", async () => {
    await addMember(t.app, { name: 'Early' });
    const { id } = await captureLead(
      db.storage,
      { customerName: 'Friday Fred', customerEmail: 'fred@example.com', source: 'chatbot', metadata: {} },
      { slaMinutes: 10, assignment: 'round_robin' },
    );
    await addMember(t.app, { name: 'Late' });
    // Swept on Friday 27 March 2026 at 17:55 Berlin: the new owner's 10 minutes end Monday 09:05.
    const friday = new Date('2026-03-27T16:55:00Z');
    await db.storage.query('update conversations set sla_due_at = $2 where id = $1', [
      id,
      minutesAfter(friday, -1),
    ]);
    await sweepSlaBreaches(db.storage, {
      now: friday,
      automation: {
        ...automation,
        businessHours: parseBusinessHours('mon-fri 09:00-18:00'),
        timeZone: 'Europe/Berlin',
      },
    });
    const [row] = await db.storage.query<{ sla_escalation_due_at: Date }>(
      'select sla_escalation_due_at from conversations where id = $1',
      [id],
    );
    expect(new Date(row!.sla_escalation_due_at).toISOString()).toBe('2026-03-30T07:05:00.000Z');
  });
});
