import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { ensureDashboardBuilt } from '../../src/dashboard/build.js';
import type { Storage } from '../../src/storage/storage.js';
import { generousLimits } from '../admin/fixtures.js';
import { buildTestApp, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';

/**
 * Helpers for the dashboard's browser tests: Debian's Chromium driven by
 * playwright-core (never `npx playwright install`), the API on loopback, sign-in,
 * axe-core, and layout checks. Screenshots go to tests/artifacts/dashboard/.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const ARTIFACTS = join(process.cwd(), 'tests', 'artifacts', 'dashboard');

export const WIDE = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  // A plain `npm test` needs no earlier `npm run build`, and a stale bundle never
  // passes for the code in the working tree: build when missing or older than src.
  await ensureDashboardBuilt();
  return chromium.launch({
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
}

export async function serve(storage: Storage): Promise<{ t: TestApp; base: string }> {
  const t = await buildTestApp(storage, { env: generousLimits });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, base: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}` };
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Page errors, console errors and API answers ≥ 400 seen so far. */
  problems: string[];
  close(): Promise<void>;
}

export async function newPage(browser: Browser, viewport = WIDE): Promise<OpenPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.url()}`);
  });
  return { context, page, problems, close: () => context.close() };
}

/** Opens `/admin<hash>` and signs in with the test key. */
export async function signIn(page: Page, base: string, hash = ''): Promise<void> {
  await page.goto(`${base}/admin${hash}`);
  await page.getByLabel('Admin API key').fill(TEST_ADMIN_KEY);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('#connection-state').waitFor();
}

export const connectionState = (page: Page) => page.locator('#connection-state').textContent();
export const detailHeading = (page: Page) => page.locator('#detail-heading').textContent();
export const leadRows = (page: Page) => page.locator('.leads-table tbody tr[data-id]');

const AXE = readFileSync(join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') allows it.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (context: Document) => Promise<{ violations: unknown }> } }
    ).axe;
    return (await axe.run(document)).violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`,
    );
}

/**
 * Horizontal overflow: the document wider than the viewport, or any card whose content
 * is wider than the card (tables scroll inside their own wrapper, which is allowed).
 */
export async function overflows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth) {
      found.push(`document is ${root.scrollWidth}px wide in a ${window.innerWidth}px viewport`);
    }
    for (const element of Array.from(document.querySelectorAll<HTMLElement>('.card, .stat, .banner, .top'))) {
      if (element.scrollWidth > element.clientWidth + 1) {
        found.push(`${element.className}: content ${element.scrollWidth}px in ${element.clientWidth}px`);
      }
      const box = element.getBoundingClientRect();
      if (box.right > window.innerWidth + 0.5) found.push(`${element.className} ends at ${box.right}px`);
    }
    for (const table of Array.from(document.querySelectorAll<HTMLElement>('.leads-table'))) {
      const card = table.closest('.card');
      if (card && table.getBoundingClientRect().right > card.getBoundingClientRect().right + 0.5) {
        found.push('the leads table sticks out of its card');
      }
    }
    return found;
  });
}

/** What the viewport shows (fullPage: false) or the whole scrolled page. */
export async function screenshot(page: Page, name: string, options = { fullPage: false }): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: options.fullPage });
}

/** One part of the page (e.g. the lead card on a phone, where the whole page is very long). */
export async function screenshotOf(locator: Locator, name: string): Promise<void> {
  await locator.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
