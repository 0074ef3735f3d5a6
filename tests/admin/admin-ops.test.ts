import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { auth, createLead, generousLimits, killEvent, makeOverdue } from './fixtures.js';

describeEachDatabase('admin operations API and ops SQL', (kind) => {
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

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: auth });

  describe('notifications and replay', () => {
    it('lists failed notification attempts, newest first, with their event', async () => {
      const { id, eventId } = await createLead(db.storage);
      await killEvent(db.storage, eventId, ['slack', 'telegram']);
      await db.storage.query(
        `insert into notification_logs (event_id, channel, status, attempt) values ($1, 'email', 'sent', 1)`,
        [eventId],
      );
      const response = await get('/api/admin/notifications?status=failed');
      expect(response.statusCode).toBe(200);
      const { items } = response.json();
      expect(items.length).toBeGreaterThanOrEqual(2);
      expect(items.every((item: { status: string }) => item.status === 'failed')).toBe(true);
      expect(items[0]).toMatchObject({
        eventId,
        conversationId: id,
        eventType: 'lead.created',
        channel: 'telegram',
        eventOutcome: 'dead',
      });
      const slackOnly = (await get('/api/admin/notifications?status=failed&channel=slack')).json().items;
      expect(slackOnly.every((item: { channel: string }) => item.channel === 'slack')).toBe(true);
      expect((await get('/api/admin/notifications?status=bogus')).statusCode).toBe(400);
    });

    it('replays a dead event: pending again, timeline entry, and refuses non-dead or unknown events', async () => {
      const { id, eventId } = await createLead(db.storage);
      const notDead = await t.app.inject({
        method: 'POST',
        url: `/api/admin/events/${eventId}/replay`,
        headers: auth,
      });
      expect(notDead.statusCode).toBe(409);

      await killEvent(db.storage, eventId);
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/admin/events/${eventId}/replay`,
        headers: auth,
      });
      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({ eventId, replayed: true });
      const [event] = await db.storage.query(
        'select processed, outcome, attempts, locked_by from lead_events where id = $1',
        [eventId],
      );
      expect(event).toEqual({ processed: false, outcome: null, attempts: 0, locked_by: null });
      const timeline = await db.storage.query(
        `select actor from conversation_timeline where conversation_id = $1 and entry_type = 'event_replayed'`,
        [id],
      );
      // The actor is the signed-in principal (the owner key here).
      expect(timeline).toEqual([{ actor: 'owner' }]);

      const unknown = await t.app.inject({
        method: 'POST',
        url: '/api/admin/events/987654321/replay',
        headers: auth,
      });
      expect(unknown.statusCode).toBe(404);
    });
  });

  describe('GET /api/admin/leads/export.csv', () => {
    it('streams the filtered leads as CSV with formula injection neutralised', async () => {
      await createLead(db.storage, {
        customerName: '=HYPERLINK("http://evil.test","click")',
        customerEmail: 'evil@csv.test',
        intent: 'csvtest',
        message: '@SUM(1+1), "quoted"\nsecond line',
      });
      await createLead(db.storage, {
        customerName: '-2+3',
        intent: 'csvtest',
        customerEmail: 'minus@csv.test',
      });
      await createLead(db.storage, {
        customerName: 'Plain Paula',
        intent: 'csvtest',
        customerEmail: 'plain@csv.test',
      });
      const response = await get('/api/admin/leads/export.csv?intent=csvtest');
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(response.headers['content-disposition']).toMatch(
        /^attachment; filename="leads-\d{4}-\d{2}-\d{2}\.csv"$/,
      );
      const lines = response.body.split('\r\n');
      expect(lines[0]).toBe(
        'id,created_at,status,customer_name,customer_email,customer_phone,intent,source,message,assigned_to,sla_due_at,sla_breached,first_response_at',
      );
      expect(response.body).toContain(`"'=HYPERLINK(""http://evil.test"",""click"")"`);
      expect(response.body).toContain(`"'@SUM(1+1), ""quoted""\nsecond line"`);
      expect(response.body).toContain(",'-2+3,");
      expect(response.body).toContain(',Plain Paula,');
      // E.164 phones start with "+": neutralised too.
      expect(response.body).toMatch(/,'\+9715\d+,/);
      // No cell anywhere starts with a formula character.
      expect(response.body).not.toMatch(/(^|,)[=+\-@]/m);
    });

    it('pages through more leads than one page without repeats', async () => {
      for (let i = 0; i < 30; i++) await createLead(db.storage, { intent: 'bulk-export' });
      const { iterateLeads } = await import('../../src/admin/admin-store.js');
      const ids: string[] = [];
      for await (const page of iterateLeads(db.storage, { intent: 'bulk-export' }, 7)) {
        expect(page.length).toBeLessThanOrEqual(7);
        ids.push(...page.map((lead) => lead.id));
      }
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      const csv = await get('/api/admin/leads/export.csv?intent=bulk-export');
      expect(csv.body.trim().split('\r\n')).toHaveLength(31);
    });
  });

  describe('GET /api/admin/stats', () => {
    it('counts leads, queue, failures, breaches and the median first response', async () => {
      const before = (await get('/api/admin/stats')).json();
      const overdue = await createLead(db.storage);
      await makeOverdue(db.storage, overdue.id);
      await db.storage.call('sweep_sla_breaches', {});
      const contacted = await createLead(db.storage);
      await db.storage.query(
        `update conversations set created_at = now() - interval '90 seconds' where id = $1`,
        [contacted.id],
      );
      await db.storage.call('admin_update_lead', {
        p_id: contacted.id,
        p_expected_version: 1,
        p_status: 'contacted',
      });

      const response = await get('/api/admin/stats');
      expect(response.statusCode).toBe(200);
      const stats = response.json();
      expect(stats.leadsToday).toBeGreaterThanOrEqual(before.leadsToday + 1);
      expect(stats.leadsThisWeek).toBeGreaterThanOrEqual(stats.leadsToday);
      expect(stats.openSlaBreaches).toBe(before.openSlaBreaches + 1);
      expect(stats.medianFirstResponseSeconds).toEqual(expect.any(Number));

      const [unprocessed] = await db.storage.query<{ count: number | string }>(
        'SELECT COUNT(*) FROM lead_events WHERE processed = FALSE;',
      );
      expect(stats.unprocessedEvents).toBe(Number(unprocessed!.count));
      const [dead] = await db.storage.query<{ n: number | string }>(
        `select count(*) as n from lead_events where outcome = 'dead'`,
      );
      expect(stats.deadEvents).toBe(Number(dead!.n));
      const [failed] = await db.storage.query<{ n: number | string }>(
        `select count(*) as n from notification_logs where status = 'failed'`,
      );
      expect(stats.failedNotifications24h).toBe(Number(failed!.n));
    });
  });

  describe("seed 003's monitor queries and the ops views", () => {
    it('run verbatim and agree with each other', async () => {
      const [unprocessed] = await db.storage.query<{ count: number | string }>(
        'SELECT COUNT(*) FROM lead_events WHERE processed = FALSE;',
      );
      const failed = await db.storage.query(
        "SELECT * FROM notification_logs WHERE status = 'failed' ORDER BY created_at DESC LIMIT 10;",
      );
      const breached = await db.storage.query<{ sla_breached: boolean; first_response_at: unknown }>(
        'SELECT * FROM conversations WHERE sla_breached = TRUE ORDER BY created_at DESC;',
      );
      expect(failed.length).toBeGreaterThan(0);
      expect(breached.length).toBeGreaterThan(0);
      expect(breached.every((row) => row.sla_breached)).toBe(true);

      const [queue] = await db.storage.query<Record<string, unknown>>('select * from ops_queue_health');
      expect(Number(queue!.depth)).toBe(Number(unprocessed!.count));
      expect(queue).toEqual(
        expect.objectContaining({
          oldest_unprocessed_age: expect.anything(),
          due_retries: expect.anything(),
          dead_events: expect.anything(),
        }),
      );
      expect(queue).toHaveProperty('stale_workers');

      const channels = await db.storage.query<Record<string, unknown>>(
        'select * from ops_channel_health order by channel',
      );
      const slack = channels.find((row) => row.channel === 'slack');
      expect(Number(slack!.failed_24h)).toBeGreaterThan(0);
      expect(Number(slack!.p95_duration_ms)).toBeGreaterThan(0);

      const [sla] = await db.storage.query<Record<string, unknown>>('select * from ops_sla');
      const openBreaches = breached.filter((row) => row.first_response_at === null);
      expect(Number(sla!.open_breaches)).toBe(openBreaches.length);
      expect(sla!.median_time_to_first_response).not.toBeNull();
    });

    it('counts a worker with a stale heartbeat', async () => {
      await db.storage.query(
        `insert into worker_heartbeats (id, host, pid, last_beat_at) values ('stale-1', 'h', 1, now() - interval '10 minutes')`,
      );
      const [queue] = await db.storage.query<{ stale_workers: number }>(
        'select stale_workers from ops_queue_health',
      );
      expect(queue!.stale_workers).toBeGreaterThanOrEqual(1);
    });
  });
});
