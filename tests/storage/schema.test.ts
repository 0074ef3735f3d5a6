import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, pendingMigrations, readMigrations } from '../../src/storage/migrator.js';
import { openPgliteStorage } from '../../src/storage/pglite-storage.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import {
  createPostgresDatabase,
  createTestDatabase,
  type DatabaseKind,
  databaseKinds,
  describeEachDatabase,
  dropPostgresDatabase,
  hasPostgres,
  type TestDatabase,
} from '../helpers/databases.js';

const TABLES = [
  'conversations',
  'lead_events',
  'conversation_timeline',
  'follow_up_tasks',
  'notification_logs',
];

async function captureOne(storage: SqlStorage) {
  return storage.call<{ id: string; eventId: number }>('capture_lead', {
    p_lead: { customerName: 'Schema Test', customerEmail: 's@example.com' },
    p_sla_minutes: 5,
  });
}

describeEachDatabase('schema', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('has every migration applied and none pending', async () => {
    expect(await pendingMigrations(db.storage)).toEqual([]);
  });

  it('keeps lead_events append-only: content cannot change, rows cannot be deleted', async () => {
    const { eventId } = await captureOne(db.storage);
    for (const statement of [
      `update lead_events set payload = '{}'::jsonb where id = $1`,
      `update lead_events set event_type = 'lead.forged' where id = $1`,
      `update lead_events set conversation_id = null where id = $1`,
      `delete from lead_events where id = $1`,
    ]) {
      await expect(db.storage.query(statement, [eventId])).rejects.toMatchObject({ code: 'LR002' });
    }
    // Delivery bookkeeping may change.
    await db.storage.query('update lead_events set attempts = attempts + 1, last_error = $2 where id = $1', [
      eventId,
      'x',
    ]);
    const [row] = await db.storage.query('select attempts, event_type from lead_events where id = $1', [
      eventId,
    ]);
    expect(row).toEqual({ attempts: 1, event_type: 'lead.created' });
  });

  it('deletes only processed, old events through the retention function', async () => {
    const { eventId } = await captureOne(db.storage);
    const pending = await captureOne(db.storage);
    await db.storage.query(
      `update lead_events set processed = true, processed_at = now() - interval '40 days' where id = $1`,
      [eventId],
    );
    const result = await db.storage.call<{ deleted_events: number }>('purge_processed_events', {
      p_older_than: new Date(Date.now() - 30 * 86_400_000).toISOString(),
    });
    expect(result.deleted_events).toBe(1);
    const left = await db.storage.query('select id from lead_events where id = any($1::bigint[])', [
      [eventId, pending.eventId],
    ]);
    expect(left.map((r) => Number(r.id))).toEqual([pending.eventId]);
    // The flag is transaction-local: a plain delete afterwards is refused again.
    await expect(
      db.storage.query('delete from lead_events where id = $1', [pending.eventId]),
    ).rejects.toMatchObject({
      code: 'LR002',
    });
  });

  it('has row level security on every table', async () => {
    const rows = await db.storage.query<{ relname: string; relrowsecurity: boolean }>(
      `select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind = 'r'`,
    );
    expect(rows.map((r) => r.relname)).toEqual(expect.arrayContaining(TABLES));
    expect(rows.filter((r) => !r.relrowsecurity).map((r) => r.relname)).toEqual([]);
  });

  it('grants anon and authenticated nothing on any table or function', async () => {
    const tables = await db.storage.query<{ name: string; role: string }>(
      `select c.relname as name, r.role from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         cross join (values ('anon'), ('authenticated')) as r(role)
        where n.nspname = current_schema() and c.relkind in ('r', 'v', 'm')
          and (has_table_privilege(r.role, c.oid, 'select') or has_table_privilege(r.role, c.oid, 'insert')
               or has_table_privilege(r.role, c.oid, 'update') or has_table_privilege(r.role, c.oid, 'delete'))`,
    );
    expect(tables).toEqual([]);
    const functions = await db.storage.query<{ name: string; role: string }>(
      `select p.oid::regprocedure::text as name, r.role from pg_proc p
         join pg_namespace n on n.oid = p.pronamespace
         cross join (values ('anon'), ('authenticated')) as r(role)
        where n.nspname = current_schema() and has_function_privilege(r.role, p.oid, 'execute')`,
    );
    expect(functions).toEqual([]);
  });
});

describe.skipIf(!hasPostgres)('database boundary as the anon role [postgres]', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await db?.close();
  });

  it.each([
    ['read conversations', 'select * from conversations'],
    ['read lead_events', 'select * from lead_events'],
    ['insert a lead', `insert into conversations (customer_name) values ('x')`],
    ['call capture_lead', `select capture_lead('{"customerName":"x","customerEmail":"a@b.co"}'::jsonb)`],
    ['call the retention function', 'select purge_processed_events(now())'],
  ])('anon cannot %s', async (_label, sql) => {
    for (const role of ['anon', 'authenticated']) {
      const error = await db.storage
        .transaction(async (tx) => {
          await tx.exec(`set local role ${role}`);
          await tx.query(sql);
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: '42501' });
    }
  });
});

async function emptyDatabase(kind: DatabaseKind): Promise<{ storage: SqlStorage; close(): Promise<void> }> {
  if (kind === 'pglite') {
    const storage = await openPgliteStorage();
    return { storage, close: () => storage.close() };
  }
  const url = await createPostgresDatabase({ empty: true });
  const storage = openPostgresStorage({
    connectionString: url,
    poolMax: 2,
    connectTimeoutMs: 3000,
    queryTimeoutMs: 30_000,
  });
  return {
    storage,
    async close() {
      await storage.close();
      await dropPostgresDatabase(url);
    },
  };
}

describe.each(databaseKinds)('migrations [%s]', (kind) => {
  it('run on a database whose conversations table already exists, keeping its rows', async () => {
    const db = await emptyDatabase(kind);
    try {
      await db.storage.query(`create table conversations (
        id uuid primary key default gen_random_uuid(),
        customer_name text,
        status text default 'active',
        created_at timestamptz not null default now())`);
      await db.storage.query(`insert into conversations (customer_name) values ('Legacy Lead')`);

      const applied = await migrate(db.storage);
      expect(applied).toEqual(readMigrations().map((m) => `${m.version}_${m.name}`));
      const [legacy] = await db.storage.query(
        `select customer_name, status, metadata, sla_breached, version from conversations where customer_name = 'Legacy Lead'`,
      );
      expect(legacy).toEqual({
        customer_name: 'Legacy Lead',
        status: 'active',
        metadata: {},
        sla_breached: false,
        version: 1,
      });
      const { id } = await captureOne(db.storage);
      expect(id).toBeTruthy();

      // Running again applies nothing; running the raw files again is harmless too.
      expect(await migrate(db.storage)).toEqual([]);
      for (const migration of readMigrations()) {
        await db.storage.transaction((tx) => tx.exec(migration.sql));
      }
      const counts = await db.storage.query<{ n: number }>('select count(*)::int as n from conversations');
      expect(counts[0]!.n).toBe(2);
    } finally {
      await db.close();
    }
  });
});
