import { describe, expect, it } from 'vitest';
import { formatSlackDigest, formatTelegramDigest } from '../../src/notifications/digest-format.js';
import { TELEGRAM_MAX_LENGTH } from '../../src/notifications/format.js';
import { buildLeadAlert } from '../../src/notifications/lead-alert.js';

const alert = (n: number, payload: Record<string, unknown> = {}) =>
  buildLeadAlert(
    {
      id: n,
      eventType: 'lead.created',
      conversationId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      payload: { customerName: `Lead ${n}`, intent: 'buy', source: 'chatbot', ...payload },
    },
    'https://crm.example.com/admin',
  );

describe('digest messages', () => {
  it('lists every lead on Slack with name, intent and link under "N new leads"', () => {
    const alerts = [1, 2, 3, 4, 5, 6, 7].map((n) => alert(n));
    const message = formatSlackDigest(alerts);
    expect(message.text).toMatch(/^:bell: 7 new leads: Lead 1, Lead 2/);
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('"text":"7 new leads"');
    for (const n of [1, 7]) {
      expect(blocks).toContain(
        `<https://crm.example.com/admin#/leads/00000000-0000-4000-8000-00000000000${n}|Lead ${n}> wants to buy`,
      );
    }
  });

  it('escapes user text per channel like single alerts', () => {
    const hostile = alert(1, { customerName: '<!channel> <b>x</b> & co', intent: '<http://evil|click>' });
    const slack = JSON.stringify(formatSlackDigest([hostile, alert(2)]));
    expect(slack).not.toContain('<!channel>');
    expect(slack).toContain('&lt;!channel&gt;');
    expect(slack).toContain('&lt;http://evil|click&gt;');
    const telegram = formatTelegramDigest([hostile, alert(2)]);
    expect(telegram).toContain('&lt;b&gt;x&lt;/b&gt; &amp; co');
    expect(telegram).toContain('<a href="https://crm.example.com/admin#/leads/');
    expect(telegram.startsWith('🔔 <b>2 new leads</b>')).toBe(true);
  });

  it('stays within Telegram’s 4,096 characters and Slack’s section limit with long names', () => {
    const alerts = Array.from({ length: 60 }, (_, i) => alert(i + 1, { customerName: 'N'.repeat(500) }));
    const telegram = formatTelegramDigest(alerts);
    expect(telegram.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
    expect(telegram).toMatch(/…and \d+ more$/);
    const slack = formatSlackDigest(alerts);
    for (const block of slack.blocks ?? []) {
      const text = (block as { text?: { text?: string } }).text?.text ?? '';
      expect(text.length).toBeLessThanOrEqual(3_000);
    }
    expect(JSON.stringify(slack.blocks).match(/#\/leads\//g)).toHaveLength(60);
  });
});
