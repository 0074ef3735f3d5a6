import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { bulkStore } from '../../src/bulk/bulk-store.js';
import { type CliIo, runCli } from '../../src/cli/leadrelay.js';
import { openPgliteStorage } from '../../src/storage/pglite-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { OWNER } from '../../src/team/principal.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { seedLeads } from './fixtures.js';

/** `leadrelay cleanup` purges expired undo data (--dry-run counts); `leadrelay health` reports stalls. */
async function cli(env: Record<string, string>, ...argv: string[]) {
  let out = '';
  const io: CliIo = {
    env: { LOG_LEVEL: 'warn', ...env },
    out: (text) => {
      out += text;
    },
    err: () => {},
    interactive: false,
  };
  return { code: await runCli(argv, io), out };
}

describeEachDatabase('leadrelay cleanup and health for bulk actions', (kind) => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let env: Record<string, string>;

  async function onDatabase<T>(work: (storage: SqlStorage) => Promise<T>): Promise<T> {
    if (db) return work(db.storage);
    const storage = await openPgliteStorage({ dataDir: join(dataDir, 'pglite') });
    try {
      return await work(storage);
    } finally {
      await storage.close();
    }
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'leadrelay-bulk-cli-'));
    if (kind === 'postgres') {
      db = await createTestDatabase('postgres', { poolMax: 3 });
      env = { DATABASE_URL: db.url! };
    } else {
      const storage = await openPgliteStorage({
        dataDir: join(dataDir, 'pglite'),
        loadDataDir: new Blob([readFileSync(inject('pgliteTemplatePath'))]),
      });
      await storage.close();
      env = { DATA_DIR: dataDir };
    }
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('cleanup --dry-run counts expired undo data, cleanup removes it and says so', async () => {
    const id = await onDatabase(async (storage) => {
      const store = bulkStore(storage);
      const ids = await seedLeads(storage, 3, { source: 'cli-purge' });
      const action = await store.create('add_tag', { ids }, { tag: 'cli' }, OWNER, 7);
      await store.claim('cli-test', 30);
      expect((await store.runBatch(action.id, 'cli-test', 500, 30)).state).toBe('done');
      // Finished eight days ago: past the 7-day undo window.
      await storage.query(
        `update bulk_actions set finished_at = now() - interval '8 days', undo_expires_at = now() - interval '1 day'
          where id = $1`,
        [action.id],
      );
      return action.id;
    });
    const dry = await cli(env, 'cleanup', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('would remove the undo data of 1 bulk action(s) (3 lead snapshot row(s))');
    const items = () =>
      onDatabase(async (s) =>
        Number(
          (
            await s.query<{ n: string }>('select count(*) as n from bulk_action_items where action_id = $1', [
              id,
            ])
          )[0]!.n,
        ),
      );
    expect(await items()).toBe(3);
    const real = await cli(env, 'cleanup');
    expect(real.code).toBe(0);
    expect(real.out).toContain('Removed the undo data of 1 bulk action(s) (3 lead snapshot row(s))');
    expect(await items()).toBe(0);
    expect((await cli(env, 'cleanup', '--dry-run')).out).toContain('undo data of 0 bulk action(s)');
  }, 120_000);

  it('health fails on a bulk action with no progress for 5 minutes', async () => {
    const id = await onDatabase(async (storage) => {
      const ids = await seedLeads(storage, 2, { source: 'cli-stall' });
      const action = await bulkStore(storage).create('set_status', { ids }, { status: 'won' }, OWNER, 7);
      await storage.query(`update bulk_actions set created_at = now() - interval '6 minutes' where id = $1`, [
        action.id,
      ]);
      return action.id;
    });
    const report = await cli(env, 'health', '--json');
    const bulk = (
      JSON.parse(report.out) as { checks: { name: string; status: string; detail: string }[] }
    ).checks.find((check) => check.name === 'bulk');
    expect(bulk).toMatchObject({ status: 'fail', detail: expect.stringContaining(id) });
    expect(report.code).toBe(1);
  }, 120_000);
});
