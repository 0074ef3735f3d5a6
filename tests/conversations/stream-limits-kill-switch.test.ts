import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { addMember } from '../team/fixtures.js';
import { chatLimits, openConversation, say } from './fixtures.js';
import { openSse } from './sse-client.js';

const WIDGET_ORIGIN = 'https://shop.example.com';

describeEachDatabase('conversation stream (SSE over real HTTP)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: { ...chatLimits, FRONTEND_URL: WIDGET_ORIGIN } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const streamToken = async (id: string, token: string) => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/chatbot/conversations/${id}/stream-token`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    return response.json() as { token: string; expiresAt: string };
  };

  it("pushes agent replies (not the visitor's own messages) to a cross-origin EventSource within a second", async () => {
    const agent = await addMember(t.app, { name: 'Stream Sam' });
    const conversation = await openConversation(t.app, { transcript: [{ role: 'bot', text: 'Hi' }] });
    const { token } = await streamToken(conversation.id, conversation.token);
    const stream = await openSse(
      `${base}/api/chatbot/conversations/${conversation.id}/stream?token=${token}`,
      {
        origin: WIDGET_ORIGIN,
      },
    );
    try {
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toContain('text/event-stream');
      expect(stream.headers.get('access-control-allow-origin')).toBe(WIDGET_ORIGIN);
      const ready = await waitFor(() => stream.messages.find((m) => m.kind === 'ready'), {
        message: 'ready',
      });
      expect(ready.cursor).toMatch(/^\d+$/);

      await say(t.app, conversation, 'visitor speaking');
      const started = Date.now();
      const replied = await t.app.inject({
        method: 'POST',
        url: `/api/admin/leads/${conversation.id}/messages`,
        headers: agent.auth,
        payload: { text: 'Sam here <script>' },
      });
      expect(replied.statusCode).toBe(201);
      const pushed = await waitFor(() => stream.messages.find((m) => m.kind === 'message.created'), {
        timeoutMs: 1000,
        message: 'the reply on the stream within 1 s',
      });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(pushed.message).toEqual({
        id: replied.json().message.id,
        role: 'agent',
        text: 'Sam here <script>',
        senderName: 'Stream Sam',
        at: null,
        createdAt: expect.any(String),
      });
      await t.app.inject({
        method: 'POST',
        url: `/api/admin/leads/${conversation.id}/messages`,
        headers: agent.auth,
        payload: { text: 'second reply' },
      });
      await waitFor(() => stream.messages.filter((m) => m.kind === 'message.created').length === 2, {
        message: 'the second reply',
      });
      const pushedTexts = stream.messages
        .filter((m) => m.kind === 'message.created')
        .map((m) => (m.message as { text: string }).text);
      expect(pushedTexts).toEqual(['Sam here <script>', 'second reply']);
      // The stream token is kept out of the logs.
      expect(t.logs.text()).not.toContain(token);
      expect(t.logs.text()).toContain('token=[REDACTED]');
    } finally {
      stream.close();
    }
  });

  it('starts after ?after=<cursor>, so a reply between the last poll and the stream is not lost; Bearer works too', async () => {
    const conversation = await openConversation(t.app);
    const before = (
      await t.app.inject({
        method: 'GET',
        url: `/api/chatbot/conversations/${conversation.id}/messages`,
        headers: conversation.visitor,
      })
    ).json();
    await t.app.inject({
      method: 'POST',
      url: `/api/admin/leads/${conversation.id}/messages`,
      headers: auth,
      payload: { text: 'sent before the stream opened' },
    });
    const stream = await openSse(
      `${base}/api/chatbot/conversations/${conversation.id}/stream?after=${before.cursor}`,
      conversation.visitor,
    );
    try {
      expect(stream.status).toBe(200);
      const pushed = await waitFor(() => stream.messages.find((m) => m.kind === 'message.created'), {
        message: 'the missed reply',
      });
      expect((pushed.message as { senderName: string }).senderName).toBe('owner');
    } finally {
      stream.close();
    }
  });

  it('refuses a stream token of another conversation, a forged or expired one, and no token at all', async () => {
    const mine = await openConversation(t.app);
    const other = await openConversation(t.app);
    const { token } = await streamToken(other.id, other.token);
    const [expiresAt, visible, signature] = token.split('.');
    const attempts = {
      otherConversation: `${base}/api/chatbot/conversations/${mine.id}/stream?token=${token}`,
      forged: `${base}/api/chatbot/conversations/${other.id}/stream?token=${expiresAt}.0.${signature!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
      viewChanged: `${base}/api/chatbot/conversations/${other.id}/stream?token=${expiresAt}.${Number(visible) + 1}.${signature}`,
      expired: `${base}/api/chatbot/conversations/${other.id}/stream?token=${Date.now() - 1000}.0.${signature}`,
      none: `${base}/api/chatbot/conversations/${other.id}/stream`,
    };
    for (const [name, url] of Object.entries(attempts)) {
      const stream = await openSse(url);
      expect(stream.status, name).toBe(401);
      stream.close();
    }
    const crossed = await openSse(`${base}/api/chatbot/conversations/${mine.id}/stream`, other.visitor);
    expect(crossed.status).toBe(404);
    const refused = await t.app.inject({
      method: 'POST',
      url: `/api/chatbot/conversations/${mine.id}/stream-token`,
      headers: other.visitor,
    });
    expect(refused.statusCode).toBe(404);
  });

  it('answers preflight requests from the widget origin and refuses other origins', async () => {
    const conversation = await openConversation(t.app);
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: `/api/chatbot/conversations/${conversation.id}/messages`,
      headers: {
        origin: WIDGET_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(WIDGET_ORIGIN);
    const foreign = await t.app.inject({
      method: 'GET',
      url: `/api/chatbot/conversations/${conversation.id}/messages`,
      headers: { ...conversation.visitor, origin: 'https://evil.example.com' },
    });
    expect(foreign.statusCode).toBe(403);
  });
});

describeEachDatabase('conversation rate limits and kill switch', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('limits visitor messages per conversation and per client IP, with 429 and Retry-After', async () => {
    const t = await buildTestApp(db.storage, {
      env: { ...chatLimits, RATE_LIMIT_CHAT_MESSAGES_PER_MINUTE: '3' },
      rateLimitNamespace: `chat-rl-${crypto.randomUUID()}-`,
    });
    try {
      const post = (id: string, token: string, ip: string) =>
        t.app.inject({
          method: 'POST',
          url: `/api/chatbot/conversations/${id}/messages`,
          headers: { authorization: `Bearer ${token}` },
          remoteAddress: ip,
          payload: { text: 'hi' },
        });
      // One conversation, from four addresses: its fourth message is refused.
      const chatty = await openConversation(t.app);
      for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
        expect((await post(chatty.id, chatty.token, ip)).statusCode).toBe(201);
      const fourth = await post(chatty.id, chatty.token, '10.0.0.4');
      expect(fourth.statusCode).toBe(429);
      expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
      expect(fourth.json()).toMatchObject({ error: 'rate_limited' });
      expect(fourth.json().message).toContain('in one conversation');

      // One address, four conversations: its fourth message is refused.
      const others = [
        await openConversation(t.app),
        await openConversation(t.app),
        await openConversation(t.app),
      ];
      for (const other of others)
        expect((await post(other.id, other.token, '10.0.0.9')).statusCode).toBe(201);
      const fifth = await openConversation(t.app);
      const fromSameIp = await post(fifth.id, fifth.token, '10.0.0.9');
      expect(fromSameIp.statusCode).toBe(429);
      expect(fromSameIp.json().message).toContain('from one client');
      // Refused messages were not stored.
      const [row] = await db.storage.query<{ n: number }>(
        'select count(*)::int as n from chat_messages where conversation_id = $1',
        [fifth.id],
      );
      expect(row!.n).toBe(0);
    } finally {
      await t.app.close();
    }
  });

  it('CHAT_DISABLED=true: every conversation route answers 503 chat_disabled; capture works, without a token', async () => {
    const on = await buildTestApp(db.storage, { env: chatLimits });
    const off = await buildTestApp(db.storage, { env: { ...chatLimits, CHAT_DISABLED: 'true' } });
    try {
      const conversation = await openConversation(on.app);
      const captured = await off.app.inject({
        method: 'POST',
        url: '/api/chatbot/leads',
        payload: {
          customerName: 'Offline Olga',
          customerEmail: 'olga@chat.test',
          transcript: [{ role: 'visitor', text: 'kept with the lead' }],
        },
      });
      expect(captured.statusCode).toBe(201);
      expect(captured.json().conversationToken).toBeUndefined();
      const [stored] = await db.storage.query<{ n: number }>(
        'select count(*)::int as n from chat_messages where conversation_id = $1',
        [captured.json().id],
      );
      expect(stored!.n).toBe(1);

      const visitor = conversation.visitor;
      const routes: [string, string, Record<string, string>, object?][] = [
        ['POST', `/api/chatbot/conversations/${conversation.id}/messages`, visitor, { text: 'hi' }],
        ['GET', `/api/chatbot/conversations/${conversation.id}/messages`, visitor],
        ['POST', `/api/chatbot/conversations/${conversation.id}/stream-token`, visitor],
        ['GET', `/api/chatbot/conversations/${conversation.id}/stream`, visitor],
        ['GET', `/api/admin/leads/${conversation.id}/messages`, auth],
        ['POST', `/api/admin/leads/${conversation.id}/messages`, auth, { text: 'hi' }],
        ['POST', `/api/admin/leads/${conversation.id}/messages/read`, auth, { upTo: '1' }],
        // Refused before authentication too.
        ['GET', `/api/chatbot/conversations/${conversation.id}/messages`, {}],
      ];
      for (const [method, url, headers, payload] of routes) {
        const response = await off.app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(payload ? { payload } : {}),
        });
        expect(response.statusCode, `${method} ${url}`).toBe(503);
        expect(response.json()).toEqual({ error: 'chat_disabled', message: 'Chat temporarily unavailable' });
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      }
      // Other admin routes are untouched.
      expect(
        (await off.app.inject({ method: 'GET', url: '/api/admin/leads', headers: auth })).statusCode,
      ).toBe(200);
    } finally {
      await on.app.close();
      await off.app.close();
    }
  });
});
