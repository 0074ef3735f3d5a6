import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStorage } from '../../src/storage/storage.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { SLACK_OK } from '../helpers/receivers.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { type Channels, captureBacklog, countOf, FAST_WORKER_ENV, startChannels } from '../outbox/harness.js';
import { leadIdsIn, spawnWorker, type WorkerProcess, workerIdOf } from './worker-process.js';

/**
 * Seed 003: "Database down -> the worker resumes on its own". The worker process talks
 * to Postgres through a TCP proxy; the test cuts it (drops every connection, refuses
 * new ones) while the worker holds a batch whose sends then succeed, and restores it
 * some seconds later. The same process must record that batch, drain what arrived
 * meanwhile and send nothing twice; no lease may outlive its expiry, not even one on
 * events whose claim committed but whose answer never reached the worker.
 */
const SOAK = process.env.LEADRELAY_SOAK === '1';
const CUT_FOR_MS = SOAK ? 20_000 : 6_000;
const LEASE_SECONDS = 2;
const IN_FLIGHT = 10;
const DURING_CUT = SOAK ? 200 : 20;

describe.skipIf(!hasPostgres)('the database restarts under the worker [postgres]', () => {
  let db: TestDatabase;
  let url: string;
  let storage: SqlStorage;
  let proxy: TcpProxy;
  let channels: Channels;
  let worker: WorkerProcess | undefined;

  const count = (sql: string, params: unknown[] = []) => countOf(storage, sql, params);
  const capture = (n: number, prefix: string) => captureBacklog(storage, n, prefix);
  const processed = () => count('select count(*) as n from lead_events where processed');
  /** Events a worker still holds although their lease has run out. */
  const expiredLeases = () =>
    count('select count(*) as n from lead_events where locked_by is not null and locked_until < now()');

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 4 });
    url = db.url!;
    storage = db.storage;
    const target = new URL(url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  });
  afterAll(async () => {
    await proxy?.close();
    await db?.close();
  });
  beforeEach(async () => {
    channels = await startChannels();
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    worker = spawnWorker({
      DATABASE_URL: proxied.toString(),
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      LOG_LEVEL: 'info',
      ...FAST_WORKER_ENV,
      ...channels.env,
      WORKER_LEASE_SECONDS: String(LEASE_SECONDS),
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DATABASE_QUERY_TIMEOUT_MS: '2000',
    });
    const current = worker;
    await waitFor(() => workerIdOf(storage, current), { timeoutMs: 20_000, message: 'worker up' });
  });
  afterEach(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await worker?.exited;
    worker = undefined;
    proxy.restore();
    await channels.close();
    await storage.query(
      'truncate notification_logs, lead_events, follow_up_tasks, conversation_timeline, conversations, worker_heartbeats cascade',
    );
  });

  it('records the batch it held across the cut, drains the rest, sends nothing twice, no restart', async () => {
    const current = worker!;
    // Slack holds its answers until the connection is cut: the worker is mid-batch then.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    channels.slack.respond = async () => {
      await gate;
      return SLACK_OK;
    };
    await capture(IN_FLIGHT, 'Held');
    await waitFor(() => channels.slack.requests.length === IN_FLIGHT, { message: 'batch in flight' });

    const started = Date.now();
    proxy.cut();
    release(); // the sends succeed while the worker cannot reach its database
    await capture(DURING_CUT, 'During'); // leads keep coming: the API's connection is fine
    await waitFor(() => Date.now() - started >= CUT_FOR_MS, {
      timeoutMs: CUT_FOR_MS + 5_000,
      intervalMs: 50,
    });
    const cutMs = Date.now() - started;
    // While cut, the held batch's lease has run out (nobody renewed it).
    expect(await expiredLeases()).toBe(IN_FLIGHT);
    proxy.restore();

    const total = IN_FLIGHT + DURING_CUT;
    await waitFor(async () => (await processed()) === total, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: `all ${total} events processed after the cut (worker exit code ${current.child.exitCode})`,
    });
    const recoveredMs = Date.now() - started - cutMs;

    // The same process, still running: it reconnected by itself.
    expect(current.child.exitCode).toBeNull();
    expect(await count('select count(*) as n from worker_heartbeats')).toBe(1);
    expect(
      await count(
        "select count(*) as n from worker_heartbeats where stopped_at is null and last_beat_at > now() - interval '5 seconds'",
      ),
    ).toBe(1);
    expect(await count(`select count(*) as n from lead_events where outcome = 'delivered'`)).toBe(total);
    expect(await count('select count(*) as n from lead_events where locked_by is not null')).toBe(0);
    // The batch held across the cut was recorded, not re-sent: one send per channel per lead.
    const received = {
      slack: leadIdsIn(channels.slack.delivered().map((post) => post.raw)),
      email: leadIdsIn(channels.smtp.messages.map((message) => message.text)),
      telegram: leadIdsIn(channels.telegram.delivered().map((request) => request.params.text ?? '')),
    };
    for (const ids of Object.values(received)) {
      expect(ids).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
    }
    expect(await count(`select count(*) as n from notification_logs where status = 'sent'`)).toBe(total * 3);

    console.info(
      `reliability: database cut under the worker: ${total} events (${IN_FLIGHT} in flight at the cut, ` +
        `${DURING_CUT} captured during it), 1 cut of ${cutMs} ms (${proxy.dropped} connections dropped), ` +
        `recovered ${recoveredMs} ms after restore, 0 restarts, 0 duplicates, 0 leases left, 0 rows lost`,
    );
  }, 60_000);

  it('lets a lease it does not know about expire: a claim whose answer was lost', async () => {
    const current = worker!;
    const workerId = (await workerIdOf(storage, current))!;
    // A claim that committed while its answer was lost in the cut: the events are leased
    // to the live worker, which never saw them. Simulated in one transaction, so the
    // worker cannot claim them first.
    const claimedAt = Date.now();
    await storage.transaction(async (tx) => {
      await tx.query(
        `select capture_lead(jsonb_build_object('customerName', 'Orphan ' || g, 'intent', 'buy'))
           from generate_series(1, 5) g`,
      );
      await tx.query('select claim_lead_events($1, 5, $2)', [workerId, LEASE_SECONDS]);
    });
    expect(await count('select count(*) as n from lead_events where locked_by = $1', [workerId])).toBe(5);

    // The lease runs out and the events are claimed again: by the same worker, since it
    // is the only one. Its heartbeat must not keep renewing a lease on events it does not hold.
    await waitFor(async () => (await processed()) === 5, {
      timeoutMs: LEASE_SECONDS * 1000 * 4,
      intervalMs: 100,
      message: 'orphaned claim released at lease expiry and processed',
    });
    const heldMs = Date.now() - claimedAt;
    expect(current.child.exitCode).toBeNull();
    expect(
      await count(`select count(*) as n from lead_events where outcome = 'delivered' and attempts = 2`),
    ).toBe(5);
    expect(channels.slack.delivered()).toHaveLength(5);
    expect(await expiredLeases()).toBe(0);

    console.info(
      `reliability: claim answer lost: 5 events leased to a worker that never saw them, ` +
        `processed ${heldMs} ms later (lease ${LEASE_SECONDS} s), 0 leases held past expiry, 0 rows lost`,
    );
  }, 30_000);
});
