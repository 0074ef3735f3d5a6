import type { IncomingWebhookSendArguments } from '@slack/webhook';
import { escapeHtml, escapeSlack, mailtoHref, oneLine, telHref, truncate } from './escape.js';
import { formatTime, headline } from './lead-alert.js';
import type { LeadAlert } from './sender.js';

/**
 * One formatter per channel. Each takes the plain alert and escapes every user-given
 * value for its own markup; only values we built ourselves (the lead URL, times,
 * headlines) go in unescaped positions.
 */

/** Per-field limits (escaped characters). Slack allows 2,000 per field and 3,000 per section. */
const FIELD_MAX = 300;
const SLACK_MESSAGE_MAX = 2_900;
/** Telegram's hard limit for one message. */
export const TELEGRAM_MAX_LENGTH = 4096;
const NOT_GIVEN = 'not given';

interface Row {
  label: string;
  value: string | null;
  href?: string | null;
  /** Slack only: a user id to mention (`<@U...>`) beside the value. */
  slackUserId?: string | null;
}

function rows(alert: LeadAlert): Row[] {
  const list: Row[] = [
    { label: 'Name', value: alert.name },
    { label: 'Phone', value: alert.phone, href: telHref(alert.phone) },
    { label: 'Email', value: alert.email, href: mailtoHref(alert.email) },
    { label: 'Intent', value: alert.intent },
    { label: 'Source', value: alert.source },
    { label: 'Time', value: formatTime(alert.createdAt) },
  ];
  if (alert.slaDueAt) list.push({ label: 'First contact was due', value: formatTime(alert.slaDueAt) });
  if (alert.previousAssignee) {
    list.push({ label: 'Was with', value: alert.previousAssignee.name });
  }
  if (alert.assignee !== undefined) {
    list.push({
      label: alert.previousAssignee ? 'Now with' : 'Assigned to',
      value: alert.assignee?.name ?? 'nobody yet',
      slackUserId: alert.assignee?.slackUserId ?? null,
    });
  }
  return list;
}

// Slack -------------------------------------------------------------------------------

export function formatSlack(alert: LeadAlert): IncomingWebhookSendArguments {
  const slackValue = (row: Row) => {
    if (!row.value) return `_${NOT_GIVEN}_`;
    const label = escapeSlack(oneLine(row.value), FIELD_MAX);
    // The id was validated on input (U/W + capitals and digits): safe inside <@...>.
    if (row.slackUserId && /^[UW][A-Z0-9]+$/.test(row.slackUserId)) return `<@${row.slackUserId}> (${label})`;
    return row.href ? `<${row.href}|${label}>` : label;
  };
  const title = headline(alert);
  const icon = alert.kind === 'lead.sla_breached' ? ':rotating_light:' : ':bell:';
  const name = alert.name ? escapeSlack(oneLine(alert.name), FIELD_MAX) : 'Unnamed lead';
  const blocks: NonNullable<IncomingWebhookSendArguments['blocks']> = [
    // The header is plain_text and carries no user text at all.
    { type: 'header', text: { type: 'plain_text', text: `${title}`, emoji: true } },
    {
      type: 'section',
      fields: rows(alert).map((row) => ({ type: 'mrkdwn', text: `*${row.label}*\n${slackValue(row)}` })),
    },
  ];
  if (alert.message) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*Message*\n${escapeSlack(alert.message, SLACK_MESSAGE_MAX)}` },
    });
  }
  blocks.push({
    type: 'actions',
    elements: [
      {
        type: 'button',
        text: { type: 'plain_text', text: 'Open lead in dashboard' },
        url: alert.leadUrl,
        style: alert.kind === 'lead.sla_breached' ? 'danger' : 'primary',
      },
    ],
  });
  const intent = alert.intent ? ` wants to ${escapeSlack(oneLine(alert.intent), 100)}` : '';
  const phone = alert.phone ? ` (${escapeSlack(oneLine(alert.phone), 40)})` : '';
  return {
    // Plain-text fallback: shown in notifications and by clients without Block Kit.
    text: `${icon} ${title}: ${name}${phone}${intent} <${alert.leadUrl}|Open lead>`,
    blocks,
    unfurl_links: false,
    unfurl_media: false,
  };
}

// Email -------------------------------------------------------------------------------

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function formatEmail(alert: LeadAlert): EmailContent {
  const title = headline(alert);
  const subject = truncate(`${title}: ${oneLine(alert.name ?? 'Unnamed lead')}`, 150);

  const textLines = [title, ''];
  for (const row of rows(alert))
    textLines.push(`${row.label}: ${row.value ? oneLine(row.value) : NOT_GIVEN}`);
  if (alert.message) textLines.push('', 'Message:', truncate(alert.message, 10_000));
  textLines.push('', `Open the lead: ${alert.leadUrl}`);

  const htmlRows = rows(alert)
    .map((row) => {
      const label = escapeHtml(row.label);
      let value = `<em>${NOT_GIVEN}</em>`;
      if (row.value) {
        const escaped = escapeHtml(oneLine(row.value), FIELD_MAX);
        value = row.href ? `<a href="${escapeHtml(row.href)}">${escaped}</a>` : escaped;
      }
      return `<tr><th align="left" style="padding:4px 12px 4px 0">${label}</th><td>${value}</td></tr>`;
    })
    .join('\n');
  const message = alert.message
    ? `<p><strong>Message</strong></p>\n<p style="white-space:pre-wrap">${escapeHtml(alert.message, 20_000)}</p>\n`
    : '';
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(title)}</h2>`,
    `<table>\n${htmlRows}\n</table>`,
    message,
    `<p><a href="${escapeHtml(alert.leadUrl)}">Open the lead in the dashboard</a></p>`,
    '</body></html>',
  ].join('\n');

  return { subject, text: textLines.join('\n'), html };
}

// Telegram ----------------------------------------------------------------------------

/**
 * Telegram HTML parse mode. Phone numbers are left as text: Telegram turns them into
 * tap-to-call links itself (it does not accept tel: in <a href>). The message part
 * gets whatever room is left under the 4,096 character limit.
 */
export function formatTelegram(alert: LeadAlert): string {
  const icon = alert.kind === 'lead.sla_breached' ? '🚨' : '🔔';
  const head = [`${icon} <b>${escapeHtml(headline(alert))}</b>`, ''];
  for (const row of rows(alert)) {
    const value = row.value ? escapeHtml(oneLine(row.value), FIELD_MAX) : `<i>${NOT_GIVEN}</i>`;
    head.push(`<b>${escapeHtml(row.label)}:</b> ${value}`);
  }
  const tail = `\n\n<a href="${escapeHtml(alert.leadUrl)}">Open lead in dashboard</a>`;
  let body = head.join('\n');
  if (alert.message) {
    const prefix = '\n\n<b>Message:</b>\n';
    const room = TELEGRAM_MAX_LENGTH - body.length - prefix.length - tail.length;
    if (room > 20) body += prefix + escapeHtml(alert.message, room);
  }
  return body + tail;
}
