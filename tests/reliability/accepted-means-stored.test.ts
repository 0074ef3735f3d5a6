import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Seed 003: "Database down -> lead capture fails, user retries". Under concurrent
 * load the API's database connection is cut (dropped and refused) for a while:
 * the API must answer 503 quickly, recover by itself, and every lead it accepted
 * must exist with its event. Clients that retry with their Idempotency-Key end up
 * with exactly one lead each.
 */
const SOAK = process.env.LEADRELAY_SOAK === '1';
const CLIENTS = SOAK ? 32 : 12;
const RUN_MS = SOAK ? 60_000 : 5_000;
const CUT_AT_MS = SOAK ? 10_000 : 1_200;
const CUT_FOR_MS = SOAK ? 15_000 : 2_000;

interface Outcome {
  key: string;
  status: number;
  id?: string;
  ms: number;
  /** When the request started, in ms after the load began. */
  at: number;
}

describe.skipIf(!hasPostgres)('accepted means stored, across a database cut [postgres]', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let viaProxy: SqlStorage;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const target = new URL(db.url!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = new URL(db.url!);
    proxied.port = String(proxy.port);
    viaProxy = openPostgresStorage({
      connectionString: proxied.toString(),
      poolMax: 8,
      connectTimeoutMs: 1000,
      queryTimeoutMs: 2000,
    });
    t = await buildTestApp(viaProxy, { env: { RATE_LIMIT_LEADS_PER_MINUTE: '1000000' } });
  });
  afterAll(async () => {
    await t?.app.close();
    await viaProxy?.close();
    await proxy?.close();
    await db?.close();
  });

  it(
    'answers 503 quickly during the cut, recovers, and loses or duplicates nothing',
    async () => {
      const outcomes: Outcome[] = [];
      const started = Date.now();
      let sequence = 0;
      const post = async (key: string) => {
        const begin = Date.now();
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/chatbot/leads',
          headers: { 'idempotency-key': key },
          payload: { customerName: `Load ${key}`, customerEmail: `${key}@example.com` },
        });
        const body = response.json();
        return { key, status: response.statusCode, id: body.id, ms: Date.now() - begin, at: begin - started };
      };
      const client = async (n: number) => {
        while (Date.now() - started < RUN_MS) {
          outcomes.push(await post(`c${n}-${sequence++}`));
        }
      };
      // When the cut really happened (timers run late on a busy machine), in ms after start.
      const cut = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
      const faults = (async () => {
        await waitFor(() => Date.now() - started >= CUT_AT_MS, { timeoutMs: RUN_MS, intervalMs: 10 });
        cut.from = Date.now() - started;
        proxy.cut();
        await waitFor(() => Date.now() - started >= CUT_AT_MS + CUT_FOR_MS, {
          timeoutMs: RUN_MS,
          intervalMs: 10,
        });
        proxy.restore();
        cut.to = Date.now() - started;
      })();
      await Promise.all([...Array.from({ length: CLIENTS }, (_, n) => client(n)), faults]);

      const accepted = outcomes.filter((o) => o.status === 201);
      const unavailable = outcomes.filter((o) => o.status === 503);
      const other = outcomes.filter((o) => o.status !== 201 && o.status !== 503);
      expect(other).toEqual([]);
      expect(unavailable.length).toBeGreaterThan(0);
      // 503s come fast: bounded by the connect/query timeouts, never a hang.
      expect(Math.max(...unavailable.map((o) => o.ms))).toBeLessThan(4000);
      // 503s only for requests in flight while the connection was cut (plus one query timeout).
      const outsideCut = unavailable.filter((o) => o.at + o.ms < cut.from || o.at > cut.to + 2000);
      expect(outsideCut).toEqual([]);
      // Recovery by itself: leads are accepted again after the cut ends, no restart.
      expect(accepted.some((o) => o.at > cut.to)).toBe(true);
      const afterRestore = await post(`after-${Date.now()}`);
      expect(afterRestore.status).toBe(201);

      // Every 201 exists with its lead.created event.
      const ids = accepted.map((o) => o.id!);
      const stored = await db.storage.query<{ id: string; events: number }>(
        `select c.id, (select count(*)::int from lead_events e where e.conversation_id = c.id and e.event_type = 'lead.created') as events
         from conversations c where c.id = any($1::uuid[])`,
        [ids],
      );
      expect(stored.length).toBe(ids.length);
      expect(stored.filter((row) => row.events !== 1)).toEqual([]);
      // No lead exists without its event, anywhere.
      const orphans = await db.storage.query(
        `select id from conversations c where not exists (select 1 from lead_events e where e.conversation_id = c.id)`,
      );
      expect(orphans).toEqual([]);

      // Clients retry what failed with the same key: each key ends as exactly one lead.
      for (const failed of unavailable) {
        const retry = await post(failed.key);
        expect([200, 201]).toContain(retry.status);
      }
      const keys = [...new Set(outcomes.map((o) => o.key)), afterRestore.key];
      const perKey = await db.storage.query<{ n: number; keys: number }>(
        `select count(*)::int as n, count(distinct idempotency_key)::int as keys from conversations where idempotency_key = any($1::text[])`,
        [keys],
      );
      expect(perKey[0]).toEqual({ n: keys.length, keys: keys.length });

      console.info(
        `reliability: ${outcomes.length} requests, ${accepted.length} accepted, ${unavailable.length} answered 503 ` +
          `(max ${Math.max(...unavailable.map((o) => o.ms))} ms), ${proxy.dropped} connections dropped, ` +
          `${keys.length} leads after retries, 0 lost, 0 duplicated`,
      );
    },
    RUN_MS + 60_000,
  );
});
