import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { type SlackPost, type SlackReceiver, startSlackReceiver } from '../helpers/receivers.js';
import { waitFor } from '../helpers/wait.js';
import { FAST_WORKER_ENV, type RunningWorker, startWorker } from '../outbox/harness.js';
import { addMember } from '../team/fixtures.js';
import { chatLimits, openConversation, say } from './fixtures.js';

/**
 * Follow-up alerts without spam: a real Slack stand-in, two real workers, and a short
 * cooldown so the collapse plays out in seconds.
 */
const COOLDOWN_SECONDS = 2;

function headerOf(post: SlackPost): string {
  const blocks = (post.body.blocks ?? []) as { type: string; text?: { text: string } }[];
  return blocks.find((block) => block.type === 'header')?.text?.text ?? '';
}

/** How many visitor messages a message alert covers, from its headline. */
function coveredBy(post: SlackPost): number {
  const header = headerOf(post);
  if (header === 'New chat message') return 1;
  const match = /^(\d+) new chat messages$/.exec(header);
  return match ? Number(match[1]) : 0;
}

describeEachDatabase('message.received alerts with a cooldown', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let slack: SlackReceiver;
  let workers: RunningWorker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    slack = await startSlackReceiver();
    const env = {
      ...chatLimits,
      ...FAST_WORKER_ENV,
      SLACK_WEBHOOK_URL: slack.url,
      MESSAGE_ALERT_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
      ASSIGNMENT_STRATEGY: 'round_robin',
    };
    t = await buildTestApp(db.storage, { env });
    // Two workers on one database (on PGlite both in this process): the collapse must hold across them.
    workers = [await startWorker(db.storage, env), await startWorker(db.storage, env)];
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await t?.app.close();
    await slack?.close();
    await db?.close();
  });

  const messageAlerts = (conversationId: string) =>
    slack.delivered().filter((post) => coveredBy(post) > 0 && post.raw.includes(conversationId));

  it('collapses five quick follow-ups into at most two alerts, the second after the cooldown, escaped, to the assignee', async () => {
    const agent = await addMember(t.app, { name: 'Chatty Agent', slackUserId: 'U0CHAT001' });
    const conversation = await openConversation(t.app, { customerName: 'Quick <b>Typer</b>' });
    await waitFor(() => slack.delivered().some((post) => post.raw.includes(conversation.id)), {
      message: 'the new-lead alert',
    });

    const texts = ['hello?', 'are you there', '<!channel> *urgent*', 'price for 2 flats', 'call me'];
    for (const text of texts) expect((await say(t.app, conversation, text)).statusCode).toBe(201);

    const alerts = await waitFor(
      () => {
        const found = messageAlerts(conversation.id);
        return found.reduce((sum, post) => sum + coveredBy(post), 0) >= 5 ? found : null;
      },
      { timeoutMs: 20_000, message: 'alerts covering all five messages' },
    );
    expect(alerts.length).toBeGreaterThanOrEqual(1);
    expect(alerts.length).toBeLessThanOrEqual(2);
    expect(alerts.reduce((sum, post) => sum + coveredBy(post), 0)).toBe(5);
    // The cooldown runs between the alerts' preparations (the database's clock).
    const batches = await db.storage.query<{ gap: number | null }>(
      `select extract(epoch from created_at - lag(created_at) over (order by event_id))::float8 as gap
         from chat_alert_batches where conversation_id = $1 and message_count > 0 order by event_id`,
      [conversation.id],
    );
    expect(batches).toHaveLength(alerts.length);
    if (batches.length === 2) expect(batches[1]!.gap).toBeGreaterThanOrEqual(COOLDOWN_SECONDS);
    const all = alerts.map((post) => post.raw).join('\n');
    // User text never becomes markup; the owner is mentioned; every text went out.
    expect(all).toContain('&lt;!channel&gt; *urgent*');
    expect(all).not.toContain('<!channel>');
    for (const post of alerts) {
      expect(post.raw).toContain('<@U0CHAT001>');
      expect(post.raw).toContain('Quick &lt;b&gt;Typer&lt;/b&gt;');
    }
    for (const text of ['hello?', 'are you there', 'price for 2 flats', 'call me'])
      expect(all).toContain(text);
    expect(agent.id).toBeTruthy();

    // Nothing is left waiting that could alert again (once the workers recorded their sends).
    await waitFor(
      async () =>
        (
          await db.storage.query<{ n: number }>(
            `select count(*)::int as n from lead_events
              where event_type = 'message.received' and conversation_id = $1 and not processed`,
            [conversation.id],
          )
        )[0]!.n === 0,
      { message: 'every message.received event processed' },
    );
    expect(messageAlerts(conversation.id)).toHaveLength(alerts.length);
  });

  it('alerts again for a message after a quiet spell, and a retried event says the same', async () => {
    const conversation = await openConversation(t.app);
    await say(t.app, conversation, 'first');
    await waitFor(() => messageAlerts(conversation.id).length === 1, { message: 'first alert' });
    await waitFor(
      async () =>
        (
          await db.storage.query<{ ok: boolean }>(
            `select last_alert_at < now() - make_interval(secs => $2) as ok from chat_alert_state where conversation_id = $1`,
            [conversation.id, COOLDOWN_SECONDS],
          )
        )[0]?.ok,
      { timeoutMs: 10_000, message: 'the cooldown to pass' },
    );
    await say(t.app, conversation, 'second, much later');
    const alerts = await waitFor(
      () => (messageAlerts(conversation.id).length === 2 ? messageAlerts(conversation.id) : null),
      {
        message: 'second alert',
      },
    );
    expect(alerts.map(headerOf)).toEqual(['New chat message', 'New chat message']);
    expect(alerts[1]!.raw).toContain('second, much later');
    expect(alerts[1]!.raw).not.toContain('"first"');

    // What an event covers is fixed once: preparing it again answers the same.
    const [event] = await db.storage.query<{ id: number }>(
      `select id from lead_events where event_type = 'message.received' and conversation_id = $1 order by id desc limit 1`,
      [conversation.id],
    );
    const again = await db.storage.call<{ messageCount: number; messages: string[] }>('chat_alert_collapse', {
      p_event_id: event!.id,
    });
    expect(again).toMatchObject({ messageCount: 1, messages: ['second, much later'] });
  });

  it('sends nothing for a follow-up whose alert another event already covered', async () => {
    const conversation = await openConversation(t.app);
    // A stale event (as a replay of an old one would be) covers nothing.
    await say(t.app, conversation, 'only message');
    await waitFor(() => messageAlerts(conversation.id).length === 1, { message: 'the alert' });
    const [stale] = await db.storage.query<{ id: number }>(
      `insert into lead_events (event_type, conversation_id, payload)
       values ('message.received', $1::uuid, jsonb_build_object('conversationId', $1::text)) returning id`,
      [conversation.id],
    );
    await waitFor(
      async () =>
        (
          await db.storage.query<{ processed: boolean }>('select processed from lead_events where id = $1', [
            stale!.id,
          ])
        )[0]?.processed,
      { message: 'the stale event to be processed' },
    );
    expect(messageAlerts(conversation.id)).toHaveLength(1);
  });
});
