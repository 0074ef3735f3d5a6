import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashConversationToken } from '../../src/conversations/conversation-tokens.js';
import { auth } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { addMember } from '../team/fixtures.js';
import { chatLimits, openConversation, say } from './fixtures.js';

describeEachDatabase('conversations: transcript, visitor and agent messages', (kind) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await buildTestApp(db.storage, { env: chatLimits });
  });
  afterAll(async () => {
    await t?.app.close();
    await db?.close();
  });

  const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });
  const post = (url: string, headers: Record<string, string>, payload: object) =>
    t.app.inject({ method: 'POST', url, headers, payload });

  it('stores the transcript with the lead and answers a conversation token, shown once and hashed at rest', async () => {
    const response = await post(
      '/api/chatbot/leads',
      {},
      {
        customerName: 'Transcript Tess',
        customerEmail: 'tess@chat.test',
        transcript: [
          { role: 'bot', text: 'Hi! How can I help?', at: '2026-12-01T21:59:00.000Z' },
          { role: 'visitor', text: '  I want <b>two</b> flats  ' },
          { role: 'bot', text: 'Great, leave your email.' },
        ],
      },
    );
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const { id, conversationToken } = response.json();
    expect(conversationToken).toMatch(/^lrc_[\w-]{43}$/);

    const page = await get(`/api/chatbot/conversations/${id}/messages`, {
      authorization: `Bearer ${conversationToken}`,
    });
    expect(page.statusCode).toBe(200);
    const body = page.json();
    expect(body.items.map((m: { role: string; text: string }) => [m.role, m.text])).toEqual([
      ['bot', 'Hi! How can I help?'],
      ['visitor', 'I want <b>two</b> flats'],
      ['bot', 'Great, leave your email.'],
    ]);
    expect(body.items[0]).toMatchObject({ senderName: null, at: '2026-12-01T21:59:00+00:00' });
    expect(body.hasMore).toBe(false);
    expect(body.cursor).toBe(body.items[2].id);

    // Only the hash is stored; the token is in no table and no log line.
    const rows = await db.storage.query<{ row: string }>(
      `select row_to_json(t)::text as row from conversation_tokens t where conversation_id = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).toContain(hashConversationToken(conversationToken));
    expect(rows[0]!.row).not.toContain(conversationToken);
    expect(t.logs.text()).not.toContain(conversationToken);
    expect(t.logs.text()).not.toContain(conversationToken.slice(4));
  });

  it('refuses bad transcripts and messages with a 400 naming the item', async () => {
    const long = 'x'.repeat(10_001);
    const cases: [unknown, string][] = [
      [[{ role: 'visitor', text: '   ' }], 'transcript[0].text'],
      [
        [
          { role: 'bot', text: 'ok' },
          { role: 'visitor', text: long },
        ],
        'transcript[1].text',
      ],
      [
        [
          { role: 'bot', text: 'a' },
          { role: 'bot', text: 'b' },
          { role: 'bot', text: 'c' },
          { role: 'visitor', text: 'nul\u0000' },
        ],
        'transcript[3].text',
      ],
      [[{ role: 'visitor', text: 'lone \ud800 surrogate' }], 'transcript[0].text'],
      [[{ role: 'agent', text: 'not allowed' }], 'transcript[0].role'],
      [Array.from({ length: 201 }, () => ({ role: 'bot', text: 'x' })), 'transcript'],
    ];
    for (const [transcript, field] of cases) {
      const response = await post(
        '/api/chatbot/leads',
        {},
        { customerName: 'Bad', customerEmail: 'bad@chat.test', transcript },
      );
      expect(response.statusCode, field).toBe(400);
      expect(
        response.json().fields.map((f: { field: string }) => f.field),
        field,
      ).toContain(field);
    }
    const conversation = await openConversation(t.app);
    for (const text of ['', '   ', long, 'nul\u0000', 'lone \udc00']) {
      const response = await say(t.app, conversation, text);
      expect(response.statusCode).toBe(400);
      expect(response.json().fields[0].field).toBe('text');
    }
    const exact = await say(t.app, conversation, 'y'.repeat(10_000));
    expect(exact.statusCode).toBe(201);
  });

  it('takes the largest valid transcript (200 items of 10,000 characters) without a 413', async () => {
    const transcript = Array.from({ length: 200 }, (_, i) => ({
      role: i % 2 ? 'visitor' : 'bot',
      text: 'é'.repeat(10_000),
    }));
    const response = await post(
      '/api/chatbot/leads',
      {},
      { customerName: 'Big', customerEmail: 'big@chat.test', transcript },
    );
    expect(response.statusCode).toBe(201);
    const [row] = await db.storage.query<{ n: number }>(
      'select count(*)::int as n from chat_messages where conversation_id = $1',
      [response.json().id],
    );
    expect(row!.n).toBe(200);
  });

  it('lets the visitor keep writing; the conversation reads in order with a cursor', async () => {
    const conversation = await openConversation(t.app, { transcript: [{ role: 'bot', text: 'Hello' }] });
    const first = await say(t.app, conversation, 'Are you there?');
    expect(first.statusCode).toBe(201);
    expect(Object.keys(first.json()).sort()).toEqual(['createdAt', 'id']);
    const all = (
      await get(`/api/chatbot/conversations/${conversation.id}/messages`, conversation.visitor)
    ).json();
    expect(all.items.map((m: { text: string }) => m.text)).toEqual(['Hello', 'Are you there?']);
    await say(t.app, conversation, 'Hello?');
    const next = (
      await get(
        `/api/chatbot/conversations/${conversation.id}/messages?after=${all.cursor}`,
        conversation.visitor,
      )
    ).json();
    expect(next.items.map((m: { text: string }) => m.text)).toEqual(['Hello?']);
    const none = (
      await get(
        `/api/chatbot/conversations/${conversation.id}/messages?after=${next.cursor}`,
        conversation.visitor,
      )
    ).json();
    expect(none).toEqual({ items: [], cursor: next.cursor, hasMore: false });
    const bad = await get(
      `/api/chatbot/conversations/${conversation.id}/messages?after=abc`,
      conversation.visitor,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].field).toBe('after');
  });

  it('answers 401 for a missing, wrong or expired token and 404 for a token of another conversation, saying nothing more', async () => {
    const mine = await openConversation(t.app);
    const other = await openConversation(t.app);
    const url = `/api/chatbot/conversations/${mine.id}/messages`;
    const wrong = `lrc_${'A'.repeat(43)}`;
    const responses = {
      missing: await get(url, {}),
      garbage: await get(url, { authorization: 'Bearer nonsense' }),
      wrong: await get(url, { authorization: `Bearer ${wrong}` }),
      adminKey: await get(url, auth),
      wrongPost: await post(url, { authorization: `Bearer ${wrong}` }, { text: 'hi' }),
    };
    for (const [name, response] of Object.entries(responses)) {
      expect(response.statusCode, name).toBe(401);
      expect(response.json(), name).toEqual({
        error: 'unauthorized',
        message: 'A valid conversation token is required',
      });
      expect(response.headers['www-authenticate'], name).toBe('Bearer realm="leadrelay-conversation"');
    }
    const crossed = await get(url, other.visitor);
    expect(crossed.statusCode).toBe(404);
    expect(crossed.json()).toEqual({ error: 'not_found', message: 'Conversation not found' });
    const crossedPost = await say(t.app, { ...other, id: mine.id }, 'sneaky');
    expect(crossedPost.statusCode).toBe(404);
    const unknownConversation = await get(
      `/api/chatbot/conversations/${crypto.randomUUID()}/messages`,
      mine.visitor,
    );
    expect(unknownConversation.statusCode).toBe(404);

    await db.storage.query(
      `update conversation_tokens set expires_at = now() - interval '1 second' where token_hash = $1`,
      [hashConversationToken(mine.token)],
    );
    const expired = await get(url, mine.visitor);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toEqual(responses.wrong.json());
    // Nothing was written by the refused posts.
    const [row] = await db.storage.query<{ n: number }>(
      'select count(*)::int as n from chat_messages where conversation_id = $1',
      [mine.id],
    );
    expect(row!.n).toBe(0);
  });

  it('gives the widget a token again on an idempotent repeat (the first answer may be lost), storing nothing twice', async () => {
    const headers = { 'idempotency-key': `widget-${crypto.randomUUID()}` };
    const body = {
      customerName: 'Repeat Rita',
      customerEmail: 'rita@chat.test',
      transcript: [{ role: 'visitor', text: 'hi' }],
    };
    const first = await post('/api/chatbot/leads', headers, body);
    const again = await post('/api/chatbot/leads', headers, body);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: first.json().id, duplicate: true });
    expect(again.json().conversationToken).toMatch(/^lrc_/);
    expect(again.json().conversationToken).not.toBe(first.json().conversationToken);
    const page = await get(`/api/chatbot/conversations/${first.json().id}/messages`, {
      authorization: `Bearer ${again.json().conversationToken}`,
    });
    expect(page.json().items).toHaveLength(1);
    // Another transcript under the same key is another request.
    const changed = await post('/api/chatbot/leads', headers, {
      ...body,
      transcript: [{ role: 'visitor', text: 'other' }],
    });
    expect(changed.statusCode).toBe(422);
  });

  it('lets agents read, reply (named, never by email) and mark read; the list carries unread counts', async () => {
    const agent = await addMember(t.app, { name: 'Agent Ada', email: 'ada.private@sales.test' });
    const conversation = await openConversation(t.app, {
      transcript: [
        { role: 'bot', text: 'Hi' },
        { role: 'visitor', text: 'Price?' },
      ],
    });
    await say(t.app, conversation, 'Anyone?');
    const leads = (await get('/api/admin/leads?limit=200', agent.auth)).json();
    const listed = leads.items.find((lead: { id: string }) => lead.id === conversation.id);
    expect(listed.unreadCount).toBe(2);
    const detail = (await get(`/api/admin/leads/${conversation.id}`, agent.auth)).json();
    expect(detail.lead.unreadCount).toBe(2);

    const page = (await get(`/api/admin/leads/${conversation.id}/messages`, agent.auth)).json();
    expect(page.items.map((m: { role: string }) => m.role)).toEqual(['bot', 'visitor', 'visitor']);
    expect(page.items[1]).toMatchObject({ conversationId: conversation.id, readAt: null, senderId: null });
    expect(page.olderCursor).toBeNull();

    const replied = await post(`/api/admin/leads/${conversation.id}/messages`, agent.auth, {
      text: 'Hello, <Ada> here',
    });
    expect(replied.statusCode).toBe(201);
    expect(replied.json()).toMatchObject({
      firstContact: true,
      message: { role: 'agent', text: 'Hello, <Ada> here', senderName: 'Agent Ada', senderId: agent.id },
    });
    const visitorView = (
      await get(`/api/chatbot/conversations/${conversation.id}/messages`, conversation.visitor)
    ).json();
    const reply = visitorView.items.at(-1);
    expect(reply).toEqual({
      id: replied.json().message.id,
      role: 'agent',
      text: 'Hello, <Ada> here',
      senderName: 'Agent Ada',
      at: null,
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(visitorView)).not.toContain('ada.private');

    const read = await post(`/api/admin/leads/${conversation.id}/messages/read`, agent.auth, {
      upTo: page.items[1].id,
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({ marked: 1, unreadCount: 1 });
    const readAll = await post(`/api/admin/leads/${conversation.id}/messages/read`, agent.auth, {
      upTo: Number(reply.id),
    });
    expect(readAll.json()).toEqual({ marked: 1, unreadCount: 0 });
    const after = (await get('/api/admin/leads?limit=200', agent.auth)).json();
    expect(after.items.find((lead: { id: string }) => lead.id === conversation.id).unreadCount).toBe(0);

    const audits = await db.storage.query<{ action: string; status: string; actor_id: string }>(
      `select action, status, actor_id from audit_logs where resource_id = $1 order by id`,
      [conversation.id],
    );
    expect(audits.map((a) => a.action)).toEqual(['message.reply', 'message.read', 'message.read']);
    expect(audits.every((a) => a.actor_id === agent.id && a.status === 'success')).toBe(true);

    const unknown = await get(`/api/admin/leads/${crypto.randomUUID()}/messages`, agent.auth);
    expect(unknown.statusCode).toBe(404);
    const badRead = await post(`/api/admin/leads/${conversation.id}/messages/read`, agent.auth, {
      upTo: 'x',
    });
    expect(badRead.statusCode).toBe(400);
    expect(badRead.json().fields[0].field).toBe('upTo');
    const noKey = await get(`/api/admin/leads/${conversation.id}/messages`, {});
    expect(noKey.statusCode).toBe(401);
  });

  it('counts the first reply as first contact: the SLA clock stops and the time to first response is recorded', async () => {
    const conversation = await openConversation(t.app);
    const before = (await get(`/api/admin/leads/${conversation.id}`, auth)).json();
    expect(before.lead.firstResponseAt).toBeNull();
    expect(before.followUps[0]).toMatchObject({ type: 'first_contact', status: 'open' });
    await db.storage.query(
      `update conversations set created_at = now() - interval '90 seconds' where id = $1`,
      [conversation.id],
    );
    const first = (
      await post(`/api/admin/leads/${conversation.id}/messages`, auth, { text: 'Hi from the owner' })
    ).json();
    expect(first.firstContact).toBe(true);
    expect(first.secondsToFirstResponse).toBeGreaterThanOrEqual(89);
    const second = (
      await post(`/api/admin/leads/${conversation.id}/messages`, auth, { text: 'And again' })
    ).json();
    expect(second.firstContact).toBe(false);
    expect(second.firstResponseAt).toBe(first.firstResponseAt);

    const after = (await get(`/api/admin/leads/${conversation.id}`, auth)).json();
    expect(after.lead.firstResponseAt).toBe(first.firstResponseAt);
    expect(after.lead.version).toBe(before.lead.version);
    expect(after.followUps[0]).toMatchObject({ type: 'first_contact', status: 'done', completedBy: 'owner' });
    expect(after.timeline.map((e: { type: string }) => e.type)).toContain('first_response');
    // The sweep no longer sees it, even once the deadline passes.
    await db.storage.query(
      `update conversations set sla_due_at = now() - interval '1 minute' where id = $1`,
      [conversation.id],
    );
    await db.storage.call('sweep_sla_breaches', { p_options: { reassignOnBreach: false } });
    const [row] = await db.storage.query<{ sla_breached: boolean }>(
      'select sla_breached from conversations where id = $1',
      [conversation.id],
    );
    expect(row!.sla_breached).toBe(false);
  });

  it("shows a returning visitor only their own part of the lead's conversation", async () => {
    const returningApp = await buildTestApp(db.storage, {
      env: { ...chatLimits, DUPLICATE_WINDOW_DAYS: '30' },
    });
    try {
      const email = `returning.${Date.now()}@chat.test`;
      const first = await openConversation(returningApp.app, {
        customerEmail: email,
        transcript: [{ role: 'visitor', text: 'first visit secret' }],
      });
      await returningApp.app.inject({
        method: 'POST',
        url: `/api/admin/leads/${first.id}/messages`,
        headers: auth,
        payload: { text: 'reply to the first visit' },
      });
      const second = await openConversation(returningApp.app, {
        customerEmail: email,
        transcript: [{ role: 'visitor', text: 'second visit' }],
      });
      expect(second.id).toBe(first.id);
      const seen = (
        await returningApp.app.inject({
          method: 'GET',
          url: `/api/chatbot/conversations/${second.id}/messages`,
          headers: second.visitor,
        })
      ).json();
      expect(seen.items.map((m: { text: string }) => m.text)).toEqual(['second visit']);
      const agentView = (
        await returningApp.app.inject({
          method: 'GET',
          url: `/api/admin/leads/${first.id}/messages`,
          headers: auth,
        })
      ).json();
      expect(agentView.items.map((m: { text: string }) => m.text)).toEqual([
        'first visit secret',
        'reply to the first visit',
        'second visit',
      ]);
    } finally {
      await returningApp.app.close();
    }
  });

  it('pages the agent view by keyset: latest first page, older pages by olderCursor, newer by cursor', async () => {
    const conversation = await openConversation(t.app, {
      transcript: Array.from({ length: 120 }, (_, i) => ({ role: 'visitor', text: `m${i}` })),
    });
    const latest = (await get(`/api/admin/leads/${conversation.id}/messages`, auth)).json();
    expect(latest.items).toHaveLength(50);
    expect(latest.items[0].text).toBe('m70');
    expect(latest.items[49].text).toBe('m119');
    const older = (
      await get(`/api/admin/leads/${conversation.id}/messages?before=${latest.olderCursor}&limit=60`, auth)
    ).json();
    expect(older.items.map((m: { text: string }) => m.text)).toEqual(
      Array.from({ length: 60 }, (_, i) => `m${i + 10}`),
    );
    const oldest = (
      await get(`/api/admin/leads/${conversation.id}/messages?before=${older.olderCursor}`, auth)
    ).json();
    expect(oldest.items).toHaveLength(10);
    expect(oldest.olderCursor).toBeNull();
    await say(t.app, conversation, 'newest');
    const newer = (
      await get(`/api/admin/leads/${conversation.id}/messages?after=${latest.cursor}`, auth)
    ).json();
    expect(newer.items.map((m: { text: string }) => m.text)).toEqual(['newest']);
    expect(newer.hasMore).toBe(false);
  });
});
