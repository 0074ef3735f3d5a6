import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { submitLead } from '../../src/widget/submit-lead.js';
import { generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type HttpProxy, startHttpProxy } from '../helpers/http-proxy.js';

/**
 * Exactly once through the real API: the widget's first answer is lost after the lead
 * was stored (the proxy drops it), the widget repeats with its key, and the database
 * holds one lead, whose id the widget gets back.
 */
describeEachDatabase('widget submitLead through the API', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let proxy: HttpProxy;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    proxy = await startHttpProxy(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await proxy?.close();
    await t?.app.close();
    await db?.close();
  });

  it('stores a submission whose first answer was lost exactly once', async () => {
    const email = `once-${kind}@example.com`;
    proxy.dropNextAnswer((method, path) => method === 'POST' && path === '/api/chatbot/leads');
    const result = await submitLead(
      { customerName: 'Olga Once', customerEmail: email, intent: 'buy' },
      { baseUrl: proxy.url, retry: { baseDelayMs: 50 } },
    );
    const leadRequests = proxy.requests.filter((r) => r.path === '/api/chatbot/leads');
    expect(leadRequests.map((r) => r.outcome)).toEqual(['dropped', 200]);
    expect(leadRequests[1]!.headers['idempotency-key']).toBe(leadRequests[0]!.headers['idempotency-key']);
    expect(result).toMatchObject({ duplicate: true, attempts: 2 });
    const rows = await db.storage.query<{ id: string }>(
      'select id::text as id from conversations where customer_email = $1',
      [email],
    );
    expect(rows.map((r) => r.id)).toEqual([result.id]);
  });

  it('is accepted with the honeypot it sends (present and empty)', async () => {
    const result = await submitLead(
      { customerName: 'Hana Human', customerEmail: `human-${kind}@example.com` },
      { baseUrl: proxy.url },
    );
    expect(result.duplicate).toBe(false);
    const [row] = await db.storage.query<{ n: number }>(
      'select count(*)::int as n from conversations where id = $1',
      [result.id],
    );
    expect(row!.n).toBe(1);
  });
});
