import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from '../team/fixtures.js';
import { auth, createLead, generousLimits, makeOverdue } from './fixtures.js';

describeEachDatabase('admin lead API', (kind) => {
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

  describe('authentication', () => {
    it('refuses a missing key with 401 JSON', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/api/admin/leads' });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
      expect(response.headers['www-authenticate']).toContain('Bearer');
    });

    it('refuses a wrong key, a key prefix and a key with extra characters', async () => {
      for (const key of ['wrong', TEST_ADMIN_KEY.slice(0, -1), `${TEST_ADMIN_KEY}x`, '']) {
        const bearer = await t.app.inject({
          method: 'GET',
          url: '/api/admin/stats',
          headers: { authorization: `Bearer ${key}` },
        });
        expect(bearer.statusCode).toBe(401);
        const header = await t.app.inject({
          method: 'GET',
          url: '/api/admin/stats',
          headers: { 'x-api-key': key },
        });
        expect(header.statusCode).toBe(401);
      }
    });

    it('accepts the key as Bearer token or x-api-key', async () => {
      expect((await get('/api/admin/stats')).statusCode).toBe(200);
      const viaHeader = await t.app.inject({
        method: 'GET',
        url: '/api/admin/stats',
        headers: { 'x-api-key': TEST_ADMIN_KEY },
      });
      expect(viaHeader.statusCode).toBe(200);
    });

    it('protects every admin route, including unknown-id and write routes', async () => {
      const routes: [string, string][] = [
        ['GET', '/api/admin/leads'],
        ['GET', '/api/admin/leads/export.csv'],
        ['GET', `/api/admin/leads/${crypto.randomUUID()}`],
        ['PATCH', `/api/admin/leads/${crypto.randomUUID()}`],
        ['POST', `/api/admin/leads/${crypto.randomUUID()}/notes`],
        ['POST', '/api/admin/tasks/1/complete'],
        ['GET', '/api/admin/notifications'],
        ['POST', '/api/admin/events/1/replay'],
        ['GET', '/api/admin/stats'],
        ['GET', '/api/admin/stream'],
        ['POST', '/api/admin/stream-token'],
      ];
      for (const [method, url] of routes) {
        const response = await t.app.inject({
          method: method as 'GET',
          url,
          payload: method === 'GET' ? undefined : {},
        });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
      }
    });

    it('never logs the key', async () => {
      await t.app.inject({
        method: 'GET',
        url: '/api/admin/stats',
        headers: { 'x-api-key': TEST_ADMIN_KEY },
      });
      expect(t.logs.text()).not.toContain(TEST_ADMIN_KEY);
    });
  });

  describe('GET /api/admin/leads', () => {
    let ids: Record<string, string>;
    beforeAll(async () => {
      const alice = await createLead(db.storage, {
        customerName: 'Alice Filter',
        customerEmail: 'alice@filter.test',
        intent: 'sell',
        source: 'contact_form',
      });
      const bob = await createLead(db.storage, {
        customerName: 'Bob 100%_Real',
        customerPhone: '+971509999001',
      });
      const carol = await createLead(db.storage, { customerName: 'Carol Overdue', intent: 'rent' });
      await makeOverdue(db.storage, carol.id);
      await db.storage.call('sweep_sla_breaches', {});
      ids = { alice: alice.id, bob: bob.id, carol: carol.id };
    });

    const names = (body: { items: { customerName: string }[] }) =>
      body.items.map((lead) => lead.customerName);

    it('lists newest first with the lead fields', async () => {
      const response = await get('/api/admin/leads');
      expect(response.statusCode).toBe(200);
      const body = response.json();
      const created = body.items.map((lead: { createdAt: string }) => Date.parse(lead.createdAt));
      expect([...created].sort((a, b) => b - a)).toEqual(created);
      expect(body.items.find((lead: { id: string }) => lead.id === ids.alice)).toMatchObject({
        customerName: 'Alice Filter',
        status: 'new',
        version: 1,
        slaBreached: false,
        source: 'contact_form',
      });
    });

    it('filters by status, intent, source, sla_breached, free text and created-at range', async () => {
      expect(names((await get('/api/admin/leads?intent=sell')).json())).toEqual(['Alice Filter']);
      expect(names((await get('/api/admin/leads?source=contact_form')).json())).toEqual(['Alice Filter']);
      expect(names((await get('/api/admin/leads?sla_breached=true')).json())).toEqual(['Carol Overdue']);
      expect(names((await get('/api/admin/leads?sla_breached=false&intent=rent')).json())).toEqual([]);
      expect(names((await get('/api/admin/leads?q=ALICE@filter')).json())).toEqual(['Alice Filter']);
      expect(names((await get('/api/admin/leads?q=509999001')).json())).toEqual(['Bob 100%_Real']);
      // LIKE wildcards in the search text match literally.
      expect(names((await get('/api/admin/leads?q=100%25_')).json())).toEqual(['Bob 100%_Real']);
      expect(names((await get('/api/admin/leads?q=%25')).json())).toEqual(['Bob 100%_Real']);
      expect((await get('/api/admin/leads?status=contacted')).json().items).toEqual([]);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expect((await get(`/api/admin/leads?created_from=${future}`)).json().items).toEqual([]);
      const carolOnly = await get(
        `/api/admin/leads?created_to=${new Date(Date.now() - 60_000).toISOString()}&q=carol`,
      );
      expect(names(carolOnly.json())).toEqual(['Carol Overdue']);
    });

    it('rejects bad filters with field names', async () => {
      const response = await get(
        '/api/admin/leads?status=maybe&sla_breached=perhaps&created_from=yesterday&limit=0',
      );
      expect(response.statusCode).toBe(400);
      const fields = response.json().fields.map((f: { field: string }) => f.field);
      expect(fields).toEqual(expect.arrayContaining(['status', 'sla_breached', 'created_from', 'limit']));
      const cursor = await get('/api/admin/leads?cursor=bm90LWEtY3Vyc29y');
      expect(cursor.statusCode).toBe(400);
      expect(cursor.json().error).toBe('invalid_cursor');
    });
  });

  describe('keyset pagination', () => {
    it('pages through every lead exactly once while new leads keep arriving', async () => {
      const existing = await db.storage.query<{ id: string }>('select id from conversations');
      const before = new Set(existing.map((row) => row.id));
      for (let i = 0; i < 45; i++) before.add((await createLead(db.storage)).id);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/api/admin/leads?limit=7${cursor ? `&cursor=${cursor}` : ''}`;
        const [response] = await Promise.all([get(url), createLead(db.storage), createLead(db.storage)]);
        expect(response.statusCode).toBe(200);
        const body = response.json();
        expect(body.items.length).toBeLessThanOrEqual(7);
        seen.push(...body.items.map((lead: { id: string }) => lead.id));
        cursor = body.nextCursor;
        pages++;
      } while (cursor && pages < 100);

      expect(new Set(seen).size).toBe(seen.length);
      // Everything that existed when paging began is there; leads added meanwhile are newer
      // than the first page and may or may not appear, but nothing appears twice.
      for (const id of before) expect(seen).toContain(id);
    });

    it('uses the (created_at, id) index for a filtered page', async () => {
      const plan = await db.storage.query<{ 'QUERY PLAN': string }>(
        `explain select id from conversations
          where (created_at, id) < (now(), '00000000-0000-0000-0000-000000000000'::uuid)
          order by created_at desc, id desc limit 51`,
      );
      const text = plan.map((row) => Object.values(row)[0]).join('\n');
      // Tiny tables may be seq-scanned; force the planner's hand to prove the index applies.
      if (!text.includes('conversations_created_at_id_idx')) {
        const forced = await db.storage.transaction(async (tx) => {
          await tx.query('set local enable_seqscan = off');
          await tx.query('set local enable_sort = off');
          return tx.query(
            `explain select id from conversations
              where (created_at, id) < (now(), '00000000-0000-0000-0000-000000000000'::uuid)
              order by created_at desc, id desc limit 51`,
          );
        });
        expect(forced.map((row) => Object.values(row)[0]).join('\n')).toContain(
          'conversations_created_at_id_idx',
        );
      }
    });
  });

  it('has a trigram index for free-text search where pg_trgm exists (Postgres), none on PGlite', async () => {
    const rows = await db.storage.query(
      `select indexname from pg_indexes where indexname = 'conversations_search_trgm_idx'`,
    );
    expect(rows).toHaveLength(kind === 'postgres' ? 1 : 0);
  });

  describe('GET /api/admin/leads/:id', () => {
    it('returns the lead with its timeline, follow-ups, events and notification attempts', async () => {
      const { id, eventId } = await createLead(db.storage, { customerName: 'Detail Dana' });
      await db.storage.query(
        `insert into notification_logs (event_id, channel, status, attempt, duration_ms) values ($1, 'slack', 'sent', 1, 80),
           ($1, 'email', 'failed', 1, 300)`,
        [eventId],
      );
      const response = await get(`/api/admin/leads/${id}`);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.lead).toMatchObject({ id, customerName: 'Detail Dana', status: 'new' });
      expect(body.timeline).toEqual([
        expect.objectContaining({ title: 'Lead Created', type: 'lead_created' }),
      ]);
      expect(body.followUps).toEqual([expect.objectContaining({ type: 'first_contact', status: 'open' })]);
      expect(body.events).toEqual([expect.objectContaining({ id: eventId, type: 'lead.created' })]);
      expect(
        body.notifications.map((n: { channel: string; status: string }) => `${n.channel}:${n.status}`).sort(),
      ).toEqual(['email:failed', 'slack:sent']);
    });

    it('404s an unknown lead and 400s a malformed id', async () => {
      const missing = await get(`/api/admin/leads/${crypto.randomUUID()}`);
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error).toBe('not_found');
      expect((await get('/api/admin/leads/not-a-uuid')).statusCode).toBe(400);
    });
  });

  describe('PATCH /api/admin/leads/:id', () => {
    const patch = (id: string, payload: Record<string, unknown>) =>
      t.app.inject({ method: 'PATCH', url: `/api/admin/leads/${id}`, headers: auth, payload });

    it('changes status, assignee and note in one transaction with timeline entries and an event', async () => {
      const { id } = await createLead(db.storage);
      // The actor is whoever signs in (here Sam, with his own token), never body text.
      const sam = await addMember(t.app, { name: 'sam' });
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/api/admin/leads/${id}`,
        headers: sam.auth,
        payload: { version: 1, status: 'contacted', assignedTo: sam.id, note: 'Called, wants a viewing' },
      });
      expect(response.statusCode).toBe(200);
      const { lead, changed } = response.json();
      expect(changed).toBe(true);
      expect(lead).toMatchObject({
        status: 'contacted',
        assignedTo: sam.id,
        assignee: { id: sam.id, name: 'sam' },
        version: 2,
      });
      expect(lead.firstResponseAt).not.toBeNull();

      const timeline = await db.storage.query<{ entry_type: string; actor: string }>(
        'select entry_type, actor from conversation_timeline where conversation_id = $1 order by id',
        [id],
      );
      expect(timeline.map((row) => row.entry_type)).toEqual([
        'lead_created',
        'status_changed',
        'assigned',
        'note',
      ]);
      expect(timeline.slice(1).every((row) => row.actor === 'sam')).toBe(true);
      const events = await db.storage.query<{ event_type: string; payload: unknown }>(
        `select event_type, payload from lead_events where conversation_id = $1 and event_type = 'lead.status_changed'`,
        [id],
      );
      expect(events).toEqual([
        {
          event_type: 'lead.status_changed',
          payload: { conversationId: id, from: 'new', to: 'contacted', actor: 'sam' },
        },
      ]);
      // Contact stops the SLA clock and closes the first-contact task.
      const [task] = await db.storage.query('select status from follow_up_tasks where conversation_id = $1', [
        id,
      ]);
      expect(task).toEqual({ status: 'done' });
      const sweep = await db.storage.call<{ ids: string[] }>('sweep_sla_breaches', {
        p_now: new Date(Date.now() + 86_400_000).toISOString(),
      });
      expect(sweep.ids).not.toContain(id);
    });

    it('answers 409 to a stale version and changes nothing', async () => {
      const { id } = await createLead(db.storage);
      const first = await addMember(t.app, { name: 'first' });
      expect((await patch(id, { version: 1, assignedTo: first.id })).statusCode).toBe(200);
      const stale = await patch(id, { version: 1, status: 'lost' });
      expect(stale.statusCode).toBe(409);
      expect(stale.json().error).toBe('conflict');
      const [row] = await db.storage.query(
        'select status, assigned_to, version from conversations where id = $1',
        [id],
      );
      expect(row).toEqual({ status: 'new', assigned_to: 'first', version: 2 });
      const events = await db.storage.query(
        `select 1 from lead_events where conversation_id = $1 and event_type = 'lead.status_changed'`,
        [id],
      );
      expect(events).toEqual([]);
    });

    it('lets exactly one of two concurrent updates at the same version win', async () => {
      const { id } = await createLead(db.storage);
      const results = await Promise.all([
        patch(id, { version: 1, status: 'qualified' }),
        patch(id, { version: 1, status: 'lost' }),
      ]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    });

    it('clears the assignee with null and validates the body', async () => {
      const { id } = await createLead(db.storage);
      const x = await addMember(t.app);
      await patch(id, { version: 1, assignedTo: x.id });
      const cleared = await patch(id, { version: 2, assignedTo: null });
      expect(cleared.json().lead.assignedTo).toBeNull();
      // assignedTo is a member id: free text and unknown ids are refused.
      expect((await patch(id, { version: 3, assignedTo: 'sam' })).statusCode).toBe(400);
      const unknown = await patch(id, { version: 3, assignedTo: crypto.randomUUID() });
      expect(unknown.statusCode).toBe(422);
      expect((await patch(id, { version: 3, status: 'won', actor: 'someone' })).statusCode).toBe(400);
      expect((await patch(id, { version: 3 })).statusCode).toBe(400);
      expect((await patch(id, { version: 3, status: 'archived' })).statusCode).toBe(400);
      expect((await patch(id, { version: 3, status: 'won', extra: 1 })).statusCode).toBe(400);
      expect((await patch(crypto.randomUUID(), { version: 1, status: 'won' })).statusCode).toBe(404);
    });
  });

  describe('notes and follow-up tasks', () => {
    it('adds a note to the timeline', async () => {
      const { id } = await createLead(db.storage);
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/admin/leads/${id}/notes`,
        headers: auth,
        payload: { note: 'Prefers WhatsApp' },
      });
      expect(response.statusCode).toBe(201);
      // Signed in with the owner key: the actor is the owner.
      expect(response.json()).toMatchObject({
        type: 'note',
        details: { note: 'Prefers WhatsApp' },
        actor: 'owner',
      });
      const detail = (await get(`/api/admin/leads/${id}`)).json();
      expect(detail.timeline.map((e: { type: string }) => e.type)).toEqual(['lead_created', 'note']);
      const missing = await t.app.inject({
        method: 'POST',
        url: `/api/admin/leads/${crypto.randomUUID()}/notes`,
        headers: auth,
        payload: { note: 'x' },
      });
      expect(missing.statusCode).toBe(404);
    });

    it('completing the first-contact task stops the SLA clock, once', async () => {
      const { id } = await createLead(db.storage);
      const [task] = await db.storage.query<{ id: number }>(
        'select id from follow_up_tasks where conversation_id = $1',
        [id],
      );
      const complete = () =>
        t.app.inject({
          method: 'POST',
          url: `/api/admin/tasks/${task!.id}/complete`,
          headers: auth,
          payload: {},
        });
      const first = await complete();
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ status: 'done', changed: true });
      const again = await complete();
      expect(again.json()).toMatchObject({ status: 'done', changed: false });
      const [lead] = await db.storage.query<{ first_response_at: unknown; status: string }>(
        'select first_response_at, status from conversations where id = $1',
        [id],
      );
      expect(lead!.first_response_at).not.toBeNull();
      const sweep = await db.storage.call<{ ids: string[] }>('sweep_sla_breaches', {
        p_now: new Date(Date.now() + 86_400_000).toISOString(),
      });
      expect(sweep.ids).not.toContain(id);
      const unknown = await t.app.inject({
        method: 'POST',
        url: '/api/admin/tasks/999999999/complete',
        headers: auth,
        payload: {},
      });
      expect(unknown.statusCode).toBe(404);
    });
  });
});
