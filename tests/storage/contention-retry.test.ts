import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageContentionError } from '../../src/storage/contention-retry.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { buildTestApp } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { type CapturedLogs, captureLogs } from '../helpers/logs.js';

/**
 * Issue 10: deadlocks (40P01) and serialization failures (40001) are retried inside the
 * storage layer; when they persist the API answers 503 with Retry-After, never 500.
 * Real Postgres only (PGlite runs one query at a time: nothing can collide). The
 * functions that collide are created in this test's own database.
 */
describe.skipIf(!hasPostgres)('contention retries [postgres]', () => {
  let db: TestDatabase;
  let storage: SqlStorage;
  let logs: CapturedLogs;

  beforeAll(async () => {
    db = await createTestDatabase('postgres', { poolMax: 2 });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      // Find the deadlock in 50 ms rather than a second; it changes only how fast.
      await admin.query(`alter database ${new URL(db.url!).pathname.slice(1)} set deadlock_timeout = '50ms'`);
      await admin.query(`
        create table contention_rows (id integer primary key);
        insert into contention_rows values (1), (2);
        create sequence contention_tries;
        -- Locks two rows in the given order, pausing in between: called twice at once in
        -- opposite orders, the two transactions deadlock.
        create function test_lock_pair(p_first integer, p_second integer) returns jsonb
        language plpgsql as $$
        begin
          perform nextval('contention_tries');
          perform 1 from contention_rows where id = p_first for update;
          perform pg_sleep(0.2);
          perform 1 from contention_rows where id = p_second for update;
          return jsonb_build_object('locked', array[p_first, p_second]);
        end $$;
        -- Always refused as a serialization failure; the sequence (not rolled back) counts tries.
        create function test_always_serialization_failure() returns jsonb
        language plpgsql as $$
        begin
          perform nextval('contention_tries');
          raise exception 'could not serialize access' using errcode = '40001';
        end $$;`);
    } finally {
      await admin.end();
    }
    logs = captureLogs('warn');
    storage = openPostgresStorage({
      connectionString: db.url!,
      poolMax: 4,
      connectTimeoutMs: 3000,
      queryTimeoutMs: 15_000,
      logger: logs.logger,
    });
  });
  afterAll(async () => {
    await storage?.close();
    await db?.close();
  });

  const tries = async () =>
    Number((await storage.query<{ n: string }>('select last_value as n from contention_tries'))[0]!.n);

  it('retries the deadlock victim: both calls succeed', async () => {
    const results = await Promise.all([
      storage.call('test_lock_pair', { p_first: 1, p_second: 2 }),
      storage.call('test_lock_pair', { p_first: 2, p_second: 1 }),
    ]);
    expect(results).toEqual([{ locked: [1, 2] }, { locked: [2, 1] }]);
    const retries = logs.entries().filter((entry) => entry.sqlState === '40P01');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatchObject({ fn: 'test_lock_pair', retry: 1 });
  });

  it('gives up after a few tries with a StorageContentionError', async () => {
    const before = await tries();
    const error = await storage.call('test_always_serialization_failure').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageContentionError);
    expect(error).toMatchObject({ code: '40001', tries: 5 });
    expect((await tries()) - before).toBe(5);
  });

  it('answers 503 with Retry-After, not 500, when contention outlasts the retries', async () => {
    await db.storage.query(`
      create function test_refuse_capture() returns trigger language plpgsql as $$
      begin raise exception 'could not serialize access' using errcode = '40001'; end $$;
      create trigger test_refuse_capture before insert on conversations
        for each row execute function test_refuse_capture();`);
    const t = await buildTestApp(storage);
    try {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        payload: { customerName: 'Busy Day', customerEmail: 'busy@example.com' },
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json()).toEqual({ error: 'service_unavailable', message: expect.any(String) });
      expect(t.logs.text()).toContain('Database contention: retries exhausted');
    } finally {
      await t.app.close();
      await db.storage.query('drop trigger test_refuse_capture on conversations');
    }
  });
});
