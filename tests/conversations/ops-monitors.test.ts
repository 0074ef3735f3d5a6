import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { auth } from '../admin/fixtures.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { chatLimits, openConversation, say } from './fixtures.js';

/** The chat monitors of docs/operations.md run verbatim and say what happened. */
function monitorStatements(): string[] {
  const doc = readFileSync('docs/operations.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Chat monitors'));
  const block = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('no SQL block under ## Chat monitors');
  return block
    .split(';')
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
}

describeEachDatabase('chat monitors (docs/operations.md)', (kind) => {
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

  it('counts messages per hour, active conversations and unread messages older than the SLA', async () => {
    const answered = await openConversation(t.app, { transcript: [{ role: 'bot', text: 'Hi' }] });
    await say(t.app, answered, 'question');
    await t.app.inject({
      method: 'POST',
      url: `/api/admin/leads/${answered.id}/messages`,
      headers: auth,
      payload: { text: 'answer' },
    });
    const ignored = await openConversation(t.app);
    await say(t.app, ignored, 'hello?');
    await say(t.app, ignored, 'anyone?');
    // One of the ignored messages has waited past the 5-minute SLA.
    await db.storage.query(
      `update chat_messages set created_at = now() - interval '20 minutes'
        where id = (select min(id) from chat_messages where conversation_id = $1)`,
      [ignored.id],
    );

    const statements = monitorStatements();
    expect(statements).toHaveLength(3);
    const [perHour, active, unreadOld] = await Promise.all(statements.map((sql) => db.storage.query(sql)));

    const total = perHour!.reduce((sum, row) => sum + Number(row.message_count), 0);
    expect(total).toBe(5);
    expect(perHour!.reduce((sum, row) => sum + Number(row.agent_replies), 0)).toBe(1);
    expect(active![0]).toMatchObject({ active_conversations: expect.anything() });
    expect(Number(active![0]!.active_conversations)).toBe(2);
    expect(Number(active![0]!.with_unread_messages)).toBe(2);
    expect(unreadOld!.map((row) => row.lead_id)).toEqual([ignored.id]);
    expect(Number(unreadOld![0]!.unread_messages)).toBe(1);
  });
});
