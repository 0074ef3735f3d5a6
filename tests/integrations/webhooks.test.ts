import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { SLACK_OK } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';
import {
  type Channels,
  captureLead,
  type RunningWorker,
  startChannels,
  startWorker,
} from '../outbox/harness.js';
import {
  type AdminApi,
  adminHeaders,
  registerEndpoint,
  startAdminApi,
  startWebhookReceiver,
  type WebhookReceiver,
} from './harness.js';

const FAST_SCHEDULE = { WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,0.05,0.1,0.1,0.1,0.1,0.1,0.1' };
const ALLOW = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };

describeEachDatabase('outbound webhooks', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let receiver: WebhookReceiver;
  let api: AdminApi;
  let running: RunningWorker | undefined;

  const eventOf = async (id: number) =>
    (
      await db.storage.query<{ processed: boolean; outcome: string | null }>(
        'select * from lead_events where id = $1',
        [id],
      )
    )[0];
  const logsOf = (eventId: number, channel: string) =>
    db.storage.query<{
      status: string;
      provider_status: number | null;
      error: string | null;
      attempt: number;
    }>(
      'select status, provider_status, error, attempt from notification_logs where event_id = $1 and channel = $2 order by id',
      [eventId, channel],
    );

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    channels = await startChannels();
    receiver = await startWebhookReceiver();
    await db.storage.query('delete from webhook_endpoints');
    // Earlier tests may leave events behind (a "webhook failing" alert): not this test's.
    await db.storage.query(
      `update lead_events set processed = true, outcome = 'delivered', processed_at = now() where processed = false`,
    );
    api = await startAdminApi(db.storage, { ...ALLOW, ...FAST_SCHEDULE });
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await api.close();
    await Promise.all([channels.close(), receiver.close()]);
  });

  it('manages endpoints: the secret is shown once, GET/PATCH/DELETE, bad fields named', async () => {
    const created = await api.app.inject({
      method: 'POST',
      url: '/api/admin/webhooks',
      headers: adminHeaders,
      payload: { url: receiver.url, events: ['lead.created', 'lead.status_changed'], description: 'n8n' },
    });
    expect(created.statusCode).toBe(201);
    const endpoint = created.json();
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const list = await api.app.inject({ method: 'GET', url: '/api/admin/webhooks', headers: adminHeaders });
    expect(list.json()).toHaveLength(1);
    expect(list.body).not.toContain(endpoint.secret);
    const one = await api.app.inject({
      method: 'GET',
      url: `/api/admin/webhooks/${endpoint.id}`,
      headers: adminHeaders,
    });
    expect(one.json()).toMatchObject({
      id: endpoint.id,
      events: ['lead.created', 'lead.status_changed'],
      attempts: [],
    });
    expect(one.body).not.toContain(endpoint.secret);

    const patched = await api.app.inject({
      method: 'PATCH',
      url: `/api/admin/webhooks/${endpoint.id}`,
      headers: adminHeaders,
      payload: { events: ['lead.sla_breached'], disabled: true },
    });
    expect(patched.json()).toMatchObject({ events: ['lead.sla_breached'], disabled: true });

    const bad = await api.app.inject({
      method: 'POST',
      url: '/api/admin/webhooks',
      headers: adminHeaders,
      payload: { url: 'ftp://example.com/x', events: ['lead.exploded'] },
    });
    expect(bad.statusCode).toBe(400);
    const fields = (bad.json().fields as { field: string }[]).map((f) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['url', 'events[0]']));

    const deleted = await api.app.inject({
      method: 'DELETE',
      url: `/api/admin/webhooks/${endpoint.id}`,
      headers: adminHeaders,
    });
    expect(deleted.statusCode).toBe(200);
    const gone = await api.app.inject({
      method: 'GET',
      url: `/api/admin/webhooks/${endpoint.id}`,
      headers: adminHeaders,
    });
    expect(gone.statusCode).toBe(404);
  });

  it('refuses an endpoint at 127.0.0.1 without WEBHOOK_ALLOW_PRIVATE_NETWORKS, at registration and at delivery', async () => {
    const strict = await startAdminApi(db.storage, {});
    try {
      for (const url of [
        receiver.url,
        'http://169.254.169.254/latest/meta-data',
        'http://[::1]:8080/',
        'http://localhost/',
      ]) {
        const response = await strict.app.inject({
          method: 'POST',
          url: '/api/admin/webhooks',
          headers: adminHeaders,
          payload: { url, events: ['lead.created'] },
        });
        expect(response.statusCode, url).toBe(400);
        expect(response.json().fields[0]).toMatchObject({ field: 'url' });
      }
    } finally {
      await strict.close();
    }
    // Registered while allowed, delivered by a worker that is not: refused at delivery
    // too (a name resolving to loopback is tests/integrations/ssrf-guard.test.ts).
    const named = await api.app.inject({
      method: 'POST',
      url: '/api/admin/webhooks',
      headers: adminHeaders,
      payload: { url: receiver.url, events: ['lead.created'] },
    });
    receiver.secret = named.json().secret;
    running = await startWorker(db.storage, { ...channels.env, ...FAST_SCHEDULE });
    const lead = await captureLead(db.storage);
    await waitFor(async () => (await eventOf(lead.eventId))?.processed, { message: 'event processed' });
    expect(receiver.deliveries).toHaveLength(0);
    const [log] = await logsOf(lead.eventId, `webhook:${named.json().id}`);
    expect(log).toMatchObject({ status: 'failed' });
    expect(log?.error).toMatch(/loopback, private, link-local or metadata address: refused/);
    expect(channels.slack.delivered()).toHaveLength(1);
  });

  it('retries a 500 with the same webhook-id and a fresh signature, then delivers on 200', async () => {
    const endpoint = await registerEndpoint(api.app, receiver);
    receiver.respond = (_delivery, index) => (index === 0 ? { status: 500, body: 'oops' } : { status: 200 });
    running = await startWorker(db.storage, { ...channels.env, ...ALLOW, ...FAST_SCHEDULE });
    const lead = await captureLead(db.storage);
    await waitFor(async () => (await eventOf(lead.eventId))?.outcome === 'delivered', {
      message: 'delivered',
    });

    expect(receiver.deliveries.map((d) => d.status)).toEqual([500, 200]);
    const [first, second] = receiver.deliveries;
    expect(first?.id).toBe(second?.id);
    expect(first?.id).toMatch(/^msg_/);
    expect(first?.verified && second?.verified).toBe(true);
    expect(second?.raw).toBe(first?.raw);
    const logs = await logsOf(lead.eventId, `webhook:${endpoint.id}`);
    expect(logs.map((l) => [l.status, l.provider_status])).toEqual([
      ['failed', 500],
      ['sent', 200],
    ]);
    // Slack went out once, on the first attempt, and was not repeated by the webhook's retry.
    expect(channels.slack.delivered()).toHaveLength(1);
  });

  it('disables an endpoint that answers 410 Gone and stops sending to it', async () => {
    const endpoint = await registerEndpoint(api.app, receiver);
    receiver.respond = () => ({ status: 410 });
    running = await startWorker(db.storage, { ...channels.env, ...ALLOW, ...FAST_SCHEDULE });
    const first = await captureLead(db.storage);
    await waitFor(async () => (await eventOf(first.eventId))?.processed, { message: 'first processed' });
    const shown = await api.app.inject({
      method: 'GET',
      url: `/api/admin/webhooks/${endpoint.id}`,
      headers: adminHeaders,
    });
    expect(shown.json()).toMatchObject({ disabled: true, disabledReason: 'the endpoint answered 410 Gone' });

    const second = await captureLead(db.storage, { customerEmail: 'second@example.com' });
    await waitFor(async () => (await eventOf(second.eventId))?.outcome === 'delivered', {
      message: 'second delivered',
    });
    expect(receiver.deliveries).toHaveLength(1);
    expect(await logsOf(second.eventId, `webhook:${endpoint.id}`)).toEqual([]);
  });

  it('honours Retry-After on 503, and when the schedule is used up the event is dead for that endpoint, the team is alerted once, and replay delivers', async () => {
    const endpoint = await registerEndpoint(api.app, receiver);
    let healthy = false;
    receiver.respond = () => (healthy ? { status: 204 } : { status: 503, headers: { 'retry-after': '0' } });
    running = await startWorker(db.storage, {
      ...channels.env,
      ...ALLOW,
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,0.05,0.05',
      WORKER_MAX_ATTEMPTS: '3',
    });
    const leads = [
      await captureLead(db.storage),
      await captureLead(db.storage, { customerEmail: 'b@example.com' }),
    ];
    for (const lead of leads) {
      await waitFor(async () => (await eventOf(lead.eventId))?.outcome === 'dead', {
        message: 'dead',
        timeoutMs: 15_000,
      });
    }
    expect((await logsOf(leads[0]!.eventId, `webhook:${endpoint.id}`)).map((l) => l.provider_status)).toEqual(
      [503, 503, 503],
    );
    // One "webhook failing" alert on the team channel for the failing run, not one per event.
    await waitFor(() => channels.slack.delivered().some((p) => p.raw.includes('Webhook failing')), {
      message: 'failing alert on Slack',
    });
    const failingAlerts = (
      await db.storage.query(
        `select id from lead_events where event_type = 'webhook.failing' and payload->>'endpointId' = $1`,
        [endpoint.id],
      )
    ).length;
    expect(failingAlerts).toBe(1);
    const slackBefore = channels.slack.delivered().length;

    healthy = true;
    const replay = await api.app.inject({
      method: 'POST',
      url: `/api/admin/events/${leads[0]!.eventId}/replay`,
      headers: adminHeaders,
    });
    expect(replay.statusCode).toBe(202);
    await waitFor(async () => (await eventOf(leads[0]!.eventId))?.outcome === 'delivered', {
      message: 'replayed',
    });
    expect(receiver.accepted()).toHaveLength(1);
    // Only the webhook was re-sent: Slack already had the lead.
    expect(channels.slack.delivered()).toHaveLength(slackBefore);
    const shown = await api.app.inject({
      method: 'GET',
      url: `/api/admin/webhooks/${endpoint.id}`,
      headers: adminHeaders,
    });
    expect(shown.json().failingSince).toBeNull();
  });

  it('POST /:id/test sends a signed webhook.test to that endpoint only', async () => {
    const endpoint = await registerEndpoint(api.app, receiver);
    const other = await startWebhookReceiver();
    try {
      await registerEndpoint(api.app, other);
      running = await startWorker(db.storage, { ...channels.env, ...ALLOW, ...FAST_SCHEDULE });
      const response = await api.app.inject({
        method: 'POST',
        url: `/api/admin/webhooks/${endpoint.id}/test`,
        headers: adminHeaders,
      });
      expect(response.statusCode).toBe(202);
      await waitFor(() => receiver.accepted().length === 1, { message: 'test delivered' });
      expect(receiver.deliveries[0]?.body).toMatchObject({
        type: 'webhook.test',
        data: { endpointId: endpoint.id },
      });
      expect(other.deliveries).toHaveLength(0);
      expect(channels.slack.requests).toHaveLength(0);
      void SLACK_OK;
    } finally {
      await other.close();
    }
  });
});
