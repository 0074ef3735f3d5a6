import { afterAll, beforeAll, expect, it } from 'vitest';
import { outboxStore } from '../../src/outbox/outbox-store.js';
import type { Storage } from '../../src/storage/storage.js';
import { openSupabaseStorage } from '../../src/storage/supabase-storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type PostgrestStandIn, startPostgrestStandIn } from '../helpers/postgrest-stand-in.js';
import { TEST_SECRETS, TEST_SUPABASE_PROJECT } from '../helpers/secrets.js';

const SERVICE_KEY = TEST_SECRETS.supabaseServiceRoleKey;
const lead = {
  customerName: 'Supa Lead',
  customerPhone: '+971501234567',
  customerEmail: 'supa@example.com',
  intent: 'buy',
};

describeEachDatabase('Supabase mode through supabase-js rpc', (kind) => {
  let db: TestDatabase;
  let standIn: PostgrestStandIn;
  let storage: Storage;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    standIn = await startPostgrestStandIn(db.storage, TEST_SUPABASE_PROJECT);
    storage = openSupabaseStorage({ url: standIn.url, serviceRoleKey: SERVICE_KEY, requestTimeoutMs: 5000 });
    t = await buildTestApp(storage, { env: { RATE_LIMIT_LEADS_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await t?.app.close();
    await storage?.close();
    await standIn?.close();
    await db?.close();
  });

  it('captures a lead with all four rows through POST /rest/v1/rpc/capture_lead', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload: lead });
    expect(response.statusCode).toBe(201);
    const id = response.json().id;
    const counts = await db.storage.query(
      `select (select count(*)::int from conversations where id = $1) as conversations,
              (select count(*)::int from lead_events where conversation_id = $1) as events,
              (select count(*)::int from conversation_timeline where conversation_id = $1) as timeline,
              (select count(*)::int from follow_up_tasks where conversation_id = $1) as tasks`,
      [id],
    );
    expect(counts[0]).toEqual({ conversations: 1, events: 1, timeline: 1, tasks: 1 });
    // Chatbot leads go through capture_lead_with_conversation, which wraps capture_lead
    // (the transcript and the conversation token in the same transaction: issue 14).
    const call = standIn.requests.find((r) => r.fn === 'capture_lead_with_conversation');
    expect(call).toMatchObject({
      apikey: SERVICE_KEY,
      authorization: `Bearer ${SERVICE_KEY}`,
      role: 'service_role',
      status: 200,
    });
  });

  it('maps the database error codes through PostgREST: a reused idempotency key is 422', async () => {
    const headers = { 'idempotency-key': 'supabase-key-1' };
    const first = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', headers, payload: lead });
    const repeat = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', headers, payload: lead });
    const conflict = await t.app.inject({
      method: 'POST',
      url: '/api/chatbot/leads',
      headers,
      payload: { ...lead, intent: 'rent' },
    });
    expect([first.statusCode, repeat.statusCode, conflict.statusCode]).toEqual([201, 200, 422]);
  });

  it('reports health through rpc, and cannot LISTEN (the worker polls instead)', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/health' });
    expect(health.json()).toMatchObject({ status: 'ok', storage: 'supabase' });
    expect(await storage.listen('lead_events', () => {})).toBeNull();
  });

  it('lets the worker claim, beat and record through rpc as service_role', async () => {
    const store = outboxStore(storage);
    const identity = { workerId: 'rpc-worker', host: 'h', pid: 1 };
    const claimed = await store.claim(identity.workerId, 10, 60, 5);
    expect(claimed.length).toBeGreaterThan(0);
    await store.beat(identity, 60, [claimed[0]!.id]);
    const outcome = await store.record(
      identity.workerId,
      [{ eventId: claimed[0]!.id, attempt: claimed[0]!.attempts, result: 'delivered', logs: [] }],
      5,
    );
    expect(outcome.recorded).toEqual([{ id: claimed[0]!.id, outcome: 'delivered' }]);
  });

  it('is ready on a hosted-like project whose migration history service_role cannot read', async () => {
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', storage: 'supabase' });
    expect(standIn.requests.find((r) => r.fn === 'leadrelay_schema_versions')).toMatchObject({
      role: 'service_role',
      status: 200,
    });
  });

  it('answers 503 quickly when Supabase cannot be reached', async () => {
    const unreachable = openSupabaseStorage({
      url: 'http://127.0.0.1:9',
      serviceRoleKey: SERVICE_KEY,
      requestTimeoutMs: 1000,
    });
    const down = await buildTestApp(unreachable);
    try {
      const started = Date.now();
      const response = await down.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload: lead });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await down.app.close();
    }
  });
});
