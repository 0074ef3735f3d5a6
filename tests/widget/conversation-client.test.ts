import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ChatMessage, type ConversationState, openConversation } from '../../src/widget/conversation.js';
import { submitLead } from '../../src/widget/submit-lead.js';
import type { WidgetError } from '../../src/widget/widget-http.js';
import { auth, generousLimits } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';

/**
 * openConversation against the real API in Node, where there is no EventSource: the
 * polling path. The transcript and the visitor's own messages arrive once each, in
 * order; an agent reply arrives by polling; a wrong token closes it with one onError.
 * (The stream path runs in Chromium: tests/browser/conversation.test.ts.)
 */
describeEachDatabase('widget openConversation (polling, Node)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: generousLimits });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  it('shows the transcript, its own message and an agent reply, each once and in order', async () => {
    const lead = await submitLead(
      {
        customerName: 'Paula Poll',
        customerEmail: `poll-${kind}@example.com`,
        transcript: [
          { role: 'bot', text: 'Hi! How can I help?' },
          { role: 'visitor', text: 'A flat with a garden.' },
        ],
      },
      { baseUrl },
    );
    expect(lead.conversationToken).toMatch(/^lrc_/);
    const seen: ChatMessage[] = [];
    const states: ConversationState[] = [];
    const chat = openConversation(lead, {
      baseUrl,
      pollMs: 100,
      onMessage: (m) => seen.push(m),
      onState: (s) => states.push(s),
    });
    try {
      await waitFor(() => seen.length === 2);
      expect(states).toContain('polling');
      const mine = await chat.send('  Is there parking?  ');
      expect(mine).toMatchObject({ role: 'visitor', text: 'Is there parking?' });
      const reply = await t.app.inject({
        method: 'POST',
        url: `/api/admin/leads/${lead.id}/messages`,
        headers: auth,
        payload: { text: 'Yes, two spaces.' },
      });
      expect(reply.statusCode).toBe(201);
      await waitFor(() => seen.length === 4);
      expect(seen.map((m) => `${m.role}: ${m.text}`)).toEqual([
        'bot: Hi! How can I help?',
        'visitor: A flat with a garden.',
        'visitor: Is there parking?',
        'agent: Yes, two spaces.',
      ]);
      expect(seen[3]!.senderName).toBe('owner');
      expect(chat.messages).toHaveLength(4);
    } finally {
      chat.close();
    }
  });

  it('closes with one onError on a refused token', async () => {
    const lead = await submitLead(
      { customerName: 'Wrong Token', customerEmail: `wrong-${kind}@example.com` },
      { baseUrl },
    );
    const errors: WidgetError[] = [];
    const chat = openConversation(`${lead.conversationToken}x`, {
      baseUrl,
      conversationId: lead.id,
      pollMs: 50,
      onError: (e) => errors.push(e),
    });
    await waitFor(() => chat.state === 'closed');
    // Closed before onError is called: no poll runs after it, so there is no second call.
    expect(errors.map((e) => e.status)).toEqual([401]);
  });
});
