import {
  ALERTED_EVENT_TYPES,
  type EventPayloads,
  type LeadCreatedPayload,
  type LeadSlaBreachedPayload,
} from '../events/event-types.js';
import type { LeadAlert } from './sender.js';

type AlertedType = (typeof ALERTED_EVENT_TYPES)[number];

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

/**
 * Turns an outbox event into the alert every channel formats. Payload values are
 * read defensively (older rows, hand-inserted rows): anything missing becomes null.
 */
export function buildLeadAlert(
  event: { id: number; eventType: AlertedType; conversationId: string | null; payload: unknown },
  dashboardUrl: string,
): LeadAlert {
  const payload = (event.payload ?? {}) as Partial<EventPayloads[AlertedType]>;
  const conversationId = text(payload.conversationId) ?? event.conversationId;
  return {
    kind: event.eventType,
    eventId: event.id,
    conversationId,
    name: text(payload.customerName),
    phone: text(payload.customerPhone),
    email: text(payload.customerEmail),
    intent: text(payload.intent),
    message: text(payload.message),
    source: text(payload.source) ?? 'unknown',
    createdAt: text((payload as Partial<LeadCreatedPayload>).createdAt) ?? new Date().toISOString(),
    slaDueAt:
      event.eventType === 'lead.sla_breached'
        ? (text((payload as Partial<LeadSlaBreachedPayload>).slaDueAt) ?? undefined)
        : undefined,
    leadUrl: leadUrl(dashboardUrl, conversationId),
  };
}

/** Headline per event kind: an SLA breach is an escalation and must read like one. */
export function headline(alert: LeadAlert): string {
  return alert.kind === 'lead.sla_breached' ? 'SLA breached: lead still waiting' : 'New lead';
}

/** Time in a fixed, unambiguous form (UTC). */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
