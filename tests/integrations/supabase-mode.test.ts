import { afterAll, beforeAll, expect, it } from 'vitest';
import { integrationStore } from '../../src/integrations/integration-store.js';
import type { Storage } from '../../src/storage/storage.js';
import { openSupabaseStorage } from '../../src/storage/supabase-storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type PostgrestStandIn, startPostgrestStandIn } from '../helpers/postgrest-stand-in.js';
import { TEST_SECRETS, TEST_SUPABASE_PROJECT } from '../helpers/secrets.js';
import { captureLead } from '../outbox/harness.js';
import { adminHeaders } from './harness.js';

/** The integrations' functions as service_role through PostgREST rpc (arrays, jsonb, uuids). */
describeEachDatabase('integrations in Supabase rpc mode', (kind) => {
  let db: TestDatabase;
  let standIn: PostgrestStandIn;
  let storage: Storage;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    standIn = await startPostgrestStandIn(db.storage, TEST_SUPABASE_PROJECT);
    storage = openSupabaseStorage({
      url: standIn.url,
      serviceRoleKey: TEST_SECRETS.supabaseServiceRoleKey,
      requestTimeoutMs: 5000,
    });
    t = await buildTestApp(storage, { env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
  });
  afterAll(async () => {
    await t?.app.close();
    await storage?.close();
    await standIn?.close();
    await db?.close();
  });

  it('manages webhook endpoints and records CRM ids, opt-outs and pauses', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/admin/webhooks',
      headers: adminHeaders,
      payload: { url: 'https://hooks.example.com/in', events: ['lead.created', 'lead.assigned'] },
    });
    expect(created.statusCode).toBe(201);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/admin/webhooks/${created.json().id}`,
      headers: adminHeaders,
      payload: { events: ['lead.status_changed'] },
    });
    expect(patched.json().events).toEqual(['lead.status_changed']);

    const store = integrationStore(storage);
    const [endpoint] = await store.activeWebhookEndpoints();
    expect(endpoint).toMatchObject({ id: created.json().id, secret: created.json().secret });

    const lead = await captureLead(db.storage);
    await store.recordContacts('hubspot', [{ conversationId: lead.id, contactId: '42' }]);
    expect(await store.crmLinks(lead.id)).toMatchObject({ hubspot: { contactId: '42' } });
    await store.recordOptOut('sms', '+12025550101', 21610);
    expect(await store.optOuts('sms')).toEqual(['+12025550101']);
    await store.setPause('hubspot', new Date(Date.now() + 60_000), 'daily API limit reached');
    expect((await store.health()).pauses).toHaveLength(1);
    expect(await store.assigneePhone('5d6c2b1e-4a3f-4e2d-9c1b-0a9f8e7d6c5b')).toBeNull();
  });
});
