import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';
import { type Channels, captureLead, type RunningWorker, startChannels, startWorker } from './harness.js';

/** Hostile text in every field a lead can carry, through the real worker to real receivers. */
const hostile = {
  customerName: '<!channel> <b>Boss</b> & <script>alert(1)</script>',
  customerPhone: '+1<b>555</b>0100',
  customerEmail: 'x<img src=x onerror=alert(1)>@example.com',
  intent: '<!here> <@U123ABC>',
  source: '<http://evil.example|trusted source>',
  message: '</a><a href="javascript:alert(1)">click</a> <https://phish.example|Open lead>',
};
const rawFragments = [
  '<!channel>',
  '<!here>',
  '<@U123ABC>',
  '<b>Boss</b>',
  '<script>',
  '<img src=x',
  '<http://evil.example',
  '<https://phish.example',
  '<a href="javascript:',
  '<b>555</b>',
];

describeEachDatabase('markup injection', (kind) => {
  let db: TestDatabase;
  let channels: Channels;
  let running: RunningWorker;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    channels = await startChannels();
    running = await startWorker(db.storage, channels.env);
    const lead = await captureLead(db.storage, hostile);
    await waitFor(async () => {
      const [row] = await db.storage.query('select processed from lead_events where id = $1', [lead.eventId]);
      return row?.processed === true;
    });
  });
  afterAll(async () => {
    await running?.stop();
    await channels?.close();
    await db?.close();
  });

  it('is inert on Slack (mrkdwn escaped in every block and in the fallback text)', () => {
    const [post] = channels.slack.delivered();
    const everyText = JSON.stringify(post!.body);
    for (const fragment of rawFragments)
      expect(everyText).not.toContain(JSON.stringify(fragment).slice(1, -1));
    expect(post!.body.text).toContain('&lt;!channel&gt;');
    expect(everyText).toContain('&lt;!here&gt; &lt;@U123ABC&gt;');
    expect(everyText).toContain('&lt;http://evil.example|trusted source&gt;');
  });

  it('is inert in the email (HTML escaped; no link made from an unsafe address or phone)', () => {
    const [email] = channels.smtp.messages;
    for (const fragment of rawFragments) expect(email!.html).not.toContain(fragment);
    expect(email!.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(email!.html).not.toContain('href="mailto:');
    expect(email!.html).toContain('&lt;/a&gt;&lt;a href=&quot;javascript:alert(1)&quot;&gt;');
  });

  it('is inert on Telegram (HTML parse mode, escaped)', () => {
    const [request] = channels.telegram.delivered();
    const text = request!.params.text!;
    for (const fragment of rawFragments) expect(text).not.toContain(fragment);
    expect(text).toContain('&lt;!channel&gt; &lt;b&gt;Boss&lt;/b&gt; &amp; &lt;script&gt;');
    expect(text.match(/<a /g)).toHaveLength(1);
  });
});
