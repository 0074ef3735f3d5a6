import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { StorageQueryError, StorageUnavailableError } from '../../src/storage/errors.js';
import type { Storage } from '../../src/storage/storage.js';
import { openSupabaseStorage } from '../../src/storage/supabase-storage.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type PostgrestStandIn, startPostgrestStandIn } from '../helpers/postgrest-stand-in.js';
import { TEST_SECRETS, TEST_SUPABASE_PROJECT } from '../helpers/secrets.js';

/**
 * Postgres puts the whole failing row into a constraint violation's DETAIL ("Failing
 * row contains (…, +971501234567, test@example.com, …)") and PostgREST forwards it as
 * `details`. Logged, that is contact data in the logs. Here a lead breaks a check
 * constraint in every mode; the log line keeps SQLSTATE, constraint and table only.
 * These lines also go to the run's log audit (tests/global-setup.ts), which fails the
 * run on any phone or email it finds.
 */
const PHONE = '+971501234567';
const EMAIL = 'test@example.com';
const lead = { customerName: 'Row Holder', customerPhone: PHONE, customerEmail: EMAIL };
const CONSTRAINT_SQL = `alter table conversations add constraint audit_refuses_this_lead
  check (customer_email is distinct from '${EMAIL}')`;

describeEachDatabase('a constraint violation on a row with contact data', (kind) => {
  for (const mode of ['sql', 'supabase rpc'] as const) {
    describe(mode, () => {
      let db: TestDatabase;
      let standIn: PostgrestStandIn | undefined;
      let storage: Storage;
      let t: TestApp;

      beforeAll(async () => {
        db = await createTestDatabase(kind);
        await db.storage.query(CONSTRAINT_SQL);
        storage = db.storage;
        if (mode === 'supabase rpc') {
          standIn = await startPostgrestStandIn(db.storage, TEST_SUPABASE_PROJECT);
          storage = openSupabaseStorage({
            url: standIn.url,
            serviceRoleKey: TEST_SECRETS.supabaseServiceRoleKey,
            requestTimeoutMs: 5000,
          });
        }
        t = await buildTestApp(storage);
      });
      afterAll(async () => {
        await t?.app.close();
        if (standIn) await storage?.close();
        await standIn?.close();
        await db?.close();
      });

      it('is logged as SQLSTATE, constraint and table, without the row', async () => {
        const response = await t.app.inject({ method: 'POST', url: '/api/chatbot/leads', payload: lead });
        expect(response.statusCode).toBe(500);
        const logged = t.logs.entries().find((entry) => entry.err !== undefined) as
          | { err: Record<string, unknown> }
          | undefined;
        expect(logged?.err).toMatchObject({
          code: '23514',
          constraint: 'audit_refuses_this_lead',
          table: 'conversations',
        });
        expect(t.logs.text()).not.toContain(PHONE.slice(1));
        expect(t.logs.text()).not.toContain(EMAIL);
        expect(t.logs.text()).not.toContain('Failing row');
      });
    });
  }
});

describe('log protection at any depth', () => {
  const logged = (write: (logger: ReturnType<typeof createLogger>) => void) => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    write(createLogger('info', sink));
    return lines.join('');
  };

  it('censors secret keys and masks contact keys however deep they sit', () => {
    const text = logged((logger) =>
      logger.info(
        {
          job: {
            attempt: { request: { headers: { authorization: 'Bearer s3cr3t-deep' }, token: 'tok-deep' } },
          },
          leads: [{ nested: { customerPhone: PHONE, customer_email: EMAIL } }],
        },
        'deep',
      ),
    );
    expect(text).not.toContain('s3cr3t-deep');
    expect(text).not.toContain('tok-deep');
    expect(text).not.toContain(PHONE);
    expect(text).not.toContain(EMAIL);
    expect(text).toContain('+***567');
    expect(text).toContain('t***@example.com');
  });

  it('reduces database errors anywhere in a cause chain and drops their detail', () => {
    const driverError = Object.assign(new Error(`invalid input syntax for type uuid: "${EMAIL}"`), {
      code: '22P02',
      severity: 'ERROR',
      detail: `Failing row contains (${PHONE}, ${EMAIL})`,
    });
    const wrapped = new StorageUnavailableError('database unavailable', {
      cause: new Error('outer', { cause: driverError }),
    });
    const query = new StorageQueryError(
      'violates check constraint "c1"',
      '23514',
      `Failing row contains (${PHONE})`,
    );
    const text = logged((logger) => {
      logger.error({ err: wrapped }, 'wrapped');
      logger.error({ context: { failures: [query] } }, 'nested');
    });
    expect(text).not.toContain(PHONE);
    expect(text).not.toContain(EMAIL);
    expect(text).toContain('22P02');
    expect(text).toContain('"constraint":"c1"');
    expect(query.detail).toContain('Failing row');
  });
});
