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
  /** The owner chosen at capture; null while the lead waits for someone available. */
  assignee?: AssigneeRef | null;
}

/** The team member a lead belongs to, as events carry it. */
export interface AssigneeRef {
  id: string;
  name: string;
  email: string | null;
  slackUserId: string | null;
  telegramChatId: string | null;
}

/**
 * Emitted by the SLA sweep when a first-contact deadline passes: once for the first
 * breach (the lead may move to someone else: previousAssignee -> assignee) and once
 * more if the new owner misses their own deadline (breach 2, not moved again).
 */
export interface LeadSlaBreachedPayload extends LeadCreatedPayload {
  slaDueAt: string;
  breach?: 1 | 2;
  reassigned?: boolean;
  previousAssignee?: AssigneeRef | null;
}

/** A lead got an owner (capture, waiting queue, SLA reassignment or by hand); history, not alerted. */
export interface LeadAssignedPayload extends BulkMark {
  conversationId: string;
  assignee: AssigneeRef;
  previousAssignee: AssigneeRef | null;
  reason: string;
  actor: string;
}

/** A visitor with an open lead wrote again: a new inquiry on that lead, alerted to its owner. */
export interface LeadReturnedPayload extends LeadCreatedPayload {
  inquiryId: number;
  firstSeenAt: string;
}

/**
 * A visitor wrote in their conversation after capture (issue 14). Written by
 * chat_visitor_post, at most one waiting per conversation; the worker replaces the
 * payload with chat_alert_collapse's answer (messageCount, messages, current assignee)
 * before formatting, so one alert covers every message of its cooldown window.
 */
export interface MessageReceivedPayload extends Partial<LeadCreatedPayload> {
  conversationId: string;
  messageId?: number;
  /** Set by the collapse: how many visitor messages the alert covers. */
  messageCount?: number;
  /** Set by the collapse: the latest covered texts (at most five), oldest first. */
  messages?: string[];
}

/**
 * Set on every event a bulk action writes (docs/bulk-actions.md): webhooks and the CRM
 * receive it, the team's chat channels never do (src/notifications/registry.ts).
 */
export interface BulkMark {
  bulk?: true;
  bulkActionId?: string;
}

/** Emitted by admin changes; recorded for history and the live feed, not alerted. */
export interface LeadStatusChangedPayload extends BulkMark {
  conversationId: string;
  from: string;
  to: string;
  actor: string;
}

/**
 * A lead was erased (GDPR request or LEAD_RETENTION_DAYS): no personal data, only what
 * a receiver needs to delete its own copy. Written by erase_lead (see docs/privacy.md);
 * delivered to webhook endpoints and the CRM, never alerted to the team's chat channels.
 */
export interface LeadErasedPayload {
  conversationId: string;
  erasedAt: string;
  reason: 'request' | 'retention';
  actor: string;
  /** The CRM contact ids of the lead by provider ({"hubspot": "123"}): the record to delete there. */
  crm: Record<string, string>;
  /** A CRM sync that finished after the erasure: only the CRM still has to delete (webhooks were told). */
  crmOnly?: boolean;
}

/** A bulk add_tag / remove_tag (or its undo): the lead's tags afterwards. */
export interface LeadTagsChangedPayload extends BulkMark {
  conversationId: string;
  tags: string[];
  actor: string;
}

/** A bulk archive (soft delete) or its undo. */
export interface LeadArchivedPayload extends BulkMark {
  conversationId: string;
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
  'lead.assigned': LeadAssignedPayload;
  'lead.returned': LeadReturnedPayload;
  'lead.erased': LeadErasedPayload;
  'message.received': MessageReceivedPayload;
  'lead.tags_changed': LeadTagsChangedPayload;
  'lead.archived': LeadArchivedPayload;
  'lead.unarchived': LeadArchivedPayload;
}

/** Event types the team's channels alert about; others go only to the channels that accept them. */
export const ALERTED_EVENT_TYPES = [
  'lead.created',
  'lead.sla_breached',
  'webhook.failing',
  'lead.returned',
  'message.received',
] as const satisfies readonly EventType[];

/**
 * What a webhook endpoint may subscribe to. lead.erased also goes to every endpoint
 * that subscribed to any lead event (it received the person's data and must be told
 * to forget it), whether or not it named lead.erased.
 */
export const WEBHOOK_EVENT_TYPES = [
  'lead.created',
  'lead.assigned',
  'lead.returned',
  'lead.status_changed',
  'lead.sla_breached',
  'lead.erased',
  'lead.tags_changed',
  'lead.archived',
  'lead.unarchived',
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
