import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/storage.js';
import { openSupabaseStorage } from '../../src/storage/supabase-storage.js';
import { auth } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type PostgrestStandIn, startPostgrestStandIn } from '../helpers/postgrest-stand-in.js';
import { TEST_SECRETS, TEST_SUPABASE_PROJECT } from '../helpers/secrets.js';
import { chatLimits, openConversation, say } from './fixtures.js';

/**
 * Every conversation function through Supabase's rpc route (the PostgREST stand-in:
 * arguments bound by name through json_to_record with their declared types, errors as
 * PostgREST answers them), so the hosted mode runs what the other modes run.
 */
describeEachDatabase('conversations in Supabase mode (rpc)', (kind) => {
  let db: TestDatabase;
  let standIn: PostgrestStandIn;
  let storage: Storage;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    standIn = await startPostgrestStandIn(db.storage, {
      ...TEST_SUPABASE_PROJECT,
      migratedWith: 'leadrelay migrate',
    });
    storage = openSupabaseStorage({
      url: standIn.url,
      serviceRoleKey: TEST_SECRETS.supabaseServiceRoleKey,
      requestTimeoutMs: 5000,
    });
    t = await buildTestApp(storage, { env: chatLimits });
  });
  afterAll(async () => {
    await t?.app.close();
    await storage?.close();
    await standIn?.close();
    await db?.close();
  });

  it('captures with a transcript, posts, lists, replies, marks read and counts unread through rpc', async () => {
    const conversation = await openConversation(t.app, {
      transcript: [
        { role: 'bot', text: 'Hi over rpc', at: '2026-12-01T22:00:00Z' },
        { role: 'visitor', text: 'Hello' },
      ],
    });
    expect(conversation.token).toMatch(/^lrc_/);
    expect((await say(t.app, conversation, 'follow-up')).statusCode).toBe(201);

    const page = await t.app.inject({
      method: 'GET',
      url: `/api/chatbot/conversations/${conversation.id}/messages`,
      headers: conversation.visitor,
    });
    expect(page.statusCode).toBe(200);
    expect(page.json().items.map((m: { text: string }) => m.text)).toEqual([
      'Hi over rpc',
      'Hello',
      'follow-up',
    ]);
    const after = await t.app.inject({
      method: 'GET',
      url: `/api/chatbot/conversations/${conversation.id}/messages?after=${page.json().items[0].id}`,
      headers: conversation.visitor,
    });
    expect(after.json().items).toHaveLength(2);

    const wrong = await t.app.inject({
      method: 'GET',
      url: `/api/chatbot/conversations/${conversation.id}/messages`,
      headers: { authorization: `Bearer lrc_${'B'.repeat(43)}` },
    });
    expect(wrong.statusCode).toBe(401);
    const other = await openConversation(t.app);
    const crossed = await t.app.inject({
      method: 'GET',
      url: `/api/chatbot/conversations/${conversation.id}/messages`,
      headers: other.visitor,
    });
    expect(crossed.statusCode).toBe(404);

    const replied = await t.app.inject({
      method: 'POST',
      url: `/api/admin/leads/${conversation.id}/messages`,
      headers: auth,
      payload: { text: 'reply over rpc' },
    });
    expect(replied.statusCode).toBe(201);
    expect(replied.json().firstContact).toBe(true);
    const list = (
      await t.app.inject({ method: 'GET', url: '/api/admin/leads?limit=200', headers: auth })
    ).json();
    expect(list.items.find((lead: { id: string }) => lead.id === conversation.id).unreadCount).toBe(2);
    const agentPage = (
      await t.app.inject({
        method: 'GET',
        url: `/api/admin/leads/${conversation.id}/messages?limit=2`,
        headers: auth,
      })
    ).json();
    expect(agentPage.items.map((m: { text: string }) => m.text)).toEqual(['follow-up', 'reply over rpc']);
    expect(agentPage.olderCursor).toBe(agentPage.items[0].id);
    const read = await t.app.inject({
      method: 'POST',
      url: `/api/admin/leads/${conversation.id}/messages/read`,
      headers: auth,
      payload: { upTo: agentPage.cursor },
    });
    expect(read.json()).toEqual({ marked: 2, unreadCount: 0 });

    // The stream token works without the database; the stream itself needs LISTEN: 503, poll instead.
    const streamToken = await t.app.inject({
      method: 'POST',
      url: `/api/chatbot/conversations/${conversation.id}/stream-token`,
      headers: conversation.visitor,
    });
    expect(streamToken.statusCode).toBe(200);
    const stream = await t.app.inject({
      method: 'GET',
      url: `/api/chatbot/conversations/${conversation.id}/stream?token=${streamToken.json().token}`,
    });
    expect(stream.statusCode).toBe(503);
    expect(stream.json().error).toBe('stream_unavailable');

    // The worker's collapse, through rpc too.
    const [event] = await db.storage.query<{ id: number }>(
      `select id from lead_events where event_type = 'message.received' and conversation_id = $1`,
      [conversation.id],
    );
    const collapsed = await storage.call<{ messageCount: number; messages: string[] }>(
      'chat_alert_collapse',
      {
        p_event_id: event!.id,
      },
    );
    expect(collapsed).toMatchObject({ messageCount: 1, messages: ['follow-up'] });
    expect(standIn.requests.every((request) => request.role === 'service_role')).toBe(true);
  });
});
