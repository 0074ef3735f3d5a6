import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/storage.js';
import { openSupabaseStorage } from '../../src/storage/supabase-storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type PostgrestStandIn, startPostgrestStandIn } from '../helpers/postgrest-stand-in.js';
import { TEST_SECRETS, TEST_SUPABASE_PROJECT } from '../helpers/secrets.js';
import { auth, createLead, generousLimits, makeOverdue } from './fixtures.js';

const SERVICE_KEY = TEST_SECRETS.supabaseServiceRoleKey;

describeEachDatabase('admin API in Supabase mode (rpc)', (kind) => {
  let db: TestDatabase;
  let standIn: PostgrestStandIn;
  let storage: Storage;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // Migrated by the app over DATABASE_URL, served over rpc: both histories exist.
    standIn = await startPostgrestStandIn(db.storage, {
      ...TEST_SUPABASE_PROJECT,
      migratedWith: 'leadrelay migrate',
    });
    storage = openSupabaseStorage({ url: standIn.url, serviceRoleKey: SERVICE_KEY, requestTimeoutMs: 5000 });
    t = await buildTestApp(storage, { env: generousLimits });
  });
  afterAll(async () => {
    await t?.app.close();
    await storage?.close();
    await standIn?.close();
    await db?.close();
  });

  it('lists, pages, shows, updates (409 on stale), sweeps and exports through rpc', async () => {
    const first = await createLead(db.storage, { customerName: 'Rpc One', intent: 'rpc' });
    await createLead(db.storage, { customerName: 'Rpc Two', intent: 'rpc' });
    await makeOverdue(db.storage, first.id);

    const page1 = (
      await t.app.inject({ method: 'GET', url: '/api/admin/leads?intent=rpc&limit=1', headers: auth })
    ).json();
    expect(page1.items).toHaveLength(1);
    const page2 = (
      await t.app.inject({
        method: 'GET',
        url: `/api/admin/leads?intent=rpc&limit=1&cursor=${page1.nextCursor}`,
        headers: auth,
      })
    ).json();
    expect([page1.items[0].customerName, page2.items[0].customerName].sort()).toEqual(['Rpc One', 'Rpc Two']);

    const detail = await t.app.inject({ method: 'GET', url: `/api/admin/leads/${first.id}`, headers: auth });
    expect(detail.json().timeline[0].title).toBe('Lead Created');
    const missing = await t.app.inject({
      method: 'GET',
      url: `/api/admin/leads/${crypto.randomUUID()}`,
      headers: auth,
    });
    expect(missing.statusCode).toBe(404);

    const patch = (version: number) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/admin/leads/${first.id}`,
        headers: auth,
        payload: { version, note: 'via rpc' },
      });
    expect((await patch(1)).statusCode).toBe(200);
    expect((await patch(1)).statusCode).toBe(409);

    const { sweepSlaBreaches } = await import('../../src/sla/sla-sweeper.js');
    expect((await sweepSlaBreaches(storage)).ids).toContain(first.id);

    const csv = await t.app.inject({
      method: 'GET',
      url: '/api/admin/leads/export.csv?intent=rpc',
      headers: auth,
    });
    expect(csv.body.trim().split('\r\n')).toHaveLength(3);
    expect(standIn.requests.map((r) => r.fn)).toEqual(
      expect.arrayContaining([
        'admin_list_leads',
        'admin_get_lead',
        'admin_update_lead',
        'sweep_sla_breaches',
      ]),
    );
  });

  it('is ready with every migration verified through rpc as service_role', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', pendingMigrations: [] });
  });

  it('answers 503 on the stream, so the dashboard polls', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/admin/stream', headers: auth });
    expect(response.statusCode).toBe(503);
  });
});
