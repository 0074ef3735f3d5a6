import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/storage.js';
import { createLead, generousLimits, makeOverdue } from '../admin/fixtures.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core.
 * CI (.ci/run) installs Chromium when it is missing; elsewhere the test is skipped.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ARTIFACTS = join(process.cwd(), 'tests', 'artifacts');

if (!hasChromium) {
  console.warn(
    `Skipping the dashboard browser test: ${CHROMIUM} not found. Install it with ` +
      '`sudo apt-get install -y chromium` (never `npx playwright install`).',
  );
}

async function openDashboard(browser: Browser, base: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A failed stream or a CSP violation would show up here.
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${base}/admin`);
  await page.getByLabel('Admin API key').fill(TEST_ADMIN_KEY);
  await page.getByRole('button', { name: 'Connect' }).click();
  return { page, problems };
}

async function postLead(base: string, customerName: string): Promise<string> {
  const response = await fetch(`${base}/api/chatbot/leads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerName, customerEmail: 'browser@example.com', intent: 'buy' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

describe.skipIf(!hasChromium)('admin dashboard in Chromium', () => {
  let browser: Browser;
  let db: TestDatabase;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    db = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await browser?.close();
    await db?.close();
  });

  async function serve(storage: Storage): Promise<{ t: TestApp; base: string }> {
    const t = await buildTestApp(storage, { env: generousLimits });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    return { t, base: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}` };
  }

  it('shows a posted lead live, its timeline, the SLA banner, and marks it contacted', async () => {
    const { t, base } = await serve(db.storage);
    const { page, problems } = await openDashboard(browser, base);
    try {
      // The SSE stream connected (not the polling fallback).
      await expect.poll(() => page.locator('#connection').textContent(), { timeout: 10_000 }).toBe('Live');

      const id = await postLead(base, 'Browser Bella');
      const open = page.getByRole('button', { name: 'Open lead Browser Bella' });
      await open.waitFor({ timeout: 10_000 });

      await open.click();
      await expect
        .poll(() => page.locator('#detail-heading').textContent(), { timeout: 10_000 })
        .toBe('Browser Bella');
      const timelineTab = page.getByRole('tab', { name: 'Timeline' });
      expect(await timelineTab.getAttribute('aria-selected')).toBe('true');
      await page.locator('#timeline').getByText('Lead Created').waitFor();

      // An overdue lead: the sweep breaches it and the banner appears without a reload.
      const late = await createLead(db.storage, { customerName: 'Late Larry' });
      await makeOverdue(db.storage, late.id);
      await db.storage.call('sweep_sla_breaches', {});
      const banner = page.getByRole('alert').filter({ hasText: 'SLA alert' });
      await banner.waitFor({ timeout: 10_000 });
      expect(await banner.textContent()).toMatch(/1 lead is overdue/);

      await page.getByRole('button', { name: 'Mark contacted' }).click();
      await page.locator('#timeline').getByText('Status changed to contacted').waitFor();
      const [row] = await db.storage.query('select status from conversations where id = $1', [id]);
      expect(row).toEqual({ status: 'contacted' });

      // Keyboard: arrow keys move between tabs.
      await timelineTab.focus();
      await page.keyboard.press('ArrowRight');
      expect(await page.getByRole('tab', { name: 'Notifications' }).getAttribute('aria-selected')).toBe(
        'true',
      );
      await page.keyboard.press('ArrowLeft');

      await page.screenshot({ path: join(ARTIFACTS, 'admin-dashboard.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await t.app.close();
    }
  });

  it('falls back to polling when the stream is unavailable', async () => {
    const noListen: Storage = {
      mode: 'supabase',
      call: (fn, args) => db.storage.call(fn, args),
      listen: async () => null,
      close: async () => {},
    };
    const { t, base } = await serve(noListen);
    const { page } = await openDashboard(browser, base);
    try {
      await expect
        .poll(() => page.locator('#connection').textContent(), { timeout: 10_000 })
        .toBe('Polling every second');
      await postLead(base, 'Polled Paul');
      await page.getByRole('button', { name: 'Open lead Polled Paul' }).waitFor({ timeout: 10_000 });
    } finally {
      await page.close();
      await t.app.close();
    }
  });
});
