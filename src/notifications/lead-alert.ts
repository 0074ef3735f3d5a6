import {
  ALERTED_EVENT_TYPES,
  type AssigneeRef,
  type EventPayloads,
  type LeadCreatedPayload,
  type LeadSlaBreachedPayload,
} from '../events/event-types.js';
import type { AlertAssignee, LeadAlert } from './sender.js';

type AlertedType = (typeof ALERTED_EVENT_TYPES)[number];
type LeadPayload = Partial<LeadCreatedPayload & LeadSlaBreachedPayload>;

export function isAlertedEventType(type: string): type is AlertedType {
  return (ALERTED_EVENT_TYPES as readonly string[]).includes(type);
}

/** The dashboard's URL for one lead: `<dashboard>#/leads/<conversationId>`. */
export function leadUrl(dashboardUrl: string, conversationId: string | null): string {
  const base = dashboardUrl.replace(/\/+$/, '');
  return conversationId ? `${base}#/leads/${encodeURIComponent(conversationId)}` : base;
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value : null;

/** An assignee from an event payload, or null when the payload has none (or a malformed one). */
function assigneeOf(value: unknown): AlertAssignee | null {
  if (!value || typeof value !== 'object') return null;
  const ref = value as Partial<AssigneeRef>;
  const name = text(ref.name);
  if (!name) return null;
  return { name, email: text(ref.email), slackUserId: text(ref.slackUserId) };
}

/**
 * Turns an outbox event into the alert every channel formats. Payload values are
 * read defensively (older rows, hand-inserted rows): anything missing becomes null.
 * Events the team is not alerted about (status changes, for the CRM and webhooks)
 * get kind `lead.update`; a failing webhook endpoint reads like an alert about it.
 */
export function buildLeadAlert(
  event: { id: number; eventType: string; conversationId: string | null; payload: unknown },
  dashboardUrl: string,
): LeadAlert {
  if (event.eventType === 'webhook.failing') return webhookFailingAlert(event, dashboardUrl);
  if (event.eventType === 'message.received') return messageReceivedAlert(event, dashboardUrl);
  const payload = (event.payload ?? {}) as LeadPayload;
  const conversationId = text(payload.conversationId) ?? event.conversationId;
  return {
    kind: isAlertedEventType(event.eventType) ? event.eventType : 'lead.update',
    eventId: event.id,
    conversationId,
    name: text(payload.customerName),
    phone: text(payload.customerPhone),
    email: text(payload.customerEmail),
    intent: text(payload.intent),
    message: text(payload.message),
    source: text(payload.source) ?? 'unknown',
    createdAt: text((payload as Partial<LeadCreatedPayload>).createdAt) ?? new Date().toISOString(),
    slaDueAt: event.eventType === 'lead.sla_breached' ? (text(payload.slaDueAt) ?? undefined) : undefined,
    leadUrl: leadUrl(dashboardUrl, conversationId),
    assignee: assigneeOf((payload as { assignee?: unknown }).assignee),
    ...(event.eventType === 'lead.sla_breached'
      ? {
          previousAssignee: (payload as Partial<LeadSlaBreachedPayload>).reassigned
            ? assigneeOf((payload as Partial<LeadSlaBreachedPayload>).previousAssignee)
            : null,
          breach: (payload as Partial<LeadSlaBreachedPayload>).breach ?? 1,
        }
      : {}),
  };
}

/** "Webhook failing": which endpoint (its host only: a URL path can hold a token), why, and since when. */
function webhookFailingAlert(
  event: { id: number; conversationId: string | null; payload: unknown },
  dashboardUrl: string,
): LeadAlert {
  const payload = (event.payload ?? {}) as Partial<EventPayloads['webhook.failing']>;
  let host = 'unknown endpoint';
  try {
    host = new URL(String(payload.url)).host;
  } catch {}
  return {
    kind: 'webhook.failing',
    eventId: event.id,
    conversationId: null,
    name: `Webhook endpoint ${host}`,
    phone: null,
    email: null,
    intent: null,
    message: `Event ${payload.eventId ?? '?'} used up its retries for endpoint ${payload.endpointId ?? '?'}: ${
      text(payload.error) ?? 'no answer'
    }. Fix the receiver, then replay it (leadrelay replay --event ${payload.eventId ?? '<id>'}).`,
    source: 'webhooks',
    createdAt: new Date().toISOString(),
    leadUrl: dashboardUrl.replace(/\/+$/, ''),
  };
}

/**
 * "3 new chat messages" (the visitor's follow-ups of one cooldown window, collapsed by
 * chat_alert_collapse): the latest texts, oldest first, as the message; the owner as
 * for a returning lead (named, mentioned on Slack, emailed).
 */
function messageReceivedAlert(
  event: { id: number; conversationId: string | null; payload: unknown },
  dashboardUrl: string,
): LeadAlert {
  const payload = (event.payload ?? {}) as Partial<EventPayloads['message.received']>;
  const conversationId = text(payload.conversationId) ?? event.conversationId;
  const count =
    typeof payload.messageCount === 'number' && payload.messageCount > 0 ? payload.messageCount : 1;
  const texts = Array.isArray(payload.messages)
    ? payload.messages.filter((item): item is string => typeof item === 'string' && item.trim() !== '')
    : [];
  const shown = texts.length > 0 ? texts : [text(payload.message)].filter((item): item is string => !!item);
  const earlier = count - shown.length;
  return {
    kind: 'message.received',
    eventId: event.id,
    conversationId,
    name: text(payload.customerName),
    phone: text(payload.customerPhone),
    email: text(payload.customerEmail),
    intent: text(payload.intent),
    message:
      shown.length > 0
        ? [...(earlier > 0 ? [`(${earlier} earlier not shown)`] : []), ...shown].join('\n\n')
        : null,
    source: text(payload.source) ?? 'chatbot',
    createdAt: text(payload.createdAt) ?? new Date().toISOString(),
    leadUrl: leadUrl(dashboardUrl, conversationId),
    assignee: assigneeOf(payload.assignee),
    messageCount: count,
  };
}

/** Headline per event kind: an SLA breach is an escalation and must read like one. */
export function headline(alert: LeadAlert): string {
  if (alert.kind === 'message.received') {
    const count = alert.messageCount ?? 1;
    return count === 1 ? 'New chat message' : `${count} new chat messages`;
  }
  if (alert.kind === 'webhook.failing') return 'Webhook failing: deliveries used up their retries';
  if (alert.kind === 'lead.update') return 'Lead updated';
  if (alert.kind === 'lead.sla_breached') {
    return alert.breach === 2 ? 'SLA breached again: lead still waiting' : 'SLA breached: lead still waiting';
  }
  return alert.kind === 'lead.returned' ? 'Returning lead: wrote again' : 'New lead';
}

/** Time in a fixed, unambiguous form (UTC). */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
