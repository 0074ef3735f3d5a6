import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Overview } from '../../src/admin/overview.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { auth, createLead, generousLimits } from './fixtures.js';

/**
 * admin_overview: the numbers behind the dashboard's pictures. Leads are placed at
 * chosen times relative to a fixed p_now so every count is known in advance.
 */
const NOW = '2026-11-20T15:00:00.000Z';

describeEachDatabase('dashboard overview', (kind) => {
  let db: TestDatabase;
  let t: TestApp;

  /** A lead created `hoursAgo` before NOW, answered after `answeredAfterMin` minutes (SLA 5 min). */
  async function lead(
    hoursAgo: number,
    fields: { source?: string; intent?: string },
    answeredAfterMin?: number,
  ): Promise<void> {
    const { id } = await createLead(db.storage, fields);
    await db.storage.query(
      `with t as (select $2::timestamptz - $3::float8 * interval '1 hour' as created)
       update conversations
          set created_at = t.created,
              sla_due_at = t.created + interval '5 minutes',
              first_response_at = t.created + $4::int * interval '1 minute',
              status = case when $4::int is null then 'new' else 'contacted' end
         from t
        where id = $1`,
      [id, NOW, hoursAgo, answeredAfterMin ?? null],
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
    await lead(1, { source: 'chatbot', intent: 'buy' }, 2); // today, answered within SLA
    await lead(2, { source: 'chatbot', intent: 'buy' }, 30); // today, answered late
    await lead(3, { source: 'contact_form', intent: 'rent' }); // today, unanswered past its SLA
    await lead(0.01, { source: 'chatbot', intent: '' }); // today, still inside its SLA
    await lead(26, { source: 'contact_form', intent: 'sell' }, 1); // yesterday
    await lead(24 * 13 + 10, { source: 'chatbot', intent: 'buy' }, 3); // 13 days ago: first day shown
    await lead(24 * 15, { source: 'old', intent: 'old' }, 1); // outside the 14 days
    for (let i = 0; i < 10; i++) await lead(5, { source: `src${i}`, intent: 'buy' }, 1);
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const overview = (days?: number) =>
    db.storage.call<Overview>('admin_overview', { p_now: NOW, ...(days ? { p_days: days } : {}) });

  it('counts leads per UTC day for the last 14 days, today included, zero-filled', async () => {
    const result = await overview();
    expect(result.days).toBe(14);
    expect(result.leadsPerDay).toHaveLength(14);
    expect(result.leadsPerDay[0]).toEqual({ day: '2026-11-07', count: 1 });
    expect(result.leadsPerDay[13]).toEqual({ day: '2026-11-20', count: 14 });
    expect(result.leadsPerDay[12]).toEqual({ day: '2026-11-19', count: 1 });
    expect(result.leadsPerDay.slice(1, 12).every((d) => d.count === 0)).toBe(true);
    expect(result.total).toBe(16);
  });

  it('names the 8 biggest sources and intents and sums the rest', async () => {
    const result = await overview();
    expect(result.bySource.slice(0, 2)).toEqual([
      { key: 'chatbot', count: 4 },
      { key: 'contact_form', count: 2 },
    ]);
    expect(result.bySource).toHaveLength(8);
    expect(result.sourceOtherCount).toBe(4);
    expect(result.byIntent).toEqual([
      { key: 'buy', count: 13 },
      { key: '(none)', count: 1 },
      { key: 'rent', count: 1 },
      { key: 'sell', count: 1 },
    ]);
    expect(result.intentOtherCount).toBe(0);
  });

  it('reports SLA compliance over decided leads only, and the median time to first response', async () => {
    const { sla } = await overview();
    // 14 answered (12 in time, 1 late) + 1 unanswered past due = 15 decided; 1 pending.
    expect(sla).toMatchObject({ decided: 15, withinSla: 13, breached: 2, pending: 1 });
    expect(sla.compliance).toBeCloseTo(13 / 15, 4);
    expect(sla.medianFirstResponseSeconds).toBe(60);
  });

  it('reports sent and failed attempts of the last 24 hours and p95 send time per channel', async () => {
    const { eventId } = await createLead(db.storage);
    const values: string[] = [];
    for (let i = 1; i <= 20; i++) values.push(`('slack', 'sent', ${i * 10}, interval '1 hour')`);
    values.push(`('slack', 'failed', 5000, interval '2 hours')`);
    values.push(`('email', 'sent', 300, interval '25 hours')`); // older than 24 h
    values.push(`('email', 'failed', null, interval '3 hours')`);
    await db.storage.query(
      `insert into notification_logs (event_id, channel, status, attempt, duration_ms, created_at)
       select $1, v.channel, v.status, 1, v.ms, $2::timestamptz - v.age
         from (values ${values.join(', ')}) as v(channel, status, ms, age)`,
      [eventId, NOW],
    );
    const { channels } = await overview();
    expect(channels.map(({ lastFailedAt: _, ...rest }) => rest)).toEqual([
      { channel: 'email', sent: 0, failed: 1, skipped: 0, p95Ms: null },
      { channel: 'slack', sent: 20, failed: 1, skipped: 0, p95Ms: 200 },
    ]);
  });

  it('bounds the window and serves it at GET /api/admin/overview', async () => {
    expect((await overview(500)).leadsPerDay).toHaveLength(90);
    const response = await t.app.inject({ method: 'GET', url: '/api/admin/overview?days=7', headers: auth });
    expect(response.statusCode).toBe(200);
    expect(response.json().leadsPerDay).toHaveLength(7);
    const bad = await t.app.inject({ method: 'GET', url: '/api/admin/overview?days=0', headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('days');
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/admin/overview' });
    expect(anonymous.statusCode).toBe(401);
  });
});
