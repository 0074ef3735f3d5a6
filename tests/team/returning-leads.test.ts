import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatEmail } from '../../src/notifications/format.js';
import { buildLeadAlert } from '../../src/notifications/lead-alert.js';
import { auth, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from './fixtures.js';

describeEachDatabase('returning leads', (kind) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    // Pool large enough that the 20 submissions really run at once on Postgres.
    db = await createTestDatabase(kind, { poolMax: 25 });
    // DUPLICATE_WINDOW_DAYS as deployed (the test helper turns it off by default).
    t = await buildTestApp(db.storage, { env: { ...generousLimits, DUPLICATE_WINDOW_DAYS: '30' } });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const post = (payload: Record<string, unknown>, key?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      payload,
      headers: key ? { 'idempotency-key': key } : {},
    });

  it('20 concurrent submissions with one email and different keys make one lead and nineteen inquiries', async () => {
    const owner = await addMember(t.app, { name: 'Rita', email: 'rita@sales.test' });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(
          { customerName: 'Twenty Times', customerEmail: 'Twenty@Example.com', message: `Message ${i}` },
          `twenty-${i}`,
        ),
      ),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(20).fill(201));
    const bodies = responses.map((response) => response.json());
    const ids = new Set(bodies.map((body) => body.id));
    expect(ids.size).toBe(1);
    expect(bodies.filter((body) => body.returning).length).toBe(19);
    expect(bodies.every((body) => body.duplicate === false)).toBe(true);
    const [id] = [...ids];

    const [counts] = await db.storage.query<{
      leads: number;
      inquiries: number;
      returned: number;
      created: number;
    }>(
      `select (select count(*)::int from conversations where customer_email = 'twenty@example.com') as leads,
              (select count(*)::int from lead_inquiries where conversation_id = $1) as inquiries,
              (select count(*)::int from lead_events where conversation_id = $1 and event_type = 'lead.returned') as returned,
              (select count(*)::int from lead_events where conversation_id = $1 and event_type = 'lead.created') as created`,
      [id],
    );
    expect(counts).toEqual({ leads: 1, inquiries: 19, returned: 19, created: 1 });

    const detail = (
      await t.app.inject({ method: 'GET', url: `/api/admin/leads/${id}`, headers: auth })
    ).json();
    expect(detail.inquiries).toHaveLength(19);
    const returnedTitles = detail.timeline.filter((entry: { type: string }) => entry.type === 'returned');
    expect(returnedTitles).toHaveLength(19);
    expect(returnedTitles[0].title).toMatch(/^Returned: Message \d+$/);

    // The returning alert goes to the lead's owner.
    const [event] = await db.storage.query<{ id: number; payload: Record<string, unknown> }>(
      `select id, payload from lead_events where conversation_id = $1 and event_type = 'lead.returned' limit 1`,
      [id],
    );
    expect(event!.payload).toMatchObject({ assignee: { id: owner.id, email: 'rita@sales.test' } });
    const alert = buildLeadAlert(
      { id: event!.id, eventType: 'lead.returned', conversationId: id!, payload: event!.payload },
      'https://crm.example.com/admin',
    );
    expect(formatEmail(alert).subject).toBe('Returning lead: wrote again: Twenty Times');
    expect(alert.assignee?.email).toBe('rita@sales.test');
  });

  it('replays a returning submission with its key, matches on phone, and keeps the inquiry fields', async () => {
    const first = await post({ customerName: 'Phone Pat', customerPhone: '+971501110000' });
    expect(first.statusCode).toBe(201);
    const again = await post(
      {
        customerName: 'Pat',
        customerPhone: '+971 50 111 0000',
        intent: 'rent',
        message: 'Still looking',
        pageUrl: 'https://example.com/rent',
        utmSource: 'newsletter',
      },
      'pat-2',
    );
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ id: first.json().id, returning: true, duplicate: false });
    const replay = await post(
      {
        customerName: 'Pat',
        customerPhone: '+971 50 111 0000',
        intent: 'rent',
        message: 'Still looking',
        pageUrl: 'https://example.com/rent',
        utmSource: 'newsletter',
      },
      'pat-2',
    );
    expect(replay.statusCode).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toMatchObject({ id: first.json().id, returning: true, duplicate: true });
    const inquiries = await db.storage.query(
      'select intent, message, metadata from lead_inquiries where conversation_id = $1',
      [first.json().id],
    );
    expect(inquiries).toEqual([
      {
        intent: 'rent',
        message: 'Still looking',
        metadata: { pageUrl: 'https://example.com/rent', utm: { utmSource: 'newsletter' } },
      },
    ]);
  });

  it('a closed lead or one outside the window does not catch the new submission', async () => {
    const won = (await post({ customerName: 'Won Wendy', customerEmail: 'wendy@example.com' })).json();
    await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/leads/${won.id}`,
      headers: auth,
      payload: { version: 1, status: 'won' },
    });
    const next = await post({ customerName: 'Won Wendy', customerEmail: 'wendy@example.com' });
    expect(next.json()).toMatchObject({ returning: false });
    expect(next.json().id).not.toBe(won.id);

    const old = (await post({ customerName: 'Old Oscar', customerEmail: 'oscar@example.com' })).json();
    await db.storage.query(`update conversations set created_at = now() - interval '31 days' where id = $1`, [
      old.id,
    ]);
    const fresh = await post({ customerName: 'Old Oscar', customerEmail: 'oscar@example.com' });
    expect(fresh.json().returning).toBe(false);
  });

  it('DUPLICATE_WINDOW_DAYS=0 turns detection off', async () => {
    const off = await buildTestApp(db.storage, { env: { ...generousLimits, DUPLICATE_WINDOW_DAYS: '0' } });
    try {
      const send = () =>
        off.app.inject({
          method: 'POST',
          url: '/api/chatbot/leads',
          payload: { customerName: 'Twice', customerEmail: 'twice-off@example.com' },
        });
      const [a, b] = [(await send()).json(), (await send()).json()];
      expect(a.id).not.toBe(b.id);
      expect(b.returning).toBe(false);
    } finally {
      await off.app.close();
    }
  });
});
