import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HONEYPOT_FIELD } from '../../src/leads/lead-input.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';

const seedLead = {
  customerName: 'Test User',
  customerPhone: '+971501234567',
  customerEmail: 'test@example.com',
  intent: 'buy',
};

describeEachDatabase('POST /api/chatbot/leads', (kind) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, {
      env: { RATE_LIMIT_LEADS_PER_MINUTE: '100000', RATE_LIMIT_CONTACT_PER_MINUTE: '100000' },
    });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it("stores seed 003's curl example in all four tables, atomically linked", async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload: seedLead });
    expect(response.statusCode).toBe(201);
    const { id } = response.json();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const [conversation] = await db.storage.query('select * from conversations where id = $1', [id]);
    expect(conversation).toMatchObject({
      customer_name: 'Test User',
      customer_phone: '+971501234567',
      customer_email: 'test@example.com',
      intent: 'buy',
      source: 'chatbot',
      status: 'new',
      sla_breached: false,
    });
    const slaMinutes =
      (new Date(conversation!.sla_due_at as string).getTime() -
        new Date(conversation!.created_at as string).getTime()) /
      60_000;
    expect(slaMinutes).toBe(5);

    const events = await db.storage.query(
      'select event_type, processed, payload from lead_events where conversation_id = $1',
      [id],
    );
    expect(events).toEqual([
      expect.objectContaining({
        event_type: 'lead.created',
        processed: false,
        payload: expect.objectContaining({
          customerName: 'Test User',
          customerPhone: '+971501234567',
          intent: 'buy',
        }),
      }),
    ]);
    const timeline = await db.storage.query(
      'select title, entry_type from conversation_timeline where conversation_id = $1',
      [id],
    );
    expect(timeline).toEqual([{ title: 'Lead Created', entry_type: 'lead_created' }]);
    const tasks = await db.storage.query(
      'select status, task_type from follow_up_tasks where conversation_id = $1',
      [id],
    );
    expect(tasks).toEqual([{ status: 'open', task_type: 'first_contact' }]);

    expect(t.logs.text()).toContain(`Successfully created conversation ${id}`);
    expect(t.logs.text()).toContain('Event emitted: lead.created');
  });

  it('wakes workers and dashboards right after the capture commits', async () => {
    const workerWakeUps: string[] = [];
    const feed: string[] = [];
    const stopWorkerListen = await db.storage.listen('lead_events', (payload) => workerWakeUps.push(payload));
    const stopFeedListen = await db.storage.listen('leadrelay_admin', (payload) => feed.push(payload));
    try {
      const response = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload: seedLead });
      const { id } = response.json();
      const [event] = await db.storage.query<{ id: number }>(
        'select id from lead_events where conversation_id = $1',
        [id],
      );
      await waitFor(() => workerWakeUps.includes(String(event!.id)), { message: 'worker wake-up' });
      await waitFor(() => feed.some((payload) => payload.includes(id) && payload.includes('lead.created')), {
        message: 'admin feed message',
      });
    } finally {
      await stopWorkerListen?.();
      await stopFeedListen?.();
    }
  });

  it('normalises phone to E.164, email to lower case, trims strings, keeps UTM and page context', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      payload: {
        customerName: '  Ana <b>Bold</b>  ',
        customerPhone: '+44 20 7946 0958',
        customerEmail: ' Ana@Example.COM ',
        message: 'Hi',
        pageUrl: 'https://example.com/pricing',
        utmSource: 'google',
        metadata: { widget: 'v2' },
      },
    });
    expect(response.statusCode).toBe(201);
    const [row] = await db.storage.query('select * from conversations where id = $1', [response.json().id]);
    expect(row).toMatchObject({
      customer_name: 'Ana <b>Bold</b>',
      customer_phone: '+442079460958',
      customer_email: 'ana@example.com',
      message: 'Hi',
      metadata: { widget: 'v2', pageUrl: 'https://example.com/pricing', utm: { utmSource: 'google' } },
    });
  });

  it('drops honeypot submissions with a success-looking answer and stores nothing', async () => {
    const before = await db.storage.query<{ n: number }>('select count(*)::int as n from conversations');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      payload: { ...seedLead, [DEFAULT_HONEYPOT_FIELD]: 'http://spam' },
    });
    expect(response.statusCode).toBe(201);
    const after = await db.storage.query<{ n: number }>('select count(*)::int as n from conversations');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('stores a contact-form submission with source contact_form and its lead.created event', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/contact',
      payload: { name: 'Form Person', email: 'form@example.com', message: 'Call me back' },
    });
    expect(response.statusCode).toBe(201);
    const id = response.json().id;
    const [row] = await db.storage.query('select source, message from conversations where id = $1', [id]);
    expect(row).toEqual({ source: 'contact_form', message: 'Call me back' });
    const events = await db.storage.query('select event_type from lead_events where conversation_id = $1', [
      id,
    ]);
    expect(events).toEqual([{ event_type: 'lead.created' }]);
  });

  describe('idempotency', () => {
    it('returns the original lead with 200 for a repeat and writes nothing new', async () => {
      const headers = { 'idempotency-key': `key-${kind}-repeat` };
      const first = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers,
        payload: seedLead,
      });
      const second = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers,
        payload: seedLead,
      });
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(200);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.json()).toMatchObject({ id: first.json().id, duplicate: true });
      const rows = await db.storage.query(
        'select count(*)::int as n from lead_events where conversation_id = $1',
        [first.json().id],
      );
      expect(rows[0]).toEqual({ n: 1 });
    });

    it('refuses the same key with a different body with 422', async () => {
      const headers = { 'idempotency-key': `key-${kind}-conflict` };
      await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', headers, payload: seedLead });
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        headers,
        payload: { ...seedLead, intent: 'sell' },
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().error).toBe('idempotency_key_reused');
    });

    it('creates exactly one lead from 50 concurrent repeats', async () => {
      const headers = { 'idempotency-key': `key-${kind}-concurrent` };
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          t.app.inject({ method: 'POST', url: '/api/chatbot/leads', headers, payload: seedLead }),
        ),
      );
      const statuses = responses.map((r) => r.statusCode).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(49);
      expect(new Set(responses.map((r) => r.json().id)).size).toBe(1);
      const rows = await db.storage.query<{ n: number }>(
        'select count(*)::int as n from conversations where idempotency_key = $1',
        [headers['idempotency-key']],
      );
      expect(rows[0]!.n).toBe(1);
      const events = await db.storage.query<{ n: number }>(
        'select count(*)::int as n from lead_events where conversation_id = $1',
        [responses[0]!.json().id],
      );
      expect(events[0]!.n).toBe(1);
    });

    it('accepts the key as a body field too', async () => {
      const payload = { ...seedLead, idempotencyKey: `body-key-${kind}` };
      const first = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload });
      const second = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload });
      expect([first.statusCode, second.statusCode]).toEqual([201, 200]);
    });
  });
});
