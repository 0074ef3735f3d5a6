import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/leadrelay.js';
import { loadConfig } from '../../src/config.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { isSqlStorage } from '../../src/storage/storage.js';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import { createPostgresDatabase, dropPostgresDatabase, hasPostgres } from '../helpers/databases.js';
import { captureLogs } from '../helpers/logs.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Issue 10: operational work (migrations, cleanup, replay) must not run under the
 * API's per-query timeout (DATABASE_QUERY_TIMEOUT_MS, 5 s by default). Here the timeout
 * is 100 ms and another migrator holds the migration lock for longer: the migration
 * waits for it and then succeeds, from the CLI and from a process's own start-up.
 */
const MIGRATION_LOCK_KEY = 7_420_115; // src/storage/migrator.ts
const HOLD_MS = 600;

describe.skipIf(!hasPostgres)('operational work runs without the request timeout [postgres]', () => {
  const urls: string[] = [];
  afterEach(async () => {
    await Promise.all(urls.splice(0).map((url) => dropPostgresDatabase(url)));
  });

  /** Holds the migration lock on an empty database until `release()`. */
  async function lockedEmptyDatabase() {
    const url = await createPostgresDatabase({ empty: true });
    urls.push(url);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const waiting = async () => {
      const rows = await holder.query(
        `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      );
      return rows.rowCount! > 0;
    };
    return {
      url,
      /** Once the migrator waits for the lock, keep it waiting well past the timeout, then let go. */
      async releaseAfterWait() {
        await waitFor(waiting, { message: 'the migrator waiting for the lock' });
        // Elapsed time is what is under test here: nothing to await but the clock.
        await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
        await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        await holder.end();
      },
    };
  }

  it('leadrelay migrate waits out a held lock longer than DATABASE_QUERY_TIMEOUT_MS', async () => {
    const db = await lockedEmptyDatabase();
    let out = '';
    let err = '';
    const [code] = await Promise.all([
      runCli(['migrate'], {
        env: { DATABASE_URL: db.url, DATABASE_QUERY_TIMEOUT_MS: '100', LOG_LEVEL: 'warn' },
        out: (text) => {
          out += text;
        },
        err: (text) => {
          err += text;
        },
      }),
      db.releaseAfterWait(),
    ]);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(/Applied \d+ migration\(s\)/);
  });

  it('the migration at start-up does too, and the API keeps its timeout', async () => {
    const db = await lockedEmptyDatabase();
    const config = loadConfig({
      DATABASE_URL: db.url,
      DATABASE_QUERY_TIMEOUT_MS: '100',
      ADMIN_API_KEY: TEST_ADMIN_KEY,
    });
    const logs = captureLogs('info');
    const [storage] = await Promise.all([openStorage(config, logs.logger), db.releaseAfterWait()]);
    try {
      expect(logs.text()).toContain('Database migrations applied');
      // The request storage still gives up on a slow query.
      if (!isSqlStorage(storage)) throw new Error('expected SQL storage');
      await expect(storage.query('select pg_sleep(1)')).rejects.toThrow(/timeout|canceling statement/);
    } finally {
      await storage.close();
    }
  });
});
