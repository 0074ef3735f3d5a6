import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeSlack, mailtoHref, telHref } from '../../src/notifications/escape.js';
import {
  formatEmail,
  formatSlack,
  formatTelegram,
  TELEGRAM_MAX_LENGTH,
} from '../../src/notifications/format.js';
import { buildLeadAlert, leadUrl } from '../../src/notifications/lead-alert.js';
import { parseRetryAfter, scrubSecrets } from '../../src/notifications/sender.js';

const alert = (payload: Record<string, unknown> = {}) =>
  buildLeadAlert(
    {
      id: 7,
      eventType: 'lead.created',
      conversationId: '00000000-0000-4000-8000-000000000001',
      payload: {
        customerName: 'Test User',
        customerPhone: '+971501234567',
        customerEmail: 'test@example.com',
        intent: 'buy',
        source: 'chatbot',
        createdAt: '2026-11-22T10:00:00Z',
        ...payload,
      },
    },
    'https://crm.example.com/admin/',
  );

describe('escaping', () => {
  it('makes Slack control sequences inert', () => {
    expect(escapeSlack('<!channel> & <http://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
  });

  it('escapes HTML text and attribute characters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('truncates while escaping, never splitting an entity', () => {
    const out = escapeHtml('&'.repeat(100), 23);
    expect(out).toBe(`${'&amp;'.repeat(4)}…`);
    expect(out.length).toBeLessThanOrEqual(23);
  });

  it('builds tap-to-call and mailto targets only from safe values', () => {
    expect(telHref('+971 50 123 4567')).toBe('tel:+971501234567');
    expect(telHref('call me')).toBeNull();
    expect(mailtoHref('a@example.com')).toBe('mailto:a@example.com');
    expect(mailtoHref('a|<b>@example.com')).toBeNull();
  });

  it('links to the lead in the dashboard', () => {
    expect(leadUrl('https://crm.example.com/admin/', 'abc')).toBe('https://crm.example.com/admin#/leads/abc');
  });
});

describe('channel formats', () => {
  it('Slack: Block Kit plus a plain-text fallback carrying name, phone and intent', () => {
    const message = formatSlack(alert());
    expect(message.text).toContain('New lead: Test User (+971501234567) wants to buy');
    const blocks = JSON.stringify(message.blocks);
    expect(blocks).toContain('<tel:+971501234567|+971501234567>');
    expect(blocks).toContain('<mailto:test@example.com|test@example.com>');
    expect(blocks).toContain('2026-11-22 10:00 UTC');
    expect(blocks).toContain('https://crm.example.com/admin#/leads/00000000-0000-4000-8000-000000000001');
  });

  it('email: HTML and text parts with the same facts', () => {
    const email = formatEmail(alert({ message: 'Call after 5pm' }));
    expect(email.subject).toBe('New lead: Test User');
    expect(email.html).toContain('<a href="tel:+971501234567">+971501234567</a>');
    expect(email.html).toContain('Call after 5pm');
    expect(email.text).toContain('Phone: +971501234567');
    expect(email.text).toContain('Open the lead: https://crm.example.com/admin#/leads/');
  });

  it('Telegram: stays within 4,096 characters however long (and entity-heavy) the message', () => {
    const text = formatTelegram(alert({ message: '<&>'.repeat(5000), customerName: '&'.repeat(1000) }));
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_MAX_LENGTH);
    expect(text).toContain('Open lead in dashboard</a>');
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
  });

  it('an SLA breach reads as an escalation and names the due time', () => {
    const breach = buildLeadAlert(
      {
        id: 8,
        eventType: 'lead.sla_breached',
        conversationId: null,
        payload: {
          customerName: 'Late',
          createdAt: '2026-11-22T10:00:00Z',
          slaDueAt: '2026-11-22T10:05:00Z',
        },
      },
      'http://localhost:3000/admin',
    );
    expect(formatSlack(breach).text).toContain('SLA breached');
    expect(formatTelegram(breach)).toContain('First contact was due:</b> 2026-11-22 10:05 UTC');
  });
});

describe('secrets and provider hints', () => {
  it('scrubs secrets, Slack webhook paths and bot tokens from error text', () => {
    const text = scrubSecrets(
      'POST https://hooks.slack.com/services/T1/B2/xyz failed; GET /bot123:ABC-def/sendMessage; pw=hunter22',
      ['hunter22'],
    );
    expect(text).toBe(
      'POST https://hooks.slack.com/services/[REDACTED] failed; GET /bot[REDACTED]/sendMessage; pw=[REDACTED]',
    );
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
