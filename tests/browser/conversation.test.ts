import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWidgetBuilt } from '../../src/dashboard/build.js';
import { generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { type HttpProxy, startHttpProxy } from '../helpers/http-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { addMember } from '../team/fixtures.js';
import {
  connectionState,
  detailHeading,
  hasChromium,
  launchChromium,
  leadRows,
  newPage,
  type OpenPage,
  screenshot,
  screenshotOf,
  seriousViolations,
} from './browser.js';

/**
 * Issue 14, item 8, in Chromium: the widget on a customer's site (another origin,
 * listed in FRONTEND_URL) running docs/widget.md's ten-line page as it is, and the
 * dashboard, both talking to the API through an HTTP proxy that can lose an answer or
 * refuse the push connections (SSE).
 *
 * - The widget's first submission loses its answer after the API stored it: the widget
 *   repeats it with its Idempotency-Key, and there is exactly one lead.
 * - A visitor message shows in the dashboard within 1 s; an agent reply in the widget
 *   within 1 s (both live over SSE).
 * - With every /stream refused, both still arrive within 2 s (polling).
 */
const PUSH_MS = 1000;
const POLL_MS = 2000;

/** docs/widget.md's example page, with the API's address in place of the placeholder. */
function examplePage(apiUrl: string): string {
  const doc = readFileSync(join(process.cwd(), 'docs', 'widget.md'), 'utf8');
  const snippet = /```html\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!snippet) throw new Error('docs/widget.md has no html example');
  expect(snippet.trimEnd().split('\n')).toHaveLength(10);
  expect(snippet).toContain('https://api.example.com/widget/leadrelay.js');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Customer site</title><link rel="icon" href="data:,"></head><body>
${snippet.replaceAll('https://api.example.com', apiUrl)}</body></html>`;
}

async function startSite(html: () => string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

/** Milliseconds until `text` is shown in `selector` on `page`. */
async function timeUntilShown(page: Page, selector: string, text: string, timeoutMs: number) {
  const started = Date.now();
  await page
    .locator(selector)
    .filter({ hasText: text })
    .first()
    .waitFor({ timeout: timeoutMs + 3000 });
  return Date.now() - started;
}

describe.skipIf(!hasChromium)('conversation: widget and dashboard together (Chromium)', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let db: TestDatabase;
  let t: TestApp;
  let proxy: HttpProxy;
  let site: { server: Server; origin: string };
  let dashboard: OpenPage;
  let widget: OpenPage;
  let leadId = '';

  beforeAll(async () => {
    await ensureWidgetBuilt();
    let apiUrl = '';
    site = await startSite(() => examplePage(apiUrl));
    [browser, db] = await Promise.all([launchChromium(), createTestDatabase('pglite')]);
    t = await buildTestApp(db.storage, { env: { ...generousLimits, FRONTEND_URL: site.origin } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    proxy = await startHttpProxy(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`);
    apiUrl = proxy.url;
    dashboard = await newPage(browser);
    widget = await newPage(browser, { width: 480, height: 720 });
  });
  afterAll(async () => {
    await widget?.close();
    await dashboard?.close();
    await browser?.close();
    await proxy?.close();
    await t?.app.close();
    await new Promise((resolve) => site?.server.close(resolve));
    await db?.close();
  });

  const visitorSays = async (text: string) => {
    await widget.page.locator('#say input[name=text]').fill(text);
    await widget.page.locator('#say button').click();
  };
  const agentSays = async (text: string) => {
    await dashboard.page.getByLabel('Reply to the visitor').fill(text);
    await dashboard.page.getByRole('button', { name: 'Send reply' }).click();
  };
  const streamsOpen = () => proxy.requests.filter((r) => r.path.includes('/stream?') && r.outcome === 200);

  it('stores the first submission once though its answer is lost, then chats live both ways', async () => {
    // The agent signs in with their own token: replies carry their name (never their email).
    const mia = await addMember(t.app, { name: 'Mia Agent', email: 'mia@sales.test' });
    await dashboard.page.goto(`${proxy.url}/admin`);
    await dashboard.page.getByLabel('Admin API key').fill(mia.token);
    await dashboard.page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => connectionState(dashboard.page)).toContain('Live');

    proxy.dropNextAnswer((method, path) => method === 'POST' && path === '/api/chatbot/leads');
    await widget.page.goto(`${site.origin}/`);
    await widget.page.locator('#lead input[name=customerName]').fill('Wanda Widget');
    await widget.page.locator('#lead input[name=customerEmail]').fill('wanda@example.com');
    await widget.page.locator('#lead button').click();
    await widget.page.locator('#say').waitFor({ state: 'visible' });

    const intake = proxy.requests.filter((r) => r.method === 'POST' && r.path === '/api/chatbot/leads');
    expect(intake.map((r) => r.outcome)).toEqual(['dropped', 200]);
    expect(intake[0]!.headers.origin).toBe(site.origin);
    expect(intake[1]!.headers['idempotency-key']).toBe(intake[0]!.headers['idempotency-key']);
    const leads = await db.storage.query<{ id: string }>(
      `select id::text as id from conversations where customer_email = 'wanda@example.com'`,
    );
    expect(leads).toHaveLength(1);
    leadId = leads[0]!.id;

    // The new lead reaches the dashboard live; open it.
    await leadRows(dashboard.page).filter({ hasText: 'Wanda Widget' }).click();
    await expect.poll(() => detailHeading(dashboard.page)).toBe('Wanda Widget');
    await dashboard.page.locator('.conversation').getByText('No messages yet.').waitFor();
    // Both push connections are open before timing anything.
    await waitFor(
      () => streamsOpen().some((r) => r.path.startsWith(`/api/chatbot/conversations/${leadId}/`)),
      {
        message: "the widget's stream",
      },
    );

    await visitorSays('Is parking included?');
    const toDashboard = await timeUntilShown(
      dashboard.page,
      '.chat-log .chat-visitor',
      'Is parking included?',
      PUSH_MS,
    );
    expect(toDashboard).toBeLessThanOrEqual(PUSH_MS);

    await agentSays('Yes, one space in the garage.');
    const toWidget = await timeUntilShown(widget.page, '#chat li', 'Yes, one space in the garage.', PUSH_MS);
    expect(toWidget).toBeLessThanOrEqual(PUSH_MS);
    console.info(`conversation live: visitor → dashboard ${toDashboard} ms, agent → widget ${toWidget} ms`);
    // The widget names the agent, never their email.
    expect(await widget.page.locator('#chat li').allTextContents()).toEqual([
      'visitor: Is parking included?',
      'Mia Agent: Yes, one space in the garage.',
    ]);

    // Shown in the dashboard means read.
    await waitFor(async () => {
      const [row] = await db.storage.query<{ n: number }>(
        `select count(*)::int as n from chat_messages where conversation_id = $1 and role = 'visitor' and read_at is null`,
        [leadId],
      );
      return row!.n === 0;
    });
    // The first reply was the first contact.
    await dashboard.page.locator('.fields').getByText('First response').waitFor();
    expect(
      await dashboard.page.locator('.field-row', { hasText: 'First response' }).textContent(),
    ).not.toContain('Not yet');
    expect(await seriousViolations(dashboard.page)).toEqual([]);
    await screenshot(dashboard.page, 'conversation');
    await screenshotOf(dashboard.page.locator('.detail'), 'conversation-pane');
    await screenshot(widget.page, 'conversation-widget');
    expect(dashboard.problems).toEqual([]);
    // The only failure the widget page saw is the answer the proxy dropped.
    expect(widget.problems.filter((p) => !p.includes('ERR_EMPTY_RESPONSE'))).toEqual([]);
  });

  it('shows an unread badge in the list until the conversation is shown', async () => {
    await dashboard.page.getByRole('button', { name: /Close/ }).click();
    await visitorSays('Could I visit on Saturday?');
    const row = leadRows(dashboard.page).filter({ hasText: 'Wanda Widget' });
    await row.locator('.badge-unread').waitFor({ timeout: PUSH_MS + 2000 });
    expect(await row.locator('.badge-unread').textContent()).toBe('1 1 unread message');
    await row.click();
    await dashboard.page.locator('.chat-log').getByText('Could I visit on Saturday?').waitFor();
    await row.locator('.badge-unread').waitFor({ state: 'detached' });
  });

  it('still delivers both ways within 2 s by polling when the push connections are refused', async () => {
    proxy.block((_method, path) => path.endsWith('/stream'));
    await expect.poll(() => connectionState(dashboard.page), { timeout: 5000 }).toContain('Polling');
    const before = streamsOpen().length;

    await visitorSays('Is the flat still available in March?');
    const toDashboard = await timeUntilShown(
      dashboard.page,
      '.chat-log .chat-visitor',
      'Is the flat still available in March?',
      POLL_MS,
    );
    expect(toDashboard).toBeLessThanOrEqual(POLL_MS);

    await agentSays('It is, from the 1st.');
    const toWidget = await timeUntilShown(widget.page, '#chat li', 'It is, from the 1st.', POLL_MS);
    expect(toWidget).toBeLessThanOrEqual(POLL_MS);

    // Nothing came by push: both open streams were cut, and none opened since.
    expect(proxy.cut).toBeGreaterThanOrEqual(2);
    expect(streamsOpen().length).toBe(before);
    console.info(
      `conversation by polling: visitor → dashboard ${toDashboard} ms, agent → widget ${toWidget} ms`,
    );
    await screenshot(widget.page, 'conversation-widget-polling');
    proxy.unblock();
  });
});
