import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runHealthChecks } from '../../src/ops/health-report.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import {
  createTestDatabase,
  describeEachDatabase,
  hasPostgres,
  type TestDatabase,
} from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureBacklog,
  captureLead,
  FAST_WORKER_ENV,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';
import { spawnWorker, type WorkerProcess } from '../reliability/worker-process.js';
import { type AdminApi, adminHeaders, type Providers, startAdminApi, startProviders } from './harness.js';

const crmOnly = (providers: Providers) => ({
  FEATURE_CRM_ENABLED: 'true',
  HUBSPOT_ACCESS_TOKEN: providers.hubspot.token,
  HUBSPOT_API_URL: providers.hubspot.url,
});

describeEachDatabase('HubSpot CRM sync', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let providers: Providers;
  let running: RunningWorker | undefined;

  const eventOf = async (id: number) =>
    (
      await db.storage.query<{ processed: boolean; outcome: string | null; next_attempt_at: Date }>(
        'select * from lead_events where id = $1',
        [id],
      )
    )[0];
  const contactIdOf = async (conversationId: string) =>
    (
      await db.storage.query<{ contact_id: string }>(
        `select contact_id from crm_contacts where conversation_id = $1 and provider = 'hubspot'`,
        [conversationId],
      )
    )[0]?.contact_id;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    [channels, providers] = await Promise.all([startChannels(), startProviders()]);
    await db.storage.query('delete from integration_pauses');
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await Promise.all([channels.close(), providers.close()]);
  });

  it('a 409 "Contact already exists" updates that contact instead of duplicating it, and status changes follow', async () => {
    providers.hubspot.contacts.set('777', {
      id: '777',
      properties: { email: 'test@example.com', firstname: 'Old' },
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: '2026-01-01T00:00:00Z',
    });
    running = await startWorker(db.storage, { ...channels.env, ...crmOnly(providers) });
    const lead = await captureLead(db.storage, { customerName: 'Test User' });
    await waitFor(async () => (await eventOf(lead.eventId))?.outcome === 'delivered', {
      message: 'delivered',
    });

    expect(providers.hubspot.contacts.size).toBe(1);
    expect(providers.hubspot.contacts.get('777')?.properties).toMatchObject({
      firstname: 'Test',
      lastname: 'User',
    });
    expect(providers.hubspot.requests.map((r) => [r.method, r.status])).toEqual([
      ['POST', 409],
      ['PATCH', 200],
    ]);
    expect(await contactIdOf(lead.id)).toBe('777');

    const api: AdminApi = await startAdminApi(db.storage, crmOnly(providers));
    try {
      const patched = await api.app.inject({
        method: 'PATCH',
        url: `/api/admin/leads/${lead.id}`,
        headers: adminHeaders,
        payload: { version: 1, status: 'contacted' },
      });
      expect(patched.statusCode).toBe(200);
      await waitFor(() => providers.hubspot.contacts.get('777')?.properties.hs_lead_status === 'CONNECTED', {
        message: 'hs_lead_status updated',
      });
      const detail = await api.app.inject({
        method: 'GET',
        url: `/api/admin/leads/${lead.id}`,
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
      });
      expect(detail.json().integrations).toMatchObject({ hubspot: { contactId: '777' } });
    } finally {
      await api.close();
    }
  });

  it('drains a backlog with batch upserts of at most 100 inputs, one contact per lead', async () => {
    await captureBacklog(db.storage, 150, 'Backlog');
    // HubSpot alone: the chat channels' 450 sends would only slow the drain down.
    running = await startWorker(db.storage, { ...crmOnly(providers), WORKER_BATCH_SIZE: '200' });
    await waitFor(() => providers.hubspot.contacts.size === 150, {
      message: '150 contacts',
      timeoutMs: 20_000,
    });
    await waitFor(
      async () =>
        Number((await db.storage.query<{ n: string }>(`select count(*) as n from crm_contacts`))[0]?.n) >=
        150,
      { message: 'contact ids recorded' },
    );
    // One sent row per lead and no failure: waiting for a batch is not a failed attempt.
    const hubspotRows = () =>
      db.storage.query<{ status: string; n: string }>(
        `select l.status, count(*) as n from notification_logs l
           join lead_events e on e.id = l.event_id join conversations c on c.id = e.conversation_id
          where c.customer_name like 'Backlog %' and l.channel = 'hubspot' group by l.status`,
      );
    await waitFor(async () => Number((await hubspotRows()).find((r) => r.status === 'sent')?.n) === 150, {
      message: 'every backlog event recorded',
    });
    expect((await hubspotRows()).map((r) => [r.status, Number(r.n)])).toEqual([['sent', 150]]);
    const batches = providers.hubspot.requests.filter((r) => r.path.endsWith('/batch/upsert'));
    expect(batches.length).toBeGreaterThan(0);
    for (const batch of batches) {
      expect((batch.body as { inputs: unknown[] }).inputs.length).toBeLessThanOrEqual(100);
    }
    expect(providers.hubspot.requests.length).toBeLessThan(150);
    const emails = new Set([...providers.hubspot.contacts.values()].map((c) => c.properties.email));
    expect(emails.size).toBe(150);
  });

  it('429 SECONDLY waits and retries; nothing is lost or doubled', async () => {
    providers.hubspot.windowMax = 2;
    providers.hubspot.windowMs = 500;
    running = await startWorker(db.storage, {
      ...channels.env,
      ...crmOnly(providers),
      WORKER_MAX_ATTEMPTS: '20',
    });
    const leads = [];
    for (let i = 0; i < 6; i++)
      leads.push(await captureLead(db.storage, { customerEmail: `rate${i}@example.com` }));
    for (const lead of leads) {
      await waitFor(async () => (await eventOf(lead.eventId))?.outcome === 'delivered', {
        message: 'delivered',
        timeoutMs: 20_000,
      });
    }
    expect([...providers.hubspot.contacts.values()].map((c) => c.properties.email).sort()).toEqual(
      leads.map((_, i) => `rate${i}@example.com`),
    );
  });

  it('a 429 SECONDLY from a window another app used up is retried after the interval', async () => {
    providers.hubspot.windowMax = 2;
    providers.hubspot.windowMs = 2_000;
    running = await startWorker(db.storage, { ...channels.env, ...crmOnly(providers) });
    // Another app on the same HubSpot account spends the window just before our lead.
    for (let i = 0; i < 2; i++) {
      await fetch(`${providers.hubspot.url}/crm/v3/objects/contacts/batch/upsert`, {
        method: 'POST',
        headers: { authorization: `Bearer ${providers.hubspot.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: [{ id: `other${i}@example.com`, idProperty: 'email', properties: {} }],
        }),
      });
    }
    const lead = await captureLead(db.storage, { customerEmail: 'secondly@example.com' });
    await waitFor(async () => (await eventOf(lead.eventId))?.outcome === 'delivered', {
      message: 'delivered',
    });
    const rows = await db.storage.query<{
      status: string;
      provider_status: number | null;
      error: string | null;
    }>(
      `select status, provider_status, error from notification_logs where event_id = $1 and channel = 'hubspot' order by id`,
      [lead.eventId],
    );
    // A rate-limit answer is recorded as rate_limited and costs no attempt (worker v2).
    expect(rows[0]).toMatchObject({ status: 'rate_limited', provider_status: 429 });
    expect(rows[0]?.error).toContain('(SECONDLY)');
    expect(rows.at(-1)).toMatchObject({ status: 'sent' });
    expect(providers.hubspot.byEmail('secondly@example.com')).toBeDefined();
  });

  it('429 DAILY pauses the integration until the reset and says so in leadrelay health', async () => {
    providers.hubspot.dailyMax = 1;
    running = await startWorker(db.storage, { ...channels.env, ...crmOnly(providers) });
    const first = await captureLead(db.storage, { customerEmail: 'day1@example.com' });
    await waitFor(async () => (await eventOf(first.eventId))?.outcome === 'delivered', { message: 'first' });
    const second = await captureLead(db.storage, { customerEmail: 'day2@example.com' });
    await waitFor(() => running?.logs.text().includes('HubSpot daily API limit reached'), {
      message: 'pause log',
    });
    await waitFor(
      async () => {
        const event = await eventOf(second.eventId);
        return event && !event.processed && new Date(event.next_attempt_at).getTime() > Date.now() + 60_000;
      },
      { message: 'retry at the reset' },
    );
    const checks = await runHealthChecks(db.storage, running.config);
    const integrations = checks.find((c) => c.name === 'integrations');
    expect(integrations?.status).toBe('warn');
    expect(integrations?.detail).toMatch(/hubspot paused until \S+: daily API limit reached/);
    // No request was spent while paused: one create, one refused.
    expect(providers.hubspot.requests.filter((r) => r.status === 429)).toHaveLength(1);
  });
});

describe.skipIf(!hasPostgres)(
  'HubSpot: a worker killed after HubSpot acted, before recording [postgres]',
  () => {
    let db: TestDatabase;
    let channels: Channels;
    let providers: Providers;
    const workers: WorkerProcess[] = [];

    beforeAll(async () => {
      db = await createTestDatabase('postgres', { poolMax: 4 });
      [channels, providers] = await Promise.all([startChannels(), startProviders()]);
    });
    afterAll(async () => {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await Promise.all([channels?.close(), providers?.close()]);
      await db?.close();
    });

    it('leaves one contact: the retry finds it through the 409', async () => {
      const env = {
        DATABASE_URL: db.url!,
        ADMIN_API_KEY: TEST_ADMIN_KEY,
        LOG_LEVEL: 'warn',
        ...FAST_WORKER_ENV,
        ...channels.env,
        ...crmOnly(providers),
        WORKER_LEASE_SECONDS: '2',
      };
      let held: (() => void) | undefined;
      const createdButUnanswered = new Promise<void>((resolve) => {
        providers.hubspot.beforeAnswer = (request) => {
          if (request.method !== 'POST' || held) return;
          resolve();
          // The contact exists in HubSpot now; the worker never hears about it.
          return new Promise<void>((release) => {
            held = release;
          });
        };
      });
      const first = spawnWorker(env);
      workers.push(first);
      const lead = await captureLead(db.storage);
      await createdButUnanswered;
      first.child.kill('SIGKILL');
      await first.exited;
      providers.hubspot.beforeAnswer = () => {};
      held?.();

      workers.push(spawnWorker(env));
      await waitFor(
        async () =>
          (
            await db.storage.query<{ outcome: string }>('select outcome from lead_events where id = $1', [
              lead.eventId,
            ])
          )[0]?.outcome === 'delivered',
        { message: 'delivered by the second worker', timeoutMs: 20_000 },
      );
      expect(providers.hubspot.contacts.size).toBe(1);
      const [contact] = providers.hubspot.contacts.values();
      const recorded = await db.storage.query<{ contact_id: string }>('select contact_id from crm_contacts');
      expect(recorded.map((r) => r.contact_id)).toEqual([contact?.id]);
      expect(providers.hubspot.requests.map((r) => [r.method, r.status])).toEqual([
        ['POST', 201],
        ['POST', 409],
        ['PATCH', 200],
      ]);
    });
  },
);
