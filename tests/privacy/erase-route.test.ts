import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth, createLead, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from '../team/fixtures.js';
import { tablesMentioning } from './fixtures.js';

describeEachDatabase('DELETE /api/admin/leads/:id', (kind) => {
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

  const erase = (id: string, query = '', headers: Record<string, string> = auth) =>
    t.app.inject({ method: 'DELETE', url: `/api/admin/leads/${id}${query}`, headers });

  it('previews with dryRun=true, erases with a tombstone, answers alreadyErased after, and is audited without contact data', async () => {
    const lead = await createLead(db.storage, {
      customerName: 'Route Person',
      customerEmail: 'route.person@example.com',
      customerPhone: '+971502223344',
    });
    await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/leads/${lead.id}`,
      headers: auth,
      payload: { version: 1, status: 'contacted', note: 'called +971502223344' },
    });

    const dry = await erase(lead.id, '?dryRun=true');
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, erased: false, counts: { leads: 1, timeline: 3 } });
    expect(await tablesMentioning(db.storage, ['route.person@example.com'])).not.toEqual([]);

    const done = await erase(lead.id);
    expect(done.statusCode).toBe(200);
    const body = done.json();
    expect(body).toMatchObject({
      erased: true,
      alreadyErased: false,
      leadIds: [lead.id],
      tombstone: { id: lead.id, source: 'chatbot', status: 'contacted', erasedAt: body.erasedAt },
    });
    expect(done.body).not.toMatch(/route\.person|971502223344|Route Person/);
    expect(
      await tablesMentioning(db.storage, [
        'route.person@example.com',
        '+971502223344',
        '971502223344',
        'Route Person',
      ]),
    ).toEqual([]);

    // The list and the export leave the tombstone out.
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/admin/leads?limit=200', headers: auth })
    ).json();
    expect(list.items.map((item: { id: string }) => item.id)).not.toContain(lead.id);
    const csv = await t.app.inject({ method: 'GET', url: '/api/admin/leads/export.csv', headers: auth });
    expect(csv.body).not.toContain(lead.id);

    const again = await erase(lead.id);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ erased: false, alreadyErased: true });

    // The lead is gone for every admin change; its detail is the tombstone.
    const patch = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/leads/${lead.id}`,
      headers: auth,
      payload: { version: 3, status: 'won' },
    });
    expect(patch.statusCode).toBe(404);
    const detail = (
      await t.app.inject({ method: 'GET', url: `/api/admin/leads/${lead.id}`, headers: auth })
    ).json();
    expect(detail.lead).toMatchObject({
      id: lead.id,
      customerName: null,
      customerEmail: null,
      customerPhone: null,
    });
    expect(detail.timeline).toEqual([]);

    const rows = await db.storage.query<{
      action: string;
      status: string;
      http_status: number;
      details: unknown;
    }>(
      `select action, status, http_status, details from audit_logs
        where resource_type = 'lead' and resource_id = $1 order by id`,
      [lead.id],
    );
    expect(rows.map((r) => [r.action, r.status, r.http_status])).toEqual([
      ['lead.update', 'success', 200],
      ['lead.erase', 'success', 200],
      ['lead.erase', 'success', 200],
      ['lead.erase', 'success', 200],
      ['lead.update', 'failure', 404],
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/route\.person|971502223344|Route Person/);
    // The PATCH row written before the erasure keeps field names and codes only.
    expect(rows[0]!.details).toEqual({
      fields: ['version', 'status', 'note'],
      version: 1,
      status: 'contacted',
      redacted: true,
    });
  });

  it('answers 404 for an unknown lead, 400 naming a bad id or dryRun, 403 to an agent', async () => {
    const unknown = await erase(crypto.randomUUID());
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'not_found' });

    const badId = await erase('not-a-uuid');
    expect(badId.statusCode).toBe(400);
    expect(badId.body).toContain('id');
    const badFlag = await erase(crypto.randomUUID(), '?dryRun=maybe');
    expect(badFlag.statusCode).toBe(400);
    expect(badFlag.body).toContain('dryRun');

    const agent = await addMember(t.app, { name: 'Eraser Agent' });
    const lead = await createLead(db.storage);
    const refused = await erase(lead.id, '', agent.auth);
    expect(refused.statusCode).toBe(403);
    const [row] = await db.storage.query<{ customer_email: string | null }>(
      'select customer_email from conversations where id = $1',
      [lead.id],
    );
    expect(row!.customer_email).not.toBeNull();
  });
});
