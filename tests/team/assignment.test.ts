import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureLead } from '../../src/leads/capture-lead.js';
import type { NormalizedLead } from '../../src/leads/lead-input.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { assignWaitingLeads } from '../../src/team/team-store.js';
import { auth, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { type Channels, startChannels, startWorker } from '../outbox/harness.js';
import { addMember } from './fixtures.js';

let leadCounter = 0;
const lead = (): NormalizedLead => {
  leadCounter += 1;
  return {
    customerName: `Assign ${leadCounter}`,
    customerEmail: `assign${leadCounter}@example.com`,
    source: 'chatbot',
    metadata: {},
  };
};

describeEachDatabase('lead assignment', (kind) => {
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
  // Each test brings its own team and queue: everyone else is away, nothing waits.
  beforeEach(async () => {
    await db.storage.query('update team_members set active = false');
    await db.storage.query('update conversations set assignment_waiting_since = null');
  });

  const openCounts = async (ids: string[]) => {
    const rows = await db.storage.query<{ assignee_id: string; n: number }>(
      `select assignee_id, count(*)::int as n from conversations
        where assignee_id = any($1::uuid[]) and status in ('new', 'contacted', 'qualified')
        group by assignee_id`,
      [ids],
    );
    return Object.fromEntries(ids.map((id) => [id, rows.find((row) => row.assignee_id === id)?.n ?? 0]));
  };

  describe('round robin across two API instances and two workers', () => {
    let channels: Channels;
    let second: { storage: Storage; app: TestApp };

    beforeAll(async () => {
      channels = await startChannels();
      // A second API instance: its own connection pool on Postgres; the same
      // in-process database on PGlite (which cannot be shared between processes).
      const storage = db.url
        ? openPostgresStorage({
            connectionString: db.url,
            poolMax: 10,
            connectTimeoutMs: 3000,
            queryTimeoutMs: 15_000,
          })
        : db.storage;
      second = { storage, app: await buildTestApp(storage, { env: generousLimits }) };
    });
    afterAll(async () => {
      await second?.app.app.close();
      if (second && second.storage !== db.storage) await second.storage.close();
      await channels?.close();
    });

    it('gives 100 leads over 4 agents 25 each, and every alert names its owner', async () => {
      const agents = [];
      for (let i = 0; i < 4; i++) {
        agents.push(
          await addMember(t.app, {
            name: `RR Agent ${i}`,
            email: `rr${i}@sales.test`,
            slackUserId: `U0RR${i}AGENT`,
          }),
        );
      }
      const apps = [t.app, second.app.app];
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          apps[i % 2]!.inject({
            method: 'POST',
            url: '/api/chatbot/leads',
            payload: { customerName: `Round ${i}`, customerEmail: `round${i}@example.com` },
          }),
        ),
      );
      expect(responses.every((response) => response.statusCode === 201)).toBe(true);
      const ids = agents.map((agent) => agent.id);
      expect(await openCounts(ids)).toEqual(Object.fromEntries(ids.map((id) => [id, 25])));

      const leadIds = responses.map((response) => response.json().id as string);
      const timeline = await db.storage.query<{ n: number }>(
        `select count(*)::int as n from conversation_timeline
          where conversation_id = any($1::uuid[]) and entry_type = 'assigned' and title like 'Assigned to RR Agent % (round robin)'`,
        [leadIds],
      );
      expect(timeline[0]!.n).toBe(100);
      const assignedEvents = await db.storage.query<{ n: number }>(
        `select count(*)::int as n from lead_events where conversation_id = any($1::uuid[]) and event_type = 'lead.assigned'`,
        [leadIds],
      );
      expect(assignedEvents[0]!.n).toBe(100);

      // Two workers drain: each Slack alert mentions its owner, each owner gets their emails.
      const workers = [
        await startWorker(db.storage, channels.env),
        await startWorker(second.storage, channels.env),
      ];
      try {
        await waitFor(
          async () => {
            const [row] = await db.storage.query<{ n: number }>(
              `select count(*)::int as n from lead_events
                where conversation_id = any($1::uuid[]) and event_type = 'lead.created' and outcome = 'delivered'`,
              [leadIds],
            );
            return row!.n === 100;
          },
          { timeoutMs: 90_000, message: 'all 100 alerts delivered' },
        );
      } finally {
        await Promise.all(workers.map((worker) => worker.stop()));
      }
      // Distinct leads per owner: under load a send that timed out may be retried and
      // arrive twice (at-least-once delivery), which is not what this test is about.
      const leadName = (text: string) => /Round \d+/.exec(text)?.[0];
      for (let i = 0; i < 4; i++) {
        const mentioned = new Set(
          channels.slack
            .delivered()
            .filter((post) => JSON.stringify(post.body).includes(`<@U0RR${i}AGENT>`))
            .map((post) => leadName(JSON.stringify(post.body))),
        );
        expect(mentioned.size).toBe(25);
        const mails = channels.smtp.messages.filter((mail) => mail.to.includes(`rr${i}@sales.test`));
        expect(new Set(mails.map((mail) => leadName(mail.subject))).size).toBe(25);
        expect(mails.every((mail) => mail.to.includes('sales@example.com'))).toBe(true);
        expect(mails[0]!.text).toContain(`Assigned to: RR Agent ${i}`);
      }
    }, 120_000);
  });

  it('least_open gives new leads to whoever has the fewest open ones', async () => {
    const [busy, some, idle] = [await addMember(t.app), await addMember(t.app), await addMember(t.app)];
    // Uneven loads to start with: 3, 1 and 0 open leads, assigned by hand.
    for (const [member, n] of [
      [busy, 3],
      [some, 1],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const { id } = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'none' });
        const patched = await t.app.inject({
          method: 'PATCH',
          url: `/api/admin/leads/${id}`,
          headers: auth,
          payload: { version: 1, assignedTo: member.id },
        });
        expect(patched.statusCode).toBe(200);
      }
    }
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'least_open' });
      picks.push(result.assigneeId as string);
    }
    expect(picks[0]).toBe(idle.id);
    expect(picks).not.toContain(busy.id);
    const counts = await openCounts([busy.id, some.id, idle.id]);
    expect(counts[busy.id]).toBe(3);
    expect(Math.max(...Object.values(counts)) - Math.min(...Object.values(counts))).toBeLessThanOrEqual(1);
    const [entry] = await db.storage.query<{ title: string }>(
      `select title from conversation_timeline t join conversations c on c.id = t.conversation_id
        where c.assignee_id = $1 and t.entry_type = 'assigned' order by t.id limit 1`,
      [idle.id],
    );
    expect(entry!.title).toBe(`Assigned to ${idle.name} (least open)`);
  });

  it('assigns only members inside their working hours, on a controllable clock', async () => {
    const berlin = await addMember(t.app, {
      name: 'Berlin Day',
      workingHours: { timezone: 'Europe/Berlin', days: { mon: ['09:00', '17:00'], wed: ['09:00', '17:00'] } },
    });
    const night = await addMember(t.app, {
      name: 'Night Owl',
      workingHours: { timezone: 'UTC', days: { wed: ['00:00', '08:00'] } },
    });
    const capture = (now: string) =>
      captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'round_robin', now: new Date(now) });

    // Wednesday 25 March 2026, 10:00 in Berlin (09:00 UTC): only Berlin is on shift.
    expect((await capture('2026-03-25T09:00:00Z')).assigneeId).toBe(berlin.id);
    expect((await capture('2026-03-25T09:30:00Z')).assigneeId).toBe(berlin.id);
    // Wednesday 03:00 UTC: only the night shift.
    expect((await capture('2026-03-25T03:00:00Z')).assigneeId).toBe(night.id);
    // Berlin at 17:00 local has left (windows end exclusive).
    const saturday = await capture('2026-03-28T12:00:00Z');
    expect(saturday.assigneeId).toBeNull();
    const [waiting] = await db.storage.query<{ assignment_waiting_since: Date | null }>(
      'select assignment_waiting_since from conversations where id = $1',
      [saturday.id],
    );
    expect(waiting!.assignment_waiting_since).not.toBeNull();
    // Nobody on shift on Sunday; Monday 09:00 Berlin (07:00 UTC, CEST since Sunday) the shift starts.
    expect(
      (await assignWaitingLeads(db.storage, 'round_robin', new Date('2026-03-29T12:00:00Z'))).assigned,
    ).toBe(0);
    expect(
      (await assignWaitingLeads(db.storage, 'round_robin', new Date('2026-03-30T06:59:00Z'))).assigned,
    ).toBe(0);
    const monday = await assignWaitingLeads(db.storage, 'round_robin', new Date('2026-03-30T07:00:00Z'));
    expect(monday.ids).toEqual([saturday.id]);
    const [row] = await db.storage.query<{ assignee_id: string }>(
      'select assignee_id from conversations where id = $1',
      [saturday.id],
    );
    expect(row!.assignee_id).toBe(berlin.id);
  });

  it('respects capacity, and a closed lead frees the slot for the longest-waiting lead at once', async () => {
    const capped = await addMember(t.app, { name: 'Capped', capacity: 2 });
    const first = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'round_robin' });
    const second = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'round_robin' });
    const third = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'round_robin' });
    const fourth = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'round_robin' });
    expect([first.assigneeId, second.assigneeId, third.assigneeId, fourth.assigneeId]).toEqual([
      capped.id,
      capped.id,
      null,
      null,
    ]);
    // Closing a lead through the API frees a slot: the longest-waiting lead (third) takes it.
    const won = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/leads/${first.id}`,
      headers: auth,
      payload: { version: 1, status: 'won' },
    });
    expect(won.statusCode).toBe(200);
    const rows = await db.storage.query<{ id: string; assignee_id: string | null }>(
      'select id, assignee_id from conversations where id = any($1::uuid[])',
      [[third.id, fourth.id]],
    );
    expect(Object.fromEntries(rows.map((row) => [row.id, row.assignee_id]))).toEqual({
      [third.id]: capped.id,
      [fourth.id]: null,
    });
    const [entry] = await db.storage.query<{ title: string; actor: string }>(
      `select title, actor from conversation_timeline where conversation_id = $1 and entry_type = 'assigned'`,
      [third.id],
    );
    expect(entry!.title).toMatch(/^Assigned to Capped \(waited since \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
  });

  it('drains the waiting queue longest-waiting first when a member comes back', async () => {
    const away = await addMember(t.app, { name: 'Back Soon', capacity: 2 });
    const holder = await addMember(t.app, { name: 'Holder', capacity: 0 });
    await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/team/${away.id}`,
      headers: auth,
      payload: { active: false },
    });
    const waiting = [];
    for (let i = 0; i < 3; i++) {
      waiting.push((await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'round_robin' })).id);
    }
    expect(holder.id).toBeDefined();
    const before = await db.storage.query<{ n: number }>(
      'select count(*)::int as n from conversations where id = any($1::uuid[]) and assignee_id is null',
      [waiting],
    );
    expect(before[0]!.n).toBe(3);
    const back = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/team/${away.id}`,
      headers: auth,
      payload: { active: true },
    });
    expect(back.statusCode).toBe(200);
    const rows = await db.storage.query<{ id: string; assignee_id: string | null }>(
      'select id, assignee_id from conversations where id = any($1::uuid[])',
      [waiting],
    );
    const owner = Object.fromEntries(rows.map((row) => [row.id, row.assignee_id]));
    expect([owner[waiting[0]!], owner[waiting[1]!], owner[waiting[2]!]]).toEqual([away.id, away.id, null]);
  });

  it('lists leads by assignee: a member id, me and unassigned', async () => {
    const me = await addMember(t.app, { name: 'Me Myself' });
    const mine = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'round_robin' });
    await db.storage.query('update team_members set active = false');
    const nobodys = await captureLead(db.storage, lead(), { slaMinutes: 5, assignment: 'none' });
    const list = async (query: string, headers: Record<string, string> = auth) =>
      (await t.app.inject({ method: 'GET', url: `/api/admin/leads?${query}`, headers })).json();
    const byMe = await list('assignedTo=me', me.auth);
    expect(byMe.items.map((item: { id: string }) => item.id)).toEqual([mine.id]);
    expect(byMe.items[0].assignee).toEqual({ id: me.id, name: 'Me Myself' });
    expect((await list(`assignedTo=${me.id}`)).items.map((item: { id: string }) => item.id)).toEqual([
      mine.id,
    ]);
    const unassigned = (await list('assignedTo=unassigned&limit=200')).items.map(
      (item: { id: string }) => item.id,
    );
    expect(unassigned).toContain(nobodys.id);
    expect(unassigned).not.toContain(mine.id);
    const owner = await t.app.inject({ method: 'GET', url: '/api/admin/leads?assignedTo=me', headers: auth });
    expect(owner.statusCode).toBe(400);
    const bad = await t.app.inject({ method: 'GET', url: '/api/admin/leads?assignedTo=bob', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].field).toBe('assignedTo');
  });
});
