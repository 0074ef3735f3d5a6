/**
 * The outbox's event kinds and their payloads: one map used by producers (SQL
 * functions write these shapes) and consumers (the notification worker) alike.
 */
export interface LeadCreatedPayload {
  conversationId: string;
  customerName: string | null;
  customerPhone: string | null;
  customerEmail: string | null;
  intent: string | null;
  message: string | null;
  source: string;
  createdAt: string;
}

/** Emitted once per lead by the SLA sweep when its first-contact deadline passes. */
export interface LeadSlaBreachedPayload extends LeadCreatedPayload {
  slaDueAt: string;
}

/** Emitted by admin changes; recorded for history and the live feed, not alerted. */
export interface LeadStatusChangedPayload {
  conversationId: string;
  from: string;
  to: string;
  actor: string;
}

export interface EventPayloads {
  'lead.created': LeadCreatedPayload;
  'lead.sla_breached': LeadSlaBreachedPayload;
  'lead.status_changed': LeadStatusChangedPayload;
}

/** Event types the notification worker alerts the team about; others are marked processed without sending. */
export const ALERTED_EVENT_TYPES = [
  'lead.created',
  'lead.sla_breached',
] as const satisfies readonly EventType[];

export type EventType = keyof EventPayloads;

export interface OutboxEvent<T extends EventType = EventType> {
  id: number;
  eventType: T;
  conversationId: string | null;
  payload: EventPayloads[T];
  attempts: number;
  createdAt: string;
}
