import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { escapeHtml, escapeSlack, oneLine } from './escape.js';
import { TELEGRAM_MAX_LENGTH } from './format.js';
import type { LeadAlert } from './sender.js';

/**
 * One message for several new-lead alerts that waited behind a chat channel's pacer
 * ("7 new leads: …"): per lead its name, intent and link to the dashboard. User text is
 * escaped for the channel exactly like a single alert (escape.ts); only the lead URL,
 * which we built, goes in a link target. SLA escalations are never digested (the
 * worker sends them alone), so every alert here is a new lead.
 */

/** Per-value limits in a digest line: one line per lead keeps the message scannable. */
const NAME_MAX = 80;
const INTENT_MAX = 80;
/** Slack allows 3,000 characters per section text. */
const SLACK_SECTION_MAX = 2_900;

export function digestHeadline(alerts: readonly LeadAlert[]): string {
  return `${alerts.length} new lead${alerts.length === 1 ? '' : 's'}`;
}

const nameOf = (alert: LeadAlert) => oneLine(alert.name ?? '') || 'Unnamed lead';
const intentOf = (alert: LeadAlert) => (alert.intent ? oneLine(alert.intent) : null);

export function formatSlackDigest(alerts: readonly LeadAlert[]): IncomingWebhookSendArguments {
  const title = digestHeadline(alerts);
  const lines = alerts.map((alert) => {
    const intent = intentOf(alert);
    const wants = intent ? ` wants to ${escapeSlack(intent, INTENT_MAX)}` : ' (intent not given)';
    return `• <${alert.leadUrl}|${escapeSlack(nameOf(alert), NAME_MAX)}>${wants}`;
  });
  // Lines grouped into sections under Slack's per-section limit.
  const sections: string[] = [];
  for (const line of lines) {
    const last = sections.at(-1);
    if (last !== undefined && last.length + 1 + line.length <= SLACK_SECTION_MAX) {
      sections[sections.length - 1] = `${last}\n${line}`;
    } else sections.push(line);
  }
  const names = alerts.map((alert) => escapeSlack(nameOf(alert), 40));
  return {
    // Plain-text fallback: shown in notifications and by clients without Block Kit.
    text: `:bell: ${title}: ${names.join(', ')}`.slice(0, 3_000),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title, emoji: true } },
      ...sections.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } })),
    ],
    unfurl_links: false,
    unfurl_media: false,
  };
}

/**
 * Telegram HTML parse mode, within its 4,096 characters: leads that do not fit are
 * counted at the end ("…and 3 more") and are all in the dashboard.
 */
export function formatTelegramDigest(alerts: readonly LeadAlert[]): string {
  const head = `🔔 <b>${escapeHtml(digestHeadline(alerts))}</b>\n`;
  const lines: string[] = [];
  let length = head.length;
  for (const [index, alert] of alerts.entries()) {
    const intent = intentOf(alert);
    const wants = intent ? ` wants to ${escapeHtml(intent, INTENT_MAX)}` : ' <i>(intent not given)</i>';
    const line = `\n• <a href="${escapeHtml(alert.leadUrl)}">${escapeHtml(nameOf(alert), NAME_MAX)}</a>${wants}`;
    const more = `\n…and ${alerts.length - index} more`;
    if (length + line.length + more.length > TELEGRAM_MAX_LENGTH) {
      lines.push(more);
      break;
    }
    lines.push(line);
    length += line.length;
  }
  return head + lines.join('');
}
