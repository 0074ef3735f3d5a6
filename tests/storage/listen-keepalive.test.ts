import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLiveFeed, type FeedMessage } from '../../src/admin/live-feed.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 10: the LISTEN connection had no keepalive. On a half-open TCP connection
 * (the link silently gone, no error on either end) NOTIFYs simply stopped: workers fell
 * back to polling and dashboards stayed "Live" but stale. The connection is now checked
 * periodically and replaced when it does not answer, and the subscriber is told
 * (onReconnect), so the worker claims and the admin feed sends `resync`.
 */
const CHANNEL = 'keepalive_test';

describe.skipIf(!hasPostgres)('LISTEN keepalive [postgres]', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let storage: SqlStorage;

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 2 });
  });
  afterAll(async () => {
    await db?.close();
  });
  afterEach(async () => {
    await storage?.close();
    await proxy?.close();
  });

  async function subscribe() {
    const url = new URL(db.url!);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.host = `127.0.0.1:${proxy.port}`;
    const logs = captureLogs('info');
    storage = openPostgresStorage({
      connectionString: url.toString(),
      poolMax: 2,
      connectTimeoutMs: 2000,
      queryTimeoutMs: 5000,
      logger: logs.logger,
      listen: { checkIntervalMs: 200, checkTimeoutMs: 500 },
    });
    const received: string[] = [];
    let reconnects = 0;
    const unlisten = await storage.listen(CHANNEL, (payload) => received.push(payload), {
      onReconnect: () => {
        reconnects++;
      },
    });
    expect(unlisten).not.toBeNull();
    /** NOTIFY from a direct connection (not through the proxy); resolves once it arrived. */
    const notifyAndReceive = async (payload: string) => {
      await waitFor(
        async () => {
          if (!received.includes(payload))
            await db.storage.query('select pg_notify($1, $2)', [CHANNEL, payload]);
          return received.includes(payload);
        },
        { intervalMs: 200, message: `notification ${payload}` },
      );
    };
    return { received, reconnects: () => reconnects, notifyAndReceive, logs };
  }

  it('replaces a half-open connection, tells the subscriber, and receives again', async () => {
    const sub = await subscribe();
    await sub.notifyAndReceive('before');
    expect(sub.reconnects()).toBe(0);

    proxy.freeze();
    await waitFor(() => sub.reconnects() === 1, {
      timeoutMs: 10_000,
      message: 'onReconnect after the check',
    });
    await sub.notifyAndReceive('after');
    expect(sub.logs.text()).toContain('check failed');
  });

  it('tells admin dashboards to resync when the feed had to reconnect', async () => {
    const sub = await subscribe();
    const feed = createLiveFeed(storage, sub.logs.logger);
    const messages: FeedMessage[] = [];
    try {
      await feed.subscribe((message) => messages.push(message));
      proxy.freeze();
      await waitFor(() => messages.some((message) => message.kind === 'resync'), {
        timeoutMs: 10_000,
        message: 'resync on the admin feed',
      });
    } finally {
      await feed.close();
    }
  });

  it('reconnects after the connection is cut and tells the subscriber', async () => {
    const sub = await subscribe();
    await sub.notifyAndReceive('before');
    proxy.cut();
    proxy.restore();
    await waitFor(() => sub.reconnects() === 1, { timeoutMs: 10_000, message: 'onReconnect after the cut' });
    await sub.notifyAndReceive('after');
  });
});
