import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulkRunner } from '../../src/bulk/bulk-runner.js';
import { seedLeads, startRunner } from '../bulk/fixtures.js';
import type { TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { hasChromium, launchChromium, leadRows, newPage, screenshot, serve, signIn } from './browser.js';

/**
 * Bulk actions in a real browser (issue 15, item 6): select 30 leads by their
 * checkboxes, set their status through the preview and the confirmation, watch the
 * progress reach 100%, undo it from the history, and see the old statuses back.
 */
describe.skipIf(!hasChromium)('bulk actions in the dashboard (Chromium)', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let db: TestDatabase;
  let t: TestApp;
  let base: string;
  let runner: BulkRunner;

  beforeAll(async () => {
    [browser, db] = await Promise.all([launchChromium(), createTestDatabase('pglite')]);
    ({ t, base } = await serve(db.storage));
    // The worker's engine, in this process (BULK_BATCH_SIZE 7: several batches to watch).
    runner = await startRunner(db.storage, { BULK_BATCH_SIZE: '7' });
  });
  afterAll(async () => {
    await runner?.stop();
    await t?.app.close();
    await browser?.close();
    await db?.close();
  });

  it('select 30, set status via preview and confirmation, progress to 100%, undo', async () => {
    const ids = await seedLeads(db.storage, 30, { name: 'Browser Lead' });
    // Mixed old statuses, so the undo has something to restore.
    await db.storage.query(`update conversations set status = 'contacted', version = 2 where id = any($1)`, [
      ids.slice(0, 10),
    ]);
    const oldStatuses = async () =>
      db.storage.query<{ id: string; status: string }>(
        'select id, status from conversations where id = any($1) order by id',
        [ids],
      );
    const before = await oldStatuses();

    const { page, problems, close } = await newPage(browser);
    try {
      await signIn(page, base);
      await expect.poll(async () => leadRows(page).count()).toBe(30);
      for (const row of await leadRows(page).all()) await row.getByRole('checkbox').check();
      await expect.poll(() => page.getByTestId('bulk-selected').textContent()).toBe('30 leads selected');

      await page.getByLabel('Action', { exact: true }).selectOption('set_status');
      await page.getByLabel('New status').selectOption('won');
      await page.getByRole('button', { name: 'Preview' }).click();
      const preview = page.getByTestId('bulk-preview-count');
      await expect.poll(() => preview.textContent()).toContain('30 leads match, 30 leads would change');
      await screenshot(page, 'bulk-preview');
      await page.getByRole('button', { name: 'Apply to 30 leads…' }).click();
      await page.getByRole('alertdialog', { name: 'Confirm the bulk action' }).waitFor();
      await page.getByRole('button', { name: 'Confirm' }).click();

      const progress = page.getByTestId('bulk-progress');
      await expect.poll(() => progress.getAttribute('data-status'), { timeout: 20_000 }).toBe('completed');
      expect(await page.getByTestId('bulk-percent').textContent()).toBe('100%');
      expect(await progress.textContent()).toContain('30 leads changed');
      await expect
        .poll(
          async () =>
            (await leadRows(page).locator('.status').allTextContents()).filter((s) => s === 'won').length,
        )
        .toBe(30);
      await screenshot(page, 'bulk-progress-done', { fullPage: true });
      expect((await oldStatuses()).every((row) => row.status === 'won')).toBe(true);

      const history = page.locator('.bulk-history tbody tr').first();
      await history.getByRole('button', { name: 'Undo' }).click();
      await expect.poll(() => progress.getAttribute('data-status'), { timeout: 20_000 }).toBe('completed');
      expect(await progress.textContent()).toContain('Undo');
      await expect.poll(async () => JSON.stringify(await oldStatuses())).toBe(JSON.stringify(before));
      await expect
        .poll(
          async () =>
            (await leadRows(page).locator('.status').allTextContents()).filter((s) => s === 'contacted')
              .length,
        )
        .toBe(10);
      await expect
        .poll(() => page.locator('.bulk-history tbody tr').first().textContent())
        .toContain('undo of');
      await screenshot(page, 'bulk-undone', { fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);
});
