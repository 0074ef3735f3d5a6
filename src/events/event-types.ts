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

export interface EventPayloads {
  'lead.created': LeadCreatedPayload;
}

export type EventType = keyof EventPayloads;

export interface OutboxEvent<T extends EventType = EventType> {
  id: number;
  eventType: T;
  conversationId: string | null;
  payload: EventPayloads[T];
  attempts: number;
  createdAt: string;
}
