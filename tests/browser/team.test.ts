import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, createLead } from '../admin/fixtures.js';
import type { TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from '../team/fixtures.js';
import { detailHeading, hasChromium, launchChromium, leadRows, newPage, serve } from './browser.js';

/**
 * The team views in a real browser (issue 12, item 6): a member signs in with their own
 * token, narrows the list to "Mine", reassigns a lead, and finds it in the audit view.
 */
describe.skipIf(!hasChromium)('team in the dashboard (Chromium)', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let db: TestDatabase;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    [browser, db] = await Promise.all([launchChromium(), createTestDatabase('pglite')]);
    ({ t, base } = await serve(db.storage));
  });
  afterAll(async () => {
    await t?.app.close();
    await browser?.close();
    await db?.close();
  });

  it('member sign-in, Mine, reassign, and the audit entry', async () => {
    const mia = await addMember(t.app, { name: 'Mia Admin', role: 'admin' });
    const noah = await addMember(t.app, { name: 'Noah Agent' });
    const leads: Record<string, string> = {};
    for (const [name, owner] of [
      ['Mine Marta', mia.id],
      ['Other Otto', noah.id],
      ['Nobody Nils', null],
    ] as const) {
      const { id } = await createLead(db.storage, { customerName: name });
      leads[name] = id;
      if (owner) {
        const patched = await t.app.inject({
          method: 'PATCH',
          url: `/api/admin/leads/${id}`,
          headers: auth,
          payload: { version: 1, assignedTo: owner },
        });
        expect(patched.statusCode).toBe(200);
      }
    }

    const { page, problems, close } = await newPage(browser);
    try {
      await page.goto(`${base}/admin`);
      await page.getByLabel('Admin API key').fill(mia.token);
      await page.getByRole('button', { name: 'Connect' }).click();
      await leadRows(page).filter({ hasText: 'Other Otto' }).waitFor();
      // The owner column names each lead's owner.
      await leadRows(page).filter({ hasText: 'Other Otto' }).getByText('Noah Agent').waitFor();

      await page.getByLabel('Owner').first().selectOption('me');
      await expect.poll(() => page.url()).toContain('assignedTo=me');
      await expect.poll(async () => (await leadRows(page).allTextContents()).length).toBe(1);
      expect((await leadRows(page).allTextContents())[0]).toContain('Mine Marta');

      await leadRows(page).filter({ hasText: 'Mine Marta' }).click();
      await expect.poll(() => detailHeading(page)).toBe('Mine Marta');
      await page.locator('#detail-assignee').selectOption(noah.id);
      await page.locator('.timeline').getByText('Assigned to Noah Agent (manual)').waitFor();
      const [row] = await db.storage.query<{ assignee_id: string }>(
        'select assignee_id from conversations where id = $1',
        [leads['Mine Marta']],
      );
      expect(row!.assignee_id).toBe(noah.id);
      const [entry] = await db.storage.query<{ actor: string }>(
        `select actor from conversation_timeline where conversation_id = $1 and title = 'Assigned to Noah Agent (manual)'`,
        [leads['Mine Marta']],
      );
      expect(entry!.actor).toBe('Mia Admin');

      await page.goto(`${base}/admin#/audit`);
      const audit = page.locator('.audit-table tbody tr').filter({ hasText: 'lead.update' }).filter({
        hasText: 'Mia Admin',
      });
      await audit.first().waitFor();
      expect(await audit.first().textContent()).toContain(leads['Mine Marta']!);

      await page.goto(`${base}/admin#/team`);
      await page.locator('.team-table').getByText('Noah Agent').waitFor();
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
