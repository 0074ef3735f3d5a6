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

/** A webhook endpoint used up its retry schedule (written by the integrations migration). */
export interface WebhookFailingPayload {
  endpointId: string;
  url: string;
  /** The event that went dead for that endpoint. */
  eventId: number;
  error: string | null;
  providerStatus: number | null;
}

/** POST /api/admin/webhooks/:id/test: one delivery to one endpoint. */
export interface WebhookTestPayload {
  endpointId: string;
  message: string;
}

export interface EventPayloads {
  'lead.created': LeadCreatedPayload;
  'lead.sla_breached': LeadSlaBreachedPayload;
  'lead.status_changed': LeadStatusChangedPayload;
  'webhook.failing': WebhookFailingPayload;
  'webhook.test': WebhookTestPayload;
}

/** Event types the team's channels alert about; others go only to the channels that accept them. */
export const ALERTED_EVENT_TYPES = [
  'lead.created',
  'lead.sla_breached',
  'webhook.failing',
] as const satisfies readonly EventType[];

/** What a webhook endpoint may subscribe to (lead.assigned and lead.returned come with the team work). */
export const WEBHOOK_EVENT_TYPES = [
  'lead.created',
  'lead.assigned',
  'lead.returned',
  'lead.status_changed',
  'lead.sla_breached',
] as const;

export type EventType = keyof EventPayloads;

export interface OutboxEvent<T extends EventType = EventType> {
  id: number;
  eventType: T;
  conversationId: string | null;
  payload: EventPayloads[T];
  attempts: number;
  createdAt: string;
}
